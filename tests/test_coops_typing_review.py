"""A typing review of the co-op questions in the running demo: card fields asked right after a co-op's
card, "信息卡" typed, rankings narrowed to their first places, money in words, colloquial lists,
threshold lists in the order of their figure, and the co-ops a map cannot pin."""

from __future__ import annotations

import pytest

from backend.core.roles import FinanceAccess, Role
from backend.units.models import UnitType
from tests.coops_helpers import blocks, chat, coop_card, login_at, make_world
from tests.factories import make_unit


def _card(reply: dict) -> tuple[str, str]:
    [card] = blocks(reply, "card")
    return card["title"], card["subtitle"]


def _not_found(reply: dict) -> bool:
    return "没有找到" in str(reply) or "没有单位正好叫" in str(reply)


# ---- 1. card fields asked with no name right after a co-op's card ---------------------------------


@pytest.mark.parametrize(
    "text",
    ["联系电话", "联系人电话", "地址", "电话多少", "负责人是谁", "成立时间", "哪年成立的", "经营范围", "联系人"],
)
async def test_a_card_field_asked_with_no_name_right_after_a_co_ops_card_is_about_that_co_op(client, text):
    """ "联系电话" after 白沙镇供销社's card answered "没有找到名为“联系”的单位"; "地址", "负责人是谁"... the same."""
    w = await make_world()
    headers = await login_at(client, "town_clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    await chat(client, headers, intent="coop.card", params={"unit_id": w.town_coop.id})
    reply = await chat(client, headers, text)
    assert _card(reply) == (w.town_coop.name, "信息卡"), reply


async def test_a_card_field_asked_with_no_name_and_no_co_op_shown_is_about_the_own_unit(client):
    w = await make_world()
    coop_account = await login_at(client, "tea_itself", w.tea, Role.VIEWER)
    assert _card(await chat(client, coop_account, "联系电话")) == (w.tea.name, "信息卡")
    town = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, town, "联系电话")  # the own township: its unit card, no "没有找到"
    assert not _not_found(reply) and blocks(reply, "card")[0]["title"] == "白沙镇", reply


# ---- 2. "信息卡" typed after a co-op's card ------------------------------------------------------


@pytest.mark.parametrize("text", ["信息卡", "查看信息卡"])
async def test_the_info_card_typed_right_after_a_co_ops_card_opens_that_co_ops(client, text):
    """ "信息卡" (the card's own button label) after 白沙镇供销社 answered "“白沙镇”不是合作社"."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    await chat(client, headers, w.town_coop.name)
    assert _card(await chat(client, headers, text)) == (w.town_coop.name, "信息卡")


# ---- 3. rankings narrowed to their first places --------------------------------------------------


async def _more_villages(w) -> None:
    for number, members in ((1, 10), (2, 20), (3, 30)):
        village = await make_unit(f"新{number}村", UnitType.VILLAGE, w.town)
        await coop_card(await make_unit(f"新{number}村合作社", UnitType.COOP, village), members=members)


async def test_first_places_typed_after_a_ranking_narrow_that_ranking(client):
    """ "前5名" and "只看前三" after "社员最多的合作社" answered "没有找到"."""
    w = await make_world()
    await _more_villages(w)
    headers = await login_at(client, "county_viewer", w.county)
    first = blocks(await chat(client, headers, "社员最多的合作社"), "table")[0]
    assert [row[2] for row in first["rows"]] == ["999", "300", "120", "60", "30", "20", "10"]
    for text, shown in (("前5名", 5), ("只看前三", 3), ("前两个", 2)):
        table = blocks(await chat(client, headers, text), "table")[0]
        assert table["title"] == first["title"] and table["rows"] == first["rows"][:shown], text
    more = blocks(await chat(client, headers, "更多"), "table")[0]  # the next two, as the page asked
    assert more["rows"] == first["rows"][2:4]
    villages = blocks(await chat(client, headers, "哪个村社员最多"), "table")[0]
    narrowed = blocks(await chat(client, headers, "只看前三"), "table")[0]
    assert narrowed["title"] == villages["title"] and narrowed["rows"] == villages["rows"][:3]


async def test_first_places_typed_with_no_ranking_before_say_how_to_ask(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, "前5名")
    assert not _not_found(reply) and "社员最多的合作社" in blocks(reply, "notice")[0]["text"], reply


async def test_a_ranking_asked_by_its_figure_and_first_places_is_that_ranking(client):
    """ "利润前三" and "社员最多的前三个村" answered "没有找到"."""
    w = await make_world()
    await _more_villages(w)
    headers = await login_at(client, "county_all", w.county, finance=FinanceAccess.ALL)
    profit = blocks(await chat(client, headers, "利润前三"), "table")[0]
    # (a card whose profit no one has entered is not ranked by it)
    assert profit["title"] == "青山县利润最高的合作社" and [row[2] for row in profit["rows"]] == [
        "12.50",
        "2.00",
        "-1.50",
    ]
    villages = blocks(await chat(client, headers, "社员最多的前三个村"), "table")[0]
    assert villages["title"] == "青山县社员最多的村"
    assert [(row[0], row[2]) for row in villages["rows"]] == [("刘家岭村", "999"), ("王家湾村", "180"), ("新3村", "30")]
    assert villages["more"]["params"]["count"] == 3 and villages["more"]["params"]["cursor"] == 3
    rest = blocks(await chat(client, headers, "更多"), "table")[0]
    assert [row[0] for row in rest["rows"]] == ["新2村", "新1村"]


# ---- 4. money in words, and units without a kind of co-op ---------------------------------------


async def test_money_thresholds_typed_in_words_list_the_co_ops(client):
    """ "资产过亿的合作社", "资产超过4千万的合作社" answered "没有找到" ("资产1.5亿以上" worked)."""
    w = await make_world()
    big = await make_unit("李家坪村大合作社", UnitType.COOP, w.village2)
    await coop_card(big, members=5, assets=20000)  # 2 亿
    headers = await login_at(client, "county_all", w.county, finance=FinanceAccess.ALL)
    over_one = blocks(await chat(client, headers, "资产过亿的合作社"), "table")[0]
    assert over_one["title"] == "青山县资产总额超过1亿元的合作社"  # it said 10000万元
    assert [(row[0], row[2]) for row in over_one["rows"]] == [(big.name, "20000.00")]
    over_four = blocks(await chat(client, headers, "资产超过4千万的合作社"), "table")[0]
    assert [row[2] for row in over_four["rows"]] == ["20000.00", "7777.00"]
    assert [row[2] for row in blocks(await chat(client, headers, "资产上亿的合作社"), "table")[0]["rows"]] == [
        "20000.00"
    ]


async def test_the_townships_or_villages_without_a_kind_of_co_op_are_listed(client):
    """ "哪些乡镇没有标杆社" answered "没有找到"."""
    w = await make_world()
    plain = await make_unit("石门乡", UnitType.TOWNSHIP, w.county)
    await coop_card(await make_unit("石门乡供销社", UnitType.COOP, plain), members=3)
    await make_unit("河口镇", UnitType.TOWNSHIP, w.county)
    headers = await login_at(client, "county_viewer", w.county)
    table = blocks(await chat(client, headers, "哪些乡镇没有标杆社"), "table")[0]
    assert table["title"] == "青山县还没有标杆社的乡镇" and [row[0] for row in table["rows"]] == ["石门乡", "河口镇"]
    villages = blocks(await chat(client, headers, "哪些村没有村级社"), "table")[0]
    assert villages["title"] == "青山县还没有村级社的村" and [row[0] for row in villages["rows"]] == ["李家坪村"]
    town = await login_at(client, "town_viewer", w.town)
    none = await chat(client, town, "哪些村没有标杆社")  # 王家湾村 has one, 李家坪村 none
    assert [row[0] for row in blocks(none, "table")[0]["rows"]] == ["李家坪村"]
    every = await chat(client, town, "没有村级社的村")
    assert [row[0] for row in blocks(every, "table")[0]["rows"]] == ["李家坪村"]


# ---- 5. colloquial ---------------------------------------------------------------------------------


async def test_the_village_talked_of_after_a_co_ops_card_is_that_co_ops_village(client):
    """ "村里还有哪些合作社" after a co-op's card answered "没有找到名为“村里还”的单位"; "村里有没有村级社"
    offered four units like "村"."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    await chat(client, headers, w.tea.name)
    others = blocks(await chat(client, headers, "村里还有哪些合作社"), "table")[0]
    assert others["title"] == "王家湾村的合作社" and {row[0] for row in others["rows"]} == {w.tea.name, w.veg.name}
    await chat(client, headers, intent="coop.card", params={"unit_id": w.tea.id})
    kind = blocks(await chat(client, headers, "村里有没有村级社"), "table")[0]
    assert kind["title"] == "王家湾村的村级社"


@pytest.mark.parametrize(
    ("text", "kind", "title"),
    [
        ("村里还有哪些合作社", "table", "王家湾村的合作社"),
        ("村里有没有村级社", "table", "王家湾村的村级社"),
        ("我们村的合作社排个名", "table", "王家湾村社员最多的合作社"),
        ("按社员排一下", "table", "王家湾村社员最多的合作社"),
        ("合作社按社员数排个序", "table", "王家湾村社员最多的合作社"),
        ("我们村的合作社在地图上看看", "map", "王家湾村合作社分布"),
        ("在地图上看看", "map", "王家湾村合作社分布"),
    ],
)
async def test_a_village_cadre_talking_plainly_gets_the_answer(client, text, kind, title):
    w = await make_world()
    headers = await login_at(client, "village_viewer", w.village)
    reply = await chat(client, headers, text)
    assert [b["title"] for b in blocks(reply, kind)] == [title], reply


async def test_sort_by_a_figure_typed_under_a_list_ranks_that_lists_region(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    await chat(client, headers, "王家湾村的合作社")
    ranked = blocks(await chat(client, headers, "按社员排一下"), "table")[0]
    assert ranked["title"] == "王家湾村社员最多的合作社" and [row[2] for row in ranked["rows"]] == ["120", "60"]


# ---- 6. threshold lists by their figure ------------------------------------------------------------


async def test_a_threshold_list_is_ordered_by_its_figure_and_pages_through_all(client):
    """ "社员超过500人的合作社" listed 710, 700, 674, 745... (the order the cards were made in)."""
    w = await make_world()
    for n, members in enumerate((710, 700, 674, 745, 512, 999, 630, 801, 555, 777, 690, 520, 600)):
        await coop_card(await make_unit(f"李家坪村第{n}合作社", UnitType.COOP, w.village2), members=members)
    headers = await login_at(client, "town_viewer", w.town)
    first = blocks(await chat(client, headers, "社员超过500人的合作社"), "table")[0]
    assert first["total"] == 13 and len(first["rows"]) == 10
    second = blocks(await chat(client, headers, "更多"), "table")[0]
    shown = [int(row[2]) for row in first["rows"] + second["rows"]]
    assert shown == sorted(shown, reverse=True) and len(shown) == 13
    assert len({row[0] for row in first["rows"] + second["rows"]}) == 13
    assert blocks(await chat(client, headers, "上一页"), "table")[0]["rows"] == first["rows"]
    tapped = await chat(client, headers, intent="coop.over", params=first["more"]["params"])
    assert blocks(tapped, "table")[0]["rows"] == second["rows"]
    under = blocks(await chat(client, headers, "社员少于600人的合作社"), "table")[0]
    assert [row[2] for row in under["rows"]] == ["60", "120", "300", "512", "520", "555"]


async def test_the_co_ops_at_a_loss_are_listed_biggest_loss_first(client):
    """ "亏损的合作社" listed -109.39, -23.43, -1.19, -10.77."""
    w = await make_world()
    for n, profit in enumerate((-109.39, -23.43, -1.19, -10.77)):
        await coop_card(await make_unit(f"李家坪村亏损{n}社", UnitType.COOP, w.village2), profit=profit)
    headers = await login_at(client, "town_all", w.town, finance=FinanceAccess.ALL)
    table = blocks(await chat(client, headers, "亏损的合作社"), "table")[0]
    assert [row[2] for row in table["rows"]] == ["-109.39", "-23.43", "-10.77", "-1.50", "-1.19"]


# ---- 7. the co-ops a map cannot pin ----------------------------------------------------------------


async def test_the_map_says_how_many_co_ops_have_no_location(client):
    """The county's map showed 14 pins for 15 co-ops, and said nothing of the one without coordinates."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    reply = await chat(client, headers, "地图")
    assert len(blocks(reply, "map")[0]["pins"]) == 2  # 茶叶社 and 刘家岭村茶叶合作社
    assert [b["text"] for b in blocks(reply, "notice")] == ["另有 2 个合作社没有填写坐标，没有在地图上标出。"]
    pinned_all = await chat(client, headers, "地图 王家湾村")
    assert len(blocks(pinned_all, "map")[0]["pins"]) == 1 and [b["text"] for b in blocks(pinned_all, "notice")] == [
        "另有 1 个合作社没有填写坐标，没有在地图上标出。"
    ]
    await coop_card(w.bare, members=5)
    none = await chat(client, headers, "地图 李家坪村")
    assert not blocks(none, "map")
    assert [b["text"] for b in blocks(none, "notice")] == ["李家坪村有 1 个合作社还没有填写坐标，地图上无法标出。"]
    empty = await chat(client, headers, "地图 刘家岭村")
    assert not [b for b in blocks(empty, "notice") if "没有填写坐标" in b["text"]]
