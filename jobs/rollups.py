"""Co-op roll-up check (W4): recompute every roll-up row from the cards, report and repair drift.

The card actions and unit moves keep the rows current in their own transactions; this nightly job
is the safety net for anything that bypassed them (a manual SQL fix, a restore, a bug). It checks
first, which holds no writer back; only drift found makes it repair, which on PostgreSQL locks card
and roll-up writers out while it recomputes again (so a write meanwhile is neither lost nor doubled).
It waits for that lock a moment at most, tries again later and gives up for the night if card writes
keep the tables busy: a waiting lock request holds back every card write queued after it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from backend.coops import rollups

log = logging.getLogger(__name__)

CHECK_HOUR, CHECK_MINUTE = 3, 17  # nightly in China time (jobs.worker), when nobody is entering cards
CHECK_TIMEOUT_SECONDS = 30 * 60
# The repair's lock request waits this long at most (PostgreSQL): while it waits, every card write
# queues behind it. Busy, it tries again a little later, and gives up for the night after the last try.
REPAIR_LOCK_TIMEOUT_MS = 2000
REPAIR_TRIES = 5
REPAIR_RETRY_SECONDS = 60


async def coop_rollups_check(ctx: dict[str, Any]) -> dict[str, object]:
    """Check every roll-up row against the cards and repair the ones that drifted."""
    found = await rollups.check(repair=False)
    if not found.drifted:
        log.info("coop roll-ups consistent: %d units checked", found.checked)
        return found.as_dict()
    # Said before the repair, which may fail: the drift found is known whatever becomes of it.
    log.warning(
        "coop roll-ups drifted: %d missing, %d wrong of %d units (first units: %s); repairing",
        found.missing,
        found.wrong,
        found.checked,
        found.sample,
    )
    report = await _repair()
    if report is None:
        log.warning(
            "coop roll-up repair gave up for this run: card writers held the tables at each of %d tries; "
            "the drift stays until the next run (or `python -m backend coops rebuild-rollups`)",
            REPAIR_TRIES,
        )
        return found.as_dict()
    if report.drifted:
        log.warning(
            "coop roll-ups repaired: %d missing, %d wrong of %d units (first units: %s)",
            report.missing,
            report.wrong,
            report.checked,
            report.sample,
        )
    else:
        log.info("coop roll-ups: the drift found was gone by the repair (%d units checked)", report.checked)
    return report.as_dict()


async def _repair() -> rollups.CheckReport | None:
    """The repair, under the writers' lock (what has drifted by then); None if the lock stayed busy."""
    for attempt in range(REPAIR_TRIES):
        if attempt:
            await asyncio.sleep(REPAIR_RETRY_SECONDS)
        try:
            return await rollups.check(repair=True, lock_timeout_ms=REPAIR_LOCK_TIMEOUT_MS)
        except rollups.RepairLockBusy:
            log.info("coop roll-up repair: tables busy (try %d of %d)", attempt + 1, REPAIR_TRIES)
    return None
