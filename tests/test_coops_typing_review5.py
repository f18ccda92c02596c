"""A fifth typing review of the co-op and summary questions in the running demo: 汇总 in any spelling,
loss rankings with no unit in the red, "这个社" after a co-op's card, a co-op reference after a unit
that is none, ties in "which one" sentences, misread questions, and a village clerk's one co-op."""

from __future__ import annotations

import pytest

from backend.core.roles import FinanceAccess, Role
from backend.units.models import UnitType
from tests.coops_helpers import blocks, chat, coop_card, fields, login_at, make_world
from tests.factories import make_unit


def _titles(reply: dict, kind: str) -> list[str]:
    return [b["title"] for b in blocks(reply, kind)]


def _notices(reply: dict) -> list[str]:
    return [b["text"] for b in blocks(reply, "notice")]


# ---- 1. 汇总 in any spelling, after another unit's card, is the own unit's ------------------------


@pytest.mark.parametrize("text", ["汇总", "汇总吧", "呃 汇总", "汇宗", "匯總", "汇 总", "会总"])
async def test_summary_typed_alone_in_any_spelling_after_a_villages_card_is_the_own_units(client, text):
    """ "汇宗", "匯總", "汇 总" after 王家湾村's card answered 王家湾村 ("汇总" answered the county)."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    await chat(client, headers, w.village.name)
    reply = await chat(client, headers, text)
    assert _titles(reply, "card") == ["青山县合作社汇总"], reply


# ---- 2. rankings of units by loss (or a kind) with no unit to rank --------------------------------


@pytest.mark.parametrize(("text", "level"), [("哪个村亏损最多", "村"), ("哪个乡镇亏损最多", "乡镇")])
async def test_a_loss_ranking_of_units_with_none_in_the_red_says_so(client, text, level):
    """ "哪个村亏损最多" said "青山县下面的村都还没有合作社信息卡。" though every village has cards."""
    w = await make_world()  # 王家湾村: -1.5 + 2 = 0.5; nothing below 青山县 sums to a loss
    headers = await login_at(client, "county_all", w.county, finance=FinanceAccess.ALL)
    reply = await chat(client, headers, text)
    assert _notices(reply) == [f"青山县下面没有亏损的{level}：每个{level}的合作社利润合计都不是负数。"], reply
    await coop_card(await make_unit("李家坪村亏损社", UnitType.COOP, w.village2), profit=-30)
    table = blocks(await chat(client, headers, text), "table")[0]
    assert table["rows"][0][2] == ("-30.00" if level == "村" else "-17.00")


async def test_a_ranking_of_units_by_a_kind_none_of_them_has_says_so(client):
    """ "哪个村贫困县基层社最多" in 白沙镇 said "白沙镇下面的村都还没有合作社信息卡。"."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, "哪个村贫困县基层社最多")
    assert _notices(reply) == ["白沙镇下面的村都还没有贫困县基层社。"], reply
    bare = await make_unit("石门乡", UnitType.TOWNSHIP, w.county)
    await make_unit("石门村", UnitType.VILLAGE, bare)
    stone = await login_at(client, "stone_viewer", bare)  # no card at all below: that is what is said
    assert _notices(await chat(client, stone, "哪个村标杆社最多")) == ["石门乡下面的村都还没有合作社信息卡。"]


# ---- 3. "这个社多少人" after a co-op's card: its members ----------------------------------------------


@pytest.mark.parametrize(
    "text", ["这个社多少人", "这个合作社多少人", "这个社有多少人", "该社一共多少人", "这个社几个人"]
)
@pytest.mark.parametrize("role", [Role.VIEWER, Role.ADMIN])
async def test_how_many_people_of_this_co_op_after_its_card_are_its_members(client, text, role):
    """ "这个社多少人" after 茶叶社's card answered its accounts ("人员和账号只有管理员可以查看" / "还没有
    人员"), while "这个合作社多少人" answered its members."""
    w = await make_world()
    headers = await login_at(client, f"town_{role.value}", w.town, role)
    await chat(client, headers, w.tea.name)
    reply = await chat(client, headers, text)
    [card] = blocks(reply, "card")
    assert (card["title"], fields(card)["社员数"]) == (w.tea.name, "120"), reply


# ---- 4. a co-op reference when the unit shown last is no co-op --------------------------------------


@pytest.mark.parametrize(
    "text", ["这个合作社的社员", "这个社多少人", "这个合作社的信息卡", "该社的利润", "这个合作社汇总"]
)
async def test_this_co_op_typed_after_a_villages_summary_says_the_unit_shown_is_no_co_op(client, text):
    """ "这个合作社的社员" right after 王家湾村's summary answered 王家湾村's summary."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    await chat(client, headers, "汇总 王家湾村")
    reply = await chat(client, headers, text)
    assert not blocks(reply, "card") and not blocks(reply, "table"), reply
    assert _notices(reply) == ["刚才查看的是王家湾村（村），不是一个合作社。请直接说出要查的合作社的名称。"]


async def test_this_co_op_typed_after_a_co_ops_card_is_that_co_op(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    await chat(client, headers, intent="coop.card", params={"unit_id": w.tea.id})
    [card] = blocks(await chat(client, headers, "这个合作社的社员"), "card")
    assert (card["title"], fields(card)["社员数"]) == (w.tea.name, "120")
    summed = await chat(client, headers, "这个合作社汇总")
    assert _titles(summed, "card") == [f"{w.tea.name}汇总"], summed


# ---- 5. ties in "which one" sentences ------------------------------------------------------------


async def test_which_one_names_every_unit_tied_for_the_first_place(client):
    """ "哪个村合作社最少" said "…是李家坪村（合作社 1）" while 刘家岭村 also has 1."""
    w = await make_world()
    await coop_card(w.bare, members=120)
    headers = await login_at(client, "county_viewer", w.county)
    reply = await chat(client, headers, "哪个村合作社最少")
    assert [b["text"] for b in blocks(reply, "text")] == ["青山县合作社最少的村是李家坪村和刘家岭村（合作社各 1）。"]
    coops = await chat(client, headers, "哪个合作社社员最多")  # no tie: one name, as before
    assert [b["text"] for b in blocks(coops, "text")] == ["青山县社员最多的合作社是刘家岭村茶叶合作社（社员数 999）。"]
    town = await login_at(client, "town_viewer", w.town)
    tied = await chat(client, town, "哪个合作社社员最少")  # 果蔬社 60; 茶叶社 and 综合社 120
    assert [b["text"] for b in blocks(tied, "text")] == ["白沙镇社员最少的合作社是王家湾村果蔬合作社（社员数 60）。"]
    await coop_card(await make_unit("李家坪村新合作社", UnitType.COOP, w.village2), members=60)
    three = await chat(client, town, "哪个合作社社员最少")
    assert [b["text"] for b in blocks(three, "text")] == [
        "白沙镇社员最少的合作社是王家湾村果蔬合作社和李家坪村新合作社（社员数各 60）。"
    ]


# ---- 6. misreadings ----------------------------------------------------------------------------------


async def test_sort_typed_alone_after_a_co_op_list_ranks_that_lists_region(client):
    """ "排个名" typed alone after "王家湾村的合作社" answered "没有找到“排个名”"."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    await chat(client, headers, "王家湾村的合作社")
    for text in ("排个名", "排一下", "排序"):
        ranked = blocks(await chat(client, headers, text), "table")[0]
        assert ranked["title"] == "王家湾村社员最多的合作社" and [row[2] for row in ranked["rows"]] == ["120", "60"]
    town = await login_at(client, "town_all", w.town, finance=FinanceAccess.ALL)
    await chat(client, town, "资产最多的合作社")
    again = blocks(await chat(client, town, "排个名"), "table")[0]  # a ranking shown: that ranking
    assert again["title"] == "白沙镇资产最多的合作社"
    alone = await login_at(client, "village_viewer", w.village)
    assert _titles(await chat(client, alone, "排个名"), "table") == ["王家湾村社员最多的合作社"]


async def test_a_threshold_without_the_co_op_word_lists_the_co_ops(client):
    """ "资产超过4千万" answered "没有找到" ("资产超过4千万的合作社" worked)."""
    w = await make_world()
    headers = await login_at(client, "county_all", w.county, finance=FinanceAccess.ALL)
    for text in ("资产超过4千万", "社员500人以上", "桃源乡社员超过500人"):
        table = blocks(await chat(client, headers, text), "table")[0]
        assert [row[0] for row in table["rows"]] == [w.sibling_coop.name], text


async def test_a_village_has_a_kind_of_co_op_asked_with_a_particle_lists_them(client):
    """ "刘家岭村有村级社吗" answered "没有找到" ("王家湾村有合作社吗" worked)."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    table = blocks(await chat(client, headers, "刘家岭村有村级社吗"), "table")[0]
    assert table["title"] == "刘家岭村的村级社" and [row[0] for row in table["rows"]] == [w.sibling_coop.name]
    assert _titles(await chat(client, headers, "王家湾村有标杆社没有"), "table") == ["王家湾村的标杆社"]
    none = await chat(client, headers, "白沙镇有贫困县基层社吗")
    assert _notices(none) == ["白沙镇暂无贫困县基层社。"], none


@pytest.mark.parametrize(
    "text", ["贫困县有几个合作社", "贫困县有多少合作社", "贫困县有哪些合作社", "贫困县一共几个合作社"]
)
async def test_how_many_co_ops_in_poverty_counties_is_that_list(client, text):
    """ "贫困县有几个合作社" answered "没有找到名为“贫困县”的单位"."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    table = blocks(await chat(client, headers, text), "table")[0]
    assert (table["title"], table["total"]) == ("青山县的贫困县基层社", 1), table


@pytest.mark.parametrize("text", ["白沙镇社员比桃源乡多多少", "白沙镇的资产比桃源乡少多少", "白沙镇比桃源乡社员少多少"])
async def test_two_units_compared_by_a_figure_are_shown_side_by_side(client, text):
    """ "白沙镇社员比桃源乡多多少" answered "没有找到名为“白沙镇社员”的单位"."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    table = blocks(await chat(client, headers, text), "table")[0]
    assert table["title"] == "合作社汇总对比" and [row[0] for row in table["rows"]] == ["白沙镇", "桃源乡"], table


async def test_first_places_typed_after_a_threshold_list_narrow_it(client):
    """ "前3名" after "社员超过500人的合作社" said "“前几名”是对排名说的"; the list is by that figure."""
    w = await make_world()
    for n, members in enumerate((710, 700, 674, 745, 512)):
        await coop_card(await make_unit(f"李家坪村第{n}合作社", UnitType.COOP, w.village2), members=members)
    headers = await login_at(client, "town_viewer", w.town)
    listed = blocks(await chat(client, headers, "社员超过500人的合作社"), "table")[0]
    first = blocks(await chat(client, headers, "前3名"), "table")[0]
    assert first["title"] == listed["title"] and first["rows"] == listed["rows"][:3]
    assert [row[2] for row in first["rows"]] == ["745", "710", "700"]
    rest = blocks(await chat(client, headers, "更多"), "table")[0]
    assert [row[2] for row in rest["rows"]] == ["674", "512"]


# ---- 7. a village clerk's one co-op ------------------------------------------------------------------


async def test_a_clerk_whose_unit_has_one_co_op_gets_its_card_and_form_with_no_name(client):
    """A clerk of 刘家岭村 (one co-op) typing "信息卡" / "编辑信息卡" was asked which co-op."""
    w = await make_world()
    headers = await login_at(client, "liu_clerk", w.sibling_village, Role.CLERK, FinanceAccess.ALL)
    card = await chat(client, headers, "信息卡")
    assert [(b["title"], b["subtitle"]) for b in blocks(card, "card")] == [(w.sibling_coop.name, "信息卡")], card
    form = await chat(client, headers, "编辑信息卡")
    assert _titles(form, "form") == [f"编辑信息卡：{w.sibling_coop.name}"], form
    bare = await login_at(client, "li_clerk", w.village2, Role.CLERK, FinanceAccess.ALL)  # its co-op has no card
    assert _titles(await chat(client, bare, "编辑信息卡"), "form") == [f"录入信息卡：{w.bare.name}"]


async def test_a_clerk_whose_unit_has_several_co_ops_is_asked_which_in_a_whole_sentence(client):
    w = await make_world()
    headers = await login_at(client, "wang_clerk", w.village, Role.CLERK, FinanceAccess.ALL)
    assert _notices(await chat(client, headers, "编辑信息卡")) == [
        "请说明要编辑哪个合作社的信息卡，如“编辑王家湾村综合服务社的信息卡”。"
    ]
    assert _notices(await chat(client, headers, "信息卡")) == ["“王家湾村”不是合作社，没有信息卡。"]
