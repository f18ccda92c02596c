"""The ID card photos of a manual review are deleted 180 days after the decision (a nightly job);
the request itself stays, and says when they went."""

from __future__ import annotations

from backend.core.audit import AuditEntry
from backend.reviews import retention
from backend.reviews.models import ReviewRequest
from jobs import reviews as jobs_reviews
from jobs import worker as jobs_worker
from tests.test_reviews import admin_of, empty_uploads, env, jpeg, only_review, png, stored_files, submit

__all__ = ["empty_uploads", "env"]  # the fixtures, used by name

DAY = 24 * 3600


async def test_the_images_of_a_decided_request_are_deleted_after_180_days_and_the_request_says_when(client, env, clock):
    await submit(client, images=[("a.jpg", jpeg(), "image/jpeg"), ("b.png", png(), "image/png")])
    review = await only_review()
    town = await admin_of(client, env.tree.own, "town_admin")
    rejected = await client.post(f"/api/reviews/{review.id}/reject", headers=town, json={"reason": "照片模糊"})
    assert rejected.status_code == 200 and len(stored_files()) == 2
    clock.advance(180 * DAY)
    assert await jobs_reviews.review_images_remove({}) == 0  # 180 days to the second: not yet
    clock.advance(1)
    assert await jobs_reviews.review_images_remove({}) == 1
    assert stored_files() == []
    removed_at = clock.now()
    kept = await ReviewRequest.get(id=review.id)
    assert kept.images == [] and kept.images_removed_at == removed_at and kept.decision_reason == "照片模糊"
    town = await admin_of(client, env.tree.own, "town_admin2")  # the first admin's session has expired
    shown = (await client.get(f"/api/reviews/{review.id}", headers=town)).json()
    assert shown["images"] == [] and shown["images_removed_at"] is not None and shown["status"] == "rejected"
    [row] = (await client.get("/api/reviews", params={"status": "rejected"}, headers=town)).json()["items"]
    assert row["image_count"] == 0 and row["images_removed_at"] == shown["images_removed_at"]
    assert (await client.get(f"/api/reviews/{review.id}/images/1", headers=town)).status_code == 404
    entry = await AuditEntry.get(action="review.images_removed")
    assert entry.target_id == str(review.id) and entry.detail == {"images": 2, "keep_days": 180}
    assert entry.scope_path == env.tree.child.path  # the unit of the request, as its other entries
    assert await jobs_reviews.review_images_remove({}) == 0  # once


async def test_a_pending_request_keeps_its_images_however_old(client, env, clock):
    await submit(client)
    clock.advance(400 * DAY)
    assert await retention.remove_decided_images() == 0
    assert len(stored_files()) == 1 and (await only_review()).images_removed_at is None


async def test_a_run_cut_off_after_the_files_went_is_finished_by_the_next(client, env, clock):
    """The files go before the row says so: a row whose files are gone is finished next time (the
    other order could leave files that no row names, never deleted)."""
    await submit(client)
    review = await only_review()
    town = await admin_of(client, env.tree.own, "town_admin")
    await client.post(f"/api/reviews/{review.id}/reject", headers=town, json={"reason": "资料不全"})
    for name in stored_files():
        (retention.storage.uploads_dir() / name).unlink()  # as if the run had stopped here
    clock.advance(181 * DAY)
    assert await retention.remove_decided_images() == 1
    assert (await ReviewRequest.get(id=review.id)).images_removed_at is not None


def test_the_removal_runs_nightly():
    assert "cron:review_images_remove" in {job.name for job in jobs_worker.cron_jobs()}


async def test_a_backlog_larger_than_a_batch_is_cleared_in_one_run(client, env, clock, monkeypatch):
    """One run took 200 requests: a province deciding more a day would keep photos past 180 days."""
    monkeypatch.setattr(retention, "BATCH", 2)
    town = await admin_of(client, env.tree.own, "town_admin")
    for n in range(5):
        await submit(client, ip=f"10.9.1.{n}", statement=f"申请{n}")
    for review in await ReviewRequest.all():
        await client.post(f"/api/reviews/{review.id}/reject", headers=town, json={"reason": "资料不全"})
    clock.advance(181 * DAY)
    assert await retention.remove_decided_images() == 5
    assert stored_files() == [] and not await ReviewRequest.filter(images_removed_at__isnull=True).exists()
