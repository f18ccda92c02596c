"""Account questions and references a fifth typing review of the demo found answered wrong: "这个村"
after a co-op that sits under a township, a why-word before the name, traditional characters, a
typed yes after a card whose one button writes, two lines where one says it, the SMS help that said
nothing of messages never sent, near names that shared only generic words, and small slips."""

from __future__ import annotations

import json

import pytest

from backend.accounts.models import Account
from backend.chat import intents, lookup, parser
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from backend.units.models import Unit, UnitType
from tests.factories import Tree, login, make_account, make_tree, make_unit
from tests.test_chat_accounts import admin_of, person
from tests.test_chat_lookup import actor_at, blocks, card, notice, say


def _text(reply: dict) -> str:
    return json.dumps(reply, ensure_ascii=False)


def _said(reply: dict) -> list[str]:
    return [b.get("text") or b.get("title") for b in reply["blocks"]]


def _chips(reply: dict) -> list[str]:
    return [s["label"] for s in reply.get("suggestions", [])]


# ---- 1. "这个村" after a co-op that sits directly under a township: it is in no village.


@pytest.mark.parametrize("question", ["这个村的汇总", "这个村有哪些人", "这个村的下级单位"])
async def test_this_village_after_a_co_op_under_a_township_says_it_is_in_no_village(client, question):
    tree = await make_tree()
    await make_unit("白沙镇供销合作社", UnitType.COOP, tree.own)
    headers = await admin_of(client, tree)
    await say(client, headers, "白沙镇供销合作社")
    reply = await say(client, headers, question)
    said = notice(reply)
    assert "不属于任何村" in said and "白沙镇" in said, reply
    assert not blocks(reply, "table") and not blocks(reply, "card") and "暂无合作社信息卡" not in _text(reply)


async def test_this_village_after_a_co_op_in_a_village_is_still_that_village(client):
    tree = await make_tree()
    await make_unit("王家湾村茶叶合作社", UnitType.COOP, tree.child)
    headers = await admin_of(client, tree)
    await say(client, headers, "王家湾村茶叶合作社")
    assert (await say(client, headers, "这个村有哪些人"))["context"] == "王家湾村"


# ---- 2. The why-word before the name, 咋了, 咋办.


@pytest.mark.parametrize(
    "text",
    [
        "为啥熊春登不上",
        "咋回事熊春登不上",
        "为什么熊春登不上去",
        "怎么熊春进不去了",
        "熊春的账号咋了",
        "熊春的账号怎么回事",
        "熊春登不上去了咋办",
        "熊春登录不了咋办",
    ],
)
def test_a_why_word_before_the_name_or_a_plain_word_after_it_is_the_login_trouble(text):
    intents.load()
    parsed = parser.parse(text)
    assert (parsed.intent, parsed.params) == ("account.status", {"name": "熊春"})


@pytest.mark.parametrize("text", ["为啥我登不上", "咋回事我登不上去", "为什么自己登不上"])
def test_one_s_own_login_trouble_with_the_why_word_first_names_no_one(text):
    intents.load()
    assert parser.parse(text).intent != "account.status"  # as "我为啥登不上去": no one's account


async def test_why_someone_cannot_log_in_with_the_why_word_first_answers_their_account(client):
    tree = await make_tree()
    await person("xc01", "熊春", tree.child)
    headers = await admin_of(client, tree)
    for text in ("为啥熊春登不上", "熊春的账号咋了", "熊春登不上去了咋办"):
        reply = await say(client, headers, text)
        assert notice(reply).startswith("熊春的账号没有锁定") and card(reply)["title"] == "熊春", text


# ---- 3. Traditional characters.


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("資產過億的合作社", "资产过亿的合作社"),
        ("營收過萬的合作社", "营收过万的合作社"),
        ("宋曉平說收不到驗證碼", "宋晓平说收不到验证码"),
        ("熊春登錄不了", "熊春登录不了"),
        ("周家橋村的人員", "周家桥村的人员"),
        ("誰還沒登錄過", "谁还没登录过"),
        ("熊春上次登錄時間", "熊春上次登录时间"),
    ],
)
def test_traditional_characters_of_this_chat_s_words_read_as_simplified(typed, plain):
    intents.load()
    assert parser.normalise(typed) == plain
    assert parser.parse(typed) == parser.parse(plain)


# ---- 4. A typed yes after a card whose one button writes: tap it, by its label.


async def _tree_with_tao() -> tuple[Tree, Account]:
    tree = await make_tree()
    tao = await person("tmq01", "陶明强", tree.child)
    return tree, tao


async def test_yes_after_the_deactivation_card_says_to_tap_its_button_and_changes_nothing(client):
    tree, tao = await _tree_with_tao()
    headers = await admin_of(client, tree)
    preview = await say(client, headers, "停用陶明强的账号")
    assert [a["label"] for a in card(preview)["actions"]] == ["确认停用"]
    for yes in ("是的", "对", "嗯"):
        assert notice(await say(client, headers, yes)) == "请点卡片上的“确认停用”。", yes
    assert (await Account.get(id=tao.id)).is_active


async def test_yes_after_a_reset_asked_says_to_tap_the_reset_button_and_sends_nothing(client):
    tree, _ = await _tree_with_tao()
    headers = await admin_of(client, tree)
    await say(client, headers, "陶明强")
    asked = await say(client, headers, "重置她的密码")
    assert card(asked)["title"] == "陶明强"
    assert notice(await say(client, headers, "是的")) == "请点卡片上的“重置密码”。"
    assert not await AuditEntry.filter(action="account.reset_password").exists()


async def test_yes_after_a_plain_person_card_is_not_taken_for_its_reset_button(client):
    tree, _ = await _tree_with_tao()
    headers = await admin_of(client, tree)
    await say(client, headers, "陶明强")
    assert "重置密码" not in _text(await say(client, headers, "是的"))


# ---- 5. Someone who never logged in: one line says so.


@pytest.mark.parametrize(("asked", "name"), [("熊春最近登录过吗", "熊春"), ("侯国梅的登陆记录", "侯国梅")])
async def test_the_logins_of_someone_who_never_logged_in_say_so_in_one_line(client, asked, name):
    tree = await make_tree()
    await person("xc01", "熊春", tree.child)
    await person("hgm01", "侯国梅", tree.own)
    headers = await admin_of(client, tree)
    assert _said(await say(client, headers, asked)) == [f"{name}还从未登录过。"]


# ---- 6. The SMS help says when no message was ever sent.


async def test_the_sms_help_says_when_no_message_was_ever_sent_to_the_phone(client):
    tree = await make_tree()
    await person("sxp01", "宋晓平", tree.child)
    headers = await admin_of(client, tree)
    said = notice(await say(client, headers, "宋晓平的短信发出去了吗"))
    assert said.endswith("还没有给这个号码发过短信。"), said


# ---- 7. Near names share a distinctive part of the name, and "第一个" takes the first one offered.


async def _city_with_villages() -> tuple[Unit, Unit]:
    province = await make_unit("云岭省", UnitType.PROVINCE)
    city = await make_unit("青州市", UnitType.CITY, province)
    county = await make_unit("石门县", UnitType.COUNTY, city)
    town = await make_unit("白沙镇", UnitType.TOWNSHIP, county)
    village = await make_unit("王家湾村", UnitType.VILLAGE, town)
    await make_unit("王家湾村综合服务社", UnitType.COOP, village)
    for name in ("刘家岭村", "周家桥村"):
        other = await make_unit(name, UnitType.VILLAGE, town)
        await make_unit(f"{name}综合服务社", UnitType.COOP, other)
    elsewhere = await make_unit("柳江市", UnitType.CITY, province)
    await make_unit("吴家坝村", UnitType.VILLAGE, elsewhere)
    return province, city


@pytest.mark.parametrize("typed", ["吴家坝村", "徐家沟村综合服务社"])
async def test_a_name_not_found_is_not_offered_names_sharing_only_generic_words(typed):
    _, city = await _city_with_villages()
    found = await lookup.find(actor_at(city), typed)
    assert not found.matches and not found.near, found


@pytest.mark.parametrize(
    ("typed", "meant"), [("孔家湾", "王家湾村"), ("黄佳弯村", "王家湾村"), ("刘家岭综合社", "刘家岭村综合服务社")]
)
async def test_names_that_share_a_distinctive_part_or_sound_are_still_offered(typed, meant):
    _, city = await _city_with_villages()
    found = await lookup.find(actor_at(city), typed)
    assert meant in [m.name for m in found.matches + found.near], found


async def test_a_city_admin_s_unit_outside_the_scope_gets_no_unrelated_quick_replies(client):
    _, city = await _city_with_villages()
    await make_account("city_admin", city, role=Role.ADMIN)
    headers = await login(client, "city_admin")
    reply = await say(client, headers, "吴家坝村")
    assert not any("家" in chip for chip in _chips(reply)), reply
    assert "没有可以选的" in notice(await say(client, headers, "第一个"))
    reply = await say(client, headers, "徐家沟村综合服务社")
    assert "您要找的是不是" not in _text(reply) and "综合服务社" not in str(_chips(reply)), reply


async def test_the_first_near_name_offered_is_taken_by_an_ordinal(client):
    tree = await make_tree()
    headers = await admin_of(client, tree)
    missing = await say(client, headers, "孔家湾")
    assert _chips(missing)[0] == "王家湾村", missing
    assert card(await say(client, headers, "第一个"))["title"] == "王家湾村"


# ---- 8. Small slips.


async def test_a_murmured_yes_with_nothing_asked_is_an_acknowledgement_not_thanks(client):
    tree = await make_tree()
    headers = await admin_of(client, tree)
    for text in ("嗯嗯", "嗯", "好的", "收到"):
        assert _said(await say(client, headers, text)) == ["好的。还要查什么，直接输入就行。"], text
    assert _said(await say(client, headers, "谢谢")) == ["不客气。还要查什么，直接输入就行。"]
    assert _said(await say(client, headers, "好的，谢谢")) == ["不客气。还要查什么，直接输入就行。"]


async def test_a_name_not_found_after_an_asking_word_set_apart_is_said_without_it(client):
    tree = await make_tree()
    headers = await admin_of(client, tree)
    said = notice(await say(client, headers, "看下 changling"))
    assert "“changling”" in said and "看下" not in said, said


@pytest.mark.parametrize(
    ("question", "name"),
    [("云岭省有几个县", "云岭省"), ("云岭省的下级单位", "云岭省"), ("云岭省", "云岭省"), ("火星省有几个县", "火星省")],
)
async def test_a_unit_of_a_level_above_the_scope_named_says_the_scope_whether_it_exists_or_not(client, question, name):
    _, city = await _city_with_villages()
    await make_account("city_admin", city, role=Role.ADMIN)
    headers = await login(client, "city_admin")
    said = notice(await say(client, headers, question))
    assert said.startswith(f"您的查看范围是青州市，看不到“{name}”"), said


async def test_a_unit_outside_the_scope_that_is_not_above_it_is_only_not_found(client):
    _, city = await _city_with_villages()
    await make_account("city_admin", city, role=Role.ADMIN)
    headers = await login(client, "city_admin")
    said = notice(await say(client, headers, "柳江市有几个县"))
    assert "查看范围" not in said and "没有找到" in said, said
