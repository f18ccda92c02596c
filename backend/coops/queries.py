"""Reading co-op cards and roll-ups, always through the actor's scope (outside it nothing exists).

Lists, statistics and the map filter on a region: a unit in scope (the actor's own by default),
given by id or by its exact name. Statistics and summaries read only roll-up rows, never the cards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from backend.coops import messages as msg
from backend.coops.finance import (
    REGION_TYPE_VALUES,
    card_visible,
    load_ancestors,
    nearest_region,
    summary_visible,
)
from backend.coops.models import CONTACT_NAME_LENGTH, CoopCard, CoopRollup
from backend.coops.rollups import COUNTERS, ZERO, Totals
from backend.core import db
from backend.core.actor import Actor
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.roles import FinanceAccess
from backend.core.scope import path_prefix, path_prefix_sql
from backend.core.tasks import finish_unused
from backend.units.models import Unit, UnitType
from backend.units.queries import get_unit
from backend.units.queries import units_named as units_in_scope_named

Kind = Literal["village_level", "benchmark", "poverty_county"]
KIND_FLAGS: dict[str, str] = {
    "village_level": "is_village_level",
    "benchmark": "is_benchmark",
    "poverty_county": "in_poverty_county",
}
MAX_PINS = 200
MAX_CHILDREN = 100
MAX_NAME_MATCHES = 10


async def units_named(actor: Actor, name: str) -> list[Unit]:
    """Units in scope named exactly ``name``, at most MAX_NAME_MATCHES + 1 (more: there are more)."""
    return await units_in_scope_named(actor, name, limit=MAX_NAME_MATCHES + 1)


async def resolve_region(
    actor: Actor, *, region_id: int | None = None, name: str | None = None, name_field: str = "region"
) -> Unit:
    """The region a query is about: by id, by exact name (one match only), or the actor's own unit.
    ``name_field``: the query parameter that carried the name, named in errors."""
    if region_id is not None and name is not None:
        raise ValidationFailed({name_field: msg.REGION_NAME_OR_ID}, msg.REGION_NAME_OR_ID)
    if name is not None:
        found = await units_named(actor, name)
        if not found:
            raise NotFound(msg.NAME_NOT_FOUND.format(name=name))
        if len(found) > 1:
            raise Conflict("ambiguous_region", msg.AMBIGUOUS_REGION, {name_field: msg.AMBIGUOUS_REGION})
        return found[0]
    return await get_unit(actor, region_id if region_id is not None else actor.unit_id)


@dataclass(frozen=True)
class CardView:
    """A card with what its display needs: its unit, the unit's region (None when that is above the
    actor's scope: it is not named) and the finance decision."""

    card: CoopCard
    unit: Unit
    region: Unit | None
    money_visible: bool


def _shown_region(actor: Actor, unit: Unit, ancestors: dict[int, Unit]) -> Unit | None:
    region = nearest_region(unit, ancestors)
    return region if region is not None and actor.covers(region.path) else None


async def _views(actor: Actor, cards: list[CoopCard]) -> list[CardView]:
    ancestors = await load_ancestors(c.unit for c in cards)
    return [
        CardView(c, c.unit, _shown_region(actor, c.unit, ancestors), card_visible(actor, c.unit, ancestors))
        for c in cards
    ]


async def get_card(actor: Actor, unit_id: int) -> CardView:
    """The card of co-op unit ``unit_id``; 404 if the unit is outside scope or has no card."""
    unit = await get_unit(actor, unit_id)
    card = await CoopCard.get_or_none(unit_id=unit.id)
    if card is None:
        # a unit in scope: naming it tells nothing new
        raise NotFound(msg.NO_CARD if unit.type == UnitType.COOP else msg.NOT_A_COOP_CARD.format(name=unit.name))
    card.unit = unit
    return (await _views(actor, [card]))[0]


def _cards_in(region: Unit, kind: Kind | None) -> QuerySet[CoopCard]:
    query = CoopCard.filter(path_prefix("unit__path", region.path))
    if kind is not None:
        query = query.filter(**{KIND_FLAGS[kind]: True})
    return query


@dataclass(frozen=True)
class CardPage:
    items: list[CardView]
    total: int | None  # on the first page only
    next_cursor: int | None


async def list_cards(
    actor: Actor,
    region: Unit,
    *,
    kind: Kind | None = None,
    where: dict[str, Any] | None = None,
    order: str | None = None,
    cursor: int | None = None,
    limit: int = 20,
) -> CardPage:
    """Cards of the co-ops in ``region``'s subtree (a unit already resolved in scope), paged by card
    id; ``where``: conditions on the card's own fields (``founded_year__gte``, ``profit_fen__lt``).
    A condition on money is the caller's to allow (which cards match tells something of each).
    ``order``: a card column to list by ("-members": largest first; ties by id); such a list pages
    by place (``cursor``: how many cards come before the page), as a ranking does: its order moves
    with the figures."""
    query = _cards_in(region, kind)
    if where:
        query = query.filter(**where)
    total = await query.count() if cursor is None else None
    if order is not None:
        place = cursor or 0
        cards = await query.order_by(order, "id").offset(place).limit(limit + 1).select_related("unit")
        next_place = place + limit if len(cards) > limit else None
        return CardPage(items=await _views(actor, cards[:limit]), total=total, next_cursor=next_place)
    if cursor is not None:
        query = query.filter(id__gt=cursor)
    cards = await query.order_by("id").limit(limit + 1).select_related("unit")
    next_cursor = cards[limit - 1].id if len(cards) > limit else None
    return CardPage(items=await _views(actor, cards[:limit]), total=total, next_cursor=next_cursor)


async def cards_with_contact(actor: Actor, name: str, *, limit: int) -> list[CardView]:
    """The cards in scope whose contact person is ``name`` (exactly), at most ``limit``."""
    if len(name) > CONTACT_NAME_LENGTH:
        return []  # no contact is named so (and the ORM refuses the value)
    query = CoopCard.filter(path_prefix("unit__path", actor.unit_path), contact_name=name)
    return await _views(actor, await query.order_by("id").limit(limit).select_related("unit"))


@dataclass(frozen=True)
class Rank:
    """How a ranking orders: by ``column``, highest first unless ``lowest_first``; ``below_zero``
    ranks only what is under zero (the biggest loss is the lowest profit of those below zero).
    What gives no value for the column is left out (a card without a founding year)."""

    column: str
    lowest_first: bool = False
    below_zero: bool = False
    # units by their co-ops of a kind: those with none of the kind are no answer to "most" (to
    # "fewest" they are the first answer: a township of nine co-ops and no benchmark one)
    above_zero: bool = False


# What a ranking of co-ops may be by (backend.coops.chat).
RANKS = {
    "members": Rank("members"),
    "staff": Rank("staff"),
    "assets": Rank("assets_fen"),
    "revenue": Rank("revenue_fen"),
    "profit": Rank("profit_fen"),
    "registered_capital": Rank("registered_capital_fen"),
    "loss": Rank("profit_fen", lowest_first=True, below_zero=True),
    "newest": Rank("founded_year"),
    "oldest": Rank("founded_year", lowest_first=True),
}
MONEY_RANKS = frozenset({"assets", "revenue", "profit", "registered_capital", "loss"})


async def top_cards(
    actor: Actor, region: Unit, field: str, *, least: bool = False, offset: int = 0, limit: int
) -> tuple[list[CardView], bool]:
    """The ``limit`` cards in ``region``'s subtree first by ``field`` (RANKS, the other way round if
    ``least``; ties by card id) after the first ``offset`` of them, and whether more follow. A
    ranking's order moves with its figures, so its pages go by place, not by a key. Money figures:
    the caller checks the actor may see every card's (an order tells something of each)."""
    rank = RANKS[field]
    query = _cards_in(region, None).filter(**{f"{rank.column}__isnull": False})
    if rank.below_zero:
        query = query.filter(**{f"{rank.column}__lt": 0})
    order = rank.column if rank.lowest_first != least else f"-{rank.column}"
    cards = await query.order_by(order, "id").offset(offset).limit(limit + 1).select_related("unit")
    return await _views(actor, cards[:limit]), len(cards) > limit


@dataclass(frozen=True)
class LevelUnit:
    """A unit of a level (village, township...) below a region, with the roll-up figure it was
    ranked by (its co-ops, members...; 0 in a list of those without co-ops) and the unit it belongs to."""

    id: int
    name: str
    parent_name: str
    figure: int


# What units may be ranked by (their roll-up columns): their co-ops (of a kind), or the sum of what a
# co-op is ranked by (a founding year does not add up).
UNIT_RANKS = {
    "coops": Rank("coops"),
    **{kind: Rank(kind, above_zero=True) for kind in ("village_level", "benchmark", "poverty_county")},
    **{f: r for f, r in RANKS.items() if f not in ("newest", "oldest")},
}
_MOST_SQL = (
    "SELECT u.id, u.name, u.parent_id, r.{column} FROM coop_rollup r JOIN unit u ON u.id = r.unit_id "
    "WHERE {below} AND u.depth > ? AND u.type = ? AND r.coops > 0{only} ORDER BY r.{column}{direction}, u.id "
    "LIMIT ? OFFSET ?"
)
_NO_COOPS_WHERE = (
    "FROM unit u LEFT JOIN coop_rollup r ON r.unit_id = u.id "
    "WHERE {below} AND u.depth > ? AND u.type = ? AND COALESCE(r.{column}, 0) = 0"
)


async def _with_parents(rows: Sequence[Sequence[Any]]) -> list[LevelUnit]:
    parents = dict(await Unit.filter(id__in={row[2] for row in rows}).values_list("id", "name"))
    return [LevelUnit(int(r[0]), r[1], parents.get(r[2], ""), int(r[3]) if len(r) > 3 else 0) for r in rows]


async def only_coop_below(unit: Unit) -> Unit | None:
    """The one co-op in ``unit``'s subtree (a unit in scope that is no co-op: a village with one);
    None for none or several."""
    coops = await Unit.filter(path_prefix("path", unit.path), depth__gt=unit.depth, type=UnitType.COOP).limit(2)
    return coops[0] if len(coops) == 1 else None


async def has_units_below(region: Unit, level: UnitType) -> bool:
    """Are there units of ``level`` below ``region`` at all (a village has no villages)?"""
    return await Unit.filter(path_prefix("path", region.path), depth__gt=region.depth, type=level).exists()


async def units_ranked(
    region: Unit, level: UnitType, field: str = "coops", *, least: bool = False, offset: int = 0, limit: int
) -> tuple[list[LevelUnit], bool]:
    """The units of ``level`` below ``region`` (in scope) with co-ops, first by ``field``
    (UNIT_RANKS, the other way round if ``least``) of their roll-ups, after the first ``offset`` of
    them (pages by place, as a ranking's), and whether more follow. Money: the caller checks the
    actor may see all of it."""
    below, values = path_prefix_sql("u.path", region.path)
    args = [*values, region.depth, level.value, limit + 1, offset]
    rank = UNIT_RANKS[field]
    only = ""
    if rank.below_zero:
        only = f" AND r.{rank.column} < 0"
    elif rank.above_zero and not least:
        only = f" AND r.{rank.column} > 0"
    if rank.column.endswith("_fen"):  # a unit none of whose cards has the figure is not ranked by it
        only += f" AND r.{rank.column.removesuffix('_fen')}_entered > 0"
    direction = "" if rank.lowest_first != least else " DESC"
    sql = _MOST_SQL.format(below=below, column=rank.column, only=only, direction=direction)
    rows = await db.fetch_rows(sql, args)
    return await _with_parents(rows[:limit]), len(rows) > limit


async def units_without_coops(
    region: Unit, level: UnitType, *, kind: Kind | None = None, cursor: int | None, limit: int
) -> tuple[list[LevelUnit], int | None, int | None]:
    """The units of ``level`` below ``region`` (in scope) with no co-op card under them (``kind``:
    none of that kind, "没有标杆社的乡镇"), paged by id: the page, the total (first page only) and
    the next cursor."""
    if kind is not None and kind not in KIND_FLAGS:  # written into the SQL: the roll-up's own columns only
        raise ValueError(f"no such kind: {kind}")
    below, values = path_prefix_sql("u.path", region.path)
    where = _NO_COOPS_WHERE.format(below=below, column=kind or "coops")  # a kind's roll-up column is its name
    args: list[Any] = [*values, region.depth, level.value]
    total = None
    if cursor is None:
        total = int((await db.fetch_rows(f"SELECT COUNT(*) {where}", args))[0][0])
    after = " AND u.id > ?" if cursor is not None else ""
    page_args = [*args, *([cursor] if cursor is not None else []), limit + 1]
    rows = await db.fetch_rows(f"SELECT u.id, u.name, u.parent_id {where}{after} ORDER BY u.id LIMIT ?", page_args)
    next_cursor = int(rows[limit - 1][0]) if len(rows) > limit else None
    return await _with_parents(rows[:limit]), total, next_cursor


@dataclass(frozen=True)
class MapResult:
    pins: list[CardView]
    total: int  # co-ops with coordinates in the region
    capped: bool
    not_located: int = 0  # co-ops with a card but no coordinates: no pin can show them


async def map_pins(actor: Actor, region: Unit, *, kind: Kind | None = None, limit: int | None = None) -> MapResult:
    """Co-ops with coordinates in ``region``: at most ``limit`` (MAX_PINS) pins, how many there are in
    all, and how many cards have no coordinates."""
    limit = limit or MAX_PINS
    query = _cards_in(region, kind).filter(latitude__isnull=False, longitude__isnull=False)
    cards = await query.order_by("id").limit(limit + 1).select_related("unit")
    capped = len(cards) > limit
    total = await query.count() if capped else len(cards)
    not_located = await _cards_in(region, kind).filter(Q(latitude__isnull=True) | Q(longitude__isnull=True)).count()
    return MapResult(pins=await _views(actor, cards[:limit]), total=total, capped=capped, not_located=not_located)


@dataclass(frozen=True)
class UnitRef:
    """What a summary shows of a child unit (read as columns, not as a model)."""

    id: int
    name: str
    type: str
    has_card: bool = False  # a co-op with its own card (children of a summary say so)


@dataclass(frozen=True)
class Figures:
    """Roll-up totals of one unit, with whether the actor may see their money."""

    unit: Unit | UnitRef
    totals: dict[str, int]  # by counter name (rollups.COUNTERS)
    money_visible: bool

    @classmethod
    def of(cls, actor: Actor, unit: Unit | UnitRef, totals: Totals) -> Figures:
        return cls(unit, dict(zip(COUNTERS, totals, strict=True)), summary_visible(actor, unit.id, unit.type))


@dataclass(frozen=True)
class Summary:
    unit: Unit
    figures: Figures
    children: list[Figures]  # the children with co-ops below them, most co-ops first
    more_children: bool  # more than MAX_CHILDREN such children: only the first are listed


_COUNTER_COLUMNS = ", ".join(f"r.{name}" for name in COUNTERS)
# Written SQL, not ORM queries: these two reads are all a summary does, and building them with the
# ORM cost several times running them.
_OWN_SQL = f"SELECT {_COUNTER_COLUMNS} FROM coop_rollup r WHERE r.unit_id = ?"
_CHILDREN_SQL = (
    f"SELECT r.unit_id AS unit_id, u.name AS name, u.type AS type, {_COUNTER_COLUMNS}, "
    # a co-op's own card (its one co-op may be a sub-co-op's): only co-op rows look
    "CASE WHEN u.type = 'coop' AND EXISTS (SELECT 1 FROM coop_card c WHERE c.unit_id = r.unit_id) "
    "THEN 1 ELSE 0 END AS has_card "
    "FROM coop_rollup r JOIN unit u ON u.id = r.unit_id "
    "WHERE u.parent_id = ? AND r.coops > 0 ORDER BY r.coops DESC, r.unit_id LIMIT ?"
)


def _totals(row: dict[str, Any]) -> Totals:
    return tuple(int(row[name] or 0) for name in COUNTERS)


async def _own_money_visible(actor: Actor, unit: Unit) -> bool:
    """May the actor see the money totals of ``unit`` (in scope)? See backend.coops.finance."""
    if not summary_visible(actor, unit.id, unit.type):
        return False
    if actor.finance_access != FinanceAccess.OWN_REGION:
        return True
    below = CoopRollup.filter(
        path_prefix("unit__path", unit.path), coops__gt=0, unit__type__in=sorted(REGION_TYPE_VALUES)
    )
    return not await below.exclude(unit_id=unit.id).exists()  # stops at the first


async def _figures(actor: Actor, unit: Unit, rows: list[dict[str, Any]]) -> Figures:
    totals = dict(zip(COUNTERS, _totals(rows[0]) if rows else ZERO, strict=True))
    return Figures(unit, totals, await _own_money_visible(actor, unit))


async def figures(actor: Actor, unit: Unit) -> Figures:
    """The roll-up row of one unit in scope (one indexed read of its counters)."""
    return await _figures(actor, unit, await db.fetch(_OWN_SQL, [unit.id]))


class SummaryReads:
    """The two reads of a summary of unit ``unit_id``, sent at once when made (on PostgreSQL on two
    connections: one round trip).

    Made before the unit itself is read when its id is known (the actor's own unit, a button's),
    so that all of a summary's reads travel together. Nothing read here is shown unless the unit
    turns out to be in scope: :func:`summary` takes them only for a unit already resolved in scope,
    and :meth:`drop` lets them end unused.
    """

    def __init__(self, unit_id: int) -> None:
        self.unit_id = unit_id
        self._own = asyncio.ensure_future(db.fetch(_OWN_SQL, [unit_id]))
        self._children = asyncio.ensure_future(db.fetch(_CHILDREN_SQL, [unit_id, MAX_CHILDREN + 1]))

    async def rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        try:
            return await self._own, await self._children
        except BaseException:
            await self.drop()  # one failed: the other still ends before the error goes on
            raise

    async def drop(self) -> None:
        """Let both reads end, their rows unused."""
        await finish_unused(self._own, self._children)


async def summary(actor: Actor, unit: Unit, reads: SummaryReads | None = None) -> Summary:
    """W4: the unit's totals and the breakdown by child unit, from two indexed reads of roll-up rows.

    ``unit`` is in scope; ``reads``: its reads, already under way (see :class:`SummaryReads`).
    The children are read as columns (id, name, type and the counters), not as models: up to 101
    rows of two models each were most of a summary's time in the ORM.
    """
    if reads is None or reads.unit_id != unit.id:
        if reads is not None:
            await reads.drop()
        reads = SummaryReads(unit.id)
    own, rows = await reads.rows()
    children = [
        Figures.of(actor, UnitRef(int(r["unit_id"]), r["name"], r["type"], bool(r["has_card"])), _totals(r))
        for r in rows
    ]
    return Summary(
        unit=unit,
        figures=await _figures(actor, unit, own),
        children=children[:MAX_CHILDREN],
        more_children=len(rows) > MAX_CHILDREN,
    )
