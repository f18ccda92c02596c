"""Review requests as they leave the server: masked in lists, unmasked only in the audited view."""

from __future__ import annotations

from datetime import datetime

from backend.core import identifiers, runtime
from backend.reviews import messages as msg
from backend.reviews.actions import OpenedReview, requester_id_number, requester_phone
from backend.reviews.models import ReviewKind, ReviewRequest, ReviewStatus
from backend.reviews.queries import ApprovalMode, ApprovalPlan
from backend.reviews.schemas import (
    DecisionOut,
    IdentityChecks,
    ReviewAccount,
    ReviewDetail,
    ReviewImageOut,
    ReviewRow,
    ReviewUnit,
)


def _labels(review: ReviewRequest) -> dict[str, str]:
    kind, status = ReviewKind(review.kind).value, ReviewStatus(review.status).value
    return {
        "kind": kind,
        "kind_label": msg.KIND_LABELS[kind],
        "status": status,
        "status_label": msg.STATUS_LABELS[status],
    }


def _unit(review: ReviewRequest) -> ReviewUnit:
    """The request's unit (``.unit`` loaded): a decided request's unit may have been deleted since
    (its link emptied), and reads as a dash."""
    unit = review.unit
    if unit is None:
        return ReviewUnit(id=None, name=msg.UNIT_GONE, credit_code=None)
    return ReviewUnit(id=unit.id, name=unit.name, credit_code=unit.credit_code)


def review_row(review: ReviewRequest) -> ReviewRow:
    """``review`` with .unit and .account loaded."""
    unit = _unit(review)
    return ReviewRow(
        id=review.id,
        **_labels(review),
        unit_id=unit.id,
        unit_name=unit.name,
        name=review.name,
        phone=identifiers.mask_phone(requester_phone(review)),
        id_number=identifiers.mask_id_number(requester_id_number(review)),
        username=review.account.username if review.account else None,
        image_count=len(review.images),
        images_removed_at=review.images_removed_at,
        created_at=review.created_at,
        decided_at=review.decided_at,
    )


def _checks(review: ReviewRequest) -> IdentityChecks:
    """Compare by the keyed indexes, so nothing on file needs decrypting for it."""
    if ReviewKind(review.kind) == ReviewKind.UNIT:
        unit = review.unit
        if unit is None:  # deleted since the decision: nothing on file to compare with
            return IdentityChecks(name=None, phone=None, id_number=None)
        return IdentityChecks(
            name=review.name == unit.legal_rep_name if unit.legal_rep_name else None,
            phone=None,
            id_number=review.id_number_index == unit.legal_rep_id_index if unit.legal_rep_id_index else None,
        )
    account = review.account
    if account is None:
        return IdentityChecks(name=None, phone=None, id_number=None)
    return IdentityChecks(
        name=review.name == account.name,
        phone=review.phone_index == account.phone_index if account.phone_index else None,
        id_number=review.id_number_index == account.id_number_index if account.id_number_index else None,
    )


def _on_approve(review: ReviewRequest, plan: ApprovalPlan | None) -> str | None:
    if plan is None:
        return None
    username = plan.account.username if plan.account else ""
    return {
        ApprovalMode.RESET: msg.ON_APPROVE_RESET,
        ApprovalMode.HAND_OVER: msg.ON_APPROVE_HAND_OVER,
        ApprovalMode.NEW_ADMIN: msg.ON_APPROVE_NEW_ADMIN,
        ApprovalMode.UNAVAILABLE: msg.ON_APPROVE_UNKNOWN,
    }[plan.mode].format(username=username, unit=_unit(review).name)


def review_detail(opened: OpenedReview, image_url: str) -> ReviewDetail:
    """``image_url`` is a format string with ``{index}``."""
    review = opened.review
    account = review.account
    return ReviewDetail(
        id=review.id,
        **_labels(review),
        unit=_unit(review),
        name=review.name,
        id_number=requester_id_number(review),
        phone=requester_phone(review),
        statement=review.statement,
        images=[
            ReviewImageOut(index=i, type=entry["type"], size=entry["size"], url=image_url.format(index=i))
            for i, entry in enumerate(review.images, start=1)
        ],
        images_removed_at=review.images_removed_at,
        account=ReviewAccount(id=account.id, username=account.username, name=account.name, is_active=account.is_active)
        if account
        else None,
        checks=_checks(review),
        on_approve=_on_approve(review, opened.plan),
        created_at=review.created_at,
        decided_at=review.decided_at,
        decided_by_id=review.decided_by_id,
        decision_reason=review.decision_reason,
    )


def decision_out(review: ReviewRequest) -> DecisionOut:
    status = ReviewStatus(review.status).value
    decided_at: datetime = review.decided_at or runtime.get().clock.now()
    return DecisionOut(id=review.id, status=status, status_label=msg.STATUS_LABELS[status], decided_at=decided_at)
