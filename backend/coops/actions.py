"""Every change to the co-op info cards: permission, checks, one transaction holding the card, the
roll-ups of all its ancestors and the audit entry. Nothing else writes cards or roll-ups.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError

from backend.coops import messages as msg
from backend.coops import rollups
from backend.coops.finance import card_visible, fen_from_wan, load_ancestors
from backend.coops.models import CoopCard
from backend.coops.serializers import card_version
from backend.core import audit, db, runtime
from backend.core.actor import Actor
from backend.core.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from backend.core.etags import IfMatch
from backend.core.roles import allows
from backend.units.models import Unit, UnitType

MONEY_FIELDS = ("registered_capital", "assets", "revenue", "profit")
PLAIN_FIELDS = (
    "members",
    "staff",
    "business_scope",
    "contact_name",
    "address",
    "latitude",
    "longitude",
    "founded_year",
    "report_year",
    "is_village_level",
    "is_benchmark",
    "in_poverty_county",
)
CARD_FIELDS = (*PLAIN_FIELDS, *MONEY_FIELDS, "contact_phone")
# Mainland China and its islands, generously: a pin outside is a typing slip (0, 0, a lost digit).
CHINA_BOUNDS = {
    "latitude": (3.0, 54.0, msg.LATITUDE_OUTSIDE_CHINA),
    "longitude": (73.0, 136.0, msg.LONGITUDE_OUTSIDE_CHINA),
}
# The first year a card's year may name; one before is a typing slip. A co-op may be older than the
# People's Republic (base-area co-ops), the figures of a report are not.
FIRST_YEARS = {"founded_year": 1900, "report_year": 1949}


def _require_write(actor: Actor) -> None:
    if not allows(actor.role, "coops.write"):
        raise Forbidden()


async def _require_money_access(actor: Actor, unit: Unit, fields: dict[str, Any]) -> None:
    """Money figures are written only by whoever may see them on this card (backend.coops.finance):
    a clerk without finance access could otherwise set figures they are never shown."""
    money = sorted(name for name in fields if name in MONEY_FIELDS)
    if money and not card_visible(actor, unit, await load_ancestors([unit])):
        raise AppError(
            "finance_required",
            msg.MONEY_NEEDS_FINANCE,
            status=403,
            fields=dict.fromkeys(money, msg.MONEY_NEEDS_FINANCE),
        )


async def _lock_unit(actor: Actor, unit_id: int, *, coop: bool = True) -> Unit:
    """The co-op's unit row, locked for the transaction and read afresh: its path (a move may be under
    way, and the finance rule follows the path) and its type (a type change waits for this lock:
    backend.units.actions). ``coop``: it must be a co-op."""
    unit = await Unit.select_for_update().get_or_none(id=unit_id)
    if unit is None or not actor.covers(unit.path):
        raise NotFound()
    if coop and unit.type != UnitType.COOP:
        raise ValidationFailed({"unit_id": msg.NOT_A_COOP}, msg.NOT_A_COOP)
    return unit


def _require_unchanged(card: CoopCard, if_match: IfMatch | None) -> None:
    """The client's ``If-Match`` (None: the write is unconditional) against the card as locked: a
    check before the lock would let two writers holding the same tag both pass."""
    if if_match is not None and not if_match.matches(card_version(card)):
        raise AppError("card_changed", msg.CARD_CHANGED, status=412)


def _to_columns(changes: dict[str, Any]) -> dict[str, Any]:
    """Checked values of the card fields -> model columns (money in fen, phone sealed)."""
    columns: dict[str, Any] = {}
    errors: dict[str, str] = {}
    vault = runtime.get().vault
    for name, value in changes.items():
        if name in MONEY_FIELDS and value is None:
            columns[f"{name}_fen"] = None  # not entered (no caller clears a figure once entered)
        elif name in MONEY_FIELDS:
            fen = fen_from_wan(Decimal(str(value)))  # str: a float from a direct caller keeps its digits
            if fen is None:
                errors[name] = msg.MONEY_TOO_PRECISE
            columns[f"{name}_fen"] = fen
        elif name == "contact_phone":
            columns["contact_phone_enc"] = vault.encrypt("coop.contact_phone", value) if value else None
            columns["contact_phone_index"] = vault.index("phone", value) if value else None
        elif name == "business_scope":
            columns[name] = value or ""
        elif name in PLAIN_FIELDS:
            if name in CHINA_BOUNDS and value is not None:
                low, high, outside = CHINA_BOUNDS[name]
                if not low <= value <= high:
                    errors[name] = outside
            if name in FIRST_YEARS and value is not None and value < FIRST_YEARS[name]:
                errors[name] = msg.YEAR_TOO_EARLY.format(year=FIRST_YEARS[name])
            columns[name] = value
    if _swapped(changes.get("latitude"), changes.get("longitude")):
        errors.update(latitude=msg.COORDINATES_SWAPPED, longitude=msg.COORDINATES_SWAPPED)
    if errors:
        raise ValidationFailed(errors)
    return columns


def _column_of(name: str) -> str:
    """The column a field is compared by (the phone by its index: its sealed text differs each time)."""
    return f"{name}_fen" if name in MONEY_FIELDS else "contact_phone_index" if name == "contact_phone" else name


def _columns_of(name: str) -> tuple[str, ...]:
    """Every column a field writes."""
    return ("contact_phone_enc", "contact_phone_index") if name == "contact_phone" else (_column_of(name),)


def _differing(card: CoopCard, changes: dict[str, Any], columns: dict[str, Any]) -> dict[str, Any]:
    """The part of ``changes`` whose ``columns`` (:func:`_to_columns` of them) differ from ``card``."""
    return {
        name: value for name, value in changes.items() if columns[_column_of(name)] != getattr(card, _column_of(name))
    }


def changed_fields(card: CoopCard, changes: dict[str, Any]) -> dict[str, Any]:
    """The part of ``changes`` (checked field values, as :func:`update_card` takes them) that would
    change ``card``: a form sends every field back, and one saved with nothing altered writes
    nothing. Bad values raise as they would in the write."""
    return _differing(card, changes, _to_columns(changes))


def _inside(name: str, value: float) -> bool:
    low, high, _ = CHINA_BOUNDS[name]
    return low <= value <= high


def _swapped(latitude: float | None, longitude: float | None) -> bool:
    """A pin outside China that would be inside with the two numbers exchanged (many map tools show
    the longitude first)."""
    if latitude is None or longitude is None or (_inside("latitude", latitude) and _inside("longitude", longitude)):
        return False
    return _inside("latitude", longitude) and _inside("longitude", latitude)


def _check_card(card: CoopCard, sent: Collection[str]) -> None:
    """Rules across fields, on the card as it would be after the change; a rule broken by two fields
    names those of them that were ``sent`` (the form shows the message where the clerk typed)."""
    errors: dict[str, str] = {}
    if (card.latitude is None) != (card.longitude is None):
        errors["latitude" if card.latitude is None else "longitude"] = msg.COORDINATES_IN_PAIRS
    this_year = runtime.get().clock.china_now().year  # the year the clerk lives in
    for name in ("founded_year", "report_year"):
        year = getattr(card, name)
        if year is not None and year > this_year:
            errors[name] = msg.YEAR_IN_FUTURE
    if card.founded_year and card.report_year and card.founded_year > card.report_year:
        typed = [name for name in ("founded_year", "report_year") if name in sent] or ["founded_year"]
        for name in typed:
            errors.setdefault(name, msg.FOUNDED_AFTER_REPORT if name == "founded_year" else msg.REPORT_BEFORE_FOUNDED)
    if errors:
        raise ValidationFailed(errors)


async def create_card(actor: Actor, *, unit_id: int, fields: dict[str, Any]) -> CoopCard:
    """Create the info card of a co-op unit in the actor's scope."""
    _require_write(actor)
    now = runtime.get().clock.now()
    card = CoopCard(unit_id=unit_id, created_at=now, updated_at=now, **_to_columns(fields))
    _check_card(card, fields)
    try:
        async with db.atomic():
            unit = await _lock_unit(actor, unit_id)
            await _require_money_access(actor, unit, fields)
            if await CoopCard.filter(unit_id=unit_id).exists():
                raise Conflict("card_exists", msg.CARD_EXISTS)
            await card.save()
            await rollups.card_changed(unit.path, rollups.ZERO, rollups.contribution(card))
            await audit.record(
                "coop.card.create",
                actor=actor,
                scope_path=unit.path,
                target_type="coop_card",
                target_id=unit.id,
                detail={"fields": sorted(fields)},
            )
    except IntegrityError as exc:  # a parallel create won the unique unit_id
        raise Conflict("card_exists", msg.CARD_EXISTS) from exc
    return card


async def update_card(
    actor: Actor, unit_id: int, changes: dict[str, Any], *, if_match: IfMatch | None = None
) -> CoopCard:
    """Change the fields sent (only those, and only where they differ: a write that changes nothing
    leaves the card, its version and the audit log alone) of the card of a co-op in scope; with
    ``if_match``, only if the card is still the version the client read (else 412 ``card_changed``)."""
    _require_write(actor)
    columns = _to_columns(changes)
    async with db.atomic():
        unit = await _lock_unit(actor, unit_id)
        await _require_money_access(actor, unit, changes)
        card = await CoopCard.select_for_update().get_or_none(unit_id=unit_id)
        if card is None:
            raise NotFound(msg.NO_CARD)
        _require_unchanged(card, if_match)
        # Only what differs from the card as locked: values sent as they are write nothing (no new
        # version, which would refuse every If-Match holding the current one, and no audit entry).
        changes = _differing(card, changes, columns)
        if not changes:
            return card
        columns = {column: columns[column] for name in changes for column in _columns_of(name)}
        before = rollups.contribution(card)
        for name, value in columns.items():
            setattr(card, name, value)
        _check_card(card, changes)
        # Past the version replaced even if the clock is not (stepped back, or frozen in tests): the
        # card's version (its ETag's) is made from it, so every write must move it.
        card.updated_at = max(runtime.get().clock.now(), card.updated_at + timedelta(microseconds=1))
        await card.save(update_fields=[*columns, "updated_at"])
        await rollups.card_changed(unit.path, before, rollups.contribution(card))
        await audit.record(
            "coop.card.update",
            actor=actor,
            scope_path=unit.path,
            target_type="coop_card",
            target_id=unit.id,
            detail={"fields": sorted(changes)},
        )
    return card


async def delete_card(actor: Actor, unit_id: int, *, if_match: IfMatch | None = None) -> None:
    """Delete the card of a co-op in scope (the unit stays); its figures leave every roll-up. (Whatever
    the unit's type: a card must always be removable.) With ``if_match``, only if the card is still
    the version the client read (else 412 ``card_changed``)."""
    _require_write(actor)
    async with db.atomic():
        unit = await _lock_unit(actor, unit_id, coop=False)
        card = await CoopCard.select_for_update().get_or_none(unit_id=unit_id)
        if card is None:
            raise NotFound(msg.NO_CARD)
        money = (card.registered_capital_fen, card.assets_fen, card.revenue_fen, card.profit_fen)
        if any(money) and not card_visible(actor, unit, await load_ancestors([unit])):
            # Deleting wipes figures they may not write (and a new card would let them set none).
            raise AppError("finance_required", msg.DELETE_NEEDS_FINANCE, status=403)
        _require_unchanged(card, if_match)
        await card.delete()
        await rollups.card_changed(unit.path, rollups.contribution(card), rollups.ZERO)
        await audit.record(
            "coop.card.delete",
            actor=actor,
            scope_path=unit.path,
            target_type="coop_card",
            target_id=unit.id,
        )
