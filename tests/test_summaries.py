"""W4 summaries from the co-op roll-ups: the chat intent and REST, scope, finance, and that the
roll-ups stay equal to the cards through random writes and moves, or are repaired by the job."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from backend.chat import intents, service
from backend.coops import actions, queries, rollups
from backend.coops import messages as msg
from backend.coops.models import CoopCard, CoopRollup
from backend.core import db
from backend.core.roles import FinanceAccess, Role
from backend.units import actions as unit_actions
from backend.units.models import Unit, UnitType
from jobs.rollups import coop_rollups_check
from tests.coops_helpers import (
    actor_at,
    blocks,
    chat,
    coop_card,
    expected_rollups,
    fields,
    login_at,
    make_world,
    stored_rollups,
)
from tests.factories import make_account, make_unit

NO = "无权限"


def rows_by_name(table: dict) -> dict[str, list[str]]:
    return {row[0]: row for row in table["rows"]}


async def test_the_summary_of_a_coop_itself_is_titled_by_its_name_alone(client):
    """白沙镇供销社合作社汇总: a co-op's own summary said 合作社 twice over."""
    w = await make_world()
    headers = await login_at(client, "town_all", w.town, Role.VIEWER, FinanceAccess.ALL)
    reply = await chat(client, headers, intent="summary", params={"unit_id": w.town_coop.id})
    assert blocks(reply, "card")[0]["title"] == f"{w.town_coop.name}汇总"


async def test_summary_of_the_own_unit_answers_a_card_a_breakdown_table_and_a_bar_chart(client):
    w = await make_world()
    headers = await login_at(client, "town_all", w.town, Role.VIEWER, FinanceAccess.ALL)
    reply = await chat(client, headers, "汇总")
    card = blocks(reply, "card")[0]
    values = fields(card)
    assert card["title"] == "白沙镇合作社汇总" and reply["context"] == "白沙镇"
    assert values["合作社"] == "3 个" and values["村级社"] == "2 个" and values["标杆社"] == "2 个"
    assert values["社员数"] == "480" and values["资产总额"] == "643.46 万元" and values["利润"] == "13.00 万元"
    table = blocks(reply, "table")[0]
    rows = rows_by_name(table)
    assert set(rows) == {"王家湾村", "白沙镇供销社"}  # 李家坪村 has no card yet; 桃源乡 is not below
    assert rows["王家湾村"][1:] == ["2", "2", "1", "180", "143.46"]
    actions_by_unit = {a["params"]["unit_id"]: a["intent"] for a in table["row_actions"]}
    assert actions_by_unit == {w.village.id: "summary", w.town_coop.id: "coop.card"}
    chart = blocks(reply, "chart")[0]
    assert chart["kind"] == "bar" and chart["labels"] == ["王家湾村", "白沙镇供销社"]
    assert chart["series"][0]["values"] == [2.0, 1.0]
    assert reply == await chat(client, headers, "本镇汇总") == await chat(client, headers, "信息卡汇总")
    assert blocks(await chat(client, headers, "更多"), "notice")  # a summary is not a paged table


@pytest.mark.parametrize("text", ["汇总 王家湾村", "王家湾村汇总", "王家湾村的汇总", "看看王家湾村汇总"])
async def test_summary_of_a_named_unit_in_scope(client, text):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, text)
    assert fields(blocks(reply, "card")[0])["合作社"] == "2 个" and reply["context"] == "王家湾村"
    assert set(rows_by_name(blocks(reply, "table")[0])) == {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社"}


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("王家湾村合作社汇总", "王家湾村合作社汇总"),
        ("王家湾村的合作社汇总", "王家湾村合作社汇总"),
        ("汇总 王家湾村合作社", "王家湾村合作社汇总"),
        ("本镇合作社汇总", "白沙镇合作社汇总"),
        ("合作社汇总", "白沙镇合作社汇总"),
        ("王家湾村信息卡汇总", "王家湾村合作社汇总"),
    ],
)
async def test_a_summary_asked_as_the_units_co_op_summary_answers_that_unit(client, text, title):
    """The summary's own title, "王家湾村合作社汇总", typed back answered a picker of co-ops, and
    "本镇合作社汇总" that no unit was named "本镇合作社" (统计 and 地图 took the word already)."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, text)
    assert [b["title"] for b in blocks(reply, "card")] == [title], reply


@pytest.mark.parametrize("text", ["全镇汇总", "全镇合作社汇总", "汇总 全镇"])
async def test_the_whole_own_unit_is_the_own_units_summary(client, text):
    """ "全镇汇总" is how a cadre asks for the whole of the own township; it answered that no unit
    was named "全镇"."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    assert [b["title"] for b in blocks(await chat(client, headers, text), "card")] == ["白沙镇合作社汇总"]


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("王家湾村有几个合作社", "王家湾村合作社汇总"),
        ("王家湾有多少合作社", "王家湾村合作社汇总"),
        ("王家湾村一共有多少个合作社？", "王家湾村合作社汇总"),
        ("有几个合作社", "白沙镇合作社汇总"),
        ("本镇有多少个社", "白沙镇合作社汇总"),
        ("王家湾村的资产", "王家湾村合作社汇总"),
        ("王家湾村营业收入是多少", "王家湾村合作社汇总"),
        ("本镇的社员数", "白沙镇合作社汇总"),
        ("查一下王家湾村的利润", "王家湾村合作社汇总"),
        ("咱镇有多少家合作社", "白沙镇合作社汇总"),
        ("白沙镇合作社有多少个", "白沙镇合作社汇总"),
        ("王家湾村的合作社一共有几个？", "王家湾村合作社汇总"),
        ("王家湾村有多少社员", "王家湾村合作社汇总"),
        ("王家湾村社员总数", "王家湾村合作社汇总"),
        ("本镇一共有多少社员。", "白沙镇合作社汇总"),
        ("白沙镇供销社有多少社员", "白沙镇供销社"),  # one co-op's figure: its card holds it
        ("查汇总", "白沙镇合作社汇总"),
        ("看汇总", "白沙镇合作社汇总"),
    ],
)
async def test_a_question_about_how_many_co_ops_or_a_total_answers_the_summary(client, text, title):
    """ "王家湾有几个合作社" and "王家湾村的资产" were answered "没有找到": the summary holds both."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, text)
    assert [b["title"] for b in blocks(reply, "card")] == [title], reply


@pytest.mark.parametrize(
    ("text", "title", "period"),
    [
        ("2025年汇总", "白沙镇合作社汇总", "2025年"),
        ("去年的汇总", "白沙镇合作社汇总", "去年"),
        ("汇总 王家湾村 2025", "王家湾村合作社汇总", "2025"),
        ("今年王家湾村的资产", "王家湾村合作社汇总", "今年"),
        ("王家湾村3月份的汇总", "王家湾村合作社汇总", "3月份"),
        ("2024年度统计", "白沙镇合作社统计指标", "2024年度"),
    ],
)
async def test_a_summary_asked_for_a_year_says_figures_are_not_kept_by_year(client, text, title, period):
    """ "2025年汇总" answered that no unit was named "2025年": the roll-ups hold the cards as they
    are, so the answer is the summary with a word that it is not by year."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, text)
    assert [b["title"] for b in blocks(reply, "card")] == [title], reply
    assert f"“{period}”" in blocks(reply, "notice")[0]["text"]


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("查白沙镇汇总", "白沙镇合作社汇总"),
        ("看王家湾村的汇总", "王家湾村合作社汇总"),
        ("查家村汇总", "查家村合作社汇总"),
    ],
)
async def test_a_bare_check_word_before_a_named_unit_is_no_part_of_its_name(client, text, title):
    """ "查白沙镇汇总" asked which unit was meant, offering only 白沙镇; 查家村 stays itself."""
    w = await make_world()
    zha = await make_unit("查家村", UnitType.VILLAGE, w.town)
    await coop_card(await make_unit("查家村合作社", UnitType.COOP, zha), members=1)
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, text)
    assert [b["title"] for b in blocks(reply, "card")] == [title], reply


async def test_a_co_op_whose_full_name_ends_in_co_op_keeps_its_own_summary(client):
    w = await make_world()
    named = await make_unit("王家湾村合作社", UnitType.COOP, w.village)  # the village's own co-op
    await coop_card(named, members=7)
    headers = await login_at(client, "town_viewer", w.town)
    assert blocks(await chat(client, headers, "王家湾村合作社汇总"), "card")[0]["title"] == "王家湾村合作社汇总"
    assert fields(blocks(await chat(client, headers, "王家湾村合作社汇总"), "card")[0])["合作社"] == "1 个"
    tea = blocks(await chat(client, headers, "王家湾村茶叶专业合作社汇总"), "card")[0]
    assert tea["title"] == "王家湾村茶叶专业合作社汇总" and fields(tea)["合作社"] == "1 个"


async def test_this_village_means_the_last_unit_shown(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    nothing_yet = await chat(client, headers, "这个村的汇总")
    assert "先查" in blocks(nothing_yet, "notice")[0]["text"]
    await chat(client, headers, "汇总 王家湾村")
    await chat(client, headers, "汇总")  # the own unit is shown now
    assert blocks(await chat(client, headers, "这里的汇总"), "card")[0]["title"] == "白沙镇合作社汇总"
    await chat(client, headers, intent="coop.card", params={"unit_id": w.veg.id})
    reply = await chat(client, headers, "这里的汇总")
    assert reply["context"] == "王家湾村果蔬合作社" and fields(blocks(reply, "card")[0])["合作社"] == "1 个"
    await chat(client, headers, intent="summary", params={"unit_id": w.village.id})
    assert (await chat(client, headers, "这个村的汇总"))["context"] == "王家湾村"
    for text in ("这个社区的汇总", "那个村的汇总", "这儿的汇总"):  # the words the units domain knows too
        assert (await chat(client, headers, text))["context"] == "王家湾村", text
    for text in ("我们村的汇总", "咱们的汇总", "汇总一下", "汇总情况"):
        assert (await chat(client, headers, text))["context"] == "白沙镇", text


async def test_a_refreshed_token_keeps_the_conversation(client):
    """The context's key comes from the token: a refresh started the conversation over."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    await chat(client, headers, intent="summary", params={"unit_id": w.village.id})
    refreshed = await client.post("/api/session/refresh", headers=headers)
    headers = {"Authorization": f"Bearer {refreshed.json()['token']}"}
    assert (await chat(client, headers, "这个村的汇总"))["context"] == "王家湾村"


async def test_several_units_of_the_name_answer_buttons_and_a_button_answers_the_summary(client):
    w = await make_world()
    twin = await make_unit("王家湾村", UnitType.VILLAGE, w.town)
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, "汇总 王家湾村")
    choices = blocks(reply, "card")[0]["actions"]
    assert [(a["intent"], a["params"]["unit_id"]) for a in choices] == [("summary", w.village.id), ("summary", twin.id)]
    picked = await chat(client, headers, intent="summary", params=choices[0]["params"])
    assert fields(blocks(picked, "card")[0])["合作社"] == "2 个"
    empty = await chat(client, headers, intent="summary", params=choices[1]["params"])
    assert blocks(empty, "notice") and not blocks(empty, "table")


async def test_a_summary_forgives_a_name_as_the_lookup_does(client):
    """Part of a name, pinyin and a typo find the unit as "查" does; unsure, it offers buttons."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    same = ("汇总 王家湾", "汇总 wangjiawan", "汇总 wangjiawancun", "汇总 wjwc", "王家湾汇总", "汇总 王家弯村")
    for text in same:  # the last: the whole name as it sounds
        reply = await chat(client, headers, text)
        assert blocks(reply, "card")[0]["title"] == "王家湾村合作社汇总", text
    typo = await chat(client, headers, "汇总 王家滩村")  # sounds different: unsure
    [choice] = [a for a in blocks(typo, "card")[0]["actions"] if a["params"]["unit_id"] == w.village.id]
    assert choice["intent"] == "summary" and "王家滩村" in blocks(typo, "card")[0]["subtitle"]
    listed = await chat(client, headers, "王家湾的标杆社")
    assert blocks(listed, "table"), listed  # a region filter forgives the same way
    nothing = await chat(client, headers, "汇总 呼伦贝尔")
    assert blocks(nothing, "notice")[0]["level"] == "warning"


async def test_namesake_buttons_name_the_unit_above_only_when_it_is_in_scope(client):
    w = await make_world()
    await make_unit("白沙镇", UnitType.VILLAGE, w.town)  # a village named like its township
    headers = await login_at(client, "town_viewer", w.town)
    choices = blocks(await chat(client, headers, "汇总 白沙镇"), "card")[0]["actions"]
    assert [a["label"] for a in choices] == ["白沙镇", "白沙镇（白沙镇）"]  # 青山县 is above the scope


async def test_summaries_never_reach_or_count_a_sibling(client):
    w = await make_world()
    headers = await login_at(client, "town_all", w.town, Role.VIEWER, FinanceAccess.ALL)
    hidden = {w.sibling.id, w.sibling_village.id, w.sibling_coop.id}
    for text in ("汇总 桃源乡", "刘家岭村汇总", "汇总 taoyuanxiang", "汇总 刘家岭"):
        reply = await chat(client, headers, text)
        offered = [a["params"] for b in blocks(reply, "card") for a in b["actions"]]
        offered += [s["action"]["params"] for s in reply["suggestions"] if s.get("action")]
        assert not hidden & {p.get("unit_id") for p in offered}, text
        assert not [b for b in blocks(reply, "card") if b["title"].endswith("合作社汇总")], text
    by_button = await chat(client, headers, intent="summary", params={"unit_id": w.sibling.id})
    assert blocks(by_button, "notice") and "999" not in str(by_button)
    county = await chat(client, headers, intent="summary", params={"unit_id": w.county.id})
    assert not blocks(county, "card")  # the county is above the actor: outside scope too
    own = await chat(client, headers, "汇总")
    assert "刘家岭" not in str(own) and "桃源乡" not in str(own) and "7777" not in str(own)
    response = await client.get("/api/coops/summary", headers=headers, params={"unit_id": w.sibling.id})
    assert response.status_code == 404
    county_viewer = await login_at(client, "county_all", w.county, Role.VIEWER, FinanceAccess.ALL)
    whole = (await client.get("/api/coops/summary", headers=county_viewer)).json()
    assert whole["unit"]["coops"] == 4 and {c["name"] for c in whole["children"]} == {"白沙镇", "桃源乡"}


@pytest.mark.parametrize(
    "text",
    [
        "白沙镇和桃源乡的汇总",
        "汇总 白沙镇、桃源乡",
        "对比白沙镇和桃源乡",
        "比较一下白沙镇与桃源乡的汇总",
        "白沙镇跟桃源乡比一比",
        "白沙镇比桃源乡多几个合作社",
    ],
)
async def test_several_units_named_are_compared_side_by_side(client, text):
    """ "白沙镇和李家镇的汇总" looked for one unit named so ("没有找到")."""
    w = await make_world()
    headers = await login_at(client, "county_all", w.county, Role.VIEWER, FinanceAccess.ALL)
    reply = await chat(client, headers, text)
    table = blocks(reply, "table")[0]
    assert table["title"] == "合作社汇总对比" and table["columns"][0] == "单位", text
    assert [row[:2] for row in table["rows"]] == [["白沙镇", "3"], ["桃源乡", "1"]], text
    assert [row[4] for row in table["rows"]] == ["480", "999"]
    assert [a["params"]["unit_id"] for a in table["row_actions"]] == [w.town.id, w.sibling.id]
    assert blocks(reply, "chart")[0]["labels"] == ["白沙镇", "桃源乡"]
    follow = await chat(client, headers, "王家湾村呢")  # the question asked again of one unit
    assert blocks(follow, "card")[0]["title"] == "王家湾村合作社汇总"


async def test_a_comparison_keeps_to_scope_and_masks_money_as_a_summary_does(client):
    w = await make_world()
    town = await login_at(client, "town_none", w.town, Role.VIEWER, FinanceAccess.NONE)
    reply = await chat(client, town, "白沙镇和桃源乡的汇总")
    assert not blocks(reply, "table") and "桃源乡" in blocks(reply, "notice")[0]["text"]
    assert "999" not in str(reply)
    villages = blocks(await chat(client, town, "王家湾村和李家坪村的汇总"), "table")[0]
    assert [(row[0], row[5]) for row in villages["rows"]] == [("王家湾村", NO), ("李家坪村", NO)]
    missing = await chat(client, town, "王家湾村和李家镇的汇总")
    assert "“李家镇”" in blocks(missing, "notice")[0]["text"] and not blocks(missing, "table")


async def test_a_unit_whose_name_holds_and_is_summed_alone(client):
    w = await make_world()
    peace = await make_unit("和平村", UnitType.VILLAGE, w.town)
    await coop_card(await make_unit("和平村综合社", UnitType.COOP, peace), members=5)
    headers = await login_at(client, "town_viewer", w.town)
    assert blocks(await chat(client, headers, "和平村汇总"), "card")[0]["title"] == "和平村合作社汇总"
    offered = blocks(await chat(client, headers, "白沙镇和平村的汇总"), "card")[0]  # not 白沙镇 and 平村
    assert offered["title"] == "请选择单位" and "和平村（白沙镇）" in [a["label"] for a in offered["actions"]]
    same = await chat(client, headers, "王家湾村和wangjiawancun的汇总")  # one unit named twice
    assert blocks(same, "card")[0]["title"] == "王家湾村合作社汇总"


async def test_finance_in_summaries_none_all_and_own_region(client):
    w = await make_world()

    async def summary(username, finance, **params):
        headers = await login_at(client, username, w.town, Role.VIEWER, finance)
        return (await client.get("/api/coops/summary", headers=headers, params=params)).json()

    none = await summary("none", FinanceAccess.NONE)
    assert none["unit"]["assets"] == NO and all(c["assets"] == NO for c in none["children"])
    everything = await summary("all", FinanceAccess.ALL)
    assert everything["unit"]["assets"] == "643.46" and everything["money_unit"] == "万元"
    assert {c["name"]: c["assets"] for c in everything["children"]} == {"王家湾村": "143.46", "白沙镇供销社": "500.00"}
    # own_region: the township's total holds its villages' co-ops, whose cards it may not see, so
    # it is masked too (643.46 - 500.00 shown on the township's own co-op would give them away)
    own = await summary("own", FinanceAccess.OWN_REGION)
    assert own["unit"]["assets"] == NO and not own["unit"]["money_visible"] and own["unit"]["coops"] == 3
    assert all(c["assets"] == NO and not c["money_visible"] for c in own["children"])
    below = await summary("own2", FinanceAccess.OWN_REGION, unit_id=w.village.id)
    assert below["unit"]["assets"] == NO and below["unit"]["coops"] == 2  # counts stay visible
    by_name = await summary("own3", FinanceAccess.OWN_REGION, name="王家湾村")
    assert by_name["unit"]["unit_id"] == w.village.id
    village = await login_at(client, "own_village", w.village, Role.VIEWER, FinanceAccess.OWN_REGION)
    reply = await chat(client, village, "汇总")  # every co-op counted is in the village's own region
    assert fields(blocks(reply, "card")[0])["资产总额"] == "143.46 万元"
    town = await login_at(client, "own4", w.town, Role.VIEWER, FinanceAccess.OWN_REGION)
    # a co-op's own account is no region: its card's money is masked, so is its summary's
    tea = await login_at(client, "own_tea", w.tea, Role.VIEWER, FinanceAccess.OWN_REGION)
    assert (await client.get(f"/api/coops/{w.tea.id}", headers=tea)).json()["assets"] == NO
    assert (await client.get("/api/coops/summary", headers=tea)).json()["unit"]["assets"] == NO
    assert fields(blocks(await chat(client, tea, "汇总"), "card")[0])["资产总额"] == NO
    for headers, visible in ((village, True), (town, False), (tea, False)):
        stats = (await client.get("/api/coops/stats", headers=headers)).json()
        assert stats["totals"]["money_visible"] is visible and (stats["avg_assets"] == NO) is not visible


async def test_the_summary_reads_the_rollup_rows_not_the_cards(client):
    w = await make_world()
    await CoopRollup.filter(unit_id=w.town.id).update(coops=42)
    await CoopRollup.filter(unit_id=w.village.id).update(benchmark=7)
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, "汇总")
    assert fields(blocks(reply, "card")[0])["合作社"] == "42 个"
    assert rows_by_name(blocks(reply, "table")[0])["王家湾村"][3] == "7"


async def test_the_two_rollup_reads_of_a_summary_go_out_together(monkeypatch):
    w = await make_world()
    fetch = db.fetch
    started: list[str] = []
    both_sent = asyncio.Event()

    async def held(sql: str, values: list) -> list:
        started.append(sql)
        if len(started) == 2:
            both_sent.set()
        await asyncio.wait_for(both_sent.wait(), timeout=5)  # each read waits until the other was sent
        return await fetch(sql, values)

    monkeypatch.setattr(db, "fetch", held)
    result = await queries.summary(actor_at(w.town), w.town)
    assert len(started) == 2
    assert result.figures.totals["coops"] == 3 and result.children[0].unit.name == "王家湾村"


def _held_unit_reads(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    """Hold every read of a unit by id until two roll-up reads have been sent (they would never be,
    were they sent only after it: the test then fails on the timeout). Returns the roll-up reads
    started and finished."""
    fetch = db.fetch
    started: list[str] = []
    finished: list[str] = []
    both_sent = asyncio.Event()

    async def held(sql: str, values: list) -> list:
        if "coop_rollup" in sql:
            started.append(sql)
            if len(started) == 2:
                both_sent.set()
            try:
                return await fetch(sql, values)
            finally:
                finished.append(sql)
        if sql.startswith("SELECT * FROM unit WHERE id = "):
            await asyncio.wait_for(both_sent.wait(), timeout=5)
        return await fetch(sql, values)

    monkeypatch.setattr(db, "fetch", held)
    intents.load()  # as the chat route does when it is imported
    return started, finished


@pytest.mark.parametrize("how", ["text", "button"])
async def test_the_rollup_reads_of_a_summary_by_id_go_out_with_the_units_read(monkeypatch, how):
    w = await make_world()
    started, finished = _held_unit_reads(monkeypatch)
    actor = actor_at(w.town, Role.VIEWER)
    if how == "text":
        reply = await service.handle(actor, text="汇总", action=None)
    else:
        action = {"intent": "summary", "params": {"unit_id": w.village.id}}
        reply = await service.handle(actor, text=None, action=action)
    card = reply.blocks[0]
    assert card.title == ("白沙镇合作社汇总" if how == "text" else "王家湾村合作社汇总")
    assert len(started) == len(finished) == 2


async def test_a_button_for_a_unit_outside_scope_refuses_and_its_early_reads_end_unused(monkeypatch):
    w = await make_world()
    started, finished = _held_unit_reads(monkeypatch)
    action = {"intent": "summary", "params": {"unit_id": w.sibling.id}}
    reply = await service.handle(actor_at(w.town, Role.VIEWER), text=None, action=action)
    assert reply.blocks[0].type == "notice" and "刘家岭" not in reply.model_dump_json()
    assert len(started) == len(finished) == 2  # sent early, ended before the answer, never shown


async def test_a_long_breakdown_is_cut_and_says_so(client, monkeypatch):
    w = await make_world()
    monkeypatch.setattr(queries, "MAX_CHILDREN", 1)
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, "汇总")
    assert [row[0] for row in blocks(reply, "table")[0]["rows"]] == ["王家湾村"]
    assert blocks(reply, "notice")
    assert (await client.get("/api/coops/summary", headers=headers)).json()["more_children"] is True


async def test_a_cut_breakdown_does_not_claim_its_rows_are_all(client, monkeypatch):
    """Cut at MAX_CHILDREN, the table said "共 1 条" (its total) above a notice that there are more."""
    w = await make_world()
    monkeypatch.setattr(queries, "MAX_CHILDREN", 1)
    headers = await login_at(client, "town_viewer", w.town)
    table = blocks(await chat(client, headers, "汇总"), "table")[0]
    assert len(table["rows"]) == 1 and table.get("total") is None


async def test_a_chart_of_only_the_first_children_says_so_in_its_title(client, monkeypatch):
    """The chart showed the first 15 child units under the title "各下级单位合作社数", as if it were all."""
    from backend.coops import chat as coops_chat

    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    assert blocks(await chat(client, headers, "汇总"), "chart")[0]["title"] == "各下级单位合作社数"
    monkeypatch.setattr(coops_chat, "CHART_BARS", 1)
    reply = await chat(client, headers, "汇总")
    chart = blocks(reply, "chart")[0]
    assert chart["labels"] == ["王家湾村"] and len(blocks(reply, "table")[0]["rows"]) == 2
    assert chart["title"] == "合作社最多的 1 个下级单位"


async def test_moving_a_unit_carries_its_rollup_to_the_new_ancestors(client):
    w = await make_world()
    admin = await login_at(client, "county_admin", w.county, Role.ADMIN, FinanceAccess.ALL)
    moved = await client.post(f"/api/units/{w.village.id}/move", headers=admin, json={"new_parent_id": w.sibling.id})
    assert moved.status_code == 200, moved.text
    assert await stored_rollups() == await expected_rollups()
    town = (await client.get("/api/coops/summary", headers=admin, params={"unit_id": w.town.id})).json()
    sibling = (await client.get("/api/coops/summary", headers=admin, params={"unit_id": w.sibling.id})).json()
    county = (await client.get("/api/coops/summary", headers=admin)).json()
    assert (town["unit"]["coops"], sibling["unit"]["coops"], county["unit"]["coops"]) == (1, 3, 4)
    coop_move = await client.post(f"/api/units/{w.tea.id}/move", headers=admin, json={"new_parent_id": w.town_coop.id})
    assert coop_move.status_code == 200 and await stored_rollups() == await expected_rollups()


def _random_fields(rng: random.Random, partial: bool) -> dict:
    every = {
        "members": rng.randint(0, 500),
        "staff": rng.randint(0, 50),
        "registered_capital": Decimal(rng.randint(0, 10**8)) / 1_000_000,
        "assets": Decimal(rng.randint(0, 10**9)) / 1_000_000,
        "revenue": Decimal(rng.randint(0, 10**9)) / 1_000_000,
        "profit": Decimal(rng.randint(-(10**7), 10**8)) / 1_000_000,
        "is_village_level": rng.random() < 0.5,
        "is_benchmark": rng.random() < 0.3,
        "in_poverty_county": rng.random() < 0.2,
    }
    if not partial:
        return every
    return {k: v for k, v in every.items() if rng.random() < 0.4}


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_rollups_equal_a_recomputation_after_random_writes_and_moves(seed):
    rng = random.Random(seed)
    county = await make_unit("青山县", UnitType.COUNTY, region_code="530101000000")
    root = actor_at(county)
    towns = [await make_unit(f"镇{t}", UnitType.TOWNSHIP, county) for t in range(3)]
    regions = list(towns)
    for town in towns:
        regions += [await make_unit(f"{town.name}村{v}", UnitType.VILLAGE, town) for v in range(3)]
    coops: list[Unit] = []
    with_card: set[int] = set()
    done: Counter[str] = Counter()
    for step in range(120):
        op = rng.choice(("unit", "create", "create", "update", "update", "delete", "move", "move_region"))
        if op == "unit" or not coops:
            parent = await Unit.get(id=rng.choice(regions + coops[:3]).id)  # paths change with moves
            coops.append(await make_unit(f"社{step}", UnitType.COOP, parent))
        elif op == "create" and len(with_card) < len(coops):
            unit = rng.choice([c for c in coops if c.id not in with_card])
            await actions.create_card(root, unit_id=unit.id, fields=_random_fields(rng, False))
            with_card.add(unit.id)
            done[op] += 1
        elif op in ("update", "delete") and with_card:
            unit_id = rng.choice(sorted(with_card))
            if op == "update":
                await actions.update_card(root, unit_id, _random_fields(rng, True))
            else:
                await actions.delete_card(root, unit_id)
                with_card.discard(unit_id)
            done[op] += 1
        elif op == "move":
            unit = await Unit.get(id=rng.choice(coops).id)
            target = await Unit.get(id=rng.choice(regions + coops).id)
            if not target.path.startswith(unit.path) and target.id != unit.parent_id:
                await unit_actions.move_unit(root, unit.id, new_parent_id=target.id)
                done[op] += 1
        elif op == "move_region":
            village = await Unit.get(id=rng.choice(regions[3:]).id)
            town = rng.choice([t for t in towns if t.id != village.parent_id])
            await unit_actions.move_unit(root, village.id, new_parent_id=town.id)
            done[op] += 1
        if step % 10 == 9:
            assert await stored_rollups() == await expected_rollups(), f"step {step} ({op})"
    assert await stored_rollups() == await expected_rollups()
    assert (await rollups.check(repair=False)).drifted == 0
    assert await CoopCard.all().count() == len(with_card)
    assert min(done[op] for op in ("create", "update", "delete", "move", "move_region")) >= 3, done


async def test_concurrent_card_writes_and_moves_leave_no_drift():
    """On PostgreSQL these run in parallel transactions: row locks, not luck, keep the sums right."""
    w = await make_world()
    root = actor_at(w.county)
    rng = random.Random(7)
    parents = [w.village, w.village2, w.town]
    extra = [await make_unit(f"并发社{n}", UnitType.COOP, rng.choice(parents)) for n in range(6)]
    for unit in extra:
        await actions.create_card(root, unit_id=unit.id, fields=_random_fields(rng, False))
    coops = [w.town_coop, w.tea, w.veg, *extra]
    writes = [actions.update_card(root, rng.choice(coops).id, _random_fields(rng, True)) for _ in range(40)]
    moves = [
        unit_actions.move_unit(root, w.village2.id, new_parent_id=w.sibling.id),
        unit_actions.move_unit(root, w.veg.id, new_parent_id=w.town.id),
    ]
    jobs = writes + moves
    rng.shuffle(jobs)
    await asyncio.gather(*jobs)
    assert await stored_rollups() == await expected_rollups()


async def test_the_check_job_reports_and_repairs_deliberately_corrupted_rows(client):
    w = await make_world()
    good = await stored_rollups()
    await CoopRollup.filter(unit_id=w.town.id).update(coops=99, assets_fen=1)
    await CoopRollup.filter(unit_id=w.village.id).delete()
    await db.execute(
        "INSERT INTO coop_rollup (unit_id, coops, village_level, benchmark, poverty_county, members, staff, "
        "registered_capital_fen, assets_fen, revenue_fen, profit_fen, updated_at) "
        "VALUES (?, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, ?)",
        [w.village2.id, (await CoopRollup.first()).updated_at],  # type: ignore[union-attr]
    )
    found = await rollups.check(repair=False)
    assert (found.missing, found.wrong, found.repaired) == (1, 2, False)
    assert set(found.sample) == {w.town.id, w.village.id, w.village2.id}
    assert await stored_rollups() != good  # a check alone changes nothing
    report = await coop_rollups_check({})
    assert report["drifted"] == 3 and report["repaired"] is True
    assert await stored_rollups() == good == await expected_rollups()
    again = await coop_rollups_check({})
    assert again["drifted"] == 0 and again["repaired"] is False
    headers = await login_at(client, "town_viewer", w.town)
    assert fields(blocks(await chat(client, headers, "汇总"), "card")[0])["合作社"] == "3 个"


async def test_a_check_alone_reports_no_drift_for_a_card_written_while_it_reads(client, monkeypatch, settings):
    """Between the check's recomputation and its read of the stored rows, another connection
    changes a card and its roll-ups together (as every write does): that is no drift."""
    w = await make_world()
    recompute = rollups.recompute
    ancestors = [w.county.id, w.town.id, w.village.id, w.tea.id]

    async def write_elsewhere() -> None:
        marks = ",".join("?" * len(ancestors))
        statements = [
            ("UPDATE coop_card SET members = members + 5 WHERE unit_id = ?", [w.tea.id]),
            (f"UPDATE coop_rollup SET members = members + 5 WHERE unit_id IN ({marks})", ancestors),
        ]
        if settings.dialect == "postgres":
            import asyncpg

            connection = await asyncpg.connect(settings.database_url)
            try:
                async with connection.transaction():
                    for sql, params in statements:
                        await connection.execute(db.numbered(sql), *params)
            finally:
                await connection.close()
        else:
            import sqlite3

            connection = sqlite3.connect(settings.database_url.removeprefix("sqlite://"), timeout=5)
            with connection:
                for sql, params in statements:
                    connection.execute(sql, params)
            connection.close()

    async def recompute_then_someone_writes() -> dict:
        expected = await recompute()
        await write_elsewhere()
        return expected

    monkeypatch.setattr(rollups, "recompute", recompute_then_someone_writes)
    report = await rollups.check(repair=False)
    assert (report.missing, report.wrong) == (0, 0)
    monkeypatch.setattr(rollups, "recompute", recompute)
    assert await stored_rollups() == await expected_rollups()  # the write is in, and consistent


async def test_rebuild_fills_an_empty_rollup_table(client):
    await make_world()
    expected = await expected_rollups()
    await CoopRollup.all().delete()
    report = await rollups.rebuild()
    assert report.missing == len(expected) and await stored_rollups() == expected


def test_the_check_runs_nightly_in_the_worker():
    from jobs.worker import FUNCTIONS, cron_jobs

    assert "coop_rollups_check" in {f.name for f in FUNCTIONS}
    job = next(c for c in cron_jobs() if c.name == "cron:coop_rollups_check")
    assert job.hour == {3} and job.minute == {17}


def test_the_nightly_check_runs_at_night_in_china_on_a_server_keeping_utc(monkeypatch, settings):
    """arq reads cron hours in the system time zone: on a server kept in UTC (containers are) the
    03:17 check, which holds card writers back on PostgreSQL, ran at 11:17 in China."""
    from backend.core.clock import CHINA_TIME
    from jobs.worker import WorkerSettings, build

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        worker = build(settings, embedded=True, burst=True)
        job = next(c for c in worker.cron_jobs if c.name == "cron:coop_rollups_check")
        job.calculate_next(datetime.now(tz=worker.timezone))
        assert (job.next_run.astimezone(CHINA_TIME).hour, job.next_run.minute) == (3, 17)
        assert WorkerSettings.timezone == worker.timezone
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_command_line_rebuilds_the_rollups(tmp_path: Path):
    env = {**os.environ, "APP_ENV": "test", "VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite://{tmp_path}/c.db"}
    env.pop("REDIS_URL", None)
    root = Path(__file__).resolve().parent.parent
    run = [sys.executable, "-m", "backend"]
    assert subprocess.run([*run, "migrate"], env=env, cwd=root, capture_output=True).returncode == 0
    done = subprocess.run([*run, "coops", "rebuild-rollups"], env=env, cwd=root, capture_output=True, text=True)
    assert done.returncode == 0 and "'drifted': 0" in done.stdout
    check = subprocess.run(
        [*run, "coops", "rebuild-rollups", "--check-only"], env=env, cwd=root, capture_output=True, text=True
    )
    assert check.returncode == 0


async def test_the_summary_api_names_its_own_parameter_in_errors(client):
    """It takes unit_id and name; its errors named \"region\", which no form of it has."""
    w = await make_world()
    await make_unit("王家湾村", UnitType.VILLAGE, w.town)  # a namesake
    headers = await login_at(client, "town_viewer", w.town)
    both = await client.get("/api/coops/summary", headers=headers, params={"unit_id": w.town.id, "name": "白沙镇"})
    assert both.status_code == 422 and set(both.json()["error"]["fields"]) == {"name"}
    namesakes = await client.get("/api/coops/summary", headers=headers, params={"name": "王家湾村"})
    assert namesakes.status_code == 409 and set(namesakes.json()["error"]["fields"]) == {"name"}


async def test_here_after_a_co_op_list_means_the_region_listed(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    await chat(client, headers, "汇总 李家坪村")
    assert (await chat(client, headers, "王家湾村的标杆社"))["context"] == "王家湾村"
    here = await chat(client, headers, "这里的统计")
    assert blocks(here, "card")[0]["title"].startswith("王家湾村")


async def test_a_breakdown_row_opens_a_card_only_for_a_co_op_that_has_one(client):
    w = await make_world()
    parent = await make_unit("李家坪村联合社", UnitType.COOP, w.village2)  # no card of its own
    await coop_card(await make_unit("李家坪村联合社一分社", UnitType.COOP, parent), members=5)
    headers = await login_at(client, "village_viewer", w.village2)
    table = blocks(await chat(client, headers, "汇总"), "table")[0]
    action = table["row_actions"][[row[0] for row in table["rows"]].index("李家坪村联合社")]
    assert action["intent"] == "summary"
    opened = await chat(client, headers, intent=action["intent"], params=action["params"])
    assert not blocks(opened, "notice") or blocks(opened, "notice")[0]["level"] != "warning"


async def test_more_namesakes_than_buttons_says_so(client):
    w = await make_world()
    for _ in range(11):
        await make_unit("王家湾村", UnitType.VILLAGE, w.sibling)
    headers = await login_at(client, "county_viewer", w.county)
    card = blocks(await chat(client, headers, "王家湾村的标杆社"), "card")[0]
    assert len(card["actions"]) == 10 and "超过 10 个" in card["subtitle"]
    assert {a["intent"] for a in card["actions"]} == {"coop.benchmark"}


def first_title(reply: dict) -> str | None:
    """The title of the answer's first card, table or map."""
    titled = [b for b in reply["blocks"] if b["type"] in ("card", "table", "map")]
    return titled[0]["title"] if titled else None


@pytest.mark.parametrize(
    ("first", "then", "title"),
    [
        ("汇总", "王家湾村呢", "王家湾村合作社汇总"),
        ("汇总", "那王家湾村呢", "王家湾村合作社汇总"),
        ("汇总", "王家湾村的呢？", "王家湾村合作社汇总"),
        ("统计", "王家湾村呢", "王家湾村合作社统计指标"),
        ("地图", "那王家湾村的呢", "王家湾村合作社分布"),
        ("村级社", "王家湾村呢", "王家湾村的村级社"),
        ("合作社列表", "王家湾村呢", "王家湾村的合作社"),
        ("下级单位", "王家湾村呢", "王家湾村的下级单位"),
        ("白沙镇的人员", "王家湾村呢", "王家湾村的人员"),
        ("王家湾村茶叶专业合作社的信息卡", "王家湾村果蔬合作社呢", "王家湾村果蔬合作社"),
        ("王家湾村", "汇总呢", "王家湾村合作社汇总"),
        ("王家湾村", "统计呢", "王家湾村合作社统计指标"),
        ("王家湾村", "白沙镇呢", "白沙镇"),  # after a unit card: that unit's card
    ],
)
async def test_a_follow_up_asks_the_last_question_again_about_another_unit(client, first, then, title):
    """ "李家坪村呢" after a summary was looked up as a name ("李家坪村呢") and found nothing."""
    w = await make_world()
    headers = await login_at(client, "town_admin", w.town, Role.ADMIN, FinanceAccess.ALL)
    await make_account("village_clerk", w.village, Role.CLERK)  # 王家湾村 has people to list
    await chat(client, headers, first)
    reply = await chat(client, headers, then)
    assert first_title(reply) == title, reply


async def test_a_follow_up_after_a_follow_up_keeps_asking_the_same_question(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    await chat(client, headers, "统计")
    assert first_title(await chat(client, headers, "王家湾村呢")) == "王家湾村合作社统计指标"
    assert first_title(await chat(client, headers, "白沙镇供销社呢")) == "白沙镇供销社统计指标"
    assert first_title(await chat(client, headers, "汇总呢")) == "白沙镇供销社汇总"


async def test_a_follow_up_without_a_question_before_it_looks_the_name_up(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    assert first_title(await chat(client, headers, "王家湾村呢")) == "王家湾村"
    assert first_title(await chat(client, headers, "汇总呢")) == "王家湾村合作社汇总"  # the unit just shown


async def test_a_follow_up_with_nothing_shown_yet_asks_about_the_own_unit(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    assert first_title(await chat(client, headers, "汇总呢")) == "白沙镇合作社汇总"


async def test_a_follow_up_naming_a_person_after_a_summary_finds_the_person(client):
    w = await make_world()
    headers = await login_at(client, "town_admin", w.town, Role.ADMIN)
    await make_account("wjg", w.village, Role.CLERK)
    await chat(client, headers, "汇总")
    assert first_title(await chat(client, headers, "测试wjg呢")) == "测试wjg"


async def test_a_follow_up_after_a_person_card_asks_about_the_other_person(client):
    """After a person card the question was about a person, not the summary asked before it."""
    w = await make_world()
    headers = await login_at(client, "town_admin", w.town, Role.ADMIN)
    await make_account("wjg", w.village, Role.CLERK)
    await chat(client, headers, "汇总")
    assert first_title(await chat(client, headers, "测试wjg")) == "测试wjg"
    assert first_title(await chat(client, headers, "王家湾村呢")) == "王家湾村"


@pytest.mark.parametrize("text", ["还有呢", "后面呢"])
async def test_asking_what_else_still_pages_the_table(client, text):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    await chat(client, headers, "下级单位")
    assert blocks(await chat(client, headers, text), "notice")  # nothing more: a page, not a name


@pytest.mark.parametrize(
    ("at", "text", "title"),
    [
        ("town", "各村汇总", "白沙镇合作社汇总"),
        ("town", "各村情况", "白沙镇合作社汇总"),
        ("town", "各村的情况", "白沙镇合作社汇总"),
        ("town", "本镇各村汇总", "白沙镇合作社汇总"),
        ("county", "各乡镇汇总", "青山县合作社汇总"),
        ("county", "青山县各乡镇汇总", "青山县合作社汇总"),
        ("county", "白沙镇的各村情况", "白沙镇合作社汇总"),
        ("county", "白沙镇各村汇总", "白沙镇合作社汇总"),
        ("county", "各乡镇社员数", "青山县合作社汇总"),  # its breakdown holds each one's members
        ("town", "各村资产总额", "白沙镇合作社汇总"),
    ],
)
async def test_each_village_s_figures_are_the_summary_of_the_unit_above_them(client, at, text, title):
    """ "各村汇总" answered that no unit was named "各村"; "各村情况" was looked up as a name."""
    w = await make_world()
    headers = await login_at(client, "viewer", getattr(w, at))
    reply = await chat(client, headers, text)
    assert first_title(reply) == title, reply


@pytest.mark.parametrize(
    ("at", "text", "title", "period"),
    [
        ("town", "各村去年汇总", "白沙镇合作社汇总", "去年"),
        ("town", "各村今年的汇总", "白沙镇合作社汇总", "今年"),
        ("county", "各镇2025年汇总", "青山县合作社汇总", "2025年"),
        ("county", "白沙镇各村去年的情况", "白沙镇合作社汇总", "去年"),
        ("town", "各村3月份资产总额", "白沙镇合作社汇总", "3月份"),
    ],
)
async def test_a_time_after_each_village_is_the_summary_with_the_period_note(client, at, text, title, period):
    """ "各村去年汇总" was looked up as a unit named "各村去年": a time after 各村 reads as one before
    it ("去年各村汇总"), the summary with a word that figures are not kept by period."""
    w = await make_world()
    headers = await login_at(client, "viewer", getattr(w, at))
    reply = await chat(client, headers, text)
    assert first_title(reply) == title, reply
    assert blocks(reply, "notice")[0]["text"] == msg.PERIOD_NOT_KEPT.format(period=period)


@pytest.mark.parametrize(
    ("text", "title", "what", "level", "ask"),
    [
        ("本镇汇总", "青山县合作社汇总", "汇总", "乡镇", "汇总 白沙镇"),
        ("我们镇的汇总", "青山县合作社汇总", "汇总", "乡镇", "汇总 白沙镇"),
        ("全乡汇总", "青山县合作社汇总", "汇总", "乡镇", "汇总 白沙镇"),
        ("本村汇总", "青山县合作社汇总", "汇总", "村", "汇总 王家湾村"),
        ("本乡的合作社", "青山县的合作社", "合作社", "乡镇", "白沙镇的合作社"),
        ("我们镇的村级社", "青山县的村级社", "村级社", "乡镇", "白沙镇的村级社"),
        ("本镇统计", "青山县合作社统计指标", "统计指标", "乡镇", "白沙镇统计指标"),
        ("本镇地图", "青山县合作社分布", "合作社分布", "乡镇", "地图 白沙镇"),
    ],
)
async def test_a_place_word_below_the_own_level_answers_the_own_unit_and_says_how_to_ask_for_one(
    client, text, title, what, level, ask
):
    """ "本镇汇总" typed by a county's cadre answered the county's figures as if it were a township,
    without a word: the answer stays the own unit's and says it is a county and how to ask for one."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    reply = await chat(client, headers, text)
    assert first_title(reply) == title, reply
    said = msg.OWN_LEVEL_BELOW.format(unit="青山县", type="县", level=level, what=what, ask=ask)
    assert blocks(reply, "notice")[0]["text"] == said


@pytest.mark.parametrize("text", ["全县的合作社", "本县统计"])
async def test_a_place_word_above_the_own_level_says_the_scope_in_lists_and_statistics_too(client, text):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    notices = [b["text"] for b in blocks(await chat(client, headers, text), "notice")]
    assert notices and notices[0].startswith("您的查看范围是白沙镇"), notices


@pytest.mark.parametrize("text", ["本镇汇总", "本乡的合作社", "我们镇的统计", "汇总", "本县汇总"])
async def test_the_own_level_named_says_nothing_extra(client, text):
    """No note of levels or scope; the township's own answers name its co-op with no card yet."""
    w = await make_world()
    headers = await login_at(client, "viewer", w.county if "县" in text else w.town)
    notices = [b["text"] for b in blocks(await chat(client, headers, text), "notice")]
    assert all("还没有建立信息卡" in notice for notice in notices), notices


async def test_each_village_s_summary_is_of_the_own_unit_even_after_another_unit_was_shown(client):
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    await chat(client, headers, "白沙镇")
    assert first_title(await chat(client, headers, "这个镇各村汇总")) == "白沙镇合作社汇总"
    assert first_title(await chat(client, headers, "各乡镇汇总")) == "青山县合作社汇总"


async def test_a_village_whose_name_holds_each_is_still_that_village(client):
    w = await make_world()
    await make_unit("罗各村", UnitType.VILLAGE, w.town)
    headers = await login_at(client, "town_viewer", w.town)
    assert blocks(await chat(client, headers, "罗各村汇总"), "notice")[0]["text"] == "罗各村暂无合作社信息卡。"


@pytest.mark.parametrize("text", ["白沙镇的村", "白沙镇的村有哪些", "白沙镇的村都有哪些", "本镇的村"])
async def test_a_township_s_villages_are_listed_not_summed(client, text):
    w = await make_world()
    headers = await login_at(client, "viewer", w.town if text.startswith("本镇") else w.county)
    reply = await chat(client, headers, text)
    assert first_title(reply) == "白沙镇的村", reply


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("530101001001汇总", "王家湾村合作社汇总"),
        ("汇总 530101001001", "王家湾村合作社汇总"),
        ("530101001001的汇总", "王家湾村合作社汇总"),
        ("530101001001的统计", "王家湾村合作社统计指标"),
        ("统计 530101001001", "王家湾村合作社统计指标"),
        ("530101001001地图", "王家湾村合作社分布"),
        ("530101001001的下级单位", "王家湾村的下级单位"),
        ("530101001001", "王家湾村"),  # the code alone: the unit's card, as before
        ("查530101001001", "王家湾村"),
    ],
)
async def test_a_region_code_with_a_summary_word_answers_that_for_the_unit_so_coded(client, text, title):
    """ "530101001001汇总" showed the unit's card: the code was recognised before the question."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, text)
    assert first_title(reply) == title, reply


async def test_a_region_code_outside_the_scope_with_a_summary_word_is_not_found(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, "530101002001汇总")  # 刘家岭村, in the sibling township
    assert first_title(reply) is None and "刘家岭" not in str(reply)
    assert blocks(reply, "notice")


async def test_a_follow_up_reads_the_conversation_once_and_writes_it_once(client, monkeypatch):
    from backend.core import runtime

    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    await chat(client, headers, "王家湾村")
    redis = runtime.get().redis
    sent: list[str] = []
    for command in ("hmget", "hget", "eval"):
        original = getattr(redis, command)

        def counting(*args, _original=original, _command=command, **kwargs):
            sent.append(_command)
            return _original(*args, **kwargs)

        monkeypatch.setattr(redis, command, counting)
    reply = await chat(client, headers, "汇总呢")
    assert first_title(reply) == "王家湾村合作社汇总"
    assert sent.count("hmget") + sent.count("hget") == 1 and sent.count("eval") == 1, sent


async def test_a_summary_with_every_amount_masked_names_no_unit_of_money(client):
    """A viewer without finance access read "金额单位：万元" above a card whose amounts all said 无权限."""
    w = await make_world()
    none = await login_at(client, "town_none", w.town, Role.VIEWER, FinanceAccess.NONE)
    for text in ("汇总", "统计"):
        card = blocks(await chat(client, none, text), "card")[0]
        assert NO in str(card["fields"]) and not card.get("subtitle"), text
    rich = await login_at(client, "town_all", w.town, Role.VIEWER, FinanceAccess.ALL)
    assert blocks(await chat(client, rich, "汇总"), "card")[0]["subtitle"] == "金额单位：万元"
