"""Reading units, always through the actor's scope (a unit outside it does not exist)."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.queryset import QuerySet

from backend.core import db
from backend.core.actor import Actor
from backend.core.errors import NotFound
from backend.core.names import pinyin_keys
from backend.core.scope import path_prefix, scope_like
from backend.core.validation import MAX_ID
from backend.units.models import Unit, UnitType


def in_scope(actor: Actor) -> QuerySet[Unit]:
    """Every unit the actor may see: its own unit and all below it."""
    return Unit.filter(path_prefix("path", actor.unit_path))


async def units_where(actor: Actor, condition: str, values: list[object], tail: str = "") -> list[Unit]:
    """Units in the actor's scope that meet ``condition`` (SQL with ``?`` for ``values``), then
    ``tail`` (ORDER BY / LIMIT). Written SQL for the reads every chat turn about a unit starts
    with: building the ORM query cost more than running it."""
    in_scope_sql, prefix = scope_like("path", actor)
    rows = await db.fetch(f"SELECT * FROM unit WHERE {condition} AND {in_scope_sql} {tail}", [*values, prefix])
    return [Unit._init_from_db(**row) for row in rows]  # the ORM's own conversion of rows it read


async def units_named(actor: Actor, name: str, *, limit: int) -> list[Unit]:
    """Units in scope whose name is exactly ``name`` (found through the indexed pinyin column), the
    highest first, at most ``limit``."""
    whole, _ = pinyin_keys(name)
    return await units_where(
        actor, "name_pinyin = ? AND name = ?", [whole[:400], name], f"ORDER BY depth, id LIMIT {int(limit)}"
    )


async def get_unit(actor: Actor, unit_id: int) -> Unit:
    found = await units_where(actor, "id = ?", [unit_id]) if 0 < unit_id <= MAX_ID else []
    if not found:
        raise NotFound()
    return found[0]


async def get_unit_below(actor: Actor, unit_id: int) -> Unit:
    """A unit strictly below the actor's own (what a superior's admin may change)."""
    unit = await get_unit(actor, unit_id)
    if unit.id == actor.unit_id:
        raise NotFound()
    return unit


@dataclass(frozen=True)
class UnitPage:
    items: list[Unit]
    total: int | None  # on the first page only
    next_cursor: int | None


async def list_units(
    actor: Actor,
    *,
    parent_id: int | None = None,
    below: Unit | None = None,
    name_contains: str | None = None,
    unit_type: UnitType | None = None,
    cursor: int | None = None,
    limit: int = 50,
) -> UnitPage:
    """Children of ``parent_id`` (which must be in scope), the units at any depth ``below`` a unit
    of the scope, or the whole scope, paged by id."""
    query = in_scope(actor)
    if parent_id is not None:
        await get_unit(actor, parent_id)
        query = query.filter(parent_id=parent_id)
    if below is not None:
        query = query.filter(path_prefix("path", below.path), depth__gt=below.depth)
    if name_contains:
        query = query.filter(name__contains=name_contains)
    if unit_type is not None:
        query = query.filter(type=unit_type)
    # Counting a large scope costs more than the page itself: count once, on the first page.
    total = await query.count() if cursor is None else None
    if cursor is not None:
        query = query.filter(id__gt=cursor)
    items = await query.order_by("id").limit(limit + 1)
    next_cursor = items[limit - 1].id if len(items) > limit else None
    return UnitPage(items=items[:limit], total=total, next_cursor=next_cursor)
