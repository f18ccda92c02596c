"""How long the images of a manual review (R5) are kept: ID card photos of the requester, needed
while the request is decided and for a while after, should a decision be looked into; then deleted.
The row stays (who asked, what was decided, by whom, when the images went)."""

from __future__ import annotations

from datetime import timedelta

from backend.accounts.queries import ROOT_SCOPE
from backend.core import audit, db, runtime
from backend.reviews import storage
from backend.reviews.models import ReviewRequest, ReviewStatus

BATCH = 200  # requests read at a time


async def remove_decided_images() -> int:
    """Delete the images of requests decided more than REVIEW_IMAGE_RETENTION_DAYS ago (180 by
    default); how many requests lost them.

    The files go first, then the row says so: a run cut off between the two leaves a row whose
    files are gone (its images answer "not found", as a lost file always has) and the next run
    finishes it; the other way round could leave files no row names, never deleted."""
    rt = runtime.get()
    now, keep_days = rt.clock.now(), rt.settings.review_image_retention_days
    removed = 0
    while True:  # a batch at a time, until none is due (a busy night's backlog does not carry over)
        due = (
            await ReviewRequest.filter(
                status__in=[ReviewStatus.APPROVED, ReviewStatus.REJECTED],
                decided_at__lt=now - timedelta(days=keep_days),
                images_removed_at__isnull=True,
            )
            .order_by("id")
            .limit(BATCH)
            .select_related("unit")
        )
        for review in due:
            await storage.remove([entry["name"] for entry in review.images])
            async with db.atomic():
                await ReviewRequest.filter(id=review.id).update(images=[], images_removed_at=now)
                await audit.record(
                    "review.images_removed",
                    scope_path=review.unit.path if review.unit else ROOT_SCOPE,
                    target_type="review",
                    target_id=review.id,
                    detail={"images": len(review.images), "keep_days": keep_days},
                )
        removed += len(due)
        if len(due) < BATCH:
            return removed
