"""Manual reviews: the images of decided requests deleted once their time is up."""

from __future__ import annotations

from typing import Any

from backend.reviews import retention

REMOVE_HOUR, REMOVE_MINUTE = 4, 23  # nightly, China time


async def review_images_remove(ctx: dict[str, Any]) -> int:
    """Delete the images of requests decided more than REVIEW_IMAGE_RETENTION_DAYS ago
    (backend.reviews.retention)."""
    return await retention.remove_decided_images()
