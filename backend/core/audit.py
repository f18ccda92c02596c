"""Append-only, hash-chained audit log.

Every entry stores the hash of the entry before it; the chain head lives in one row that each
writer locks (``SELECT ... FOR UPDATE`` on PostgreSQL, the single writer on SQLite), so entries
are chained in commit order. Entries are written inside the transaction of the change they record.
Details never hold personal data: ids, field names and outcomes only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import fields
from tortoise.exceptions import FieldError
from tortoise.models import Model

from backend.core import db, runtime
from backend.core.actor import Actor, Origin

GENESIS = "0" * 64
HEAD_ID = 1


class AuditEntry(Model):
    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    actor_account_id = fields.IntField(null=True)
    actor_unit_id = fields.IntField(null=True)
    action = fields.CharField(max_length=48)
    outcome = fields.CharField(max_length=16)
    target_type = fields.CharField(max_length=24, null=True)
    target_id = fields.CharField(max_length=48, null=True)
    scope_path = fields.CharField(max_length=255, db_index=True)
    ip = fields.CharField(max_length=64, null=True)
    detail = fields.JSONField(default=dict)
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "audit_entry"


class AuditHead(Model):
    # The last link of the chain (a single row).

    id = fields.IntField(primary_key=True)
    last_id = fields.BigIntField(default=0)
    last_hash = fields.CharField(max_length=64, default=GENESIS)

    class Meta:
        table = "audit_head"


def entry_hash(prev_hash: str, values: dict[str, Any]) -> str:
    at: datetime = values["at"]
    canonical = json.dumps(
        [
            prev_hash,
            at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f"),
            values["actor_account_id"],
            values["actor_unit_id"],
            values["action"],
            values["outcome"],
            values["target_type"],
            values["target_id"],
            values["scope_path"],
            values["ip"],
            values["detail"],
        ],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def ensure_head() -> None:
    await AuditHead.get_or_create(id=HEAD_ID, defaults={"last_id": 0, "last_hash": GENESIS})


async def record(
    action: str,
    *,
    scope_path: str,
    actor: Actor | None = None,
    origin: Origin | None = None,
    outcome: str = "success",
    target_type: str | None = None,
    target_id: int | str | None = None,
    account_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry; call inside the transaction of the change it records."""
    if not db.inside_atomic():  # the head's lock holds only within a transaction: else the chain forks
        async with db.atomic():
            return await record(
                action,
                scope_path=scope_path,
                actor=actor,
                origin=origin,
                outcome=outcome,
                target_type=target_type,
                target_id=target_id,
                account_id=account_id,
                detail=detail,
            )
    origin = origin or (actor.origin if actor else None)
    at = runtime.get().clock.now()
    values: dict[str, Any] = {
        "at": at,
        "actor_account_id": actor.account_id if actor else account_id,
        "actor_unit_id": actor.unit_id if actor else None,
        "action": action,
        "outcome": outcome,
        "target_type": target_type,
        "target_id": None if target_id is None else str(target_id),
        "scope_path": scope_path,
        "ip": origin.ip if origin else None,
        "detail": {**(detail or {}), "device": origin.device} if origin and origin.device else detail or {},
    }
    head = await AuditHead.select_for_update().get(id=HEAD_ID)
    digest = entry_hash(head.last_hash, values)
    entry = await AuditEntry.create(**values, prev_hash=head.last_hash, hash=digest)
    head.last_id = entry.id
    head.last_hash = digest
    await head.save(update_fields=["last_id", "last_hash"])
    return entry


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    broken_id: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


async def verify_chain(batch: int = 2000) -> VerifyReport:
    """Walk the chain in id order and report the first entry whose link or content does not hold.

    The rows are read as stored and each converted on its own: a value its column cannot hold (SQLite
    keeps any text) names that entry rather than stopping the check."""
    prev = GENESIS
    last_id = 0
    checked = 0
    columns = ", ".join(f'"{name}"' for name in ("id", "prev_hash", "hash", *_HASHED))
    while True:
        sql = f'SELECT {columns} FROM "audit_entry" WHERE "id" > ? ORDER BY "id" LIMIT ?'
        rows = await db.fetch(sql, [last_id, batch])
        if not rows:
            break
        for row in rows:
            if row["prev_hash"] != prev:
                return VerifyReport(checked, row["id"], "prev_hash does not match the entry before it")
            expected = _stored_hash(prev, row)
            if expected is None:
                return VerifyReport(checked, row["id"], "a stored value cannot be read")
            if row["hash"] != expected:
                return VerifyReport(checked, row["id"], "content does not match its hash")
            prev = row["hash"]
            last_id = row["id"]
            checked += 1
    head = await AuditHead.get_or_none(id=HEAD_ID)
    if head is None:
        if checked:  # the head went, and with it what the newest entry is compared with
            return VerifyReport(checked, last_id, "the chain head is missing: newer entries may have been removed")
    elif head.last_hash != prev:
        return VerifyReport(checked, head.last_id, "the newest entries were removed or replaced")
    return VerifyReport(checked, None, None)


def _stored_hash(prev_hash: str, row: dict[str, Any]) -> str | None:
    """The hash of a row read as stored (:func:`verify_chain`); None when a value cannot be read."""
    fields = AuditEntry._meta.fields_map
    try:
        return entry_hash(prev_hash, {name: fields[name].to_python_value(row[name]) for name in _HASHED})
    except (FieldError, ValueError, TypeError, OverflowError, AttributeError):
        return None


_HASHED = (
    "at",
    "actor_account_id",
    "actor_unit_id",
    "action",
    "outcome",
    "target_type",
    "target_id",
    "scope_path",
    "ip",
    "detail",
)
