"""SMS tasks: the database decides what to do, the queue only says when to look."""

from __future__ import annotations

from typing import Any

from backend.core import sms, sms_delivery

SWEEP_EVERY_SECONDS = 10
DELIVER_TIMEOUT_SECONDS = 60  # below the lease (sms_delivery.LEASE_SECONDS), above two gateway calls


async def sms_deliver(ctx: dict[str, Any], message_id: int) -> str:
    """One delivery attempt of one message; a no-op if it is not due or already settled."""
    return (await sms_delivery.deliver(message_id)).value


async def sms_sweep(ctx: dict[str, Any]) -> int:
    """Queue a delivery task for every message that is due; returns how many were queued."""
    return await sms_delivery.sweep(pool=ctx.get("redis"))


CLEAR_MINUTE = 17  # hourly


async def sms_params_clear(ctx: dict[str, Any]) -> int:
    """Blank the parameters (temporary passwords, codes) of messages settled over a week ago."""
    return await sms.clear_old_params()
