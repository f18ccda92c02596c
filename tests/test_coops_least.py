"""Rankings the other way round: "社员最少的合作社", "利润最低的合作社", "哪个乡镇合作社最少" were looked
up as names (only "最多" / "最高" ranked)."""

from __future__ import annotations

import pytest

from backend.chat import intents, parser
from backend.core.roles import FinanceAccess
from tests.coops_helpers import blocks, chat, login_at, make_world


@pytest.mark.parametrize(
    ("text", "intent", "params"),
    [
        ("社员最少的合作社", "coop.top", {"field": "社员", "least": "最少"}),
        ("哪个合作社利润最低", "coop.top", {"field": "利润", "least": "最低"}),
        ("哪个乡镇合作社最少", "coop.units_most", {"level": "乡镇", "least": "最少"}),
        ("合作社最少的村", "coop.units_most", {"level": "村", "least": "最少"}),
        (
            "青山县哪个村社员最少",
            "coop.units_most",
            {"region": "青山县", "level": "村", "field": "社员", "least": "最少"},
        ),
        ("标杆社最少的乡镇", "coop.units_most", {"field": "标杆社", "level": "乡镇", "least": "最少"}),
        ("社员最多的合作社", "coop.top", {"field": "社员"}),
    ],
)
def test_least_is_asked_in_the_words_of_most(text, intent, params):
    intents.load()
    assert parser.parse(text) == parser.Parsed(intent, params)


async def test_the_co_ops_with_the_fewest_members_come_first(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    for text in ("社员最少的合作社", "哪个合作社社员最少"):
        table = blocks(await chat(client, headers, text), "table")[0]
        assert table["title"] == "白沙镇社员最少的合作社" and table["columns"][2] == "社员数", text
        assert [(row[0], row[2]) for row in table["rows"]] == [
            ("王家湾村果蔬合作社", "60"),
            ("王家湾村茶叶专业合作社", "120"),
            ("白沙镇供销社", "300"),
        ], text
    refused = await chat(client, headers, "利润最低的合作社")  # money: finance `all` only, as "最高"
    assert not blocks(refused, "table") and "金额" in blocks(refused, "notice")[0]["text"]
    rich = await login_at(client, "town_all", w.town, finance=FinanceAccess.ALL)
    profit = blocks(await chat(client, rich, "利润最低的合作社"), "table")[0]
    assert profit["title"] == "白沙镇利润最低的合作社"
    assert [row[2] for row in profit["rows"]] == ["-1.50", "2.00", "12.50"]


async def test_the_units_with_the_fewest_co_ops_come_first_and_those_with_none_are_counted(client):
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    towns = await chat(client, headers, "哪个乡镇合作社最少")
    table = blocks(towns, "table")[0]
    assert table["title"] == "青山县合作社最少的乡镇"
    assert [(row[0], row[2]) for row in table["rows"]] == [("桃源乡", "1"), ("白沙镇", "3")]
    assert not blocks(towns, "notice")  # every township has co-ops
    villages = await chat(client, headers, "合作社最少的村")
    assert [(row[0], row[2]) for row in blocks(villages, "table")[0]["rows"]] == [("刘家岭村", "1"), ("王家湾村", "2")]
    [none] = blocks(villages, "notice")
    assert "1 个村还没有合作社信息卡" in none["text"] and "哪些村没有合作社" in none["text"]
    again = await chat(client, headers, "白沙镇呢")  # the follow-up keeps the order
    assert blocks(again, "table")[0]["title"] == "白沙镇合作社最少的村"
    least = {"region_id": w.town.id, "level": "village", "field": "coops", "least": True}
    tapped = await chat(client, headers, intent="coop.units_most", params=least)
    assert blocks(tapped, "table")[0]["title"] == "白沙镇合作社最少的村"


async def test_which_one_is_answered_in_a_sentence_before_the_ranking(client):
    """ "社员最多的合作社是哪个" got ten rows and no word of which one."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    for text, said in (
        ("社员最多的合作社是哪个", "青山县社员最多的合作社是刘家岭村茶叶合作社（社员数 999）。"),
        ("哪个乡镇合作社最多", "青山县合作社最多的乡镇是白沙镇（合作社 3）。"),
        ("哪个村合作社最少", "青山县合作社最少的村是刘家岭村（合作社 1）。"),
    ):
        reply = await chat(client, headers, text)
        assert reply["blocks"][0] == {"type": "text", "text": said}, text
        assert blocks(reply, "table"), text
    listed = await chat(client, headers, "社员最多的合作社")  # a list asked for: no sentence
    assert reply["blocks"][0]["type"] == "text" and listed["blocks"][0]["type"] == "table"


async def test_the_units_with_the_fewest_of_a_kind_start_with_those_that_have_none_of_it(client):
    """ "标杆社最少的乡镇" left out a township of nine co-ops and no benchmark one: the fewest of a kind
    only ranked units with at least one of it, so the answer named the wrong township."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    least = {"region_id": w.county.id, "level": "township", "field": "poverty_county", "least": True}
    table = blocks(await chat(client, headers, intent="coop.units_most", params=least), "table")[0]
    assert [(row[0], row[2]) for row in table["rows"]] == [("白沙镇", "0"), ("桃源乡", "1")]
    most = {**least, "least": False}
    assert [
        row[0] for row in blocks(await chat(client, headers, intent="coop.units_most", params=most), "table")[0]["rows"]
    ] == ["桃源乡"]
    villages = await chat(client, headers, intent="coop.units_most", params={**least, "level": "village"})
    assert [(row[0], row[2]) for row in blocks(villages, "table")[0]["rows"]] == [("王家湾村", "0"), ("刘家岭村", "1")]
    [none] = blocks(villages, "notice")  # 李家坪村 has no co-op card at all
    assert "1 个村还没有合作社信息卡" in none["text"]
