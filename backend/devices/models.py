from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class DeviceStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class Device(Model):
    # An office PC running the card service, enrolled by an admin into one unit (C2). It is known
    # by its Ed25519 public key; ``device_id`` is derived from the key (docs/card-protocol.md).
    id = fields.IntField(primary_key=True)
    device_id = fields.CharField(max_length=43, unique=True)
    public_key = fields.CharField(max_length=64)  # base64url of the raw 32-byte key
    name = fields.CharField(max_length=50)
    hostname = fields.CharField(max_length=64, default="", db_default="")
    unit: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "cunwu.Unit", related_name="devices", on_delete=fields.RESTRICT
    )
    status = fields.CharEnumField(DeviceStatus, max_length=8, default=DeviceStatus.ACTIVE)
    enrolled_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "cunwu.Account", related_name="enrolled_devices", null=True, on_delete=fields.SET_NULL
    )
    enrolled_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    last_seen_at = fields.DatetimeField(null=True)

    class Meta:
        table = "device"
