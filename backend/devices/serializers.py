from __future__ import annotations

from backend.devices.models import Device, DeviceStatus
from backend.devices.schemas import AccountRef, DeviceOut, UnitRef
from card_service import protocol

STATUS_LABELS = {DeviceStatus.ACTIVE: "已登记", DeviceStatus.REVOKED: "已撤销"}


def device_out(device: Device) -> DeviceOut:
    enrolled_by = device.enrolled_by
    return DeviceOut(
        id=device.id,
        device_id=device.device_id,
        name=device.name,
        hostname=device.hostname,
        unit=UnitRef(id=device.unit.id, name=device.unit.name),
        status=device.status,
        status_label=STATUS_LABELS[DeviceStatus(device.status)],
        fingerprint=protocol.fingerprint(protocol.b64url_decode(device.public_key)),
        enrolled_at=device.enrolled_at,
        enrolled_by=AccountRef(id=enrolled_by.id, name=enrolled_by.name) if enrolled_by else None,
        revoked_at=device.revoked_at,
        last_seen_at=device.last_seen_at,
    )
