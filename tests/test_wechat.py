"""W1 WeChat login: the real wechatpy client against the local fake WeChat API, binding, one-tap login."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from backend.accounts.models import Account, Membership
from backend.auth import actions as auth_actions
from backend.auth import messages as auth_msg
from backend.core import runtime
from backend.core.actor import Origin
from backend.core.audit import AuditEntry
from backend.core.config import ConfigError, Settings, WechatSettings
from backend.core.errors import AppError
from backend.fakes.wechat_api import FakeWechatApi, running_wechat_api
from backend.wechat import actions
from backend.wechat.client import WechatClient, WechatError, override
from backend.wechat.models import WechatIdentity
from tests.conftest import free_port
from tests.factories import PASSWORD, captcha, login, make_account, make_tree

DEV = WechatSettings()
APPID, SECRET = DEV.appid, DEV.secret
OTHER_APPID, OTHER_SECRET = "wx00c0ffee0000d002", "othermini0programsecret000000002"
PHONE_PATH = "/wxa/business/getuserphonenumber"
TOKEN_PATH = "/cgi-bin/token"


@pytest.fixture
def fake() -> Iterator[FakeWechatApi]:
    with running_wechat_api({APPID: SECRET, OTHER_APPID: OTHER_SECRET}) as api:
        yield api


def settings_for(fake: FakeWechatApi, **changes) -> WechatSettings:
    return replace(DEV, api_base=fake.base_url, timeout_seconds=2.0, **changes)


@pytest.fixture
def wechat(fake: FakeWechatApi) -> Iterator[WechatClient]:
    """The backend's WeChat client, pointed at the fake (only the base URL differs from production)."""
    with override(WechatClient(settings_for(fake))) as client:
        yield client


async def wx_login(client: httpx.AsyncClient, fake: FakeWechatApi, user: str = "zhang", **kw) -> httpx.Response:
    code = fake.login_code(user=user, **kw)["code"]
    return await client.post("/api/wechat/login", json={"code": code})


async def bind_ticket(client: httpx.AsyncClient, fake: FakeWechatApi, user: str = "zhang", **kw) -> str:
    answer = await wx_login(client, fake, user, **kw)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "bind_required"
    return answer.json()["bind_ticket"]


async def password_login(
    client: httpx.AsyncClient, login: str, ticket: str | None, password: str = PASSWORD
) -> httpx.Response:
    captcha_id, answer = await captcha(client)
    body = {"login": login, "password": password, "captcha_id": captcha_id, "captcha_answer": answer}
    if ticket is not None:
        body["wechat_bind_ticket"] = ticket
    return await client.post("/api/auth/login", json=body)


def bearer(response: httpx.Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def sms_code(client: httpx.AsyncClient, phone: str) -> str:
    text = (await client.get("/api/dev/sms", params={"phone": phone})).json()["messages"][0]["text"]
    return re.search(r"验证码为 (\d{6})", text).group(1)


# --- the flows ----------------------------------------------------------------------------------


async def test_first_wx_login_binds_through_the_password_login_then_wx_login_alone_logs_in(client, fake, wechat):
    tree = await make_tree()
    account = await make_account("wxclerk", tree.own, role="clerk")
    first = await wx_login(client, fake)
    assert first.status_code == 200
    body = first.json()
    assert body["status"] == "bind_required" and "token" not in body and body["expires_in"] == 600
    assert "绑定" in body["message"]

    bound = await password_login(client, "wxclerk", body["bind_ticket"])
    assert bound.status_code == 200, bound.text
    assert bound.json()["wechat_bound"] is True and bound.json()["unit"]["unit_id"] == tree.own.id
    identity = await WechatIdentity.get(account_id=account.id)
    assert identity.appid == APPID and identity.openid == fake.login_code(user="zhang")["openid"]

    again = await wx_login(client, fake)
    session = again.json()
    assert session["status"] == "logged_in" and session["account_id"] == account.id
    assert session["unit"]["unit_id"] == tree.own.id and session["wechat_bound"] is False
    units = await client.get("/api/units/", headers=bearer(again))
    assert units.status_code == 200

    entries = await AuditEntry.filter(actor_account_id=account.id).order_by("id")
    assert [(e.action, e.outcome, e.detail) for e in entries] == [
        ("wechat.bind", "success", {"appid": APPID}),
        ("auth.login", "success", {}),
        ("auth.login", "success", {"method": "wechat"}),
    ]


async def test_a_password_login_without_a_ticket_binds_nothing(client, fake, wechat):
    tree = await make_tree()
    await make_account("plain", tree.own)
    response = await password_login(client, "plain", None)
    assert response.status_code == 200 and response.json()["wechat_bound"] is False
    assert await WechatIdentity.all().count() == 0


async def test_wx_login_still_needs_the_password_change_and_the_unit_choice(client, fake, wechat):
    tree = await make_tree()
    await make_account("fresh", tree.own, must_change=True)
    assert (await password_login(client, "fresh", await bind_ticket(client, fake, "fresh"))).status_code == 200
    session = await wx_login(client, fake, "fresh")
    assert session.json()["status"] == "logged_in" and session.json()["must_change_password"] is True
    blocked = await client.get("/api/units/", headers=bearer(session))
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "password_change_required"

    agent = await make_account("twounits", tree.child, role="clerk")
    await Membership.create(account_id=agent.id, unit_id=tree.sibling.id, role="viewer", created_at=agent.created_at)
    assert (await password_login(client, "twounits", await bind_ticket(client, fake, "agent"))).status_code == 200
    session = await wx_login(client, fake, "agent")
    assert session.json()["unit"] is None and len(session.json()["units"]) == 2
    blocked = await client.get("/api/units/", headers=bearer(session))
    assert blocked.json()["error"]["code"] == "unit_choice_required"


async def test_a_wrong_password_keeps_the_ticket_and_binds_nothing(client, fake, wechat):
    tree = await make_tree()
    await make_account("typo", tree.own)
    ticket = await bind_ticket(client, fake)
    wrong = await password_login(client, "typo", ticket, password="Wrong#pass1")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "login_failed"
    assert await WechatIdentity.all().count() == 0
    assert (await password_login(client, "typo", ticket)).json()["wechat_bound"] is True


async def test_a_password_lockout_does_not_bar_the_bound_wechat(client, fake, wechat, clock):
    """A product decision (README): the lock guards against password guessing, and anyone who knows
    the user name can set it off; the owner's bound phone still gets in."""
    tree = await make_tree()
    await make_account("guessed", tree.own)
    await password_login(client, "guessed", await bind_ticket(client, fake, "owner"))
    for _ in range(5):
        assert (await password_login(client, "guessed", None, "Wrong#Guess-123")).status_code == 401
    assert (await password_login(client, "guessed", None)).status_code == 401  # locked for 15 minutes
    assert (await wx_login(client, fake, "owner")).json()["status"] == "logged_in"


async def test_a_bind_ticket_works_once_and_for_ten_minutes(client, fake, wechat, clock):
    tree = await make_tree()
    await make_account("first", tree.own)
    await make_account("second", tree.own)
    ticket = await bind_ticket(client, fake, "u1")
    assert (await password_login(client, "first", ticket)).status_code == 200
    reused = await password_login(client, "second", ticket)
    assert reused.status_code == 410 and reused.json()["error"]["code"] == "ticket_invalid"

    late = await bind_ticket(client, fake, "u2")
    clock.advance(10 * 60 + 1)
    expired = await password_login(client, "second", late)
    assert expired.status_code == 410
    forged = await password_login(client, "second", "not-a-ticket")
    assert forged.status_code == 410
    assert await WechatIdentity.filter(account__username="second").count() == 0


async def test_one_wechat_per_account_and_one_account_per_wechat(client, fake, wechat):
    tree = await make_tree()
    alice = await make_account("alice", tree.own)
    bob = await make_account("bob", tree.own)
    early = await bind_ticket(client, fake, "wx-a")  # taken before wx-a is bound to alice
    assert (await password_login(client, "alice", await bind_ticket(client, fake, "wx-a"))).status_code == 200

    second_wechat = await password_login(client, "alice", await bind_ticket(client, fake, "wx-b"))
    assert second_wechat.status_code == 409
    assert second_wechat.json()["error"]["code"] == "wechat_account_bound"
    assert "解除绑定" in second_wechat.json()["error"]["message"]

    second_account = await password_login(client, "bob", early)
    assert second_account.status_code == 409
    assert second_account.json()["error"]["code"] == "wechat_identity_bound"
    assert await WechatIdentity.filter(account_id=bob.id).count() == 0
    assert await WechatIdentity.filter(account_id=alice.id).count() == 1
    refusals = await AuditEntry.filter(action="wechat.bind", outcome="failure").order_by("id")
    assert [(e.actor_account_id, e.detail["reason"]) for e in refusals] == [
        (alice.id, "account_bound"),
        (bob.id, "wechat_bound"),
    ]
    assert refusals[1].detail["other_account"] == alice.id


async def test_the_same_account_has_one_wechat_in_each_app(client, fake, wechat):
    tree = await make_tree()
    account = await make_account("twoapps", tree.own)
    assert (await password_login(client, "twoapps", await bind_ticket(client, fake, "li"))).status_code == 200
    with override(WechatClient(settings_for(fake, appid=OTHER_APPID, secret=OTHER_SECRET))):
        # a code of one app is no code for another
        foreign = await wx_login(client, fake, "li", appid=APPID)
        assert foreign.status_code == 400 and foreign.json()["error"]["code"] == "wechat_code_invalid"
        ticket = await bind_ticket(client, fake, "li", appid=OTHER_APPID)
        assert (await password_login(client, "twoapps", ticket)).status_code == 200
        assert (await wx_login(client, fake, "li", appid=OTHER_APPID)).json()["status"] == "logged_in"
    identities = await WechatIdentity.filter(account_id=account.id).order_by("appid")
    assert [i.appid for i in identities] == [APPID, OTHER_APPID]
    assert identities[0].openid != identities[1].openid and identities[0].unionid == identities[1].unionid


async def test_unbinding_from_the_profile_makes_wx_login_ask_to_bind_again(client, fake, wechat):
    tree = await make_tree()
    account = await make_account("leaver", tree.own)
    bound = await password_login(client, "leaver", await bind_ticket(client, fake))
    headers = bearer(bound)
    shown = (await client.get("/api/wechat/binding", headers=headers)).json()
    assert shown["bound"] is True and shown["bound_at"]
    assert (await client.delete("/api/wechat/binding", headers=headers)).status_code == 204
    assert (await client.get("/api/wechat/binding", headers=headers)).json() == {"bound": False, "bound_at": None}
    again = await client.delete("/api/wechat/binding", headers=headers)
    assert again.status_code == 404 and again.json()["error"]["message"] == "您的账号尚未绑定微信"
    assert (await wx_login(client, fake)).json()["status"] == "bind_required"
    assert (await client.delete("/api/wechat/binding")).status_code == 401
    unbinds = await AuditEntry.filter(action="wechat.unbind", actor_account_id=account.id)
    assert len(unbinds) == 1 and unbinds[0].detail == {"appid": APPID}


async def test_unbinding_from_the_pc_logs_the_phone_out_but_not_the_caller_or_other_sessions(client, fake, wechat):
    """A lost phone: unbinding its WeChat from the office PC must end the phone's session at once."""
    tree = await make_tree()
    await make_account("lost", tree.own)
    bound = await password_login(client, "lost", await bind_ticket(client, fake, "lostphone"))
    tapped = await wx_login(client, fake, "lostphone")
    pc, tablet = await password_login(client, "lost", None), await password_login(client, "lost", None)
    assert (await client.delete("/api/wechat/binding", headers=bearer(pc))).status_code == 204
    for phone_session in (bound, tapped):  # the bind's own login and a later one-tap login
        assert (await client.get("/api/session", headers=bearer(phone_session))).status_code == 401
    for other in (pc, tablet):
        assert (await client.get("/api/session", headers=bearer(other))).status_code == 200


async def test_unbinding_on_the_phone_itself_keeps_its_user_logged_in(client, fake, wechat):
    tree = await make_tree()
    await make_account("keeper", tree.own)
    phone = await password_login(client, "keeper", await bind_ticket(client, fake))
    assert (await client.delete("/api/wechat/binding", headers=bearer(phone))).status_code == 204
    assert (await client.get("/api/session", headers=bearer(phone))).status_code == 200


async def test_a_password_change_releases_every_wechat_but_the_one_the_change_came_from(client, fake, wechat):
    """Whoever knew the old password may have bound their WeChat; changing it must lock them out."""
    tree = await make_tree()
    account = await make_account("victim", tree.own)
    await password_login(client, "victim", await bind_ticket(client, fake, "intruder"))
    owner = await password_login(client, "victim", None)
    body = {"old_password": PASSWORD, "new_password": "N3w#Secret-pass"}
    changed = await client.post("/api/account/password", json=body, headers=bearer(owner))
    assert changed.status_code == 200, changed.text
    assert (await wx_login(client, fake, "intruder")).json()["status"] == "bind_required"
    entry = await AuditEntry.get(action="auth.change_password", actor_account_id=account.id)
    assert entry.detail == {"wechat_released": 1}

    # changed on the phone it was bound from (and after a token refresh): that WeChat stays
    bound = await password_login(client, "victim", await bind_ticket(client, fake, "owner"), "N3w#Secret-pass")
    refreshed = await client.post("/api/session/refresh", headers=bearer(bound))
    body = {"old_password": "N3w#Secret-pass", "new_password": "Qingshan#River7"}
    changed = await client.post("/api/account/password", json=body, headers=bearer(refreshed))
    assert changed.status_code == 200, changed.text
    assert (await wx_login(client, fake, "owner")).json()["status"] == "logged_in"
    again = await client.post(
        "/api/account/password",
        json={"old_password": "Qingshan#River7", "new_password": "Yunling#Hill88"},
        headers=bearer(changed),
    )
    assert again.status_code == 200  # the fresh session is still the phone's: the WeChat stays
    assert (await wx_login(client, fake, "owner")).json()["status"] == "logged_in"


async def test_a_deactivated_account_loses_its_wechat_to_the_account_that_binds_it(client, fake, wechat):
    tree = await make_tree()
    old = await make_account("oldjob", tree.own)
    await make_account("newjob", tree.child)
    assert (await password_login(client, "oldjob", await bind_ticket(client, fake))).status_code == 200
    await Account.filter(id=old.id).update(is_active=False)
    ticket_answer = await wx_login(client, fake)
    assert ticket_answer.json()["status"] == "bind_required"
    moved = await password_login(client, "newjob", ticket_answer.json()["bind_ticket"])
    assert moved.status_code == 200 and moved.json()["wechat_bound"] is True
    identity = await WechatIdentity.get(appid=APPID)
    assert identity.account_id != old.id
    entry = await AuditEntry.get(action="wechat.bind", outcome="success", actor_account_id=identity.account_id)
    assert entry.detail["replaced_inactive_account"] == old.id


# --- SMS login for binding ------------------------------------------------------------------------


async def test_the_sms_login_binds_and_then_wx_login_works(client, fake, wechat):
    tree = await make_tree()
    account = await make_account("smsuser", tree.own, phone="13900001111")
    ticket = await bind_ticket(client, fake, "sms")
    captcha_id, answer = await captcha(client)
    sent = await client.post(
        "/api/wechat/sms-login/send-code",
        json={"phone": "13900001111", "captcha_id": captcha_id, "captcha_answer": answer, "wechat_bind_ticket": ticket},
    )
    assert sent.status_code == 200 and sent.json()["phone"] == "139****1111"
    wrong = await client.post(
        "/api/wechat/sms-login", json={"phone": "13900001111", "code": "000000", "wechat_bind_ticket": ticket}
    )
    code = await sms_code(client, "13900001111")
    if code != "000000":
        assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "sms_code_wrong"
    logged_in = await client.post(
        "/api/wechat/sms-login", json={"phone": "13900001111", "code": code, "wechat_bind_ticket": ticket}
    )
    assert logged_in.status_code == 200, logged_in.text
    assert logged_in.json()["wechat_bound"] is True and logged_in.json()["account_id"] == account.id
    assert (await wx_login(client, fake, "sms")).json()["account_id"] == account.id
    methods = await AuditEntry.filter(action="auth.login", actor_account_id=account.id).order_by("id")
    assert [(e.outcome, e.detail.get("method")) for e in methods][-2:] == [("success", "sms"), ("success", "wechat")]


async def test_the_sms_login_answers_an_unknown_phone_alike_and_needs_a_ticket(client, fake, wechat):
    ticket = await bind_ticket(client, fake)
    captcha_id, answer = await captcha(client)
    body = {"phone": "13900002222", "captcha_id": captcha_id, "captcha_answer": answer, "wechat_bind_ticket": ticket}
    sent = await client.post("/api/wechat/sms-login/send-code", json=body)
    assert sent.status_code == 200 and sent.json()["phone"] == "139****2222"
    assert (await client.get("/api/dev/sms", params={"phone": "13900002222"})).json()["messages"] == []
    no_ticket = await client.post("/api/wechat/sms-login/send-code", json={**body, "wechat_bind_ticket": "gone"})
    assert no_ticket.status_code == 410
    login = await client.post(
        "/api/wechat/sms-login", json={"phone": "13900002222", "code": "123456", "wechat_bind_ticket": ticket}
    )
    assert login.status_code == 400 and login.json()["error"]["code"] in ("sms_code_wrong", "sms_code_void")


# --- WeChat's answers -------------------------------------------------------------------------------


async def test_bad_used_and_expired_codes_are_refused_in_chinese(client, fake, wechat):
    unknown = await client.post("/api/wechat/login", json={"code": "0a1b2c3d4e5f"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "wechat_code_invalid"
    assert "凭证" in unknown.json()["error"]["message"]

    code = fake.login_code(user="wang")["code"]
    assert (await client.post("/api/wechat/login", json={"code": code})).status_code == 200
    used = await client.post("/api/wechat/login", json={"code": code})
    assert used.status_code == 400 and used.json()["error"]["code"] == "wechat_code_used"

    stale = fake.login_code(user="wang")["code"]
    fake.advance(5 * 60 + 1)
    expired = await client.post("/api/wechat/login", json={"code": stale})
    assert expired.status_code == 400 and expired.json()["error"]["code"] == "wechat_code_invalid"

    malformed = await client.post("/api/wechat/login", json={"code": "含有中文"})
    assert malformed.status_code == 422 and "code" in malformed.json()["error"]["fields"]
    failed = await AuditEntry.filter(action="auth.login", outcome="failure").order_by("id")
    assert [e.detail["reason"] for e in failed] == ["wechat_code_invalid", "wechat_code_used", "wechat_code_invalid"]
    assert {e.detail["method"] for e in failed} == {"wechat"} and failed[0].detail["errcode"] == 40029


async def test_busy_rate_limit_and_an_unreachable_wechat(client, fake, wechat):
    fake.inject("/sns/jscode2session", -1)
    busy = await wx_login(client, fake)
    assert busy.status_code == 503 and busy.json()["error"]["code"] == "wechat_busy"
    fake.inject("/sns/jscode2session", 45011)
    limited = await wx_login(client, fake)
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "wechat_rate_limited"
    with override(WechatClient(replace(DEV, api_base=f"http://127.0.0.1:{free_port()}/", timeout_seconds=1.0))):
        down = await wx_login(client, fake)
    assert down.status_code == 503 and down.json()["error"]["code"] == "wechat_unavailable"
    assert (await wx_login(client, fake)).status_code == 200


async def test_a_wrong_app_secret_is_refused_and_never_shown(client, fake, caplog):
    caplog.set_level(logging.DEBUG)
    with override(WechatClient(settings_for(fake, secret="not-our-secret-at-all"))) as bad:
        login = await wx_login(client, fake)
        assert login.status_code == 503 and login.json()["error"]["code"] == "wechat_misconfigured"
        phone = await client.post("/api/wechat/phone", json={"code": fake.phone_code("13800001234")["code"]})
        assert phone.status_code == 503 and phone.json()["error"]["code"] == "wechat_misconfigured"
        with pytest.raises(WechatError) as raised:
            await bad.access_token()
        assert raised.value.errcode == 40125
    assert fake.requests(TOKEN_PATH) == 2 and await runtime.get().redis.get(bad.token_key) is None
    for text in (login.text, phone.text, caplog.text):
        assert "not-our-secret-at-all" not in text and SECRET not in text
    assert "errcode 40125" in caplog.text


async def test_a_token_refused_with_40001_is_reported_as_our_misconfiguration(client, fake, wechat, caplog):
    """getAccessToken answers 40001 for a wrong or foreign AppSecret; it is not an outage to wait out."""
    fake.inject(TOKEN_PATH, 40001)
    phone = await client.post("/api/wechat/phone", json={"code": fake.phone_code("13800001234")["code"]})
    assert phone.status_code == 503 and phone.json()["error"]["code"] == "wechat_misconfigured"
    assert "check WECHAT_APPID, WECHAT_SECRET" in caplog.text


async def test_the_session_key_and_the_secret_never_leave_the_server(client, fake, wechat, caplog):
    caplog.set_level(logging.DEBUG)
    tree = await make_tree()
    await make_account("quiet", tree.own, phone="13900003333")
    answers = [await wx_login(client, fake, "quiet")]
    answers.append(await password_login(client, "quiet", answers[0].json()["bind_ticket"]))
    answers.append(await wx_login(client, fake, "quiet"))
    answers.append(await client.post("/api/wechat/phone", json={"code": fake.phone_code("13900003333")["code"]}))
    assert [a.status_code for a in answers] == [200] * 4
    keys = fake.session_keys
    assert len(keys) == 2
    redis = runtime.get().redis
    stored = []
    async for key in redis.scan_iter():
        kind = await redis.type(key)
        if kind == "hash":
            stored.append(json.dumps(await redis.hgetall(key)))
        elif kind == "set":
            stored.append(json.dumps(sorted(await redis.smembers(key))))
        elif kind == "string":
            stored.append(await redis.get(key))
    audit_rows = json.dumps([e.detail for e in await AuditEntry.all()])
    for key in keys:
        for where in [a.text for a in answers] + [caplog.text, audit_rows, *stored]:
            assert key not in where
    assert SECRET not in caplog.text
    assert "secret=***" in caplog.text  # urllib3's request lines, with the secret redacted


async def test_the_access_token_is_fetched_once_and_shared_by_two_instances(fake):
    first, second = WechatClient(settings_for(fake)), WechatClient(settings_for(fake))
    codes = [fake.phone_code(f"1380000{n:04d}")["code"] for n in range(12)]
    phones = await asyncio.gather(
        *(client.phone_number(code) for client, code in zip([first, second] * 6, codes, strict=True))
    )
    assert [p.phone for p in phones] == [f"1380000{n:04d}" for n in range(12)]
    assert fake.requests(TOKEN_PATH) == 1 and fake.requests(PHONE_PATH) == 12
    ttl = await runtime.get().redis.ttl(first.token_key)
    assert 7200 - 300 - 5 <= ttl <= 7200 - 300


async def test_a_refused_token_is_replaced_once_and_only_once(fake):
    client = WechatClient(settings_for(fake))
    await client.phone_number(fake.phone_code("13800005555")["code"])
    fake.revoke_tokens()  # e.g. someone fetched a token with our secret elsewhere
    phone = await client.phone_number(fake.phone_code("13800005555")["code"])
    assert phone.phone == "13800005555" and fake.requests(TOKEN_PATH) == 2
    fake.inject(PHONE_PATH, 40001, count=2)
    with pytest.raises(WechatError) as raised:
        await client.phone_number(fake.phone_code("13800005555")["code"])
    assert raised.value.code == "wechat_unavailable" and raised.value.errcode == 40001
    assert fake.requests(TOKEN_PATH) == 3
    fake.advance(7200)  # WeChat ended the token before our copy in Redis ran out: 42001
    assert (await client.phone_number(fake.phone_code("13800005555")["code"])).phone == "13800005555"
    assert fake.requests(TOKEN_PATH) == 4


async def test_the_phone_button_gives_the_number_to_prefill_once(client, fake, wechat):
    code = fake.phone_code("13812345678")["code"]
    first = await client.post("/api/wechat/phone", json={"code": code})
    assert first.status_code == 200 and first.json() == {"phone": "13812345678", "country_code": "86"}
    again = await client.post("/api/wechat/phone", json={"code": code})
    assert again.status_code == 400 and again.json()["error"]["code"] == "wechat_code_invalid"
    assert "手机号" in again.json()["error"]["message"]
    stale = fake.phone_code("13812345678")["code"]
    fake.advance(5 * 60 + 1)
    late = await client.post("/api/wechat/phone", json={"code": stale})
    assert late.status_code == 400 and late.json()["error"]["code"] == "wechat_code_invalid"
    for _ in range(20):
        await client.post("/api/wechat/phone", json={"code": "x"}, headers={"X-Forwarded-For": "10.3.3.3"})
    capped = await client.post("/api/wechat/phone", json={"code": "x"}, headers={"X-Forwarded-For": "10.3.3.3"})
    assert capped.status_code == 429


async def test_subscribe_messages_reach_the_bound_wechat_that_accepted_them(client, fake, wechat):
    tree = await make_tree()
    account = await make_account("notified", tree.own)
    nobody = await make_account("unbound", tree.own)
    assert (await password_login(client, "notified", await bind_ticket(client, fake, "sub"))).status_code == 200
    openid = (await WechatIdentity.get(account_id=account.id)).openid
    data = {"thing1": "账号密码已重置", "time2": "2026-01-05 08:00"}
    assert await actions.send_subscribe_message(account.id, "TPL-NOTICE", data, page="pages/index") is False
    fake.subscribe(openid, "TPL-NOTICE", count=1)
    assert await actions.send_subscribe_message(account.id, "TPL-NOTICE", data, page="pages/index") is True
    assert await actions.send_subscribe_message(account.id, "TPL-NOTICE", data) is False  # the one acceptance is used
    assert await actions.send_subscribe_message(nobody.id, "TPL-NOTICE", data) is False
    [sent] = fake.messages(openid)
    assert sent["template_id"] == "TPL-NOTICE" and sent["data"] == data and sent["page"] == "pages/index"
    fake.subscribe(openid, "TPL-NOTICE", count=1)
    with pytest.raises(WechatError) as raised:
        await actions.send_subscribe_message(account.id, "", data)
    assert raised.value.code == "wechat_template_invalid"


# --- settings and the fake as a program --------------------------------------------------------------


def test_wechat_settings_in_development_and_production(tmp_path: Path):
    dev = Settings.from_env({"VAR_DIR": str(tmp_path)}).wechat
    assert dev.enabled and dev.api_base == "http://127.0.0.1:8020/" and dev.secret not in repr(dev)
    key = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    base = {
        "APP_ENV": "production",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": "sqlite://:memory:",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "DATA_KEY": key,
        "INDEX_KEY": key,
    }
    off = Settings.from_env(base).wechat
    assert not off.enabled and off.api_base == "https://api.weixin.qq.com/"
    with pytest.raises(ConfigError, match="WECHAT_APPID and WECHAT_SECRET"):
        Settings.from_env({**base, "WECHAT_APPID": "wx1234567890abcdef"})
    on = Settings.from_env({**base, "WECHAT_APPID": "wx1234567890abcdef", "WECHAT_SECRET": "s" * 32}).wechat
    assert on.enabled and on.appid == "wx1234567890abcdef" and "s" * 32 not in repr(on)
    with pytest.raises(ConfigError, match="https"):
        Settings.from_env({**base, "WECHAT_APPID": "wx1", "WECHAT_SECRET": "s", "WECHAT_API_BASE": "http://x/"})
    assert (
        Settings.from_env({"VAR_DIR": str(tmp_path), "WECHAT_API_BASE": "http://h:1"}).wechat.api_base == "http://h:1/"
    )


async def test_wechat_login_answers_503_when_it_is_not_configured(client, settings):
    rt = runtime.get()
    rt.settings = replace(settings, wechat=replace(settings.wechat, appid="", secret=""))
    try:
        answer = await client.post("/api/wechat/login", json={"code": "abc"})
    finally:
        rt.settings = settings
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "wechat_disabled"


async def test_the_fake_runs_as_a_program_and_the_client_talks_to_it_unchanged():
    port = free_port()
    env = {**os.environ, "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.fakes.wechat_api",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}/"
        async with httpx.AsyncClient(base_url=base, timeout=5) as control:
            for _ in range(200):
                try:
                    issued = (await control.post("/_control/login-code", json={"user": "demo"})).json()
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("the fake did not start")
            phone_code = (await control.post("/_control/phone-code", json={"phone": "13700000000"})).json()["code"]
            page = await control.get("/")
            assert page.status_code == 200 and "wx.login" in page.text
            client = WechatClient(replace(DEV, api_base=base))
            who = await client.code2session(issued["code"])
            assert who.openid == issued["openid"] and who.unionid
            assert (await client.phone_number(phone_code)).phone == "13700000000"
            counters = (await control.get("/_control")).json()["requests"]
            assert counters == {"/sns/jscode2session": 1, TOKEN_PATH: 1, PHONE_PATH: 1}
    finally:
        process.terminate()
        output = (await asyncio.wait_for(process.communicate(), 10))[0].decode()
    assert f"fake WeChat API on http://127.0.0.1:{port}/" in output
    assert SECRET not in output and issued["code"] not in output


async def test_parallel_binds_of_one_account_leave_one_identity(client, fake, wechat):
    tree = await make_tree()
    account = await make_account("racer", tree.own)
    tickets = [await bind_ticket(client, fake, f"racer{n}") for n in range(4)]
    origin = Origin(ip="10.0.0.9")
    results = await asyncio.gather(
        *(actions.bind(account, ticket=t, origin=origin) for t in tickets), return_exceptions=True
    )
    bound = [r for r in results if isinstance(r, WechatIdentity)]
    refused = [r for r in results if isinstance(r, AppError)]
    assert len(bound) == 1 and len(refused) == 3, results
    assert {r.code for r in refused} == {"wechat_account_bound"} and {r.status for r in refused} == {409}
    assert await WechatIdentity.filter(account_id=account.id).count() == 1
    assert await AuditEntry.filter(action="wechat.bind", outcome="failure").count() == 3  # each refusal


class _SilentServer:
    """Accepts connections and never answers: WeChat hanging (an outage), until :meth:`close`."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.arrived = threading.Semaphore(0)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(conn)
            self.arrived.release()

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.listener.close()


async def test_a_hanging_wechat_does_not_hold_up_the_captcha_of_the_password_login(client):
    """WeChat hangs and cadres keep tapping; the answer says to use the password login, whose
    captcha (drawn in a thread) must not wait behind the WeChat calls."""
    silent = _SilentServer()
    hung = WechatClient(replace(DEV, api_base=f"http://127.0.0.1:{silent.port}/", timeout_seconds=30.0))
    calls = [asyncio.ensure_future(hung.code2session(f"code{n}")) for n in range(ThreadPoolExecutor()._max_workers)]
    waiter = ThreadPoolExecutor(max_workers=1)
    try:
        loop = asyncio.get_running_loop()
        for _ in calls:  # every call is under way at WeChat (or as many as the client runs at once)
            if not await loop.run_in_executor(waiter, silent.arrived.acquire, True, 1.0):
                break
        answer = await asyncio.wait_for(client.get("/api/auth/captcha"), timeout=5)
        assert answer.status_code == 200
    finally:
        silent.close()
        results = await asyncio.gather(*calls, return_exceptions=True)
        waiter.shutdown()
    assert {r.code for r in results} == {"wechat_unavailable"}


async def test_a_password_reset_while_the_old_password_is_checked_leaves_no_wechat_bound(
    client, fake, wechat, clock, monkeypatch
):
    """The reset releases every WeChat bound with the old password, and one being bound with it at
    that very moment too: otherwise whoever knew the old password keeps the one-tap login."""
    tree = await make_tree()
    await make_account("resetter", tree.own, role="admin")
    victim = await make_account("victim", tree.child, role="clerk")
    admin = await login(client, "resetter")
    ticket = await bind_ticket(client, fake, "intruder")
    hasher = runtime.get().hasher
    verify = hasher.verify

    async def reset_meanwhile(password: str, encoded: str | None) -> bool:
        checked = await verify(password, encoded)
        monkeypatch.setattr(hasher, "verify", verify)
        clock.advance(1)
        reset = await client.post(f"/api/accounts/{victim.id}/reset-password", headers=admin)
        assert reset.status_code == 204, reset.text
        return checked

    monkeypatch.setattr(hasher, "verify", reset_meanwhile)
    intruder = await password_login(client, "victim", ticket)
    assert intruder.status_code == 401 and intruder.json()["error"]["code"] == "login_failed"
    assert not await WechatIdentity.filter(account_id=victim.id).exists()
    assert (await wx_login(client, fake, "intruder")).json()["status"] == "bind_required"


async def test_a_one_tap_login_under_way_while_the_pc_unbinds_gets_no_lasting_session(
    client, fake, wechat, monkeypatch
):
    """The lost phone taps at the moment its owner unbinds it from the PC: it must not stay in."""
    tree = await make_tree()
    await make_account("owner", tree.own)
    await password_login(client, "owner", await bind_ticket(client, fake, "lost"))
    pc = await password_login(client, "owner", None)
    start_session = auth_actions.start_session

    async def unbind_meanwhile(*args, **kwargs):
        monkeypatch.setattr(auth_actions, "start_session", start_session)
        assert (await client.delete("/api/wechat/binding", headers=bearer(pc))).status_code == 204
        return await start_session(*args, **kwargs)

    monkeypatch.setattr(auth_actions, "start_session", unbind_meanwhile)
    tapped = await wx_login(client, fake, "lost")
    assert tapped.status_code == 200 and tapped.json()["status"] == "bind_required", tapped.text
    assert (await client.get("/api/session", headers=bearer(pc))).status_code == 200


@pytest.mark.parametrize("errcode", [40243, 89503])
async def test_a_frozen_secret_or_an_ip_awaiting_confirmation_is_our_misconfiguration(client, fake, wechat, errcode):
    """WeChat froze the AppSecret (40243) or waits for the administrator to confirm the server's IP
    (89503): the operator must act, so it is reported as set-up, not as an outage to wait out."""
    fake.inject(TOKEN_PATH, errcode)
    phone = await client.post("/api/wechat/phone", json={"code": fake.phone_code("13800001234")["code"]})
    assert phone.status_code == 503 and phone.json()["error"]["code"] == "wechat_misconfigured"


async def test_a_throttled_wechat_login_sends_retry_after_and_says_the_minutes(client, clock, settings, fake, wechat):
    """The WeChat one-tap login shares the per-address login limit; its 429 said neither how long."""
    window = settings.login_ip_window_seconds
    clock.advance(window - clock.timestamp() % window + 20)
    for _ in range(settings.login_ip_limit):
        await wx_login(client, fake)
    refused = await wx_login(client, fake)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "login_throttled"
    assert refused.headers["Retry-After"] == str(window - 20)
    assert refused.json()["error"]["message"] == auth_msg.LOGIN_THROTTLED_FOR.format(minutes=1)
