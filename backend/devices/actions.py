"""Device enrolment and revocation (C2): one function per change, audited in its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sanic import Request
from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from backend.core import audit, db, runtime, throttle, tickets
from backend.core.actor import SYSTEM_ORIGIN, Actor, Origin
from backend.core.errors import AppError, Conflict, Forbidden, NotFound, TooManyRequests
from backend.core.roles import allows
from backend.core.scope import path_prefix
from backend.devices import messages as msg
from backend.devices.models import Device, DeviceStatus
from backend.devices.signing import usable_public_key, verify_request
from backend.units.models import Unit
from backend.units.queries import get_unit
from card_service import protocol

ENROLMENT_TTL_SECONDS = 600
ENROLMENT_PURPOSE = "device-enrolment"
ENROLMENTS_PER_ADDRESS = 20  # per hour: a PC needs one, a busy office a few


@dataclass(frozen=True)
class Enrolment:
    token: str
    fingerprint: str
    expires_at: datetime


@dataclass(frozen=True)
class EnrolmentRequest:
    public_key: str
    hostname: str
    fingerprint: str
    expires_at: datetime


def _public_key_bytes(text: str) -> bytes:
    try:
        raw = protocol.b64url_decode(text)
    except ValueError:
        raw = b""
    if not usable_public_key(raw):
        raise AppError("invalid_input", msg.BAD_PUBLIC_KEY, status=422, fields={"public_key": msg.BAD_PUBLIC_KEY})
    return raw


async def start_enrolment(request: Request, *, public_key: str, hostname: str, origin: Origin) -> Enrolment:
    """A new PC asks to be enrolled; the request is signed with the key it wants enrolled."""
    raw = _public_key_bytes(public_key)
    device_id = await verify_request(request, raw)
    if not await throttle.hit("device-enrol", origin.ip or "-", limit=ENROLMENTS_PER_ADDRESS, window_seconds=3600):
        raise TooManyRequests("enrolment_throttled", msg.ENROLMENT_THROTTLED)
    if await Device.filter(device_id=device_id).exists():
        raise Conflict("device_already_enrolled", msg.ALREADY_ENROLLED)
    expires_at = runtime.get().clock.now() + timedelta(seconds=ENROLMENT_TTL_SECONDS)
    token = await tickets.issue(
        ENROLMENT_PURPOSE,
        {"public_key": public_key, "hostname": hostname, "expires_at": expires_at.isoformat()},
        ttl_seconds=ENROLMENT_TTL_SECONDS,
    )
    return Enrolment(token=token, fingerprint=protocol.fingerprint(raw), expires_at=expires_at)


async def _enrolment(token: str, *, take: bool) -> EnrolmentRequest:
    try:
        data = await (tickets.consume if take else tickets.peek)(token, ENROLMENT_PURPOSE)
    except AppError as exc:
        raise AppError("enrolment_invalid", msg.ENROLMENT_INVALID, status=410) from exc
    raw = protocol.b64url_decode(data["public_key"])
    return EnrolmentRequest(
        public_key=data["public_key"],
        hostname=data["hostname"],
        fingerprint=protocol.fingerprint(raw),
        expires_at=datetime.fromisoformat(data["expires_at"]),
    )


async def preview_enrolment(actor: Actor, token: str) -> EnrolmentRequest:
    """What an admin sees after scanning the enrolment QR, to compare with the PC's screen."""
    _require_manager(actor)
    return await _enrolment(token, take=False)


def _require_manager(actor: Actor) -> None:
    if not allows(actor.role, "devices.manage"):
        raise Forbidden()


async def approve_enrolment(actor: Actor, token: str, *, name: str, unit_id: int) -> Device:
    """Enrol the PC into a unit in the admin's scope; the enrolment QR cannot be used again."""
    _require_manager(actor)
    unit = await get_unit(actor, unit_id)
    return await _enrol(await _enrolment(token, take=True), unit=unit, name=name, actor=actor)


async def approve_by_operator(token: str, *, unit_id: int, name: str) -> Device:
    """The server operator's way to enrol a PC (``python -m backend devices approve``), audited as
    the system; for set-up and the demo, where no admin phone is at hand."""
    unit = await Unit.get_or_none(id=unit_id)
    if unit is None:
        raise NotFound()
    return await _enrol(await _enrolment(token, take=True), unit=unit, name=name, actor=None)


async def _enrol(pending: EnrolmentRequest, *, unit: Unit, name: str, actor: Actor | None) -> Device:
    raw = protocol.b64url_decode(pending.public_key)
    now = runtime.get().clock.now()
    try:
        async with db.atomic():
            device = await Device.create(
                device_id=protocol.device_id(raw),
                public_key=pending.public_key,
                name=name,
                hostname=pending.hostname,
                unit_id=unit.id,
                status=DeviceStatus.ACTIVE,
                enrolled_by_id=actor.account_id if actor else None,
                enrolled_at=now,
            )
            await audit.record(
                "device.enrol",
                actor=actor,
                origin=None if actor else SYSTEM_ORIGIN,
                scope_path=unit.path,
                target_type="device",
                target_id=device.id,
                detail={"unit_id": unit.id, "fingerprint": pending.fingerprint},
            )
    except IntegrityError as exc:  # nothing was written; asked after the rollback
        if not await Unit.exists(id=unit.id):
            raise NotFound() from exc  # the unit was deleted since it was chosen
        raise Conflict("device_already_enrolled", msg.ALREADY_ENROLLED) from exc
    return await Device.get(id=device.id).select_related("unit", "enrolled_by")


def in_scope(actor: Actor) -> QuerySet[Device]:
    return Device.filter(path_prefix("unit__path", actor.unit_path))


async def get_device(actor: Actor, device_pk: int) -> Device:
    _require_manager(actor)
    device = await in_scope(actor).get_or_none(id=device_pk).select_related("unit", "enrolled_by")
    if device is None:
        raise NotFound()
    return device


async def revoke(actor: Actor, device_pk: int) -> Device:
    """Revoke a PC: its signed requests are refused from now on; pairings in flight fail."""
    device = await get_device(actor, device_pk)
    if device.status == DeviceStatus.REVOKED:
        raise Conflict("device_revoked", msg.ALREADY_REVOKED)
    now = runtime.get().clock.now()
    async with db.atomic():
        revoked = await Device.filter(id=device.id, status=DeviceStatus.ACTIVE).update(
            status=DeviceStatus.REVOKED, revoked_at=now
        )
        if not revoked:  # a parallel revocation won
            raise Conflict("device_revoked", msg.ALREADY_REVOKED)
        await audit.record(
            "device.revoke", actor=actor, scope_path=device.unit.path, target_type="device", target_id=device.id
        )
    return await get_device(actor, device_pk)


@dataclass(frozen=True)
class DevicePage:
    items: list[Device]
    total: int | None  # on the first page only
    next_cursor: int | None


async def list_devices(actor: Actor, *, unit_id: int | None, cursor: int | None, limit: int) -> DevicePage:
    _require_manager(actor)
    query = in_scope(actor)
    if unit_id is not None:
        await get_unit(actor, unit_id)
        query = query.filter(unit_id=unit_id)
    total = await query.count() if cursor is None else None
    if cursor is not None:
        query = query.filter(id__gt=cursor)
    items = await query.order_by("id").limit(limit + 1).select_related("unit", "enrolled_by")
    next_cursor = items[limit - 1].id if len(items) > limit else None
    return DevicePage(items=items[:limit], total=total, next_cursor=next_cursor)
