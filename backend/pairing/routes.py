"""Pairing endpoints (C3-C4): the PC's side (signed device requests) and the phone's side."""

from __future__ import annotations

import base64
import binascii

from sanic import Blueprint, Request
from sanic_ext.extensions.openapi import openapi

from backend.auth.guard import origin_of, session_actor
from backend.auth.routes import session_out
from backend.core.actor import Actor
from backend.core.errors import Unauthorized, ValidationFailed
from backend.core.http import ok
from backend.core.validation import body, query
from backend.devices.models import Device
from backend.devices.signing import device_signed
from backend.pairing import actions
from backend.pairing.schemas import CardAnswer, EventsQuery, PairingCreate, PhoneKeyBody, ScanRequest
from card_service import protocol

bp = Blueprint("pairing", url_prefix="/api/pairings")

BAD_BASE64 = "内容不是有效的 base64 编码"


@bp.post("")
@device_signed
@body(PairingCreate)
async def create_pairing(request: Request, device: Device, data: PairingCreate):
    """The PC starts a pairing for one action; it shows the QR and the user code."""
    record, token = await actions.create(device, action=data.action)
    out = actions.view(record) | {"qr": protocol.PAIR_QR_PREFIX + token, "expires_in": actions.PAIRING_TTL_SECONDS}
    return ok(out, status=201)


@bp.get("/<pairing_id:str>/events")
@device_signed
@query(EventsQuery)
async def device_events(request: Request, device: Device, pairing_id: str, params: EventsQuery):
    """Long-poll: the pairing once its version passes ``since`` (or after ``wait`` seconds)."""
    record = await actions.events_for_device(device, pairing_id, since=params.since, wait=params.wait)
    return ok(actions.view(record))


@bp.post("/<pairing_id:str>/challenge")
@device_signed
async def challenge(request: Request, device: Device, pairing_id: str):
    """A nonce for the card (32 bytes, 5 minutes, single use) and the context it must sign."""
    return ok(await actions.challenge(device, pairing_id))


@bp.post("/<pairing_id:str>/device-cancel")
@device_signed
async def device_cancel(request: Request, device: Device, pairing_id: str):
    """The PC dropped the pairing: it ends as cancelled for the phone too; one already ended is
    answered unchanged."""
    return ok(actions.view(await actions.cancel_by_device(device, pairing_id)))


def _der(field: str, value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed({field: BAD_BASE64}) from None


@bp.post("/<pairing_id:str>/card")
@device_signed
@body(CardAnswer)
async def submit_card(request: Request, device: Device, pairing_id: str, data: CardAnswer):
    """The card's certificate and signature; the server verifies them and performs the action."""
    record = await actions.submit_card(
        device,
        pairing_id,
        nonce=data.nonce,
        certificate=_der("certificate", data.certificate),
        chain=[_der("chain", each) for each in data.chain],
        signature=_der("signature", data.signature),
        origin=origin_of(request),
    )
    return ok(actions.view(record))


async def _optional_actor(request: Request) -> Actor | None:
    """The phone's actor when it sends a live session (it must then pass the guard's other checks),
    else None: a phone may keep a token that has expired, which must not stop a card login (the
    actions that need a session refuse None)."""
    if not request.headers.get("authorization"):
        return None
    try:
        return await session_actor(request)
    except Unauthorized:
        return None


@bp.post("/scan")
@openapi.secured("session")  # optional for login
@body(ScanRequest)
async def scan(request: Request, data: ScanRequest):
    """The phone scanned a pairing QR; the session is needed for binding and real-name, not for login."""
    record, phone_key = await actions.scan(data.token, actor=await _optional_actor(request))
    return ok(actions.view(record) | {"phone_key": phone_key})


@bp.post("/<pairing_id:str>/confirm")
@body(PhoneKeyBody)
async def confirm(request: Request, pairing_id: str, data: PhoneKeyBody):
    return ok(actions.view(await actions.confirm(pairing_id, data.phone_key)))


@bp.post("/<pairing_id:str>/cancel")
@body(PhoneKeyBody)
async def cancel(request: Request, pairing_id: str, data: PhoneKeyBody):
    return ok(actions.view(await actions.cancel(pairing_id, data.phone_key)))


@bp.get("/<pairing_id:str>/phone-events")
@query(EventsQuery)
async def phone_events(request: Request, pairing_id: str, params: EventsQuery):
    """Long-poll for the phone; its key goes in the ``X-Pairing-Key`` header."""
    phone_key = request.headers.get(protocol.HEADER_PAIRING_KEY, "")
    record = await actions.events_for_phone(pairing_id, phone_key, since=params.since, wait=params.wait)
    return ok(actions.view(record))


@bp.post("/<pairing_id:str>/claim")
@body(PhoneKeyBody)
async def claim(request: Request, pairing_id: str, data: PhoneKeyBody):
    """After a card login: the phone's session (once), answered like a password login."""
    result = await actions.claim(pairing_id, data.phone_key, origin=origin_of(request))
    return ok({"token": result.token, **session_out(result.account, result.session, result.memberships)})
