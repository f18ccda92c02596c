from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from backend.core.validation import Body, CreditCode, Id, PageQuery, RegionCode, text
from backend.units.models import UnitType


class UnitCreate(Body):
    parent_id: Id
    name: text(100)
    type: UnitType
    region_code: RegionCode | None = None
    unit_code: text(32) | None = None
    credit_code: CreditCode | None = None


class UnitUpdate(Body):
    """Only the fields sent are changed; codes may be cleared with null, name and type may not."""

    name: text(100) = None
    type: UnitType = None
    region_code: RegionCode | None = None
    unit_code: text(32) | None = None
    credit_code: CreditCode | None = None


class UnitMove(Body):
    new_parent_id: Id


class UnitListQuery(PageQuery):
    parent_id: Id | None = None
    q: text(50) | None = None
    type: UnitType | None = None


class UnitOut(BaseModel):
    id: int
    parent_id: int | None
    name: str
    type: UnitType
    region_code: str | None
    unit_code: str | None
    credit_code: str | None
    path: str
    depth: int
    created_at: datetime
    updated_at: datetime


class UnitPage(BaseModel):
    items: list[UnitOut]
    total: int | None  # on the first page only
    next_cursor: int | None
