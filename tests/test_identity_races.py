"""An agent added, or a unit's account recovered, while a parallel request takes the same phone's
login, the same user name or the same unit's admin account is answered for the reason that holds:
not "already an agent", "busy" or a server error.

On PostgreSQL the other request can commit between the action's look (is the name free? the phone's
login?) and its insert. SQLite runs one transaction at a time, so here the other change commits just
as the action's transaction opens, and the look inside it answers as it would have a moment before."""

from __future__ import annotations

from typing import Any

import pytest
from tortoise.exceptions import IntegrityError

from backend.accounts import people
from backend.accounts.models import Account, Membership
from backend.agents import actions as agent_actions
from backend.agents import messages as agent_msg
from backend.core import messages, runtime, sms
from backend.core.actor import Origin
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from backend.core.sms import SmsMessage
from backend.recovery import actions as recovery
from backend.recovery import messages as recovery_msg
from backend.units.models import Unit
from tests.factories import (
    admin_actor,
    commits_just_before_the_next_transaction,
    first_look_made_before_the_commit,
    login,
    make_account,
    make_tree,
    phone_login_taken_after_the_check,
    phone_login_taken_meanwhile,
)
from tests.test_agent_consent import add_with_consent
from tests.test_recovery import CREDIT_CODE, OTHER_ID, _code, _unit_recovery, _unit_with_legal_rep

AGENT_PHONE = "13912345678"
DRAWN_NAME = "jb12345678"
ADMIN_NAME = f"{CREDIT_CODE}_ADMIN"
LEGAL_REP = {"identity": "legal_rep", "name": "王法人", "id_number": OTHER_ID}


def _error(answer) -> tuple[int, str, str]:
    return answer.status_code, answer.json()["error"]["code"], answer.json()["error"]["message"]


async def _town_admin(client, tree) -> dict[str, str]:
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    return await login(client, "town_admin")


# Agents (R6) ------------------------------------------------------------------------------------


async def test_a_registered_person_whose_phone_login_another_account_took_meanwhile_is_added_without_it(
    client, monkeypatch
):
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    person = await make_account("sibling_clerk", tree.sibling, role=Role.CLERK, phone=AGENT_PHONE, phone_login=False)
    other = await make_account("other", tree.sibling, phone=AGENT_PHONE, phone_login=False)
    phone_login_taken_after_the_check(monkeypatch, other.id)  # looked at when the person's code confirms
    answer = await add_with_consent(client, headers, tree.child.id, phone=AGENT_PHONE, name=person.name)
    assert answer.status_code == 201, answer.text
    assert answer.json()["account_id"] == person.id and answer.json()["new_account"] is False
    assert await Membership.exists(account_id=person.id, unit_id=tree.child.id)
    assert (await Account.get(id=person.id)).login_phone_index is None
    assert (await Account.get(id=other.id)).login_phone_index == runtime.get().vault.index("phone", AGENT_PHONE)
    assert await SmsMessage.filter(template="agent_unit_added_username").count() == 1
    entry = await AuditEntry.get(action="agent.add")
    assert entry.detail["phone_login_on"] is False


async def test_a_new_agent_whose_drawn_user_name_was_taken_meanwhile_is_a_write_conflict_not_busy(client, monkeypatch):
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    first_look_made_before_the_commit(monkeypatch, "generate_username", lambda prefix: DRAWN_NAME)
    first_look_made_before_the_commit(monkeypatch, "free_username", lambda wanted: wanted)

    async def other_takes_the_name() -> None:
        await make_account(DRAWN_NAME, tree.sibling)

    commits_just_before_the_next_transaction(monkeypatch, other_takes_the_name)
    answer = await client.post(
        f"/api/units/{tree.child.id}/agents", headers=headers, json={"phone": AGENT_PHONE, "name": "王小芳"}
    )
    assert _error(answer) == (409, "write_conflict", messages.WRITE_CONFLICT), answer.text
    assert not await Account.filter(phone_index=runtime.get().vault.index("phone", AGENT_PHONE)).exists()
    assert not await SmsMessage.exists(template="agent_added")
    assert not await AuditEntry.exists(action="agent.add")


async def test_a_new_agent_whose_phone_a_parallel_request_registered_meanwhile_is_still_busy(client, monkeypatch):
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    first_look_made_before_the_commit(monkeypatch, "phone_login_free", lambda phone, **kwargs: True)

    async def other_registers_the_phone() -> None:
        await make_account("jb87654321", tree.sibling, phone=AGENT_PHONE)

    commits_just_before_the_next_transaction(monkeypatch, other_registers_the_phone)
    answer = await client.post(
        f"/api/units/{tree.child.id}/agents", headers=headers, json={"phone": AGENT_PHONE, "name": "王小芳"}
    )
    assert _error(answer) == (409, "agent_busy", agent_msg.BUSY), answer.text
    assert await Account.filter(phone_index=runtime.get().vault.index("phone", AGENT_PHONE)).count() == 1
    assert not await Membership.exists(unit_id=tree.child.id)
    assert not await SmsMessage.exists(template="agent_added")


async def test_an_integrity_error_of_no_known_cause_adding_an_agent_is_raised_not_called_busy(monkeypatch):
    tree = await make_tree()
    admin = await make_account("town_admin", tree.own, role=Role.ADMIN)
    actor = admin_actor(admin, await Membership.get(account_id=admin.id), tree.own)

    async def refused(*args: Any, **kwargs: Any) -> None:
        raise IntegrityError("some other constraint")

    monkeypatch.setattr(sms, "queue", refused)
    with pytest.raises(IntegrityError):
        await agent_actions.add_agent(
            actor, tree.child.id, phone=AGENT_PHONE, name="王小芳", id_number=None, role=Role.CLERK
        )
    assert not await Membership.exists(unit_id=tree.child.id)


# Unit account recovery (R4) ---------------------------------------------------------------------


async def _recovery_to_verify(client, tree, new_phone: str) -> tuple[str, str]:
    """A matched legal representative's recovery of ``tree.child``, up to the code: (ticket, code)."""
    sent = await _unit_recovery(client, LEGAL_REP, new_phone)
    assert sent.status_code == 200, sent.text
    return sent.json()["ticket"], await _code(client, new_phone)


async def _verify(client, ticket: str, code: str):
    return await client.post("/api/recovery/unit/verify", json={"ticket": ticket, "code": code})


async def test_two_verifies_of_a_unit_without_an_admin_at_once_make_one_admin_and_refuse_the_other(client, monkeypatch):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)  # no account: each verify would make the unit's admin
    ticket, code = await _recovery_to_verify(client, tree, "13600006666")
    other_ticket, other_code = await _recovery_to_verify(client, tree, "13600007777")

    async def other_verify() -> Any:
        return await recovery.unit_verify(other_ticket, code=other_code, origin=Origin())

    commits_just_before_the_next_transaction(monkeypatch, other_verify)
    answer = await _verify(client, ticket, code)
    assert _error(answer) == (409, "unit_admin_changed", recovery_msg.UNIT_ADMIN_CHANGED), answer.text
    admins = await Account.filter(memberships__unit_id=tree.child.id, memberships__role=Role.ADMIN)
    assert [a.username for a in admins] == [ADMIN_NAME]
    assert runtime.get().vault.decrypt("account.phone", admins[0].phone_enc) == "13600007777"
    assert await SmsMessage.filter(template="unit_recovered").count() == 1
    assert await AuditEntry.filter(action="recovery.unit_account").count() == 1
    # Spent, as by the function's other refusals: the recovery starts again.
    again = await _verify(client, ticket, code)
    assert again.status_code == 410 and again.json()["error"]["code"] == "ticket_invalid", again.text


async def test_a_unit_recovery_whose_admin_was_deactivated_meanwhile_hands_nothing_over(client, monkeypatch):
    """The admin read inside the transaction before a deactivation committed (PostgreSQL: read, the
    deactivation commits, the hand-over writes) was handed over, deactivated, to the new agent."""
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    boss = await make_account("village_boss", tree.child, role=Role.ADMIN, phone="13600005555")
    ticket, code = await _recovery_to_verify(client, tree, "13600006666")
    as_found = await Account.get(id=boss.id)

    async def found_before_the_deactivation(unit: Unit) -> Account:
        return as_found  # what each read found before the deactivation committed

    monkeypatch.setattr(people, "unit_admin_account", found_before_the_deactivation)

    async def deactivated() -> None:
        await Account.filter(id=boss.id).update(is_active=False)

    commits_just_before_the_next_transaction(monkeypatch, deactivated)
    answer = await _verify(client, ticket, code)
    assert _error(answer) == (409, "unit_admin_changed", recovery_msg.UNIT_ADMIN_CHANGED), answer.text
    kept = await Account.get(id=boss.id)
    assert not kept.is_active and kept.phone_index == as_found.phone_index
    assert not await SmsMessage.filter(template="unit_recovered").exists()


async def test_a_unit_recovery_whose_admin_user_name_was_taken_meanwhile_makes_the_admin_under_the_next_free_name(
    client, monkeypatch
):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    new_phone = "13600006666"
    ticket, code = await _recovery_to_verify(client, tree, new_phone)
    first_look_made_before_the_commit(monkeypatch, "free_username", lambda wanted: wanted)

    async def an_admin_creates_that_name() -> None:
        await make_account(ADMIN_NAME, tree.own)

    commits_just_before_the_next_transaction(monkeypatch, an_admin_creates_that_name)
    answer = await _verify(client, ticket, code)
    assert answer.status_code == 200, answer.text
    assert answer.json()["username"] == f"{ADMIN_NAME}_2"
    made = await Account.get(username_key=f"{ADMIN_NAME}_2".lower())
    assert await Membership.exists(account_id=made.id, unit_id=tree.child.id, role=Role.ADMIN)
    taken = await Account.get(username_key=ADMIN_NAME.lower())
    assert await Membership.filter(account_id=taken.id).values_list("unit_id", flat=True) == [tree.own.id]
    assert await SmsMessage.filter(template="unit_recovered").count() == 1
    assert await AuditEntry.filter(action="recovery.unit_account").count() == 1


@pytest.mark.parametrize("admin", ["none", "existing"])
async def test_a_unit_recovery_whose_phone_login_another_account_took_meanwhile_hands_over_without_it(
    client, monkeypatch, admin
):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    if admin == "existing":
        await make_account("village_boss", tree.child, role=Role.ADMIN, phone="13600005555")
    new_phone = "13600006666"
    other = await make_account("other", tree.own, phone=new_phone, phone_login=False)
    ticket, code = await _recovery_to_verify(client, tree, new_phone)
    index = phone_login_taken_meanwhile(monkeypatch, other, new_phone)
    answer = await _verify(client, ticket, code)
    assert answer.status_code == 200, answer.text
    assert answer.json()["username"] == ("village_boss" if admin == "existing" else ADMIN_NAME)
    recovered = await Account.get(username_key=answer.json()["username"].lower())
    assert recovered.phone_index == index and recovered.login_phone_index is None
    assert (await Account.get(id=other.id)).login_phone_index == index
    assert await SmsMessage.filter(template="unit_recovered").count() == 1
    assert await AuditEntry.filter(action="recovery.unit_account").count() == 1
