"""Review of the job worker and SMS delivery: verification codes never sent twice or stale, the two
ways of starting the worker alike, the nightly roll-up check holding no writer back when all is well."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from arq.worker import Worker, create_worker

from backend.core import captcha, db, sms, sms_codes, sms_delivery, sms_provider
from backend.core.actor import Origin
from backend.core.config import ConfigError, Settings, TencentSmsSettings
from backend.core.sms import SmsMessage, SmsStatus
from backend.core.sms_delivery import Outcome, deliver
from backend.core.sms_templates import CODE_KEYS
from backend.core.sms_tencent import TencentSmsChannel
from backend.fakes.sms_gateway import FakeSmsGateway, GatewayConfig, running_gateway
from jobs import worker as jobs_worker
from tests.conftest import RedisProcess
from tests.test_sms_delivery import _until

# arq's Worker.close() calls redis-py's deprecated close(); nothing of ours.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

PHONE = "13800005555"
HOUR = 3600.0


@pytest.fixture
def gateway() -> Iterator[FakeSmsGateway]:
    # As the real API: a message shows in a status pull only once its receipt is back (here: not yet).
    with running_gateway(GatewayConfig.from_settings(TencentSmsSettings(), receipt_delay_seconds=HOUR)) as gw:
        yield gw


@pytest.fixture
def tencent(gateway: FakeSmsGateway) -> Iterator[TencentSmsChannel]:
    settings = replace(TencentSmsSettings(), endpoint=gateway.endpoint, protocol="http", timeout_seconds=1.0)
    with sms_provider.override(TencentSmsChannel(settings)) as channel:
        yield channel


@pytest.fixture(autouse=True)
async def _close_queue() -> AsyncIterator[None]:
    yield
    await sms_delivery.close_queue()


async def _request_code(purpose: str = "password_reset") -> int:
    """A user asks for a code (captcha answered); returns the id of the queued message."""
    issued = await captcha.issue()
    answer = await captcha.peek_answer(issued.captcha_id) or ""
    await sms_codes.send_code(
        PHONE, purpose, origin=Origin(ip="10.2.2.2"), captcha_id=issued.captcha_id, captcha_answer=answer, deliver=True
    )
    message = await SmsMessage.filter(template__in=sorted(CODE_KEYS)).order_by("-id").first()
    assert message is not None
    return message.id


async def _queue(template: str, params: dict[str, str]) -> int:
    async with db.atomic():
        return (await sms.queue(PHONE, template, params)).id


def _codes(gateway: FakeSmsGateway) -> list[str]:
    """The codes the phone received, oldest first."""
    return [re.findall(r"\d{6}", m["text"])[0] for m in reversed(gateway.inbox(PHONE))]


async def test_a_verification_code_whose_send_timed_out_is_not_sent_again_while_its_receipt_is_late(
    tencent, gateway, clock
):
    """The gateway took the code and the answer was lost; two minutes later its status pull does not
    list it yet (a receipt can take minutes): the code went out a second time."""
    message_id = await _request_code()
    gateway.inject("hang", deliver=True, seconds=10)  # sent, but the client times out
    try:
        assert await deliver(message_id) == Outcome.RETRY
    finally:
        gateway.release()
    clock.advance(sms_delivery.UNCERTAIN_DELAY_SECONDS)
    await deliver(message_id)
    assert gateway.requests("PullSmsSendStatusByPhoneNumber") == 1  # it asked before deciding
    assert gateway.requests("SendSms") == 1 and len(_codes(gateway)) == 1
    stored = await SmsMessage.get(id=message_id)
    assert stored.status == SmsStatus.FAILED and stored.next_attempt_at is None
    assert await sms_delivery.due() == []


async def test_a_temporary_password_whose_send_timed_out_is_still_sent_again(tencent, gateway, clock):
    """Only a code (which the user asks again for after a minute) is never repeated: a temporary
    password whose fate is unknown must still arrive."""
    message_id = await _queue("account_created", {"username": "li_si", "password": "Tmp#Pass1234"})
    gateway.inject("hang", deliver=False, seconds=10)
    try:
        assert await deliver(message_id) == Outcome.RETRY
    finally:
        gateway.release()
    clock.advance(sms_delivery.UNCERTAIN_DELAY_SECONDS)
    assert await deliver(message_id) == Outcome.SENT
    assert gateway.requests("SendSms") == 2 and len(gateway.inbox(PHONE)) == 1


async def test_a_code_replaced_by_a_newer_request_is_not_sent_after_it(tencent, gateway, clock):
    """The worker was away a minute (a deploy); the user asked again after the 60 s wait. Both codes
    went out, the replaced one too: typed in, it counted as a wrong try."""
    first = await _request_code()
    clock.advance(sms_codes.RESEND_AFTER_SECONDS)
    second = await _request_code()
    assert await sms_delivery.deliver_due() == 1
    [code] = _codes(gateway)
    await sms_codes.check_code(PHONE, "password_reset", code)  # the code received is the one that works
    assert (await SmsMessage.get(id=second)).status == SmsStatus.SENT
    assert (await SmsMessage.get(id=first)).status == SmsStatus.FAILED


async def test_a_code_followed_by_one_for_another_purpose_is_still_sent(tencent, gateway, clock):
    """A code for a different purpose replaces nothing: both are valid, both go out."""
    await _request_code("password_reset")
    clock.advance(sms_codes.RESEND_AFTER_SECONDS)
    await _request_code("phone_change")
    assert await sms_delivery.deliver_due() == 2
    first, second = _codes(gateway)
    await sms_codes.check_code(PHONE, "password_reset", first)
    await sms_codes.check_code(PHONE, "phone_change", second)


# --- the two ways of starting the worker --------------------------------------------------------


def _cron_schedule(worker: Worker) -> dict[str, tuple[Any, ...]]:
    return {
        c.name: (c.month, c.day, c.weekday, c.hour, c.minute, c.second, c.run_at_startup, c.timeout_s, c.max_tries)
        for c in worker.cron_jobs
    }


def _functions(worker: Worker) -> dict[str, tuple[Any, ...]]:
    return {name: (f.timeout_s, f.max_tries, f.keep_result_s) for name, f in worker.functions.items()}


async def test_arqs_own_command_builds_the_worker_with_the_same_functions_schedule_and_limits(settings: Settings):
    """``arq jobs.worker.WorkerSettings`` and ``python -m jobs worker`` must run the same worker: the
    command's settings had drifted (half the concurrent jobs, among others)."""
    ours = jobs_worker.build(settings, schedule=True, handle_signals=False)
    arqs = create_worker(jobs_worker.WorkerSettings, handle_signals=False)
    try:
        assert _functions(arqs) == _functions(ours)
        assert _cron_schedule(arqs) == _cron_schedule(ours)
        for option in ("max_jobs", "keep_result_s", "timezone", "on_startup", "on_shutdown", "ctx", "max_tries"):
            assert getattr(arqs, option) == getattr(ours, option), option
    finally:
        await ours.pool.aclose()


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    process = RedisProcess(tmp_path)  # not started: the test says when Redis is there
    yield process
    process.stop()


async def test_arqs_own_command_waits_for_redis_logs_its_lines_and_stops_cleanly(
    settings: Settings, redis_process: RedisProcess, tmp_path: Path
):
    """Started by arq's command while Redis was down, the worker gave up after five seconds (where
    ``python -m jobs worker`` waits), and none of its own lines (what each SMS did) reached the log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TENCENT_SMS_", "SMS_"))}
    env.update(
        {
            "APP_ENV": "test",
            "VAR_DIR": str(settings.var_dir),
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": f"redis://127.0.0.1:{redis_process.port}/0",  # nobody listens there yet
            "HASH_WORKERS": "1",
        }
    )
    arq = Path(sys.executable).with_name("arq")
    log_path = tmp_path / "arq-worker.log"
    with log_path.open("w") as log_file:
        proc = await asyncio.create_subprocess_exec(
            str(arq), "jobs.worker.WorkerSettings", env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            # arq's own give-up point is its sixth failed try: wait past it.
            assert await _until(
                lambda: _true(proc.returncode is not None or log_path.read_text().count("redis connection error") > 6),
                seconds=30,
            )
            assert proc.returncode is None, log_path.read_text()
            redis_process.start()
            assert await _until(lambda: _true("worker started: SMS channel" in log_path.read_text()), seconds=30), (
                log_path.read_text()
            )
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 20) == 0, log_path.read_text()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert "Traceback" not in log_path.read_text()


async def test_arqs_own_command_without_redis_url_refuses_before_touching_anything(monkeypatch):
    """Without ``REDIS_URL`` the command went on (on a Redis at localhost:6379 that the API, with its
    embedded Redis, never writes to) where ``python -m jobs worker`` refuses: no SMS ever went out."""
    started: list[str] = []

    async def init_db(settings: Settings) -> None:
        started.append("database")

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(jobs_worker.db, "init_db", init_db)
    monkeypatch.setattr(jobs_worker.runtime, "install", lambda rt: started.append("runtime"))
    with pytest.raises(ConfigError, match="python -m backend serve --worker"):
        await jobs_worker.startup({"embedded": False})
    assert started == []


async def _true(value: bool) -> bool:
    return value


# --- the nightly roll-up check --------------------------------------------------------------------


async def test_the_nightly_check_takes_the_writers_lock_only_when_it_found_drift(monkeypatch):
    """With ``repair`` the check locks the card and roll-up tables against writers (PostgreSQL) for the
    whole recomputation: every night, even when nothing had drifted. It now looks first."""
    from backend.coops import rollups
    from backend.coops.models import CoopRollup
    from jobs.rollups import coop_rollups_check
    from tests.test_summaries import expected_rollups, make_world, stored_rollups

    w = await make_world()
    repairs: list[bool] = []
    check = rollups.check

    async def recorded(*, repair: bool, **options: Any) -> rollups.CheckReport:
        repairs.append(repair)
        return await check(repair=repair, **options)

    monkeypatch.setattr(rollups, "check", recorded)
    report = await coop_rollups_check({})
    assert report["drifted"] == 0 and repairs == [False]

    repairs.clear()
    await CoopRollup.filter(unit_id=w.town.id).update(coops=99)
    report = await coop_rollups_check({})
    assert report["drifted"] == 1 and report["repaired"] is True and repairs == [False, True]
    assert await stored_rollups() == await expected_rollups()
