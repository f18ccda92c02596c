"""Resolve the actor of a request, once, on the server: session -> account -> chosen unit -> role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from sanic import Request
from sanic_ext.extensions.openapi import openapi

from backend.accounts.models import Account, Membership
from backend.core import messages, sessions
from backend.core.actor import Actor, Origin
from backend.core.errors import Forbidden, Unauthorized
from backend.core.roles import FinanceAccess, Role, allows

Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Caller:
    """The authenticated session and account, before (or without) a chosen unit."""

    session: sessions.SessionRecord
    account: Account
    origin: Origin


def origin_of(request: Request) -> Origin:
    return Origin(ip=request.remote_addr or request.ip or None, user_agent=request.headers.get("user-agent"))


def _token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


async def resolve_caller(request: Request) -> Caller:
    record = await sessions.load(_token(request))
    if record is None:
        raise Unauthorized("session_invalid", messages.SESSION_EXPIRED if _token(request) else messages.UNAUTHENTICATED)
    account = await Account.get_or_none(id=record.account_id)
    revoked = (
        account is not None
        and account.sessions_revoked_at is not None
        and (record.created_at < account.sessions_revoked_at.timestamp())
    )
    if account is None or not account.is_active or revoked:
        await sessions.end(record.account_id, record.key_hash)
        raise Unauthorized("session_invalid", messages.SESSION_EXPIRED)
    return Caller(session=record, account=account, origin=origin_of(request))


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


def authenticated(
    permission: str | None = None,
    *,
    unit: bool = True,
    allow_must_change: bool = False,
    allow_sms_check: bool = False,
) -> Callable[[Handler], Handler]:
    """Route decorator. Passes ``caller`` (and ``actor`` when ``unit`` is True) to the handler.

    First-login order for an operator an admin created: the SMS check to the bound phone (only
    routes marked ``allow_sms_check`` work before it), then the password change (only routes
    marked ``allow_must_change``), then everything else.
    """

    def decorator(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
            caller = await resolve_caller(request)
            if caller.account.needs_sms_check and not allow_sms_check:
                raise Forbidden("sms_check_required", messages.SMS_CHECK_REQUIRED)
            if caller.account.must_change_password and not allow_must_change:
                raise Forbidden("password_change_required", messages.PASSWORD_CHANGE_REQUIRED)
            if not unit:
                return await handler(request, *args, caller=caller, **kwargs)
            actor = await resolve_actor(caller)
            if permission is not None and not allows(actor.role, permission):
                raise Forbidden()
            return await handler(request, *args, actor=actor, **kwargs)

        return openapi.secured("session")(wrapper)

    return decorator
