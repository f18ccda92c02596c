from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

CONTACT_NAME_LENGTH = 50


class CoopCard(Model):
    # The info card (一社一卡) of one grassroots co-op unit. Money figures are whole fen (0.01 yuan),
    # so sums stay exact on every database.
    id = fields.IntField(primary_key=True)
    unit: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "cunwu.Unit", related_name="coop_cards", on_delete=fields.RESTRICT, unique=True
    )
    members = fields.IntField(default=0)
    staff = fields.IntField(default=0)
    # NULL: not entered yet (a clerk without finance access wrote the card), not zero: it is left
    # out of averages and of the lists and rankings by that figure (migration 0018).
    registered_capital_fen = fields.BigIntField(null=True)
    assets_fen = fields.BigIntField(null=True)
    revenue_fen = fields.BigIntField(null=True)
    profit_fen = fields.BigIntField(null=True)  # may be negative
    business_scope = fields.CharField(max_length=500, default="")
    contact_name = fields.CharField(max_length=CONTACT_NAME_LENGTH, null=True)
    contact_phone_enc = fields.TextField(null=True)
    contact_phone_index = fields.CharField(max_length=64, null=True)
    address = fields.CharField(max_length=200, null=True)
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    founded_year = fields.SmallIntField(null=True)
    report_year = fields.SmallIntField(null=True)  # the year the figures are for
    is_village_level = fields.BooleanField(default=False)
    is_benchmark = fields.BooleanField(default=False)
    in_poverty_county = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "coop_card"


class CoopRollup(Model):
    # Pre-computed totals of the co-op cards in one unit's whole subtree (the unit included), kept
    # current by the card actions in their transaction and rebuilt / checked by a job.
    id = fields.IntField(primary_key=True)
    unit: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "cunwu.Unit", related_name="coop_rollups", on_delete=fields.CASCADE, unique=True
    )
    coops = fields.IntField(default=0)
    village_level = fields.IntField(default=0)
    benchmark = fields.IntField(default=0)
    poverty_county = fields.IntField(default=0)
    members = fields.BigIntField(default=0)
    staff = fields.BigIntField(default=0)
    registered_capital_fen = fields.BigIntField(default=0)
    assets_fen = fields.BigIntField(default=0)
    revenue_fen = fields.BigIntField(default=0)
    profit_fen = fields.BigIntField(default=0)
    # How many of the cards have each money figure entered: what its average is over.
    registered_capital_entered = fields.IntField(default=0, db_default=0)
    assets_entered = fields.IntField(default=0, db_default=0)
    revenue_entered = fields.IntField(default=0, db_default=0)
    profit_entered = fields.IntField(default=0, db_default=0)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "coop_rollup"
