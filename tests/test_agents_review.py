"""Review of the agents of a unit (R6) as an operator and as an admin with a valid session: what a
unit keeps for the record, the same person added twice, and what the chat list offers."""

from __future__ import annotations

import httpx

from backend.accounts.models import Account, Membership
from backend.agents import messages as msg
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from backend.core.sms import SmsMessage
from tests.coops_helpers import blocks, chat
from tests.factories import login, make_account, make_tree

AGENT_PHONE = "13912345678"
OTHER_PHONE = "13912340001"
ID_NUMBER = "11010519491231002X"


async def _town_admin(client: httpx.AsyncClient, tree) -> dict[str, str]:
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    return await login(client, "town_admin")


def _refused(answer: httpx.Response, status: int, code: str, message: str) -> None:
    assert answer.status_code == status, answer.text
    assert (answer.json()["error"]["code"], answer.json()["error"]["message"]) == (code, message), answer.text


async def _preview(client, headers, unit_id: int, account_id: int) -> httpx.Response:
    return await client.post(f"/api/units/{unit_id}/agents/{account_id}/unbind", headers=headers)


async def _confirm(client, headers, unit_id: int, account_id: int, ticket: str) -> httpx.Response:
    return await client.post(
        f"/api/units/{unit_id}/agents/{account_id}/unbind/confirm", headers=headers, json={"ticket": ticket}
    )


# A deactivated account keeps its units ------------------------------------------------------------


async def test_a_deactivated_agent_is_not_unbound_its_unit_stays_on_record(client):
    """A deactivated account keeps its units for the record (the accounts' own removal refuses it,
    and a unit holding one cannot be deleted): unbinding it took the record away, and with it the
    unit delete's refusal."""
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    agent = await make_account("village_clerk", tree.child, role=Role.CLERK)
    deactivated = await client.post(f"/api/accounts/{agent.id}/deactivate", headers=headers)
    assert deactivated.status_code in (200, 204), deactivated.text
    _refused(await _preview(client, headers, tree.child.id, agent.id), 409, "account_deactivated", msg.DEACTIVATED)
    assert await Membership.exists(account_id=agent.id, unit_id=tree.child.id)
    assert not await AuditEntry.exists(action="agent.unbind")
    kept = await client.delete(f"/api/units/{tree.child.id}", headers=headers)
    assert kept.status_code == 409 and kept.json()["error"]["code"] == "unit_not_empty", kept.text


async def test_an_agent_deactivated_after_the_preview_is_not_unbound_by_the_confirmation(client):
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    agent = await make_account("village_clerk", tree.child, role=Role.CLERK)
    preview = await _preview(client, headers, tree.child.id, agent.id)
    assert preview.status_code == 200, preview.text
    assert (await client.post(f"/api/accounts/{agent.id}/deactivate", headers=headers)).status_code in (200, 204)
    answer = await _confirm(client, headers, tree.child.id, agent.id, preview.json()["ticket"])
    _refused(answer, 409, "account_deactivated", msg.DEACTIVATED)
    assert await Membership.exists(account_id=agent.id, unit_id=tree.child.id)
    assert not await AuditEntry.exists(action="agent.unbind")


# The same person added twice ----------------------------------------------------------------------


async def test_the_same_person_is_not_added_twice_to_a_unit_under_another_phone(client):
    """A new phone with the ID number of someone already working for the unit is that person again
    (a second phone, or a new one): a second account for them in the unit, with a second temporary
    password, would leave the old one working beside it."""
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    url = f"/api/units/{tree.child.id}/agents"
    first = await client.post(
        url, headers=headers, json={"phone": AGENT_PHONE, "name": "王小芳", "id_number": ID_NUMBER}
    )
    assert first.status_code == 201, first.text
    again = await client.post(
        url, headers=headers, json={"phone": OTHER_PHONE, "name": "王小芳", "id_number": ID_NUMBER.lower()}
    )
    assert again.status_code == 409, again.text
    error = again.json()["error"]
    assert error["code"] == "agent_exists" and first.json()["username"] in error["message"]
    # In chat the form's send is answered in the conversation, as for the same phone.
    params = {"unit_id": tree.child.id, "phone": OTHER_PHONE, "name": "王小芳", "id_number": ID_NUMBER, "role": "clerk"}
    [notice] = blocks(await chat(client, headers, intent="agent.add", params=params), "notice")
    assert notice["level"] == "warning" and notice["text"] == error["message"]
    assert await Account.all().count() == 2  # the admin and the person once
    assert await SmsMessage.filter(template="agent_added").count() == 1
    assert await AuditEntry.filter(action="agent.add").count() == 1
    # Without the ID number nothing tells the admin means the same person: a new phone opens an account.
    elsewhere = await client.post(
        f"/api/units/{tree.own.id}/agents", headers=headers, json={"phone": OTHER_PHONE, "name": "王小芳"}
    )
    assert elsewhere.status_code == 201, elsewhere.text


async def test_a_deactivated_account_with_the_id_number_does_not_block_the_person_coming_back(client):
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    url = f"/api/units/{tree.child.id}/agents"
    first = await client.post(
        url, headers=headers, json={"phone": AGENT_PHONE, "name": "王小芳", "id_number": ID_NUMBER}
    )
    assert first.status_code == 201, first.text
    gone = await client.post(f"/api/accounts/{first.json()['account_id']}/deactivate", headers=headers)
    assert gone.status_code in (200, 204), gone.text
    back = await client.post(
        url, headers=headers, json={"phone": OTHER_PHONE, "name": "王小芳", "id_number": ID_NUMBER}
    )
    assert back.status_code == 201 and back.json()["new_account"] is True, back.text


# The chat list --------------------------------------------------------------------------------------


async def test_the_chat_list_says_which_agents_are_deactivated_and_offers_no_unbind_that_cannot_be(client):
    """The API says ``is_active``; the chat table showed a deactivated agent as any other, and a
    "解除绑定" under it, under the admin's own row and a peer admin's, that are always refused."""
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    clerk = await make_account("wjg01", tree.own, role=Role.CLERK)
    gone = await make_account("wjg02", tree.own, role=Role.CLERK)
    await make_account("peer_admin", tree.own, role=Role.ADMIN)
    assert (await client.post(f"/api/accounts/{gone.id}/deactivate", headers=headers)).status_code in (200, 204)
    table = blocks(await chat(client, headers, "经办人"), "table")[0]
    by_username = {row[1]: (row, action) for row, action in zip(table["rows"], table["row_actions"], strict=True)}
    row, action = by_username["wjg01"]
    assert msg.CHAT_DEACTIVATED not in row and action["params"] == {"unit_id": tree.own.id, "account_id": clerk.id}
    row, action = by_username["wjg02"]
    assert msg.CHAT_DEACTIVATED in row[0] and action is None
    assert by_username["town_admin"][1] is None and by_username["peer_admin"][1] is None
