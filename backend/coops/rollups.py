"""Roll-ups (W4): per unit, the totals of the co-op cards in its whole subtree, itself included.

Kept current by the writers, in their transaction:

- a card created, changed or deleted adds its difference to the rows of every unit on the co-op's
  materialised path (the ids in ``/1/5/23/``) with one UPDATE, after creating the missing rows with
  one INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL both speak it);
- a unit moved carries its subtree's row along: subtracted from the old ancestors, added to the new
  ones, the common ancestors untouched (:func:`move_subtree`, called by ``units.actions.move_unit``);
- a unit deleted has no children and no card (both are refused), so its row is zero and goes with it.

:func:`check` recomputes every row from the cards (one GROUP BY per co-op unit, then the sums are
carried up the paths in Python) and, with ``repair``, rewrites the rows that drifted; the nightly
job and ``python -m backend coops rebuild-rollups`` run it.

Lock order, to keep writers from deadlocking on PostgreSQL: the co-op's unit row (card actions) or
the moved subtree's unit rows (move), then roll-up rows, then the audit head.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from backend.coops.finance import path_ids
from backend.coops.models import CoopCard, CoopRollup
from backend.core import db, runtime

COUNTERS = (
    "coops",
    "village_level",
    "benchmark",
    "poverty_county",
    "members",
    "staff",
    "registered_capital_fen",
    "assets_fen",
    "revenue_fen",
    "profit_fen",
    "registered_capital_entered",
    "assets_entered",
    "revenue_entered",
    "profit_entered",
)
ZERO = (0,) * len(COUNTERS)
Totals = tuple[int, ...]


def contribution(card: CoopCard | None) -> Totals:
    """What one card adds to the roll-ups of its ancestors (zero for no card)."""
    if card is None:
        return ZERO
    return (
        1,
        int(card.is_village_level),
        int(card.is_benchmark),
        int(card.in_poverty_county),
        card.members,
        card.staff,
        *(money or 0 for money in _money(card)),
        *(int(money is not None) for money in _money(card)),
    )


def _money(card: CoopCard) -> tuple[int | None, ...]:
    return (card.registered_capital_fen, card.assets_fen, card.revenue_fen, card.profit_fen)


def difference(new: Totals, old: Totals) -> Totals:
    return tuple(a - b for a, b in zip(new, old, strict=True))


def totals_of(row: CoopRollup | dict | None) -> Totals:
    if row is None:
        return ZERO
    if isinstance(row, dict):
        return tuple(int(row[name] or 0) for name in COUNTERS)
    return tuple(int(getattr(row, name)) for name in COUNTERS)


def _marks(count: int) -> str:
    return ", ".join("?" * count)


async def _ensure_rows(unit_ids: Sequence[int], now: datetime) -> None:
    zeros = ", ".join("0" for _ in COUNTERS)
    await db.execute(
        f"INSERT INTO coop_rollup (unit_id, {', '.join(COUNTERS)}, updated_at) "
        f"SELECT id, {zeros}, ? FROM unit WHERE id IN ({_marks(len(unit_ids))}) "
        "ON CONFLICT (unit_id) DO NOTHING",
        [now, *unit_ids],
    )


async def add(unit_ids: Sequence[int], delta: Totals, now: datetime | None = None) -> None:
    """Add ``delta`` to the roll-up rows of ``unit_ids`` (missing rows first created at zero)."""
    if not unit_ids or not any(delta):
        return
    now = now or runtime.get().clock.now()
    await _ensure_rows(unit_ids, now)
    assignments = ", ".join(f"{name} = {name} + ?" for name in COUNTERS)
    await db.execute(
        f"UPDATE coop_rollup SET {assignments}, updated_at = ? WHERE unit_id IN ({_marks(len(unit_ids))})",
        [*delta, now, *unit_ids],
    )


async def card_changed(unit_path: str, old: Totals, new: Totals) -> None:
    """A card of the co-op at ``unit_path`` went from ``old`` to ``new``: update every ancestor row."""
    await add(path_ids(unit_path), difference(new, old))


async def move_subtree(unit_id: int, old_path: str, new_path: str) -> None:
    """Carry the roll-up of a moved subtree from its old ancestors to its new ones (in the move's transaction)."""
    moved = totals_of(await CoopRollup.get_or_none(unit_id=unit_id))
    if not any(moved):
        return
    old_ancestors = path_ids(old_path)[:-1]
    new_ancestors = path_ids(new_path)[:-1]
    common = set(old_ancestors) & set(new_ancestors)
    now = runtime.get().clock.now()
    await add([i for i in old_ancestors if i not in common], difference(ZERO, moved), now)
    await add([i for i in new_ancestors if i not in common], moved, now)


@dataclass
class CheckReport:
    checked: int = 0  # units with cards in their subtree or with a roll-up row
    missing: int = 0  # a unit with cards below it has no row
    wrong: int = 0  # a row whose totals differ from the cards
    repaired: bool = False
    sample: list[int] = field(default_factory=list)  # the first few drifted unit ids

    @property
    def drifted(self) -> int:
        return self.missing + self.wrong

    def as_dict(self) -> dict[str, object]:
        return {
            "checked": self.checked,
            "missing": self.missing,
            "wrong": self.wrong,
            "drifted": self.drifted,
            "repaired": self.repaired,
            "sample": self.sample,
        }


_SUMS = (
    "COUNT(*) AS coops, "
    "SUM(CASE WHEN c.is_village_level THEN 1 ELSE 0 END) AS village_level, "
    "SUM(CASE WHEN c.is_benchmark THEN 1 ELSE 0 END) AS benchmark, "
    "SUM(CASE WHEN c.in_poverty_county THEN 1 ELSE 0 END) AS poverty_county, "
    "SUM(c.members) AS members, SUM(c.staff) AS staff, "
    "SUM(c.registered_capital_fen) AS registered_capital_fen, SUM(c.assets_fen) AS assets_fen, "
    "SUM(c.revenue_fen) AS revenue_fen, SUM(c.profit_fen) AS profit_fen, "
    "COUNT(c.registered_capital_fen) AS registered_capital_entered, COUNT(c.assets_fen) AS assets_entered, "
    "COUNT(c.revenue_fen) AS revenue_entered, COUNT(c.profit_fen) AS profit_entered"
)


async def recompute() -> dict[int, Totals]:
    """The roll-up every unit should have, from the cards: aggregate per co-op unit, carry up the paths."""
    rows = await db.fetch(
        f"SELECT u.path AS path, {_SUMS} FROM coop_card c JOIN unit u ON u.id = c.unit_id GROUP BY u.path", []
    )
    expected: dict[int, list[int]] = {}
    for row in rows:
        values = totals_of(row)
        for unit_id in path_ids(row["path"]):
            sums = expected.setdefault(unit_id, [0] * len(COUNTERS))
            for i, value in enumerate(values):
                sums[i] += value
    return {unit_id: tuple(sums) for unit_id, sums in expected.items()}


class RepairLockBusy(RuntimeError):
    """The repair did not get its lock within its ``lock_timeout_ms``: card writers held the tables."""


_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's lock_timeout (and NOWAIT) error


def _lock_not_available(exc: BaseException) -> bool:
    """Was ``exc`` (or what caused it: tortoise wraps asyncpg's errors) a lock wait cut off?"""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if getattr(current, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


async def check(*, repair: bool, sample_size: int = 20, lock_timeout_ms: int | None = None) -> CheckReport:
    """Compare every roll-up row with a recomputation from the cards; with ``repair``, fix the drift.

    On PostgreSQL the card and roll-up tables are locked against writers (not readers) for the
    duration of a repair, so no card change slips between the recomputation and the repair; a check
    alone reads one snapshot instead (REPEATABLE READ) and holds no writer back, and a card written
    between its two reads is not reported as drift. (SQLite: a transaction reads one snapshot.)

    ``lock_timeout_ms`` (PostgreSQL): how long the repair waits for a lock before it gives up with
    :class:`RepairLockBusy`, nothing changed. A lock request waiting behind an open card write holds
    every later card write back, so the nightly job waits briefly; without it (the command line, the
    demo seed) the repair waits as long as it takes.
    """
    try:
        return await _check(repair=repair, sample_size=sample_size, lock_timeout_ms=lock_timeout_ms)
    except Exception as exc:
        if lock_timeout_ms is not None and _lock_not_available(exc):
            raise RepairLockBusy(f"roll-up tables busy for {lock_timeout_ms} ms") from exc
        raise


async def _check(*, repair: bool, sample_size: int, lock_timeout_ms: int | None) -> CheckReport:
    report = CheckReport()
    async with db.atomic():
        if db.db().capabilities.dialect == "postgres":
            if repair:
                if lock_timeout_ms is not None:  # for every lock of this transaction: the rows' too
                    await db.execute(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}", [])
                await db.execute("LOCK TABLE coop_card, coop_rollup IN SHARE ROW EXCLUSIVE MODE", [])
            else:
                await db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", [])
        expected = await recompute()
        stored = {
            int(row["unit_id"]): totals_of(row)
            for row in await db.fetch(f"SELECT unit_id, {', '.join(COUNTERS)} FROM coop_rollup", [])
        }
        missing = [unit_id for unit_id in expected if unit_id not in stored]
        wrong = [unit_id for unit_id, totals in stored.items() if totals != expected.get(unit_id, ZERO)]
        report.checked = len(set(expected) | set(stored))
        report.missing, report.wrong = len(missing), len(wrong)
        report.sample = sorted([*missing, *wrong])[:sample_size]
        if repair and (missing or wrong):
            await _repair(missing, wrong, expected)
            report.repaired = True
    return report


async def _repair(missing: list[int], wrong: list[int], expected: dict[int, Totals]) -> None:
    now = runtime.get().clock.now()
    if missing:
        await CoopRollup.bulk_create(
            [
                CoopRollup(unit_id=unit_id, updated_at=now, **dict(zip(COUNTERS, expected[unit_id], strict=True)))
                for unit_id in missing
            ],
            batch_size=2000,
        )
    assignments = ", ".join(f"{name} = ?" for name in COUNTERS)
    for unit_id in wrong:
        await db.execute(
            f"UPDATE coop_rollup SET {assignments}, updated_at = ? WHERE unit_id = ?",
            [*expected.get(unit_id, ZERO), now, unit_id],
        )


async def rebuild() -> CheckReport:
    """Recompute and repair every roll-up row (the demo seed, the command line, the nightly job)."""
    return await check(repair=True)
