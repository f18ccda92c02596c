"""Accounts in chat (W2, W3): people by name, ID number and phone within the scope only, members of a
unit a page at a time, "is this account locked", and reset / unlock buttons that run the same
actions as the API."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from backend.accounts.models import Account, Membership
from backend.core import identifiers, names, runtime
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from backend.units.models import UnitType
from tests.factories import PASSWORD, Tree, bind_card, login, login_response, make_account, make_tree, make_unit
from tests.test_chat_lookup import blocks, button, card, fields, notice, say, tap

ID_IN_SCOPE = "11010519491231002X"
ID_OUTSIDE = "530101199001011235"
ID_UNKNOWN = "530101199002021232"
PHONE_IN_SCOPE = "13912340001"
PHONE_OUTSIDE = "13912340002"
PHONE_UNKNOWN = "13912340009"


async def person(username: str, name: str, unit, role: Role = Role.CLERK, **kwargs) -> Account:
    """An account with a real Chinese name (its pinyin keys kept in step, as the actions do)."""
    account = await make_account(username, unit, role=role, **kwargs)
    await Account.filter(id=account.id).update(**names.columns(name, Account))
    return await Account.get(id=account.id)


async def with_id_number(account: Account, id_number: str) -> None:
    vault = runtime.get().vault
    await Account.filter(id=account.id).update(
        id_number_enc=vault.encrypt("account.id_number", id_number), id_number_index=vault.index("id_number", id_number)
    )


async def admin_of(client: httpx.AsyncClient, tree: Tree, role: Role = Role.ADMIN) -> dict[str, str]:
    await make_account(f"town_{role.value}", tree.own, role=role)
    return await login(client, f"town_{role.value}")


async def sms_password(client: httpx.AsyncClient, phone: str) -> str | None:
    inbox = (await client.get("/api/dev/sms", params={"phone": phone})).json()["messages"]
    for message in inbox:
        if found := re.search(r"临时密码 ([^，\s]+)，", message["text"]):
            return found.group(1)
    return None


def test_id_numbers_of_this_module_are_valid():
    for value in (ID_IN_SCOPE, ID_OUTSIDE, ID_UNKNOWN):
        assert identifiers.valid_id_number(value), value


async def test_a_person_card_shows_masked_data_and_only_the_units_in_scope(client):
    tree = await make_tree()
    wang = await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    await with_id_number(wang, ID_IN_SCOPE)
    await Membership.create(account_id=wang.id, unit_id=tree.sibling.id, role=Role.VIEWER, created_at=wang.created_at)
    headers = await admin_of(client, tree)
    for text in ("查 王建国", "wangjianguo", "王建过", "wjg01"):
        reply = await say(client, headers, text)
        found = card(reply)
        assert found["title"] == "王建国", (text, reply)
        assert fields(found) == {
            "用户名": "wjg01",
            "手机": "139****0001",
            "单位与角色": "王家湾村·录入员",  # the viewer role in 桃源乡 is outside this admin's scope
            "账号状态": "正常",
            "上次登录": "从未登录",
            "微信": "未绑定",
            "IC卡": "未绑定",
        }
        dumped = json.dumps(reply, ensure_ascii=False)
        assert PHONE_IN_SCOPE not in dumped and ID_IN_SCOPE not in dumped and "桃源乡" not in dumped
        # It also works somewhere this admin does not oversee: no management buttons.
        assert [a["intent"] for a in found["actions"]] == ["unit.card"]


async def test_a_person_card_says_a_bound_card_and_that_it_keeps_card_less_admins_out(client):
    """A card-less admin saw no "重置密码" on a card holder's card and was not told why (C6)."""
    tree = await make_tree()
    wang = await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    await bind_card(wang.id, "66000001")
    headers = await admin_of(client, tree)
    shown = fields(card(await say(client, headers, "王建国")))
    assert shown["IC卡"] == "已绑定（没有绑定IC卡的管理员不能修改此账号）"
    await bind_card((await Account.get(username="town_admin")).id, "66000002", kind="legal_rep")
    assert fields(card(await say(client, headers, "王建国")))["IC卡"] == "已绑定"


async def test_several_people_of_one_name_answer_buttons(client):
    tree = await make_tree()
    first = await person("wjg01", "王建国", tree.child)
    second = await person("wjg02", "王建国", tree.own)
    headers = await admin_of(client, tree)
    choices = card(await say(client, headers, "王建国"))
    assert [a["label"] for a in choices["actions"]] == ["王建国（白沙镇）", "王建国（王家湾村）"]
    assert [a["params"]["account_id"] for a in choices["actions"]] == [second.id, first.id]
    opened = card(await tap(client, headers, choices["actions"][1]))
    assert opened["title"] == "王建国" and fields(opened)["用户名"] == "wjg01"


async def test_people_outside_the_scope_are_never_found(client):
    tree = await make_tree()
    stranger = await person("lxm01", "李小明", tree.sibling, phone=PHONE_OUTSIDE)
    await with_id_number(stranger, ID_OUTSIDE)
    headers = await admin_of(client, tree)
    nobody = json.dumps(await say(client, headers, "查 火星人"), ensure_ascii=False).replace("火星人", "?")
    for name in ("李小明", "lixiaoming", "lxm", "李晓明", "lxm01"):
        reply = json.dumps(await say(client, headers, f"查 {name}"), ensure_ascii=False)
        assert reply.replace(name, "?") == nobody
    assert await say(client, headers, f"查 {ID_OUTSIDE}") == await say(client, headers, f"查 {ID_UNKNOWN}")
    assert await say(client, headers, PHONE_OUTSIDE) == await say(client, headers, PHONE_UNKNOWN)
    opened = await tap(client, headers, {"intent": "account.card", "params": {"account_id": stranger.id}})
    assert opened == await tap(client, headers, {"intent": "account.card", "params": {"account_id": 999999}})
    status = await tap(client, headers, {"intent": "account.status", "params": {"account_id": stranger.id}})
    assert status == opened


async def test_id_number_and_phone_find_the_person_in_scope(client):
    tree = await make_tree()
    wang = await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    await with_id_number(wang, ID_IN_SCOPE)
    headers = await admin_of(client, tree)
    assert card(await say(client, headers, f"身份证 {ID_IN_SCOPE.lower()} 是谁"))["title"] == "王建国"
    assert card(await say(client, headers, f"电话{PHONE_IN_SCOPE}"))["title"] == "王建国"


async def test_a_mistyped_id_number_is_said_to_be_mistyped_not_looked_up_as_a_name(client):
    """One wrong digit made the 18 digits a name to look up ("没有找到“1101…”", with pinyin tips), or,
    about once in 300, a credit code that names no unit."""
    tree = await make_tree()
    wang = await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    await with_id_number(wang, ID_IN_SCOPE)
    headers = await admin_of(client, tree)
    mistyped = ID_IN_SCOPE[:-1] + "1"
    for text in (mistyped, f"查 {mistyped}", "1101 0519 4912 3100 21"):
        said = notice(await say(client, headers, text))
        assert "校验位" in said and "拼音" not in said, (text, said)
    assert "身份证号码" in notice(await say(client, headers, "617487619712693284"))  # also a valid credit code
    edited = await tap(client, headers, {"intent": "lookup.id_number", "params": {"id_number": mistyped}})
    assert "校验位" in notice(edited)
    # its check character right, its date of birth impossible (1949-02-30): that is what is said
    first17 = ID_IN_SCOPE[:10] + "0230" + ID_IN_SCOPE[14:17]
    impossible = first17 + identifiers.id_number_check_char(first17)
    said = notice(await say(client, headers, impossible))
    assert "出生日期" in said and "校验位" not in said, said


async def test_reset_password_button_sends_a_temporary_password_like_the_api(client):
    tree = await make_tree()
    wang = await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    headers = await admin_of(client, tree)
    found = card(await say(client, headers, "王建国"))
    reset = button(found, "重置密码")
    assert reset["intent"] == "account.reset_password" and reset["params"] == {"account_id": wang.id}
    assert reset["style"] == "danger" and "王建国" in reset["confirm"] and "139****0001" in reset["confirm"]
    done = await tap(client, headers, reset)
    assert blocks(done, "notice")[0]["level"] == "success" and "139****0001" in notice(done)
    temporary = await sms_password(client, PHONE_IN_SCOPE)
    assert temporary is not None
    assert (await login_response(client, "wjg01", PASSWORD)).status_code == 401
    session = await login_response(client, "wjg01", temporary)
    assert session.status_code == 200 and session.json()["must_change_password"] is True
    entry = await AuditEntry.get(action="account.reset_password")
    assert entry.target_id == str(wang.id)


async def test_typing_reset_only_shows_the_button(client):
    tree = await make_tree()
    await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    headers = await admin_of(client, tree)
    for text in ("重置王建国的密码", "把王建国的密码重置一下", "帮王建国重置一下密码"):
        shown = card(await say(client, headers, text))
        assert button(shown, "重置密码")["intent"] == "account.reset_password", text
    assert await sms_password(client, PHONE_IN_SCOPE) is None


async def test_reset_is_refused_to_a_viewer_and_outside_the_scope(client):
    tree = await make_tree()
    wang = await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    stranger = await person("lxm01", "李小明", tree.sibling, phone=PHONE_OUTSIDE)
    viewer = await admin_of(client, tree, role=Role.VIEWER)
    reset = {"intent": "account.reset_password", "params": {"account_id": wang.id}}
    assert notice(await tap(client, viewer, reset)).startswith("您的角色不能进行这项操作。")
    admin = await admin_of(client, tree)
    outside = await tap(client, admin, {"intent": "account.reset_password", "params": {"account_id": stranger.id}})
    missing = await tap(client, admin, {"intent": "account.reset_password", "params": {"account_id": 999999}})
    assert outside == missing and blocks(outside, "notice")[0]["level"] == "warning"
    assert await sms_password(client, PHONE_IN_SCOPE) is None and await sms_password(client, PHONE_OUTSIDE) is None
    assert not await AuditEntry.filter(action="account.reset_password").exists()


async def test_account_status_shows_locked_after_five_failures_and_unlock_works(client):
    tree = await make_tree()
    await person("wjg01", "王建国", tree.child)
    headers = await admin_of(client, tree)
    calm = await say(client, headers, "王建国的账号锁了吗")
    assert notice(calm) == "王建国的账号没有锁定。" and "解锁" not in [a["label"] for a in card(calm)["actions"]]
    for _ in range(5):
        assert (await login_response(client, "wjg01", "Wrong#pass1")).status_code == 401
    locked = await say(client, headers, "王建国的账号锁了吗")
    assert blocks(locked, "notice")[0]["level"] == "warning" and "已锁定" in notice(locked)
    assert "15 分钟" in notice(locked) and fields(card(locked))["账号状态"].startswith("已锁定")
    assert "已锁定" in notice(await say(client, headers, "wjg01账号被锁定了吗"))
    unlocked = await tap(client, headers, button(card(locked), "解锁"))
    assert notice(unlocked) == "王建国的账号已解锁。" and fields(card(unlocked))["账号状态"] == "正常"
    assert (await login_response(client, "wjg01")).status_code == 200


async def test_the_locked_accounts_of_the_scope_or_a_unit_are_listed_with_their_cards(client):
    """ "哪些账号被锁了" was taken for a person named 哪些 ("没有找到这个人")."""
    tree = await make_tree()
    await person("wjg01", "王建国", tree.child)
    await person("calm01", "李平安", tree.child)
    await person("town01", "赵镇", tree.own)
    await person("far01", "远方", tree.sibling)
    headers = await admin_of(client, tree)
    assert notice(await say(client, headers, "哪些账号被锁了")) == "白沙镇范围内没有被锁定的账号。"
    for username in ("wjg01", "town01", "far01"):
        for _ in range(5):
            assert (await login_response(client, username, "Wrong#pass1")).status_code == 401
    table = blocks(await say(client, headers, "哪些账号被锁了"), "table")[0]
    assert table["title"] == "白沙镇范围内被锁定的账号" and table["total"] == 2
    for text in ("谁被锁定了", "有人被锁了吗", "白沙镇有谁被锁了"):  # were lookups of a person named 谁
        assert blocks(await say(client, headers, text), "table")[0]["rows"] == table["rows"], text
    assert sorted(row[0] for row in table["rows"]) == ["王建国", "赵镇"]
    assert all(row[3].startswith("已锁定") for row in table["rows"])
    village = blocks(await say(client, headers, "王家湾村被锁的账号"), "table")[0]
    assert [row[:3] for row in village["rows"]] == [["王建国", "wjg01", "王家湾村"]]
    opened = await tap(client, headers, village["row_actions"][0])
    assert "解锁" in [a["label"] for a in card(opened)["actions"]]
    sibling = await tap(client, headers, {"intent": "accounts.locked", "params": {"unit_id": tree.sibling.id}})
    assert "远方" not in json.dumps(sibling, ensure_ascii=False) and blocks(sibling, "notice")


async def test_the_deactivated_accounts_of_the_scope_or_a_unit_are_listed(client):
    """ "停用的账号" was looked up as a name ("没有找到“停用”"): only locked accounts had a list."""
    tree = await make_tree()
    gone = await person("gone01", "王建国", tree.child)
    await person("calm01", "李平安", tree.child)
    far = await person("far01", "远方", tree.sibling)
    headers = await admin_of(client, tree)
    assert notice(await say(client, headers, "停用的账号")) == "白沙镇范围内没有已停用的账号。"
    await Account.filter(id__in=[gone.id, far.id]).update(is_active=False)
    for text in ("停用的账号", "哪些账号被停用了", "已注销的账号有哪些", "查一下王家湾村停用的账号"):
        table = blocks(await say(client, headers, text), "table")[0]
        assert [row[:2] + row[3:] for row in table["rows"]] == [["王建国", "gone01", "已停用"]], text
    assert blocks(await say(client, headers, "停用的账号"), "table")[0]["title"] == "白沙镇范围内已停用的账号"
    assert blocks(await say(client, headers, "已注销的账号有哪些"), "table")[0]["title"] == "白沙镇范围内已停用的账号"
    sibling = await tap(client, headers, {"intent": "accounts.deactivated", "params": {"unit_id": tree.sibling.id}})
    assert "远方" not in json.dumps(sibling, ensure_ascii=False) and blocks(sibling, "notice")
    viewer = await admin_of(client, tree, Role.VIEWER)
    assert notice(await say(client, viewer, "停用的账号")).startswith("您的角色不能进行这项操作。")


async def test_who_holds_a_role_in_a_unit_is_asked_for_by_the_role(client):
    """ "王家湾村的管理员是谁" was looked up as a person named 王家湾村的管理员 ("没有找到")."""
    tree = await make_tree()
    for n in range(12):
        await person(f"admin{n:02d}", f"管理{n:02d}", tree.child, role=Role.ADMIN)
    await person("clerk01", "录入甲", tree.child)
    await person("far01", "远方", tree.sibling, role=Role.ADMIN)
    headers = await admin_of(client, tree)
    for text in ("王家湾村的管理员是谁", "谁是王家湾村的管理员", "王家湾村有哪些管理员", "查王家湾村的管理员"):
        table = blocks(await say(client, headers, text), "table")[0]
        assert table["title"] == "王家湾村的管理员" and table["total"] == 12, text
        assert {row[2] for row in table["rows"]} == {"管理员"}, text
    rest = blocks(await say(client, headers, "更多"), "table")[0]
    assert [row[0] for row in rest["rows"]] == ["管理10", "管理11"]
    clerks = blocks(await say(client, headers, "这个村的录入员"), "table")[0]
    assert clerks["rows"] == [["录入甲", "clerk01", "录入员", "正常"]]
    assert notice(await say(client, headers, "王家湾村的查看员有哪些")) == "王家湾村没有查看员。"
    outside = await tap(
        client, headers, {"intent": "unit.members", "params": {"unit_id": tree.sibling.id, "role": "admin"}}
    )
    assert "远方" not in json.dumps(outside, ensure_ascii=False) and blocks(outside, "notice")
    bad = await tap(client, headers, {"intent": "unit.members", "params": {"unit_id": tree.child.id, "role": "boss"}})
    assert blocks(bad, "notice") and not blocks(bad, "table")


async def test_a_name_that_ends_in_lock_is_a_name_not_a_question(client):
    tree = await make_tree()
    await person("wjs01", "王金锁", tree.child)
    headers = await admin_of(client, tree)
    assert card(await say(client, headers, "王金锁"))["title"] == "王金锁"
    assert notice(await say(client, headers, "王金锁的账号锁了吗")) == "王金锁的账号没有锁定。"
    assert notice(await say(client, headers, "王金锁被锁了吗")) == "王金锁的账号没有锁定。"


async def test_members_of_this_village_after_a_lookup_page_with_more(client):
    tree = await make_tree()
    for n in range(12):
        await person(f"member{n:02d}", f"村民{n:02d}", tree.child)
    await person("outsider", "外人", tree.sibling)
    headers = await admin_of(client, tree)
    await say(client, headers, "查 王家湾")
    first = blocks(await say(client, headers, "这个村的人员"), "table")[0]
    assert first["title"] == "王家湾村的人员" and first["total"] == 12 and len(first["rows"]) == 10
    assert first["columns"] == ["姓名", "用户名", "角色", "状态"] and first["rows"][0] == [
        "村民00",
        "member00",
        "录入员",
        "正常",
    ]
    assert first["row_actions"][0]["intent"] == "account.card"
    second = blocks(await say(client, headers, "更多"), "table")[0]
    assert [row[0] for row in second["rows"]] == ["村民10", "村民11"] and "more" not in second
    assert notice(await say(client, headers, "下一页")) == "没有更多了。"
    button_page = blocks(await tap(client, headers, first["more"]), "table")[0]
    assert button_page["rows"] == second["rows"]
    outside = await tap(client, headers, {"intent": "unit.members", "params": {"unit_id": tree.sibling.id}})
    assert "外人" not in json.dumps(outside, ensure_ascii=False) and blocks(outside, "notice")


async def test_members_button_on_a_unit_card(client):
    tree = await make_tree()
    await person("wjg01", "王建国", tree.child)
    headers = await admin_of(client, tree)
    members = await tap(client, headers, button(card(await say(client, headers, "王家湾村")), "人员"))
    assert blocks(members, "table")[0]["rows"] == [["王建国", "wjg01", "录入员", "正常"]]
    typed = await say(client, headers, "查 王家湾村的人员")
    assert blocks(typed, "table")[0]["rows"] == [["王建国", "wjg01", "录入员", "正常"]]
    empty = await make_unit("空村", UnitType.VILLAGE, tree.own)
    none = await tap(client, headers, {"intent": "unit.members", "params": {"unit_id": empty.id}})
    assert notice(none) == "空村还没有人员。"


async def test_a_colleague_is_found_by_user_name_in_scope(client):
    """A user name read off a form ("demo_village_clerk") was answered "没有找到": only names were
    looked up. Outside the scope, and for a viewer, it finds nothing, as before."""
    tree = await make_tree()
    await person("hou_gm", "侯国梅", tree.child)
    headers = await admin_of(client, tree)
    for text in ("hou_gm", "查 HOU_GM", "hou_gm的账号锁了吗"):
        assert card(await say(client, headers, text))["title"] == "侯国梅", text
    await person("far_away", "远方", tree.sibling)
    nobody = json.dumps(await say(client, headers, "no_such_name"), ensure_ascii=False)
    assert json.dumps(await say(client, headers, "far_away"), ensure_ascii=False) == nobody.replace(
        "no_such_name", "far_away"
    )
    viewer = await admin_of(client, tree, Role.VIEWER)
    assert "侯国梅" not in json.dumps(await say(client, viewer, "hou_gm"), ensure_ascii=False)


async def test_members_are_asked_for_in_the_ways_cadres_ask(client):
    """ "谁在这个单位", "王家湾村有几个人", "哪些人在王家湾村": each was answered "没有找到"."""
    tree = await make_tree()
    await person("wjg01", "王建国", tree.child)
    headers = await admin_of(client, tree)
    await say(client, headers, "查 王家湾")
    for text in (
        "谁在这个单位",
        "这个村有几个人",
        "王家湾村有多少人",
        "哪些人在王家湾村",
        "都有谁在王家湾",
        "王家湾村的人",
        "查一下王家湾村有几个人？",
        "王家湾村的账号有几个",  # asked as accounts: they were looked up as a person named so
        "王家湾村有哪些账号",
        "王家湾村的用户有哪些",
    ):
        tables = blocks(await say(client, headers, text), "table")
        assert tables and tables[0]["rows"] == [["王建国", "wjg01", "录入员", "正常"]], text
    assert blocks(await say(client, headers, "本单位有几个人"), "table")[0]["title"] == "白沙镇的人员"
    card = blocks(await say(client, headers, "王建国的账号"), "card")[0]  # one person's account stays theirs
    assert card["title"] == "王建国"


async def test_a_viewer_finds_no_people_and_no_member_lists(client):
    tree = await make_tree()
    wang = await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    headers = await admin_of(client, tree, role=Role.VIEWER)
    assert "没有找到" in notice(await say(client, headers, "王建国"))
    refused = "您的角色不能进行这项操作。人员和账号只有管理员可以查看。"  # who may, said
    assert notice(await say(client, headers, PHONE_IN_SCOPE)) == refused
    assert notice(await say(client, headers, "王家湾村的人员")) == refused
    assert notice(await say(client, headers, "王建国的账号锁了吗")) == refused
    assert notice(await tap(client, headers, {"intent": "account.card", "params": {"account_id": wang.id}})) == refused
    unlock = await tap(client, headers, {"intent": "account.unlock", "params": {"account_id": wang.id}})
    assert notice(unlock) == "您的角色不能进行这项操作。账号只有管理员可以管理。"
    assert notice(await say(client, headers, "操作记录")) == "您的角色不能进行这项操作。操作记录只有管理员可以查看。"


async def test_no_buttons_for_oneself_or_a_peer(client):
    tree = await make_tree()
    await person("peer", "同级管理员", tree.own, role=Role.ADMIN)
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    await Account.filter(username="town_admin").update(**names.columns("本人", Account))
    headers = await login(client, "town_admin")
    for name in ("同级管理员", "本人"):
        shown = card(await say(client, headers, name))
        assert [a["intent"] for a in shown["actions"]] == ["unit.card"], (name, shown)


async def test_no_reset_button_for_a_card_holder_unless_the_admin_holds_a_card_too(client):
    """The API refuses it (C6: backend.cards.actions.require_card_peer); the card must not offer it."""
    tree = await make_tree()
    wang = await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    await bind_card(wang.id, "C0001")
    headers = await admin_of(client, tree)
    shown = card(await say(client, headers, "王建国"))
    assert "重置密码" not in [a["label"] for a in shown["actions"]]
    refused = await tap(client, headers, {"intent": "account.reset_password", "params": {"account_id": wang.id}})
    assert blocks(refused, "notice")[0]["level"] == "warning"  # crafted: the API's refusal, in the chat
    admin = await Account.get(username="town_admin")
    await bind_card(admin.id, "C0002")
    assert "重置密码" in [a["label"] for a in card(await say(client, headers, "王建国"))["actions"]]


async def test_every_domain_takes_the_same_asking_words_before_a_question(client):
    """帮我查, 搜索, 请查... were taken for a lookup but left in the name of an admin question."""
    tree = await make_tree()
    await person("wjg01", "王建国", tree.child)
    headers = await admin_of(client, tree)
    for text in ("帮我查王家湾村的人员", "搜索王家湾村的人员", "查 王家湾村的人员"):
        assert blocks(await say(client, headers, text), "table")[0]["title"] == "王家湾村的人员", text
    assert blocks(await say(client, headers, "帮我查白沙镇的下级单位"), "table")[0]["title"] == "白沙镇的下级单位"
    for text in ("搜索王建国的账号锁了吗", "请查王建国的账号状态", "麻烦看一下王建国的账号状态"):
        assert notice(await say(client, headers, text)) == "王建国的账号没有锁定。", text
    assert card(await say(client, headers, "帮我查王建国"))["title"] == "王建国"


@pytest.mark.parametrize(
    "text",
    [
        "侯国梅的联系方式",
        "侯国梅的联系电话",
        "侯国梅的电话",
        "侯国梅手机号是多少",
        "侯国梅是谁",
        "侯国梅在哪个单位",
        "侯国梅是哪个村的",
        "侯国梅的账号",
        "侯国梅是什么角色",
        "侯国梅的角色",
        "侯国梅是录入员吗",
    ],
)
async def test_a_question_about_a_person_answers_the_persons_card(client, text):
    """ "侯国梅的联系方式" answered that no unit was named 侯国梅; "侯国梅是谁" that nothing was found."""
    tree = await make_tree()
    await person("hgm01", "侯国梅", tree.child, phone=PHONE_IN_SCOPE)
    headers = await admin_of(client, tree)
    reply = await say(client, headers, text)
    assert card(reply)["title"] == "侯国梅", reply
    assert fields(card(reply))["手机"] == "139****0001"


async def test_a_persons_contact_is_never_given_outside_the_scope_or_to_a_viewer(client):
    tree = await make_tree()
    await person("hgm01", "侯国梅", tree.sibling, phone=PHONE_OUTSIDE)
    await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    headers = await admin_of(client, tree)
    for text in ("侯国梅的联系方式", "侯国梅是谁"):
        assert "侯国梅" not in json.dumps(blocks(await say(client, headers, text), "card"), ensure_ascii=False)
    viewer = await admin_of(client, tree, Role.VIEWER)
    assert "0001" not in json.dumps(await say(client, viewer, "王建国的联系方式"), ensure_ascii=False)


async def test_asking_where_a_unit_belongs_answers_its_card_not_a_missing_person(client):
    tree = await make_tree()
    headers = await admin_of(client, tree)
    assert card(await say(client, headers, "王家湾村是哪个镇的"))["title"] == "王家湾村"
    assert blocks(await say(client, headers, "白沙镇的账号"), "table")[0]["title"] == "白沙镇的人员"


async def test_a_viewer_asking_where_a_unit_is_gets_its_card_and_about_a_person_only_not_found(client):
    """A viewer may look units up, but "王家湾村是哪个镇的" was refused ("您的角色不能进行这项操作"):
    the question's intent was the person card's, which only admins may open."""
    tree = await make_tree()
    await person("hou_gm", "侯国梅", tree.child)
    viewer = await admin_of(client, tree, Role.VIEWER)
    for text in ("王家湾村是哪个镇的", "王家湾村在哪", "王家湾村在哪里", "王家湾村的账号"):
        assert card(await say(client, viewer, text))["title"] == "王家湾村", text
    nobody = await say(client, viewer, "侯国梅是谁")
    assert "侯国梅" not in json.dumps(blocks(nobody, "card"), ensure_ascii=False) and "没有找到" in notice(nobody)
    admin = await admin_of(client, tree)
    assert card(await say(client, admin, "侯国梅在哪"))["title"] == "侯国梅"


async def test_a_person_found_by_id_number_phone_or_name_writes_the_conversation_once(client, monkeypatch):
    """Every way of finding a person makes them "她" of the next question ("她的账号锁了吗" after an
    ID number, a support call's first question): one context write per lookup, no more."""
    tree = await make_tree()
    wang = await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    await with_id_number(wang, ID_IN_SCOPE)
    headers = await admin_of(client, tree)
    redis = runtime.get().redis
    written: list[str] = []
    original = redis.eval

    def counting(*args, **kwargs):
        written.append("eval")
        return original(*args, **kwargs)

    monkeypatch.setattr(redis, "eval", counting)
    for text in (ID_IN_SCOPE, PHONE_IN_SCOPE):
        assert card(await say(client, headers, text))["title"] == "王建国"
    assert written == ["eval", "eval"]
    assert card(await say(client, headers, "王建国"))["title"] == "王建国"
    assert written == ["eval", "eval", "eval"]


async def test_a_follow_up_asks_the_same_narrowed_question_about_another_unit(client):
    """ "王家湾村的管理员是谁" then "李家坪村呢" listed everyone of 李家坪村: the role was forgotten."""
    tree = await make_tree()
    other = await make_unit("李家坪村", UnitType.VILLAGE, tree.own)
    await person("wadm01", "王管理", tree.child, role=Role.ADMIN)
    await person("ladm01", "李管理", other, role=Role.ADMIN)
    await person("lclk01", "李录入", other)
    headers = await admin_of(client, tree)
    await say(client, headers, "王家湾村的管理员是谁")
    table = blocks(await say(client, headers, "李家坪村呢"), "table")[0]
    assert table["title"] == "李家坪村的管理员" and [row[0] for row in table["rows"]] == ["李管理"]
    await say(client, headers, "王家湾村的人员")
    everyone = blocks(await say(client, headers, "李家坪村呢"), "table")[0]
    assert everyone["title"] == "李家坪村的人员" and len(everyone["rows"]) == 2


async def test_counting_words_and_a_persons_id_question_are_understood(client):
    """ "白沙镇一共多少人" offered a unit named "白沙镇一共"; "王建国的身份证" found nobody."""
    tree = await make_tree()
    await person("wjg01", "王建国", tree.child)
    headers = await admin_of(client, tree)
    for text in ("白沙镇一共多少人", "王家湾村总共有几个人"):
        assert blocks(await say(client, headers, text), "table"), text
    for text in ("王建国的身份证", "王建国的身份证号码"):
        assert card(await say(client, headers, text))["title"] == "王建国", text


@pytest.mark.parametrize("text", ["139****0001", "查 1101**********002X", "1101********002x"])
async def test_a_masked_number_copied_from_a_card_is_said_to_be_masked(client, text):
    """A number copied from a card ("139****0001") was looked up as a name ("没有找到")."""
    tree = await make_tree()
    headers = await admin_of(client, tree)
    assert "完整" in notice(await say(client, headers, text)), text


async def test_asking_about_a_unit_or_person_in_a_sentence_answers_its_card(client):
    """ "王家湾村的基本情况", "介绍一下王家湾村", "王建国的情况" were looked up whole ("没有找到")."""
    tree = await make_tree()
    await person("wjg01", "王建国", tree.child)
    headers = await admin_of(client, tree)
    for text in ("王家湾村的基本情况", "王家湾村的情况", "王家湾村概况", "介绍一下王家湾村", "王家湾村怎么样"):
        assert card(await say(client, headers, text))["title"] == "王家湾村", text
    assert card(await say(client, headers, "王建国的情况"))["title"] == "王建国"
    assert card(await say(client, headers, "王建国的账号情况"))["title"] == "王建国"


@pytest.mark.parametrize("text", ["王家湾村的书记是谁", "王家湾村村长是谁", "谁是王家湾村的主任", "王家湾村的支书"])
async def test_an_office_asked_of_a_unit_is_told_apart_from_roles_and_answered_with_its_people(client, text):
    """ "白沙镇的书记是谁" was "没有找到“白沙镇的书记”": accounts hold roles, not offices."""
    tree = await make_tree()
    await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    headers = await admin_of(client, tree)
    reply = await say(client, headers, text)
    lead = notice(reply)
    assert "职务" in lead and "管理员" in lead, text
    [table] = blocks(reply, "table")
    assert [row[0] for row in table["rows"]] == ["王建国"], text


@pytest.mark.parametrize("text", ["王家湾村的账号", "村里的账号", "本单位的用户"])
async def test_a_units_accounts_are_its_people_not_its_card(client, text):
    """ "王家湾村的账号" answered the village's card (a count and a button), not who has an account."""
    tree = await make_tree()
    await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    headers = await login(client, (await make_account("village_admin", tree.child, role=Role.ADMIN)).username)
    [table] = blocks(await say(client, headers, text), "table")
    assert table["title"] == "王家湾村的人员" and "王建国" in [row[0] for row in table["rows"]], text


async def test_a_role_that_cannot_look_people_up_is_told_so_when_a_name_finds_nothing(client):
    """A viewer typing a colleague's name got "没有找到“王建国”", which read as missing data."""
    tree = await make_tree()
    await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    viewer = await admin_of(client, tree, Role.VIEWER)
    said = notice(await say(client, viewer, "王建国"))
    assert "王建国" in said and "查人员需要管理员" in said
    admin = await admin_of(client, tree)
    assert "查人员" not in notice(await say(client, admin, "赵无此人"))


@pytest.mark.parametrize("text", ["全镇的录入员", "全镇有几个录入员", "本镇及下级单位的录入员"])
async def test_the_whole_areas_role_holders_are_those_of_every_unit_below(client, text):
    """ "全县的录入员" said "青山县没有录入员" with four clerks in the villages below: only the unit's
    own members were listed."""
    tree = await make_tree()
    await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)  # a clerk of the village
    await person("lxm01", "李小明", tree.sibling, phone=PHONE_OUTSIDE)  # a clerk of another township
    headers = await admin_of(client, tree)
    [table] = blocks(await say(client, headers, text), "table")
    assert [row[0] for row in table["rows"]] == ["王建国"], text
    assert "王家湾村" in table["rows"][0][2] and "及下级单位" in table["title"], text
    own = blocks(await say(client, headers, "白沙镇的录入员"), "notice")  # the unit itself has none
    assert own and "没有录入员" in own[0]["text"]


@pytest.mark.parametrize("text", ["我是什么角色", "我的权限", "我的角色是什么", "我是谁", "我有哪些权限"])
async def test_one_s_own_role_unit_and_finance_access_are_told(client, text):
    """ "我的权限" and "我是什么角色" looked for a person named 我 ("没有找到“我”")."""
    tree = await make_tree()
    headers = await admin_of(client, tree, Role.VIEWER)
    said = (await say(client, headers, text))["blocks"][0]["text"]
    assert "白沙镇" in said and "查看员" in said and "财务权限" in said and "“我的”" in said, text


async def test_the_chat_never_shows_an_account_above_the_admins_level(client):
    """P2: the REST pages hid the system admin of the admin's own unit; the chat still showed its card
    by name, user name, phone or ID number, and offered its name among the choices."""
    tree = await make_tree()
    boss = await person("zwc01", "邹伟春", tree.own, role=Role.SYSADMIN, phone=PHONE_IN_SCOPE)
    await with_id_number(boss, ID_IN_SCOPE)
    await person("zwc02", "邹伟春", tree.child)  # a namesake below: still found
    headers = await admin_of(client, tree)
    for text in ("查 邹伟春", "zouweichun", "zwc01", PHONE_IN_SCOPE, ID_IN_SCOPE):
        reply = await say(client, headers, text)
        shown = [b.get("subtitle") for b in reply["blocks"]]
        offered = [a.get("params", {}).get("account_id") for b in reply["blocks"] for a in b.get("actions", [])]
        assert "zwc01" not in shown and boss.id not in offered, (text, reply)
    assert card(await say(client, headers, "查 邹伟春"))["subtitle"] == "zwc02"  # the namesake below, at once
    opened = await tap(client, headers, {"intent": "account.card", "params": {"account_id": boss.id}})
    assert "zwc01" not in [b.get("subtitle") for b in opened["blocks"]]
