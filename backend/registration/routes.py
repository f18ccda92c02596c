"""Unit self-registration without a card (P12) and its approval (thin: parse, call, serialise).

The first three routes need no login; the rest are for admins of the requested superior or above.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic_ext.extensions.openapi import openapi

from backend.auth.guard import authenticated, origin_of
from backend.core import throttle
from backend.core.actor import Actor
from backend.core.errors import TooManyRequests
from backend.core.http import ok
from backend.core.validation import body, query
from backend.registration import actions, queries
from backend.registration.schemas import (
    ApproveRequest,
    RegistrationListQuery,
    RegistrationOut,
    RegistrationPage,
    RegistrationSubmit,
    RejectRequest,
    SendCodeOut,
    SendCodeRequest,
    SubmittedOut,
    SuperiorOut,
    SuperiorQuery,
)
from backend.registration.serializers import registration_out, registration_row

bp = Blueprint("registration", url_prefix="/api/registration")

SEARCH_IP_LIMIT_PER_MINUTE = 30


@bp.get("/superiors")
@openapi.response(200, {"application/json": list[SuperiorOut]})
@query(SuperiorQuery)
async def search_superiors(request: Request, params: SuperiorQuery):
    """Public: province, city, county and township units by name (ids and names only), at most 20."""
    if not await throttle.hit(
        "registration-search", origin_of(request).ip or "-", limit=SEARCH_IP_LIMIT_PER_MINUTE, window_seconds=60
    ):
        raise TooManyRequests()
    units = await queries.search_superiors(params.q)
    return ok([SuperiorOut(id=u.id, name=u.name).model_dump() for u in units])


@bp.post("/send-code")
@openapi.response(200, {"application/json": SendCodeOut})
@body(SendCodeRequest)
async def send_code(request: Request, data: SendCodeRequest):
    """Public step 1: captcha, then an SMS code to the future admin's phone, and the ticket for step 2."""
    result = await actions.send_code(
        data.phone, captcha_id=data.captcha_id, captcha_answer=data.captcha_answer, origin=origin_of(request)
    )
    return ok(
        SendCodeOut(
            ticket=result.ticket,
            ticket_expires_in=result.ticket_expires_in,
            resend_after=result.sent.resend_after,
            expires_in=result.sent.expires_in,
        )
    )


@bp.post("")
@openapi.response(201, {"application/json": SubmittedOut})
@body(RegistrationSubmit)
async def submit(request: Request, data: RegistrationSubmit):
    """Public step 2: unit details, the superior to join and the admin account; waits for the superior's review."""
    result = await actions.submit(data, origin=origin_of(request))
    return ok(
        SubmittedOut(
            status=result.registration.status,
            unit_name=result.registration.unit_name,
            superior_name=result.superior.name,
        ),
        status=201,
    )


@bp.get("/pending")
@openapi.response(200, {"application/json": RegistrationPage})
@authenticated("units.manage")
@query(RegistrationListQuery)
async def list_pending(request: Request, actor: Actor, params: RegistrationListQuery):
    """Pending registrations asking to join a unit in the caller's scope, oldest first."""
    page = await queries.list_pending(actor, cursor=params.cursor, limit=params.limit)
    return ok(
        RegistrationPage(
            items=[registration_row(r) for r in page.items], total=page.total, next_cursor=page.next_cursor
        )
    )


@bp.get("/<registration_id:id>")
@openapi.response(200, {"application/json": RegistrationOut})
@authenticated("units.manage")
async def get_registration(request: Request, actor: Actor, registration_id: int):
    """One registration in scope, personal data masked."""
    return ok(registration_out(await queries.get_registration(actor, registration_id)))


@bp.post("/<registration_id:id>/approve")
@openapi.response(200, {"application/json": RegistrationOut})
@authenticated("units.manage")
@body(ApproveRequest)
async def approve(request: Request, actor: Actor, registration_id: int, data: ApproveRequest):
    """Create the unit (under ``parent_id`` or the requested superior), its admin account and membership."""
    return ok(registration_out(await actions.approve(actor, registration_id, parent_id=data.parent_id)))


@bp.post("/<registration_id:id>/reject")
@openapi.response(200, {"application/json": RegistrationOut})
@authenticated("units.manage")
@body(RejectRequest)
async def reject(request: Request, actor: Actor, registration_id: int, data: RejectRequest):
    """Refuse with a reason; the registrant receives it by SMS."""
    return ok(registration_out(await actions.reject(actor, registration_id, reason=data.reason)))
