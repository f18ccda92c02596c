"""The unit tree (thin: parse, call, serialise)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic_ext.extensions.openapi import openapi

from backend.auth.guard import authenticated
from backend.core.actor import Actor
from backend.core.http import no_content, ok
from backend.core.validation import body, query
from backend.units import actions, queries
from backend.units.models import Unit
from backend.units.schemas import UnitCreate, UnitListQuery, UnitMove, UnitOut, UnitPage, UnitUpdate

bp = Blueprint("units", url_prefix="/api/units")


def unit_out(unit: Unit) -> UnitOut:
    return UnitOut(
        id=unit.id,
        parent_id=unit.parent_id,
        name=unit.name,
        type=unit.type,
        region_code=unit.region_code,
        unit_code=unit.unit_code,
        credit_code=unit.credit_code,
        path=unit.path,
        depth=unit.depth,
        created_at=unit.created_at,
        updated_at=unit.updated_at,
    )


@bp.get("/")
@openapi.response(200, {"application/json": UnitPage})
@authenticated("units.view")
@query(UnitListQuery)
async def list_units(request: Request, actor: Actor, params: UnitListQuery):
    """Units in scope: the children of ``parent_id``, or the whole subtree; filter by name and type."""
    page = await queries.list_units(
        actor,
        parent_id=params.parent_id,
        name_contains=params.q,
        unit_type=params.type,
        cursor=params.cursor,
        limit=params.limit,
    )
    return ok(UnitPage(items=[unit_out(u) for u in page.items], total=page.total, next_cursor=page.next_cursor))


@bp.post("/")
@openapi.response(201, {"application/json": UnitOut})
@authenticated("units.manage")
@body(UnitCreate)
async def create_unit(request: Request, actor: Actor, data: UnitCreate):
    fields = data.model_dump()
    unit = await actions.create_unit(actor, unit_type=fields.pop("type"), **fields)
    return ok(unit_out(unit), status=201)


@bp.get("/<unit_id:id>")
@openapi.response(200, {"application/json": UnitOut})
@authenticated("units.view")
async def get_unit(request: Request, actor: Actor, unit_id: int):
    return ok(unit_out(await queries.get_unit(actor, unit_id)))


@bp.patch("/<unit_id:id>")
@openapi.response(200, {"application/json": UnitOut})
@authenticated("units.manage")
@body(UnitUpdate)
async def update_unit(request: Request, actor: Actor, unit_id: int, data: UnitUpdate):
    return ok(unit_out(await actions.update_unit(actor, unit_id, data.model_dump(exclude_unset=True))))


@bp.post("/<unit_id:id>/move")
@openapi.response(200, {"application/json": UnitOut})
@authenticated("units.manage")
@body(UnitMove)
async def move_unit(request: Request, actor: Actor, unit_id: int, data: UnitMove):
    """Move the unit and its whole subtree under another parent in scope."""
    return ok(unit_out(await actions.move_unit(actor, unit_id, new_parent_id=data.new_parent_id)))


@bp.delete("/<unit_id:id>")
@authenticated("units.manage")
async def delete_unit(request: Request, actor: Actor, unit_id: int):
    """Delete a unit that has no child units and no accounts."""
    await actions.delete_unit(actor, unit_id)
    return no_content()
