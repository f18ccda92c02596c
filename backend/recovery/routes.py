"""Forgotten password, forgotten user name and unit account recovery (R2-R4). No login needed."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic_ext.extensions.openapi import openapi

from backend.auth.guard import origin_of
from backend.core import idempotency
from backend.core.http import no_content, ok
from backend.core.validation import body
from backend.recovery import actions
from backend.recovery.schemas import (
    FoundAccounts,
    PasswordReset,
    PasswordStart,
    PasswordVerify,
    ResetTicketOut,
    StepOut,
    TicketWithCaptcha,
    TicketWithCode,
    UnitIdentify,
    UnitRecovered,
    UnitStart,
    UsernameByPhoneStart,
    UsernameByUnitStart,
)

bp = Blueprint("recovery", url_prefix="/api/recovery")


def _idempotency_key(request: Request) -> str | None:
    """The client's key of a last step, resent unchanged after a lost answer (these anonymous steps
    are not keyed by backend.core.idempotency: the action answers the retry)."""
    return request.headers.get(idempotency.HEADER) or None


def _step(step: actions.Step) -> StepOut:
    return StepOut(
        ticket=step.ticket,
        phone=step.phone,
        resend_after=step.sent.resend_after if step.sent else None,
        expires_in=step.sent.expires_in if step.sent else None,
    )


@bp.post("/password/start")
@openapi.response(200, {"application/json": StepOut})
@body(PasswordStart)
async def password_start(request: Request, data: PasswordStart):
    """Step 1: user name + captcha; answers the masked bound phone."""
    return ok(
        _step(
            await actions.password_start(
                data.username,
                captcha_id=data.captcha_id,
                captcha_answer=data.captcha_answer,
                origin=origin_of(request),
            )
        )
    )


@bp.post("/password/send-code")
@openapi.response(200, {"application/json": StepOut})
@body(TicketWithCaptcha)
async def password_send_code(request: Request, data: TicketWithCaptcha):
    """Step 2: a code to the bound phone (captcha again; 60 s between sends)."""
    step = await actions.password_send_code(
        data.ticket, captcha_id=data.captcha_id, captcha_answer=data.captcha_answer, origin=origin_of(request)
    )
    return ok(_step(step))


@bp.post("/password/verify")
@openapi.response(200, {"application/json": ResetTicketOut})
@body(PasswordVerify)
async def password_verify(request: Request, data: PasswordVerify):
    """Step 3: the code + the ID number on file: a reset ticket valid 15 minutes. Sent again after a
    lost answer (the same ticket, code and ID number): the same reset ticket, with the time it has left."""
    reset = await actions.password_verify(
        data.ticket, code=data.code, id_number=data.id_number, origin=origin_of(request)
    )
    return ok(ResetTicketOut(reset_ticket=reset.ticket, expires_in=reset.expires_in))


@bp.post("/password/reset")
@body(PasswordReset)
async def password_reset(request: Request, data: PasswordReset):
    """Step 4: the new password; every session of the account ends. Resent after a lost answer with
    the same Idempotency-Key: the same answer; without it, 409 ``password_already_reset``."""
    await actions.password_reset(
        data.reset_ticket,
        new_password=data.new_password,
        origin=origin_of(request),
        idempotency_key=_idempotency_key(request),
    )
    return no_content()


@bp.post("/username/by-phone/send-code")
@openapi.response(200, {"application/json": StepOut})
@body(UsernameByPhoneStart)
async def username_by_phone_start(request: Request, data: UsernameByPhoneStart):
    step = await actions.username_by_phone_start(
        data.phone, captcha_id=data.captcha_id, captcha_answer=data.captcha_answer, origin=origin_of(request)
    )
    return ok(_step(step))


@bp.post("/username/by-phone/verify")
@openapi.response(200, {"application/json": FoundAccounts})
@body(TicketWithCode)
async def username_by_phone_verify(request: Request, data: TicketWithCode):
    """The accounts bound to the phone, with their units (names masked)."""
    found = await actions.username_by_phone_verify(data.ticket, code=data.code, origin=origin_of(request))
    return ok({"accounts": found})


@bp.post("/username/by-unit/send-code")
@openapi.response(200, {"application/json": StepOut})
@body(UsernameByUnitStart)
async def username_by_unit_start(request: Request, data: UsernameByUnitStart):
    """By unit (credit code or organisation code) + own identity + phone."""
    step = await actions.username_by_unit_start(
        credit_code=data.credit_code,
        org_code=data.org_code,
        name=data.name,
        id_number=data.id_number,
        phone=data.phone,
        captcha_id=data.captcha_id,
        captcha_answer=data.captcha_answer,
        origin=origin_of(request),
    )
    return ok(_step(step))


@bp.post("/username/by-unit/verify")
@openapi.response(200, {"application/json": FoundAccounts})
@body(TicketWithCode)
async def username_by_unit_verify(request: Request, data: TicketWithCode):
    found = await actions.username_by_unit_verify(data.ticket, code=data.code, origin=origin_of(request))
    return ok({"accounts": found})


@bp.post("/unit/start")
@openapi.response(200, {"application/json": StepOut})
@body(UnitStart)
async def unit_start(request: Request, data: UnitStart):
    """Unit account recovery, step 1: the unified social credit code."""
    return ok(
        _step(
            await actions.unit_start(
                data.credit_code,
                captcha_id=data.captcha_id,
                captcha_answer=data.captcha_answer,
                origin=origin_of(request),
            )
        )
    )


@bp.post("/unit/send-code")
@openapi.response(200, {"application/json": StepOut})
@body(UnitIdentify)
async def unit_identify(request: Request, data: UnitIdentify):
    """Step 2: the legal representative's or an agent's identity; a code goes to the new agent's phone."""
    step = await actions.unit_identify(
        data.ticket,
        identity=data.identity,
        name=data.name,
        id_number=data.id_number,
        new_agent_name=data.new_agent_name,
        new_agent_phone=data.new_agent_phone,
        captcha_id=data.captcha_id,
        captcha_answer=data.captcha_answer,
        origin=origin_of(request),
    )
    return ok(_step(step))


@bp.post("/unit/verify")
@openapi.response(200, {"application/json": UnitRecovered})
@body(TicketWithCode)
async def unit_verify(request: Request, data: TicketWithCode):
    """Step 3: the code; the unit's admin account passes to the new agent (password by SMS). Resent
    after a lost answer with the same Idempotency-Key: the same answer; without it, 409
    ``unit_already_recovered``."""
    username, unit_name = await actions.unit_verify(
        data.ticket, code=data.code, origin=origin_of(request), idempotency_key=_idempotency_key(request)
    )
    return ok(UnitRecovered(username=username, unit_name=unit_name))
