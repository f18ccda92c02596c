from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class ReviewKind(StrEnum):
    PASSWORD = "password"  # forgot password, automatic checks failed
    USERNAME = "username"  # forgot user name
    UNIT = "unit"  # unit account recovery by credit code


class ReviewStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ReviewRequest(Model):
    # A manual review (R5) of a recovery the automatic checks could not settle. The admins of the
    # units above ``unit`` decide it (of a top unit, its system admins: backend.reviews.queries).
    # Identity details are encrypted; images live outside any served path under random names
    # (``images`` holds their names, types and sizes).
    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(ReviewKind, max_length=16)
    status = fields.CharEnumField(ReviewStatus, max_length=16, default=ReviewStatus.PENDING, db_index=True)
    # Empty once the unit is deleted: only a decided request lets it go (backend.units.actions).
    unit: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "cunwu.Unit", related_name="reviews", null=True, on_delete=fields.SET_NULL
    )
    account: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "cunwu.Account", related_name="reviews", null=True, on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=50)
    id_number_enc = fields.TextField()
    id_number_index = fields.CharField(max_length=64)
    phone_enc = fields.TextField()
    phone_index = fields.CharField(max_length=64)
    statement = fields.CharField(max_length=500, default="")
    images = fields.JSONField(default=list)
    # When the images of a decided request were deleted (backend.reviews.retention): ID card photos
    # are kept only as long as a decision may still be looked into. A request pending as long is
    # closed then: rejected by nobody (``decided_by_id`` empty), its images deleted.
    images_removed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)
    decided_by_id = fields.IntField(null=True)
    decision_reason = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "review_request"
