"""Account and agent questions a typing review of the demo found answered wrong: forms opened on a unit
seen many turns before, "为啥登不上" and "说密码不对" not understood, login trouble that did not say
why, "很久没登录" that did not count who never logged in, and a lock that was not said in words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.accounts.chat import login_state_line
from backend.accounts.models import Account
from backend.chat import intents, parser
from backend.chat.context import ChatContext
from backend.core import db, runtime
from backend.core.clock import CHINA_TIME
from backend.core.roles import Role
from backend.wechat import releases
from tests.coops_helpers import blocks, chat
from tests.factories import Tree, bind_wechat, login, login_response, make_tree
from tests.test_chat_accounts import PHONE_IN_SCOPE, admin_of, person
from tests.test_chat_lookup import actor_at, button, card, notice


def _submit_unit(reply: dict) -> int:
    [form] = blocks(reply, "form")
    return form["submit"]["params"]["unit_id"]


# ---- 1. A form with no unit named is for the actor's own unit, unless the last answer showed one.


@pytest.mark.parametrize("text", ["新建账号", "加个录入员", "添加经办人"])
async def test_a_form_with_no_unit_named_is_for_the_own_unit_once_other_answers_came_after_a_unit(client, text):
    tree = await _tree_with_people()
    headers = await admin_of(client, tree)
    await chat(client, headers, "王家湾村")  # a unit's card, long ago
    await chat(client, headers, "侯国梅")  # then people
    await chat(client, headers, "宋晓平")
    await chat(client, headers, "谁还没登录过")
    assert _submit_unit(await chat(client, headers, text)) == tree.own.id


@pytest.mark.parametrize("text", ["新建账号", "加个录入员", "添加经办人"])
async def test_a_form_with_no_unit_named_right_after_a_unit_s_card_is_for_that_unit(client, text):
    tree = await _tree_with_people()
    headers = await admin_of(client, tree)
    await chat(client, headers, "侯国梅")
    await chat(client, headers, "王家湾村")
    assert _submit_unit(await chat(client, headers, text)) == tree.child.id


async def test_a_unit_named_or_referred_to_is_the_form_s_whatever_came_before(client):
    tree = await _tree_with_people()
    headers = await admin_of(client, tree)
    await chat(client, headers, "王家湾村")
    await chat(client, headers, "侯国梅")
    assert _submit_unit(await chat(client, headers, "在王家湾村添加录入员")) == tree.child.id
    await chat(client, headers, "侯国梅")
    assert _submit_unit(await chat(client, headers, "给这个村添加经办人")) == tree.child.id


async def test_the_agents_asked_with_no_unit_are_the_own_unit_s_once_a_person_came_after_a_unit(client):
    tree = await _tree_with_people()
    headers = await admin_of(client, tree)
    await chat(client, headers, "王家湾村")
    [table] = blocks(await chat(client, headers, "经办人"), "table")
    assert table["title"] == "王家湾村的经办人"
    await chat(client, headers, "侯国梅")
    [table] = blocks(await chat(client, headers, "经办人"), "table")
    assert table["title"] == "白沙镇的经办人"


async def _tree_with_people() -> Tree:
    tree = await make_tree()
    await person("hgm01", "侯国梅", tree.own)
    await person("sxp01", "宋晓平", tree.child)
    return tree


# ---- 2. "为啥登不上", "说密码不对": the login-trouble questions.


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("宋晓平为啥登不上去", "宋晓平"),
        ("他为啥进不去", "他"),
        ("宋晓平为什么登不上", "宋晓平"),
        ("宋晓平为何登录不了", "宋晓平"),
        ("宋晓平咋进不去了", "宋晓平"),
        ("宋晓平说登不上去", "宋晓平"),
        ("宋晓平登录不了怎么回事", "宋晓平"),
        ("宋晓平说密码不对", "宋晓平"),
        ("宋晓平密码错误", "宋晓平"),
        ("宋晓平说密码错了", "宋晓平"),
        ("宋晓平说提示密码不正确", "宋晓平"),
        ("宋晓平的密码不对", "宋晓平"),
    ],
)
def test_why_someone_cannot_log_in_or_says_the_password_is_wrong_is_their_login_trouble(text, name):
    intents.load()
    parsed = parser.parse(text)
    assert (parsed.intent, parsed.params) == ("account.status", {"name": name})


@pytest.mark.parametrize("text", ["我为啥登不上去", "我密码不对", "密码不对", "临时密码不对"])
def test_one_s_own_login_trouble_is_not_taken_for_a_name(text):
    intents.load()
    assert parser.parse(text).intent != "account.status"


async def test_he_who_cannot_get_in_is_the_person_last_shown(client):
    tree = await _tree_with_people()
    await person("xc01", "熊春", tree.child)
    headers = await admin_of(client, tree)
    await chat(client, headers, "熊春")
    reply = await chat(client, headers, "他为啥进不去")
    assert notice(reply) == "熊春的账号没有锁定。" and card(reply)["title"] == "熊春"
    said = await chat(client, headers, "宋晓平说密码不对")
    assert card(said)["title"] == "宋晓平"


# ---- 3. Login trouble says the likely cause from the account's state, and the next step.


async def test_login_trouble_of_an_account_whose_temporary_password_was_never_used_says_so(client):
    tree = await make_tree()
    song = await person("sxp02", "宋晓平", tree.child, phone=PHONE_IN_SCOPE, must_change=True)
    await Account.filter(id=song.id).update(needs_sms_check=True)
    headers = await admin_of(client, tree)
    reply = await chat(client, headers, "宋晓平登不上去")
    said = notice(reply)
    assert said.startswith("宋晓平的账号没有锁定。")
    assert "还没有登录过" in said and "临时密码" in said and "短信验证码" in said and "sxp02" in said
    assert "点“重置密码”" in said and "139****0001" in said and PHONE_IN_SCOPE not in said
    assert button(card(reply), "重置密码")


async def test_login_trouble_after_a_login_with_the_password_still_to_change_says_to_use_the_newest(client):
    tree = await _tree_with_people()
    await person("lw01", "李伟", tree.child, must_change=True)
    await login_response(client, "lw01")  # logs in, but has not changed the temporary password yet
    headers = await admin_of(client, tree)
    said = notice(await chat(client, headers, "李伟为啥登不上"))
    assert "还没有改掉临时密码" in said and "最新" in said and "点“重置密码”" in said


async def test_login_trouble_after_wrong_passwords_says_how_many_tries_are_left(client):
    tree = await _tree_with_people()
    await person("lw01", "李伟", tree.child)
    for _ in range(3):
        assert (await login_response(client, "lw01", "Wrong#pass1")).status_code == 401
    headers = await admin_of(client, tree)
    said = notice(await chat(client, headers, "李伟说密码不对"))
    assert said.startswith("李伟的账号没有锁定。") and "连续输错 3 次" in said and "再错 2 次" in said


async def test_a_plain_lock_question_of_a_working_account_still_answers_only_that(client):
    tree = await _tree_with_people()
    headers = await admin_of(client, tree)
    assert notice(await chat(client, headers, "侯国梅的账号锁了吗")) == "侯国梅的账号没有锁定。"


async def test_login_trouble_of_an_account_a_card_login_made_says_it_has_no_password_yet(client):
    tree = await _tree_with_people()
    await person("lw01", "李伟", tree.child)
    await Account.filter(username="lw01").update(needs_activation=True, password_hash=None)
    headers = await admin_of(client, tree)
    said = notice(await chat(client, headers, "李伟登不上去"))
    assert "IC卡" in said and "还没有设置密码" in said


# ---- 4. "谁很久没登录了" counts those who never logged in at all but are too new to be idle.


async def test_idle_accounts_asked_say_how_many_never_logged_in_and_offer_that_list(client, clock):
    tree = await _tree_with_people()  # both made now, never logged in
    headers = await admin_of(client, tree)
    await login(client, "town_admin")
    reply = await chat(client, headers, "谁很久没登录了")
    [none, never] = blocks(reply, "notice")
    assert none["text"] == "白沙镇范围内没有 30 天以上没有登录的账号。"
    assert never["text"] == "另有 2 个账号开通不到 30 天，还从未登录过；可以问“谁还没登录过”。"
    [offered] = [s for s in reply["suggestions"] if s["label"] == "谁还没登录过"]
    listed = await chat(client, headers, intent=offered["action"]["intent"], params=offered["action"]["params"])
    [table] = blocks(listed, "table")
    assert table["title"] == "白沙镇范围内从未登录过的账号" and table["total"] == 2
    clock.advance(40 * 24 * 3600)
    await person("new01", "新来", tree.child)
    headers = await login(client, "town_admin")
    idle = await chat(client, headers, "谁一个月没登录")
    assert [row[0] for row in blocks(idle, "table")[0]["rows"]] == ["侯国梅", "宋晓平"]
    assert blocks(idle, "notice")[0]["text"].startswith("另有 1 个账号开通不到 30 天")


async def test_idle_accounts_asked_where_everyone_logged_in_say_nothing_more(client, clock):
    tree = await make_tree()
    headers = await admin_of(client, tree)
    reply = await chat(client, headers, "谁很久没登录了")
    assert [b["text"] for b in blocks(reply, "notice")] == ["白沙镇范围内没有 30 天以上没有登录的账号。"]
    assert "谁还没登录过" not in [s["label"] for s in reply["suggestions"]]


# ---- 5. A locked account's last login and unlock say the lock in words, with its end and the button.


async def test_the_last_login_of_a_locked_account_says_it_is_locked_until_when(client, clock):
    tree = await _tree_with_people()
    await person("xc01", "熊春", tree.child)
    for _ in range(5):
        await login_response(client, "xc01", "Wrong#pass1")
    until = (clock.now() + timedelta(minutes=15)).astimezone(CHINA_TIME).strftime("%H:%M")
    headers = await admin_of(client, tree)
    said = notice(await chat(client, headers, "熊春上次什么时候登录的"))
    assert said == f"熊春还从未成功登录过。账号因连续输错密码已锁定，{until} 自动解锁。"


async def test_the_login_state_line_says_the_last_login_and_the_lock(client, clock):
    tree = await _tree_with_people()
    xiong = await person("xc01", "熊春", tree.child)
    await login(client, "xc01")
    clock.advance(24 * 3600)
    for _ in range(5):
        await login_response(client, "xc01", "Wrong#pass1")
    until = (clock.now() + timedelta(minutes=15)).astimezone(CHINA_TIME).strftime("%H:%M")
    admin = actor_at(tree.own)
    assert await login_state_line(admin, xiong.id) == (
        f"熊春上次登录是 2026-01-05 16:00（1 天前）。账号因连续输错密码已锁定，{until} 自动解锁。"
    )


async def test_unlocking_a_locked_account_typed_says_to_press_unlock(client, clock):
    tree = await _tree_with_people()
    await person("xc01", "熊春", tree.child)
    for _ in range(5):
        await login_response(client, "xc01", "Wrong#pass1")
    headers = await admin_of(client, tree)
    reply = await chat(client, headers, "解锁熊春")
    said = notice(reply)
    assert said.startswith("熊春的账号已锁定") and "点下面的“解锁”" in said
    assert button(card(reply), "解锁")["confirm"]
    assert (await Account.get(username="xc01")).locked_until is not None  # typing changes nothing


async def test_unlocking_typed_by_an_admin_who_may_not_manage_the_account_says_so(client):
    tree = await _tree_with_people()
    await person("xc01", "熊春", tree.own, role=Role.ADMIN)  # a peer of the town's admin
    for _ in range(5):
        await login_response(client, "xc01", "Wrong#pass1")
    headers = await admin_of(client, tree)
    reply = await chat(client, headers, "解锁熊春")
    assert "点下面的“解锁”" not in notice(reply) and "您不能管理这个账号" in notice(reply)


async def test_the_context_knows_whether_the_last_answer_showed_its_last_unit(client):
    first = ChatContext("s1")
    first.asking("unit.card")
    await first.remember_unit(5, "王家湾村")
    await first.save()
    assert await ChatContext("s1").unit_just_shown() == (5, "王家湾村")
    second = ChatContext("s1")
    second.asking("account.card")
    await second.remember_person(7, "侯国梅")
    assert await second.unit_just_shown() is None  # the turn's own write counts
    await second.save()
    assert await ChatContext("s1").unit_just_shown() is None
    assert await ChatContext("s1").last_unit() == (5, "王家湾村")  # "这个村" still means it
    third = ChatContext("s1")
    third.asking("unit.members")
    await third.remember_page("unit.members", {"unit_id": 6}, None)
    await third.remember_unit(6, "白沙镇")  # a unit after the page, in one answer
    await third.save()
    assert await ChatContext("s1").unit_just_shown() == (6, "白沙镇")
    await runtime.get().redis.hdel("chat:s1", "unit_shown")  # kept from before the mark
    assert await ChatContext("s1").unit_just_shown() == (6, "白沙镇")


async def test_asking_whether_a_locked_person_logged_in_lately_says_so_above_the_failures(client, clock):
    """ "熊春最近登录过吗" listed five failed logins and said neither that she never got in nor that
    she is locked."""
    tree = await _tree_with_people()
    await person("xc01", "熊春", tree.child)
    for _ in range(5):
        await login_response(client, "xc01", "Wrong#pass1")
    until = (clock.now() + timedelta(minutes=15)).astimezone(CHINA_TIME).strftime("%H:%M")
    headers = await admin_of(client, tree)
    reply = await chat(client, headers, "熊春最近登录过吗")
    assert notice(reply) == f"熊春还从未成功登录过。账号因连续输错密码已锁定，{until} 自动解锁。"
    assert [b["type"] for b in reply["blocks"]] == ["notice", "table"]
    none = await chat(client, headers, "熊春昨天登录过吗")  # none that day: said first, then the state
    assert none["blocks"][0]["text"] == "没有熊春昨天的登录记录。"
    assert "从未成功登录" in none["blocks"][1]["text"]


@pytest.mark.parametrize(
    "text", ["宋晓平的短信发出去了吗", "给宋晓平的验证码发了没有", "宋晓平收到短信了吗", "宋晓平的临时密码发出去了没"]
)
def test_whether_an_sms_reached_someone_is_their_sms_help(text):
    intents.load()
    assert parser.parse(text) == parser.Parsed("account.sms_help", {"name": "宋晓平"}), text


async def test_the_people_asked_with_no_unit_are_the_own_unit_s_once_other_answers_came_after_a_unit(client):
    """ "人员" after a village's card and a few people's was that village's, however long ago."""
    tree = await _tree_with_people()
    headers = await admin_of(client, tree)
    await chat(client, headers, "王家湾村")
    just_after = blocks(await chat(client, headers, "人员"), "table")[0]
    assert just_after["title"].startswith("王家湾村")
    await chat(client, headers, "侯国梅")
    await chat(client, headers, "谁还没登录过")
    later = blocks(await chat(client, headers, "人员"), "table")[0]
    assert later["title"].startswith("白沙镇"), later["title"]


async def _wechat_released(account: Account, reason: str) -> None:
    """The account had a WeChat bound, and one of the paths that remove it did (releases.release)."""
    await bind_wechat(account.id, f"openid-{account.id}")
    async with db.atomic():
        await releases.release(account.id, releases.Reason(reason))


@pytest.mark.parametrize(
    ("reason", "cause"),
    [("admin_unbound", "管理员解除了绑定"), ("unbound", "TA自己解除了绑定"), ("password_changed", "在别处修改了密码")],
)
async def test_login_trouble_of_an_account_whose_wechat_was_released_says_why_and_how_to_bind_again(
    client, clock, reason, cause
):
    """ "熊春说微信进不去": the account is fine, but its one-tap WeChat login was released; the phone
    told the owner why, and now the admin on the support call can too."""
    tree = await _tree_with_people()
    xiong = await person("xc01", "熊春", tree.child)
    await _wechat_released(xiong, reason)
    headers = await admin_of(client, tree)
    said = notice(await chat(client, headers, "熊春为啥登不上"))
    released_at = clock.now().astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")
    assert said.startswith("熊春的账号没有锁定。") and "微信一键登录" in said and released_at in said
    assert cause in said and "登录一次" in said


async def test_login_trouble_does_not_name_a_wechat_release_once_the_wechat_is_bound_again(client):
    tree = await _tree_with_people()
    xiong = await person("xc01", "熊春", tree.child)
    await _wechat_released(xiong, "admin_unbound")
    await releases.forget("wx-test", f"openid-{xiong.id}")  # the bind of the next login forgets it
    await bind_wechat(xiong.id, f"openid-{xiong.id}")
    headers = await admin_of(client, tree)
    assert notice(await chat(client, headers, "熊春为啥登不上")) == "熊春的账号没有锁定。"


async def test_login_trouble_names_no_wechat_release_older_than_the_kept_days(client, clock):
    tree = await _tree_with_people()
    xiong = await person("xc01", "熊春", tree.child)
    await _wechat_released(xiong, "admin_unbound")
    clock.advance(91 * 24 * 3600)
    headers = await admin_of(client, tree)
    assert notice(await chat(client, headers, "熊春为啥登不上")) == "熊春的账号没有锁定。"
