"""Request and response shapes of /api/coops (they document the API at /docs).

Money goes in and out in 万元: in as a number with at most 6 decimals (whole fen), out as text with
two decimals ("12.34"), "未填报" when no one has entered it yet, or "无权限" when the actor's
finance permission does not cover it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from backend.coops.models import CONTACT_NAME_LENGTH
from backend.coops.queries import Kind
from backend.core.validation import Body, ContactPhone, Id, PageQuery, Query, text

MAX_WAN = Decimal(100_000_000)  # 1万亿元: more than any grassroots co-op, far below the BigInt limit
Money = Annotated[Decimal, Field(ge=0, le=MAX_WAN)]
SignedMoney = Annotated[Decimal, Field(ge=-MAX_WAN, le=MAX_WAN)]
Count = Annotated[int, Field(ge=0, le=10_000_000)]
# Wide on purpose: a year too early or after this one, a pin outside China and a latitude swapped
# with its longitude are refused by the card action (backend.coops.actions), each with a message
# saying so (here they got only "数值超出范围"); the year's bounds keep the column's type (SMALLINT).
Year = Annotated[int, Field(ge=1, le=9999)]
Latitude = Annotated[float, Field(allow_inf_nan=False)]
Longitude = Annotated[float, Field(allow_inf_nan=False)]


class CardCreate(Body):
    """The info card of a co-op unit (a unit of type ``coop`` in scope)."""

    unit_id: Id
    members: Count = 0
    staff: Count = 0
    # Money left out is "not entered" ("未填报" on the card), not zero: a clerk without finance
    # access writes a card without it, and someone with access fills it in later.
    registered_capital: Money = None
    assets: Money = None
    revenue: Money = None
    profit: SignedMoney = None
    business_scope: text(500, lines=True) | None = None
    contact_name: text(CONTACT_NAME_LENGTH) | None = None
    contact_phone: ContactPhone | None = None
    address: text(200) | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    founded_year: Year | None = None
    report_year: Year | None = None
    is_village_level: bool = False
    is_benchmark: bool = False
    in_poverty_county: bool = False


class CardUpdate(Body):
    """Only the fields sent change; the optional texts, coordinates and years may be cleared with null."""

    members: Count = None
    staff: Count = None
    registered_capital: Money = None
    assets: Money = None
    revenue: Money = None
    profit: SignedMoney = None
    business_scope: text(500, lines=True) | None = None
    contact_name: text(CONTACT_NAME_LENGTH) | None = None
    contact_phone: ContactPhone | None = None
    address: text(200) | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    founded_year: Year | None = None
    report_year: Year | None = None
    is_village_level: bool = None
    is_benchmark: bool = None
    in_poverty_county: bool = None


class RegionQuery(Query):
    """A region in scope: ``region_id``, or ``region`` (an exact unit name); neither: the actor's own unit."""

    region_id: Id | None = None
    region: text(50) | None = None


class CardListQuery(PageQuery, RegionQuery):
    kind: Kind | None = None  # village_level (村级社), benchmark (标杆社), poverty_county (贫困县基层社)
    limit: int = Field(20, ge=1, le=200)


class MapQuery(RegionQuery):
    kind: Kind | None = None


class SummaryQuery(Query):
    """The unit to summarise: ``unit_id``, or ``name`` (exact, in scope); neither: the actor's own unit."""

    unit_id: Id | None = None
    name: text(50) | None = None


class CardOut(BaseModel):
    unit_id: int
    name: str
    unit_code: str | None
    credit_code: str | None
    region_id: int | None  # the nearest region above the co-op (所属区域)
    region_name: str | None
    members: int
    staff: int
    money_unit: str  # 万元
    money_visible: bool
    registered_capital: str
    assets: str
    revenue: str
    profit: str
    business_scope: str
    contact_name: str | None
    contact_phone: str | None  # masked
    address: str | None
    latitude: float | None
    longitude: float | None
    founded_year: int | None
    report_year: int | None
    is_village_level: bool
    is_benchmark: bool
    in_poverty_county: bool
    created_at: datetime
    updated_at: datetime


class CardRow(BaseModel):
    """A card in a list: what the table shows."""

    unit_id: int
    name: str
    region_name: str | None
    contact_name: str | None
    contact_phone: str | None  # masked
    is_village_level: bool
    is_benchmark: bool
    in_poverty_county: bool


class CardPage(BaseModel):
    items: list[CardRow]
    total: int | None  # on the first page only
    next_cursor: int | None


class FiguresOut(BaseModel):
    """Roll-up totals of one unit's subtree; money in 万元 or "无权限"."""

    unit_id: int
    name: str
    coops: int
    village_level: int
    benchmark: int
    poverty_county: int
    members: int
    staff: int
    money_visible: bool
    registered_capital: str
    assets: str
    revenue: str
    profit: str


class SummaryOut(BaseModel):
    money_unit: str
    unit: FiguresOut
    children: list[FiguresOut]  # child units with co-ops below them, most first
    more_children: bool


class StatsOut(BaseModel):
    money_unit: str
    totals: FiguresOut
    avg_members: float  # per co-op, one decimal
    avg_staff: float
    avg_assets: str  # 万元 per co-op, or "无权限"
    avg_revenue: str
    avg_profit: str


class PinOut(BaseModel):
    unit_id: int
    name: str
    latitude: float
    longitude: float


class MapOut(BaseModel):
    region_id: int
    region_name: str
    pins: list[PinOut]
    total: int  # co-ops with coordinates in the region
    capped: bool  # more than ``limit``: only the first ``limit`` are pinned
    limit: int
    not_located: int = Field(description="区域内没有填写坐标、因此不在地图上的合作社数")
