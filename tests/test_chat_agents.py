"""R6 in chat (the mini-program has no other screen for it): a unit's agents listed, added through a
form, and unbound with a confirmation, by the API's own actions."""

from __future__ import annotations

import httpx

from backend.accounts.models import Account, Membership
from backend.core.roles import Role
from tests.coops_helpers import blocks, chat
from tests.factories import login, make_account, make_tree
from tests.test_agent_consent import consent_code

NEW_PHONE = "13912345678"


async def _send_form(client: httpx.AsyncClient, headers: dict[str, str], form: dict, **values: str) -> httpx.Response:
    params = {**form["submit"]["params"], **values}
    return await client.post(
        "/api/chat", json={"action": {"intent": form["submit"]["intent"], "params": params}}, headers=headers
    )


async def test_an_admin_adds_an_agent_through_the_form_and_sees_the_list(client):
    """ "添加经办人" and "经办人" were looked up as names: the agents' API had no screen in the mini-program."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    headers = await login(client, "town_admin")
    reply = await chat(client, headers, "添加经办人")
    [form] = blocks(reply, "form")
    assert form["title"] == "添加经办人：白沙镇" and form["submit"]["intent"] == "agent.add"
    assert [f["name"] for f in form["fields"]] == ["phone", "name", "id_number", "role"]
    refused = await _send_form(client, headers, form, phone="12345", role="clerk")
    assert refused.status_code == 422 and "phone" in refused.json()["error"]["fields"]
    nameless = await _send_form(client, headers, form, phone=NEW_PHONE, role="clerk")  # a new phone needs a name
    assert nameless.status_code == 422 and "name" in nameless.json()["error"]["fields"]
    added = await _send_form(client, headers, form, phone=NEW_PHONE, name="赵小红", role="viewer")
    assert added.status_code == 200, added.text
    answer = added.json()
    assert blocks(answer, "notice")[0]["level"] == "success" and "赵小红" in blocks(answer, "notice")[0]["text"]
    rows = blocks(answer, "table")[0]["rows"]
    assert ["赵小红", "查看员"] in [[row[0], row[3]] for row in rows]
    sms = (await client.get("/api/dev/sms", params={"phone": NEW_PHONE})).json()["messages"]
    assert len(sms) == 1 and "临时密码" in sms[0]["text"]
    listed = blocks(await chat(client, headers, "经办人"), "table")[0]
    assert listed["title"] == "白沙镇的经办人" and listed["rows"] == rows


async def test_an_agent_is_unbound_after_the_confirmation_the_first_step_shows(client):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    clerk = await make_account("wjg01", tree.own, role=Role.CLERK)
    headers = await login(client, "town_admin")
    table = blocks(await chat(client, headers, "经办人"), "table")[0]
    [row_action] = [a for row, a in zip(table["rows"], table["row_actions"], strict=True) if row[1] == "wjg01"]
    preview = await chat(client, headers, intent=row_action["intent"], params=row_action["params"])
    [card] = blocks(preview, "card")
    assert "测试wjg01" in card["subtitle"] and card["actions"][0]["style"] == "danger"
    assert await Membership.exists(account_id=clerk.id, unit_id=tree.own.id)  # the first step changes nothing
    confirm = card["actions"][0]
    done = await chat(client, headers, intent=confirm["intent"], params=confirm["params"])
    assert blocks(done, "notice")[0]["text"] == "已解除绑定。"
    assert not await Membership.exists(account_id=clerk.id, unit_id=tree.own.id)
    assert await Account.exists(id=clerk.id)  # the account stays
    again = await chat(client, headers, intent=confirm["intent"], params=confirm["params"])  # the ticket is spent
    assert blocks(again, "notice")[0]["level"] == "warning"


async def test_other_roles_may_not_and_nobody_reaches_outside_scope(client):
    tree = await make_tree()
    other = await make_account("taoyuan", tree.sibling, role=Role.CLERK)
    for role in (Role.CLERK, Role.VIEWER):  # as the API: people are the admins' to see and change
        await make_account(f"town_{role.value}", tree.own, role=role)
        headers = await login(client, f"town_{role.value}")
        for text in ("经办人", "添加经办人"):
            assert blocks(await chat(client, headers, text), "notice")[0]["text"].startswith(
                "您的角色不能进行这项操作。"
            )
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    admin = await login(client, "town_admin")
    outside = await chat(
        client, admin, intent="agent.unbind", params={"unit_id": tree.sibling.id, "account_id": other.id}
    )
    assert not blocks(outside, "card") and await Membership.exists(account_id=other.id, unit_id=tree.sibling.id)
    listed = await chat(client, admin, intent="agent.list", params={"unit_id": tree.sibling.id})
    assert not blocks(listed, "table") and "taoyuan" not in str(listed)


async def test_the_form_asks_for_the_name_and_a_registered_phone_with_another_name_is_refused_under_the_phone(client):
    """The form said a registered phone needs no name: a mistyped digit then added a stranger."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    stranger = await make_account("li_agent", tree.sibling, role=Role.CLERK, phone=NEW_PHONE)
    headers = await login(client, "town_admin")
    [form] = blocks(await chat(client, headers, "添加经办人"), "form")
    [name_field] = [f for f in form["fields"] if f["name"] == "name"]
    assert name_field["required"] is True and name_field["label"] == "姓名"
    refused = await _send_form(client, headers, form, phone=NEW_PHONE, name="赵小红", role="clerk")
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "agent_name_mismatch" and set(error["fields"]) == {"phone"}
    assert stranger.name not in refused.text
    nameless = await _send_form(client, headers, form, phone=NEW_PHONE, role="clerk")
    assert nameless.status_code == 422 and "name" in nameless.json()["error"]["fields"]
    assert not await Membership.exists(account_id=stranger.id, unit_id=tree.own.id)
    asked = await _send_form(client, headers, form, phone=NEW_PHONE, name=stranger.name, role="clerk")
    assert asked.status_code == 200, asked.text
    [code_form] = blocks(asked.json(), "form")  # the person's consent: the code sent to their phone
    assert not await Membership.exists(account_id=stranger.id, unit_id=tree.own.id)
    added = await _send_form(client, headers, code_form, code=await consent_code(client, NEW_PHONE))
    assert added.status_code == 200, added.text
    assert await Membership.exists(account_id=stranger.id, unit_id=tree.own.id)
