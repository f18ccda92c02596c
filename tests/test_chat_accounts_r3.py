"""Account questions a typing review of the demo found misread (round 3): last logins and who never
logged in, expiry (none), a support call's words, "重置密码" / "解锁" with no name, unlocking an
account that is not locked, role and finance changes, ending another's sessions, reactivation, and
"停用的账号" answered in the word typed."""

from __future__ import annotations

import json

import pytest

from backend.accounts.models import Account, Membership
from backend.chat import intents, parser
from backend.chat import messages as chat_msg
from backend.core.audit import AuditEntry
from backend.core.roles import FinanceAccess, Role
from tests.factories import login, login_response, make_tree
from tests.test_chat_accounts import PHONE_IN_SCOPE, admin_of, person
from tests.test_chat_lookup import blocks, button, card, fields, notice, say, tap

DAY = 24 * 3600


def _text(reply: dict) -> str:
    return json.dumps(reply, ensure_ascii=False)


def _labels(block: dict) -> list[str]:
    return [a["label"] for a in block.get("actions", [])]


@pytest.mark.parametrize(
    ("text", "intent", "params"),
    [
        ("谁还没登录过", "accounts.not_logged_in", {}),
        ("哪些人从来没登录过", "accounts.not_logged_in", {}),
        ("王家湾村谁没登录过", "accounts.not_logged_in", {"name": "王家湾村"}),
        ("从未登录的账号", "accounts.not_logged_in", {}),
        ("谁很久没登录了", "accounts.not_logged_in", {"long": "很久"}),
        ("谁一个月没登录", "accounts.not_logged_in", {"count": "一", "span": "月"}),
        ("哪些人30天没登录了", "accounts.not_logged_in", {"count": "30", "span": "天"}),
        ("侯国梅上次什么时候登录的", "account.last_login", {"name": "侯国梅"}),
        ("侯国梅上次登录", "account.last_login", {"name": "侯国梅"}),
        ("侯国梅最后登录时间", "account.last_login", {"name": "侯国梅"}),
        ("谁的账号快过期了", "account.expiry", {}),
        ("谁的密码快过期了", "account.expiry", {}),
        ("账号过期", "account.expiry", {}),
        ("密码多久过期", "account.expiry", {}),
        ("侯国梅登不上去", "account.status", {"name": "侯国梅"}),
        ("侯国梅进不去系统", "account.status", {"name": "侯国梅"}),
        ("侯国梅登不上了", "account.status", {"name": "侯国梅"}),
        ("侯国梅密码忘了", "account.reset_password", {"name": "侯国梅"}),
        ("侯国梅忘记密码了", "account.reset_password", {"name": "侯国梅"}),
        ("重新给宋晓平发一下密码", "account.reset_password", {"name": "宋晓平"}),
        ("宋晓平说收不到短信", "account.sms_help", {"name": "宋晓平"}),
        ("宋晓平收不到验证码", "account.sms_help", {"name": "宋晓平"}),
        ("宋晓平的临时密码是多少", "account.password_asked", {"name": "宋晓平"}),
        ("重置密码", "account.whose", {"what": "重置"}),
        ("帮我重置一下密码", "account.whose", {"what": "重置"}),
        ("解锁", "account.whose", {"what": "解锁"}),
        ("我要解锁一个账号", "account.whose", {"what": "解锁"}),
        ("怎么解锁", "account.whose", {"what": "解锁"}),
        ("解锁侯国梅", "account.unlock", {"name": "侯国梅"}),
        ("把侯国梅改成查看员", "account.role", {"name": "侯国梅", "role": "查看员"}),
        ("侯国梅的角色改成管理员", "account.role", {"name": "侯国梅", "role": "管理员"}),
        ("给侯国梅财务权限", "account.finance", {"name": "侯国梅"}),
        ("踢侯国梅下线", "account.end_sessions", {"name": "侯国梅"}),
        ("让侯国梅重新登录", "account.end_sessions", {"name": "侯国梅"}),
        ("侯国梅在哪些设备登录", "account.end_sessions", {"name": "侯国梅", "devices": "设备"}),
        ("恢复宋晓平的账号", "account.reactivate", {"name": "宋晓平"}),
        ("启用宋晓平", "account.reactivate", {"name": "宋晓平"}),
        ("停用的账号", "accounts.deactivated", {}),
        # one's own stays the "我的" page's, and other questions stay theirs
        ("我忘记密码了", "chat.forgot_password", {}),
        ("修改密码", "chat.own_account", {}),
        ("重置我的密码", "chat.own_account", {}),
        ("重置侯国梅的密码", "account.reset_password", {"name": "侯国梅"}),
        ("侯国梅上次登录是什么时候", "audit.recent", {"name": "侯国梅", "login": "登录"}),
        ("最近登录失败的", "audit.recent", {"login": "登录", "failed": "失败"}),
        ("王家湾村的管理员是谁", "unit.members", {"name": "王家湾村", "role": "管理员"}),
        ("停用王建国的账号", "account.deactivate", {"name": "王建国"}),
    ],
)
def test_the_account_questions_of_a_support_call_are_read_as_asked(text, intent, params):
    intents.load()
    parsed = parser.parse(text)
    assert (parsed.intent, parsed.params) == (intent, params)


async def test_the_last_login_is_on_the_card_and_said_in_a_sentence(client, clock):
    """ "侯国梅上次什么时候登录的", "侯国梅上次登录" were "没有找到"; the card did not say it."""
    tree = await make_tree()
    await person("hgm01", "侯国梅", tree.child)
    await person("sxp01", "宋晓平", tree.child)
    await login(client, "hgm01")  # 2026-01-05 16:00 in China
    assert (await login_response(client, "hgm01", "Wrong#pass1")).status_code == 401  # a failure is no login
    clock.advance(3 * DAY)
    headers = await admin_of(client, tree)
    for text in ("侯国梅上次什么时候登录的", "侯国梅上次登录"):
        reply = await say(client, headers, text)
        assert notice(reply) == "侯国梅上次登录是 2026-01-05 16:00（3 天前）。", text
        assert fields(card(reply))["上次登录"] == "2026-01-05 16:00", text
    never = await say(client, headers, "宋晓平上次登录")
    assert notice(never) == "宋晓平还从未登录过。" and fields(card(never))["上次登录"] == "从未登录"
    assert fields(card(await say(client, headers, "侯国梅")))["上次登录"] == "2026-01-05 16:00"


async def test_who_never_logged_in_is_listed_within_the_scope_a_page_at_a_time(client):
    """ "谁还没登录过", "哪些人从来没登录过" were looked up as names."""
    tree = await make_tree()
    await person("hgm01", "侯国梅", tree.child)
    for n in range(11):
        await person(f"new{n:02d}", f"新人{n:02d}", tree.child)
    gone = await person("gone01", "已走", tree.child)
    await Account.filter(id=gone.id).update(is_active=False)  # the deactivated are the 停用 list's
    await person("far01", "远方", tree.sibling)
    await login(client, "hgm01")
    headers = await admin_of(client, tree)
    for text in ("谁还没登录过", "哪些人从来没登录过"):
        table = blocks(await say(client, headers, text), "table")[0]
        assert table["title"] == "白沙镇范围内从未登录过的账号" and table["total"] == 11, text
        assert len(table["rows"]) == 10 and table["rows"][0] == ["新人00", "new00", "王家湾村", "从未登录"]
    rest = blocks(await say(client, headers, "更多"), "table")[0]
    assert [row[0] for row in rest["rows"]] == ["新人10"]
    shown = _text(table) + _text(rest)
    assert "侯国梅" not in shown and "远方" not in shown and "已走" not in shown and "town_admin" not in shown
    assert table["row_actions"][0]["intent"] == "account.card"
    village = blocks(await say(client, headers, "王家湾村谁没登录过"), "table")[0]
    assert village["title"] == "王家湾村范围内从未登录过的账号" and village["total"] == 11
    sibling = await tap(client, headers, {"intent": "accounts.not_logged_in", "params": {"unit_id": tree.sibling.id}})
    assert "远方" not in _text(sibling) and blocks(sibling, "notice")
    viewer = await admin_of(client, tree, Role.VIEWER)
    assert notice(await say(client, viewer, "谁还没登录过")).startswith(chat_msg.NOT_ALLOWED)


async def test_who_has_not_logged_in_for_some_days_includes_the_never_but_not_the_new(client, clock):
    """ "谁很久没登录了", "谁一个月没登录" were looked up as names."""
    tree = await make_tree()
    await person("old01", "老李", tree.child)
    await person("idle01", "闲置", tree.child)  # made 40 days ago, never logged in
    await login(client, "old01")
    clock.advance(38 * DAY)
    await person("busy01", "常来", tree.child)
    await person("new01", "新来", tree.child)  # made 2 days ago, never logged in: not a month idle
    await login(client, "busy01")
    clock.advance(2 * DAY)
    headers = await admin_of(client, tree)
    for text in ("谁一个月没登录", "谁很久没登录了", "哪些人30天没登录了"):
        table = blocks(await say(client, headers, text), "table")[0]
        assert table["title"] == "白沙镇范围内 30 天以上没有登录的账号", text
        assert [(row[0], row[3]) for row in table["rows"]] == [("老李", "2026-01-05 16:00"), ("闲置", "从未登录")]
    week = blocks(await say(client, headers, "谁一周没登录了"), "table")[0]
    assert week["title"] == "白沙镇范围内 7 天以上没有登录的账号" and week["total"] == 2
    assert notice(await say(client, headers, "谁一年没登录了")) == "白沙镇范围内没有 365 天以上没有登录的账号。"


async def test_accounts_and_passwords_do_not_expire_and_the_answer_says_so(client):
    tree = await make_tree()
    headers = await admin_of(client, tree)
    for text in ("谁的账号快过期了", "谁的密码快过期了", "账号过期"):
        said = _text(await say(client, headers, text))
        assert "没有有效期" in said and "不会过期" in said and "没有找到" not in said, text


async def test_a_support_call_s_words_answer_the_lock_the_reset_and_the_phone(client):
    tree = await make_tree()
    hou = await person("hgm01", "侯国梅", tree.child)
    await person("sxp01", "宋晓平", tree.child, phone=PHONE_IN_SCOPE)
    for _ in range(5):
        await login_response(client, "hgm01", "Wrong#pass1")
    headers = await admin_of(client, tree)
    for text in ("侯国梅登不上去", "侯国梅进不去系统"):
        reply = await say(client, headers, text)
        assert notice(reply).startswith("侯国梅的账号已锁定"), text
        assert button(card(reply), "解锁")["confirm"]
    for text, name in (
        ("侯国梅密码忘了", "侯国梅"),
        ("侯国梅忘记密码了", "侯国梅"),
        ("重新给宋晓平发一下密码", "宋晓平"),
    ):
        shown = card(await say(client, headers, text))
        assert shown["title"] == name and button(shown, "重置密码")["confirm"], text
    assert not await AuditEntry.filter(action="account.reset_password").exists()  # typing changes nothing
    sms = await say(client, headers, "宋晓平说收不到短信")
    assert "139****0001" in notice(sms) and PHONE_IN_SCOPE not in _text(sms)
    assert "拦截" in notice(sms) and card(sms)["title"] == "宋晓平"
    asked = await say(client, headers, "宋晓平的临时密码是多少")
    assert "不会显示" in notice(asked) and "短信" in notice(asked) and "139****0001" in notice(asked)
    assert button(card(asked), "重置密码")
    assert (await Account.get(id=hou.id)).locked_until is not None


async def test_reset_or_unlock_with_no_name_asks_whose_for_an_admin_only(client):
    """ "重置密码" by an admin answered the own-password page; "解锁" was "没有找到“解锁”"."""
    tree = await make_tree()
    headers = await admin_of(client, tree)
    for text in ("重置密码", "帮我重置一下密码"):
        assert notice(await say(client, headers, text)).startswith("请说出要重置谁的密码，比如“重置王建国的密码”"), text
    for text in ("解锁", "我要解锁一个账号", "怎么解锁"):
        assert notice(await say(client, headers, text)).startswith("请说出要解锁谁的账号，比如“解锁王建国”"), text
    clerk = await admin_of(client, tree, Role.CLERK)
    for text in ("重置密码", "帮我重置一下密码"):
        assert _text(await say(client, clerk, text)) == _text(await say(client, clerk, "修改密码")), text


async def test_unlocking_an_account_that_is_not_locked_says_so(client):
    tree = await make_tree()
    await person("hgm01", "侯国梅", tree.child)
    headers = await admin_of(client, tree)
    reply = await say(client, headers, "解锁侯国梅")
    assert notice(reply) == "侯国梅的账号没有锁定。" and "解锁" not in _labels(card(reply))


async def test_a_role_or_finance_change_typed_shows_confirm_first_buttons_that_do_it(client):
    tree = await make_tree()
    hou = await person("hgm01", "侯国梅", tree.child, role=Role.CLERK)
    headers = await admin_of(client, tree)
    reply = await say(client, headers, "把侯国梅改成查看员")
    change = button(card(reply), "改为查看员")
    assert change["intent"] == "account.set_role" and "查看员" in change["confirm"] and "王家湾村" in change["confirm"]
    assert (await Membership.get(account_id=hou.id)).role == Role.CLERK  # typing alone changes nothing
    assert "管理员" in notice(await say(client, headers, "侯国梅的角色改成管理员"))
    done = await tap(client, headers, change)
    assert notice(done) == "已把侯国梅在王家湾村的角色改为查看员，财务查看权限：无。"
    assert fields(card(done))["单位与角色"] == "王家湾村·查看员"
    assert (await Membership.get(account_id=hou.id)).role == Role.VIEWER
    finance = card(await say(client, headers, "给侯国梅财务权限"))
    assert not [a for a in finance["actions"] if a["intent"] == "account.set_role"]  # this admin has none to give
    admin = await Account.get(username="town_admin")
    await Membership.filter(account_id=admin.id).update(finance_access=FinanceAccess.ALL)
    rich = await login(client, "town_admin")
    grant = button(card(await say(client, rich, "给侯国梅财务权限")), "财务权限改为全部")
    assert grant["confirm"] and (await Membership.get(account_id=hou.id)).finance_access == FinanceAccess.NONE
    granted = await tap(client, rich, grant)  # it said "角色改为查看员", which she was already
    assert notice(granted) == "已把侯国梅在王家湾村的财务查看权限改为“全部”（角色仍是查看员）。"
    assert (await Membership.get(account_id=hou.id)).finance_access == FinanceAccess.ALL
    viewer = await admin_of(client, tree, Role.VIEWER)
    assert notice(await say(client, viewer, "把侯国梅改成查看员")).startswith(chat_msg.NOT_ALLOWED)


async def test_an_admin_ends_another_s_sessions_after_confirming(client):
    tree = await make_tree()
    await person("hgm01", "侯国梅", tree.child)
    hers = await login(client, "hgm01")
    headers = await admin_of(client, tree)
    for text in ("踢侯国梅下线", "让侯国梅重新登录"):
        end = button(card(await say(client, headers, text)), "退出全部登录")
        assert end["intent"] == "account.end_sessions" and end["confirm"], text
    assert (await client.get("/api/profile", headers=hers)).status_code == 200
    devices = await say(client, headers, "侯国梅在哪些设备登录")
    assert "“我的”" in notice(devices) and button(card(devices), "退出全部登录")
    done = await tap(client, headers, end)
    assert "侯国梅" in notice(done) and blocks(done, "notice")[0]["level"] == "success"
    assert (await client.get("/api/profile", headers=hers)).status_code == 401


async def test_reactivating_says_a_stopped_account_cannot_come_back(client):
    tree = await make_tree()
    song = await person("sxp01", "宋晓平", tree.child)
    headers = await admin_of(client, tree)
    assert notice(await say(client, headers, "启用宋晓平")) == "宋晓平的账号没有停用，可以正常登录。"
    await Account.filter(id=song.id).update(is_active=False)
    for text in ("恢复宋晓平的账号", "启用宋晓平"):
        reply = await say(client, headers, text)
        assert "不能恢复" in notice(reply) and "新建" in notice(reply), text
        assert button(card(reply), "新建账号")["intent"] == "account.form"
    assert not (await Account.get(id=song.id)).is_active


async def test_the_list_of_stopped_accounts_says_stopped_whatever_word_typed(client):
    """One word for the state (review 6): the card, its status and the notices all say 停用."""
    tree = await make_tree()
    headers = await admin_of(client, tree)
    assert notice(await say(client, headers, "停用的账号")) == "白沙镇范围内没有已停用的账号。"
    assert notice(await say(client, headers, "已注销的账号有哪些")) == "白沙镇范围内没有已停用的账号。"


async def test_a_crafted_role_or_sessions_button_is_checked_as_the_api_checks_it(client):
    tree = await make_tree()
    hou = await person("hgm01", "侯国梅", tree.child, role=Role.CLERK)
    far = await person("far01", "远方", tree.sibling, role=Role.CLERK)
    clerk = await admin_of(client, tree, Role.CLERK)
    crafted = {"account_id": hou.id, "unit_id": tree.child.id, "role": "viewer"}
    assert notice(await tap(client, clerk, {"intent": "account.set_role", "params": crafted})).startswith(
        chat_msg.NOT_ALLOWED
    )
    assert notice(await say(client, clerk, "解锁")).startswith(chat_msg.NOT_ALLOWED)
    admin = await admin_of(client, tree)
    outside = {"account_id": far.id, "unit_id": tree.sibling.id, "role": "viewer"}
    assert blocks(await tap(client, admin, {"intent": "account.set_role", "params": outside}), "notice")
    bad = {**crafted, "role": "owner"}
    assert "参数" in notice(await tap(client, admin, {"intent": "account.set_role", "params": bad}))
    ended = await tap(
        client, admin, {"intent": "account.end_sessions", "params": {"account_id": far.id, "confirmed": True}}
    )
    assert not blocks(ended, "card")
    assert (await Membership.get(account_id=far.id)).role == Role.CLERK
    assert (await Membership.get(account_id=hou.id)).role == Role.CLERK
    assert not await AuditEntry.filter(action__in=["membership.set", "account.end_sessions"]).exists()
