"""Reading accounts through the actor's scope: an account is visible through a membership in scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from backend.accounts.models import Account, Membership
from backend.core import identifiers, runtime
from backend.core.actor import Actor
from backend.core.errors import NotFound
from backend.core.roles import Role
from backend.core.scope import path_prefix
from backend.units.queries import get_unit

ROOT_SCOPE = "/"  # the audit scope of entries about no account (an unknown name) or one without units


def memberships_scope(memberships: Iterable[Membership]) -> str:
    """Where an account's audit entries belong: the widest unit path among its memberships (units
    selected), ROOT_SCOPE when it has none."""
    return min((m.unit.path for m in memberships), key=len, default=ROOT_SCOPE)


async def account_scope(account_id: int | None) -> str:
    """:func:`memberships_scope` of an account read by id (ROOT_SCOPE for none)."""
    if account_id is None:
        return ROOT_SCOPE
    paths = await Membership.filter(account_id=account_id).values_list("unit__path", flat=True)
    return min(paths, key=len, default=ROOT_SCOPE)


def memberships_in_scope(actor: Actor) -> QuerySet[Membership]:
    return Membership.filter(path_prefix("unit__path", actor.unit_path))


async def get_account(actor: Actor, account_id: int) -> Account:
    if not await memberships_in_scope(actor).filter(account_id=account_id).exists():
        raise NotFound()
    return await Account.get(id=account_id)


async def visible_memberships(actor: Actor, account_id: int) -> list[Membership]:
    return await memberships_in_scope(actor).filter(account_id=account_id).select_related("unit").order_by("id")


class Lockable(Protocol):
    """What a lock is read from: the model, or a row of its columns."""

    @property
    def locked_until(self) -> datetime | None: ...


def is_locked(account: Lockable, now: datetime) -> bool:
    return account.locked_until is not None and account.locked_until > now


@dataclass(frozen=True)
class AccountPage:
    items: list[Membership]  # with .account and .unit loaded
    total: int | None  # on the first page only
    next_cursor: int | None


async def list_accounts(
    actor: Actor,
    *,
    unit_id: int | None = None,
    within: str | None = None,
    search: str | None = None,
    status: str | None = None,
    role: Role | None = None,
    cursor: int | None = None,
    limit: int = 50,
) -> AccountPage:
    """One row per membership in scope (who holds which role in which unit), paged by membership id."""
    query = memberships_in_scope(actor)
    if unit_id is not None:
        await get_unit(actor, unit_id)  # a unit outside the scope does not exist
        query = query.filter(unit_id=unit_id)
    if within is not None:  # a unit path of the scope: that unit and every unit below it
        query = query.filter(path_prefix("unit__path", within))
    if search:
        if identifiers.valid_phone(search):
            query = query.filter(account__phone_index=runtime.get().vault.index("phone", search))
        else:
            query = query.filter(Q(account__username_key__contains=search.lower()) | Q(account__name__contains=search))
    if role is not None:
        query = query.filter(role=role.value)
    now = runtime.get().clock.now()
    if status == "deactivated":
        query = query.filter(account__is_active=False)
    elif status == "locked":
        query = query.filter(account__is_active=True, account__locked_until__gt=now)
    elif status == "active":
        query = query.filter(account__is_active=True).filter(
            Q(account__locked_until__isnull=True) | Q(account__locked_until__lte=now)
        )
    # Counting a large scope costs more than the page itself: count once, on the first page.
    total = await query.count() if cursor is None else None
    if cursor is not None:
        query = query.filter(id__gt=cursor)
    # Two steps: the page's ids through the scope index (narrow rows sort cheaply), then the rows.
    ids = list(await query.order_by("id").limit(limit + 1).values_list("id", flat=True))
    rows = await Membership.filter(id__in=ids[:limit]).order_by("id").select_related("account", "unit")
    next_cursor = ids[limit - 1] if len(ids) > limit else None
    return AccountPage(items=rows, total=total, next_cursor=next_cursor)
