"""Fixed-window counters in Redis, windows computed from the injected clock."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

from backend.core import runtime
from backend.core.http import ip_address_of

# One IPv6 subscriber (a phone on a mobile network, a home line) is given a whole /64 and may use any
# address in it: a per-address throttle counts the prefix, or a new address per request escapes it.
IPV6_PREFIX_BITS = 64


def _counted_as(subject: str) -> str:
    """An IPv6 address counts as its /64 (an IPv4 address seen through IPv6 as itself); any other
    subject (an IPv4 address, a phone, an account) as it is."""
    if ":" not in subject:
        return subject
    address = ip_address_of(subject)
    if not isinstance(address, ipaddress.IPv6Address):
        return subject
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, IPV6_PREFIX_BITS), strict=False))


async def count(key: str, *, ttl_seconds: int) -> int:
    """Add one to the counter ``key`` and (re)set its expiry, atomically; the count with this one."""
    async with runtime.get().redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, ttl_seconds)
        counted, _ = await pipe.execute()
    return int(counted)


@dataclass(frozen=True)
class Refused:
    """An attempt over the limit: ``retry_after``, the whole seconds until the window ends (at least 1);
    ``first``, whether it is the first one refused in this window (to log a flood once)."""

    retry_after: int
    first: bool


async def attempt(name: str, subject: str, *, limit: int, window_seconds: int) -> Refused | None:
    """Count one attempt; None while ``subject`` has not used up ``limit`` attempts in this window."""
    now = runtime.get().clock.timestamp()
    bucket = int(now // window_seconds)
    key = f"throttle:{name}:{_counted_as(subject)}:{bucket}"
    counted = await count(key, ttl_seconds=window_seconds + 5)
    if counted <= limit:
        return None
    return Refused(retry_after=max(1, math.ceil((bucket + 1) * window_seconds - now)), first=counted == limit + 1)


async def hit(name: str, subject: str, *, limit: int, window_seconds: int) -> bool:
    """Count one attempt; False when ``subject`` has used up ``limit`` attempts in this window."""
    return await attempt(name, subject, limit=limit, window_seconds=window_seconds) is None
