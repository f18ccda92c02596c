from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from backend.core.roles import FinanceAccess, Role


class Account(Model):
    # A login of one person. Phone and ID number are stored encrypted with a keyed index.

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=32)
    username_key = fields.CharField(max_length=32, unique=True)  # lower-case; never freed, never reused
    name = fields.CharField(max_length=50)
    phone_enc = fields.TextField(null=True)
    phone_index = fields.CharField(max_length=64, null=True, db_index=True)
    # Set only while "log in by phone" is on for this account: one phone, one such account.
    login_phone_index = fields.CharField(max_length=64, null=True, unique=True)
    id_number_enc = fields.TextField(null=True)
    id_number_index = fields.CharField(max_length=64, null=True, db_index=True)
    password_hash = fields.CharField(max_length=160, null=True)
    must_change_password = fields.BooleanField(default=True)
    is_active = fields.BooleanField(default=True)
    deactivated_at = fields.DatetimeField(null=True)
    failed_logins = fields.SmallIntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    password_changed_at = fields.DatetimeField(null=True)
    # Sessions started before this instant are void (password change, reset, deactivation), even
    # if removing them from Redis failed.
    sessions_revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    memberships: fields.ReverseRelation[Membership]

    class Meta:
        table = "account"


class Membership(Model):
    # An account's role in one unit; an account may hold several and picks one per session.

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "cunwu.Account", related_name="memberships", on_delete=fields.CASCADE
    )
    unit: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "cunwu.Unit", related_name="memberships", on_delete=fields.RESTRICT
    )
    role = fields.CharEnumField(Role, max_length=16)
    finance_access = fields.CharEnumField(FinanceAccess, max_length=16, default=FinanceAccess.NONE)
    created_at = fields.DatetimeField()

    class Meta:
        table = "membership"
        unique_together = (("account", "unit"),)
