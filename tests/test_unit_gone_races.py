"""A person added, a card logging in, or a unit's account recovered while the unit is deleted is
refused for that reason: not "busy", "already an agent" or a server error.

A unit delete locks the unit and refuses while a membership exists; a write that arrives meanwhile
waits for it (PostgreSQL) and then finds the unit gone. Here the delete commits just as the action's
transaction opens: after its checks, before its writes (SQLite enforces foreign keys)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from backend.accounts.models import Account, Membership
from backend.cards import actions as cards
from backend.cards import messages as card_msg
from backend.cards.models import CardBinding
from backend.cards.verify import CardHolder, CardRefused
from backend.core import messages
from backend.core.actor import Origin
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from backend.core.sms import SmsMessage
from backend.recovery import messages as recovery_msg
from backend.units import actions as unit_actions
from backend.units.models import Unit
from tests.factories import (
    Tree,
    admin_actor,
    commits_just_before_the_next_transaction,
    login,
    make_account,
    make_tree,
)
from tests.test_card_auth import coop_with_code, id_number
from tests.test_recovery import CREDIT_CODE, OTHER_ID, _code, _unit_recovery, _unit_with_legal_rep

AGENT_PHONE = "13912345678"


async def _county_deletes(tree: Tree, unit: Unit) -> Callable[[], Awaitable[None]]:
    """The county's admin deleting ``unit`` (empty when the action under test checked)."""
    county = await make_account("county_admin", tree.parent, role=Role.ADMIN)
    actor = admin_actor(county, await Membership.get(account_id=county.id), tree.parent)
    return lambda: unit_actions.delete_unit(actor, unit.id)


async def test_an_agent_with_a_new_phone_added_to_a_unit_deleted_meanwhile_is_not_found_not_busy(client, monkeypatch):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    headers = await login(client, "town_admin")
    commits_just_before_the_next_transaction(monkeypatch, await _county_deletes(tree, tree.child))
    answer = await client.post(
        f"/api/units/{tree.child.id}/agents", headers=headers, json={"phone": AGENT_PHONE, "name": "王小芳"}
    )
    assert answer.status_code == 404, answer.text
    assert (answer.json()["error"]["code"], answer.json()["error"]["message"]) == ("not_found", messages.NOT_FOUND)
    assert not await Unit.exists(id=tree.child.id)
    assert await Account.all().count() == 2  # the two admins: no account for the phone
    assert not await SmsMessage.exists(template="agent_added")
    assert not await AuditEntry.exists(action="agent.add")


async def test_a_card_login_into_a_unit_deleted_after_it_was_looked_up_is_refused_as_unknown_not_a_server_error(
    monkeypatch,
):
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    holder = CardHolder(
        card_number="88001234",
        holder_name="李四",
        id_number=id_number(1),
        unit_name=coop.name,
        credit_code=coop.credit_code or "",
        kind="legal_rep",  # the co-op has no admin: this login would make one
        issuer="i",
        certificate_sha256="x",
    )
    commits_just_before_the_next_transaction(monkeypatch, await _county_deletes(tree, coop))
    try:
        await cards.login_by_card(holder, device_unit_path=tree.own.path, origin=Origin())
    except CardRefused as refused:
        assert (refused.code, refused.message, refused.status) == ("card_unit_unknown", card_msg.UNIT_UNKNOWN, 403)
    else:
        raise AssertionError("the card login into a deleted unit was not refused")
    assert not await Unit.exists(id=coop.id)
    assert not await Account.exists(username="88001234_ADMIN")
    assert not await CardBinding.exists()
    assert not await AuditEntry.filter(action__in=["account.create", "card.bind"]).exists()


async def test_a_unit_account_recovered_while_the_unit_is_deleted_is_refused_as_gone_and_changes_nothing(
    client, monkeypatch
):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)  # no account: the recovery would make the unit's admin
    new_phone = "13600006666"
    sent = await _unit_recovery(client, {"identity": "legal_rep", "name": "王法人", "id_number": OTHER_ID}, new_phone)
    assert sent.status_code == 200, sent.text
    code = await _code(client, new_phone)
    commits_just_before_the_next_transaction(monkeypatch, await _county_deletes(tree, tree.child))
    answer = await client.post("/api/recovery/unit/verify", json={"ticket": sent.json()["ticket"], "code": code})
    assert answer.status_code == 410, answer.text
    assert (answer.json()["error"]["code"], answer.json()["error"]["message"]) == ("unit_gone", recovery_msg.UNIT_GONE)
    assert not await Unit.exists(id=tree.child.id)
    assert not await Account.exists(username_key=f"{CREDIT_CODE}_admin".lower())
    assert not await SmsMessage.exists(template="unit_recovered")
    assert not await AuditEntry.exists(action="recovery.unit_account")
