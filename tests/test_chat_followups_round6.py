"""Follow-ups a sixth round found answered wrong: a contact question in a village with one co-op, a
comparison by a figure without that figure's column, "这个社" after a village shown since a co-op,
"社员在100人" read as "at least", a place word below the own level in level questions and rankings,
"她" after a person found by number, "联系电话" after a person's card, and a summary of a unit above
the scope that said "没有找到"."""

from __future__ import annotations

import pytest

from backend.core.roles import FinanceAccess, Role
from tests.coops_helpers import blocks, chat, fields, login_at, make_world
from tests.test_chat_accounts import ID_IN_SCOPE, PHONE_IN_SCOPE, person, with_id_number


def _cards(reply: dict) -> list[tuple[str, str | None]]:
    return [(b["title"], b.get("subtitle")) for b in blocks(reply, "card")]


def _notices(reply: dict) -> list[str]:
    return [b["text"] for b in blocks(reply, "notice")]


# ---- 1. a contact question with no name in a village with one co-op ---------------------------------


@pytest.mark.parametrize("text", ["联系电话", "电话多少", "联系人"])
async def test_a_contact_question_of_a_village_clerk_with_one_co_op_answers_that_co_ops_card(client, text):
    """ "联系电话" typed by 刘家岭村's clerk (one co-op) answered the village's own card, which holds no
    telephone; "信息卡" already answered the co-op's."""
    w = await make_world()
    headers = await login_at(client, "liu_clerk", w.sibling_village, Role.CLERK)
    reply = await chat(client, headers, text)
    assert _cards(reply) == [(w.sibling_coop.name, "信息卡")], reply


async def test_a_contact_question_right_after_a_village_with_one_co_op_answers_that_co_ops_card(client):
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    await chat(client, headers, w.sibling_village.name)
    assert _cards(await chat(client, headers, "联系电话")) == [(w.sibling_coop.name, "信息卡")]


async def test_a_contact_question_in_a_village_with_several_co_ops_still_answers_the_village(client):
    w = await make_world()
    headers = await login_at(client, "wang_clerk", w.village, Role.CLERK)
    reply = await chat(client, headers, "联系电话")
    assert [title for title, _ in _cards(reply)] == [w.village.name], reply


# ---- 2. units compared by a figure show that figure ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "白沙镇和桃源乡哪个利润高",
        "对比白沙镇和桃源乡的利润",
        "白沙镇和桃源乡的利润对比",
        "白沙镇比桃源乡利润多多少",
        "白沙镇和桃源乡按利润比一比",
    ],
)
async def test_units_compared_by_a_figure_show_that_figure_as_a_column(client, text):
    """ "白沙镇和桃源乡哪个利润高" answered the comparison's usual columns (co-ops, members, assets):
    the profit asked about was nowhere in it."""
    w = await make_world()
    headers = await login_at(client, "county_all", w.county, finance=FinanceAccess.ALL)
    [table] = blocks(await chat(client, headers, text), "table")
    assert table["title"] == "合作社汇总对比" and table["columns"][-1] == "利润（万元）", table
    # 白沙镇: 12.5 + (-1.5) + 2; 桃源乡: 刘家岭村茶叶合作社's profit was never entered
    assert [(row[0], row[-1]) for row in table["rows"]] == [("白沙镇", "13.00"), ("桃源乡", "未填报")]


async def test_a_figure_compared_is_masked_without_the_finance_permission(client):
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    [table] = blocks(await chat(client, headers, "白沙镇和桃源乡哪个利润高"), "table")
    assert table["columns"][-1] == "利润（万元）" and [row[-1] for row in table["rows"]] == ["无权限", "无权限"]


async def test_a_figure_the_comparison_already_shows_adds_no_column(client):
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    [table] = blocks(await chat(client, headers, "白沙镇与桃源乡谁的社员多"), "table")
    assert table["columns"] == ["单位", "合作社", "村级社", "标杆社", "社员", "资产（万元）"]
    [staff] = blocks(await chat(client, headers, "白沙镇和桃源乡哪个从业人员多"), "table")
    assert staff["columns"][-1] == "从业人员" and [row[-1] for row in staff["rows"]] == ["31", "99"]


async def test_co_ops_by_a_figure_typed_with_by_rank_them_with_its_column(client):
    """ "按利润比一比" was looked up as a name."""
    w = await make_world()
    headers = await login_at(client, "town_all", w.town, finance=FinanceAccess.ALL)
    [table] = blocks(await chat(client, headers, "按利润比一比"), "table")
    assert table["title"] == "白沙镇利润最高的合作社" and table["columns"][-1] == "利润（万元）", table


# ---- 3. "这个社" after a village shown since a co-op -------------------------------------------------------


async def test_this_co_op_after_a_village_shown_since_a_co_op_s_card_is_that_co_op(client):
    """ "这个社多少人" after 茶叶社's card and then 王家湾村's summary said 王家湾村 is no co-op."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    await chat(client, headers, intent="coop.card", params={"unit_id": w.tea.id})
    await chat(client, headers, "汇总 王家湾村")
    [card] = blocks(await chat(client, headers, "这个社多少人"), "card")
    assert (card["title"], fields(card)["社员数"]) == (w.tea.name, "120")
    village = await chat(client, headers, "这个村的汇总")  # the village is still "这个村"
    assert blocks(village, "card")[0]["title"] == "王家湾村合作社汇总", village
    assert _cards(await chat(client, headers, "这个合作社的信息卡")) == [(w.tea.name, "信息卡")]


async def test_this_co_op_with_no_co_op_shown_at_all_still_says_the_unit_shown_is_none(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    await chat(client, headers, "汇总 王家湾村")
    assert _notices(await chat(client, headers, "这个社多少人")) == [
        "刚才查看的是王家湾村（村），不是一个合作社。请直接说出要查的合作社的名称。"
    ]


# ---- 4. "社员在100人": which side is meant ----------------------------------------------------------------


async def test_a_bare_at_before_an_amount_asks_which_side_is_meant(client):
    """ "社员在100人" listed the co-ops with 100 members or more, as if 以上 had been typed."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, "社员在100人的合作社")
    assert not blocks(reply, "table"), reply
    [question] = blocks(reply, "card")
    assert [a["label"] for a in question["actions"]] == ["100人以上", "100人以下"], question
    over = blocks(await chat(client, headers, "第一个"), "table")[0]
    assert [row[2] for row in over["rows"]] == ["300", "120"], over
    below = question["actions"][1]
    under = blocks(await chat(client, headers, intent=below["intent"], params=below["params"]), "table")[0]
    assert [row[2] for row in under["rows"]] == ["60"], under


async def test_the_sides_offered_keep_the_region_typed(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    [question] = blocks(await chat(client, headers, "王家湾村社员在100人"), "card")
    assert all(a["params"]["region"] == "王家湾村" for a in question["actions"]), question
    [table] = blocks(await chat(client, headers, "第一个"), "table")
    assert table["title"] == "王家湾村社员数不少于100的合作社" and [row[0] for row in table["rows"]] == [w.tea.name]


async def test_a_bare_at_before_money_asks_in_its_unit_and_a_side_typed_lists_at_once(client):
    w = await make_world()
    headers = await login_at(client, "town_all", w.town, finance=FinanceAccess.ALL)
    [question] = blocks(await chat(client, headers, "资产在100万"), "card")
    assert [a["label"] for a in question["actions"]] == ["100万元以上", "100万元以下"], question
    listed = blocks(await chat(client, headers, "社员在100人以上"), "table")[0]
    assert [row[2] for row in listed["rows"]] == ["300", "120"]


# ---- 5. a place word below the own level in level questions and rankings -----------------------------------


@pytest.mark.parametrize(
    ("text", "what", "ask"),
    [
        ("本镇有几个村", "村", "白沙镇有几个村"),
        ("本镇社员最多的合作社", "社员最多的合作社", "白沙镇社员最多的合作社"),
        ("本乡哪个村合作社最多", "合作社最多的村", "白沙镇合作社最多的村"),
    ],
)
async def test_a_place_word_below_the_own_level_in_level_questions_and_rankings_says_so(client, text, what, ask):
    """ "本镇有几个村" and "本乡资产排名" typed by a county's cadre answered the county's without a word,
    while "本镇汇总" said the county is no township and how to ask for one."""
    from backend.units import messages as units_msg

    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    reply = await chat(client, headers, text)
    said = units_msg.OWN_LEVEL_BELOW.format(unit="青山县", type="县", level="乡镇", what=what, ask=ask)
    assert _notices(reply)[:1] == [said], reply
    assert blocks(reply, "table"), reply


async def test_a_level_question_named_by_a_level_above_says_the_scope_and_one_that_holds_none_says_nothing(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    wider = await chat(client, headers, "全县有几个村")
    assert _notices(wider) == ["您的查看范围是白沙镇，看不到“全县”的村（请上级单位查看）；以下是白沙镇的村。"]
    assert blocks(wider, "table")[0]["title"] == "白沙镇的村"
    assert not blocks(await chat(client, headers, "本村有几个村"), "notice")


async def test_a_money_ranking_named_by_a_level_below_says_so_too(client):
    w = await make_world()
    headers = await login_at(client, "county_all", w.county, finance=FinanceAccess.ALL)
    reply = await chat(client, headers, "本乡资产排名")
    assert _notices(reply)[0].startswith("您的单位青山县是县，不是乡镇；以下是青山县的资产最多的合作社。"), reply
    own = await chat(client, headers, "本县资产排名")
    assert not blocks(own, "notice") and blocks(own, "table"), own


# ---- 6. "她" after a person found by ID number or phone number -----------------------------------------------


@pytest.mark.parametrize("found_by", ["id_number", "phone"])
async def test_a_person_found_by_number_is_her_for_the_next_question(client, found_by):
    """ "她的账号锁了吗" after a person found by ID number said no one had been looked at."""
    w = await make_world()
    xiong = await person("xc01", "熊春", w.village, phone=PHONE_IN_SCOPE)
    await with_id_number(xiong, ID_IN_SCOPE)
    headers = await login_at(client, "town_admin", w.town, Role.ADMIN)
    found = await chat(client, headers, ID_IN_SCOPE if found_by == "id_number" else PHONE_IN_SCOPE)
    assert [title for title, _ in _cards(found)] == ["熊春"], found
    reply = await chat(client, headers, "她的账号锁了吗")
    assert _notices(reply)[0].startswith("熊春的账号没有锁定"), reply


# ---- 7. "联系电话" right after a person's card -------------------------------------------------------------


@pytest.mark.parametrize("at", ["tea", "town"])
async def test_a_phone_asked_right_after_a_co_op_accounts_card_is_that_person_s(client, at):
    """ "联系电话" after the card of 茶叶社's own account answered the co-op's card (asked by the co-op's
    admin; a township's got the township's card)."""
    w = await make_world()
    await person("tea01", "熊春", w.tea, phone=PHONE_IN_SCOPE)
    headers = await login_at(client, "admin", getattr(w, at), Role.ADMIN)
    await chat(client, headers, "熊春")
    for text in ("联系电话", "电话多少"):
        reply = await chat(client, headers, text)
        [card] = blocks(reply, "card")
        assert (card["title"], fields(card).get("手机")) == ("熊春", "139****0001"), reply


async def test_a_phone_asked_after_a_co_op_shown_since_a_person_is_the_co_op_s(client):
    w = await make_world()
    await person("tea01", "熊春", w.tea, phone=PHONE_IN_SCOPE)
    headers = await login_at(client, "town_admin", w.town, Role.ADMIN)
    await chat(client, headers, "熊春")
    await chat(client, headers, intent="coop.card", params={"unit_id": w.tea.id})
    assert _cards(await chat(client, headers, "联系电话")) == [(w.tea.name, "信息卡")]


# ---- 8. a summary of a unit above the scope ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["云岭省汇总", "汇总 云岭省", "云岭省的村级社", "云岭省统计"])
async def test_a_summary_of_a_unit_above_the_scope_says_the_scope(client, text):
    """ "云岭省汇总" typed by a county's cadre said "没有找到"; "云岭省" alone already said the scope."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    said = _notices(await chat(client, headers, text))
    assert said and said[0].startswith("您的查看范围是青山县，看不到“云岭省”"), said
    assert "没有找到" not in said[0]


async def test_a_summary_of_an_unknown_unit_at_or_below_the_scope_is_still_not_found(client):
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    said = _notices(await chat(client, headers, "柳江县汇总"))
    assert said and "没有找到" in said[0] and "查看范围" not in said[0], said
