"""Manual reviews: requests nobody decided closed, and the images of decided requests deleted, once
their time is up."""

from __future__ import annotations

from typing import Any

from backend.reviews import retention

REMOVE_HOUR, REMOVE_MINUTE = 4, 23  # nightly, China time


async def review_images_remove(ctx: dict[str, Any]) -> int:
    """Close the requests pending for more than REVIEW_IMAGE_RETENTION_DAYS, and delete the images
    of those decided longer ago (backend.reviews.retention); how many requests lost their images."""
    return await retention.expire_pending() + await retention.remove_decided_images()
