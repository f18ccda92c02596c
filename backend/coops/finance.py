"""Money of the co-op cards: whole fen inside, 万元 with two decimals outside, and who may see it.

The finance permission of the actor's membership decides whether money figures leave the server:

- ``all``: every money figure in the actor's scope.
- ``none``: never; each figure is replaced by the text "无权限".
- ``own_region`` (有本地区权限): on a card, only when the co-op's *region* is the actor's own unit.
  A co-op's region is its nearest ancestor whose type is a region (province, city, county,
  township or village). So a village's viewer sees the money of the co-ops directly in that
  village (also of a co-op hanging below another co-op there), a township's viewer sees the
  township-level co-ops but not those of its villages, and an actor whose own unit is not a region
  (a co-op's own account) sees none: give such accounts ``all``, which their scope already limits
  to their own co-op. In summaries and statistics, ``own_region`` sees the money totals of the
  actor's own unit only, never those of a sub-unit, and only while no region below the own unit
  has co-ops: their cards are masked, and a total holding them would give them away (the total
  minus the cards shown, or its rise when one card is written).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from backend.coops import messages as msg
from backend.core.actor import Actor
from backend.core.roles import FinanceAccess
from backend.units.models import REGION_TYPES, Unit

FEN_PER_WAN = 1_000_000  # 1 万元 = 10,000 元 = 1,000,000 分
_FEN_DIGITS = 6  # FEN_PER_WAN as a power of ten
REGION_TYPE_VALUES = frozenset(t.value for t in REGION_TYPES)
_FEN_PER_HUNDREDTH = FEN_PER_WAN // 100  # 0.01 万元


def fen_from_wan(value: Decimal) -> int | None:
    """万元 as entered -> whole fen; None when the value is finer than one fen (or not a number).

    Exactly, from the digits: multiplied in a decimal context, 12.3400000000000000000000000000001
    rounded to 12.34 and 1e-999999999 to nothing, and either passed as whole fen. Callers bound the
    size (schemas.MAX_WAN); a value past 10^18 fen is refused here too.
    """
    if not value.is_finite():
        return None
    sign, digits, exponent = value.as_tuple()
    coefficient = int("".join(map(str, digits)))
    if coefficient == 0:
        return 0
    while coefficient % 10 == 0:
        coefficient //= 10
        exponent += 1  # type: ignore[operator]
    shift = exponent + _FEN_DIGITS  # type: ignore[operator]
    if shift < 0 or shift + len(str(coefficient)) > 18:
        return None
    return (-1 if sign else 1) * coefficient * 10**shift


def wan(fen: int) -> str:
    """Whole fen -> 万元 with two decimals, halves away from zero, e.g. 123456789 -> "123.46".

    In integers: summaries write them for every child unit, and Decimal took 1.3 µs each. A loss
    that rounds to nothing is "0.00", not "-0.00".
    """
    hundredths, rest = divmod(abs(fen), _FEN_PER_HUNDREDTH)
    if rest * 2 >= _FEN_PER_HUNDREDTH:
        hundredths += 1
    sign = "-" if fen < 0 and hundredths else ""
    return f"{sign}{hundredths // 100}.{hundredths % 100:02d}"


def shown(fen: int | None, visible: bool) -> str:
    """A money figure as the actor may see it: 万元, "无权限", or "未填报" (None: not entered yet)."""
    if not visible:
        return msg.NO_FINANCE
    return msg.NOT_ENTERED if fen is None else wan(fen)


def total_shown(totals: Mapping[str, int], figure: str, visible: bool) -> str:
    """A money total of roll-up ``totals`` (``figure``: "assets", ...) as the actor may see it:
    "未填报" when none of the cards counted has the figure (a 0 no one typed)."""
    return shown(totals[f"{figure}_fen"] if totals[f"{figure}_entered"] else None, visible)


def divide_halves_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` (denominator > 0) to a whole number, halves away from zero (四舍五入),
    in integers: a float's round() rounds halves to even and 0.15 is stored as 0.1499..."""
    whole = (2 * abs(numerator) + denominator) // (2 * denominator)
    return -whole if numerator < 0 else whole


def average_fen(total: int, count: int) -> int:
    """``total / count`` fen, rounded once, halves away from zero, to the 0.01 万元 :func:`wan`
    shows (rounding to whole fen first and then to 0.01 万元 could round a half twice)."""
    if not count:
        return 0
    return divide_halves_up(total, count * _FEN_PER_HUNDREDTH) * _FEN_PER_HUNDREDTH


def path_ids(path: str) -> list[int]:
    """``/1/5/23/`` -> ``[1, 5, 23]`` (the root first, the unit itself last)."""
    return [int(part) for part in path.strip("/").split("/") if part]


def summary_visible(actor: Actor, unit_id: int, unit_type: str) -> bool:
    """May the actor see the money totals of the summary of unit ``unit_id`` (a unit in scope), as
    far as the permission alone says? ``own_region`` only at its own unit, and only if that is a
    region (as on the cards: a co-op's own account sees none of its card's money, so none of its
    summary's either); it further needs backend.coops.queries to find no region below with co-ops."""
    if actor.finance_access == FinanceAccess.ALL:
        return True
    return (
        actor.finance_access == FinanceAccess.OWN_REGION
        and unit_id == actor.unit_id
        and unit_type in REGION_TYPE_VALUES
    )


def nearest_region(unit: Unit, ancestors: dict[int, Unit]) -> Unit | None:
    """The deepest ancestor of ``unit`` (itself excluded) whose type is a region, among ``ancestors``."""
    for ancestor_id in reversed(path_ids(unit.path)[:-1]):
        ancestor = ancestors.get(ancestor_id)
        if ancestor is not None and ancestor.type in REGION_TYPE_VALUES:
            return ancestor
    return None


async def load_ancestors(units: Iterable[Unit]) -> dict[int, Unit]:
    """Every ancestor of the given units, by id, in one query (ids come from the paths)."""
    wanted = {ancestor for unit in units for ancestor in path_ids(unit.path)[:-1]}
    if not wanted:
        return {}
    return {u.id: u for u in await Unit.filter(id__in=wanted).only("id", "name", "type", "path")}


def card_visible(actor: Actor, unit: Unit, ancestors: dict[int, Unit]) -> bool:
    """May the actor see the money figures of the card of co-op ``unit`` (a unit in scope)?"""
    if actor.finance_access == FinanceAccess.ALL:
        return True
    if actor.finance_access != FinanceAccess.OWN_REGION:
        return False
    region = nearest_region(unit, ancestors)
    return region is not None and region.id == actor.unit_id
