"""How long the ID card photos of a decided manual review are kept is a setting
(REVIEW_IMAGE_RETENTION_DAYS, 180 days by default), read by the nightly job."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from backend.core import runtime
from backend.core.audit import AuditEntry
from backend.core.config import ConfigError, Settings
from jobs import reviews as jobs_reviews
from tests.test_reviews import admin_of, empty_uploads, env, only_review, stored_files, submit

__all__ = ["empty_uploads", "env"]  # the fixtures, used by name

DAY = 24 * 3600


def test_the_retention_is_180_days_unless_set(tmp_path: Path) -> None:
    def days(**env: str) -> int:
        return Settings.from_env({"VAR_DIR": str(tmp_path), **env}).review_image_retention_days

    assert days() == 180 and days(REVIEW_IMAGE_RETENTION_DAYS="") == 180
    assert days(REVIEW_IMAGE_RETENTION_DAYS="30") == 30


@pytest.mark.parametrize("raw", ["0", "-5", "30d", "1.5", "半年"])
def test_a_retention_that_is_not_a_positive_whole_number_of_days_stops_the_start(tmp_path: Path, raw: str) -> None:
    """0 or less would delete the photos of a request the night it is decided."""
    with pytest.raises(ConfigError, match="REVIEW_IMAGE_RETENTION_DAYS"):
        Settings.from_env({"VAR_DIR": str(tmp_path), "REVIEW_IMAGE_RETENTION_DAYS": raw})


async def test_the_nightly_job_keeps_the_images_for_the_configured_days(
    client, env, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = runtime.get()
    monkeypatch.setattr(rt, "settings", replace(rt.settings, review_image_retention_days=30))
    await submit(client)
    review = await only_review()
    town = await admin_of(client, env.tree.own, "town_admin")
    rejected = await client.post(f"/api/reviews/{review.id}/reject", headers=town, json={"reason": "照片模糊"})
    assert rejected.status_code == 200 and len(stored_files()) == 1
    clock.advance(30 * DAY)
    assert await jobs_reviews.review_images_remove({}) == 0  # 30 days to the second: not yet
    clock.advance(1)
    assert await jobs_reviews.review_images_remove({}) == 1
    assert stored_files() == []
    entry = await AuditEntry.get(action="review.images_removed")
    assert entry.detail == {"images": 1, "keep_days": 30}
