"""Outbox delivery: claim a message under a lease, send it, retry with backoff, never send it twice.

A message row moves ``pending -> sending -> sent`` (or ``failed``). ``next_attempt_at`` says when
someone should look at the row next: its due time while pending, its lease expiry while sending,
nothing once settled; so one indexed condition finds everything due, including the messages of a
worker that died mid-delivery.

1. Claim: one UPDATE that only matches a due row (pending and due, or sending with an expired
   lease) sets ``sending``, the lease, and ``attempts + 1``. The attempt number fences every
   later write: a worker whose lease was taken over changes nothing.
2. If the previous attempt may have reached the gateway (``needs_status_check``: a timeout, an
   unreadable answer, a crash), ask the gateway whether it sent a message with our session
   context (the message id and when it was queued: :func:`session_context`) before sending again.
3. Mark ``needs_status_check`` *before* the request goes out, and hold the row for as long as the
   gateway may take to record a send (``UNCERTAIN_DELAY_SECONDS``), then send. No database
   transaction is open while the gateway is asked.
4. Sent: keep the serial number. Refused for sure: retry with exponential backoff (rate limits
   wait longer), or give up at once if retrying cannot help. Unknown: retry later, checking first.

Tencent's SendSms has no idempotency key, and its status pull lists a message only once the
operator's receipt is back (seconds, or hours for a phone that is off): a check that finds nothing
does not prove nothing went out. So a verification code is sent at most once: not found, it is
given up (the user asks for a new one a minute on); nor is a code sent once a newer request for the
phone has replaced it. Other messages (a temporary password must arrive) are sent again.

A message given up can be queued again by the operator once the cause is fixed
(:func:`requeue_failed`, ``python -m backend sms requeue``).

Times come from the injected clock; the task queue (arq) only says *when to look*, the database
says *what to do*, so a lost or doubled job changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from arq.connections import ArqRedis
from tortoise.expressions import F, Q
from tortoise.queryset import QuerySet

from backend.core import audit, db, runtime, sms_provider, sms_templates
from backend.core.actor import SYSTEM_ORIGIN
from backend.core.config import Settings
from backend.core.identifiers import mask_phone
from backend.core.redis import REDIS_ERRORS, embedded_socket
from backend.core.sms import CLEARED, PASSWORD_TEMPLATES, SmsMessage, SmsStatus, decode_params
from backend.core.sms_provider import OutgoingSms, SmsProvider, SmsSendError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # sends at most; with the backoff below the last one is about an hour after the first
MAX_STATUS_CHECKS = 3  # claims after the last send that only ask the gateway whether it went out
LEASE_SECONDS = 90  # longer than a status check plus a send, each bounded by the provider's timeout
BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 30 * 60
RATE_LIMIT_DELAY_SECONDS = 10 * 60
# After an unknown outcome: give the gateway time to record what it sent before we ask.
UNCERTAIN_DELAY_SECONDS = 2 * 60
LOOKBACK_MARGIN_SECONDS = 10 * 60
SWEEP_LIMIT = 500
DELIVER_TASK = "sms_deliver"


class Outcome(StrEnum):
    SKIPPED = "skipped"  # not due, already settled, or held by another worker
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


def max_age_seconds(template: str) -> int | None:
    """How old a message of ``template`` may be when it goes out (None: any age): a verification
    code only while it can still be used."""
    from backend.core.sms_codes import CODE_TTL_SECONDS  # it imports the SMS queue, which imports us

    return CODE_TTL_SECONDS if sms_templates.is_code_template(template) else None


def resend_when_unsure(template: str) -> bool:
    """May a message of ``template`` go out again when the gateway may have sent it already? Not a
    verification code: the user would get it twice, and can ask for a new one after a minute."""
    return not sms_templates.is_code_template(template)


async def _code_replaced(message: SmsMessage, phone: str, params: dict[str, str]) -> bool:
    """Has a newer request replaced this verification code (for the same purpose, so it no longer
    works)? Sending it then only misleads: typed in, it counts as a wrong try."""
    from backend.core import sms_codes  # it imports the SMS queue, which imports us

    newer = SmsMessage.filter(phone_index=message.phone_index, template=message.template, id__gt=message.id)
    if not params.get("code") or not await newer.exists():
        return False
    # The message does not say its purpose: the code works if it is the stored one of any purpose.
    try:
        return not await sms_codes.still_current(phone, params["code"])
    except REDIS_ERRORS as exc:  # cannot tell: send it, as before the newer request
        log.warning("sms %s: cannot check whether the code was replaced (%r)", message.id, exc)
        return False


def backoff_seconds(attempt: int) -> int:
    return min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(0, attempt - 1))


def _due(now: datetime) -> Q:
    return Q(status__in=[SmsStatus.PENDING, SmsStatus.SENDING], next_attempt_at__lte=now) | Q(
        status=SmsStatus.PENDING, next_attempt_at__isnull=True
    )


async def claim(message_id: int) -> SmsMessage | None:
    """Take the message for one attempt if it is due; ``None`` if not due or someone else has it."""
    now = runtime.get().clock.now()
    lease = now + timedelta(seconds=LEASE_SECONDS)
    claimed = await SmsMessage.filter(Q(id=message_id) & _due(now)).update(
        status=SmsStatus.SENDING, lease_until=lease, next_attempt_at=lease, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    return await SmsMessage.get(id=message_id)


def _held(message: SmsMessage, attempt: int) -> QuerySet[SmsMessage]:
    """The row, only while this attempt still holds it."""
    return SmsMessage.filter(id=message.id, status=SmsStatus.SENDING, attempts=attempt)


def session_context(message: SmsMessage) -> str:
    """What the gateway's send records carry to tell this message: its id and the second it was
    queued. The id alone is not enough: two environments on one SMS account (staging beside
    production), or a database restored from a dump, number their messages alike, and a status check
    would take another's message to the same phone for this one (a temporary password marked sent,
    never delivered)."""
    return f"{message.id}-{int(message.created_at.timestamp())}"


async def deliver(message_id: int, provider: SmsProvider | None = None) -> Outcome:
    """One delivery attempt for one message (safe to call from anywhere, any number of times)."""
    provider = provider or sms_provider.current()
    message = await claim(message_id)
    if message is None:
        return Outcome.SKIPPED
    attempt = message.attempts
    # Given up before sending: it may have gone out only if an earlier attempt's outcome is unknown.
    maybe_sent = message.needs_status_check
    if attempt > MAX_ATTEMPTS + MAX_STATUS_CHECKS:  # the claims since were all cut off (a hung gateway)
        return await _fail(message, attempt, message.last_error or "attempts_exhausted", maybe_sent=maybe_sent)
    max_age = max_age_seconds(message.template)
    if max_age is not None and (runtime.get().clock.now() - message.created_at).total_seconds() > max_age:
        # a code past its life: a newer one may be out
        return await _fail(message, attempt, "expired", maybe_sent=maybe_sent)
    try:
        phone, params = decode_params(message)
    except Exception as exc:  # a changed key or a damaged row: no attempt can ever read it
        log.error("sms %s: cannot decrypt the message (%s)", message.id, type(exc).__name__)
        return await _fail(message, attempt, "undecryptable", maybe_sent=maybe_sent)
    context = session_context(message)
    if message.needs_status_check:
        age = (runtime.get().clock.now() - message.created_at).total_seconds()
        try:
            serial = await provider.find_sent(phone, context, int(age) + LOOKBACK_MARGIN_SECONDS)
        except SmsSendError as exc:
            return await _after_failure(message, attempt, exc, checking=True)
        except Exception as exc:  # as below: only the type
            log.error("sms %s: unexpected %s while asking the gateway", message.id, type(exc).__name__)
            unknown = SmsSendError(type(exc).__name__, definite=False)
            return await _after_failure(message, attempt, unknown, checking=True)
        if serial is not None:
            log.info("sms %s: the gateway had already sent it (found by status check)", message.id)
            return await _mark_sent(message, attempt, serial, phone, provider)
        if not resend_when_unsure(message.template):
            return await _fail(message, attempt, "unconfirmed_not_resent", maybe_sent=True)
    if attempt > MAX_ATTEMPTS:
        return await _fail(message, attempt, message.last_error or "attempts_exhausted", maybe_sent=maybe_sent)
    if sms_templates.is_code_template(message.template) and await _code_replaced(message, phone, params):
        return await _fail(message, attempt, "replaced", maybe_sent=maybe_sent)
    # Should this worker die with the request out, the row comes due again only once the gateway
    # has had the time to record the send, so that the status check can find it.
    hold = runtime.get().clock.now() + timedelta(seconds=max(LEASE_SECONDS, UNCERTAIN_DELAY_SECONDS))
    if not await _held(message, attempt).update(needs_status_check=True, lease_until=hold, next_attempt_at=hold):
        return Outcome.SKIPPED
    try:
        serial = await provider.send(OutgoingSms(phone, message.template, params, context))
    except SmsSendError as exc:
        return await _after_failure(message, attempt, exc)
    except Exception as exc:  # a bug or an unexpected library error: whether it went out is unknown
        # Only the type: an exception's text may quote the phone or a parameter.
        log.error("sms %s: unexpected %s while sending", message.id, type(exc).__name__)
        return await _after_failure(message, attempt, SmsSendError(type(exc).__name__, definite=False))
    return await _mark_sent(message, attempt, serial, phone, provider)


async def _mark_sent(message: SmsMessage, attempt: int, serial: str, phone: str, provider: SmsProvider) -> Outcome:
    updated = await _held(message, attempt).update(
        status=SmsStatus.SENT,
        provider_serial=serial[:64],
        sent_at=runtime.get().clock.now(),
        next_attempt_at=None,
        lease_until=None,
        needs_status_check=False,
        last_error=None,
    )
    if not updated:  # our lease was taken over; the new holder's status check will find it
        log.warning("sms %s: sent, but attempt %d no longer held the message", message.id, attempt)
    log.info(
        "sms %s (%s) sent to %s by the %s channel, attempt %d",
        message.id,
        message.template,
        mask_phone(phone),
        provider.name,
        attempt,
    )
    return Outcome.SENT


async def _after_failure(message: SmsMessage, attempt: int, exc: SmsSendError, *, checking: bool = False) -> Outcome:
    """Schedule the next attempt, or give up when retrying cannot help or attempts are used up."""
    needs_check = message.needs_status_check if checking else not exc.definite
    if exc.permanent and not needs_check:
        return await _fail(message, attempt, exc.code, maybe_sent=False)
    if attempt >= MAX_ATTEMPTS + (MAX_STATUS_CHECKS if needs_check else 0):
        return await _fail(message, attempt, exc.code, maybe_sent=needs_check)
    delay = backoff_seconds(attempt)
    if exc.rate_limited:
        delay = max(delay, RATE_LIMIT_DELAY_SECONDS)
    if needs_check:
        delay = max(delay, UNCERTAIN_DELAY_SECONDS)
    await _held(message, attempt).update(
        status=SmsStatus.PENDING,
        next_attempt_at=runtime.get().clock.now() + timedelta(seconds=delay),
        lease_until=None,
        needs_status_check=needs_check,
        last_error=exc.code[:200],
    )
    log.warning(
        "sms %s attempt %d %s: %s; next try in %d s%s",
        message.id,
        attempt,
        "could not ask the gateway" if checking else "not confirmed",
        exc.code,
        delay,
        " (status check first)" if needs_check else "",
    )
    return Outcome.RETRY


async def _fail(message: SmsMessage, attempt: int, code: str, *, maybe_sent: bool) -> Outcome:
    """Give the message up. On a failed row ``needs_status_check`` keeps saying whether it may have
    gone out: a code that surely did not gives its place in the phone's daily cap back, and a message
    queued again (:func:`requeue_failed`) is looked for at the gateway first only if it may have."""
    failed = await _held(message, attempt).update(
        status=SmsStatus.FAILED,
        next_attempt_at=None,
        lease_until=None,
        needs_status_check=maybe_sent,
        last_error=code[:200],
    )
    log.error("sms %s (%s) given up after attempt %d: %s", message.id, message.template, attempt, code)
    if failed and not maybe_sent and sms_templates.is_code_template(message.template):
        from backend.core import sms_codes  # it imports the SMS queue, which imports us

        try:
            await sms_codes.uncount(message.phone_index, message.created_at)
        except REDIS_ERRORS as exc:  # the outbox does not count it either; Redis's count stays one high
            log.warning("sms %s: cannot give the code's place in the daily cap back (%r)", message.id, exc)
    return Outcome.FAILED


async def due(limit: int = SWEEP_LIMIT) -> list[tuple[int, int]]:
    """``(id, attempts)`` of the messages due now, oldest first."""
    now = runtime.get().clock.now()
    rows = await SmsMessage.filter(_due(now)).order_by("id").limit(limit).values_list("id", "attempts")
    return [(int(message_id), int(attempts)) for message_id, attempts in rows]


async def deliver_due(provider: SmsProvider | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Deliver what is due in this process, one after another; returns how many went out."""
    sent = 0
    for message_id, _ in await due(limit):
        sent += await deliver(message_id, provider) == Outcome.SENT
    return sent


# --- queued again by the operator (python -m backend sms requeue) ---------------------------

# Messages that say an account's password changed: a newer one for the same user name voids the
# temporary password of an older one.
_PASSWORD_SETTERS = sorted(
    {*PASSWORD_TEMPLATES, "password_reset_done", "account_handed_over", "password_reset_by_review"}
    & sms_templates.TEMPLATES.keys()
)


class NotAgain(StrEnum):
    """Why a failed message is not queued again."""

    CODE = "code"  # a verification code is stale by now: the user asks for a new one
    SUPERSEDED = "superseded"  # a newer message set the account's password: this one no longer works
    CLEARED = "cleared"  # its parameters were blanked (clear_old_params): nothing left to send
    UNDECRYPTABLE = "undecryptable"


@dataclass
class Requeue:
    requeued: list[SmsMessage] = field(default_factory=list)
    skipped: list[tuple[SmsMessage, NotAgain]] = field(default_factory=list)


async def _newest_password_by_user(after_id: int) -> dict[str, int]:
    """The id of the newest message after ``after_id`` that set each user name's password."""
    newest: dict[str, int] = {}
    rows = SmsMessage.filter(id__gt=after_id, template__in=_PASSWORD_SETTERS).exclude(params_enc=CLEARED)
    for message in await rows.order_by("id"):
        try:
            _, params = decode_params(message)
        except Exception:  # unreadable: it tells nothing
            continue
        if params.get("username"):
            newest[params["username"]] = message.id
    return newest


async def requeue_failed(since: datetime) -> Requeue:
    """Queue again the failed messages queued since ``since``, once the operator has fixed what made
    the gateway refuse them (an empty SMS package, rotated keys, an outage longer than the retries):
    a temporary password must arrive. Not a verification code (stale; the user asks for a new one),
    nor a temporary password that a newer message for the same user name replaced. The outbox knows
    only what it sent: a password set without an SMS (a card activation) does not replace one here.
    Each goes through the usual attempts again; one that may have gone out is looked for at the
    gateway first. The job worker's sweep sends them. Audited as the system."""
    now = runtime.get().clock.now()
    since = since.astimezone(UTC)  # SQLite compares the stored text: the zone must be the stored one
    failed = await SmsMessage.filter(status=SmsStatus.FAILED, created_at__gte=since).order_by("id")
    result = Requeue()
    if not failed:
        return result
    from backend.accounts.queries import ROOT_SCOPE  # the scope of entries about no unit

    newest = await _newest_password_by_user(failed[0].id)
    wanted = []
    for message in failed:
        reason = _not_again(message, newest)
        if reason is None:
            wanted.append(message)
        else:
            result.skipped.append((message, reason))
    skipped: dict[str, list[int]] = {}
    for message, reason in result.skipped:
        skipped.setdefault(reason.value, []).append(message.id)
    async with db.atomic():
        for message in wanted:
            again = SmsMessage.filter(id=message.id, status=SmsStatus.FAILED)  # not if requeued meanwhile
            if await again.update(status=SmsStatus.PENDING, attempts=0, next_attempt_at=now, lease_until=None):
                result.requeued.append(message)
        if result.requeued:
            await audit.record(
                "sms.requeue",
                origin=SYSTEM_ORIGIN,
                scope_path=ROOT_SCOPE,
                target_type="sms",
                detail={"since": since.isoformat(), "messages": [m.id for m in result.requeued], "skipped": skipped},
            )
    return result


def _not_again(message: SmsMessage, newest_password: dict[str, int]) -> NotAgain | None:
    if sms_templates.is_code_template(message.template):
        return NotAgain.CODE
    if message.params_enc == CLEARED:
        return NotAgain.CLEARED
    try:
        _, params = decode_params(message)
    except Exception:
        return NotAgain.UNDECRYPTABLE
    if message.template in PASSWORD_TEMPLATES and newest_password.get(params.get("username", ""), 0) > message.id:
        return NotAgain.SUPERSEDED
    return None


# --- the task queue (arq) -------------------------------------------------------------------

_pool: ArqRedis | None = None


def arq_redis(settings: Settings) -> ArqRedis:
    """A client for arq (bytes, not text) on the same Redis as the rest of the backend."""
    options = {"socket_timeout": 5.0, "socket_connect_timeout": 2.0}
    if settings.redis_url:
        return ArqRedis.from_url(settings.redis_url, **options)
    return ArqRedis(unix_socket_path=embedded_socket(settings.var_dir), **options)


JOB_ID_PREFIX = "sms:"  # the worker takes a started delivery job's id only for the job's own timeout


def job_id(message_id: int, attempts: int) -> str:
    """One job per message and attempt: the after-commit job and the sweep never queue it twice."""
    return f"{JOB_ID_PREFIX}{message_id}:{attempts}"


async def enqueue(message_id: int, attempts: int = 0, pool: ArqRedis | None = None) -> bool:
    """Queue the delivery task; ``False`` if the same job is already queued."""
    global _pool
    if pool is None:
        if _pool is None:
            _pool = arq_redis(runtime.get().settings)
        pool = _pool
    job = await pool.enqueue_job(DELIVER_TASK, message_id, _job_id=job_id(message_id, attempts))
    return job is not None


async def close_queue() -> None:
    global _pool
    if _pool is not None:
        await _pool.aclose()
        _pool = None


async def sweep(pool: ArqRedis | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Queue a task for everything due (lost enqueues, retries, crashed workers); returns how many."""
    queued = 0
    for message_id, attempts in await due(limit):
        queued += await enqueue(message_id, attempts, pool)
    return queued


async def after_commit(message_id: int) -> None:
    """Right after the change commits: deliver at once (development channel) or queue the task."""
    provider = sms_provider.current()
    if provider.immediate:
        await deliver(message_id, provider)
    else:
        await enqueue(message_id)
