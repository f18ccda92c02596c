from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from backend.core.names import PinyinNamed


class UnitType(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"
    COOP = "coop"
    SCHOOL = "school"
    EMPLOYER = "employer"
    WORK_TEAM = "work_team"
    OTHER = "other"


REGION_TYPES = (UnitType.PROVINCE, UnitType.CITY, UnitType.COUNTY, UnitType.TOWNSHIP, UnitType.VILLAGE)


class Unit(PinyinNamed, Model):
    # A node of the unit tree. ``path`` is ``/<root id>/.../<own id>/``; a prefix match is a subtree.

    id = fields.IntField(primary_key=True)
    parent: fields.ForeignKeyNullableRelation[Unit] = fields.ForeignKeyField(
        "cunwu.Unit", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=100)
    # Lower-case toneless pinyin of the name, whole and initials, for forgiving lookups (W3).
    name_pinyin = fields.CharField(max_length=400, default="", db_default="", db_index=True)
    name_initials = fields.CharField(max_length=100, default="", db_default="", db_index=True)
    type = fields.CharEnumField(UnitType, max_length=16)
    region_code = fields.CharField(max_length=12, null=True, db_index=True)
    unit_code = fields.CharField(max_length=32, null=True, unique=True)
    credit_code = fields.CharField(max_length=18, null=True, unique=True)
    org_code = fields.CharField(max_length=9, null=True, db_index=True)
    legal_rep_name = fields.CharField(max_length=50, null=True)
    legal_rep_id_enc = fields.TextField(null=True)
    legal_rep_id_index = fields.CharField(max_length=64, null=True)
    path = fields.CharField(max_length=255, db_index=True)
    depth = fields.SmallIntField(default=0)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "unit"
