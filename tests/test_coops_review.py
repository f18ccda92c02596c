"""Review of the co-op card writes (D1): a write that changes nothing, a refused pair of years named
where the clerk typed, a new card's form racing another clerk's card, and the numbers of a chat form
typed in full width or sent as a yes or no."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from backend.coops import actions
from backend.coops.models import CoopCard
from backend.core.audit import AuditEntry
from backend.core.roles import FinanceAccess, Role
from tests.coops_helpers import actor_at, blocks, chat, expected_rollups, login_at, make_world, stored_rollups


def _form(reply: dict) -> dict:
    [form] = blocks(reply, "form")
    return form


async def _save(client: httpx.AsyncClient, headers: dict[str, str], form: dict, **changed: Any) -> httpx.Response:
    """The form sent as the mini-program sends it: its submit params and every field holding a value."""
    values = {**{f["name"]: f["value"] for f in form["fields"] if f.get("value") not in (None, "")}, **changed}
    params = {**form["submit"]["params"], **{k: v for k, v in values.items() if v is not None}}
    return await client.post("/api/chat", json={"action": {"intent": "coop.save", "params": params}}, headers=headers)


async def test_a_patch_that_changes_nothing_keeps_the_version_and_files_no_audit_entry(client):
    """A PATCH sending the card's own values moved its ETag and filed "coop.card.update": a clerk
    holding the tag was then refused (412, "changed by someone else") though nothing had changed."""
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    other = await login_at(client, "other", w.town, Role.CLERK, FinanceAccess.ALL)
    read = await client.get(f"/api/coops/{w.tea.id}", headers=other)
    tag, before = read.headers["etag"], await CoopCard.get(unit_id=w.tea.id)
    same = {"members": 120, "profit": "-1.5", "assets": "123.456789", "contact_name": "王建国", "is_benchmark": True}
    response = await client.patch(f"/api/coops/{w.tea.id}", headers=clerk, json=same)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == tag
    assert (await CoopCard.get(unit_id=w.tea.id)).updated_at == before.updated_at
    assert not await AuditEntry.filter(action="coop.card.update").exists()
    # the other clerk's tag still names the card as it is
    changed = await client.patch(f"/api/coops/{w.tea.id}", headers={**other, "If-Match": tag}, json={"staff": 9})
    assert changed.status_code == 200, changed.text
    # a write that changes something names only what it changed
    mixed = await client.patch(f"/api/coops/{w.tea.id}", headers=clerk, json={"members": 120, "staff": 10})
    assert mixed.status_code == 200, mixed.text
    entries = await AuditEntry.filter(action="coop.card.update").order_by("id")
    assert [e.detail["fields"] for e in entries] == [["staff"], ["staff"]]
    assert await stored_rollups() == await expected_rollups()


async def test_money_sent_unchanged_by_a_clerk_without_finance_access_is_still_refused(client):
    """ "Nothing changed" must not answer where "finance_required" does: it would confirm the figure."""
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.NONE)
    response = await client.patch(f"/api/coops/{w.tea.id}", headers=clerk, json={"assets": "123.456789"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "finance_required"


async def test_a_stale_if_match_is_refused_even_when_the_patch_changes_nothing(client):
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    tag = (await client.get(f"/api/coops/{w.tea.id}", headers=clerk)).headers["etag"]
    assert (await client.patch(f"/api/coops/{w.tea.id}", headers=clerk, json={"staff": 9})).status_code == 200
    stale = await client.patch(f"/api/coops/{w.tea.id}", headers={**clerk, "If-Match": tag}, json={"staff": 9})
    assert stale.status_code == 412, stale.text


@pytest.mark.parametrize(
    ("typed", "named"),
    [
        ({"report_year": "2010"}, {"report_year"}),  # only the data year was typed: it is the one named
        ({"founded_year": "2021"}, {"founded_year"}),
        ({"founded_year": "2021", "report_year": "2010"}, {"founded_year", "report_year"}),
    ],
)
async def test_a_founding_year_after_the_data_year_is_named_where_the_clerk_typed(client, typed, named):
    """The form opens again with the message under the fields named: a clerk who changed only the data
    year found it under the founding year, which they had not touched, and none under their own."""
    w = await make_world()
    await actions.update_card(actor_at(w.county), w.tea.id, {"founded_year": 2015, "report_year": 2020})
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    form = _form(await chat(client, clerk, "编辑王家湾村茶叶专业合作社的信息卡"))
    response = await _save(client, clerk, form, **typed)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert set(error["fields"]) == named and all(error["fields"].values())
    rest = await client.patch(f"/api/coops/{w.tea.id}", headers=clerk, json={k: int(v) for k, v in typed.items()})
    assert rest.status_code == 422 and set(rest.json()["error"]["fields"]) == named
    stored = await CoopCard.get(unit_id=w.tea.id)
    assert (stored.founded_year, stored.report_year) == (2015, 2020)


async def test_a_new_card_form_saved_after_another_clerk_wrote_the_card_answers_the_form_again(client, monkeypatch):
    """Two clerks fill in the same co-op's first card: the second to save got a bare "already has a
    card" notice, and what they had typed was gone; a card changed meanwhile answers the form again."""
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    form = _form(await chat(client, clerk, intent="coop.edit", params={"unit_id": w.bare.id}))
    assert "version" not in form["submit"]["params"]
    create = actions.create_card

    async def other_clerk_first(actor, *, unit_id, fields):  # between the form's read and the write
        monkeypatch.setattr(actions, "create_card", create)
        await create(actor_at(w.town), unit_id=unit_id, fields={"members": 7, "staff": 2})
        return await create(actor, unit_id=unit_id, fields=fields)

    monkeypatch.setattr(actions, "create_card", other_clerk_first)
    response = await _save(client, clerk, form, members="12", address="李家坪3组")
    assert response.status_code == 200, response.text
    reply = response.json()
    [notice] = blocks(reply, "notice")
    assert notice["level"] == "warning" and "社员数 12" in notice["text"] and "李家坪3组" in notice["text"]
    again = _form(reply)
    shown = {f["name"]: f.get("value") for f in again["fields"]}
    assert shown["members"] == "7" and "version" in again["submit"]["params"]
    stored = await CoopCard.get(unit_id=w.bare.id)
    assert (stored.members, stored.address) == (7, None)  # the other clerk's card, not overwritten
    saved = await _save(client, clerk, again, members="12")
    assert saved.status_code == 200 and blocks(saved.json(), "notice")[0]["level"] == "success"
    assert (await CoopCard.get(unit_id=w.bare.id)).members == 12
    assert await stored_rollups() == await expected_rollups()


async def test_numbers_typed_in_full_width_are_read_as_the_digits_they_are(client):
    """A phone's Chinese keyboard in full-width mode types "１５０" and "－２．５": the money field took
    full-width digits, the counts refused them as "格式不正确", and a full-width minus or point
    refused a loss that looks right on the screen."""
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    form = _form(await chat(client, clerk, "编辑王家湾村茶叶专业合作社的信息卡"))
    response = await _save(client, clerk, form, members="１５０", profit="－２．５", founded_year="２０１８")
    assert response.status_code == 200, response.text
    stored = await CoopCard.get(unit_id=w.tea.id)
    assert (stored.members, stored.profit_fen, stored.founded_year) == (150, -2_500_000, 2018)
    assert await stored_rollups() == await expected_rollups()


@pytest.mark.parametrize("field", ["members", "staff", "founded_year"])
async def test_a_yes_or_no_sent_for_a_number_is_refused_not_stored_as_one(client, field):
    """A form's number sent as JSON true was stored as 1 (a member count of one), not refused."""
    w = await make_world()
    clerk = await login_at(client, "clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    form = _form(await chat(client, clerk, "编辑王家湾村茶叶专业合作社的信息卡"))
    response = await _save(client, clerk, form, **{field: True})
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]
    stored = await CoopCard.get(unit_id=w.tea.id)
    assert (stored.members, stored.staff, stored.founded_year) == (120, 8, None)
