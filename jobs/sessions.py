"""Forget the recorded ends of sessions (migration 0012) once those sessions are past their absolute
lifetime: the clock refuses them then, whatever Redis holds, so the table keeps only a day's ends.
The records of committed keyed writes (migration 0020) go too once past their retry window."""

from __future__ import annotations

import logging
from typing import Any

from backend.core import idempotency, sessions

log = logging.getLogger(__name__)

FORGET_MINUTE = 29  # hourly


async def ended_sessions_prune(ctx: dict[str, Any]) -> int:
    """Delete the ended-session records past their session's absolute end (how many), and the
    records of keyed writes past their retry window."""
    deleted = await sessions.forget_ended()
    log.info("ended sessions: %d records past their lifetime deleted", deleted)
    done = await idempotency.forget_done()
    log.info("idempotent requests: %d records past their retry window deleted", done)
    return deleted
