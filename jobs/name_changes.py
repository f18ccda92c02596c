"""Trim the name index's change log (migration 0009): each process reads only the changes after the
version it has applied, and one further behind than the rows kept rebuilds its tables anyway."""

from __future__ import annotations

import logging
from typing import Any

from backend.chat import name_index

log = logging.getLogger(__name__)

PRUNE_MINUTE = 41  # hourly


async def name_changes_prune(ctx: dict[str, Any]) -> int:
    """Delete the change rows older than the newest ten overlays' worth."""
    deleted = await name_index.prune()
    log.info("name change log: %d old rows deleted", deleted)
    return deleted
