"""Review of the agents of a unit (R6): an agent added or unbound while another admin changes the
same account is answered for the state that holds, and nothing is written past a changed state.

Agents' writes lock the account's row first in their transaction, as every account action does
(backend.accounts.actions.lock_account), and check again under it. On PostgreSQL the other change can
commit between the action's first checks and its write; SQLite runs one transaction at a time, so here
it commits just as the action's transaction opens (tests.factories.commits_just_before_the_next_transaction)."""

from __future__ import annotations

from backend.accounts import actions as account_actions
from backend.accounts.models import Account, Membership
from backend.agents import actions as agent_actions
from backend.agents import messages as msg
from backend.core import runtime
from backend.core.audit import AuditEntry
from backend.core.roles import FinanceAccess, Role
from backend.core.sms import SmsMessage
from tests.factories import admin_actor, commits_just_before_the_next_transaction, login, make_account, make_tree

AGENT_PHONE = "13912345678"
NEW_PHONE = "13912340001"


async def _town_admin(client, tree) -> dict[str, str]:
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    return await login(client, "town_admin")


async def _admin_actor(username: str, unit):
    """Another admin, for the change made straight through the actions."""
    account = await make_account(username, unit, role=Role.ADMIN)
    return admin_actor(account, await Membership.get(account_id=account.id), unit)


def _refused(answer, status: int, code: str, message: str) -> None:
    assert answer.status_code == status, answer.text
    assert (answer.json()["error"]["code"], answer.json()["error"]["message"]) == (code, message), answer.text


async def _preview(client, headers, unit_id: int, account_id: int) -> dict:
    answer = await client.post(f"/api/units/{unit_id}/agents/{account_id}/unbind", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _confirm(client, headers, unit_id: int, account_id: int, ticket: str):
    return await client.post(
        f"/api/units/{unit_id}/agents/{account_id}/unbind/confirm", headers=headers, json={"ticket": ticket}
    )


# Unbind ------------------------------------------------------------------------------------------


async def test_an_agent_made_admin_of_the_unit_meanwhile_is_not_unbound_by_a_peer_admin(client, monkeypatch):
    """The town's admin may unbind a clerk of its own unit, not another admin of it: the county's
    admin promoting the clerk between the town admin's checks and the delete is seen."""
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    agent = await make_account("town_clerk", tree.own, role=Role.CLERK)
    ticket = (await _preview(client, headers, tree.own.id, agent.id))["ticket"]
    county = await _admin_actor("county_admin", tree.parent)
    commits_just_before_the_next_transaction(
        monkeypatch,
        lambda: account_actions.set_membership(
            county, agent.id, unit_id=tree.own.id, role=Role.ADMIN, finance_access=FinanceAccess.NONE
        ),
    )
    answer = await _confirm(client, headers, tree.own.id, agent.id, ticket)
    _refused(answer, 403, "cannot_unbind", msg.CANNOT_UNBIND)
    assert await Membership.filter(account_id=agent.id, unit_id=tree.own.id).values_list("role", flat=True) == [
        Role.ADMIN
    ]
    assert not await AuditEntry.exists(action="agent.unbind")


async def test_an_unbind_confirmed_as_not_the_last_unit_is_refused_when_the_other_unit_went_meanwhile(
    client, monkeypatch
):
    """The preview said the person keeps another unit; another admin took that one away before the
    confirmation: the person would be left with no unit without the admin having been told."""
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    agent = await make_account("two_units", tree.child, role=Role.CLERK)
    await Membership.create(account_id=agent.id, unit_id=tree.own.id, role=Role.CLERK, created_at=agent.created_at)
    preview = await _preview(client, headers, tree.child.id, agent.id)
    assert preview["last_unit"] is False
    county = await _admin_actor("county_admin", tree.parent)
    commits_just_before_the_next_transaction(
        monkeypatch, lambda: account_actions.remove_membership(county, agent.id, unit_id=tree.own.id)
    )
    answer = await _confirm(client, headers, tree.child.id, agent.id, preview["ticket"])
    _refused(answer, 409, "agent_changed", msg.AGENT_CHANGED)
    assert await Membership.filter(account_id=agent.id).values_list("unit_id", flat=True) == [tree.child.id]
    assert not await AuditEntry.exists(action="agent.unbind")
    # Asked again, the admin is told it is the last unit, and may go on.
    again = await _preview(client, headers, tree.child.id, agent.id)
    assert again["last_unit"] is True and msg.UNBIND_LAST_UNIT in again["notice"]
    assert (await _confirm(client, headers, tree.child.id, agent.id, again["ticket"])).status_code == 204
    assert (await AuditEntry.get(action="agent.unbind")).detail["last_unit"] is True


async def test_an_unbind_previewed_as_the_last_unit_goes_on_when_a_unit_was_added_meanwhile(client, monkeypatch):
    """The other way round nothing worse than announced happens: the person keeps the new unit."""
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    agent = await make_account("village_clerk", tree.child, role=Role.CLERK)
    preview = await _preview(client, headers, tree.child.id, agent.id)
    assert preview["last_unit"] is True
    county = await _admin_actor("county_admin", tree.parent)
    commits_just_before_the_next_transaction(
        monkeypatch,
        lambda: account_actions.set_membership(
            county, agent.id, unit_id=tree.sibling.id, role=Role.CLERK, finance_access=FinanceAccess.NONE
        ),
    )
    answer = await _confirm(client, headers, tree.child.id, agent.id, preview["ticket"])
    assert answer.status_code == 204, answer.text
    assert await Membership.filter(account_id=agent.id).values_list("unit_id", flat=True) == [tree.sibling.id]
    assert (await AuditEntry.get(action="agent.unbind")).detail["last_unit"] is False


def _locks_recorded(monkeypatch, check) -> list[int]:
    """The accounts whose row the agents' writes lock (backend.accounts.actions.lock_account), with
    ``check(account_id)`` asserting what the database holds at that moment."""
    locked: list[int] = []
    real = account_actions.lock_account

    async def recorded(account_id: int) -> Account | None:
        locked.append(account_id)
        await check(account_id)
        return await real(account_id)

    monkeypatch.setattr(account_actions, "lock_account", recorded)
    return locked


async def test_an_unbind_takes_turns_with_the_account_actions_on_the_account_row(client, monkeypatch):
    """The confirmation locks the account's row (as every account action does) before it deletes:
    on PostgreSQL it waits for, and then sees, another admin's change to the account."""
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    agent = await make_account("village_clerk", tree.child, role=Role.CLERK)
    ticket = (await _preview(client, headers, tree.child.id, agent.id))["ticket"]

    async def nothing_deleted_yet(account_id: int) -> None:
        assert await Membership.exists(account_id=account_id, unit_id=tree.child.id)

    locked = _locks_recorded(monkeypatch, nothing_deleted_yet)
    assert (await _confirm(client, headers, tree.child.id, agent.id, ticket)).status_code == 204
    assert locked == [agent.id]


# Adding a registered person needs their consent: its races are in tests/test_agent_consent.py.


async def test_a_new_phone_added_by_two_admins_at_once_gets_one_account_and_one_password(client, monkeypatch):
    """Both found nobody behind the phone; the one that commits second must not open a second account
    for the same person (without phone login, with a second temporary password by SMS)."""
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    sibling = await _admin_actor("sibling_admin", tree.sibling)
    commits_just_before_the_next_transaction(
        monkeypatch,
        lambda: agent_actions.add_agent(
            sibling, tree.sibling.id, phone=AGENT_PHONE, name="王小芳", id_number=None, role=Role.CLERK
        ),
    )
    answer = await client.post(
        f"/api/units/{tree.child.id}/agents", headers=headers, json={"phone": AGENT_PHONE, "name": "王小芳"}
    )
    _refused(answer, 409, "agent_busy", msg.BUSY)
    index = runtime.get().vault.index("phone", AGENT_PHONE)
    assert await Account.filter(phone_index=index).count() == 1
    assert await SmsMessage.filter(template="agent_added").count() == 1
    assert not await Membership.exists(unit_id=tree.child.id)
    # Sent again, the person registered meanwhile joins the unit.
    again = await client.post(
        f"/api/units/{tree.child.id}/agents", headers=headers, json={"phone": AGENT_PHONE, "name": "王小芳"}
    )
    assert again.status_code == 202, again.text  # registered now: their consent is asked for
