from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from backend.core.names import PinyinNamed
from backend.core.roles import FinanceAccess, Role


class IdType(StrEnum):
    RESIDENT_ID = "resident_id"
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    FOREIGN_PERMANENT = "foreign_permanent"


class RealnameLevel(StrEnum):
    NONE = "none"
    MEDIUM = "medium"  # ID details checked
    HIGH = "high"  # by card


LONG_TERM = "00000000"  # ID validity "long-term"


class Account(PinyinNamed, Model):
    # A login of one person. Phone and ID number are stored encrypted with a keyed index.

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=32)
    username_key = fields.CharField(max_length=32, unique=True)  # lower-case; never freed, never reused
    name = fields.CharField(max_length=50)
    name_pinyin = fields.CharField(max_length=200, default="", db_default="", db_index=True)
    name_initials = fields.CharField(max_length=50, default="", db_default="", db_index=True)
    phone_enc = fields.TextField(null=True)
    phone_index = fields.CharField(max_length=64, null=True, db_index=True)
    # Set only while "log in by phone" is on for this account: one phone, one such account.
    login_phone_index = fields.CharField(max_length=64, null=True, unique=True)
    id_number_enc = fields.TextField(null=True)
    id_number_index = fields.CharField(max_length=64, null=True, db_index=True)
    id_type = fields.CharEnumField(
        IdType, max_length=24, default=IdType.RESIDENT_ID, db_default=IdType.RESIDENT_ID.value
    )
    id_valid_until = fields.CharField(max_length=8, null=True)  # YYYYMMDD, or 00000000 for long-term
    email = fields.CharField(max_length=100, null=True)
    realname_level = fields.CharEnumField(
        RealnameLevel, max_length=8, default=RealnameLevel.NONE, db_default=RealnameLevel.NONE.value
    )
    # An operator created by an admin proves the bound phone by SMS at first login (P4).
    needs_sms_check = fields.BooleanField(default=False, db_default=False)
    # Created by a card login (C5): no password yet, so no password login until activated.
    needs_activation = fields.BooleanField(default=False, db_default=False)
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
    # Set by every successful login (backend.auth.actions.start_session), in the transaction that
    # audits it: "谁还没登录过" reads it instead of walking every account's audit entries.
    last_login_at = fields.DatetimeField(null=True)
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
