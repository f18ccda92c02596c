"""W1 (WeChat login), review round 3: secrets in library log lines; WeChat's refusals as users and operators see."""

from __future__ import annotations

import json
import logging
import socket
import threading
from dataclasses import replace

import pytest

from backend.core.audit import AuditEntry
from backend.wechat.client import WechatClient, override
from backend.wechat.models import WechatIdentity
from tests.test_wechat import (
    DEV,
    PHONE_PATH,
    SECRET,
    fake,
    wechat,
    wx_login,
)

__all__ = ["fake", "wechat"]  # the fixtures, shared with test_wechat

LOGIN_PATH = "/sns/jscode2session"


class _BadHeaderServer:
    """Answers every request with a well-formed JSON body under a header block holding a line with no
    colon, as a middlebox in front of WeChat may: urllib3 reads it and warns that it failed to parse
    the headers, naming the URL of the request (its query holds the app secret and the code)."""

    def __init__(self, body: dict) -> None:
        self.body = json.dumps(body).encode()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.recv(65536)
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Proxy garbled line\r\n"
                        b"Content-Length: "
                        + str(len(self.body)).encode()
                        + b"\r\nConnection: close\r\n\r\n"
                        + self.body
                    )
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


async def test_a_garbled_header_from_a_middlebox_puts_neither_the_secret_nor_the_code_in_the_log(client, caplog):
    caplog.set_level(logging.DEBUG)
    garbled = _BadHeaderServer({"openid": "oGarbledHeader0001", "session_key": "c2Vzc2lvbmtleQ=="})
    try:
        with override(WechatClient(replace(DEV, api_base=garbled.url, timeout_seconds=2.0))):
            answer = await client.post("/api/wechat/login", json={"code": "code0garbled0header"})
    finally:
        garbled.close()
    assert answer.status_code == 200 and answer.json()["status"] == "bind_required"
    assert "Failed to parse headers" in caplog.text  # urllib3 did warn
    for secret in (SECRET, "code0garbled0header", "c2Vzc2lvbmtleQ=="):
        assert secret not in caplog.text and secret not in answer.text


# --- WeChat's refusals: what the user reads, what the operator finds in the log --------------------------


async def test_wechat_s_daily_quota_says_so_and_is_logged_for_the_operator(client, fake, wechat, caplog):
    """45009 is the app's daily quota of an API used up: "try again later" would have the cadre tap
    all day. The answer says it is today's quota and what to do now, and the operator finds it."""
    caplog.set_level(logging.INFO)
    fake.inject(LOGIN_PATH, 45009)
    login = await wx_login(client, fake)
    fake.inject(PHONE_PATH, 45009)
    phone = await client.post("/api/wechat/phone", json={"code": fake.phone_code("13800001234")["code"]})
    for answer in (login, phone):
        assert answer.status_code == 429, answer.text
        error = answer.json()["error"]
        assert error["code"] == "wechat_quota_exhausted" and "今日" in error["message"] and "明天" in error["message"]
    quota = [r for r in caplog.records if r.name == "backend.wechat.client" and "45009" in r.getMessage()]
    assert [r.levelno for r in quota] == [logging.ERROR, logging.ERROR]
    assert {"jscode2session", "phone"} <= {w for r in quota for w in r.getMessage().split()}
    assert not await WechatIdentity.exists()
    failed = await AuditEntry.get(action="auth.login", outcome="failure")
    assert failed.detail == {"method": "wechat", "reason": "wechat_quota_exhausted", "errcode": 45009}


@pytest.mark.parametrize("errcode", [-1, 45011])
async def test_wechat_busy_or_too_frequent_is_logged_for_the_operator(client, fake, wechat, caplog, errcode):
    """The user reads "try again later"; an operator asked why WeChat login fails finds WeChat's answer."""
    fake.inject(PHONE_PATH, errcode)
    phone = await client.post("/api/wechat/phone", json={"code": fake.phone_code("13800001234")["code"]})
    assert phone.status_code in (429, 503) and phone.json()["error"]["code"] in ("wechat_busy", "wechat_rate_limited")
    logged = [r for r in caplog.records if r.name == "backend.wechat.client" and f"errcode {errcode}" in r.getMessage()]
    assert logged and logged[0].levelno == logging.WARNING and "phone" in logged[0].getMessage()
