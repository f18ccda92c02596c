"""Manual review of recoveries (R5): public submission and the superior admin's decision
(thin: parse, call, serialise)."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request
from sanic_ext.extensions.openapi import openapi

from backend.auth.guard import authenticated, origin_of
from backend.core import idempotency
from backend.core.actor import Actor
from backend.core.http import ok
from backend.core.validation import body, query
from backend.reviews import actions, forms, queries
from backend.reviews import messages as msg
from backend.reviews.models import ReviewKind, ReviewStatus
from backend.reviews.schemas import (
    DecisionOut,
    RejectRequest,
    ReviewAccepted,
    ReviewDetail,
    ReviewListQuery,
    ReviewPage,
    ReviewSubmissionForm,
)
from backend.reviews.serializers import decision_out, review_detail, review_row

bp = Blueprint("reviews", url_prefix="/api/reviews")


@bp.post("/", stream=True)
@openapi.body({"multipart/form-data": ReviewSubmissionForm}, required=True)
@openapi.response(202, {"application/json": ReviewAccepted})
async def submit(request: Request):
    """Ask for a manual review (no login): identity details, a statement, 1 to 3 JPG/PNG images of at
    most 4 MB, and a picture captcha. The answer is the same whether or not the account exists."""
    forms.refuse_declared_oversize(request)
    boundary = forms.boundary_of(request)
    origin = origin_of(request)
    await actions.admit_submission(origin)
    submission = forms.parse(await forms.read_body(request), boundary)
    if (answered := await idempotency.claim_streamed(request, submission.content())) is not None:
        return answered  # sent again with its Idempotency-Key
    await actions.submit_review(submission.form, submission.images, origin=origin)
    return ok(ReviewAccepted(message=msg.SUBMITTED), status=202)


@bp.get("/")
@openapi.response(200, {"application/json": ReviewPage})
@authenticated("accounts.manage")
@query(ReviewListQuery)
async def list_reviews(request: Request, actor: Actor, params: ReviewListQuery):
    """Requests about units below the actor's own unit (a top unit's system admin: its own unit's
    too, but their own account's), oldest first; personal details masked."""
    page = await queries.list_reviews(
        actor,
        status=ReviewStatus(params.status),
        kind=ReviewKind(params.kind) if params.kind else None,
        cursor=params.cursor,
        limit=params.limit,
    )
    return ok(ReviewPage(items=[review_row(r) for r in page.items], total=page.total, next_cursor=page.next_cursor))


@bp.get("/<review_id:id>")
@openapi.response(200, {"application/json": ReviewDetail})
@authenticated("accounts.manage")
async def get_review(request: Request, actor: Actor, review_id: int):
    """One request with the requester's details unmasked; every opening is written to the audit log."""
    opened = await actions.open_review(actor, review_id)
    return ok(review_detail(opened, image_url=f"/api/reviews/{review_id}/images/{{index}}"))


@bp.get("/<review_id:id>/images/<index:int>")
@openapi.response(200, {"image/jpeg": bytes, "image/png": bytes})
@authenticated("accounts.manage")
async def get_image(request: Request, actor: Actor, review_id: int, index: int):
    """One uploaded image (1-based); every fetch is written to the audit log."""
    data, content_type = await actions.open_image(actor, review_id, index)
    return HTTPResponse(
        data,
        content_type=content_type,
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
        },
    )


@bp.post("/<review_id:id>/approve")
@openapi.response(200, {"application/json": DecisionOut})
@authenticated("accounts.manage")
async def approve(request: Request, actor: Actor, review_id: int):
    """Approve: the account gets a new temporary password, sent by SMS to the phone in the request."""
    return ok(decision_out(await actions.approve_review(actor, review_id)))


@bp.post("/<review_id:id>/reject")
@openapi.response(200, {"application/json": DecisionOut})
@authenticated("accounts.manage")
@body(RejectRequest)
async def reject(request: Request, actor: Actor, review_id: int, data: RejectRequest):
    """Reject with a reason (1 to 200 characters), sent to the requester by SMS."""
    return ok(decision_out(await actions.reject_review(actor, review_id, reason=data.reason)))
