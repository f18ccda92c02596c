"""Tasks whose outcome is no longer wanted (a read started early, a turn run ahead)."""

from __future__ import annotations

import asyncio
from typing import Any


async def finish_unused(*tasks: asyncio.Future[Any]) -> None:
    """Let ``tasks`` run to their end (cutting a read off mid-way would cost its connection) and
    drop their outcomes, retrieved so that a failure is not reported as never retrieved."""
    await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled():
            task.exception()
