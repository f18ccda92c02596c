"""W3 in chat: units found by name, pinyin, initials and typos, always within the scope; unit cards,
children a page at a time, "这个村" after a lookup, and suggestions instead of errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from backend.accounts.models import Membership
from backend.chat import lookup
from backend.core import db
from backend.core.actor import Actor, Origin
from backend.core.roles import FinanceAccess, Role
from backend.units.models import Unit, UnitType
from tests.factories import Tree, login, login_response, make_account, make_tree, make_unit


async def say(client: httpx.AsyncClient, headers: dict[str, str], text: str) -> dict[str, Any]:
    response = await client.post("/api/chat", json={"text": text}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def tap(client: httpx.AsyncClient, headers: dict[str, str], action: dict[str, Any]) -> dict[str, Any]:
    chosen = {"intent": action["intent"], "params": action.get("params", {})}
    response = await client.post("/api/chat", json={"action": chosen}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def blocks(reply: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in reply["blocks"] if b["type"] == kind]


def card(reply: dict[str, Any]) -> dict[str, Any]:
    cards = blocks(reply, "card")
    assert cards, reply
    return cards[-1]


def fields(block: dict[str, Any]) -> dict[str, str]:
    return {f["label"]: f["value"] for f in block.get("fields", [])}


def button(block: dict[str, Any], label: str) -> dict[str, Any]:
    found = [a for a in block.get("actions", []) if a["label"] == label]
    assert found, (label, block)
    return found[0]


def notice(reply: dict[str, Any]) -> str:
    notices = blocks(reply, "notice")
    assert notices, reply
    return notices[0]["text"]


async def town_admin(client: httpx.AsyncClient, tree: Tree, role: Role = Role.ADMIN) -> dict[str, str]:
    await make_account(f"town_{role.value}", tree.own, role=role)
    return await login(client, f"town_{role.value}")


async def county_admin(client: httpx.AsyncClient, tree: Tree) -> dict[str, str]:
    await make_account("county_admin", tree.parent, role=Role.ADMIN)
    return await login(client, "county_admin")


def actor_at(unit: Unit, role: Role = Role.ADMIN) -> Actor:
    return Actor(1, "x", "s", 1, unit.id, unit.path, unit.depth, role, FinanceAccess.NONE, Origin())


@pytest.mark.parametrize("text", ["查 王家湾", "查 wangjiawan", "查 王家弯", "王家湾村", "WangJiaWan"])
async def test_name_pinyin_and_a_homophone_typo_all_find_the_village(client, text):
    tree = await make_tree()
    headers = await town_admin(client, tree)
    reply = await say(client, headers, text)
    village = card(reply)
    assert village["title"] == "王家湾村"
    assert fields(village)["类型"] == "村" and fields(village)["区划代码"] == "530101001001"
    assert fields(village)["所属"] == "白沙镇"  # the chain stops at the actor's own unit
    assert "青山县" not in json.dumps(reply, ensure_ascii=False)
    assert button(village, "汇总") == {
        "label": "汇总",
        "intent": "summary",
        "params": {"unit_id": tree.child.id},
        "style": "default",
    }
    assert button(village, "人员")["intent"] == "unit.members"
    assert reply["context"] == "王家湾村"


async def test_initials_find_the_village_and_several_matches_answer_buttons(client):
    tree = await make_tree()
    wu = await make_unit("吴家湾村", UnitType.VILLAGE, tree.own)
    headers = await town_admin(client, tree)
    reply = await say(client, headers, "wjw")
    choices = card(reply)
    assert [a["label"] for a in choices["actions"]] == ["吴家湾村（白沙镇）", "王家湾村（白沙镇）"]
    assert {a["params"]["unit_id"] for a in choices["actions"]} == {wu.id, tree.child.id}
    chosen = await tap(client, headers, choices["actions"][1])
    assert card(chosen)["title"] == "王家湾村"


async def test_a_single_match_shows_its_card_and_offers_the_others(client):
    tree = await make_tree()
    await make_unit("汪家湾村", UnitType.VILLAGE, tree.own)
    headers = await town_admin(client, tree)
    reply = await say(client, headers, "王家湾")  # 王家湾村 by its name, 汪家湾村 only by sound
    assert card(reply)["title"] == "王家湾村"
    assert reply["suggestions"][0]["label"] == "汪家湾村（白沙镇）"


async def test_the_card_and_the_labels_of_the_others_are_read_together(client, monkeypatch):
    tree = await make_tree()
    await make_unit("汪家湾村", UnitType.VILLAGE, tree.own)
    headers = await town_admin(client, tree)
    await say(client, headers, "王家湾")  # the session is known, the index built
    fetch_rows = db.fetch_rows
    sent: list[str] = []
    both_sent = asyncio.Event()

    async def held(sql: str, values: list[Any]) -> Any:
        if "FROM membership m JOIN unit u" not in sql:  # the guard's own read goes by
            sent.append(sql)
            if len(sent) == 2:
                both_sent.set()
            await asyncio.wait_for(both_sent.wait(), timeout=5)  # each waits until the other was sent
        return await fetch_rows(sql, values)

    monkeypatch.setattr(db, "fetch_rows", held)
    reply = await say(client, headers, "王家湾")
    assert card(reply)["title"] == "王家湾村" and reply["suggestions"][0]["label"] == "汪家湾村（白沙镇）"
    assert len(sent) == 2


@pytest.mark.parametrize("text", ["王家湾", "wangjiawan", "王家弯", "王家弯村", "wangjiawancun"])
async def test_the_village_is_meant_before_the_coops_named_after_it(client, text):
    tree = await make_tree()
    await make_unit("王家湾村茶叶专业合作社", UnitType.COOP, tree.child)
    await make_unit("王家湾村综合服务社", UnitType.COOP, tree.child)
    headers = await town_admin(client, tree)
    reply = await say(client, headers, text)
    assert card(reply)["title"] == "王家湾村"
    assert [s["label"] for s in reply["suggestions"][:2]] == [
        "王家湾村综合服务社（王家湾村）",
        "王家湾村茶叶专业合作社（王家湾村）",
    ]
    coop = card(await say(client, headers, "王家湾村茶叶"))
    assert coop["title"] == "王家湾村茶叶专业合作社" and coop["actions"][-1]["intent"] == "coop.card"


async def test_a_typo_that_sounds_different_is_offered_not_assumed(client):
    tree = await make_tree()
    headers = await town_admin(client, tree)
    reply = await say(client, headers, "王家滩")
    choices = card(reply)
    assert "您要找的是不是" in choices["title"]
    assert [a["label"] for a in choices["actions"]] == ["王家湾村（白沙镇）"]


async def test_units_outside_the_scope_are_never_found(client):
    tree = await make_tree()
    other = await make_unit("李家坪村", UnitType.VILLAGE, tree.sibling, region_code="530101002001")
    headers = await town_admin(client, tree)
    for name in ("李家坪", "lijiaping", "ljp", "李家平", "李家坪村", "桃源乡", "青山县"):
        reply = json.dumps(await say(client, headers, f"查 {name}"), ensure_ascii=False)
        # exactly what a name that exists nowhere gets (a county's: the scope, from the word 县 alone)
        nowhere = "查 火星县" if name.endswith("县") else "查 火星基地"
        expected = json.dumps(await say(client, headers, nowhere), ensure_ascii=False).replace(nowhere[2:], "?")
        assert reply.replace(name, "?") == expected
    by_code = await say(client, headers, "530101002001")
    assert notice(by_code) == notice(await say(client, headers, "530101009999"))
    opened = await tap(client, headers, {"intent": "unit.card", "params": {"unit_id": other.id}})
    missing = await tap(client, headers, {"intent": "unit.card", "params": {"unit_id": 999999}})
    assert opened == missing and blocks(opened, "notice")
    children = await tap(client, headers, {"intent": "unit.children", "params": {"unit_id": tree.sibling.id}})
    assert children == await tap(client, headers, {"intent": "unit.children", "params": {"unit_id": 999999}})


async def test_counts_on_a_card_never_include_a_sibling(client):
    tree = await make_tree()
    await make_unit("李家坪村", UnitType.VILLAGE, tree.sibling)
    await make_account("sibling_clerk", tree.sibling, role=Role.CLERK)
    await make_account("village_clerk", tree.child, role=Role.CLERK)
    headers = await county_admin(client, tree)
    county = card(await say(client, headers, "青山县"))
    assert fields(county)["下级单位"] == "2 个" and fields(county)["本单位人员"] == "1 人"
    headers = await town_admin(client, tree)
    town = card(await say(client, headers, "白沙镇"))
    assert fields(town)["下级单位"] == "1 个" and fields(town)["本单位人员"] == "1 人"
    assert "所属" not in fields(town)  # its own unit: nothing above it is shown
    village = card(await say(client, headers, "王家湾村"))
    assert fields(village)["本单位人员"] == "1 人"


async def test_region_and_credit_codes_find_units_in_scope(client):
    tree = await make_tree()
    coop = await make_unit("王家湾种植专业合作社", UnitType.COOP, tree.child)
    await Unit.filter(id=coop.id).update(credit_code="91350100M000100Y43")
    headers = await town_admin(client, tree)
    assert card(await say(client, headers, "区划 530101001001"))["title"] == "王家湾村"
    found = card(await say(client, headers, "91350100M000100Y43"))
    assert found["title"] == "王家湾种植专业合作社" and fields(found)["类型"] == "合作社"
    assert button(found, "信息卡") == {
        "label": "信息卡",
        "intent": "coop.card",
        "params": {"unit_id": coop.id},
        "style": "default",
    }


@pytest.mark.parametrize(
    ("intent", "params"),
    [
        ("lookup.region_code", {"region_code": "5301010010011"}),  # 13 digits: longer than the column
        ("lookup.region_code", {"region_code": 2**40}),
        ("lookup.credit_code", {"credit_code": "X" * 19}),
        ("lookup.credit_code", {"credit_code": "91350100M000100Y4"}),
    ],
)
async def test_an_edited_code_button_answers_not_found_not_an_error(client, intent, params):
    """A button's parameters can be edited: a value that is no such code reached the ORM's column
    check and answered 500."""
    tree = await make_tree()
    headers = await town_admin(client, tree)
    response = await client.post("/api/chat", headers=headers, json={"action": {"intent": intent, "params": params}})
    assert response.status_code == 200, response.text
    assert response.json()["blocks"][0]["type"] == "notice"


async def test_children_page_with_more_and_next_page_through_the_context(client):
    tree = await make_tree()
    for n in range(11):
        await make_unit(f"新村{n:02d}组", UnitType.VILLAGE, tree.own)
    await make_unit("桃源新村", UnitType.VILLAGE, tree.sibling)
    headers = await town_admin(client, tree)
    first = blocks(await say(client, headers, "下级单位"), "table")[0]
    assert first["title"] == "白沙镇的下级单位" and first["total"] == 12 and len(first["rows"]) == 10
    assert first["more"]["intent"] == "unit.children" and first["more"]["params"]["unit_id"] == tree.own.id
    second = blocks(await say(client, headers, "更多"), "table")[0]
    assert len(second["rows"]) == 2 and "more" not in second
    names = [row[0] for row in first["rows"] + second["rows"]]
    assert len(set(names)) == 12 and "桃源新村" not in names
    assert notice(await say(client, headers, "下一页")) == "没有更多了。"
    again = blocks(await tap(client, headers, first["more"]), "table")[0]
    assert again["rows"] == second["rows"]
    assert (await say(client, headers, "下一页"))["blocks"][0]["type"] == "notice"


async def test_the_villages_or_townships_of_a_unit_are_those_of_that_level_at_any_depth(client):
    """ "青山县有几个村" listed the county's townships (its children), and "白沙镇有哪些村" the town's
    co-op among its villages: the level asked for was read as "children"."""
    tree = await make_tree()
    await make_unit("李家坪村", UnitType.VILLAGE, tree.own)
    await make_unit("白沙镇供销合作社", UnitType.COOP, tree.own)
    await make_unit("桃源村", UnitType.VILLAGE, tree.sibling)
    headers = await county_admin(client, tree)
    for text in ("青山县有几个村", "青山县有哪些村", "青山县一共有多少个村", "青山县的村"):
        table = blocks(await say(client, headers, text), "table")[0]
        assert table["title"] == "青山县的村" and table["total"] == 3, text
        assert table["columns"] == ["名称", "所属", "区划代码"]
        assert sorted(row[:2] for row in table["rows"]) == [
            ["李家坪村", "白沙镇"],
            ["桃源村", "桃源乡"],
            ["王家湾村", "白沙镇"],
        ], text
    town = blocks(await say(client, headers, "白沙镇有哪些村"), "table")[0]
    assert sorted(row[0] for row in town["rows"]) == ["李家坪村", "王家湾村"]
    townships = blocks(await say(client, headers, "青山县有几个乡镇"), "table")[0]
    assert townships["title"] == "青山县的乡镇" and sorted(r[0] for r in townships["rows"]) == ["桃源乡", "白沙镇"]
    assert notice(await say(client, headers, "王家湾村有几个村")) == "王家湾村下面没有村。"
    province = await make_unit("云岭省", UnitType.PROVINCE)  # "有几个县" was looked up as a name
    city = await make_unit("青州市", UnitType.CITY, province)
    await make_unit("石门县", UnitType.COUNTY, city)
    await make_unit("龙泉县", UnitType.COUNTY, city)
    await make_account("province_admin", province, role=Role.ADMIN)
    province_headers = await login(client, "province_admin")
    counties = blocks(await say(client, province_headers, "云岭省有几个县"), "table")[0]
    assert counties["title"] == "云岭省的县" and sorted(r[:2] for r in counties["rows"]) == [
        ["石门县", "青州市"],
        ["龙泉县", "青州市"],
    ]
    cities = blocks(await say(client, province_headers, "云岭省有哪些市"), "table")[0]
    assert [r[0] for r in cities["rows"]] == ["青州市"]
    town_headers = await town_admin(client, tree)
    outside = await tap(
        client, town_headers, {"intent": "unit.of_level", "params": {"unit_id": tree.parent.id, "level": "village"}}
    )
    assert "桃源村" not in json.dumps(outside, ensure_ascii=False) and blocks(outside, "notice")
    bad = await tap(
        client, town_headers, {"intent": "unit.of_level", "params": {"unit_id": tree.own.id, "level": "coop"}}
    )
    assert blocks(bad, "notice") and not blocks(bad, "table")


async def test_a_follow_up_after_a_level_question_asks_for_the_same_level(client):
    tree = await make_tree()
    await make_unit("白沙镇供销合作社", UnitType.COOP, tree.own)
    await make_unit("桃源村", UnitType.VILLAGE, tree.sibling)
    headers = await county_admin(client, tree)
    await say(client, headers, "白沙镇有哪些村")
    table = blocks(await say(client, headers, "桃源乡呢"), "table")[0]
    assert table["title"] == "桃源乡的村" and [row[0] for row in table["rows"]] == ["桃源村"]


async def test_the_villages_of_a_large_unit_page_with_more(client):
    tree = await make_tree()
    for n in range(11):
        await make_unit(f"新村{n:02d}组", UnitType.VILLAGE, tree.own)
    headers = await county_admin(client, tree)
    first = blocks(await say(client, headers, "青山县有哪些村"), "table")[0]
    assert first["total"] == 12 and len(first["rows"]) == 10 and first["more"]["intent"] == "unit.of_level"
    second = blocks(await say(client, headers, "更多"), "table")[0]
    assert len(second["rows"]) == 2 and {r[0] for r in first["rows"]}.isdisjoint(r[0] for r in second["rows"])
    assert blocks(await tap(client, headers, first["more"]), "table")[0]["rows"] == second["rows"]


async def _town_with_villages(client, count: int) -> tuple[dict[str, str], list[Unit]]:
    """A town admin's headers, its town holding ``count`` more villages (王家湾村 first)."""
    tree = await make_tree()
    units = [await make_unit(f"新村{n:02d}组", UnitType.VILLAGE, tree.own) for n in range(count)]
    return await town_admin(client, tree), units


async def test_back_to_a_page_seen_before_by_previous_page_or_its_number(client):
    """ "上一页" and "第二页" were looked up as names ("没有找到")."""
    headers, _ = await _town_with_villages(client, 25)

    async def rows(text: str) -> list[list[str]]:
        return blocks(await say(client, headers, text), "table")[0]["rows"]

    first, second, third = await rows("下级单位"), await rows("更多"), await rows("更多")
    assert len({row[0] for row in first + second + third}) == len(first + second + third) == 26  # with 王家湾村
    assert await rows("上一页") == second
    assert await rows("第一页") == first
    assert notice(await say(client, headers, "上一页")) == "这已经是第一页了。"
    assert await rows("第3页") == third  # pages seen stay known after going back
    assert await rows("第 2 页") == second
    assert await rows("更多") == third
    assert notice(await say(client, headers, "第四页")) == "这个列表一共只有 3 页。"
    assert notice(await say(client, headers, "第0页")) == "页码从 1 开始，比如“第1页”。"


async def test_a_page_not_reached_yet_is_only_the_next_one(client):
    headers, _ = await _town_with_villages(client, 35)
    first = blocks(await say(client, headers, "下级单位"), "table")[0]
    assert "第 3 页" in notice(await say(client, headers, "第3页"))  # not seen: "更多" page by page
    second = blocks(await say(client, headers, "第二页"), "table")[0]  # the next page: shown
    assert (
        second["rows"] != first["rows"]
        and second["rows"] == blocks(await tap(client, headers, first["more"]), "table")[0]["rows"]
    )


async def test_paging_back_with_no_table_says_so(client):
    tree = await make_tree()
    headers = await town_admin(client, tree)
    assert "没有可以翻页的列表" in notice(await say(client, headers, "上一页"))
    assert "没有可以翻页的列表" in notice(await say(client, headers, "第2页"))


async def test_the_table_s_button_counts_as_the_next_page(client):
    headers, _ = await _town_with_villages(client, 25)
    first = blocks(await say(client, headers, "下级单位"), "table")[0]
    second = blocks(await tap(client, headers, first["more"]), "table")[0]
    assert blocks(await say(client, headers, "上一页"), "table")[0]["rows"] == first["rows"]
    third = blocks(await tap(client, headers, second["more"]), "table")[0]  # an older page's button
    assert blocks(await say(client, headers, "上一页"), "table")[0]["rows"] == second["rows"]
    assert blocks(await say(client, headers, "第3页"), "table")[0]["rows"] == third["rows"]


async def test_a_table_whose_rows_changed_forgets_the_pages_beyond(client):
    """Back on page 1 after one of its units was deleted: page 2 no longer starts where it did (it
    would have shown a unit of the new page 1 again)."""
    headers, units = await _town_with_villages(client, 25)
    await say(client, headers, "下级单位")
    await say(client, headers, "更多")
    await units[0].delete()
    first = blocks(await say(client, headers, "第1页"), "table")[0]
    second = blocks(await say(client, headers, "第2页"), "table")[0]
    assert not {row[0] for row in first["rows"]} & {row[0] for row in second["rows"]}
    assert second["rows"] == blocks(await tap(client, headers, first["more"]), "table")[0]["rows"]


async def test_asking_for_more_as_cadres_do_pages_the_children(client):
    """ "再来10条" and "还有吗" were looked up as names and answered "没有找到"."""
    tree = await make_tree()
    for n in range(11):
        await make_unit(f"新村{n:02d}组", UnitType.VILLAGE, tree.own)
    headers = await town_admin(client, tree)
    assert len(blocks(await say(client, headers, "查下级单位"), "table")[0]["rows"]) == 10
    assert len(blocks(await say(client, headers, "再来10条"), "table")[0]["rows"]) == 2
    assert notice(await say(client, headers, "还有吗？")) == "没有更多了。"


async def test_a_unit_asked_for_with_a_bare_check_word_before_its_name_is_that_unit(client):
    """ "查白沙镇的下级单位" looked for a unit named "查白沙镇" and asked which was meant."""
    tree = await make_tree()
    await make_unit("查家村", UnitType.VILLAGE, tree.own)  # 查 begins this name: it stays itself
    headers = await town_admin(client, tree)
    for text, name in (
        ("查王家湾村的下级单位", "王家湾村"),
        ("查家村的下级单位", "查家村"),
        ("看王家湾的人员", "王家湾村"),
    ):
        reply = await say(client, headers, text)
        assert notice(reply) in (f"{name}没有下级单位。", f"{name}还没有人员。"), (text, reply)


async def test_this_village_means_the_unit_last_shown(client):
    tree = await make_tree()
    await make_unit("一组", UnitType.WORK_TEAM, tree.child)
    headers = await town_admin(client, tree)
    before = blocks(await say(client, headers, "这个村有哪些单位"), "table")[0]
    assert before["title"] == "白沙镇的下级单位"  # nothing shown yet: the actor's own unit
    await say(client, headers, "查 王家湾")
    table = blocks(await say(client, headers, "这个村有哪些单位"), "table")[0]
    assert table["title"] == "王家湾村的下级单位" and table["rows"][0][0] == "一组"
    named = blocks(await say(client, headers, "帮我查一下王家湾村的下级单位"), "table")[0]
    assert named["title"] == "王家湾村的下级单位"
    own = blocks(await say(client, headers, "本单位的下级单位"), "table")[0]
    assert own["title"] == "白沙镇的下级单位"
    # the children just listed were 白沙镇's, a township: "这个村" is none of them, and it says so
    assert "刚才查看的是白沙镇（乡镇）" in notice(await say(client, headers, "这个村"))
    assert card(await say(client, headers, "这里"))["title"] == "白沙镇"


async def test_choosing_another_unit_starts_another_conversation_and_going_back_resumes_it(client):
    tree = await make_tree()
    await make_unit("一组", UnitType.WORK_TEAM, tree.child)
    account = await make_account("two_units", tree.own, role=Role.ADMIN)
    other = await Membership.create(
        account_id=account.id, unit_id=tree.sibling.id, role=Role.ADMIN, created_at=account.created_at
    )
    town = await Membership.get(account_id=account.id, unit_id=tree.own.id)
    headers = {"Authorization": f"Bearer {(await login_response(client, 'two_units')).json()['token']}"}

    async def choose(membership: Membership) -> None:
        chosen = await client.post("/api/session/unit", json={"membership_id": membership.id}, headers=headers)
        assert chosen.status_code == 200

    await choose(town)
    await say(client, headers, "查 王家湾")
    assert blocks(await say(client, headers, "这个村有哪些单位"), "table")[0]["title"] == "王家湾村的下级单位"
    await choose(other)
    assert card(await say(client, headers, "这个村"))["title"] == "桃源乡"  # nothing shown in this unit yet
    assert notice(await say(client, headers, "下一页")) == "没有更多了。"
    await choose(town)
    assert card(await say(client, headers, "这个村"))["title"] == "王家湾村"


@pytest.mark.parametrize(
    "text", ["王家湾村的上级", "王家湾村的上级单位是哪个", "王家湾村属于哪个乡镇", "王家湾村归哪个镇管"]
)
async def test_asking_what_a_unit_belongs_to_answers_its_card_with_where_it_sits(client, text):
    """ "王家湾村的上级" and "王家湾村属于哪个乡镇" were looked up as whole names ("没有找到")."""
    tree = await make_tree()
    headers = await town_admin(client, tree, role=Role.VIEWER)
    shown = card(await say(client, headers, text))
    assert shown["title"] == "王家湾村" and "白沙镇" in fields(shown)["所属"], text


async def test_a_viewer_sees_units_but_no_people(client):
    tree = await make_tree()
    await make_account("clerk_wang", tree.child, role=Role.CLERK)
    headers = await town_admin(client, tree, role=Role.VIEWER)
    village = card(await say(client, headers, "王家湾"))
    assert "本单位人员" not in fields(village)
    assert "人员" not in [a["label"] for a in village["actions"]]
    assert notice(await say(client, headers, "这个村的人员")).startswith("您的角色不能进行这项操作。")


async def test_unknown_input_gets_a_friendly_notice_and_suggestions(client):
    tree = await make_tree()
    headers = await town_admin(client, tree)
    for text in ("查 火星基地", "!!!", "x" * 40):
        reply = await say(client, headers, text)
        assert reply["blocks"] and reply["suggestions"], reply
    reply = await say(client, headers, "查 火星基地")
    assert "没有找到“火星基地”" in notice(reply)


async def _ranking_tree() -> tuple[Tree, Actor]:
    tree = await make_tree()
    for name, kind in (
        ("白沙镇中学", UnitType.SCHOOL),
        ("百沙镇村", UnitType.VILLAGE),
        ("白山镇村", UnitType.VILLAGE),
        ("东白沙镇村", UnitType.VILLAGE),
        ("李家坪村", UnitType.VILLAGE),
        ("王家寨村", UnitType.VILLAGE),
    ):
        await make_unit(name, kind, tree.parent)
    await make_unit("白沙镇", UnitType.TOWNSHIP, tree.sibling)  # a namesake further down
    return tree, actor_at(tree.parent)


async def test_rank_is_exact_then_prefix_then_contains_then_pinyin_then_fuzzy(strategy):
    _, actor = await _ranking_tree()
    found = await lookup.find(actor, "白沙镇", limit=20)
    assert [(m.name, m.rank.name, m.depth) for m in found.matches] == [
        ("白沙镇", "EXACT", 1),
        ("白沙镇", "EXACT", 2),  # ties: the higher unit first
        ("白沙镇中学", "PREFIX", 1),
        ("东白沙镇村", "CONTAINS", 1),
        ("百沙镇村", "PINYIN", 1),
        ("白山镇村", "FUZZY", 1),
    ]
    assert not found.more and not found.near


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("王家湾", "王家湾村"),
        ("wangjiawan", "王家湾村"),
        ("王家弯", "王家湾村"),
        ("wjw", "王家湾村"),
        ("wangjiwan", "王家湾村"),
        ("李家坪", "李家坪村"),
        ("ljp", "李家坪村"),
        ("wjz", "王家寨村"),  # a key ending in z: its range has no next letter to stop at
        ("wangjiazhai", "王家寨村"),
    ],
)
async def test_every_strategy_finds_the_same_units(strategy, text, expected):
    _, actor = await _ranking_tree()
    found = await lookup.find(actor, text)
    assert found.matches and found.matches[0].name == expected, found


async def test_every_strategy_keeps_to_the_scope(strategy):
    tree, _ = await _ranking_tree()
    await make_unit("李家坪二组", UnitType.WORK_TEAM, tree.child)
    actor = actor_at(tree.own)
    for text in ("李家坪", "ljp", "lijiaping", "李家平", "桃源乡", "百沙镇村", "青山县"):
        found = await lookup.find(actor, text, people=True)
        names = {m.name for m in found.matches + found.near}
        assert names <= {"白沙镇", "王家湾村", "李家坪二组"}, (text, names)


@pytest.mark.parametrize(
    ("intent", "key"),
    [
        ("unit.card", "unit_id"),
        ("unit.children", "cursor"),
        ("summary", "unit_id"),
        ("coop.map", "region_id"),
        ("coop.list", "cursor"),
        ("account.card", "account_id"),
    ],
)
@pytest.mark.parametrize("number", ["1e400", "-1e400", "1.5", "1.0"])
async def test_a_button_number_that_is_not_a_whole_id_answers_in_the_conversation(client, intent, key, number):
    """Valid JSON numbers that no id can be: 1e400 is infinity to the parser (int() of it raised
    OverflowError, a 500), and 1.5 must not quietly become unit 1."""
    tree = await make_tree()
    headers = await town_admin(client, tree)
    body = json.dumps({"action": {"intent": intent, "params": {key: "NUMBER"}}}).replace('"NUMBER"', number)
    response = await client.post(
        "/api/chat", content=body.encode(), headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert [b["type"] for b in response.json()["blocks"]] == ["notice"]


async def test_bad_ids_from_a_button_answer_like_missing_units(client):
    tree = await make_tree()
    headers = await town_admin(client, tree)
    missing = await tap(client, headers, {"intent": "unit.card", "params": {"unit_id": 999999}})
    for bad in ("abc", 10**12, -1, True, None, [1]):
        params = {"unit_id": bad} if bad is not None else {"unit_id": 999999}
        assert await tap(client, headers, {"intent": "unit.card", "params": params}) == missing, bad
    paged = await tap(client, headers, {"intent": "unit.children", "params": {"unit_id": tree.own.id, "cursor": "x"}})
    assert paged == missing


async def test_more_pages_a_long_list_of_names_found(client):
    """After a lookup's buttons, "更多" went on with whatever table was shown before it."""
    tree = await make_tree()
    for n in range(23):
        await make_unit(f"新村{n:02d}组", UnitType.VILLAGE, tree.own)
    await make_unit("桃源新村", UnitType.VILLAGE, tree.sibling)
    headers = await town_admin(client, tree)
    await say(client, headers, "下级单位")  # a table first: "更多" must not continue it
    pages = [await say(client, headers, "新村")]
    assert "第 1-10 个" in notice(pages[0]) and pages[0]["suggestions"][0]["text"] == "更多"
    pages += [await say(client, headers, "更多"), await say(client, headers, "下一页")]
    assert "第 11-20 个" in notice(pages[1]) and not blocks(pages[2], "notice")
    labels = [a["label"] for page in pages for a in card(page)["actions"]]
    assert len(labels) == len(set(labels)) == 23 and all(label.startswith("新村") for label in labels)
    assert notice(await say(client, headers, "更多")) == "没有更多了。"


async def _coops_tree() -> tuple[Tree, Actor]:
    tree = await make_tree()
    await make_unit("王家湾村茶叶专业合作社", UnitType.COOP, tree.child)
    await make_unit("王家湾村果蔬合作社", UnitType.COOP, tree.child)
    await make_unit("茶园村叶子烟专业合作社", UnitType.COOP, tree.own)  # 茶...叶...社 with more gaps
    await make_unit("刘家岭村茶叶合作社", UnitType.COOP, tree.sibling)  # outside the town
    return tree, actor_at(tree.own)


@pytest.mark.parametrize("text", ["茶叶合作社", "茶叶社", "茶叶专业社", "果蔬社"])
async def test_an_abbreviated_co_op_name_finds_the_co_op_in_scope(strategy, text):
    """ "茶叶合作社" found nothing: the village before it and 专业 between were left out."""
    _, actor = await _coops_tree()
    found = await lookup.find(actor, text)
    assert found.matches, found
    names = [m.name for m in found.matches]
    assert names[0] in ("王家湾村茶叶专业合作社", "王家湾村果蔬合作社") and "刘家岭村茶叶合作社" not in names
    assert {m.rank for m in found.matches} == {lookup.Rank.ABBREVIATION}


async def test_fewer_gaps_rank_an_abbreviation_first(strategy):
    _, actor = await _coops_tree()
    found = await lookup.find(actor, "茶叶社")
    assert [m.name for m in found.matches] == ["王家湾村茶叶专业合作社", "茶园村叶子烟专业合作社"]


async def test_an_abbreviation_is_asked_only_when_nothing_else_matched(strategy):
    tree, actor = await _coops_tree()
    await make_unit("茶叶社区", UnitType.OTHER, tree.own)
    found = await lookup.find(actor, "茶叶社")
    assert [(m.name, m.rank) for m in found.matches] == [("茶叶社区", lookup.Rank.PREFIX)]
    assert not (await lookup.find(actor, "茶社")).matches  # two characters: too short to guess from
    assert not (await lookup.find(actor, "社叶茶")).matches  # the characters in another order


async def test_an_abbreviated_co_op_name_typed_offers_the_co_op(client):
    tree = await make_tree()
    await make_unit("王家湾村茶叶专业合作社", UnitType.COOP, tree.child)
    headers = await town_admin(client, tree)
    reply = await say(client, headers, "茶叶合作社")
    assert [a["label"] for a in card(reply)["actions"]] == ["王家湾村茶叶专业合作社（王家湾村）"]
    assert "您要找的是不是" in card(reply)["title"]


async def test_a_unit_card_walks_up_its_ancestors_by_key_once_the_planner_has_statistics(settings):
    """With SQLite's statistics (ANALYZE, since migrate and the seed run it) the card's walk up the
    tree put a Bloom filter on the unit table: a scan of every unit per card (5 ms at 51,635 units
    instead of 0.03). The walk's step has no condition of its own now; the scope filters the rows."""
    from backend.units.chat import unit_card

    tree = await make_tree()
    for n in range(30):
        await make_unit(f"新村{n:02d}组", UnitType.VILLAGE, tree.own)
    actor = actor_at(tree.own)
    sql, values = _card_statement(actor, tree.child.id)
    if settings.dialect == "sqlite":
        await db.db().execute_script("ANALYZE")
        try:
            plan = " ".join(row["detail"] for row in await db.fetch(f"EXPLAIN QUERY PLAN {sql}", values))
        finally:
            await db.db().execute_script("DELETE FROM sqlite_stat1; ANALYZE sqlite_schema;")
        assert "BLOOM" not in plan and "SCAN p" not in plan, plan
    unit, card_block = await unit_card(actor, tree.child.id)
    assert unit.name == "王家湾村"
    assert {f.label: f.value for f in card_block.fields}["所属"] == "白沙镇"  # the chain stops at the scope


def _card_statement(actor: Actor, unit_id: int) -> tuple[str, list[Any]]:
    from backend.units import chat as units_chat

    return units_chat.card_statement(actor, unit_id)


async def test_a_units_code_and_how_many_units_are_below_it_are_asked_in_the_ways_cadres_ask(client):
    """ "王家湾村的区划代码" and "白沙镇的下级单位有几个" were looked up whole as names."""
    tree = await make_tree()
    headers = await town_admin(client, tree)
    for text in ("王家湾村的区划代码", "王家湾村的区划代码是多少", "王家湾村的代码"):
        assert card(await say(client, headers, text))["title"] == "王家湾村", text
    for text in ("白沙镇的下级单位有几个", "白沙镇下级单位有多少个"):
        assert blocks(await say(client, headers, text), "table")[0]["title"] == "白沙镇的下级单位", text
