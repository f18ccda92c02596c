"""Manual review (R5): public submission, and the decision of an admin above the request's unit (of
a top unit, nobody above it: one of its system admins, backend.reviews.queries).

Submission answers the same whether or not the account or unit exists; for an unknown one nothing
is stored that could reach an admin (only an audit entry at the root scope, which no unit's admin
sees). Decisions are single: the status moves from pending in one conditional update inside the
decision's transaction, so a second decision (even a parallel one) finds nothing to move: 409.
Inside that transaction a decision also checks again, under locks, that the decider may still
decide (account active, the session's membership still there, an admin's role, the request's unit
below it: otherwise 403 ``approver_changed``) and an approval that what the approver was shown still
holds (the unit's admin account, the account still active and manageable by the approver), refusing
otherwise, the request left pending. A deactivation, a role change or the removal of a membership
that commits first is seen; one that comes later waits for the decision's commit.

Approval gives the account a new random temporary password, sent by SMS to the phone in the request
(not the one on file, which the requester may have lost). For a unit request, the unit's own admin
account (active, admin of that unit and of no other) passes to the requester, as the automatic
unit recovery (R4) does; a unit without one gets a new admin account for the requester.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from tortoise.exceptions import IntegrityError

from backend.accounts import people
from backend.accounts.actions import may_assign
from backend.accounts.models import Account, Membership
from backend.accounts.queries import ROOT_SCOPE
from backend.core import audit, captcha, db, messages, runtime, sessions, sms, throttle
from backend.core.actor import Actor, Origin
from backend.core.errors import AppError, Conflict, Forbidden, NotFound, TooManyRequests
from backend.core.roles import FinanceAccess, Role, allows
from backend.reviews import messages as msg
from backend.reviews import storage
from backend.reviews.images import CheckedImage, check_images
from backend.reviews.models import ReviewKind, ReviewRequest, ReviewStatus
from backend.reviews.queries import ApprovalMode, ApprovalPlan, approval_plan, decides_for, find_target, get_review
from backend.reviews.schemas import ReviewSubmission
from backend.units.models import Unit
from backend.wechat import releases as wechat_releases

# Submissions that passed the captcha and the checks (an office behind one address refused a few
# times for a wrong file still submits); any upload at all, counted before its body is read.
SUBMISSIONS_PER_HOUR_PER_ADDRESS = 10
ATTEMPTS_PER_HOUR_PER_ADDRESS = 60
ADMIN_USERNAME_PREFIX = "gly"  # 管理员


def _require(actor: Actor, permission: str) -> None:
    if not allows(actor.role, permission):
        raise Forbidden()


async def _throttle(name: str, origin: Origin, limit: int) -> None:
    if not await throttle.hit(name, origin.ip or "-", limit=limit, window_seconds=3600):
        raise TooManyRequests("review_throttled", msg.THROTTLED)


async def admit_submission(origin: Origin) -> None:
    """Per-address cap on uploads of any outcome, checked before the (large) body is read."""
    await _throttle("review-attempt-ip", origin, ATTEMPTS_PER_HOUR_PER_ADDRESS)


async def submit_review(form: ReviewSubmission, image_blobs: list[bytes], *, origin: Origin) -> None:
    """Captcha, image checks, the per-address cap of submissions that passed them, then store the
    request and its images for the admins above its unit."""
    if not await captcha.check(form.captcha_id, form.captcha_answer):
        raise AppError("captcha_invalid", messages.CAPTCHA_INVALID, fields={"captcha_answer": messages.CAPTCHA_INVALID})
    images = await asyncio.to_thread(check_images, image_blobs)
    await _throttle("review-ip", origin, SUBMISSIONS_PER_HOUR_PER_ADDRESS)  # known or not: the same answer
    kind = ReviewKind(form.kind)
    target = await find_target(
        kind,
        username=form.username,
        name=form.name,
        phone=form.phone,
        id_number=form.id_number,
        credit_code=form.credit_code,
    )
    if target is None:
        async with db.atomic():
            await audit.record(
                "review.submit",
                origin=origin,
                outcome="ignored",
                scope_path=ROOT_SCOPE,
                detail={"kind": kind.value, "reason": "unknown_target"},
            )
        return
    vault = runtime.get().vault
    if await _resent(kind, target.unit.id, target.account.id if target.account else None, form, images):
        return  # the same answer: it is waiting for the admins already
    stored = await storage.save(images)
    try:
        async with db.atomic():
            review = await ReviewRequest.create(
                kind=kind,
                unit_id=target.unit.id,
                account_id=target.account.id if target.account else None,
                name=form.name,
                id_number_enc=vault.encrypt("review.id_number", form.id_number),
                id_number_index=vault.index("id_number", form.id_number),
                phone_enc=vault.encrypt("review.phone", form.phone),
                phone_index=vault.index("phone", form.phone),
                statement=form.statement,
                images=stored,
                created_at=runtime.get().clock.now(),
            )
            await audit.record(
                "review.submit",
                origin=origin,
                scope_path=target.unit.path,
                target_type="review",
                target_id=review.id,
                detail={"kind": kind.value, "images": len(stored)},
            )
    except BaseException:
        await storage.remove([entry["name"] for entry in stored])
        raise


async def _resent(
    kind: ReviewKind, unit_id: int, account_id: int | None, form: ReviewSubmission, images: list[CheckedImage]
) -> bool:
    """Is this form a pending request sent again (its answer lost, then the stored replay and the
    captcha with a Redis restart: the page asks for a new captcha and sends the same form)? Same
    requester, statement and image sizes; anything changed makes a new request."""
    vault = runtime.get().vault
    pending = ReviewRequest.filter(
        status=ReviewStatus.PENDING,
        kind=kind,
        unit_id=unit_id,
        account_id=account_id,
        name=form.name,
        id_number_index=vault.index("id_number", form.id_number),
        phone_index=vault.index("phone", form.phone),
        statement=form.statement,
    )
    sizes = [len(image.data) for image in images]
    return any([entry["size"] for entry in row.images] == sizes for row in await pending)


def requester_phone(review: ReviewRequest) -> str:
    return runtime.get().vault.decrypt("review.phone", review.phone_enc)


def requester_id_number(review: ReviewRequest) -> str:
    return runtime.get().vault.decrypt("review.id_number", review.id_number_enc)


@dataclass(frozen=True)
class OpenedReview:
    review: ReviewRequest  # with .unit and .account loaded
    plan: ApprovalPlan | None  # for a pending request


async def open_review(actor: Actor, review_id: int) -> OpenedReview:
    """A request with the requester's details unmasked; every opening is audited as a reveal."""
    _require(actor, "accounts.manage")
    review = await get_review(actor, review_id)
    async with db.atomic():
        await audit.record(
            "review.view",
            actor=actor,
            scope_path=review.unit.path,
            target_type="review",
            target_id=review.id,
            detail={"kind": ReviewKind(review.kind).value},
        )
    plan = await approval_plan(review) if review.status == ReviewStatus.PENDING else None
    return OpenedReview(review=review, plan=plan)


async def open_image(actor: Actor, review_id: int, index: int) -> tuple[bytes, str]:
    """The bytes and type of one image (1-based index) of a request in scope; audited."""
    _require(actor, "accounts.manage")
    review = await get_review(actor, review_id)
    if not 1 <= index <= len(review.images):
        raise NotFound()
    entry = review.images[index - 1]
    data = await storage.read(entry["name"])
    if data is None:
        raise NotFound(msg.IMAGE_MISSING)
    async with db.atomic():
        await audit.record(
            "review.image",
            actor=actor,
            scope_path=review.unit.path,
            target_type="review",
            target_id=review.id,
            detail={"index": index},
        )
    return data, entry["type"]


async def _claim(review: ReviewRequest, actor: Actor, status: ReviewStatus, reason: str | None = None) -> None:
    """Move the request out of pending (inside the decision's transaction); 409 if already decided."""
    moved = await ReviewRequest.filter(id=review.id, status=ReviewStatus.PENDING).update(
        status=status, decided_at=runtime.get().clock.now(), decided_by_id=actor.account_id, decision_reason=reason
    )
    if not moved:
        raise Conflict("review_decided", msg.ALREADY_DECIDED)


async def _pending(actor: Actor, review_id: int) -> ReviewRequest:
    _require(actor, "accounts.manage")
    review = await get_review(actor, review_id)
    if review.status != ReviewStatus.PENDING:
        raise Conflict("review_decided", msg.ALREADY_DECIDED)
    return review


async def _check_may_decide(actor: Actor, unit: Unit, plan: ApprovalPlan, *, locked: bool = False) -> None:
    """May the actor approve by ``plan`` a request about ``unit``? ``locked``: inside the decision's
    transaction, the account's memberships are locked (a role change or removal waits for it)."""
    if plan.mode == ApprovalMode.UNAVAILABLE:
        raise Conflict("review_target_gone", msg.TARGET_GONE)
    if plan.mode == ApprovalMode.NEW_ADMIN:
        if not may_assign(actor, unit, Role.ADMIN):
            raise Forbidden("cannot_manage", msg.CANNOT_MANAGE)
        return
    assert plan.account is not None
    if plan.account.id == actor.account_id:
        raise Forbidden("not_self", msg.NOT_SELF)
    query = Membership.filter(account_id=plan.account.id)
    # The units read apart: FOR UPDATE on a join would lock them too (a unit move locks them top down).
    memberships = await (query.select_for_update(no_key=True) if locked else query)
    units = {u.id: u for u in await Unit.filter(id__in={m.unit_id for m in memberships})}
    if not memberships or not all(may_assign(actor, units[m.unit_id], m.role) for m in memberships):
        raise Forbidden("cannot_manage", msg.CANNOT_MANAGE)


async def _decider_now(actor: Actor, review: ReviewRequest) -> tuple[Actor, Unit]:
    """Inside the decision's transaction, first: the decider as they are now, their account and the
    membership their session chose locked, so a deactivation, a role change or the membership's
    removal that commits first is seen, and a later one waits for this decision; and the request's
    unit as it is now (a move rewrites both paths). 403 ``approver_changed`` when they may no longer
    decide it: account deactivated, membership gone, no longer an admin, the unit no longer theirs to
    decide (backend.reviews.queries.decides_for)."""
    account = await Account.filter(id=actor.account_id, is_active=True).select_for_update(no_key=True).first()
    membership = (
        await Membership.filter(id=actor.membership_id, account_id=actor.account_id)
        .select_for_update(no_key=True)
        .first()
    )
    if account is None or membership is None:
        raise Forbidden("approver_changed", msg.APPROVER_CHANGED)
    units = {u.id: u for u in await Unit.filter(id__in={membership.unit_id, review.unit.id})}
    if review.unit.id not in units:  # a pending request holds its unit: it was decided, then the unit deleted
        raise Conflict("review_decided", msg.ALREADY_DECIDED)
    own, unit = units[membership.unit_id], units[review.unit.id]  # the membership holds its unit
    decider = replace(
        actor,
        role=Role(membership.role),
        finance_access=FinanceAccess(membership.finance_access),
        unit_path=own.path,
        unit_depth=own.depth,
    )
    if not allows(decider.role, "accounts.manage") or not decides_for(decider, unit):
        raise Forbidden("approver_changed", msg.APPROVER_CHANGED)
    return decider, unit


async def _locked_target(review: ReviewRequest, plan: ApprovalPlan) -> Account | None:
    """Inside the decision's transaction: the account of the plan the approver saw, locked, or a 409
    when the plan no longer holds. Approvals and recoveries of one unit take turns on the unit's lock
    (as unit recovery does), and a deactivation on the account's: each sees what the one before did."""
    planned_id = plan.account.id if plan.account else None
    if review.kind == ReviewKind.UNIT:
        admin = await people.locked_unit_admin(review.unit)  # never gone: a pending request holds it
        if (admin.id if admin else None) != planned_id:  # made, handed on or deactivated meanwhile
            raise Conflict("unit_admin_changed", msg.UNIT_ADMIN_CHANGED)
    if planned_id is None:
        return None
    account = await Account.filter(id=planned_id, is_active=True).select_for_update(no_key=True).first()
    if account is None:  # deactivated meanwhile
        if plan.mode == ApprovalMode.HAND_OVER:
            raise Conflict("unit_admin_changed", msg.UNIT_ADMIN_CHANGED)
        raise Conflict("review_target_gone", msg.TARGET_GONE)
    return account


async def approve_review(actor: Actor, review_id: int) -> ReviewRequest:
    """Approve: a new temporary password by SMS to the requester's phone (see the module notes)."""
    review = await _pending(actor, review_id)
    plan = await approval_plan(review)
    await _check_may_decide(actor, review.unit, plan)
    phone = requester_phone(review)
    password = await people.temporary_password()
    admin_name = f"{review.unit.credit_code}_ADMIN" if review.unit.credit_code else None

    async def approve() -> None:
        released: dict[str, int] = {}  # the WeChat (and on a hand-over the card) released
        async with db.atomic():
            approver, unit = await _decider_now(actor, review)
            await _claim(review, actor, ReviewStatus.APPROVED)
            account = await _locked_target(review, plan)
            await _check_may_decide(approver, unit, plan, locked=True)  # the account's roles as they are now
            if plan.mode == ApprovalMode.NEW_ADMIN:
                person = await people.create_person(
                    prefix=ADMIN_USERNAME_PREFIX,
                    username=admin_name,
                    password=password,
                    name=review.name,
                    phone=phone,
                    id_number=requester_id_number(review),
                    unit_id=review.unit.id,
                    role=Role.ADMIN,
                )
                account = person.account
            else:
                assert account is not None
                if plan.mode == ApprovalMode.HAND_OVER:
                    released = await people.hand_over(
                        account, name=review.name, phone=phone, id_number=requester_id_number(review), password=password
                    )
                else:
                    # as every reset: a WeChat bound by whoever knew the old password logs in no more
                    released = {
                        "wechat_released": await people.set_temporary_password(
                            account.id, password.hashed, reason=wechat_releases.Reason.REVIEW_RESET, sent_to=phone
                        )
                    }
                ended = account.id
                db.after_commit(lambda: _end_sessions(ended))
            await sms.queue(phone, "review_approved", {"username": account.username, "password": password.plain})
            await audit.record(
                "review.approve",
                actor=actor,
                scope_path=review.unit.path,
                target_type="review",
                target_id=review.id,
                detail={
                    "kind": ReviewKind(review.kind).value,
                    "mode": plan.mode.value,
                    "account_id": account.id,
                    **released,
                },
            )

    try:
        await approve()
    except IntegrityError:  # nothing changed; asked after the rollback (PostgreSQL reads nothing more in it)
        login_taken = False
        if plan.mode in (ApprovalMode.HAND_OVER, ApprovalMode.NEW_ADMIN):  # the ones giving the phone's login
            holders = Account.filter(login_phone_index=runtime.get().vault.index("phone", phone))
            login_taken = await (holders.exclude(id=plan.account.id) if plan.account else holders).exists()
        name_taken = (
            plan.mode == ApprovalMode.NEW_ADMIN
            and admin_name is not None
            and await Account.exists(username_key=admin_name.lower())
        )
        if not (login_taken or name_taken):
            raise
        # Another request took the phone's login or the user name between their look and the write:
        # once more, now seeing them taken (the account without phone login, the name with a suffix).
        await approve()
    return await ReviewRequest.get(id=review.id)


async def _end_sessions(account_id: int) -> None:
    await sessions.end_all(account_id)


async def reject_review(actor: Actor, review_id: int, *, reason: str) -> ReviewRequest:
    """Reject with a reason; the reason goes to the requester's phone by SMS."""
    review = await _pending(actor, review_id)
    async with db.atomic():
        await _decider_now(actor, review)
        await _claim(review, actor, ReviewStatus.REJECTED, reason)
        await sms.queue(requester_phone(review), "review_rejected", {"reason": reason})
        await audit.record(
            "review.reject",
            actor=actor,
            scope_path=review.unit.path,
            target_type="review",
            target_id=review.id,
            detail={"kind": ReviewKind(review.kind).value},
        )
    return await ReviewRequest.get(id=review.id)
