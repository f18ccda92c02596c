"""SMS outbox: a message is written in the transaction of the change that causes it, then delivered.

The row is the message: nothing is lost if the process dies after commit. Delivery
(:mod:`backend.core.sms_delivery`) goes through the configured provider
(:mod:`backend.core.sms_provider`): the development channel delivers right after commit (console,
and the development inbox endpoint, absent in production); Tencent Cloud SMS is delivered by the
job worker (``jobs/``), with leases, retries and status checks so nothing is sent twice.
"""

from __future__ import annotations

import json
from datetime import timedelta
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from backend.core import db, runtime
from backend.core.sms_templates import PARAMS, TEMPLATES, render

KEEP_PARAMS_DAYS = 7  # a settled message's parameters are blanked after this (clear_old_params)
CLEARED = ""  # params_enc of a message whose parameters were blanked
PARAMS_CLEARED = "（短信内容已过保留期限，已清除）"
# The templates that carry a temporary password (account created, reset, review approved, hand-over).
PASSWORD_TEMPLATES = frozenset(key for key, names in PARAMS.items() if "password" in names)


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
    now = runtime.get().clock.now()
    message = await SmsMessage.create(
        phone_enc=vault.encrypt("sms.phone", phone),
        phone_index=vault.index("phone", phone),
        template=template,
        params_enc=vault.encrypt("sms.params", json.dumps(params, ensure_ascii=False)),
        created_at=now,
        next_attempt_at=now,
    )
    db.after_commit(lambda: _after_commit(message.id))
    return message


async def _after_commit(message_id: int) -> None:
    from backend.core import sms_delivery

    await sms_delivery.after_commit(message_id)


async def deliver(message_id: int) -> None:
    """One delivery attempt through the configured provider, if the message is due."""
    from backend.core import sms_delivery

    await sms_delivery.deliver(message_id)


async def deliver_pending() -> int:
    """Deliver what is due in the outbox (e.g. what a crash left) in this process; returns how many went out."""
    from backend.core import sms_delivery

    return await sms_delivery.deliver_due()


def decode_params(message: SmsMessage) -> tuple[str, dict[str, str]]:
    """The phone and the parameters, decrypted ({} once cleared: :func:`clear_old_params`)."""
    vault = runtime.get().vault
    phone = vault.decrypt("sms.phone", message.phone_enc)
    if message.params_enc == CLEARED:
        return phone, {}
    return phone, json.loads(vault.decrypt("sms.params", message.params_enc))


def decode(message: SmsMessage) -> tuple[str, str]:
    """The phone and the rendered text, decrypted."""
    phone, params = decode_params(message)
    if message.params_enc == CLEARED:
        return phone, PARAMS_CLEARED
    return phone, render(message.template, params)


async def clear_old_params(keep_days: int = KEEP_PARAMS_DAYS) -> int:
    """Blank the parameters (temporary passwords, codes) of messages settled (sent or given up) more
    than ``keep_days`` ago: nothing needs them once delivery is over, and a leaked key with a backup
    must not reveal them. The rest of the row stays (who got which kind of message, when)."""
    before = runtime.get().clock.now() - timedelta(days=keep_days)
    settled = SmsMessage.filter(status__in=[SmsStatus.SENT, SmsStatus.FAILED], created_at__lt=before)
    return await settled.exclude(params_enc=CLEARED).update(params_enc=CLEARED)


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
