"""Resolve the actor of a request, once, on the server: session -> account -> chosen unit -> role."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import wraps
from typing import Any, NoReturn

from sanic import Request
from sanic_ext.extensions.openapi import openapi
from tortoise.expressions import Subquery

from backend.accounts.models import Account, Membership
from backend.core import db, messages, sessions
from backend.core.actor import Actor, Origin
from backend.core.crypto import sha256_hex
from backend.core.errors import Forbidden, Unauthorized
from backend.core.http import client_ip, user_agent
from backend.core.roles import FinanceAccess, Role, allows

Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Caller:
    """The authenticated session and account, before (or without) a chosen unit."""

    session: sessions.SessionRecord
    account: Account
    origin: Origin


def origin_of(request: Request) -> Origin:
    """Where the request comes from (worked out once per request: the guard and the route ask)."""
    origin: Origin | None = getattr(request.ctx, "origin", None)
    if origin is None:
        origin = Origin(ip=client_ip(request), user_agent=user_agent(request))
        request.ctx.origin = origin
    return origin


def _token(request: Request) -> str:
    return sessions.bearer_token(request.headers.get("authorization", ""))


def _credentials(request: Request) -> tuple[str, str]:
    """The request's bearer token and its SHA-256 ("" for none), the key of its session and of its
    hint: hashed once per request, though a chat turn needs it three times."""
    known: tuple[str, str] | None = getattr(request.ctx, "credentials", None)
    if known is None:
        token = _token(request)
        known = (token, sha256_hex(token) if token else "")
        request.ctx.credentials = known
    return known


def _live(request: Request, record: sessions.SessionRecord | None) -> sessions.SessionRecord:
    """The session read for this request; none (unknown, ended, expired) is refused."""
    if record is None:
        raise Unauthorized("session_invalid", messages.SESSION_EXPIRED if _token(request) else messages.UNAUTHENTICATED)
    return record


async def _session(request: Request) -> sessions.SessionRecord:
    token, key_hash = _credentials(request)
    return _live(request, await sessions.load(token, key_hash=key_hash))


def _revoked(record: sessions.SessionRecord, revoked_at: datetime | None) -> bool:
    """Was the session started before the account's sessions were revoked?"""
    return revoked_at is not None and record.created_at < revoked_at.timestamp()


async def _end(record: sessions.SessionRecord) -> NoReturn:
    """Refuse a session void for a reason that is durable already (its account's state, its recorded
    end): Redis drops it, nothing more is recorded."""
    await sessions.drop(record.account_id, record.key_hash)
    raise Unauthorized("session_invalid", messages.SESSION_EXPIRED)


def _first_login_done(account: Account | dict[str, Any], *, allow_sms_check: bool, allow_must_change: bool) -> None:
    """The first-login steps of an account (a model, or the guard's row with the same names) are done."""

    def flag(name: str) -> bool:
        return bool(account[name] if isinstance(account, dict) else getattr(account, name))

    if flag("needs_sms_check") and not allow_sms_check:
        raise Forbidden("sms_check_required", messages.SMS_CHECK_REQUIRED)
    if flag("must_change_password") and not allow_must_change:
        raise Forbidden("password_change_required", messages.PASSWORD_CHANGE_REQUIRED)


async def _caller(request: Request, record: sessions.SessionRecord) -> Caller:
    # The account, and whether the session's end is recorded (annotated as "ended"), in one statement.
    ended = Subquery(sessions.EndedSession.filter(key_hash=record.key_hash).values("key_hash"))
    account = await Account.filter(id=record.account_id).annotate(ended=ended).first()
    if (
        account is None
        or not account.is_active
        or _revoked(record, account.sessions_revoked_at)
        or account.ended is not None  # type: ignore[attr-defined]
    ):
        await _end(record)
    return Caller(session=record, account=account, origin=origin_of(request))


async def resolve_caller(request: Request) -> Caller:
    return await _caller(request, await _session(request))


async def resolve_actor(caller: Caller) -> Actor:
    if caller.session.membership_id is None:
        raise Forbidden("unit_choice_required", messages.UNIT_CHOICE_REQUIRED)
    membership = await Membership.get_or_none(
        id=caller.session.membership_id, account_id=caller.account.id
    ).select_related("unit")
    if membership is None:  # the membership was removed after the session chose it
        raise Forbidden("unit_choice_required", messages.UNIT_CHOICE_REQUIRED)
    return Actor(
        account_id=caller.account.id,
        username=caller.account.username,
        session_id=caller.session.public_id,
        membership_id=membership.id,
        unit_id=membership.unit.id,
        unit_path=membership.unit.path,
        unit_depth=membership.unit.depth,
        role=Role(membership.role),
        finance_access=FinanceAccess(membership.finance_access),
        origin=caller.origin,
    )


# What the guard needs of a session's membership, its unit and its account: one statement, written
# here rather than built by the ORM (building it cost six times what running it did on SQLite). It
# also reads the name change log's version (Actor.names_version): a lookup then sends nothing to
# learn that its name index is current; and whether the session's end is recorded (a Redis restored
# from a snapshot taken before a logout brought it back: backend.core.sessions.EndedSession). Its
# parameters: the session's key hash, the membership id, the account id (:func:`_actor_args`).
_ACTOR_SQL = (
    "SELECT m.id AS id, m.role AS role, m.finance_access AS finance_access, m.unit_id AS unit_id, "
    "u.path AS unit_path, u.depth AS unit_depth, a.username AS username, a.is_active AS is_active, "
    "a.sessions_revoked_at AS revoked_at, a.needs_sms_check AS needs_sms_check, "
    "a.must_change_password AS must_change_password, "
    "(SELECT version FROM name_index_state WHERE id = 1) AS names_version, "
    "EXISTS (SELECT 1 FROM ended_session WHERE key_hash = ?) AS ended "
    "FROM membership m JOIN unit u ON u.id = m.unit_id JOIN account a ON a.id = m.account_id "
    "WHERE m.id = ? AND m.account_id = ?"
)
_REVOKED_AT = Account._meta.fields_map["sessions_revoked_at"]  # its conversion from the driver's value


def _actor_args(key_hash: str, membership_id: int, account_id: int) -> list[Any]:
    return [key_hash, membership_id, account_id]


async def _actor(
    request: Request,
    record: sessions.SessionRecord,
    *,
    allow_sms_check: bool,
    allow_must_change: bool,
    rows: list[dict[str, Any]] | None = None,
) -> Actor:
    """The actor of a session with a chosen unit, with the same checks, in the same order, as
    :func:`resolve_caller` then :func:`resolve_actor`, from one narrow query (instead of the whole
    account row, then the membership with its unit); ``rows``: that query's answer, already read
    for this session's account and membership. When it finds nothing (no unit chosen, the
    membership or the account gone), the two steps run and say which.
    """
    if rows is None:
        rows = []
        if record.membership_id is not None:
            rows = await db.fetch(_ACTOR_SQL, _actor_args(record.key_hash, record.membership_id, record.account_id))
    if not rows:
        caller = await _caller(request, record)
        _first_login_done(caller.account, allow_sms_check=allow_sms_check, allow_must_change=allow_must_change)
        return await resolve_actor(caller)
    row = rows[0]
    if not row["is_active"] or _revoked(record, _REVOKED_AT.to_python_value(row["revoked_at"])) or row["ended"]:
        await _end(record)
    _first_login_done(row, allow_sms_check=allow_sms_check, allow_must_change=allow_must_change)
    return Actor(
        account_id=record.account_id,
        username=row["username"],
        session_id=record.public_id,
        membership_id=int(row["id"]),
        unit_id=int(row["unit_id"]),
        unit_path=row["unit_path"],
        unit_depth=int(row["unit_depth"]),
        role=Role(row["role"]),
        finance_access=FinanceAccess(row["finance_access"]),
        origin=origin_of(request),
        names_version=None if row["names_version"] is None else int(row["names_version"]),
    )


# The actor each session token (by its hash) had when this process last checked it: a hint, never
# trusted. With it, the session's read from Redis and its actor's read from the database go out
# together instead of one after the other (one round trip less per request); the actor's row is
# used only if the session, read fresh, still names that account and membership. A chat turn may
# also start with it while those reads are under way (:func:`last_actor`).
_HINTS: dict[str, Actor] = {}
HINTS_MAX = 10_000  # sessions remembered per process; the oldest are forgotten first


async def _both(first: Awaitable[Any], second: Awaitable[Any]) -> tuple[Any, Any]:
    """Both results, both awaited to the end; the first one's error is raised first. (One task
    and the caller's own await, where ``asyncio.gather`` makes two tasks and a future to join them.)"""
    started = asyncio.ensure_future(first)
    try:
        second_result = await second
    except BaseException as exc:
        cancelled = isinstance(exc, asyncio.CancelledError)
        if cancelled:
            started.cancel()
        await asyncio.wait([started])
        error = None if started.cancelled() else started.exception()  # retrieved, so never reported
        if error is not None and not cancelled:
            raise error from exc
        raise
    return await started, second_result


async def _request_actor(request: Request, *, allow_sms_check: bool, allow_must_change: bool) -> Actor:
    """The actor of the request's session (see :func:`_actor`), its two reads made together when
    the session's account and membership are known from an earlier request."""
    token, hint_key = _credentials(request)
    hint = _HINTS.get(hint_key)
    try:
        if hint is None:
            record = await _session(request)
            rows = None
        else:
            sql_args = _actor_args(hint_key, hint.membership_id, hint.account_id)
            found, rows = await _both(sessions.load(token, key_hash=hint_key), db.fetch(_ACTOR_SQL, sql_args))
            record = _live(request, found)
            if (record.account_id, record.membership_id) != (hint.account_id, hint.membership_id):
                rows = None  # another unit chosen since
        actor = await _actor(
            request, record, allow_sms_check=allow_sms_check, allow_must_change=allow_must_change, rows=rows
        )
    except (Unauthorized, Forbidden):
        _HINTS.pop(hint_key, None)  # nothing is started ahead for a session refused
        raise
    if hint_key not in _HINTS and len(_HINTS) >= HINTS_MAX:
        del _HINTS[next(iter(_HINTS))]
    _HINTS[hint_key] = actor
    return actor


def last_actor(request: Request) -> Actor | None:
    """The actor this process found for the request's session the last time it checked it, with
    this request's origin (and the name log version read then); None for a session it has not seen.

    A guess, never an answer: whatever uses it must compare it with :func:`session_actor`'s.
    """
    token, hint_key = _credentials(request)
    known = _HINTS.get(hint_key) if token else None
    return None if known is None else replace(known, origin=origin_of(request))


async def session_actor(request: Request) -> Actor:
    """The actor of the request's session, checked as :func:`authenticated` checks it (first-login
    steps done, a unit chosen), for routes where a session is optional."""
    return await _request_actor(request, allow_sms_check=False, allow_must_change=False)


def authenticated(
    permission: str | None = None,
    *,
    unit: bool = True,
    allow_must_change: bool = False,
    allow_sms_check: bool = False,
) -> Callable[[Handler], Handler]:
    """Route decorator. Passes ``actor`` (the session's chosen unit) to the handler, or with
    ``unit=False`` the ``caller`` (session and account, no unit needed).

    First-login order for an operator an admin created: the SMS check to the bound phone (only
    routes marked ``allow_sms_check`` work before it), then the password change (only routes
    marked ``allow_must_change``), then everything else.
    """

    def decorator(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
            if unit:
                actor = await _request_actor(
                    request, allow_sms_check=allow_sms_check, allow_must_change=allow_must_change
                )
                if permission is not None and not allows(actor.role, permission):
                    raise Forbidden()
                return await handler(request, *args, actor=actor, **kwargs)
            caller = await _caller(request, await _session(request))
            _first_login_done(caller.account, allow_sms_check=allow_sms_check, allow_must_change=allow_must_change)
            return await handler(request, *args, caller=caller, **kwargs)

        return openapi.secured("session")(wrapper)

    return decorator
