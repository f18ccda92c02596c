"""Short-lived, single-use tickets that carry a multi-step flow from one step to the next.

A ticket names its purpose and whatever the next step needs (an account id, a phone); Redis holds
only the SHA-256 of the token. A step that may fail and be retried (a mistyped code) reads the
ticket with :func:`peek` and takes it with :func:`consume` only once it succeeds; ``consume`` is
atomic, so two parallel requests cannot both use one ticket.

A last step that did its work under :func:`remembered` leaves a record of it: the client whose
answer was lost (a weak network) resends with the same ``Idempotency-Key`` and :func:`done` gives it
the same answer; a resend without the key learns that the step was done, not that its ticket is
invalid. (backend.core.idempotency keys no anonymous recovery step.)
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from backend.core import idempotency, runtime
from backend.core.crypto import sha256_hex
from backend.core.errors import AppError

TICKET_INVALID = "操作已过期或无效，请从头开始"
DONE_TTL_SECONDS = idempotency.TTL_SECONDS  # as long as a keyed request's retry is answered

# KEYS: ticket key. ARGV: purpose. The record, deleted only when it is of that purpose (in one step:
# of two parallel takers one gets it); a ticket shown to another step stays usable for its own.
_TAKE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local ok, record = pcall(cjson.decode, raw)
if ok and type(record) == 'table' and record['purpose'] == ARGV[1] then redis.call('DEL', KEYS[1]) end
return raw
"""


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
    """Take the ticket: it cannot be used again, whether or not the caller then succeeds. A ticket of
    another purpose is refused and left in place."""
    if not token or len(token) > 100:
        raise AppError("ticket_invalid", TICKET_INVALID, status=410)
    return _check(await runtime.get().redis.eval(_TAKE, 1, _key(token), purpose), purpose)


async def give_back(token: str, purpose: str, data: dict[str, Any], *, ttl_seconds: int) -> None:
    """Put back a ticket just taken by a step whose work then failed (a database outage), valid
    ``ttl_seconds`` from now, so that the step can be tried again; never over a ticket there."""
    rt = runtime.get()
    record = {"purpose": purpose, "expires_at": rt.clock.timestamp() + ttl_seconds, "data": data}
    await rt.redis.set(_key(token), json.dumps(record), ex=ttl_seconds + 30, nx=True)


async def update(token: str, purpose: str, data: dict[str, Any]) -> None:
    """Replace the ticket's data, keeping its expiry (e.g. to count failed tries on a step)."""
    rt = runtime.get()
    raw = await rt.redis.get(_key(token))
    record = json.loads(raw) if raw else None
    _check(raw, purpose)
    assert record is not None
    record["data"] = data
    await rt.redis.set(_key(token), json.dumps(record), xx=True, keepttl=True)


async def extend(token: str, purpose: str, *, ttl_seconds: int) -> None:
    """Keep the ticket valid ``ttl_seconds`` from now at least (never shorter); raises
    ``ticket_invalid`` when it is gone, expired or foreign. A ticket taken meanwhile stays taken."""
    rt = runtime.get()
    raw = await rt.redis.get(_key(token))
    _check(raw, purpose)
    assert raw is not None
    record = json.loads(raw)
    now = rt.clock.timestamp()
    record["expires_at"] = max(record["expires_at"], now + ttl_seconds)
    ex = math.ceil(record["expires_at"] - now) + 30
    await rt.redis.set(_key(token), json.dumps(record), xx=True, ex=ex)


@dataclass(frozen=True)
class Done:
    """A step done with a ticket: whether a retry is the same request (its Idempotency-Key) and what
    the step answered."""

    same_request: bool
    answer: dict[str, Any]


def _done_key(token: str, purpose: str) -> str:
    return f"ticket-done:{purpose}:{sha256_hex(token)}"


def _request_key(idempotency_key: str | None) -> str | None:
    return sha256_hex(idempotency_key) if idempotency_key else None


@asynccontextmanager
async def remembered(
    token: str, purpose: str, idempotency_key: str | None, *, ttl_seconds: int = DONE_TTL_SECONDS
) -> AsyncIterator[dict[str, Any]]:
    """Around the work of a step whose ticket was just consumed: the caller fills the yielded dict
    with its answer, kept (encrypted) for :func:`done` ``ttl_seconds`` long; a retry meanwhile is told
    to wait, and a step that raised leaves nothing (its retry is told to start again)."""
    rt = runtime.get()
    key = _done_key(token, purpose)
    await rt.redis.set(key, json.dumps({"state": "pending"}), ex=ttl_seconds)
    answer: dict[str, Any] = {}
    try:
        yield answer
    except BaseException:
        await rt.redis.delete(key)
        raise
    record = {
        "state": "done",
        "request": _request_key(idempotency_key),
        "answer": rt.vault.encrypt("ticket.done", json.dumps(answer)),
    }
    await rt.redis.set(key, json.dumps(record), ex=ttl_seconds)


async def done(token: str, purpose: str, idempotency_key: str | None) -> Done | None:
    """The step ``token`` did under :func:`remembered` (None: it did not); raises
    ``request_in_progress`` while that step still runs."""
    if not token or len(token) > 100:
        return None
    rt = runtime.get()
    raw = await rt.redis.get(_done_key(token, purpose))
    if raw is None:
        return None
    record = json.loads(raw)
    if record["state"] == "pending":
        raise AppError("request_in_progress", idempotency.IN_PROGRESS, status=409)
    request = _request_key(idempotency_key)
    answer = json.loads(rt.vault.decrypt("ticket.done", record["answer"]))
    return Done(same_request=request is not None and request == record["request"], answer=answer)
