"""Fixed-window counters in Redis, windows computed from the injected clock."""

from __future__ import annotations

import ipaddress

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


async def hit(name: str, subject: str, *, limit: int, window_seconds: int) -> bool:
    """Count one attempt; False when ``subject`` has used up ``limit`` attempts in this window."""
    bucket = int(runtime.get().clock.timestamp() // window_seconds)
    key = f"throttle:{name}:{_counted_as(subject)}:{bucket}"
    return await count(key, ttl_seconds=window_seconds + 5) <= limit
