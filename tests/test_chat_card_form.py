"""D1 on the phone: a co-op's info card edited (or filled in) through a chat form, by the same
actions as the API, with its scope, finance and version rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from backend.coops.models import CoopCard
from backend.core.audit import AuditEntry
from backend.core.roles import FinanceAccess, Role
from tests.coops_helpers import blocks, chat, expected_rollups, fields, login_at, make_world, stored_rollups


def _form(reply: dict) -> dict:
    [form] = blocks(reply, "form")
    return form


def _values(form: dict) -> dict[str, Any]:
    """What the mini-program sends for a form: its submit params and every field holding a value."""
    return {f["name"]: f["value"] for f in form["fields"] if f.get("value") not in (None, "")}


async def _save(client: httpx.AsyncClient, headers: dict[str, str], form: dict, **changed: Any) -> httpx.Response:
    values = {**_values(form), **changed}
    params = {**form["submit"]["params"], **{k: v for k, v in values.items() if v is not None}}
    action = {"intent": form["submit"]["intent"], "params": params}
    return await client.post("/api/chat", json={"action": action}, headers=headers)


async def test_a_clerk_edits_a_card_from_its_button_and_the_card_answers_with_the_change(client):
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    card = blocks(await chat(client, clerk, "王家湾村茶叶专业合作社的信息卡"), "card")[0]
    [edit] = [a for a in card["actions"] if a["intent"] == "coop.edit"]
    form = _form(await chat(client, clerk, intent="coop.edit", params=edit["params"]))
    assert form["title"] == "编辑信息卡：王家湾村茶叶专业合作社" and form["submit"]["intent"] == "coop.save"
    shown = {f["name"]: f.get("value") for f in form["fields"]}
    # money exactly as stored (123.456789 万元, not the card's 123.46), the phone never (it is masked)
    assert shown["assets"] == "123.456789" and shown["profit"] == "-1.5" and shown["members"] == "120"
    assert shown["contact_name"] == "王建国" and shown["contact_phone"] is None
    assert shown["is_benchmark"] == "true" and shown["latitude"] == "25.04"
    kinds = {f["name"]: f["kind"] for f in form["fields"]}
    assert kinds["members"] == "number" and kinds["profit"] == "text"  # a digit keyboard has no minus sign
    # the contact phone may be an office line (the phone's own check lets one through); no other field says so
    assert [f["name"] for f in form["fields"] if f.get("landline")] == ["contact_phone"]
    response = await _save(client, clerk, form, members="150", contact_name=None)  # the name emptied
    assert response.status_code == 200, response.text
    reply = response.json()
    assert blocks(reply, "notice")[0]["level"] == "success"
    assert fields(blocks(reply, "card")[0])["社员数"] == "150"
    stored = await CoopCard.get(unit_id=w.tea.id)
    assert (stored.members, stored.contact_name, stored.assets_fen) == (150, None, 123_456_789)
    assert stored.contact_phone_index is not None  # an empty phone field keeps the phone
    entry = await AuditEntry.filter(action="coop.card.update").order_by("-id").first()
    assert entry is not None and entry.detail["fields"] == ["contact_name", "members"]
    assert await stored_rollups() == await expected_rollups()


async def test_a_form_saved_as_it_was_writes_nothing(client):
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    form = _form(await chat(client, clerk, "修改王家湾村茶叶专业合作社的电话"))
    before = await CoopCard.get(unit_id=w.tea.id)
    response = await _save(client, clerk, form)
    assert response.status_code == 200 and blocks(response.json(), "notice")[0]["text"] == "没有改动，信息卡保持原样。"
    assert (await CoopCard.get(unit_id=w.tea.id)).updated_at == before.updated_at
    assert not await AuditEntry.filter(action="coop.card.update").exists()


async def test_a_bad_value_is_refused_naming_its_field_and_changes_nothing(client):
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    form = _form(await chat(client, clerk, "编辑王家湾村茶叶专业合作社的信息卡"))
    for changed, field in (
        ({"members": "很多"}, "members"),
        ({"members": "-3"}, "members"),
        ({"assets": "1.0000001"}, "assets"),  # finer than a fen
        ({"report_year": "1948"}, "report_year"),
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"latitude": "102.7", "longitude": "25.0"}, "latitude"),
        ({"is_benchmark": "也许"}, "is_benchmark"),
    ):
        response = await _save(client, clerk, form, **changed)
        assert response.status_code == 422, (changed, response.text)
        error = response.json()["error"]
        assert field in error["fields"] and error["fields"][field], changed
    stored = await CoopCard.get(unit_id=w.tea.id)
    assert (stored.members, stored.assets_fen, stored.report_year) == (120, 123_456_789, None)


async def test_money_is_left_out_of_the_form_and_refused_from_a_clerk_without_finance_access(client):
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.NONE)
    form = _form(await chat(client, clerk, "编辑王家湾村茶叶专业合作社的信息卡"))
    assert not {"assets", "profit", "revenue", "registered_capital"} & {f["name"] for f in form["fields"]}
    saved = await _save(client, clerk, form, staff="9")
    assert saved.status_code == 200, saved.text
    tampered = await _save(client, clerk, form, assets="1")
    assert tampered.status_code == 403 and "assets" in tampered.json()["error"]["fields"]
    stored = await CoopCard.get(unit_id=w.tea.id)
    assert (stored.staff, stored.assets_fen) == (9, 123_456_789)


async def test_a_card_changed_while_its_form_was_open_is_not_overwritten_and_the_typing_is_kept(client):
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    other = await login_at(client, "other", w.town, Role.CLERK, FinanceAccess.ALL)
    form = _form(await chat(client, clerk, "编辑王家湾村茶叶专业合作社的信息卡"))
    await _save(client, other, _form(await chat(client, other, "编辑王家湾村茶叶专业合作社的信息卡")), staff="30")
    response = await _save(client, clerk, form, members="150")
    assert response.status_code == 200, response.text
    reply = response.json()
    [notice] = blocks(reply, "notice")
    # what was typed and differs from the newest card is said, the form holds the newest card
    assert notice["level"] == "warning" and "社员数 150" in notice["text"] and "从业人员 8" in notice["text"]
    again = _form(reply)
    shown = {f["name"]: f.get("value") for f in again["fields"]}
    assert shown["members"] == "120" and shown["staff"] == "30"
    assert again["submit"]["params"]["version"] != form["submit"]["params"]["version"]
    stored = await CoopCard.get(unit_id=w.tea.id)
    assert (stored.members, stored.staff) == (120, 30)
    assert (await _save(client, clerk, again, members="150")).status_code == 200
    stored = await CoopCard.get(unit_id=w.tea.id)
    assert (stored.members, stored.staff) == (150, 30)


async def test_a_co_op_without_a_card_gets_one_filled_in_through_the_form(client):
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    reply = await chat(client, clerk, "李家坪综合社的信息卡")
    assert "还没有信息卡" in blocks(reply, "notice")[0]["text"]
    [create] = [s["action"] for s in reply["suggestions"] if s.get("action") and s["action"]["intent"] == "coop.edit"]
    form = _form(await chat(client, clerk, intent="coop.edit", params=create["params"]))
    assert form["title"] == "录入信息卡：李家坪综合社" and "version" not in form["submit"]["params"]
    response = await _save(client, clerk, form, members="12", contact_phone="13912345670", address="李家坪3组")
    assert response.status_code == 200, response.text
    assert "已录入" in blocks(response.json(), "notice")[0]["text"]
    stored = await CoopCard.get(unit_id=w.bare.id)
    assert (stored.members, stored.address, stored.assets_fen) == (12, "李家坪3组", None)  # money not entered
    assert await stored_rollups() == await expected_rollups()
    twice = await _save(client, clerk, form, members="13")  # the same new-card form sent again
    assert twice.status_code == 200 and blocks(twice.json(), "notice")[0]["level"] == "warning"
    assert (await CoopCard.get(unit_id=w.bare.id)).members == 12


async def test_viewers_get_no_form_and_nobody_edits_outside_scope(client):
    w = await make_world()
    viewer = await login_at(client, "viewer", w.town, Role.VIEWER, FinanceAccess.ALL)
    card = blocks(await chat(client, viewer, "王家湾村茶叶专业合作社的信息卡"), "card")[0]
    assert not [a for a in card["actions"] if a["intent"] == "coop.edit"]
    assert not blocks(await chat(client, viewer, "编辑王家湾村茶叶专业合作社的信息卡"), "form")
    refused = await client.post(
        "/api/chat",
        json={"action": {"intent": "coop.save", "params": {"unit_id": w.tea.id, "members": "1"}}},
        headers=viewer,
    )
    assert refused.status_code == 200 and not blocks(refused.json(), "card")
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    outside = await chat(client, clerk, intent="coop.edit", params={"unit_id": w.sibling_coop.id})
    assert not blocks(outside, "form") and "999" not in str(outside)
    sent = {"unit_id": w.sibling_coop.id, "members": "1", "version": '"x"'}
    answer = await client.post("/api/chat", json={"action": {"intent": "coop.save", "params": sent}}, headers=clerk)
    assert answer.status_code == 200 and not blocks(answer.json(), "card")
    assert (await CoopCard.get(unit_id=w.sibling_coop.id)).members == 999
    assert (await CoopCard.get(unit_id=w.tea.id)).members == 120


async def test_editing_without_a_name_asks_which_co_op_and_a_unit_that_is_none_says_so(client):
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK)
    assert "哪个合作社" in blocks(await chat(client, clerk, "编辑信息卡"), "notice")[0]["text"]
    assert "不是合作社" in blocks(await chat(client, clerk, "编辑王家湾村的信息卡"), "notice")[0]["text"]
    own = await login_at(client, "coop_clerk", w.tea, Role.CLERK)  # a co-op's own account
    assert _form(await chat(client, own, "录入信息卡"))["title"] == "编辑信息卡：王家湾村茶叶专业合作社"


async def test_a_business_scope_of_several_lines_is_kept_as_typed(client):
    """The form's business scope is a text area, but a line break was refused as a control character."""
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    form = _form(await chat(client, clerk, "编辑王家湾村茶叶专业合作社的信息卡"))
    response = await _save(client, clerk, form, business_scope="茶叶种植\n茶叶加工与销售")
    assert response.status_code == 200, response.text
    assert (await CoopCard.get(unit_id=w.tea.id)).business_scope == "茶叶种植\n茶叶加工与销售"


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("把王家湾村茶叶专业合作社的电话改成13700000026", "contact_phone", "13700000026"),
        ("王家湾村茶叶专业合作社的联系人改为李四", "contact_name", "李四"),
        ("把王家湾村茶叶专业合作社的社员数改成150", "members", "150"),
    ],
)
async def test_a_change_typed_as_a_sentence_opens_the_form_with_the_new_value_in_it(client, text, field, value):
    """ "把…的电话改成137…" was a phone lookup ("您的角色不能进行这项操作" for a clerk): the number was
    read before the question. Nothing is written until the clerk saves the form."""
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    [form] = blocks(await chat(client, clerk, text), "form")
    assert form["title"].endswith("王家湾村茶叶专业合作社")
    assert {f["name"]: f.get("value") for f in form["fields"]}[field] == value
    card = await CoopCard.get(unit_id=w.tea.id)
    assert card.members == 120 and card.contact_name == "王建国"  # unchanged until saved


async def test_the_contact_phone_is_cleared_through_the_form_as_the_api_clears_it(client):
    """The phone is never in the form (masked): left empty it is kept, so the form could not clear it."""
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    form = _form(await chat(client, clerk, "编辑王家湾村茶叶专业合作社的信息卡"))
    [clear] = [f for f in form["fields"] if f["name"] == "clear_contact_phone"]
    assert clear["kind"] == "select" and clear["value"] == "false" and clear["label"] == "清空联系电话"
    both = await _save(client, clerk, form, contact_phone="13700001111", clear_contact_phone="true")
    assert both.status_code == 422 and set(both.json()["error"]["fields"]) == {"clear_contact_phone"}, both.text
    assert (await _save(client, clerk, form, clear_contact_phone="也许")).status_code == 422
    assert (await CoopCard.get(unit_id=w.tea.id)).contact_phone_index is not None
    cleared = await _save(client, clerk, form, clear_contact_phone="true")
    assert cleared.status_code == 200 and blocks(cleared.json(), "notice")[0]["level"] == "success", cleared.text
    stored = await CoopCard.get(unit_id=w.tea.id)
    assert stored.contact_phone_enc is None and stored.contact_phone_index is None
    entry = await AuditEntry.filter(action="coop.card.update").order_by("-id").first()
    assert entry is not None and entry.detail["fields"] == ["contact_phone"]
    # a card without a phone has nothing to clear
    again = _form(await chat(client, clerk, "编辑王家湾村茶叶专业合作社的信息卡"))
    assert "clear_contact_phone" not in {f["name"] for f in again["fields"]}
