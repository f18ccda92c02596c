"""How long the images of a manual review (R5) are kept: ID card photos of the requester, needed
while the request is decided and for a while after, should a decision be looked into; then deleted.
The row stays (who asked, what was decided, by whom, when the images went). A request nobody decided
in as long is closed as expired, its images deleted then."""

from __future__ import annotations

from datetime import timedelta

from backend.accounts.queries import ROOT_SCOPE
from backend.core import audit, db, runtime, sms
from backend.reviews import messages as msg
from backend.reviews import storage
from backend.reviews.actions import requester_phone
from backend.reviews.models import ReviewKind, ReviewRequest, ReviewStatus

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


async def expire_pending() -> int:
    """Close the requests pending for more than REVIEW_IMAGE_RETENTION_DAYS: rejected by nobody
    (``decided_by_id`` empty) with :data:`~backend.reviews.messages.EXPIRED_REASON`, sent to the
    requester as a rejection's reason, their images deleted; how many were closed.

    The files go first, as above: a run cut off after them leaves the request pending, and the next
    run closes it. One decided meanwhile keeps its decision; its images went all the same."""
    rt = runtime.get()
    now, keep_days = rt.clock.now(), rt.settings.review_image_retention_days
    reason = msg.EXPIRED_REASON.format(days=keep_days)
    expired = 0
    while True:  # a batch at a time; a closed request is pending no more
        due = (
            await ReviewRequest.filter(status=ReviewStatus.PENDING, created_at__lt=now - timedelta(days=keep_days))
            .order_by("id")
            .limit(BATCH)
            .select_related("unit")
        )
        for review in due:
            await storage.remove([entry["name"] for entry in review.images])
            gone = {"images": [], "images_removed_at": now}
            async with db.atomic():
                closed = await ReviewRequest.filter(id=review.id, status=ReviewStatus.PENDING).update(
                    status=ReviewStatus.REJECTED, decided_at=now, decision_reason=reason, **gone
                )
                detail = {"images": len(review.images), "keep_days": keep_days}
                if closed:
                    await sms.queue(requester_phone(review), "review_rejected", {"reason": reason})
                    detail = {"kind": ReviewKind(review.kind).value, **detail}
                else:  # decided meanwhile
                    await ReviewRequest.filter(id=review.id).update(**gone)
                await audit.record(
                    "review.expire" if closed else "review.images_removed",
                    scope_path=review.unit.path,  # read while pending: a pending request holds its unit
                    target_type="review",
                    target_id=review.id,
                    detail=detail,
                )
            expired += closed
        if len(due) < BATCH:
            return expired
