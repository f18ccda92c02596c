"""Co-op roll-up check (W4): recompute every roll-up row from the cards, report and repair drift.

The card actions and unit moves keep the rows current in their own transactions; this nightly job
is the safety net for anything that bypassed them (a manual SQL fix, a restore, a bug). It checks
first, which holds no writer back; only drift found makes it repair, which on PostgreSQL locks card
and roll-up writers out while it recomputes again (so a write meanwhile is neither lost nor doubled).
"""

from __future__ import annotations

import logging
from typing import Any

from backend.coops import rollups

log = logging.getLogger(__name__)

CHECK_HOUR, CHECK_MINUTE = 3, 17  # nightly in China time (jobs.worker), when nobody is entering cards
CHECK_TIMEOUT_SECONDS = 30 * 60


async def coop_rollups_check(ctx: dict[str, Any]) -> dict[str, object]:
    """Check every roll-up row against the cards and repair the ones that drifted."""
    report = await rollups.check(repair=False)
    if report.drifted:
        report = await rollups.check(repair=True)  # under the writers' lock: what has drifted by then
    if report.drifted:
        log.warning(
            "coop roll-ups drifted: %d missing, %d wrong of %d units, repaired (first units: %s)",
            report.missing,
            report.wrong,
            report.checked,
            report.sample,
        )
    else:
        log.info("coop roll-ups consistent: %d units checked", report.checked)
    return report.as_dict()
