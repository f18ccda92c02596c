"""Login, captcha, the current session, unit choice, password change, own sessions."""

from __future__ import annotations

from dataclasses import replace

from sanic import Blueprint, Request
from sanic_ext.extensions.openapi import openapi

from backend.accounts.models import Account, Membership
from backend.accounts.serializers import membership_out
from backend.auth import actions
from backend.auth.guard import Caller, authenticated, origin_of
from backend.auth.schemas import (
    CaptchaOut,
    ChangePasswordRequest,
    ChooseUnitRequest,
    LoginOut,
    LoginRequest,
    SessionItem,
    SessionOut,
    TokenOut,
)
from backend.core import captcha, runtime, sessions, throttle
from backend.core.errors import TooManyRequests
from backend.core.http import no_content, ok
from backend.core.validation import body
from backend.wechat import actions as wechat_actions

bp = Blueprint("auth", url_prefix="/api")


def session_out(account: Account, record: sessions.SessionRecord, memberships: list[Membership]) -> dict:
    settings = runtime.get().settings
    current = next((m for m in memberships if m.id == record.membership_id), None)
    return SessionOut(
        account_id=account.id,
        username=account.username,
        name=account.name,
        must_change_password=account.must_change_password,
        sms_check_required=account.needs_sms_check,
        unit=membership_out(current) if current else None,
        units=[membership_out(m) for m in memberships],
        expires_in=settings.session_idle_seconds,
    ).model_dump(mode="json")


@bp.get("/auth/captcha")
@openapi.response(200, {"application/json": CaptchaOut})
async def get_captcha(request: Request):
    """A new picture captcha (2 minutes, single use)."""
    if not await throttle.hit(
        "captcha-ip", origin_of(request).ip or "-", limit=runtime.get().settings.captcha_ip_limit, window_seconds=60
    ):
        raise TooManyRequests()
    issued = await captcha.issue()
    return ok(CaptchaOut(captcha_id=issued.captcha_id, image=issued.data_url(), expires_in=issued.expires_in))


@bp.post("/auth/login")
@openapi.response(200, {"application/json": LoginOut})
@body(LoginRequest)
async def login(request: Request, data: LoginRequest):
    """Log in by user name (or phone, where phone login is on) + password + captcha.

    With ``wechat_bind_ticket`` (from ``POST /api/wechat/login``) the WeChat identity is bound too
    (``wechat_bound``); once WeChat login is switched off, the ticket is ignored.
    """
    origin = origin_of(request)
    ticket = data.wechat_bind_ticket
    bind = await wechat_actions.binder(ticket, origin=origin) if ticket else None
    result = await actions.login(
        data.login,
        data.password,
        captcha_id=data.captcha_id,
        captcha_answer=data.captcha_answer,
        origin=origin,
        before_session=bind,
    )
    session = session_out(result.account, result.session, result.memberships)
    return ok({"token": result.token, **session, "wechat_bound": bind is not None})


@bp.post("/auth/logout")
@authenticated(unit=False, allow_must_change=True, allow_sms_check=True)
async def logout(request: Request, caller: Caller):
    """End this session, for good (recorded and audited before Redis drops it: backend.auth.actions.logout)."""
    await actions.logout(caller.session, origin=caller.origin)
    return no_content()


@bp.get("/session")
@openapi.response(200, {"application/json": SessionOut})
@authenticated(unit=False, allow_must_change=True, allow_sms_check=True)
async def current_session(request: Request, caller: Caller):
    """Who is logged in, which units they may choose, and whether the password must change first."""
    memberships = await Membership.filter(account_id=caller.account.id).select_related("unit").order_by("id")
    return ok(session_out(caller.account, caller.session, memberships))


@bp.post("/session/unit")
@openapi.response(200, {"application/json": SessionOut})
@authenticated(unit=False)
@body(ChooseUnitRequest)
async def choose_unit(request: Request, caller: Caller, data: ChooseUnitRequest):
    """Choose the unit this session works for; it alone decides what the session can see."""
    chosen = await actions.choose_unit(caller.session, caller.account, data.membership_id, origin=caller.origin)
    memberships = await Membership.filter(account_id=caller.account.id).select_related("unit").order_by("id")
    return ok(session_out(caller.account, replace(caller.session, membership_id=chosen.id), memberships))


@bp.post("/session/refresh")
@openapi.response(200, {"application/json": TokenOut})
@authenticated(unit=False, allow_must_change=True)
async def refresh(request: Request, caller: Caller):
    """A new token for the same session; the old one stops working."""
    token, _ = await actions.refresh(caller.session, caller.origin)
    return ok(TokenOut(token=token))


@bp.get("/sessions")
@openapi.response(200, {"application/json": list[SessionItem]})
@authenticated(unit=False)
async def own_sessions(request: Request, caller: Caller):
    """The caller's own live sessions."""
    revoked = caller.account.sessions_revoked_at
    records = await sessions.list_for(caller.account.id, revoked_before=revoked.timestamp() if revoked else None)
    return ok(
        [
            SessionItem(
                id=r.public_id,
                current=r.key_hash == caller.session.key_hash,
                ip=r.ip,
                user_agent=r.user_agent,
                started_at=r.created_at,
                last_seen=r.last_seen,
            ).model_dump(mode="json")
            for r in records
        ]
    )


@bp.delete("/sessions/<session_id:str>")
@authenticated(unit=False)
async def end_own_session(request: Request, caller: Caller, session_id: str):
    """End one of the caller's own sessions (e.g. a lost phone)."""
    await actions.end_own_session(caller.account, session_id, origin=caller.origin)
    return no_content()


@bp.post("/account/password")
@openapi.response(200, {"application/json": TokenOut})
@authenticated(unit=False, allow_must_change=True)
@body(ChangePasswordRequest)
async def change_password(request: Request, caller: Caller, data: ChangePasswordRequest):
    """Change one's own password (also the forced first change). All sessions end; a new token is returned."""
    token, _ = await actions.change_password(
        caller.session,
        caller.account,
        old_password=data.old_password,
        new_password=data.new_password,
        origin=caller.origin,
    )
    return ok(TokenOut(token=token))
