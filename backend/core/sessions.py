"""Revocable login sessions in Redis.

The client holds an opaque random token; Redis holds only its SHA-256 (``sess:<hash>``) with the
account, the chosen membership and the times. Expiry (idle and absolute) is decided with the
injected clock; Redis TTLs only clean up. ``acct-sess:<account id>`` lists an account's sessions
so that all of them can be ended at once. The public id of a session is a prefix of its hash.

Ending every session of an account is durable through the account row (``sessions_revoked_at``).
Ending one (logout, one ended from the list, the old token of a refresh, those of a unit taken away
or of a WeChat unbound) is recorded in the database too (:class:`EndedSession`) before Redis drops
it: a Redis restarted from a snapshot taken before the end brings the session back, and the guard
(backend.auth.guard) refuses it by that record. A record is kept until the session's absolute end
(and a minute; jobs.sessions deletes it then), after which the clock refuses the session anyway.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise import fields
from tortoise.models import Model

from backend.core import runtime
from backend.core.actor import Origin
from backend.core.crypto import sha256_hex

PUBLIC_ID_LENGTH = 16
# last_seen is rewritten at most this often (not a Redis write per request): a session's last use
# lies within this many seconds after its last_seen (see _expired).
TOUCH_EVERY_SECONDS = 30
_CLEANUP_MARGIN = 60
# Fields written into a session only while it exists: a plain HSET racing with its end would
# recreate the key with one field and no expiry.
_SET_IF_LIVE = (
    "if redis.call('exists', KEYS[1]) == 1 then return redis.call('hset', KEYS[1], unpack(ARGV)) end return -1"
)


class EndedSession(Model):
    """A session ended on its own, by the hash of its token, until it would have expired anyway."""

    key_hash = fields.CharField(max_length=64, primary_key=True)
    account_id = fields.IntField()
    ended_at = fields.DatetimeField()
    forget_after = fields.DatetimeField(db_index=True)  # the session's absolute end (and a minute)

    class Meta:
        table = "ended_session"


@dataclass(frozen=True)
class SessionRecord:
    key_hash: str
    account_id: int
    membership_id: int | None
    must_change: bool
    created_at: float
    last_seen: float
    ip: str
    user_agent: str
    wechat_identity_id: int | None = None  # the bound WeChat this session was started from, if any
    # The card a card login started this session with (backend.cards.models.card_key), if any: the
    # holder's replacement card taking that card's binding over ends it.
    card_key: str | None = None

    @property
    def public_id(self) -> str:
        return self.key_hash[:PUBLIC_ID_LENGTH]


def _key(key_hash: str) -> str:
    return f"sess:{key_hash}"


def bearer_token(header: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; "" for anything else, a token that
    is not plain ASCII among it (ours never is; hashing one that holds undecodable bytes failed)."""
    scheme, _, value = header.partition(" ")
    token = value.strip() if scheme.lower() == "bearer" else ""
    return token if token.isascii() else ""


def key_of_token(token: str) -> str:
    """The Redis key of a token's session."""
    return _key(sha256_hex(token))


def _account_key(account_id: int) -> str:
    return f"acct-sess:{account_id}"


def _decode(key_hash: str, raw: dict[str, str]) -> SessionRecord | None:
    if not raw or "account_id" not in raw:
        return None
    return SessionRecord(
        key_hash=key_hash,
        account_id=int(raw["account_id"]),
        membership_id=int(raw["membership_id"]) if raw.get("membership_id") else None,
        must_change=raw.get("must_change") == "1",
        created_at=float(raw["created_at"]),
        last_seen=float(raw["last_seen"]),
        ip=raw.get("ip", ""),
        user_agent=raw.get("user_agent", ""),
        wechat_identity_id=int(raw["wechat"]) if raw.get("wechat") else None,
        card_key=raw.get("card") or None,
    )


def _expired(record: SessionRecord, now: float) -> bool:
    """Past the absolute limit, or idle. The last use of a session lies in ``[last_seen, last_seen +
    TOUCH_EVERY_SECONDS)``: a use that finds last_seen younger than that leaves it as it is (load).
    So a session is idle only once ``now - last_seen`` exceeds the idle limit plus that interval:
    one used within the last ``session_idle_seconds`` is never ended as idle, and one unused for
    longer than ``session_idle_seconds + TOUCH_EVERY_SECONDS`` always is (in between, which of the
    two it was cannot be known without a write per request; it is kept)."""
    settings = runtime.get().settings
    return (
        now - record.last_seen > settings.session_idle_seconds + TOUCH_EVERY_SECONDS
        or now - record.created_at > settings.session_absolute_seconds
    )


async def create(
    account_id: int,
    *,
    membership_id: int | None,
    must_change: bool,
    origin: Origin,
    started_at: float | None = None,
    wechat_identity_id: int | None = None,
    card_key: str | None = None,
) -> tuple[str, SessionRecord]:
    """A new session; ``started_at`` carries the absolute lifetime over when a token is refreshed;
    ``wechat_identity_id``: the bound WeChat it was started from (a one-tap login, a login that bound
    one), which a password change keeps and an unbind logs out; ``card_key``: the card a card login
    started it with, whose replacement by the holder's new card logs it out."""
    rt = runtime.get()
    token = secrets.token_urlsafe(32)
    key_hash = sha256_hex(token)
    now = rt.clock.timestamp()
    raw = {
        "account_id": str(account_id),
        "membership_id": str(membership_id or ""),
        "must_change": "1" if must_change else "0",
        "created_at": repr(started_at if started_at is not None else now),
        "last_seen": repr(now),
        "ip": origin.ip or "",
        "user_agent": (origin.user_agent or "")[:200],
        "wechat": str(wechat_identity_id or ""),
        "card": card_key or "",
    }
    ttl = rt.settings.session_absolute_seconds + _CLEANUP_MARGIN
    async with rt.redis.pipeline(transaction=True) as pipe:
        pipe.hset(_key(key_hash), mapping=raw)
        pipe.expire(_key(key_hash), ttl)
        pipe.sadd(_account_key(account_id), key_hash)
        pipe.expire(_account_key(account_id), ttl)
        await pipe.execute()
    record = _decode(key_hash, raw)
    assert record is not None
    return token, record


async def load(token: str, *, key_hash: str | None = None) -> SessionRecord | None:
    """The live session of a token, touched; None when unknown, ended or expired. ``key_hash``: the
    token's SHA-256 when the caller has it already."""
    if not token or len(token) > 128:
        return None
    rt = runtime.get()
    key_hash = key_hash or sha256_hex(token)
    record = _decode(key_hash, await rt.redis.hgetall(_key(key_hash)))
    if record is None:
        return None
    now = rt.clock.timestamp()
    if _expired(record, now):
        await drop(record.account_id, key_hash)
        return None
    if now - record.last_seen >= TOUCH_EVERY_SECONDS:
        await rt.redis.eval(_SET_IF_LIVE, 1, _key(key_hash), "last_seen", repr(now))
    return record


async def update(record: SessionRecord, **changes: int | bool | None) -> None:
    mapping: dict[str, str] = {}
    if "membership_id" in changes:
        mapping["membership_id"] = str(changes["membership_id"] or "")
    if "must_change" in changes:
        mapping["must_change"] = "1" if changes["must_change"] else "0"
    if mapping:
        fields = [item for pair in mapping.items() for item in pair]
        await runtime.get().redis.eval(_SET_IF_LIVE, 1, _key(record.key_hash), *fields)


async def list_for(account_id: int, *, revoked_before: float | None = None) -> list[SessionRecord]:
    """The account's live sessions, newest first; expired ones, those started before
    ``revoked_before`` (the account's sessions_revoked_at: Redis may have failed to drop them) and
    those whose end is recorded (Redis restored from before it) are dropped on the way."""
    rt = runtime.get()
    hashes = sorted(await rt.redis.smembers(_account_key(account_id)))
    if not hashes:
        return []
    async with rt.redis.pipeline(transaction=False) as pipe:
        for key_hash in hashes:
            pipe.hgetall(_key(key_hash))
        rows = await pipe.execute()
    ended = set(await EndedSession.filter(key_hash__in=hashes).values_list("key_hash", flat=True))
    now = rt.clock.timestamp()
    live: list[SessionRecord] = []
    stale: list[str] = []
    for key_hash, raw in zip(hashes, rows, strict=True):
        record = _decode(key_hash, raw)
        if (
            record is None
            or key_hash in ended
            or _expired(record, now)
            or (revoked_before and record.created_at < revoked_before)
        ):
            stale.append(key_hash)
        else:
            live.append(record)
    if stale:
        await rt.redis.srem(_account_key(account_id), *stale)
        await rt.redis.delete(*(_key(h) for h in stale))
    return sorted(live, key=lambda r: r.created_at, reverse=True)


async def _record_ended(records: Iterable[SessionRecord]) -> None:
    """Record the end of these sessions in the database, before Redis drops them: if this fails, the
    caller fails with them still live, rather than report an end that a Redis restore would undo."""
    rt = runtime.get()
    now = rt.clock.now()
    lifetime = rt.settings.session_absolute_seconds + _CLEANUP_MARGIN  # a margin for other processes' clocks
    rows = [
        EndedSession(
            key_hash=record.key_hash,
            account_id=record.account_id,
            ended_at=now,
            forget_after=datetime.fromtimestamp(record.created_at + lifetime, tz=UTC),
        )
        for record in records
    ]
    if rows:
        await EndedSession.bulk_create(rows, ignore_conflicts=True)  # ended twice (two refreshes): once


async def forget_ended() -> int:
    """Delete the records of ended sessions past their absolute end (jobs.sessions); how many."""
    return await EndedSession.filter(forget_after__lt=runtime.get().clock.now()).delete()


async def drop(account_id: int, key_hash: str) -> bool:
    """Remove one session from Redis only, for a session void for a reason that is durable already
    (expired by the clock, started before its account's revocation, its end recorded); False when
    it was gone already."""
    rt = runtime.get()
    async with rt.redis.pipeline(transaction=True) as pipe:
        pipe.delete(_key(key_hash))
        pipe.srem(_account_key(account_id), key_hash)
        deleted, _ = await pipe.execute()
    return bool(deleted)


async def end(record: SessionRecord) -> bool:
    """End one session for good: recorded in the database, then dropped from Redis; False when Redis
    had dropped it already (of two refreshes of one token, one wins)."""
    await _record_ended([record])
    return await drop(record.account_id, record.key_hash)


async def record_end(record: SessionRecord) -> None:
    """The durable half of :func:`end`, for a session ended on request: call it inside the
    transaction of the end's audit entry (both hold, or neither), then :func:`drop` it after the
    commit (the guard refuses it by the record from the commit on)."""
    await _record_ended([record])


async def find(account_id: int, public_id: str, *, revoked_before: float | None = None) -> SessionRecord | None:
    """The account's live session of this public id; None when there is none."""
    for record in await list_for(account_id, revoked_before=revoked_before):
        if record.public_id == public_id:
            return record
    return None


async def end_matching(account_id: int, matches: Callable[[SessionRecord], bool]) -> int:
    """End the account's live sessions that ``matches`` picks (those of a unit taken away, those a
    WeChat identity or a replaced card started), for good as :func:`end` does; returns how many ended."""
    picked = [record for record in await list_for(account_id) if matches(record)]
    await _record_ended(picked)
    for record in picked:
        await drop(account_id, record.key_hash)
    return len(picked)


async def end_all(account_id: int, *, keep: str | None = None) -> int:
    """End every session of an account (except ``keep``, a key hash) in Redis; returns how many
    ended. Durable only where the caller has set the account's ``sessions_revoked_at`` first."""
    rt = runtime.get()
    hashes = [h for h in await rt.redis.smembers(_account_key(account_id)) if h != keep]
    if not hashes:
        return 0
    async with rt.redis.pipeline(transaction=True) as pipe:
        pipe.delete(*(_key(h) for h in hashes))
        pipe.srem(_account_key(account_id), *hashes)
        await pipe.execute()
    return len(hashes)
