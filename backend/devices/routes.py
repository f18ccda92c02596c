"""Device endpoints (C2): enrolment by the PC and by an admin, the PC's own record, revocation."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic_ext.extensions.openapi import openapi

from backend.auth.guard import authenticated, origin_of
from backend.core.actor import Actor
from backend.core.http import ok
from backend.core.validation import body, query
from backend.devices import actions
from backend.devices.models import Device
from backend.devices.schemas import (
    DeviceListQuery,
    DeviceOut,
    DevicePage,
    EnrolmentApprove,
    EnrolmentOut,
    EnrolmentPreview,
    EnrolmentStart,
)
from backend.devices.serializers import device_out
from backend.devices.signing import device_signed
from card_service import protocol

bp = Blueprint("devices", url_prefix="/api/devices")


@bp.post("/enrolments")
@openapi.response(201, {"application/json": EnrolmentOut})
@body(EnrolmentStart)
async def start_enrolment(request: Request, data: EnrolmentStart):
    """A PC asks to be enrolled (signed with its new key); the answer is the QR an admin scans."""
    enrolment = await actions.start_enrolment(
        request, public_key=data.public_key, hostname=data.hostname, origin=origin_of(request)
    )
    out = EnrolmentOut(
        token=enrolment.token,
        qr=protocol.ENROL_QR_PREFIX + enrolment.token,
        fingerprint=enrolment.fingerprint,
        expires_at=enrolment.expires_at,
        expires_in=actions.ENROLMENT_TTL_SECONDS,
    )
    return ok(out, status=201)


@bp.get("/enrolments/<token:str>")
@openapi.response(200, {"application/json": EnrolmentPreview})
@authenticated("devices.manage")
async def preview_enrolment(request: Request, actor: Actor, token: str):
    """After scanning: the PC's name and key fingerprint, to compare with its screen."""
    pending = await actions.preview_enrolment(actor, token)
    return ok(
        EnrolmentPreview(hostname=pending.hostname, fingerprint=pending.fingerprint, expires_at=pending.expires_at)
    )


@bp.post("/enrolments/<token:str>/approve")
@openapi.response(201, {"application/json": DeviceOut})
@authenticated("devices.manage")
@body(EnrolmentApprove)
async def approve_enrolment(request: Request, actor: Actor, token: str, data: EnrolmentApprove):
    """Enrol the PC into a unit in scope, under a name people recognise."""
    device = await actions.approve_enrolment(actor, token, name=data.name, unit_id=data.unit_id)
    return ok(device_out(device), status=201)


@bp.get("/self")
@openapi.response(200, {"application/json": DeviceOut})
@device_signed
async def own_record(request: Request, device: Device):
    """The calling PC's enrolment (401 ``device_unknown`` while it is still waiting for an admin)."""
    await device.fetch_related("enrolled_by")
    return ok(device_out(device))


@bp.get("")
@openapi.response(200, {"application/json": DevicePage})
@authenticated("devices.manage")
@query(DeviceListQuery)
async def list_devices(request: Request, actor: Actor, params: DeviceListQuery):
    """Enrolled PCs in scope (optionally of one unit), paged by id."""
    page = await actions.list_devices(actor, unit_id=params.unit_id, cursor=params.cursor, limit=params.limit)
    return ok(DevicePage(items=[device_out(d) for d in page.items], total=page.total, next_cursor=page.next_cursor))


@bp.get("/<device_pk:id>")
@openapi.response(200, {"application/json": DeviceOut})
@authenticated("devices.manage")
async def get_device(request: Request, actor: Actor, device_pk: int):
    return ok(device_out(await actions.get_device(actor, device_pk)))


@bp.post("/<device_pk:id>/revoke")
@openapi.response(200, {"application/json": DeviceOut})
@authenticated("devices.manage")
async def revoke_device(request: Request, actor: Actor, device_pk: int):
    """Revoke a PC: every signed request from it is refused from now on."""
    return ok(device_out(await actions.revoke(actor, device_pk)))
