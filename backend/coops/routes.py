"""Co-op info cards (D1): the cards, their queries, statistics and map, and summaries (W4).

Thin: parse, call a query or an action, serialise. Cards are addressed by their co-op unit's id.

A card's answer carries its ``ETag`` (of that answer: a reader who sees money masked gets another tag
than one who sees it); PATCH and DELETE sent with ``If-Match`` change the card only if it is still the
version the tag names (else 412 ``card_changed``); without ``If-Match`` they are unconditional.
"""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request
from sanic_ext.extensions.openapi import openapi

from backend.auth.guard import authenticated
from backend.coops import actions, queries
from backend.coops import messages as msg
from backend.coops.queries import CardView
from backend.coops.schemas import (
    CardCreate,
    CardListQuery,
    CardOut,
    CardPage,
    CardUpdate,
    MapOut,
    MapQuery,
    RegionQuery,
    StatsOut,
    SummaryOut,
    SummaryQuery,
)
from backend.coops.serializers import card_etag, card_out, card_row, map_out, stats_out, summary_out
from backend.core import etags
from backend.core.actor import Actor
from backend.core.errors import AppError
from backend.core.http import no_content, ok
from backend.core.validation import body, query

bp = Blueprint("coops", url_prefix="/api/coops")

IF_MATCH_DOC = "The card's ETag as read: the write happens only if nobody changed the card since (else 412)."


def _card_answer(view: CardView, status: int = 200) -> HTTPResponse:
    response = ok(card_out(view), status=status)
    response.headers["ETag"] = card_etag(view.card, response.body)
    return response


def _if_match(request: Request) -> etags.IfMatch | None:
    try:
        return etags.if_match(request)
    except etags.MalformedIfMatch as exc:
        raise AppError("if_match_invalid", msg.IF_MATCH_WEAK if exc.weak else msg.IF_MATCH_INVALID) from exc


@bp.get("/")
@openapi.response(200, {"application/json": CardPage})
@authenticated("coops.view")
@query(CardListQuery)
async def list_cards(request: Request, actor: Actor, params: CardListQuery):
    """Co-ops with a card in a region of the scope; ``kind``: 村级社, 标杆社 or 贫困县基层社."""
    region = await queries.resolve_region(actor, region_id=params.region_id, name=params.region)
    page = await queries.list_cards(actor, region, kind=params.kind, cursor=params.cursor, limit=params.limit)
    return ok(CardPage(items=[card_row(v) for v in page.items], total=page.total, next_cursor=page.next_cursor))


@bp.post("/")
@openapi.response(201, {"application/json": CardOut})
@authenticated("coops.write")
@body(CardCreate)
async def create_card(request: Request, actor: Actor, data: CardCreate):
    fields = data.model_dump(exclude={"unit_id"}, exclude_unset=True)  # money exact: parse_body reads it so
    await actions.create_card(actor, unit_id=data.unit_id, fields=fields)
    return _card_answer(await queries.get_card(actor, data.unit_id), status=201)


@bp.get("/stats")
@openapi.response(200, {"application/json": StatsOut})
@authenticated("coops.view")
@query(RegionQuery)
async def stats(request: Request, actor: Actor, params: RegionQuery):
    """统计指标: counts by kind, totals and averages per co-op, from the region's roll-up."""
    region = await queries.resolve_region(actor, region_id=params.region_id, name=params.region)
    return ok(stats_out(await queries.figures(actor, region)))


@bp.get("/map")
@openapi.response(200, {"application/json": MapOut})
@authenticated("coops.view")
@query(MapQuery)
async def map_query(request: Request, actor: Actor, params: MapQuery):
    """地图查询: pins of the co-ops with coordinates in a region, at most 200 (``capped`` says so)."""
    region = await queries.resolve_region(actor, region_id=params.region_id, name=params.region)
    result = await queries.map_pins(actor, region, kind=params.kind)
    return ok(map_out(region, result, queries.MAX_PINS))


@bp.get("/summary")
@openapi.response(200, {"application/json": SummaryOut})
@authenticated("coops.view")
@query(SummaryQuery)
async def summary(request: Request, actor: Actor, params: SummaryQuery):
    """信息卡汇总 (W4): a unit's totals and their breakdown by child unit, from the roll-ups."""
    unit = await queries.resolve_region(actor, region_id=params.unit_id, name=params.name, name_field="name")
    return ok(summary_out(await queries.summary(actor, unit)))


@bp.get("/<unit_id:id>")
@openapi.response(200, {"application/json": CardOut})
@authenticated("coops.view")
async def get_card(request: Request, actor: Actor, unit_id: int):
    """The card, with its version as ``ETag`` (send it back as ``If-Match`` when changing it)."""
    return _card_answer(await queries.get_card(actor, unit_id))


@bp.patch("/<unit_id:id>")
@openapi.response(200, {"application/json": CardOut})
@openapi.parameter("If-Match", str, "header", description=IF_MATCH_DOC)
@authenticated("coops.write")
@body(CardUpdate)
async def update_card(request: Request, actor: Actor, unit_id: int, data: CardUpdate):
    """Change the fields sent; the answer carries the card's new ``ETag``."""
    changes = data.model_dump(exclude_unset=True)
    await actions.update_card(actor, unit_id, changes, if_match=_if_match(request))
    return _card_answer(await queries.get_card(actor, unit_id))


@bp.delete("/<unit_id:id>")
@openapi.parameter("If-Match", str, "header", description=IF_MATCH_DOC)
@authenticated("coops.write")
async def delete_card(request: Request, actor: Actor, unit_id: int):
    """Delete the card (the co-op unit stays)."""
    await actions.delete_card(actor, unit_id, if_match=_if_match(request))
    return no_content()
