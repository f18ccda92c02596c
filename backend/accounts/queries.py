"""Reading accounts through the actor's scope: an account is visible through a membership in scope."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from backend.accounts.models import Account, Membership
from backend.core import db, identifiers, runtime
from backend.core.actor import Actor
from backend.core.errors import NotFound
from backend.core.roles import Role, rank
from backend.core.scope import path_prefix, path_prefix_sql
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


def outranks(actor: Actor, unit_path: str, role: Role | str) -> bool:
    """Is a membership (``role`` in the unit at ``unit_path``) above the actor's level (P2): a role
    ranked above the actor's, in the actor's own unit or a unit above it?"""
    return actor.unit_path.startswith(unit_path) and rank(role) > rank(actor.role)


def _above(actor: Actor) -> tuple[list[int], list[str]]:
    """The units at or above the actor's own (the ids of its path) and the roles ranked above its role."""
    units = [int(part) for part in actor.unit_path.strip("/").split("/")]
    return units, [r.value for r in Role if rank(r) > rank(actor.role)]


def visible_in_scope(actor: Actor) -> QuerySet[Membership]:
    """:func:`memberships_in_scope` without the accounts above the actor's level (:func:`outranks`,
    P2): every row of such an account is left out, as if out of scope. A filter in SQL (the list
    pages a scope of 100k accounts): the few memberships of the units above are the subquery."""
    query = memberships_in_scope(actor)
    units, roles = _above(actor)
    if not roles:  # nobody ranks above a system admin
        return query
    higher = Membership.filter(unit_id__in=units, role__in=roles).values("account_id")
    return query.exclude(account_id__in=Subquery(higher))


async def above_level(actor: Actor, account_ids: Iterable[int]) -> set[int]:
    """Which of these accounts are above the actor's level (:func:`outranks`): one read of their
    memberships in the units at or above the actor's (none for a system admin)."""
    ids = list(account_ids)
    units, roles = _above(actor)
    if not ids or not roles:
        return set()
    higher = Membership.filter(account_id__in=ids, unit_id__in=units, role__in=roles)
    return set(await higher.values_list("account_id", flat=True))


def above_level_sql(actor: Actor, account_column: str) -> tuple[str, list[Any]]:
    """:func:`above_level` as a condition of written SQL on ``account_column`` (true for the accounts
    not above the actor's level), with its parameters; ("1 = 1", []) for a system admin."""
    units, roles = _above(actor)
    if not roles:
        return "1 = 1", []
    unit_marks, role_marks = ", ".join("?" * len(units)), ", ".join("?" * len(roles))
    condition = (
        f"{account_column} NOT IN (SELECT h.account_id FROM membership h "
        f"WHERE h.unit_id IN ({unit_marks}) AND h.role IN ({role_marks}))"
    )  # uncorrelated: the few memberships of the units above, read once
    return condition, [*units, *roles]


async def get_account(actor: Actor, account_id: int) -> Account:
    """An account with a membership in scope, not above the actor's level; NotFound otherwise."""
    if not await visible_in_scope(actor).filter(account_id=account_id).exists():
        raise NotFound()
    return await Account.get(id=account_id)


async def visible_memberships(actor: Actor, account_id: int) -> list[Membership]:
    return await visible_in_scope(actor).filter(account_id=account_id).select_related("unit").order_by("id")


@dataclass(frozen=True)
class Bindings:
    """What logs in as an account besides its password: a WeChat identity (W1), a smart card (C6)."""

    wechat: bool
    card: bool


_BINDINGS_SQL = (
    "SELECT EXISTS (SELECT 1 FROM wechat_identity w WHERE w.account_id = ?), "
    "EXISTS (SELECT 1 FROM card_binding c WHERE c.account_id = ?)"
)


async def bindings_of(account_id: int) -> Bindings:
    [(wechat, card)] = await db.fetch_rows(_BINDINGS_SQL, [account_id, account_id])
    return Bindings(wechat=bool(wechat), card=bool(card))


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
    """One row per membership in scope (who holds which role in which unit) of the accounts not above
    the actor's level (:func:`visible_in_scope`), paged by membership id."""
    query = visible_in_scope(actor)
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


_LAST_LOGIN_AT = Account._meta.fields_map["last_login_at"]  # its conversion from the driver's value


def login_time(value: object) -> datetime | None:
    """An account's ``last_login_at`` as the driver gives it, as a time (None: never logged in)."""
    return None if value is None else _LAST_LOGIN_AT.to_python_value(value)


@dataclass(frozen=True)
class LoginRow:
    """One membership of a live account and when the account last logged in (None: never)."""

    membership_id: int
    account_id: int
    name: str
    username: str
    unit_name: str
    last_login: datetime | None


@dataclass(frozen=True)
class LoginPage:
    items: list[LoginRow]
    total: int | None  # on the first page only
    next_cursor: int | None


def _logins_sql(actor: Actor, within: str) -> tuple[str, list[Any]]:
    """The memberships of live accounts in the unit at ``within`` (of the actor's scope) and below
    (not of accounts above the actor's level, as :func:`visible_in_scope`), each with its account's
    creation and last login: the rows :func:`accounts_not_logged_in` reads."""
    in_scope, scope_values = path_prefix_sql("u.path", actor.unit_path)
    in_unit, unit_values = path_prefix_sql("u.path", within)
    inner = (
        f"SELECT m.id AS mid, a.id AS aid, a.name AS name, a.username AS username, u.name AS unit_name, "
        "a.created_at AS created, a.last_login_at AS last_at "
        "FROM membership m JOIN unit u ON u.id = m.unit_id JOIN account a ON a.id = m.account_id "
        f"WHERE {in_scope} AND {in_unit} AND a.is_active = ?"
    )
    not_above, above_values = above_level_sql(actor, "m.account_id")  # as visible_in_scope
    inner += f" AND {not_above}"
    return inner, [*scope_values, *unit_values, True, *above_values]


async def never_logged_in_since(actor: Actor, *, within: str, since: datetime) -> int:
    """How many live accounts in the unit at ``within`` (of the actor's scope) and below never
    logged in and were made after ``since``: too new to be in :func:`accounts_not_logged_in`'s list
    of those idle since then, worth a word next to it."""
    inner, values = _logins_sql(actor, within)
    counted = await db.fetch_rows(
        f"SELECT COUNT(DISTINCT t.aid) FROM ({inner}) t WHERE t.last_at IS NULL AND t.created > ?", [*values, since]
    )
    return int(counted[0][0])


async def accounts_not_logged_in(
    actor: Actor, *, within: str, since: datetime | None, cursor: int | None = None, limit: int = 50
) -> LoginPage:
    """Live accounts in the unit at path ``within`` (of the actor's scope) and below that never
    logged in (``since`` None), or not since ``since`` (those never logged in only when they existed
    by then: an account made yesterday has not been idle for a month). One row per membership, paged
    by membership id, as :func:`list_accounts`."""
    inner, values = _logins_sql(actor, within)
    if since is None:
        idle, idle_values = "t.last_at IS NULL", []
    else:
        idle, idle_values = "(t.last_at < ? OR (t.last_at IS NULL AND t.created <= ?))", [since, since]
    total = None
    if cursor is None:
        counted = await db.fetch_rows(f"SELECT COUNT(*) FROM ({inner}) t WHERE {idle}", [*values, *idle_values])
        total = int(counted[0][0])
    after = "" if cursor is None else " AND t.mid > ?"
    rows = await db.fetch_rows(
        f"SELECT t.mid, t.aid, t.name, t.username, t.unit_name, t.last_at FROM ({inner}) t "
        f"WHERE {idle}{after} ORDER BY t.mid LIMIT ?",
        [*values, *idle_values, *([] if cursor is None else [cursor]), limit + 1],
    )
    items = [LoginRow(int(r[0]), int(r[1]), r[2], r[3], r[4], login_time(r[5])) for r in rows[:limit]]
    next_cursor = items[-1].membership_id if len(rows) > limit else None
    return LoginPage(items=items, total=total, next_cursor=next_cursor)


_USERNAME_KEY_LENGTH: int = Account._meta.fields_map["username_key"].max_length  # type: ignore[attr-defined]


async def account_for_login(typed: str) -> tuple[Account | None, str | None]:
    """The account a login name means, and the mobile it spells (None when read as a user name).

    A user name that exists and is active, typed exactly, wins; otherwise a name that spells a mobile
    however printed or pasted ("139 0000 0010", "+86 139...", full-width digits) is the phone its
    owner logs in with (P16: a deactivation clears it); otherwise the user name as typed, active or
    not. No user name is a bare phone (identifiers.valid_username). Letters typed in full width (an
    input method's full-width mode) are read as plain ones; a name longer than any user name is
    none. Password login and recovery."""
    name = unicodedata.normalize("NFKC", typed)
    named = (
        None
        if identifiers.valid_phone(name) or len(name) > _USERNAME_KEY_LENGTH
        else await Account.get_or_none(username_key=name.lower())
    )
    if named is not None and named.is_active:
        return named, None
    phone = identifiers.typed_phone(typed)
    if phone is None:
        return named, None
    return await Account.get_or_none(login_phone_index=runtime.get().vault.index("phone", phone)), phone
