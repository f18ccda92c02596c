"""Pairing state in Redis (C3): moved atomically by one Lua script, changes published to both sides.

A pairing is one JSON value under ``pairing:<id>``. Every change goes through :func:`transition`,
which checks the current state against the allowed ones, applies the change, bumps ``version``
and publishes the new version on ``pairing-events:<id>`` in one step, so two backend instances
(or two taps) cannot both move it. Expiry follows the injected clock: a pairing read after its
``expires_at`` in a non-final state is moved to ``expired`` by the same script.

Waiting for a change (:func:`wait_for_change`) uses one pattern subscription per process (the
:class:`EventHub`) that wakes local waiters; waiters also re-read every few seconds, so a message
lost while Redis restarts delays an answer but never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from redis.asyncio import Redis

from backend.core import runtime
from backend.core.crypto import sha256_hex
from backend.core.redis import REDIS_ERRORS

log = logging.getLogger(__name__)

FINAL_STATES = frozenset({"done", "expired", "cancelled", "failed"})
KEEP_AFTER_EXPIRY_SECONDS = 600  # final states stay readable this long for the slower side
RECHECK_SECONDS = 5.0

_TRANSITION = """
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local p = cjson.decode(raw)
local now = tonumber(ARGV[3])
local final = {done=true, expired=true, cancelled=true, failed=true}
if not final[p.state] and now > p.expires_at then
  p.state = 'expired'
  p.version = p.version + 1
  raw = cjson.encode(p)
  redis.call('SET', KEYS[1], raw, 'KEEPTTL')
  redis.call('PUBLISH', KEYS[2], p.version)
  return {0, raw}
end
local allowed = false
for state in string.gmatch(ARGV[1], '[^,]+') do
  if state == p.state then allowed = true end
end
if not allowed then return {0, raw} end
local changes = cjson.decode(ARGV[2])
for k, v in pairs(changes) do p[k] = v end
p.version = p.version + 1
raw = cjson.encode(p)
redis.call('SET', KEYS[1], raw, 'KEEPTTL')
if ARGV[4] ~= '' then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4])) end
if KEYS[3] and KEYS[3] ~= '' then redis.call('DEL', KEYS[3]) end
redis.call('PUBLISH', KEYS[2], p.version)
return {1, raw}
"""


def _key(pairing_id: str) -> str:
    return f"pairing:{pairing_id}"


def _channel(pairing_id: str) -> str:
    return f"pairing-events:{pairing_id}"


def token_key(token: str) -> str:
    return f"pairing-token:{sha256_hex(token)}"


async def create(record: dict[str, Any], *, token: str, ttl_seconds: int) -> None:
    """Store a new pairing and its single-use QR token."""
    redis = runtime.get().redis
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(_key(record["pairing_id"]), json.dumps(record), ex=ttl_seconds + KEEP_AFTER_EXPIRY_SECONDS)
        pipe.set(token_key(token), record["pairing_id"], ex=ttl_seconds + 30)
        await pipe.execute()


async def pairing_for_token(token: str) -> str | None:
    return await runtime.get().redis.get(token_key(token))


async def transition(
    pairing_id: str,
    *,
    allowed: tuple[str, ...],
    changes: dict[str, Any],
    consume_key: str = "",
    ttl_seconds: int | None = None,
) -> tuple[bool, dict[str, Any] | None]:
    """Apply ``changes`` if the state is one of ``allowed``: (moved, the pairing as it now is).

    ``consume_key`` is deleted in the same step (the QR token on scan); ``ttl_seconds`` renews the
    record's lifetime in Redis. An unknown pairing gives (False, None).
    """
    rt = runtime.get()
    if any(isinstance(v, list) and not v for v in changes.values()):
        raise ValueError("empty lists do not survive cjson; use None")  # cjson encodes [] as {}
    ttl = "" if ttl_seconds is None else str(ttl_seconds + KEEP_AFTER_EXPIRY_SECONDS)
    keys = [_key(pairing_id), _channel(pairing_id)] + ([consume_key] if consume_key else [])
    answer = await rt.redis.eval(
        _TRANSITION, len(keys), *keys, ",".join(allowed), json.dumps(changes), repr(rt.clock.timestamp()), ttl
    )
    if answer is None:
        return False, None
    moved, raw = answer
    return bool(moved), json.loads(raw)


async def load(pairing_id: str) -> dict[str, Any] | None:
    """The pairing, moved to ``expired`` first if its time is up."""
    _, record = await transition(pairing_id, allowed=(), changes={})
    return record


class EventHub:
    """One pattern subscription per process; wakes the local waiters of a pairing on each change."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None

    def watch(self, pairing_id: str) -> asyncio.Event:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        event = asyncio.Event()
        self._waiters.setdefault(pairing_id, set()).add(event)
        return event

    def unwatch(self, pairing_id: str, event: asyncio.Event) -> None:
        waiters = self._waiters.get(pairing_id)
        if waiters is not None:
            waiters.discard(event)
            if not waiters:
                del self._waiters[pairing_id]

    async def _run(self) -> None:
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.psubscribe(_channel("*"))
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=RECHECK_SECONDS)
                    if message is not None:
                        pairing_id = str(message["channel"]).removeprefix(_channel(""))
                        for event in self._waiters.get(pairing_id, ()):
                            event.set()
            except REDIS_ERRORS as exc:
                log.warning("pairing events: subscription lost (%s); waiters fall back to re-reading", exc)
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(*REDIS_ERRORS):
                    await pubsub.aclose()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


_hubs: dict[int, EventHub] = {}


def hub() -> EventHub:
    redis = runtime.get().redis
    found = _hubs.get(id(redis))
    if found is None:
        found = _hubs[id(redis)] = EventHub(redis)
    return found


async def close_hubs() -> None:
    for each in list(_hubs.values()):
        await each.close()
    _hubs.clear()


async def wait_for_change(
    pairing_id: str, *, since: int, wait: float, current: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """The pairing as soon as its version is above ``since`` or it is final, else after ``wait`` s.

    ``current`` is the pairing as the caller just loaded it (saves reading it again).
    """
    record = current if current is not None else await load(pairing_id)
    if record is None or record["version"] > since or record["state"] in FINAL_STATES or wait <= 0:
        return record
    events = hub()
    event = events.watch(pairing_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    try:
        while True:
            event.clear()
            record = await load(pairing_id)  # after clearing: a change from now on sets the event
            if record is None or record["version"] > since or record["state"] in FINAL_STATES:
                return record
            remaining = deadline - loop.time()
            if remaining <= 0:
                return record
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=min(remaining, RECHECK_SECONDS))
    finally:
        events.unwatch(pairing_id, event)
