"""The fake Tencent SMS gateway against the official SDK client: signatures, templates, faults, status pulls."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from backend.core.config import TencentSmsSettings
from backend.core.sms_provider import OutgoingSms, SmsSendError
from backend.core.sms_templates import PARAMS, TEMPLATES, console_text, placeholders, render
from backend.core.sms_tencent import TencentSmsChannel
from backend.fakes.sms_gateway import FakeSmsGateway, GatewayConfig, running_gateway
from tests.conftest import free_port

PHONE = "13700002222"
CODE = {"code": "246810", "minutes": "5"}


@pytest.fixture
def gateway() -> Iterator[FakeSmsGateway]:
    with running_gateway(GatewayConfig.from_settings(TencentSmsSettings())) as gw:
        yield gw


def channel(gateway: FakeSmsGateway, **changes) -> TencentSmsChannel:
    settings = replace(TencentSmsSettings(), endpoint=gateway.endpoint, protocol="http", timeout_seconds=1.0)
    return TencentSmsChannel(replace(settings, **changes))


def message(context: str = "7", template: str = "verification_code", params: dict | None = None) -> OutgoingSms:
    return OutgoingSms(PHONE, template, params or CODE, context)


async def refused(coro) -> SmsSendError:
    with pytest.raises(SmsSendError) as raised:
        await coro
    return raised.value


async def test_the_sdk_client_sends_and_the_gateway_delivers_the_approved_text(gateway):
    serial = await channel(gateway).send(message("41"))
    [delivered] = gateway.inbox(PHONE)
    assert delivered["serial_no"] == serial and serial.startswith("2645:")
    assert delivered["text"] == render("verification_code", CODE)
    assert delivered["session_context"] == "41" and delivered["phone"] == "+86" + PHONE


async def test_a_wrong_secret_key_is_refused_with_signature_failure(gateway):
    error = await refused(channel(gateway, secret_key="not-the-secret").send(message()))
    assert error.code == "AuthFailure.SignatureFailure" and error.definite
    unknown = await refused(channel(gateway, secret_id="AKIDsomebodyElse").send(message()))
    assert unknown.code == "AuthFailure.SecretIdNotFound"
    assert gateway.inbox() == [] and gateway.requests("SendSms") == 0


async def test_a_stale_timestamp_is_refused(gateway):
    gateway.now = lambda: time.time() + 301
    assert (await refused(channel(gateway).send(message()))).code == "AuthFailure.SignatureExpire"
    gateway.now = lambda: time.time() - 301
    assert (await refused(channel(gateway).send(message()))).code == "AuthFailure.SignatureExpire"
    gateway.now = time.time
    await channel(gateway).send(message())


def _sdk_signed(gateway: FakeSmsGateway, params: dict) -> tuple[dict[str, str], str]:
    """A request signed by the SDK's own code, to send by hand."""
    from tencentcloud.common.http.request import RequestInternal

    client = channel(gateway)._client()
    request = RequestInternal(gateway.endpoint, "POST", "/", header={})
    client._build_req_inter("SendSms", params, request)
    return request.header, request.data


def _send_params(context: str = "9") -> dict:
    settings = TencentSmsSettings()
    return {
        "PhoneNumberSet": ["+86" + PHONE],
        "SmsSdkAppId": settings.sdk_app_id,
        "SignName": settings.sign_name,
        "TemplateId": settings.template_ids["verification_code"],
        "TemplateParamSet": ["135790", "5"],
        "SessionContext": context,
    }


def test_a_body_changed_after_signing_is_refused_and_answers_keep_tencents_shape(gateway):
    headers, body = _sdk_signed(gateway, _send_params())
    url = f"http://{gateway.endpoint}/"
    tampered = httpx.post(url, headers=headers, content=body.replace("135790", "000000")).json()
    assert tampered["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert tampered["Response"]["RequestId"]
    accepted = httpx.post(url, headers=headers, content=body).json()["Response"]
    assert accepted["SendStatusSet"][0]["Code"] == "Ok" and accepted["SendStatusSet"][0]["SessionContext"] == "9"
    assert accepted["RequestId"] and "Error" not in accepted
    assert len(gateway.inbox()) == 1


def _hand_signed(gateway: FakeSmsGateway, action: str, body: str, signed: tuple[str, ...]) -> dict[str, str]:
    """Sign as Tencent's documentation describes it, with any list of signed headers."""
    settings = TencentSmsSettings()
    timestamp = int(time.time())
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    headers = {
        "content-type": "application/json",
        "host": gateway.endpoint,
        "x-tc-action": action,
        "x-tc-timestamp": str(timestamp),
        "x-tc-version": "2021-01-11",
        "x-tc-region": "ap-guangzhou",
    }
    canonical_headers = "".join(f"{name}:{headers[name].lower()}\n" for name in signed)
    payload = hashlib.sha256(body.encode()).hexdigest()
    canonical = f"POST\n/\n\n{canonical_headers}\n{';'.join(signed)}\n{payload}"
    scope = f"{date}/sms/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = f"TC3{settings.secret_key}".encode()
    for part in (date, "sms", "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"TC3-HMAC-SHA256 Credential={settings.secret_id}/{scope}, "
        f"SignedHeaders={';'.join(signed)}, Signature={signature}"
    )
    return headers


def test_the_headers_named_in_signed_headers_are_the_ones_checked(gateway):
    body = json.dumps(_send_params("10"))
    url = f"http://{gateway.endpoint}/"
    headers = _hand_signed(gateway, "SendSms", body, ("content-type", "host", "x-tc-action"))
    assert httpx.post(url, headers=headers, content=body).json()["Response"]["SendStatusSet"][0]["Code"] == "Ok"
    headers["x-tc-action"] = "PullSmsSendStatusByPhoneNumber"  # a signed header changed on the way
    refused_answer = httpx.post(url, headers=headers, content=body).json()["Response"]
    assert refused_answer["Error"]["Code"] == "AuthFailure.SignatureFailure"
    unsigned_host = _hand_signed(gateway, "SendSms", body, ("content-type",))
    assert httpx.post(url, headers=unsigned_host, content=body).json()["Response"]["Error"]["Code"] == (
        "AuthFailure.InvalidAuthorization"
    )


async def test_app_sign_template_and_parameters_are_checked(gateway):
    ids = TencentSmsSettings().template_ids
    unknown_template = await refused(channel(gateway, template_ids={"verification_code": "999"}).send(message()))
    assert unknown_template.code == "FailedOperation.TemplateIncorrectOrUnapproved"
    assert unknown_template.definite and not unknown_template.permanent
    one_parameter = {"verification_code": ids["review_rejected"]}  # that template takes one, we give two
    mismatch = await refused(channel(gateway, template_ids=one_parameter).send(message()))
    assert mismatch.code == "FailedOperation.TemplateParamSetNotMatchApprovedTemplate" and mismatch.permanent
    wrong_sign = await refused(channel(gateway, sign_name="别的签名").send(message()))
    assert wrong_sign.code == "FailedOperation.SignatureIncorrectOrUnapproved"
    wrong_app = await refused(channel(gateway, sdk_app_id="1400999999").send(message()))
    assert wrong_app.code == "FailedOperation.SmsSdkAppIdVerifyFail"
    not_mapped = await refused(channel(gateway, template_ids={}).send(message()))
    assert not_mapped.code == "template_not_configured" and not_mapped.permanent
    assert gateway.inbox() == []


async def test_status_pull_finds_a_session_context_and_its_serial_since_a_time(gateway):
    client = channel(gateway)
    first = await client.send(message("101"))
    second = await client.send(message("102"))
    assert await client.find_sent(PHONE, "102", 600) == second
    assert await client.find_sent(PHONE, "101", 600) == first
    assert await client.find_sent(PHONE, "103", 600) is None
    assert await client.find_sent("13700009999", "101", 600) is None
    from tencentcloud.sms.v20210111 import models

    request = models.PullSmsSendStatusByPhoneNumberRequest()
    request.BeginTime, request.Offset, request.Limit = int(time.time()) + 60, 0, 100
    request.PhoneNumber, request.SmsSdkAppId = "+86" + PHONE, TencentSmsSettings().sdk_app_id
    assert (await client._call("PullSmsSendStatusByPhoneNumber", request)).PullSmsSendStatusSet == []
    request.BeginTime = int(time.time()) - 60
    statuses = (await client._call("PullSmsSendStatusByPhoneNumber", request)).PullSmsSendStatusSet
    assert [(s.SessionContext, s.SerialNo, s.ReportStatus) for s in statuses] == [
        ("101", first, "SUCCESS"),
        ("102", second, "SUCCESS"),
    ]


async def test_faults_fail_rate_limit_break_and_hang_the_next_requests(gateway):
    client = channel(gateway)
    gateway.inject("fail")
    failed = await refused(client.send(message()))
    assert failed.code == "InternalError" and not failed.definite  # it may or may not have gone out
    gateway.inject("rate_limit")
    limited = await refused(client.send(message()))
    assert limited.code == "LimitExceeded.PhoneNumberDailyLimit" and limited.definite and limited.rate_limited
    gateway.inject("http_error")
    assert (await refused(client.send(message()))).code == "ServerNetworkError"
    assert gateway.inbox() == []
    gateway.inject("hang", deliver=True, seconds=5)
    hung = await refused(client.send(message("55")))
    assert hung.code == "ClientNetworkError" and not hung.definite
    assert gateway.held == 1 and gateway.inbox()[0]["session_context"] == "55"
    gateway.release()
    await client.send(message("56"))  # recovered
    assert [m["session_context"] for m in gateway.inbox()] == ["56", "55"]


async def test_a_phone_over_its_daily_limit_is_refused_per_number():
    config = replace(GatewayConfig.from_settings(TencentSmsSettings()), daily_limit_per_phone=1)
    with running_gateway(config) as gateway:
        await channel(gateway).send(message())
        error = await refused(channel(gateway).send(message()))
        assert error.code == "LimitExceeded.PhoneNumberDailyLimit" and error.rate_limited


def test_control_and_inbox_over_http(gateway):
    base = f"http://{gateway.endpoint}"
    state = httpx.post(f"{base}/_control", json={"mode": "fail", "count": 2}).json()
    assert [fault["mode"] for fault in state["faults"]] == ["fail", "fail"]
    assert httpx.post(f"{base}/_control", json={"mode": "explode"}).status_code == 400
    httpx.post(f"{base}/_control/reset")
    assert httpx.get(f"{base}/_control").json()["faults"] == []
    headers, body = _sdk_signed(gateway, _send_params("77"))
    httpx.post(f"{base}/", headers=headers, content=body)
    [delivered] = httpx.get(f"{base}/inbox", params={"phone": PHONE}).json()["messages"]
    assert "135790" in delivered["text"] and delivered["session_context"] == "77"
    assert httpx.get(f"{base}/inbox", params={"phone": "13700009999"}).json()["messages"] == []
    page = httpx.get(f"{base}/").text
    assert "135790" in page and "短信收件箱" in page


def test_a_mistyped_phone_filter_shows_no_messages_rather_than_everyones(gateway):
    """/inbox?phone=1370000222 (a digit short) listed every phone's codes and temporary passwords."""
    base = f"http://{gateway.endpoint}"
    headers, body = _sdk_signed(gateway, _send_params("78"))
    httpx.post(f"{base}/", headers=headers, content=body)
    assert len(httpx.get(f"{base}/inbox").json()["messages"]) == 1
    for typo in (PHONE[:-1], PHONE + "0", "abc"):
        assert httpx.get(f"{base}/inbox", params={"phone": typo}).json()["messages"] == []
        assert "135790" not in httpx.get(f"{base}/", params={"phone": typo}).text


def test_every_template_has_its_parameter_order_and_renders_the_same_at_the_gateway():
    for key, text in TEMPLATES.items():
        assert PARAMS[key] == placeholders(text) and PARAMS[key]
        registered = console_text(key)
        assert "{" + str(len(PARAMS[key])) + "}" in registered and not text.startswith(registered)
        values = {name: f"<{name}>" for name in PARAMS[key]}
        for n, name in enumerate(PARAMS[key], start=1):
            registered = registered.replace("{" + str(n) + "}", values[name])
        assert f"【{TencentSmsSettings().sign_name}】{registered}" == render(key, values)


def _wait_listening(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the gateway did not start")


def test_the_command_line_gateway_verifies_and_keeps_its_inbox_across_restarts(tmp_path: Path):
    from tencentcloud.sms.v20210111 import models

    state = tmp_path / "gateway.json"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENCENT_SMS_")}
    command = [sys.executable, "-m", "backend.fakes.sms_gateway", "--port", str(port), "--state-file", str(state)]
    settings = replace(TencentSmsSettings(), endpoint=f"127.0.0.1:{port}", protocol="http", timeout_seconds=2.0)
    for round_ in range(2):
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            _wait_listening(port, proc)
            if round_ == 0:  # the SDK is synchronous: called directly here
                request = models.SendSmsRequest()
                request.from_json_string(json.dumps(_send_params("300")))
                response = TencentSmsChannel(settings)._client().SendSms(request)
                assert response.SendStatusSet[0].Code == "Ok"
            inbox = httpx.get(f"http://127.0.0.1:{port}/inbox", params={"phone": PHONE}).json()["messages"]
            assert [m["session_context"] for m in inbox] == ["300"]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
