"""Own profile, bound phone change and the first-login SMS check (P11, P4)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic_ext.extensions.openapi import openapi

from backend.accounts.models import Account
from backend.auth.guard import Caller, authenticated
from backend.cards.models import CardBinding
from backend.cards.serializers import card_out
from backend.core import identifiers, runtime
from backend.core.http import no_content, ok
from backend.core.validation import body
from backend.profile import actions
from backend.profile.schemas import (
    CaptchaBody,
    CodeBody,
    PhoneChangeConfirm,
    PhoneChangeStart,
    PhoneLoginSwitch,
    ProfileOut,
    ProfileUpdate,
    SentOut,
)

bp = Blueprint("profile", url_prefix="/api")


async def profile_out(account: Account) -> ProfileOut:
    vault = runtime.get().vault
    binding = await CardBinding.get_or_none(account_id=account.id)
    id_number = vault.decrypt("account.id_number", account.id_number_enc) if account.id_number_enc else None
    phone = actions.phone_of(account)
    return ProfileOut(
        username=account.username,
        name=account.name,
        id_type=account.id_type,
        id_number=identifiers.mask_id_number(id_number) if id_number else None,
        id_valid_until=account.id_valid_until,
        phone=identifiers.mask_phone(phone) if phone else None,
        email=account.email,
        realname_level=account.realname_level,
        phone_login=account.login_phone_index is not None,
        needs_activation=account.needs_activation,
        card=card_out(binding) if binding else None,
    )


@bp.post("/session/first-login/send-code")
@openapi.response(200, {"application/json": SentOut})
@authenticated(unit=False, allow_must_change=True, allow_sms_check=True)
@body(CaptchaBody)
async def first_login_send_code(request: Request, caller: Caller, data: CaptchaBody):
    """First login of an operator an admin created: a code to the bound phone."""
    phone, sent = await actions.first_login_send_code(
        caller.account, captcha_id=data.captcha_id, captcha_answer=data.captcha_answer, origin=caller.origin
    )
    return ok(SentOut(phone=phone, resend_after=sent.resend_after, expires_in=sent.expires_in))


@bp.post("/session/first-login/verify")
@authenticated(unit=False, allow_must_change=True, allow_sms_check=True)
@body(CodeBody)
async def first_login_verify(request: Request, caller: Caller, data: CodeBody):
    """The code from the bound phone; next comes the forced password change."""
    await actions.first_login_verify(caller.account, code=data.code, origin=caller.origin)
    return no_content()


@bp.get("/profile")
@openapi.response(200, {"application/json": ProfileOut})
@authenticated(unit=False)
async def get_profile(request: Request, caller: Caller):
    return ok(await profile_out(caller.account))


@bp.patch("/profile")
@openapi.response(200, {"application/json": ProfileOut})
@authenticated(unit=False)
@body(ProfileUpdate)
async def update_profile(request: Request, caller: Caller, data: ProfileUpdate):
    """Name, ID type, number and validity (00000000 = long-term), e-mail."""
    account = await actions.update_profile(
        caller.account, data.model_dump(exclude_unset=True), origin=caller.origin, session_id=caller.session.public_id
    )
    return ok(await profile_out(account))


@bp.put("/profile/phone-login")
@openapi.response(200, {"application/json": ProfileOut})
@authenticated(unit=False)
@body(PhoneLoginSwitch)
async def set_phone_login(request: Request, caller: Caller, data: PhoneLoginSwitch):
    """P16: log in by the bound phone (with the password) or not; one phone logs in to one account."""
    account = await actions.set_phone_login(caller.account, enabled=data.enabled, origin=caller.origin)
    return ok(await profile_out(account))


@bp.post("/profile/phone/send-code")
@openapi.response(200, {"application/json": SentOut})
@authenticated(unit=False)
@body(PhoneChangeStart)
async def phone_change_start(request: Request, caller: Caller, data: PhoneChangeStart):
    """Re-enter the password; a code goes to the new phone."""
    ticket, sent = await actions.phone_change_start(
        caller.account,
        password=data.password,
        new_phone=data.new_phone,
        captcha_id=data.captcha_id,
        captcha_answer=data.captcha_answer,
        origin=caller.origin,
    )
    return ok(
        SentOut(
            phone=identifiers.mask_phone(data.new_phone),
            resend_after=sent.resend_after,
            expires_in=sent.expires_in,
            ticket=ticket,
        )
    )


@bp.post("/profile/phone/confirm")
@openapi.response(200, {"application/json": ProfileOut})
@authenticated(unit=False)
@body(PhoneChangeConfirm)
async def phone_change_confirm(request: Request, caller: Caller, data: PhoneChangeConfirm):
    account = await actions.phone_change_confirm(
        caller.account, ticket=data.ticket, code=data.code, origin=caller.origin
    )
    return ok(await profile_out(account))
