"""Co-op cards and figures as they leave the server: money in 万元 or masked, contact phone masked.

The REST routes answer these models; the chat handlers build their blocks from them, so the
finance rule and the masks are applied in exactly one place.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.coops import messages as msg
from backend.coops.finance import average_fen, divide_halves_up, shown, total_shown
from backend.coops.models import CoopCard
from backend.coops.queries import CardView, Figures, MapResult, Summary
from backend.coops.schemas import CardOut, CardRow, FiguresOut, MapOut, PinOut, StatsOut, SummaryOut
from backend.core import etags, identifiers, runtime
from backend.units.models import Unit


def masked_contact_phone(card: CoopCard) -> str | None:
    if not card.contact_phone_enc:
        return None
    return identifiers.mask_phone(runtime.get().vault.decrypt("coop.contact_phone", card.contact_phone_enc))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def card_version(card: CoopCard) -> str:
    """The version of the card as stored, a strong tag: the row's id and its ``updated_at`` in whole
    microseconds (both databases keep them). Every write of a card sets ``updated_at``, and moves it
    past the version it replaces even when the clock has not (backend.coops.actions), so each version
    has its own; a card deleted and created again is another row. ``If-Match`` is checked against it."""
    return etags.strong_etag("coop_card", card.id, (card.updated_at - _EPOCH) // timedelta(microseconds=1))


def card_etag(card: CoopCard, body: bytes) -> str:
    """The ETag of one answer of the card (``body``, as sent before any compression): its version and
    the representation, which differs by reader (money shown or "无权限") and with the unit's name or
    region. Every tag of the current version passes ``If-Match`` (backend.core.etags)."""
    return etags.representation_tag(card_version(card), body)


def card_out(view: CardView) -> CardOut:
    card, unit, visible = view.card, view.unit, view.money_visible
    return CardOut(
        unit_id=unit.id,
        name=unit.name,
        unit_code=unit.unit_code,
        credit_code=unit.credit_code,
        region_id=view.region.id if view.region else None,
        region_name=view.region.name if view.region else None,
        members=card.members,
        staff=card.staff,
        money_unit=msg.MONEY_UNIT,
        money_visible=visible,
        registered_capital=shown(card.registered_capital_fen, visible),
        assets=shown(card.assets_fen, visible),
        revenue=shown(card.revenue_fen, visible),
        profit=shown(card.profit_fen, visible),
        business_scope=card.business_scope,
        contact_name=card.contact_name,
        contact_phone=masked_contact_phone(card),
        address=card.address,
        latitude=card.latitude,
        longitude=card.longitude,
        founded_year=card.founded_year,
        report_year=card.report_year,
        is_village_level=card.is_village_level,
        is_benchmark=card.is_benchmark,
        in_poverty_county=card.in_poverty_county,
        created_at=card.created_at,
        updated_at=card.updated_at,
    )


def card_row(view: CardView) -> CardRow:
    card = view.card
    return CardRow(
        unit_id=view.unit.id,
        name=view.unit.name,
        region_name=view.region.name if view.region else None,
        contact_name=card.contact_name,
        contact_phone=masked_contact_phone(card),
        is_village_level=card.is_village_level,
        is_benchmark=card.is_benchmark,
        in_poverty_county=card.in_poverty_county,
    )


def figures_out(figures: Figures) -> FiguresOut:
    t, visible = figures.totals, figures.money_visible
    return FiguresOut(
        unit_id=figures.unit.id,
        name=figures.unit.name,
        coops=t["coops"],
        village_level=t["village_level"],
        benchmark=t["benchmark"],
        poverty_county=t["poverty_county"],
        members=t["members"],
        staff=t["staff"],
        money_visible=visible,
        registered_capital=total_shown(t, "registered_capital", visible),
        assets=total_shown(t, "assets", visible),
        revenue=total_shown(t, "revenue", visible),
        profit=total_shown(t, "profit", visible),
    )


def summary_out(summary: Summary) -> SummaryOut:
    return SummaryOut(
        money_unit=msg.MONEY_UNIT,
        unit=figures_out(summary.figures),
        children=[figures_out(child) for child in summary.children],
        more_children=summary.more_children,
    )


def _per_coop_tenths(total: int, count: int) -> float:
    """``total / count`` to one decimal, halves up as by hand (round() made 160.25 160.2)."""
    return divide_halves_up(10 * total, count) / 10 if count else 0.0


def stats_out(figures: Figures) -> StatsOut:
    t, visible = figures.totals, figures.money_visible
    n = t["coops"]

    def per_coop(name: str) -> str:
        """The average over the cards that have the figure (one not entered yet is no zero)."""
        entered = t[name.replace("_fen", "_entered")]
        if visible and not entered:
            return msg.NO_AVERAGE
        return shown(average_fen(t[name], entered), visible)

    return StatsOut(
        money_unit=msg.MONEY_UNIT,
        totals=figures_out(figures),
        avg_members=_per_coop_tenths(t["members"], n),
        avg_staff=_per_coop_tenths(t["staff"], n),
        avg_assets=per_coop("assets_fen"),
        avg_revenue=per_coop("revenue_fen"),
        avg_profit=per_coop("profit_fen"),
    )


def map_out(region: Unit, result: MapResult, limit: int) -> MapOut:
    return MapOut(
        region_id=region.id,
        region_name=region.name,
        pins=[
            PinOut(
                unit_id=view.unit.id,
                name=view.unit.name,
                latitude=view.card.latitude or 0.0,
                longitude=view.card.longitude or 0.0,
            )
            for view in result.pins
        ],
        total=result.total,
        capped=result.capped,
        limit=limit,
        not_located=result.not_located,
    )
