"""Outbox delivery through the real SDK client and the fake gateway: retries, status checks, crashes, jobs.

The frozen clock moves leases and backoff; the fake gateway holds, fails or rate-limits requests.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from arq.constants import default_queue_name, job_key_prefix

from backend.core import db, runtime, sms, sms_delivery, sms_provider
from backend.core.config import MAX_SMS_TIMEOUT_SECONDS, ConfigError, Settings, TencentSmsSettings
from backend.core.redis import REDIS_ERRORS, embedded_socket
from backend.core.sms import SmsMessage, SmsStatus
from backend.core.sms_delivery import MAX_ATTEMPTS, Outcome, deliver
from backend.core.sms_provider import OutgoingSms
from backend.core.sms_tencent import TencentSmsChannel
from backend.fakes.sms_gateway import FakeSmsGateway, GatewayConfig, running_gateway
from jobs import sms as jobs_sms
from jobs import worker as jobs_worker

# arq's Worker.close() calls redis-py's deprecated close(); nothing of ours.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

PHONE = "13800004444"
PARAMS = {"username": "wang_wu", "password": "Tmp#Pass7788"}


@pytest.fixture
def gateway() -> Iterator[FakeSmsGateway]:
    with running_gateway(GatewayConfig.from_settings(TencentSmsSettings())) as gw:
        yield gw


def tencent_channel(gateway: FakeSmsGateway, timeout: float = 1.0, **changes) -> TencentSmsChannel:
    settings = replace(TencentSmsSettings(), endpoint=gateway.endpoint, protocol="http", timeout_seconds=timeout)
    return TencentSmsChannel(replace(settings, **changes))


@pytest.fixture
def tencent(gateway: FakeSmsGateway) -> Iterator[TencentSmsChannel]:
    with sms_provider.override(tencent_channel(gateway)) as channel:
        yield channel


@pytest.fixture(autouse=True)
async def _close_queue() -> AsyncIterator[None]:
    yield
    await sms_delivery.close_queue()


async def queue_one(template: str = "account_created", params: dict[str, str] | None = None) -> int:
    async with db.atomic():
        message = await sms.queue(PHONE, template, params or PARAMS)
    return message.id


async def row(message_id: int) -> SmsMessage:
    return await SmsMessage.get(id=message_id)


async def test_development_channel_still_delivers_at_once(capsys):
    message_id = await queue_one()
    stored = await row(message_id)
    assert stored.status == SmsStatus.SENT and stored.provider_serial == f"dev-{sms_delivery.session_context(stored)}"
    assert stored.next_attempt_at is None and not stored.needs_status_check
    assert "Tmp#Pass7788" in (await sms.inbox(PHONE))[0]["text"]
    assert "138****4444" in capsys.readouterr().out


async def test_with_the_tencent_channel_a_job_is_queued_only_once_the_change_commits(tencent):
    pool = sms_delivery.arq_redis(runtime.get().settings)
    try:
        with pytest.raises(RuntimeError):
            async with db.atomic():
                await sms.queue(PHONE, "account_created", PARAMS)
                raise RuntimeError("the change fails")
        assert not await SmsMessage.exists() and await pool.zcard(default_queue_name) == 0
        message_id = await queue_one()
        assert (await row(message_id)).status == SmsStatus.PENDING
        assert await pool.exists(f"{job_key_prefix}sms:{message_id}:0")
        assert await sms_delivery.sweep() == 0  # the same attempt is already queued
    finally:
        await pool.aclose()


async def test_tencent_delivery_keeps_the_serial_and_sends_our_id_as_session_context(tencent, gateway):
    message_id = await queue_one()
    assert await deliver(message_id) == Outcome.SENT
    [delivered] = gateway.inbox(PHONE)
    stored = await row(message_id)
    assert delivered["session_context"] == sms_delivery.session_context(stored) and "Tmp#Pass7788" in delivered["text"]
    assert delivered["session_context"].startswith(f"{message_id}-")
    assert stored.status == SmsStatus.SENT and stored.provider_serial == delivered["serial_no"]
    assert stored.attempts == 1 and stored.lease_until is None and not stored.needs_status_check
    assert await deliver(message_id) == Outcome.SKIPPED
    assert gateway.requests("SendSms") == 1


async def test_a_failing_gateway_that_recovers_delivers_exactly_once_after_backoff(tencent, gateway, clock):
    message_id = await queue_one()
    gateway.inject("fail", 2)
    assert await deliver(message_id) == Outcome.RETRY
    stored = await row(message_id)
    assert stored.status == SmsStatus.PENDING and stored.last_error == "InternalError"
    assert stored.needs_status_check  # an internal error may hide a message that went out
    wait = (stored.next_attempt_at - clock.now()).total_seconds()
    assert wait == sms_delivery.UNCERTAIN_DELAY_SECONDS
    clock.advance(wait - 1)
    assert await deliver(message_id) == Outcome.SKIPPED and gateway.requests("SendSms") == 1
    clock.advance(1)
    assert await deliver(message_id) == Outcome.RETRY  # checked first (nothing), sent, failed again
    assert gateway.requests("PullSmsSendStatusByPhoneNumber") == 1
    clock.advance(((await row(message_id)).next_attempt_at - clock.now()).total_seconds())
    assert await deliver(message_id) == Outcome.SENT
    assert len(gateway.inbox(PHONE)) == 1 and gateway.requests("SendSms") == 3
    assert (await row(message_id)).attempts == 3


async def test_a_rate_limited_message_is_retried_later_without_a_status_check(tencent, gateway, clock):
    message_id = await queue_one()
    gateway.inject("rate_limit")
    assert await deliver(message_id) == Outcome.RETRY
    stored = await row(message_id)
    assert not stored.needs_status_check and stored.last_error == "LimitExceeded.PhoneNumberDailyLimit"
    assert (stored.next_attempt_at - clock.now()).total_seconds() == sms_delivery.RATE_LIMIT_DELAY_SECONDS
    clock.advance(sms_delivery.RATE_LIMIT_DELAY_SECONDS - 1)
    assert await sms_delivery.deliver_due() == 0
    clock.advance(1)
    assert await sms_delivery.deliver_due() == 1
    assert len(gateway.inbox(PHONE)) == 1 and gateway.requests("PullSmsSendStatusByPhoneNumber") == 0


@pytest.mark.parametrize("gateway_sent_it", [True, False], ids=["gateway-had-sent", "gateway-had-not"])
async def test_after_a_timeout_the_gateway_is_asked_before_sending_again(tencent, gateway, clock, gateway_sent_it):
    message_id = await queue_one()
    gateway.inject("hang", deliver=gateway_sent_it, seconds=10)
    assert await deliver(message_id) == Outcome.RETRY
    stored = await row(message_id)
    assert stored.needs_status_check and stored.last_error == "ClientNetworkError"
    gateway.release()
    clock.advance(sms_delivery.UNCERTAIN_DELAY_SECONDS)
    assert await deliver(message_id) == Outcome.SENT
    [delivered] = gateway.inbox(PHONE)
    assert (await row(message_id)).provider_serial == delivered["serial_no"]
    assert gateway.requests("PullSmsSendStatusByPhoneNumber") == 1
    assert gateway.requests("SendSms") == (1 if gateway_sent_it else 2)


async def test_when_the_gateway_cannot_be_asked_the_check_is_retried_before_any_resend(tencent, gateway, clock):
    message_id = await queue_one()
    gateway.inject("fail")
    gateway.inject("fail", action="PullSmsSendStatusByPhoneNumber")
    assert await deliver(message_id) == Outcome.RETRY
    clock.advance(sms_delivery.UNCERTAIN_DELAY_SECONDS)
    assert await deliver(message_id) == Outcome.RETRY  # could not ask: nothing sent
    assert gateway.requests("SendSms") == 1 and (await row(message_id)).needs_status_check
    clock.advance(sms_delivery.MAX_DELAY_SECONDS)
    assert await deliver(message_id) == Outcome.SENT
    assert len(gateway.inbox(PHONE)) == 1 and gateway.requests("SendSms") == 2


async def test_attempts_are_bounded_then_the_message_is_failed(tencent, gateway, clock):
    message_id = await queue_one()
    gateway.inject("fail", 100)
    outcomes = []
    while not outcomes or outcomes[-1] == Outcome.RETRY:
        outcomes.append(await deliver(message_id))
        clock.advance(sms_delivery.MAX_DELAY_SECONDS)
    stored = await row(message_id)
    assert outcomes[-1] == Outcome.FAILED and stored.status == SmsStatus.FAILED
    assert gateway.requests("SendSms") == MAX_ATTEMPTS and gateway.inbox() == []
    assert stored.next_attempt_at is None and stored.last_error == "InternalError"
    assert await sms_delivery.due() == []


async def test_a_status_check_does_not_take_another_environments_message_of_the_same_id_for_ours(
    tencent, gateway, clock
):
    """Staging and production on one SMS account number their messages alike: a status check found
    the other environment's message N to the same phone (a tester's), marked ours sent, and the
    temporary password never went out."""
    message_id = await queue_one()
    elsewhere = OutgoingSms(PHONE, "account_created", PARAMS, str(message_id))  # as the id alone was sent
    await tencent.send(replace(elsewhere, session_context=f"{message_id}-{int(clock.timestamp()) - 3600}"))
    await tencent.send(elsewhere)
    await SmsMessage.filter(id=message_id).update(needs_status_check=True)  # a send whose fate is unknown
    assert await deliver(message_id) == Outcome.SENT
    assert gateway.requests("SendSms") == 3  # ours went out after the check found none of its own
    stored = await row(message_id)
    assert sms_delivery.session_context(stored) in {m["session_context"] for m in gateway.inbox(PHONE)}


async def test_claims_cut_off_one_after_another_end_in_failure_not_retries_forever(tencent, gateway, clock):
    """A gateway hanging past the job's timeout: each claim was cut off before it could count, the
    lease ran out, the row was claimed again, attempts grew without end and it never failed."""
    message_id = await queue_one()
    await SmsMessage.filter(id=message_id).update(needs_status_check=True)  # a send whose fate is unknown
    gateway.inject("hang", action="PullSmsSendStatusByPhoneNumber", seconds=10)  # asking hangs every time
    for _ in range(MAX_ATTEMPTS + sms_delivery.MAX_STATUS_CHECKS):
        assert await sms_delivery.claim(message_id) is not None  # and then the worker was cut off
        clock.advance(sms_delivery.LEASE_SECONDS + 1)
    try:
        assert await asyncio.wait_for(deliver(message_id), 2) == Outcome.FAILED  # without asking again
    finally:
        gateway.release()
    stored = await row(message_id)
    assert stored.status == SmsStatus.FAILED and stored.last_error == "attempts_exhausted"
    assert gateway.requests("SendSms") == 0


async def test_a_verification_code_past_its_life_is_not_sent(tencent, gateway, clock):
    """A rate limit pushed it ten minutes out: the code had expired (and a newer one may be out)."""
    message_id = await queue_one("verification_code", {"code": "135246", "minutes": "5"})
    gateway.inject("rate_limit")
    assert await deliver(message_id) == Outcome.RETRY
    clock.advance(sms_delivery.RATE_LIMIT_DELAY_SECONDS)
    assert await deliver(message_id) == Outcome.FAILED
    assert (await row(message_id)).last_error == "expired" and gateway.inbox(PHONE) == []


async def test_the_worker_keeps_no_job_results_so_the_sweep_can_always_queue_again(settings):
    """arq keeps a result for jobs it fails itself (expired, out of tries) with the worker's
    keep_result, an hour by default: the sweep's next enqueue of that id was refused meanwhile."""
    assert jobs_worker.build(settings, embedded=True, burst=True, schedule=False).keep_result_s == 0
    assert jobs_worker.WorkerSettings.keep_result == 0


async def test_a_refusal_that_no_retry_can_fix_fails_at_once(gateway):
    wrong = {"account_created": TencentSmsSettings().template_ids["review_rejected"]}  # one parameter, not two
    with sms_provider.override(tencent_channel(gateway, template_ids=wrong)):
        message_id = await queue_one()
        assert await deliver(message_id) == Outcome.FAILED
    stored = await row(message_id)
    assert stored.status == SmsStatus.FAILED and stored.attempts == 1
    assert stored.last_error == "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"


async def _run_burst(settings: Settings) -> None:
    worker = jobs_worker.build(settings, embedded=True, burst=True, schedule=False, poll_delay=0.05)
    try:
        await worker.async_run()
    finally:
        await worker.close()


async def test_the_arq_task_and_the_sweep_end_in_one_delivery(gateway, settings):
    with sms_provider.override(tencent_channel(gateway, timeout=10)):
        message_id = await queue_one()  # after commit: job sms:<id>:0
        assert await sms_delivery.sweep() == 0  # the sweep would queue the very same job
        # The worker runs the job while a sweep in this process delivers what is due, at the same time;
        # the gateway answers slowly, so whichever sends first still holds the message when the other comes.
        gateway.inject("hang", deliver=True, seconds=2)
        _, delivered_here = await asyncio.gather(_run_burst(settings), sms_delivery.deliver_due())
    assert len(gateway.inbox(PHONE)) == 1 and gateway.requests("SendSms") == 1
    assert (await row(message_id)).status == SmsStatus.SENT and delivered_here in (0, 1)
    assert await sms_delivery.sweep() == 0


async def test_the_sweep_requeues_what_a_redis_restart_lost(tencent, gateway, settings, clock):
    message_id = await queue_one()
    await runtime.get().redis.flushdb()  # the queued job is gone
    assert await sms_delivery.sweep() == 1
    await _run_burst(settings)
    assert (await row(message_id)).status == SmsStatus.SENT and len(gateway.inbox(PHONE)) == 1
    gateway.inject("rate_limit")  # a retry is queued by the sweep once it is due, as the next attempt
    second = await queue_one()
    await _run_burst(settings)
    assert (await row(second)).status == SmsStatus.PENDING and await sms_delivery.sweep() == 0
    clock.advance(sms_delivery.RATE_LIMIT_DELAY_SECONDS)
    assert await sms_delivery.sweep() == 1
    await _run_burst(settings)
    assert (await row(second)).status == SmsStatus.SENT and len(gateway.inbox(PHONE)) == 2


def _process_env(settings: Settings, redis_url: str) -> dict[str, str]:
    """The environment of a worker process of its own on the test's database and ``redis_url``:
    this one's, without its SMS settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TENCENT_SMS_", "SMS_"))}
    env.update(
        {
            "APP_ENV": "test",
            "VAR_DIR": str(settings.var_dir),
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": redis_url,
            "HASH_WORKERS": "1",
        }
    )
    return env


def _worker_env(settings: Settings, gateway: FakeSmsGateway) -> dict[str, str]:
    redis_url = settings.redis_url or f"unix://{embedded_socket(settings.var_dir)}"
    env = _process_env(settings, redis_url)
    env.update(
        {
            "SMS_CHANNEL": "tencent",
            "TENCENT_SMS_ENDPOINT": gateway.endpoint,
            "TENCENT_SMS_PROTOCOL": "http",
            "TENCENT_SMS_TIMEOUT_SECONDS": "14",
        }
    )
    return env


@pytest.mark.parametrize("gateway_sent_it", [True, False], ids=["gateway-had-sent", "gateway-had-not"])
async def test_a_worker_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(
    tencent, gateway, settings, clock, tmp_path: Path, gateway_sent_it
):
    gateway.inject("hang", deliver=gateway_sent_it, seconds=60)
    message_id = await queue_one()
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log_file:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "jobs",
            "worker",
            env=_worker_env(settings, gateway),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(600):  # until the gateway holds the worker's request (at most 30 s)
                if gateway.held or proc.returncode is not None:
                    break
                await asyncio.sleep(0.05)
            assert gateway.held == 1, log_path.read_text()
            proc.send_signal(signal.SIGKILL)
            assert await asyncio.wait_for(proc.wait(), 10) == -signal.SIGKILL
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    gateway.release()
    stored = await row(message_id)
    assert stored.status == SmsStatus.SENDING and stored.needs_status_check and stored.attempts == 1
    assert await deliver(message_id) == Outcome.SKIPPED  # the dead worker's lease still holds
    clock.advance((stored.lease_until - clock.now()).total_seconds() + 1)
    assert await sms_delivery.deliver_due() == 1
    [delivered] = gateway.inbox(PHONE)
    stored = await row(message_id)
    assert stored.status == SmsStatus.SENT and stored.provider_serial == delivered["serial_no"]
    assert gateway.requests("PullSmsSendStatusByPhoneNumber") == 1
    assert gateway.requests("SendSms") == (1 if gateway_sent_it else 2)


async def test_no_phone_number_or_parameter_reaches_the_logs(tencent, gateway, clock, caplog):
    caplog.set_level("DEBUG")
    message_id = await queue_one()
    gateway.inject("hang", deliver=True, seconds=5)
    await deliver(message_id)
    gateway.release()
    clock.advance(sms_delivery.UNCERTAIN_DELAY_SECONDS)
    await deliver(message_id)
    text = caplog.text
    assert f"sms {message_id}" in text and "138****4444" in text
    for secret in (PHONE, PARAMS["password"], PARAMS["username"]):
        assert secret not in text
    stored = await row(message_id)
    assert PHONE not in repr(stored.last_error) and PARAMS["password"] not in repr(stored.last_error)


def test_production_with_the_tencent_channel_needs_its_secrets(tmp_path: Path):
    key = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    base = {
        "APP_ENV": "production",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": "sqlite://:memory:",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "DATA_KEY": key,
        "INDEX_KEY": key,
    }
    assert Settings.from_env(base).sms_channel == "dev"
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({**base, "SMS_CHANNEL": "tencent"})
    for name in ("TENCENT_SMS_SECRET_ID", "TENCENT_SMS_SECRET_KEY", "TENCENT_SMS_SDK_APP_ID", "TENCENT_SMS_SIGN_NAME"):
        assert name in str(raised.value)
    tencent = {
        **base,
        "SMS_CHANNEL": "tencent",
        "TENCENT_SMS_SECRET_ID": "AKIDproduction",
        "TENCENT_SMS_SECRET_KEY": "production-secret",
        "TENCENT_SMS_SDK_APP_ID": "1400123456",
        "TENCENT_SMS_SIGN_NAME": "村务通",
        "TENCENT_SMS_TEMPLATE_IDS": "verification_code=2000001",
    }
    with pytest.raises(ConfigError, match="no template id for: account_created"):
        Settings.from_env(tencent)
    ids = ",".join(f"{key}={n}" for n, key in enumerate(TencentSmsSettings().template_ids, start=2000001))
    settings = Settings.from_env({**tencent, "TENCENT_SMS_TEMPLATE_IDS": ids})
    assert settings.tencent_sms.endpoint == "sms.tencentcloudapi.com" and settings.tencent_sms.protocol == "https"
    assert settings.tencent_sms.template_ids["verification_code"] == "2000001"
    assert "production-secret" not in repr(settings)
    with pytest.raises(ConfigError, match="https"):
        Settings.from_env({**tencent, "TENCENT_SMS_TEMPLATE_IDS": ids, "TENCENT_SMS_PROTOCOL": "http"})
    with pytest.raises(ConfigError, match="unknown templates: nope"):
        Settings.from_env({**tencent, "TENCENT_SMS_TEMPLATE_IDS": ids + ",nope=1"})
    with pytest.raises(ConfigError, match="SMS_CHANNEL"):
        Settings.from_env({**base, "SMS_CHANNEL": "carrier-pigeon"})


async def test_the_development_channel_refuses_to_send_in_production():
    message_id = await queue_one()
    await SmsMessage.filter(id=message_id).update(status=SmsStatus.PENDING, next_attempt_at=None)
    with sms_provider.override(sms_provider.DevChannel(production=True)):
        assert await deliver(message_id) == Outcome.FAILED
    assert (await row(message_id)).last_error == "dev_channel_in_production"


async def test_a_message_that_cannot_be_decrypted_is_failed_not_retried_forever(tencent, gateway):
    message_id = await queue_one()
    await SmsMessage.filter(id=message_id).update(params_enc="damaged")
    assert await deliver(message_id) == Outcome.FAILED
    assert (await row(message_id)).last_error == "undecryptable" and gateway.requests("SendSms") == 0


async def test_a_settled_message_s_parameters_are_blanked_after_a_week_by_the_worker(tencent, gateway, clock):
    """Temporary passwords and codes were kept, encrypted, for ever after delivery."""
    sent = await queue_one("account_created", {"username": "u1", "password": "Old#Pass1234"})
    assert await deliver(sent) == Outcome.SENT
    waiting = await queue_one()  # not delivered: it still needs them
    await SmsMessage.filter(id=waiting).update(next_attempt_at=clock.now() + timedelta(days=30))
    clock.advance(6 * 86400)
    assert await jobs_sms.sms_params_clear({}) == 0
    clock.advance(86400 + 1)
    assert await jobs_sms.sms_params_clear({}) == 1
    phone, params = sms.decode_params(await row(sent))
    assert phone == PHONE and params == {} and "Old#Pass1234" not in str(await sms.inbox(PHONE))
    assert sms.decode_params(await row(waiting))[1] == PARAMS
    assert await jobs_sms.sms_params_clear({}) == 0  # once
    assert "cron:sms_params_clear" in {job.name for job in jobs_worker.cron_jobs()}


@pytest.mark.parametrize("timeout", ["60", "15", "0", "-1"])
def test_a_gateway_timeout_that_could_outlive_the_lease_is_refused(tmp_path: Path, timeout: str):
    """60 s was accepted: a send cut off by the job timeout could go out after the lease had passed
    the message to another worker, which sent it again."""
    env = {"APP_ENV": "test", "VAR_DIR": str(tmp_path), "SMS_CHANNEL": "tencent"}
    with pytest.raises(ConfigError, match="TENCENT_SMS_TIMEOUT_SECONDS"):
        Settings.from_env({**env, "TENCENT_SMS_TIMEOUT_SECONDS": timeout})
    assert Settings.from_env({**env, "TENCENT_SMS_TIMEOUT_SECONDS": "14"}).tencent_sms.timeout_seconds == 14
    assert jobs_sms.DELIVER_TIMEOUT_SECONDS + 2 * MAX_SMS_TIMEOUT_SECONDS < sms_delivery.LEASE_SECONDS


async def _until(condition: Callable[[], Awaitable[bool]], seconds: float = 15) -> bool:
    """Poll ``condition`` (a real worker in this event loop is doing the work) for at most ``seconds``."""
    for _ in range(int(seconds / 0.05)):
        if await condition():
            return True
        await asyncio.sleep(0.05)
    return await condition()


async def _sent(message_id: int) -> bool:
    return (await row(message_id)).status == SmsStatus.SENT


async def _answers(pool: ArqRedis) -> bool:
    try:
        return bool(await pool.ping())
    except REDIS_ERRORS:
        return False


async def _noticed(embedded: jobs_worker.EmbeddedWorker) -> bool:
    """The worker found Redis gone (or ended on it)."""
    assert embedded.task is not None
    return embedded.task.done() or getattr(embedded.worker, "redis_down", False)


async def test_the_worker_goes_on_delivering_after_its_redis_restarts(tencent, gateway, settings, redis_process):
    """The first poll that found Redis gone raised out of arq's loop: the embedded worker's task
    ended unnoticed (the standalone one exited), and no SMS went out until the API was restarted."""
    private = replace(settings, redis_url=f"redis://127.0.0.1:{redis_process.port}/0")
    pool = sms_delivery.arq_redis(private)
    assert await _until(lambda: _answers(pool))
    embedded = jobs_worker.EmbeddedWorker(
        jobs_worker.build(private, embedded=True, schedule=False, poll_delay=0.05)
    ).start()
    try:
        first = await queue_one()
        assert await sms_delivery.sweep(pool=pool) == 1
        assert await _until(lambda: _sent(first))
        redis_process.stop()  # a restart loses the queue (no persistence here)
        assert await _until(lambda: _noticed(embedded))  # it polled the dead Redis
        redis_process.start()
        second = await queue_one()
        assert await _until(lambda: _answers(pool))
        assert await sms_delivery.sweep(pool=pool) == 1  # what the sweep does every 10 s
        assert await _until(lambda: _sent(second)), f"the worker stopped when Redis went away: {embedded.task}"
        assert embedded.task is not None and not embedded.task.done()
    finally:
        await embedded.stop()
        await pool.aclose()
    assert len(gateway.inbox(PHONE)) == 2


async def test_the_sweep_finds_what_is_due_without_reading_the_whole_outbox(monkeypatch, settings):
    """Every 10 s the sweep scanned the whole outbox, which keeps every message ever sent."""
    client = SmsMessage._meta.db
    sent: list[tuple[str, list]] = []
    execute_query = client.execute_query

    async def recording(sql: str, values: list | None = None):
        sent.append((sql, list(values or [])))
        return await execute_query(sql, values)

    monkeypatch.setattr(client, "execute_query", recording)
    await sms_delivery.due()
    monkeypatch.undo()
    [(sql, values)] = sent
    if settings.dialect == "postgres":
        async with db.atomic() as connection:
            await connection.execute_script("SET LOCAL enable_seqscan = off")  # an empty table would be scanned
            _, plan = await connection.execute_query(f"EXPLAIN {sql}", values)
        lines = [line["QUERY PLAN"] for line in plan]
    else:
        _, plan = await client.execute_query(f"EXPLAIN QUERY PLAN {sql}", values)
        lines = [line["detail"] for line in plan]
    assert any("idx_sms_due" in line for line in lines), lines  # migration 0011
    assert not any("Seq Scan on sms_message" in line or line.startswith("SCAN sms_message") for line in lines), lines


async def test_a_send_cut_off_mid_request_is_checked_two_minutes_after_it_went_out(tencent, gateway, clock):
    """The row of a worker killed (or its job cut off) while the request was out came due when the
    90 s lease ran out: the gateway was asked before the 2 minutes its send record may need, found
    nothing and the message went out twice."""
    message_id = await queue_one()
    gateway.inject("hang", deliver=True, seconds=10)
    attempt = asyncio.create_task(deliver(message_id))
    try:
        assert await _until(lambda: _held_by_gateway(gateway), 5)
    finally:
        attempt.cancel()  # the worker dies with the request out
        gateway.release()
    with pytest.raises(asyncio.CancelledError):
        await attempt
    stored = await row(message_id)
    assert stored.status == SmsStatus.SENDING and stored.needs_status_check
    clock.advance(sms_delivery.LEASE_SECONDS + 1)
    assert await deliver(message_id) == Outcome.SKIPPED
    assert gateway.requests("PullSmsSendStatusByPhoneNumber") == 0
    clock.advance(sms_delivery.UNCERTAIN_DELAY_SECONDS - sms_delivery.LEASE_SECONDS - 1)
    assert await deliver(message_id) == Outcome.SENT  # found by the status check, not sent again
    assert gateway.requests("PullSmsSendStatusByPhoneNumber") == 1 and gateway.requests("SendSms") == 1
    assert len(gateway.inbox(PHONE)) == 1


async def _held_by_gateway(gateway: FakeSmsGateway) -> bool:
    return gateway.held == 1


@pytest.mark.parametrize("timeout", ["0", "-1", "nan", "inf", "31"])
def test_a_wechat_timeout_that_fails_every_call_or_holds_a_login_is_refused_at_start(tmp_path: Path, timeout: str):
    """0, a negative number, nan and inf were accepted: the server started and every WeChat call
    failed ("暂时无法连接微信服务"), or a login could wait without end."""
    env = {"APP_ENV": "test", "VAR_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="WECHAT_TIMEOUT_SECONDS"):
        Settings.from_env({**env, "WECHAT_TIMEOUT_SECONDS": timeout})
    assert Settings.from_env({**env, "WECHAT_TIMEOUT_SECONDS": "8"}).wechat.timeout_seconds == 8
