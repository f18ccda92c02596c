"""Review of the chat intents added together: the card form (coop.edit / coop.save), units compared
side by side, lists by founding year and loss, and the audit log in chat, as a hostile or clumsy
client would use them."""

from __future__ import annotations

from typing import Any

import httpx

from backend.chat import intents, parser
from backend.coops.models import CoopCard
from backend.core.audit import AuditEntry
from backend.core.roles import FinanceAccess, Role
from backend.units.models import UnitType
from tests.coops_helpers import blocks, chat, coop_card, login_at, make_world
from tests.factories import login, make_account, make_tree, make_unit

MONEY = ("registered_capital", "assets", "revenue", "profit")


def _form(reply: dict) -> dict:
    [form] = blocks(reply, "form")
    return form


def _sent(form: dict, **changed: Any) -> dict[str, Any]:
    """The action the mini-program sends for a form: its submit params and every field holding a value."""
    values = {f["name"]: f["value"] for f in form["fields"] if f.get("value") not in (None, "")}
    params = {**form["submit"]["params"], **values, **changed}
    return {"intent": form["submit"]["intent"], "params": {k: v for k, v in params.items() if v is not None}}


async def _post(client: httpx.AsyncClient, headers: dict[str, str], action: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/chat", json={"action": action}, headers=headers)


# ---- the card form -------------------------------------------------------------------------------


async def test_a_clerk_without_finance_access_gets_no_money_back_from_a_save_with_money_put_in(client):
    """A save with no version and a money figure put in answered the form 'changed meanwhile' with
    every money figure of the card to the fen; a right guess of a figure answered 'nothing changed'."""
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.NONE)
    forged = await _post(client, clerk, {"intent": "coop.save", "params": {"unit_id": w.tea.id, "assets": "1"}})
    assert forged.status_code == 403, forged.text
    assert forged.json()["error"]["code"] == "finance_required" and "123.456789" not in forged.text
    form = _form(await chat(client, clerk, "编辑王家湾村茶叶专业合作社的信息卡"))
    guessed = await _post(client, clerk, _sent(form, assets="123.456789"))  # the figure as stored
    assert guessed.status_code == 403 and guessed.json()["error"]["fields"] == {
        "assets": guessed.json()["error"]["message"]
    }
    # a clerk of the township sees the township co-op's money (own region) and writes it
    own = await login_at(client, "own", w.town, Role.CLERK, FinanceAccess.OWN_REGION)
    form = _form(await chat(client, own, "编辑白沙镇供销社的信息卡"))
    assert set(MONEY) <= {f["name"] for f in form["fields"]}
    assert (await _post(client, own, _sent(form, assets="501"))).status_code == 200
    assert (await CoopCard.get(unit_id=w.town_coop.id)).assets_fen == 501_000_000
    assert not blocks(await chat(client, own, "编辑王家湾村茶叶专业合作社的信息卡"), "notice")
    stored = await CoopCard.get(unit_id=w.tea.id)
    assert stored.assets_fen == 123_456_789


async def test_a_form_saved_unchanged_writes_nothing_for_a_card_with_values_at_the_edges(client):
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    odd = await make_unit("边界合作社", UnitType.COOP, w.village)
    await coop_card(
        odd,
        members=10_000_000,
        registered_capital="0.000001",
        assets="99999999.999999",
        revenue="100000000",
        profit="-100000000",
        latitude=25.123456789012345,
        longitude=102.98765432109876,
        founded_year=1900,
        report_year=2026,
        contact_name="王 建国" + "长" * 45,
        address="李家坪 3组",
    )
    before = await CoopCard.get(unit_id=odd.id)
    form = _form(await chat(client, clerk, intent="coop.edit", params={"unit_id": odd.id}))
    shown = {f["name"]: f.get("value") for f in form["fields"]}
    assert (shown["registered_capital"], shown["profit"], shown["business_scope"]) == ("0.000001", "-100000000", None)
    saved = await _post(client, clerk, _sent(form))
    assert saved.status_code == 200 and blocks(saved.json(), "notice")[0]["text"] == "没有改动，信息卡保持原样。"
    assert (await CoopCard.get(unit_id=odd.id)).updated_at == before.updated_at
    assert not await AuditEntry.filter(action="coop.card.update").exists()


async def test_a_card_written_before_the_newer_checks_is_saved_with_only_the_fields_changed_checked(client):
    """A card stored before the checks of years and coordinates (0, 0 for a pin not known, a report
    year 1900) could not be saved through the form at all: every field was sent back and checked, so
    changing the members answered 422 naming four fields nobody touched."""
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    await CoopCard.filter(unit_id=w.veg.id).update(latitude=0.0, longitude=0.0, founded_year=1, report_year=1900)
    form = _form(await chat(client, clerk, "编辑王家湾村果蔬合作社的信息卡"))
    unchanged = await _post(client, clerk, _sent(form))
    assert unchanged.status_code == 200, unchanged.text
    assert blocks(unchanged.json(), "notice")[0]["text"] == "没有改动，信息卡保持原样。"
    changed = await _post(client, clerk, _sent(form, members="61"))
    assert changed.status_code == 200, changed.text
    stored = await CoopCard.get(unit_id=w.veg.id)
    assert (stored.members, stored.latitude, stored.report_year) == (61, 0.0, 1900)
    # a field that is changed is checked as always
    form = _form(await chat(client, clerk, "编辑王家湾村果蔬合作社的信息卡"))
    refused = await _post(client, clerk, _sent(form, report_year="1948"))
    assert refused.status_code == 422 and set(refused.json()["error"]["fields"]) == {"report_year"}


async def test_the_form_is_resent_with_the_same_idempotency_key_and_writes_once(client):
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    form = _form(await chat(client, clerk, "编辑王家湾村果蔬合作社的信息卡"))
    keyed = {**clerk, "Idempotency-Key": "card-form-0001"}
    first = await _post(client, keyed, _sent(form, members="61"))
    again = await _post(client, keyed, _sent(form, members="61"))
    assert first.status_code == again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert await AuditEntry.filter(action="coop.card.update").count() == 1
    unkeyed = await _post(client, clerk, _sent(form, members="61"))  # a resend without the key
    assert blocks(unkeyed.json(), "notice")[0]["text"] == "没有改动，信息卡保持原样。"


# ---- typed questions ------------------------------------------------------------------------------


def _parsed(text: str) -> tuple[str, dict[str, Any]]:
    intents.load()
    parsed = parser.parse(text)
    return parsed.intent, parsed.params


def test_a_share_asked_with_how_much_is_the_statistics_not_a_comparison_nor_a_list():
    """ "村级社占比是多少" was taken for "A比B多" (a unit named "村级社占比是多" was looked for), and
    "标杆社占比" for the benchmark list of a region named 占比."""
    for text in (
        "村级社占比是多少",
        "贫困县基层社比重是多少",
        "王家湾村村级社比例是多少",
        "标杆社比例是多少",
        "标杆社的占比",
        "贫困县基层社占比是多少",
    ):
        assert _parsed(text)[0] == "coop.stats", text
    assert _parsed("标杆社 白沙镇") == ("coop.benchmark", {"region": "白沙镇"})
    assert _parsed("白沙镇比桃源乡多几个合作社") == ("summary", {"name": "白沙镇比桃源乡多"})


async def test_a_comparison_with_a_past_year_answers_the_units_summary_and_says_years_are_not_kept(client):
    """ "王家湾村比去年多了几个合作社" answered "没有找到名为“王家湾村比多了”的单位"."""
    w = await make_world()
    viewer = await login_at(client, "viewer", w.town)
    for text, title in (
        ("王家湾村比去年多了几个合作社", "王家湾村合作社汇总"),
        ("今年比去年多了几个合作社", "白沙镇合作社汇总"),
        ("社员比去年多了多少", "白沙镇合作社汇总"),
    ):
        reply = await chat(client, viewer, text)
        assert "不能单独查看" in blocks(reply, "notice")[0]["text"], text
        assert [card["title"] for card in blocks(reply, "card")] == [title], (text, reply)
    both = await chat(client, viewer, "王家湾村和李家坪村比去年多了几个合作社")
    assert [row[0] for row in blocks(both, "table")[0]["rows"]] == ["王家湾村", "李家坪村"]


async def test_editing_a_contacts_card_by_the_contacts_name_opens_the_co_ops_form(client):
    """ "修改王建国的电话" (the tea co-op's contact) answered 'no unit named 王建国', and "修改联系电话"
    looked for a unit named 联系."""
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    form = _form(await chat(client, clerk, "修改王建国的电话"))
    assert form["title"] == "编辑信息卡：王家湾村茶叶专业合作社"
    assert form["submit"]["params"]["unit_id"] == w.tea.id
    assert "哪个合作社" in blocks(await chat(client, clerk, "修改联系电话"), "notice")[0]["text"]
    own = await login_at(client, "coop_clerk", w.tea, Role.CLERK)
    assert _form(await chat(client, own, "修改联系电话"))["title"] == "编辑信息卡：王家湾村茶叶专业合作社"
    # one's own information is not a co-op's card
    assert _parsed("修改我的信息")[0] != "coop.edit" and _parsed("完善个人资料")[0] != "coop.edit"


# ---- lists by founding year -----------------------------------------------------------------------


async def test_founding_years_of_any_shape_from_a_button_are_refused_not_answered_500(client):
    w = await make_world()
    viewer = await login_at(client, "viewer", w.town)
    for params in (
        {"year": ["去年"]},
        {"year": {"a": 1}},
        {"from_year": 2030, "to_year": 2000},
        {"recent": ["三"]},
    ):
        response = await _post(client, viewer, {"intent": "coop.founded", "params": {"region_id": w.town.id, **params}})
        assert response.status_code == 200, (params, response.text)
        assert blocks(response.json(), "notice")[0]["text"] == "参数不正确，请重新选择。", params


# ---- the audit log --------------------------------------------------------------------------------


async def test_a_forged_account_id_names_no_account_outside_scope_and_an_unknown_one_is_not_a_500(client):
    tree = await make_tree()
    county = await make_account("county_admin", tree.parent, role=Role.ADMIN)
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    clerk = await make_account("wjg01", tree.child, role=Role.CLERK, phone="13912345670")
    county_headers = await login(client, "county_admin")
    reset = await client.post(f"/api/accounts/{clerk.id}/reset-password", headers=county_headers)
    assert reset.status_code in (200, 204), reset.text
    headers = await login(client, "town_admin")
    for account_id in (county.id, 999_999):
        response = await _post(client, headers, {"intent": "audit.recent", "params": {"account_id": account_id}})
        assert response.status_code == 200, response.text
        assert "测试county_admin" not in response.text and not blocks(response.json(), "table")
        assert blocks(response.json(), "notice")[0]["level"] == "warning"


async def test_my_own_entries_and_a_time_word_before_the_records(client):
    """ "我的操作记录" looked for a person named 我; "wjg01最近的操作记录" for one named "wjg01最近"."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    await make_account("wjg01", tree.child, role=Role.CLERK)
    await login(client, "wjg01")
    headers = await login(client, "town_admin")
    [mine] = blocks(await chat(client, headers, "我的操作记录"), "table")
    assert mine["title"] == "测试town_admin的操作记录" and {row[2] for row in mine["rows"]} == {"测试town_admin"}
    [theirs] = blocks(await chat(client, headers, "wjg01最近的操作记录"), "table")
    assert theirs["title"] == "测试wjg01的操作记录"
