"""Short-lived, single-use tickets that carry a multi-step flow from one step to the next.

A ticket names its purpose and whatever the next step needs (an account id, a phone); Redis holds
only the SHA-256 of the token. A step that may fail and be retried (a mistyped code) reads the
ticket with :func:`peek` and takes it with :func:`consume` only once it succeeds; ``consume`` is
atomic, so two parallel requests cannot both use one ticket.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from backend.core import runtime
from backend.core.crypto import sha256_hex
from backend.core.errors import AppError

TICKET_INVALID = "操作已过期或无效，请从头开始"


def _key(token: str) -> str:
    return f"ticket:{sha256_hex(token)}"


async def issue(purpose: str, data: dict[str, Any], *, ttl_seconds: int) -> str:
    rt = runtime.get()
    token = secrets.token_urlsafe(24)
    record = {"purpose": purpose, "expires_at": rt.clock.timestamp() + ttl_seconds, "data": data}
    await rt.redis.set(_key(token), json.dumps(record), ex=ttl_seconds + 30)
    return token


def _check(raw: str | None, purpose: str) -> dict[str, Any]:
    if raw is None:
        raise AppError("ticket_invalid", TICKET_INVALID, status=410)
    record = json.loads(raw)
    if record["purpose"] != purpose or runtime.get().clock.timestamp() > record["expires_at"]:
        raise AppError("ticket_invalid", TICKET_INVALID, status=410)
    return record["data"]


async def peek(token: str, purpose: str) -> dict[str, Any]:
    """The ticket's data, leaving it in place; raises ``ticket_invalid`` when gone, expired or foreign."""
    if not token or len(token) > 100:
        raise AppError("ticket_invalid", TICKET_INVALID, status=410)
    return _check(await runtime.get().redis.get(_key(token)), purpose)


async def consume(token: str, purpose: str) -> dict[str, Any]:
    """Take the ticket: it cannot be used again, whether or not the caller then succeeds."""
    if not token or len(token) > 100:
        raise AppError("ticket_invalid", TICKET_INVALID, status=410)
    return _check(await runtime.get().redis.getdel(_key(token)), purpose)


async def update(token: str, purpose: str, data: dict[str, Any]) -> None:
    """Replace the ticket's data, keeping its expiry (e.g. to count failed tries on a step)."""
    rt = runtime.get()
    raw = await rt.redis.get(_key(token))
    record = json.loads(raw) if raw else None
    _check(raw, purpose)
    assert record is not None
    record["data"] = data
    await rt.redis.set(_key(token), json.dumps(record), xx=True, keepttl=True)
