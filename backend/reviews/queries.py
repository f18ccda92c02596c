"""Reading review requests. Reviewers see the requests of units strictly below their own unit: the
admins above a unit decide for it, never its own admins, so nobody reviews a request about a peer.
A top unit has nobody above it: the system admins of that unit decide its own requests too, except
those about their own account."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from backend.accounts import people
from backend.accounts.models import Account, Membership
from backend.core import names, runtime
from backend.core.actor import Actor
from backend.core.errors import NotFound
from backend.core.roles import Role
from backend.core.scope import path_prefix
from backend.reviews.models import ReviewKind, ReviewRequest, ReviewStatus
from backend.units.models import Unit


def decides_own_unit(actor: Actor) -> bool:
    """Is the actor a system admin of a top unit (nobody above it to decide its requests)?"""
    return actor.role == Role.SYSADMIN and actor.unit_depth == 0


def decides_for(actor: Actor, unit: Unit) -> bool:
    """Does the actor decide the requests about ``unit`` (see the module notes)?"""
    return actor.covers(unit.path) and (unit.id != actor.unit_id or decides_own_unit(actor))


def reviews_in_scope(actor: Actor) -> QuerySet[ReviewRequest]:
    below = ReviewRequest.filter(path_prefix("unit__path", actor.unit_path))
    if not decides_own_unit(actor):
        return below.exclude(unit_id=actor.unit_id)
    return below.filter(Q(account_id__isnull=True) | Q(account_id__not=actor.account_id))


async def get_review(actor: Actor, review_id: int) -> ReviewRequest:
    """One request in the actor's scope (with .unit and .account loaded); anything else is 404."""
    review = await reviews_in_scope(actor).get_or_none(id=review_id).select_related("unit", "account")
    if review is None:
        raise NotFound()
    return review


@dataclass(frozen=True)
class ReviewPage:
    items: list[ReviewRequest]  # with .unit and .account loaded
    total: int
    next_cursor: int | None


async def list_reviews(
    actor: Actor,
    *,
    status: ReviewStatus = ReviewStatus.PENDING,
    kind: ReviewKind | None = None,
    cursor: int | None = None,
    limit: int = 50,
) -> ReviewPage:
    """Requests in scope with one status, oldest first (a queue), paged by id."""
    query = reviews_in_scope(actor).filter(status=status)
    if kind is not None:
        query = query.filter(kind=kind)
    total = await query.count()
    if cursor is not None:
        query = query.filter(id__gt=cursor)
    rows = await query.order_by("id").limit(limit + 1).select_related("unit", "account")
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return ReviewPage(items=rows[:limit], total=total, next_cursor=next_cursor)


# Which unit and account a public submission is about -------------------------------------------


@dataclass(frozen=True)
class Target:
    unit: Unit
    account: Account | None


def common_path(paths: list[str]) -> str:
    """The path of the lowest unit that contains every given unit ("/" when they share no root)."""
    split = [path.strip("/").split("/") for path in paths]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "/" + "".join(f"{part}/" for part in common)


async def account_target(account: Account | None) -> Target | None:
    """An account's requests go to the lowest unit holding all of its memberships, so whoever reviews
    them oversees every unit the account works for."""
    if account is None or not account.is_active:
        return None
    paths = await Membership.filter(account_id=account.id).values_list("unit__path", flat=True)
    if not paths:
        return None
    unit = await Unit.get_or_none(path=common_path(list(paths)))
    return Target(unit=unit, account=account) if unit is not None else None


async def find_target(
    kind: ReviewKind, *, username: str | None, name: str, phone: str, id_number: str, credit_code: str | None
) -> Target | None:
    """The unit (and account) a submission is about, or None when there is no such account or unit.

    A forgotten user name is found by the name and ID number on file: whoever still has the bound
    phone finds it themselves (R3), so the phone given is only where the answer goes; of one
    person's accounts, the one on that phone if any, else the oldest."""
    vault = runtime.get().vault
    if kind == ReviewKind.UNIT:
        unit = await Unit.get_or_none(credit_code=(credit_code or "").upper())
        return Target(unit=unit, account=await people.unit_admin_account(unit)) if unit is not None else None
    if kind == ReviewKind.PASSWORD:
        account = await Account.get_or_none(username_key=(username or "").lower(), is_active=True)
    else:
        same_id = await Account.filter(id_number_index=vault.index("id_number", id_number), is_active=True).order_by(
            "id"
        )
        accounts = [a for a in same_id if names.same_name(name, a.name)]  # as typed: width, spaces, dots
        phone_index = vault.index("phone", phone)
        account = next((a for a in accounts if a.phone_index == phone_index), accounts[0] if accounts else None)
    return await account_target(account)


# What approving a request would do ----------------------------------------------------------------


class ApprovalMode(StrEnum):
    RESET = "reset"  # password / user name: the account gets a new temporary password
    HAND_OVER = "hand_over"  # unit: its own admin account passes to the requester
    NEW_ADMIN = "new_admin"  # unit without an admin account of its own: a new one for the requester
    UNAVAILABLE = "unavailable"  # the account was deactivated since: only rejection is possible


@dataclass(frozen=True)
class ApprovalPlan:
    mode: ApprovalMode
    account: Account | None


async def approval_plan(review: ReviewRequest) -> ApprovalPlan:
    """Decided afresh at approval time: the tree and the accounts may have changed since submission."""
    if review.kind == ReviewKind.UNIT:
        admin = await people.unit_admin_account(review.unit)
        if admin is not None:
            return ApprovalPlan(ApprovalMode.HAND_OVER, admin)
        return ApprovalPlan(ApprovalMode.NEW_ADMIN, None)
    account = await Account.get_or_none(id=review.account_id, is_active=True) if review.account_id else None
    if account is None:
        return ApprovalPlan(ApprovalMode.UNAVAILABLE, None)
    return ApprovalPlan(ApprovalMode.RESET, account)
