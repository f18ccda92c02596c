"""Review 6, findings 1 and 6: a code SMS says what it is for and not to tell it; a bound WeChat is
told to the account's phone; a locked account binds nothing by SMS; a refused or expired bind says
what to do next."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.accounts.models import Account
from backend.core import runtime, sms_codes
from backend.core.audit import AuditEntry
from backend.core.config import TencentSmsSettings
from backend.core.sms import SmsMessage
from backend.core.sms_provider import OutgoingSms
from backend.core.sms_templates import CODE_TEMPLATES, code_template, is_code_template, render
from backend.fakes.sms_gateway import GatewayConfig, running_gateway
from backend.wechat import messages as msg
from backend.wechat.models import WechatIdentity, WechatRelease
from tests.factories import captcha, make_account, make_tree
from tests.test_sms_gateway import channel
from tests.test_wechat import bind_ticket, fake, password_login, sms_code, wechat

__all__ = ["fake", "wechat"]  # the fixtures, shared with test_wechat

PHONE = "13900000007"
CODE = {"code": "742722", "minutes": "5"}


@pytest.fixture(autouse=True)
async def no_releases_left():
    """tests/conftest.py's clean_state does not empty wechat_release yet (its TABLES predate it)."""
    await WechatRelease.all().delete()
    yield
    await WechatRelease.all().delete()


async def _inbox(client, phone: str = PHONE) -> list[dict]:
    return (await client.get("/api/dev/sms", params={"phone": phone})).json()["messages"]


async def _send_code(client, ticket: str, phone: str = PHONE):
    captcha_id, answer = await captcha(client)
    body = {"phone": phone, "captcha_id": captcha_id, "captcha_answer": answer, "wechat_bind_ticket": ticket}
    return await client.post("/api/wechat/sms-login/send-code", json=body)


async def _sms_login(client, ticket: str, code: str, phone: str = PHONE):
    body = {"phone": phone, "code": code, "wechat_bind_ticket": ticket}
    return await client.post("/api/wechat/sms-login", json=body)


# --- finding 1: what a code is for, the notice of a bind, a locked account -------------------------


def test_every_code_purpose_has_its_own_text_naming_it_and_saying_not_to_tell_it():
    assert set(CODE_TEMPLATES) == sms_codes.PURPOSES
    texts = {purpose: render(code_template(purpose), CODE) for purpose in sms_codes.PURPOSES}
    assert len(set(texts.values())) == len(texts)  # each says what it is for
    for text in texts.values():
        assert "验证码为 742722" in text and "请勿告诉他人" in text and len(text) <= 70  # one SMS
    assert "微信" in texts["wechat_login"] and "密码" in texts["password_reset"]
    assert all(is_code_template(code_template(p)) for p in sms_codes.PURPOSES) and is_code_template("verification_code")
    assert not is_code_template("wechat_bound") and not is_code_template("password_reset")


async def test_the_tencent_gateway_takes_the_code_and_bind_notice_templates():
    """Each is registered in the console under its own template id (the development ids number them)."""
    with running_gateway(GatewayConfig.from_settings(TencentSmsSettings())) as gateway:
        sender = channel(gateway)
        await sender.send(OutgoingSms(PHONE, code_template("wechat_login"), CODE, "1"))
        await sender.send(OutgoingSms(PHONE, "wechat_bound", {"username": "town_clerk"}, "2"))
        texts = [m["text"] for m in gateway.inbox(PHONE)]
    assert set(texts) == {
        render(code_template("wechat_login"), CODE),
        render("wechat_bound", {"username": "town_clerk"}),
    }


async def test_the_wechat_bind_code_sms_says_it_binds_a_wechat_and_not_to_tell_it(client, fake, wechat):
    tree = await make_tree()
    await make_account("town_clerk", tree.own, phone=PHONE)
    assert (await _send_code(client, await bind_ticket(client, fake, "gao"))).status_code == 200
    text = (await _inbox(client))[0]["text"]
    assert "微信" in text and "请勿告诉他人" in text


async def test_an_sms_bind_tells_the_accounts_phone_in_the_outbox(client, fake, wechat):
    tree = await make_tree()
    account = await make_account("town_clerk", tree.own, phone=PHONE)
    ticket = await bind_ticket(client, fake, "gao")
    assert (await _send_code(client, ticket)).status_code == 200
    logged_in = await _sms_login(client, ticket, await sms_code(client, PHONE))
    assert logged_in.status_code == 200, logged_in.text
    notice = await SmsMessage.get(template="wechat_bound")
    assert notice.phone_index == runtime.get().vault.index("phone", PHONE)
    text = (await _inbox(client))[0]["text"]
    assert "town_clerk" in text and "已绑定微信" in text and "如非本人操作" in text and "管理员" in text
    assert await WechatIdentity.exists(account_id=account.id)


async def test_a_password_bind_tells_the_accounts_phone_once(client, fake, wechat):
    tree = await make_tree()
    await make_account("pw_binder", tree.own, phone=PHONE)
    early = await bind_ticket(client, fake, "pw")  # a second ticket of the same WeChat, taken before
    assert (await password_login(client, "pw_binder", await bind_ticket(client, fake, "pw"))).status_code == 200
    text = (await _inbox(client))[0]["text"]
    assert "pw_binder" in text and "已绑定微信" in text
    again = await password_login(client, "pw_binder", early)  # bound already: nothing changes
    assert again.status_code == 200
    assert await SmsMessage.filter(template="wechat_bound").count() == 1


async def test_a_refused_bind_sends_no_notice(client, fake, wechat):
    tree = await make_tree()
    await make_account("has_one", tree.own, phone=PHONE)
    assert (await password_login(client, "has_one", await bind_ticket(client, fake, "first"))).status_code == 200
    refused = await password_login(client, "has_one", await bind_ticket(client, fake, "second"))
    assert refused.status_code == 409
    assert await SmsMessage.filter(template="wechat_bound").count() == 1


async def test_a_locked_account_binds_nothing_by_sms_and_is_told_it_is_locked(client, fake, wechat, clock):
    """The lock is against password guessing: a code to the phone must not bind a one-tap WeChat past it."""
    tree = await make_tree()
    account = await make_account("locked_clerk", tree.own, phone=PHONE)
    for _ in range(5):
        assert (await password_login(client, "locked_clerk", None, "Wrong#Guess-123")).status_code == 401
    ticket = await bind_ticket(client, fake, "gao")
    assert (await _send_code(client, ticket)).status_code == 200  # the same answer as for anyone
    refused = await _sms_login(client, ticket, await sms_code(client, PHONE))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "account_locked"
    assert "锁定" in refused.json()["error"]["message"] and "15 分钟" in refused.json()["error"]["message"]
    assert not await WechatIdentity.exists(account_id=account.id)
    assert (await Account.get(id=account.id)).last_login_at is None
    entry = await AuditEntry.filter(action="auth.login", outcome="failure", actor_account_id=account.id).last()
    assert entry.detail == {"method": "sms", "reason": "locked"}
    assert not await SmsMessage.exists(template="wechat_bound")


async def test_a_wrong_code_for_a_locked_account_says_only_that_the_code_is_wrong(client, fake, wechat):
    tree = await make_tree()
    account = await make_account("locked_quiet", tree.own, phone=PHONE)
    until = runtime.get().clock.now() + timedelta(minutes=10)
    await Account.filter(id=account.id).update(locked_until=until)
    ticket = await bind_ticket(client, fake, "gao")
    assert (await _send_code(client, ticket)).status_code == 200
    code = await sms_code(client, PHONE)
    wrong = await _sms_login(client, ticket, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "sms_code_wrong"


# --- finding 6: a refused or expired bind ---------------------------------------------------------------


async def test_a_bind_refused_after_the_right_password_says_what_to_do_next(client, fake, wechat):
    tree = await make_tree()
    await make_account("alice", tree.own)
    await make_account("bob", tree.own)
    early = await bind_ticket(client, fake, "wx-a")  # taken before wx-a is bound to alice
    assert (await password_login(client, "alice", await bind_ticket(client, fake, "wx-a"))).status_code == 200
    account_bound = await password_login(client, "alice", await bind_ticket(client, fake, "wx-b"))
    identity_bound = await password_login(client, "bob", early)
    for answer, code in ((account_bound, "wechat_account_bound"), (identity_bound, "wechat_identity_bound")):
        error = answer.json()["error"]
        assert answer.status_code == 409 and error["code"] == code
        assert "先用账号密码登录" not in error["message"] and "未登录" in error["message"]
    assert account_bound.json()["error"]["message"] == msg.ACCOUNT_HAS_OTHER_WECHAT
    assert "解除" in msg.ACCOUNT_HAS_OTHER_WECHAT and "微信一键登录" in msg.ACCOUNT_HAS_OTHER_WECHAT


async def test_an_expired_bind_ticket_at_the_password_login_names_the_wechat_bind(client, fake, wechat, clock):
    tree = await make_tree()
    await make_account("late", tree.own)
    ticket = await bind_ticket(client, fake, "late")
    clock.advance(10 * 60 + 1)
    expired = await password_login(client, "late", ticket)
    assert expired.status_code == 410
    assert expired.json()["error"] == {"code": "ticket_invalid", "message": msg.BIND_EXPIRED, "fields": {}}
    assert "微信一键登录" in msg.BIND_EXPIRED
    assert (await _send_code(client, ticket)).json()["error"]["message"] == msg.BIND_EXPIRED
    # nothing was tried: the password login without the ticket goes through at once
    assert (await password_login(client, "late", None)).status_code == 200
