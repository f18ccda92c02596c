"""Review of W1 (WeChat login): a ticket once WeChat login is off, a deactivated account's WeChat, the SMS login."""

from __future__ import annotations

from dataclasses import replace

from backend.accounts.models import Account
from backend.core import runtime
from backend.core.audit import AuditEntry
from backend.wechat import actions
from backend.wechat.client import WechatClient, override
from backend.wechat.models import WechatIdentity
from tests.factories import captcha, make_account, make_tree
from tests.test_wechat import (
    bearer,
    bind_ticket,
    fake,
    password_login,
    settings_for,
    sms_code,
    wechat,
)

__all__ = ["fake", "wechat"]  # the fixtures, shared with test_wechat


async def test_a_password_login_with_a_ticket_logs_in_by_password_once_wechat_login_is_switched_off(
    client, fake, settings
):
    """The ticket was given before WeChat login was switched off: the password login must still let
    the cadre in (binding nothing), not answer that WeChat login is off, again at every try."""
    tree = await make_tree()
    account = await make_account("switchedoff", tree.own)
    with override(WechatClient(settings_for(fake))):
        ticket = await bind_ticket(client, fake)
    rt = runtime.get()
    rt.settings = replace(settings, wechat=replace(settings.wechat, appid="", secret=""))
    try:
        answer = await password_login(client, "switchedoff", ticket)
    finally:
        rt.settings = settings
    assert answer.status_code == 200, answer.text
    assert answer.json()["account_id"] == account.id and answer.json()["wechat_bound"] is False
    assert not await WechatIdentity.exists()


async def test_wx_login_of_a_deactivated_accounts_wechat_says_the_account_is_deactivated(client, fake, wechat):
    """Not "首次使用微信登录": the cadre would type the old password and be told only that it is wrong."""
    tree = await make_tree()
    old = await make_account("retired", tree.own)
    assert (await password_login(client, "retired", await bind_ticket(client, fake, "retiree"))).status_code == 200
    await Account.filter(id=old.id).update(is_active=False)

    answer = await client.post("/api/wechat/login", json={"code": fake.login_code(user="retiree")["code"]})
    body = answer.json()
    assert answer.status_code == 200 and body["status"] == "bind_required" and body["bind_ticket"]
    assert "已停用" in body["message"] and "首次" not in body["message"]
    entry = await AuditEntry.filter(action="auth.login", outcome="failure", actor_account_id=old.id).first()
    assert entry is not None and entry.detail == {"method": "wechat", "reason": "deactivated"}


async def test_no_subscribe_message_goes_to_the_wechat_of_a_deactivated_account(client, fake, wechat):
    tree = await make_tree()
    old = await make_account("gone", tree.own)
    await password_login(client, "gone", await bind_ticket(client, fake, "gone"))
    openid = fake.login_code(user="gone")["openid"]
    fake.subscribe(openid, "TPL-NOTICE", 1)
    await Account.filter(id=old.id).update(is_active=False)
    assert await actions.send_subscribe_message(old.id, "TPL-NOTICE", {"thing1": "新通知"}) is False
    assert fake.messages(openid) == []


async def test_the_sms_login_of_a_new_operator_is_its_first_login_sms_check(client, fake, wechat):
    """An operator an admin created opens the mini-program and logs in by a code to the bound phone:
    that code proved the phone, so a second code for the first-login check would only cost an SMS."""
    tree = await make_tree()
    account = await make_account("newop", tree.own, phone="13900003333", must_change=True)
    await Account.filter(id=account.id).update(needs_sms_check=True)
    ticket = await bind_ticket(client, fake, "newop")
    captcha_id, answer = await captcha(client)
    body = {"phone": "13900003333", "captcha_id": captcha_id, "captcha_answer": answer, "wechat_bind_ticket": ticket}
    assert (await client.post("/api/wechat/sms-login/send-code", json=body)).status_code == 200
    code = await sms_code(client, "13900003333")
    logged_in = await client.post(
        "/api/wechat/sms-login", json={"phone": "13900003333", "code": code, "wechat_bind_ticket": ticket}
    )
    assert logged_in.status_code == 200, logged_in.text
    assert logged_in.json()["sms_check_required"] is False and logged_in.json()["must_change_password"] is True
    assert not (await Account.get(id=account.id)).needs_sms_check
    # the next step is the password change, not another code
    refused = await client.get("/api/units/", headers=bearer(logged_in))
    assert refused.json()["error"]["code"] == "password_change_required"
    entry = await AuditEntry.get(action="auth.first_login_sms", actor_account_id=account.id)
    assert entry.outcome == "success" and entry.detail == {"method": "wechat_sms"}
