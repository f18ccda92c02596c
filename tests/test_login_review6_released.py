"""Review 6, finding 3: a WeChat whose binding a deactivation, a password reset or an unbind removed is
told why at its next wx.login, not "首次使用微信登录"; the record of it goes once bound again or old."""

from __future__ import annotations

import re

from backend.accounts import people
from backend.accounts.models import Account
from backend.core import db, runtime
from backend.core.audit import AuditEntry
from backend.wechat.models import WechatRelease
from backend.wechat.releases import KEEP_DAYS
from tests.factories import PASSWORD, captcha, login, make_account, make_tree
from tests.test_wechat import bearer, bind_ticket, fake, password_login, wechat, wx_login

__all__ = ["fake", "wechat"]  # the fixtures, shared with test_wechat


PHONE = "13600002222"
ID_NUMBER = "11010519491231002X"


async def _bound(client, fake, username: str, user: str, **account):
    tree = await make_tree()
    account = await make_account(username, tree.child, role="clerk", **account)
    assert (await password_login(client, username, await bind_ticket(client, fake, user))).status_code == 200
    return tree, account


async def _message(client, fake, user: str) -> str:
    answer = await wx_login(client, fake, user)
    assert answer.status_code == 200 and answer.json()["status"] == "bind_required", answer.text
    return answer.json()["message"]


async def test_a_deactivated_accounts_wechat_is_told_so_and_the_failed_login_is_audited(client, fake, wechat):
    tree, account = await _bound(client, fake, "leaver", "li")
    await make_account("town_admin", tree.own, role="admin")
    admin = await login(client, "town_admin")
    assert (await client.post(f"/api/accounts/{account.id}/deactivate", headers=admin)).status_code in (200, 204)
    message = await _message(client, fake, "li")
    assert "已停用" in message and "首次" not in message
    entry = await AuditEntry.filter(action="auth.login", outcome="failure", actor_account_id=account.id).first()
    assert entry is not None and entry.detail == {"method": "wechat", "reason": "deactivated"}


async def test_an_admin_reset_tells_the_wechat_to_log_in_once_with_the_new_password(client, fake, wechat):
    tree, account = await _bound(client, fake, "resetme", "gao")
    await make_account("town_admin", tree.own, role="admin")
    admin = await login(client, "town_admin")
    assert (await client.post(f"/api/accounts/{account.id}/reset-password", headers=admin)).status_code in (200, 204)
    message = await _message(client, fake, "gao")
    assert "密码已" in message and "重置" in message and "重新绑定" in message and "首次" not in message


async def test_a_self_service_reset_tells_the_wechat_why(client, fake, wechat):
    _, account = await _bound(client, fake, "forgetful", "wang", phone=PHONE)
    vault = runtime.get().vault
    await Account.filter(id=account.id).update(
        id_number_enc=vault.encrypt("account.id_number", ID_NUMBER), id_number_index=vault.index("id_number", ID_NUMBER)
    )
    captcha_id, answer = await captcha(client)
    start = await client.post(
        "/api/recovery/password/start",
        json={"username": "forgetful", "captcha_id": captcha_id, "captcha_answer": answer},
    )
    ticket = start.json()["ticket"]
    captcha_id, answer = await captcha(client)
    await client.post(
        "/api/recovery/password/send-code", json={"ticket": ticket, "captcha_id": captcha_id, "captcha_answer": answer}
    )
    text = (await client.get("/api/dev/sms", params={"phone": PHONE})).json()["messages"][0]["text"]
    code = re.search(r"验证码为 (\d{6})", text).group(1)
    verified = await client.post(
        "/api/recovery/password/verify", json={"ticket": ticket, "code": code, "id_number": ID_NUMBER}
    )
    reset = await client.post(
        "/api/recovery/password/reset",
        json={"reset_ticket": verified.json()["reset_ticket"], "new_password": "Qingshan#River7"},
    )
    assert reset.status_code == 204, reset.text
    message = await _message(client, fake, "wang")
    assert "密码已" in message and "重置" in message and "新密码" in message and "首次" not in message


async def test_an_unbind_by_the_owner_or_an_admin_tells_the_wechat_it_was_unbound(client, fake, wechat):
    tree, account = await _bound(client, fake, "unbinder", "zhou")
    session = await wx_login(client, fake, "zhou")
    assert (await client.delete("/api/wechat/binding", headers=bearer(session))).status_code == 204
    message = await _message(client, fake, "zhou")
    assert "解除绑定" in message and "首次" not in message

    await password_login(client, "unbinder", await bind_ticket(client, fake, "zhou"))
    assert not await WechatRelease.exists()  # bound again: nothing to tell any more
    await make_account("town_admin", tree.own, role="admin")
    admin = await login(client, "town_admin")
    assert (await client.delete(f"/api/accounts/{account.id}/wechat", headers=admin)).status_code == 204
    message = await _message(client, fake, "zhou")
    assert "管理员" in message and "解除" in message and "首次" not in message


async def test_the_record_of_a_release_is_kept_only_for_a_while(client, fake, wechat, clock):
    _, account = await _bound(client, fake, "oldtimer", "sun")
    session = await wx_login(client, fake, "sun")
    assert (await client.delete("/api/wechat/binding", headers=bearer(session))).status_code == 204
    row = await WechatRelease.get()
    assert row.account_id == account.id and row.reason == "unbound"
    assert fake.login_code(user="sun")["openid"] not in row.openid_key  # keyed, not the openid itself
    clock.advance(KEEP_DAYS * 86400 + 1)
    assert "首次" in await _message(client, fake, "sun")
    assert not await WechatRelease.exists()


async def test_a_wechat_never_bound_still_reads_first_use(client, fake, wechat):
    assert "首次" in await _message(client, fake, "newcomer")


async def test_a_password_changed_elsewhere_tells_the_other_wechat_why(client, fake, wechat):
    """The owner changed the password from the office PC: the WeChat on the lost phone is released."""
    await _bound(client, fake, "changer", "zhao")
    office = await login(client, "changer")
    changed = await client.post(
        "/api/account/password",
        headers=office,
        json={"old_password": PASSWORD, "new_password": "Changed#2026pw"},
    )
    assert changed.status_code == 200, changed.text
    message = await _message(client, fake, "zhao")
    assert "修改了密码" in message and "首次" not in message


async def test_an_account_handed_over_tells_the_old_holder_s_wechat(client, fake, wechat):
    """A unit's recovery or an approved review gives the account to another person."""
    _tree, account = await _bound(client, fake, "handed", "wang")
    async with db.atomic():
        await people.hand_over(
            await Account.get(id=account.id),
            name="新负责人",
            phone="13700001111",
            id_number=None,
            password=await people.temporary_password(),
        )
    message = await _message(client, fake, "wang")
    assert "交给新的负责人" in message and "首次" not in message


async def test_a_later_release_of_the_account_replaces_what_an_earlier_one_told(client, fake, wechat):
    """Reset by an admin, then deactivated: the WeChat was still told to use the temporary password."""
    tree, account = await _bound(client, fake, "resetleaver", "gao")
    await make_account("town_admin", tree.own, role="admin")
    admin = await login(client, "town_admin")
    assert (await client.post(f"/api/accounts/{account.id}/reset-password", headers=admin)).status_code in (200, 204)
    assert "重置" in await _message(client, fake, "gao")
    assert (await client.post(f"/api/accounts/{account.id}/deactivate", headers=admin)).status_code in (200, 204)
    message = await _message(client, fake, "gao")
    assert "已停用" in message and "重置" not in message
