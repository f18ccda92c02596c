"""SMS outbox: a message is written in the transaction of the change that causes it, then delivered.

Only the development channel exists so far: it prints the text to the console and keeps it for
the development inbox endpoint (absent in production). Delivery through a real gateway by the
job worker, with retries, is not built yet (see README).
"""

from __future__ import annotations

import json
import logging
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from backend.core import db, runtime
from backend.core.identifiers import mask_phone
from backend.core.sms_templates import TEMPLATES, render

log = logging.getLogger(__name__)


class SmsStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker under a lease
    SENT = "sent"
    FAILED = "failed"


class SmsMessage(Model):
    id = fields.BigIntField(primary_key=True)
    phone_enc = fields.TextField()
    phone_index = fields.CharField(max_length=64, db_index=True)
    template = fields.CharField(max_length=48)
    params_enc = fields.TextField()  # the parameters may hold a temporary password: encrypted
    status = fields.CharEnumField(SmsStatus, max_length=16, default=SmsStatus.PENDING)
    attempts = fields.SmallIntField(default=0)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    next_attempt_at = fields.DatetimeField(null=True, db_index=True)
    lease_until = fields.DatetimeField(null=True)
    # The last attempt may have reached the gateway (timeout, crash): ask it before sending again.
    needs_status_check = fields.BooleanField(default=False, db_default=False)
    provider_serial = fields.CharField(max_length=64, null=True)
    last_error = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "sms_message"


async def queue(phone: str, template: str, params: dict[str, str]) -> SmsMessage:
    """Write the message to the outbox (inside the caller's transaction); deliver after commit."""
    if template not in TEMPLATES:
        raise KeyError(template)
    vault = runtime.get().vault
    message = await SmsMessage.create(
        phone_enc=vault.encrypt("sms.phone", phone),
        phone_index=vault.index("phone", phone),
        template=template,
        params_enc=vault.encrypt("sms.params", json.dumps(params, ensure_ascii=False)),
        created_at=runtime.get().clock.now(),
    )
    db.after_commit(lambda: deliver(message.id))
    return message


async def deliver(message_id: int) -> None:
    message = await SmsMessage.get_or_none(id=message_id, status=SmsStatus.PENDING)
    if message is None:
        return
    phone, text = decode(message)
    # Development channel: the console is the gateway. Never used in production mode.
    print(f"[开发短信] 发往 {mask_phone(phone)}：{text}", flush=True)
    await SmsMessage.filter(id=message.id, status=SmsStatus.PENDING).update(
        status=SmsStatus.SENT, attempts=message.attempts + 1, sent_at=runtime.get().clock.now()
    )
    log.info("sms %s delivered by the development channel (template %s)", message.id, message.template)


async def deliver_pending() -> int:
    """Deliver what a crash left in the outbox; returns how many were delivered."""
    ids = await SmsMessage.filter(status=SmsStatus.PENDING).order_by("id").values_list("id", flat=True)
    for message_id in ids:
        await deliver(message_id)
    return len(ids)


def decode(message: SmsMessage) -> tuple[str, str]:
    vault = runtime.get().vault
    phone = vault.decrypt("sms.phone", message.phone_enc)
    params = json.loads(vault.decrypt("sms.params", message.params_enc))
    return phone, render(message.template, params)


async def inbox(phone: str, limit: int = 20) -> list[dict[str, str]]:
    """Development inbox: the latest messages sent to one phone, newest first."""
    index = runtime.get().vault.index("phone", phone)
    rows = await SmsMessage.filter(phone_index=index).order_by("-id").limit(limit)
    result = []
    for row in rows:
        _, text = decode(row)
        result.append(
            {
                "id": str(row.id),
                "template": row.template,
                "text": text,
                "status": row.status.value,
                "created_at": row.created_at.isoformat(),
            }
        )
    return result
