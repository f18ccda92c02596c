"""Fixed-window counters in Redis, windows computed from the injected clock."""

from __future__ import annotations

from backend.core import runtime


async def hit(name: str, subject: str, *, limit: int, window_seconds: int) -> bool:
    """Count one attempt; False when ``subject`` has used up ``limit`` attempts in this window."""
    rt = runtime.get()
    bucket = int(rt.clock.timestamp() // window_seconds)
    key = f"throttle:{name}:{subject}:{bucket}"
    async with rt.redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window_seconds + 5)
        count, _ = await pipe.execute()
    return int(count) <= limit
