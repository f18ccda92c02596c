"""Keep SQLite's planner statistics current (backend.core.db.optimize): the tables that filled since
their last analysis, or that were empty then, are analysed again; usually nothing to do. A server
runs for months on one connection, which SQLite's advice has analysed periodically; PostgreSQL's
autovacuum does this itself (the step does nothing there)."""

from __future__ import annotations

import logging
import time
from typing import Any

from backend.core import db

log = logging.getLogger(__name__)

OPTIMIZE_HOUR, OPTIMIZE_MINUTE = 3, 53  # nightly in China time (jobs.worker), after the roll-up check
OPTIMIZE_TIMEOUT_SECONDS = 10 * 60


async def planner_statistics(ctx: dict[str, Any]) -> float:
    """Run ``PRAGMA optimize`` on SQLite; returns the seconds it took."""
    started = time.perf_counter()
    await db.optimize()
    seconds = time.perf_counter() - started
    log.info("planner statistics checked in %.2f s", seconds)
    return seconds
