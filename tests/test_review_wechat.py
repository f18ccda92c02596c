"""Review of W1 (WeChat login): WeChat answering garbage, and what else a cadre or an operator would hit."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx
import pytest

from backend.core import db, runtime
from backend.core.actor import Origin
from backend.core.audit import AuditEntry
from backend.core.errors import AppError
from backend.wechat import actions
from backend.wechat.client import WechatClient, override
from backend.wechat.models import WechatIdentity
from tests.factories import make_account, make_tree
from tests.test_wechat import (
    APPID,
    DEV,
    PHONE_PATH,
    SECRET,
    TOKEN_PATH,
    bearer,
    bind_ticket,
    fake,
    password_login,
    settings_for,
    wechat,
)

__all__ = ["fake", "wechat"]  # the fixtures, shared with test_wechat

LOGIN_PATH = "/sns/jscode2session"
PROXY_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


# Answers of a WeChat (or a proxy in front of it) in trouble: none of them may answer 500.
GARBAGE = {
    "html_200": (200, PROXY_PAGE),
    "html_502": (502, PROXY_PAGE),
    "empty": (200, ""),
    "cut_json": (200, '{"openid": "oABC'),
    "a_list": (200, "[1, 2]"),
    "errcode_null": (200, '{"errcode": null, "errmsg": "?"}'),
    "errcode_list": (200, '{"errcode": [40029]}'),
    "errcode_huge": (200, '{"errcode": 1e999}'),
    "base_resp_number": (200, '{"base_resp": 7}'),
    "deeply_nested": (200, "[" * 50_000 + "]" * 50_000),
    "openid_number": (200, '{"openid": 12345, "session_key": "x"}'),
    "openid_too_long": (200, json.dumps({"openid": "o" * 300, "session_key": "x"})),
}


@pytest.mark.parametrize(("status", "body"), GARBAGE.values(), ids=GARBAGE.keys())
async def test_wx_login_answers_wechat_unavailable_in_chinese_to_any_garbage_from_wechat(
    client, fake, wechat, status, body
):
    fake.inject_answer(LOGIN_PATH, body, status=status)
    code = fake.login_code(user="garbage")["code"]
    answer = await client.post("/api/wechat/login", json={"code": code})
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert (
        error["code"] == "wechat_unavailable"
        and error["message"] == "暂时无法连接微信服务，请稍后再试或使用账号密码登录"
    )
    assert not await WechatIdentity.exists()
    failed = await AuditEntry.get(action="auth.login", outcome="failure")
    assert failed.detail == {"method": "wechat", "reason": "wechat_unavailable", "errcode": None}


@pytest.mark.parametrize("path", [TOKEN_PATH, PHONE_PATH])
@pytest.mark.parametrize(("status", "body"), GARBAGE.values(), ids=GARBAGE.keys())
async def test_the_phone_button_answers_wechat_unavailable_to_any_garbage_from_wechat(
    client, fake, wechat, status, body, path
):
    fake.inject_answer(path, body, status=status)
    answer = await client.post("/api/wechat/phone", json={"code": fake.phone_code("13800001234")["code"]})
    assert answer.status_code in (502, 503), answer.text
    assert answer.json()["error"]["code"] == "wechat_unavailable"
    assert await runtime.get().redis.get(wechat.token_key) is None or path == PHONE_PATH


async def test_garbage_from_wechat_leaves_no_secret_in_the_log(client, fake, wechat, caplog):
    caplog.set_level(logging.DEBUG)
    fake.inject_answer(LOGIN_PATH, '{"errcode": null}')
    code = fake.login_code(user="garbage")["code"]
    answer = await client.post("/api/wechat/login", json={"code": code})
    assert SECRET not in caplog.text and code not in caplog.text
    assert answer.status_code == 503


async def test_many_calls_refused_for_a_revoked_token_fetch_one_new_token_between_two_instances(fake):
    first, second = WechatClient(settings_for(fake)), WechatClient(settings_for(fake))
    await first.phone_number(fake.phone_code("13800000000")["code"])
    fake.revoke_tokens()
    codes = [fake.phone_code(f"1380000{n:04d}")["code"] for n in range(10)]
    phones = await asyncio.gather(
        *(client.phone_number(code) for client, code in zip([first, second] * 5, codes, strict=True))
    )
    assert [p.phone for p in phones] == [f"1380000{n:04d}" for n in range(10)]
    assert fake.requests(TOKEN_PATH) == 2


async def test_an_unbind_that_another_one_beat_answers_404_and_audits_nothing(client, fake, wechat, monkeypatch):
    """A double tap on "解除绑定" over a slow network: one unbinding, one audit entry, the other 404."""
    tree = await make_tree()
    account = await make_account("doubletap", tree.own)
    headers = bearer(await password_login(client, "doubletap", await bind_ticket(client, fake)))
    atomic, second = db.atomic, []

    @asynccontextmanager
    async def unbind_meanwhile(*args, **kwargs):
        monkeypatch.setattr(db, "atomic", atomic)
        second.append(await client.delete("/api/wechat/binding", headers=headers))
        async with atomic(*args, **kwargs) as connection:
            yield connection

    monkeypatch.setattr(db, "atomic", unbind_meanwhile)
    first = await client.delete("/api/wechat/binding", headers=headers)
    assert second[0].status_code == 204
    assert first.status_code == 404 and first.json()["error"]["message"] == "您的账号尚未绑定微信"
    assert await AuditEntry.filter(action="wechat.unbind", actor_account_id=account.id).count() == 1


async def test_one_wechat_bound_by_two_accounts_at_once_ends_bound_to_one(client, fake, wechat):
    tree = await make_tree()
    accounts = [await make_account(f"twin{n}", tree.own) for n in range(2)]
    tickets = [await bind_ticket(client, fake, "shared-phone") for _ in accounts]
    origin = Origin(ip="10.0.0.7")
    results = await asyncio.gather(
        *(actions.bind(a, ticket=t, origin=origin) for a, t in zip(accounts, tickets, strict=True)),
        return_exceptions=True,
    )
    bound = [r for r in results if isinstance(r, WechatIdentity)]
    refused = [r for r in results if isinstance(r, AppError)]
    assert len(bound) == 1 and [(r.code, r.status) for r in refused] == [("wechat_identity_bound", 409)], results
    assert await WechatIdentity.all().count() == 1
    failure = await AuditEntry.get(action="wechat.bind", outcome="failure")
    assert failure.detail["reason"] == "wechat_bound"


class _TricklingServer:
    """Answers every request with headers and then one byte of body at a time, never finishing:
    each read gets something well within the client's read timeout, so only a deadline on the whole
    call ends it (a WeChat, or a proxy in front of it, in trouble)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/"
        self.closing = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
                while not self.closing.wait(0.05):
                    conn.sendall(b" ")
            except OSError:
                return

    def close(self) -> None:
        self.closing.set()
        self.listener.close()


async def test_a_wechat_answering_drop_by_drop_is_given_up_after_the_timeout(client):
    trickling = _TricklingServer()
    try:
        with override(WechatClient(replace(DEV, api_base=trickling.url, timeout_seconds=0.5))):
            answer = await asyncio.wait_for(client.post("/api/wechat/login", json={"code": "abc"}), timeout=10)
    finally:
        trickling.close()
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "wechat_unavailable"


async def test_the_fake_answers_an_injected_html_page_through_its_control_api(fake):
    async with httpx.AsyncClient(base_url=fake.base_url, timeout=5) as control:
        spec = {"path": LOGIN_PATH, "body": PROXY_PAGE, "status": 502}
        assert (await control.post("/_control/fault", json=spec)).json()["faults"] == [
            {"path": LOGIN_PATH, "status": 502}
        ]
        page = await control.get(LOGIN_PATH, params={"appid": APPID})
        assert (
            page.status_code == 502 and page.text == PROXY_PAGE and page.headers["content-type"].startswith("text/html")
        )
        after = await control.get(LOGIN_PATH, params={"appid": APPID})
        assert after.status_code == 200 and after.json()["errcode"] == 40002  # no grant_type
