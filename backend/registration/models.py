from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from backend.units.models import UnitType


class RegistrationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class UnitRegistration(Model):
    # A unit registering itself without a card (P12): unit details and its first admin, waiting
    # for an admin of ``parent`` (or above) to place it in the tree and approve it.
    id = fields.IntField(primary_key=True)
    status = fields.CharEnumField(RegistrationStatus, max_length=16, default=RegistrationStatus.PENDING, db_index=True)
    # Empty once the unit is deleted: only a decided registration lets it go (backend.units.actions).
    parent: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "cunwu.Unit", related_name="registrations", null=True, on_delete=fields.SET_NULL
    )
    unit_name = fields.CharField(max_length=100)
    unit_type = fields.CharEnumField(UnitType, max_length=16)
    credit_code = fields.CharField(max_length=18, db_index=True)
    org_code = fields.CharField(max_length=9)
    region_code = fields.CharField(max_length=12, null=True)
    legal_rep_name = fields.CharField(max_length=50)
    legal_rep_id_enc = fields.TextField()
    legal_rep_id_index = fields.CharField(max_length=64)
    admin_username = fields.CharField(max_length=32)
    admin_name = fields.CharField(max_length=50)
    admin_phone_enc = fields.TextField()
    admin_phone_index = fields.CharField(max_length=64)
    admin_id_number_enc = fields.TextField(null=True)
    admin_id_number_index = fields.CharField(max_length=64, null=True)
    admin_password_hash = fields.CharField(max_length=160)
    created_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)
    decided_by_id = fields.IntField(null=True)
    decision_reason = fields.CharField(max_length=200, null=True)
    created_unit_id = fields.IntField(null=True)

    class Meta:
        table = "unit_registration"
