"""An SMS gateway outage, as a reviewer caused it by stopping the demo's fake gateway: a request that
never reached the gateway is retried as surely not sent, codes that never went out leave the daily cap
alone, and what had to arrive can be queued again once the operator has fixed the cause."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import urllib3
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from backend.core import captcha, db, runtime, sms, sms_codes, sms_delivery, sms_provider
from backend.core.actor import Origin
from backend.core.audit import AuditEntry
from backend.core.clock import CHINA_TIME
from backend.core.config import Settings, TencentSmsSettings
from backend.core.errors import AppError
from backend.core.sms import SmsMessage, SmsStatus
from backend.core.sms_delivery import Outcome, deliver
from backend.core.sms_provider import OutgoingSms, SmsSendError
from backend.core.sms_tencent import TencentSmsChannel
from backend.fakes.sms_gateway import FakeSmsGateway, GatewayConfig, running_gateway
from tests.conftest import free_port
from tests.factories import Tree, make_tree
from tests.test_chat_accounts import admin_of, person
from tests.test_chat_lookup import button, card, notice, say
from tests.test_sms_delivery import _process_env

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
PHONE = "13800005555"
PASSWORD = {"username": "li_si", "password": "Tmp#Pass1122"}


@pytest.fixture
def gateway() -> Iterator[FakeSmsGateway]:
    with running_gateway(GatewayConfig.from_settings(TencentSmsSettings())) as gw:
        yield gw


def channel_to(endpoint: str, timeout: float = 1.0) -> TencentSmsChannel:
    settings = replace(TencentSmsSettings(), endpoint=endpoint, protocol="http", timeout_seconds=timeout)
    return TencentSmsChannel(settings)


def down() -> TencentSmsChannel:
    """The gateway stopped: nobody listens on its port."""
    return channel_to(f"127.0.0.1:{free_port()}")


@pytest.fixture(autouse=True)
async def _close_queue() -> AsyncIterator[None]:
    yield
    await sms_delivery.close_queue()


async def queue_one(template: str = "account_created", params: dict[str, str] | None = None) -> int:
    async with db.atomic():
        message = await sms.queue(PHONE, template, params or PASSWORD)
    return message.id


async def row(message_id: int) -> SmsMessage:
    return await SmsMessage.get(id=message_id)


async def refused(coro) -> SmsSendError:
    with pytest.raises(SmsSendError) as raised:
        await coro
    return raised.value


# ---- 2. A request that never reached the gateway is surely not sent.


async def test_a_gateway_refusing_the_connection_is_a_definite_not_sent():
    error = await refused(down().send(OutgoingSms(PHONE, "account_created", PASSWORD, "1-1")))
    assert error.definite and not error.permanent and not error.rate_limited
    assert error.code == "ClientNetworkError.NotConnected"


async def test_a_gateway_that_hangs_after_taking_the_request_stays_unknown(gateway):
    gateway.inject("hang", deliver=True, seconds=5)
    try:
        error = await refused(channel_to(gateway.endpoint).send(OutgoingSms(PHONE, "account_created", PASSWORD, "2-1")))
    finally:
        gateway.release()
    assert error.code == "ClientNetworkError" and not error.definite


def _sdk_error_from(cause: Exception) -> TencentCloudSDKException:
    """What the SDK raises for a requests error: it wraps every one as ClientNetworkError."""
    try:
        raise cause
    except Exception as exc:
        try:
            raise TencentCloudSDKException("ClientNetworkError", str(exc))
        except TencentCloudSDKException as wrapped:
            return wrapped


class _Failing(TencentSmsChannel):
    def __init__(self, error: TencentCloudSDKException) -> None:
        super().__init__(TencentSmsSettings())
        self.error = error

    def _client(self):
        error = self.error

        class Client:
            def SendSms(self, request):  # the SDK's name
                raise error

        return Client()


def _pool_error(reason: Exception, wrapper: type[requests.RequestException]) -> Exception:
    pool = urllib3.HTTPConnectionPool("sms.tencentcloudapi.com")
    return wrapper(urllib3.exceptions.MaxRetryError(pool, "/", reason))


@pytest.mark.parametrize(
    ("cause", "definite"),
    [
        (
            _pool_error(
                urllib3.exceptions.ConnectTimeoutError(None, "timed out (connect timeout=5)"), requests.ConnectTimeout
            ),
            True,
        ),
        (
            _pool_error(
                urllib3.exceptions.NameResolutionError("sms.tencentcloudapi.com", None, OSError("no")),
                requests.ConnectionError,
            ),
            True,
        ),
        (requests.ReadTimeout("HTTPSConnectionPool(host='sms.tencentcloudapi.com', port=443): Read timed out."), False),
        (
            requests.ConnectionError("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))"),
            False,
        ),
    ],
    ids=["connect-timeout", "name-resolution", "read-timeout", "reset-after-sending"],
)
async def test_only_a_connect_phase_failure_is_a_definite_not_sent(cause, definite):
    error = await refused(_Failing(_sdk_error_from(cause)).send(OutgoingSms(PHONE, "account_created", PASSWORD, "3-1")))
    assert error.definite is definite and not error.permanent


async def test_a_temporary_password_during_an_outage_is_retried_after_30_s_without_a_status_check(gateway, clock):
    with sms_provider.override(down()):
        message_id = await queue_one()
        assert await deliver(message_id) == Outcome.RETRY
    stored = await row(message_id)
    assert not stored.needs_status_check and stored.last_error == "ClientNetworkError.NotConnected"
    assert (stored.next_attempt_at - clock.now()).total_seconds() == sms_delivery.BASE_DELAY_SECONDS
    clock.advance(sms_delivery.BASE_DELAY_SECONDS)
    with sms_provider.override(channel_to(gateway.endpoint)):  # the gateway is back
        assert await sms_delivery.deliver_due() == 1
    assert len(gateway.inbox(PHONE)) == 1 and gateway.requests("PullSmsSendStatusByPhoneNumber") == 0


async def test_a_code_that_never_reached_the_gateway_is_sent_on_the_next_try_not_dropped(gateway, clock):
    """The reviewer's log: "not confirmed: ClientNetworkError; next try in 120 s (status check first)",
    then "given up after attempt 2: unconfirmed_not_resent": the user got nothing."""
    with sms_provider.override(down()):
        message_id = await queue_one("code_password_reset", {"code": "135790", "minutes": "5"})
        assert await deliver(message_id) == Outcome.RETRY
    clock.advance(sms_delivery.BASE_DELAY_SECONDS)
    with sms_provider.override(channel_to(gateway.endpoint)):
        assert await sms_delivery.deliver_due() == 1
    assert "135790" in gateway.inbox(PHONE)[0]["text"] and (await row(message_id)).status == SmsStatus.SENT


# ---- 2. Codes that surely never went out do not use up the day's ten.


async def _send_code(ip: str, phone: str = PHONE) -> None:
    issued = await captcha.issue()
    await sms_codes.send_code(
        phone,
        "password_reset",
        origin=Origin(ip=ip),
        captcha_id=issued.captcha_id,
        captcha_answer=await captcha.peek_answer(issued.captcha_id) or "",
        deliver=True,
    )


async def _error_code(coro) -> str:
    with pytest.raises(AppError) as raised:
        await coro
    return raised.value.code


async def test_a_cadre_retrying_each_minute_in_an_outage_keeps_the_days_codes(clock):
    with sms_provider.override(down()):
        for n in range(sms_codes.DAILY_LIMIT_PER_PHONE + 2):
            await _send_code(f"10.7.0.{n}")
            await sms_delivery.deliver_due()  # the first try of this code, and the next of the one before
            clock.advance(sms_delivery.BASE_DELAY_SECONDS)
            await sms_delivery.deliver_due()
            clock.advance(sms_codes.RESEND_AFTER_SECONDS + 1 - sms_delivery.BASE_DELAY_SECONDS)
        failed = await SmsMessage.filter(status=SmsStatus.FAILED).values_list("last_error", flat=True)
        assert len(failed) >= sms_codes.DAILY_LIMIT_PER_PHONE and set(failed) == {"replaced"}
        await runtime.get().redis.flushdb()  # the outbox alone still lets the phone have its codes
        await _send_code("10.7.1.1")
        # the minute's wait stays, for codes that never went out too
        assert await _error_code(_send_code("10.7.1.2")) == "sms_cooldown"


async def test_codes_that_may_have_gone_out_still_count(gateway, clock):
    with sms_provider.override(channel_to(gateway.endpoint, timeout=0.3)):
        for n in range(sms_codes.DAILY_LIMIT_PER_PHONE):
            gateway.inject("hang", deliver=False, seconds=2)  # taken, then no answer: unknown
            await _send_code(f"10.8.0.{n}")
            await sms_delivery.deliver_due()
            gateway.release()
            clock.advance(sms_delivery.UNCERTAIN_DELAY_SECONDS)
            await sms_delivery.deliver_due()  # not found by the status check: a code is not sent again
        assert await SmsMessage.filter(status=SmsStatus.FAILED).count() == sms_codes.DAILY_LIMIT_PER_PHONE
        assert await _error_code(_send_code("10.8.1.1")) == "sms_daily_limit"
        await runtime.get().redis.flushdb()
        assert await _error_code(_send_code("10.8.1.2")) == "sms_daily_limit"


# ---- 3. What had to arrive is queued again once the operator fixed the cause.


async def _fail_for_good(message_id: int, error: str = "FailedOperation.InsufficientBalanceInSmsPackage") -> None:
    await SmsMessage.filter(id=message_id).update(
        status=SmsStatus.FAILED, next_attempt_at=None, attempts=sms_delivery.MAX_ATTEMPTS, last_error=error
    )


async def test_a_message_refused_for_good_is_given_up_as_surely_not_sent(gateway, clock):
    wrong_sign = replace(channel_to(gateway.endpoint).settings, sign_name="改过的签名")  # refused until fixed
    with sms_provider.override(TencentSmsChannel(wrong_sign)):
        message_id = await queue_one()
        for _ in range(sms_delivery.MAX_ATTEMPTS):
            await deliver(message_id)
            clock.advance(sms_delivery.MAX_DELAY_SECONDS)
    stored = await row(message_id)
    assert stored.status == SmsStatus.FAILED and gateway.inbox() == []
    assert stored.last_error == "FailedOperation.SignatureIncorrectOrUnapproved"
    assert not stored.needs_status_check  # it never went out: requeued, no status check first


async def test_requeue_sends_the_failed_messages_again_but_no_codes_and_no_superseded_password(gateway, clock):
    old = await queue_one("password_reset", {"username": "zhao_liu", "password": "Old#Pass0001"})
    await _fail_for_good(old)
    clock.advance(3 * 3600)
    since = clock.now() - timedelta(hours=2)
    created = await queue_one()
    code = await queue_one("code_password_reset", {"code": "246802", "minutes": "5"})
    first = await queue_one("password_reset", {"username": "wang_wu", "password": "First#Pass01"})
    second = await queue_one("password_reset", {"username": "wang_wu", "password": "Second#Pas02"})
    rejected = await queue_one("review_rejected", {"reason": "照片不清楚"})
    for message_id in (created, code, first, second, rejected):
        await _fail_for_good(message_id)
    maybe_sent = await queue_one(
        "unit_recovered", {"unit": "王家湾村", "username": "wjw_admin", "password": "Hand#Over001"}
    )
    await _fail_for_good(maybe_sent, "ClientNetworkError")
    await SmsMessage.filter(id=maybe_sent).update(needs_status_check=True)
    clock.advance(60)

    result = await sms_delivery.requeue_failed(since)
    assert [m.id for m in result.requeued] == [created, second, rejected, maybe_sent]
    assert {m.id: reason for m, reason in result.skipped} == {code: "code", first: "superseded"}
    for message_id in (created, second, rejected, maybe_sent):
        stored = await row(message_id)
        assert stored.status == SmsStatus.PENDING and stored.attempts == 0 and stored.next_attempt_at == clock.now()
    assert (await row(maybe_sent)).needs_status_check  # the gateway is asked before it goes out again
    for message_id in (old, code, first):
        assert (await row(message_id)).status == SmsStatus.FAILED
    [entry] = await AuditEntry.filter(action="sms.requeue")
    assert entry.detail["messages"] == [created, second, rejected, maybe_sent] and entry.scope_path == "/"

    with sms_provider.override(channel_to(gateway.endpoint)):
        assert await sms_delivery.deliver_due() == 4
    texts = [m["text"] for m in gateway.inbox(PHONE)]
    assert any("Second#Pas02" in t for t in texts) and not any("First#Pass01" in t or "246802" in t for t in texts)
    assert gateway.requests("PullSmsSendStatusByPhoneNumber") == 1
    assert (await sms_delivery.requeue_failed(since)).requeued == []  # nothing twice


async def test_requeue_skips_a_message_whose_parameters_were_already_cleared(clock):
    message_id = await queue_one()
    await _fail_for_good(message_id)
    await SmsMessage.filter(id=message_id).update(params_enc=sms.CLEARED)
    result = await sms_delivery.requeue_failed(clock.now() - timedelta(hours=1))
    assert result.requeued == [] and [(m.id, reason) for m, reason in result.skipped] == [(message_id, "cleared")]
    assert (await row(message_id)).status == SmsStatus.FAILED


async def _command(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m backend ...`` in its own process, on the test's database (no Redis needed)."""
    env = _process_env(settings, "redis://127.0.0.1:1/0")
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "backend", *args]
    return await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=60)


async def test_the_command_line_requeues_from_a_time_or_hours_and_says_what_it_did(settings: Settings, clock):
    message_id = await queue_one()
    await _fail_for_good(message_id)
    since = (clock.now() - timedelta(minutes=5)).astimezone(CHINA_TIME).replace(tzinfo=None).isoformat()
    run = await _command(settings, "sms", "requeue", "--since", since)  # a time without a zone: Beijing's
    assert run.returncode == 0, run.stderr
    assert f"sms {message_id} (account_created)" in run.stdout and "138****5555" in run.stdout, run.stdout
    assert PHONE not in run.stdout and "requeued 1" in run.stdout, run.stdout
    assert (await row(message_id)).status == SmsStatus.PENDING
    assert await AuditEntry.filter(action="sms.requeue").count() == 1
    bad = await _command(settings, "sms", "requeue", "--since", "yesterday")
    assert bad.returncode == 2 and "--since" in bad.stderr, bad.stderr
    hours = await _command(settings, "sms", "requeue", "--since", "1.5")
    assert hours.returncode == 0 and "requeued 0" in hours.stdout, hours.stdout + hours.stderr


# ---- 3. The chat's "…说收不到短信" answer for a temporary password that never went out.


async def _person_with_password_sms(status: SmsStatus, *, username: str = "sxp01") -> Tree:
    tree = await make_tree()
    await person(username, "宋晓平", tree.child, phone=PHONE, must_change=True)
    message_id = await queue_one("password_reset", {"username": username, "password": "Tmp#Pass3344"})
    await SmsMessage.filter(id=message_id).update(status=status, last_error="AuthFailure.SecretIdNotFound")
    return tree


async def test_the_sms_help_for_a_temporary_password_that_failed_says_to_reset_it_again(client):
    tree = await _person_with_password_sms(SmsStatus.FAILED)
    headers = await admin_of(client, tree)
    reply = await say(client, headers, "宋晓平说收不到短信")
    said = notice(reply)
    assert "临时密码短信未能发出，可以再为TA重置一次密码" in said and "138****5555" in said, said
    assert button(card(reply), "重置密码")


async def test_the_sms_help_for_a_temporary_password_that_went_out_says_only_what_to_check(client):
    tree = await _person_with_password_sms(SmsStatus.SENT)
    headers = await admin_of(client, tree)
    said = notice(await say(client, headers, "宋晓平说收不到短信"))
    assert "拦截" in said and "重置一次密码" not in said, said


async def test_the_sms_help_does_not_blame_another_accounts_failed_password_on_the_same_phone(client):
    tree = await _person_with_password_sms(SmsStatus.SENT)
    other = await queue_one("password_reset", {"username": "someone_else", "password": "Tmp#Pass5566"})
    await SmsMessage.filter(id=other).update(status=SmsStatus.FAILED)
    headers = await admin_of(client, tree)
    said = notice(await say(client, headers, "宋晓平说收不到短信"))
    assert "重置一次密码" not in said, said
