"""WeChat login (W1): code2session, binding, one-tap login, unbinding, the phone-number button."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic_ext.extensions.openapi import openapi

from backend.auth.actions import LoginResult
from backend.auth.guard import Caller, authenticated, origin_of
from backend.auth.routes import session_out
from backend.core import identifiers
from backend.core.http import no_content, ok
from backend.core.validation import body
from backend.wechat import actions
from backend.wechat.schemas import (
    BindingOut,
    BindRequiredOut,
    PhoneCodeRequest,
    PhoneOut,
    SentOut,
    SmsLogin,
    SmsLoginSendCode,
    WechatLoginOut,
    WechatLoginRequest,
    WechatSessionOut,
)

bp = Blueprint("wechat", url_prefix="/api/wechat")


def _logged_in(result: LoginResult, *, bound_now: bool) -> dict:
    session = session_out(result.account, result.session, result.memberships)
    return WechatSessionOut(token=result.token, wechat_bound=bound_now, **session).model_dump(mode="json")


@bp.post("/login")
@openapi.response(200, {"application/json": WechatLoginOut})
@body(WechatLoginRequest)
async def login(request: Request, data: WechatLoginRequest):
    """wx.login code: a session when this WeChat is bound (``logged_in``, the same fields as a
    password login), otherwise ``bind_required`` with a ticket for one password or SMS login."""
    outcome = await actions.login(data.code, origin=origin_of(request))
    if outcome.session is not None:
        return ok(_logged_in(outcome.session, bound_now=False))
    assert outcome.bind_ticket is not None
    return ok(
        BindRequiredOut(bind_ticket=outcome.bind_ticket, expires_in=outcome.bind_expires_in, message=outcome.message)
    )


@bp.post("/sms-login/send-code")
@openapi.response(200, {"application/json": SentOut})
@body(SmsLoginSendCode)
async def sms_login_send_code(request: Request, data: SmsLoginSendCode):
    """A code to a phone with phone login on, to bind this WeChat (needs the bind ticket and a captcha)."""
    sent = await actions.sms_login_send_code(
        data.phone,
        bind_ticket=data.wechat_bind_ticket,
        captcha_id=data.captcha_id,
        captcha_answer=data.captcha_answer,
        origin=origin_of(request),
    )
    return ok(
        SentOut(phone=identifiers.mask_phone(data.phone), resend_after=sent.resend_after, expires_in=sent.expires_in)
    )


@bp.post("/sms-login")
@openapi.response(200, {"application/json": WechatSessionOut})
@body(SmsLogin)
async def sms_login(request: Request, data: SmsLogin):
    """Phone + SMS code: binds this WeChat and logs in (the same session as a password login)."""
    result = await actions.sms_login(
        data.phone, data.code, bind_ticket=data.wechat_bind_ticket, origin=origin_of(request)
    )
    return ok(_logged_in(result, bound_now=True))


@bp.post("/phone")
@openapi.response(200, {"application/json": PhoneOut})
@body(PhoneCodeRequest)
async def phone(request: Request, data: PhoneCodeRequest):
    """The phone-number button: the WeChat user's own number, to prefill SMS forms (not stored)."""
    found = await actions.phone_for_prefill(data.code, origin=origin_of(request))
    return ok(PhoneOut(phone=found.phone, country_code=found.country_code))


@bp.get("/binding")
@openapi.response(200, {"application/json": BindingOut})
@authenticated(unit=False)
async def binding(request: Request, caller: Caller):
    """Whether the caller's account has a WeChat bound (for the profile)."""
    identity = await actions.binding_of(caller.account)
    return ok(BindingOut(bound=identity is not None, bound_at=identity.created_at if identity else None))


@bp.delete("/binding")
@authenticated(unit=False)
async def unbind(request: Request, caller: Caller):
    """Unbind the caller's WeChat (from the profile); the next wx.login asks to bind again."""
    await actions.unbind(caller.account, origin=caller.origin, caller_session=caller.session.key_hash)
    return no_content()
