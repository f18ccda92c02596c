"""P2, P6, P10: changing an account's role in a unit. Finance access not sent is kept, finance access
resent unchanged is no grant, and the audit entry says what the role and finance access were."""

from __future__ import annotations

from dataclasses import replace

from backend.accounts import actions
from backend.accounts import messages as msg
from backend.accounts.models import Account, Membership
from backend.core import runtime
from backend.core.actor import Actor
from backend.core.audit import AuditEntry
from backend.core.roles import FinanceAccess, Role
from tests.factories import Tree, admin_actor, commits_just_before_the_next_transaction, login, make_account, make_tree


async def _finance(account_id: int, unit_id: int) -> FinanceAccess:
    return (await Membership.get(account_id=account_id, unit_id=unit_id)).finance_access


async def _county_admin_with_finance(tree: Tree) -> Actor:
    """The county's admin, with every finance access, as an actor for calling actions directly
    (another admin's change landing while the one under test is under way)."""
    county_admin = await make_account("county_admin", tree.parent, role=Role.ADMIN, finance=FinanceAccess.ALL)
    membership = await Membership.get(account_id=county_admin.id)
    return replace(admin_actor(county_admin, membership, tree.parent), finance_access=FinanceAccess.ALL)


async def test_a_role_change_that_does_not_send_finance_access_keeps_the_finance_access_it_had(client):
    """The village's cashier is made a viewer: the role form sent only the role, and the cashier lost
    every money figure without anyone choosing so."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN, finance=FinanceAccess.ALL)
    cashier = await make_account("cashier", tree.child, role=Role.CLERK, finance=FinanceAccess.ALL)
    headers = await login(client, "town_admin")
    changed = await client.put(
        f"/api/accounts/{cashier.id}/memberships", headers=headers, json={"unit_id": tree.child.id, "role": "viewer"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "viewer" and changed.json()["finance_access"] == "all"
    assert await _finance(cashier.id, tree.child.id) == FinanceAccess.ALL
    lowered = await client.put(
        f"/api/accounts/{cashier.id}/memberships",
        headers=headers,
        json={"unit_id": tree.child.id, "role": "viewer", "finance_access": "none"},
    )
    assert lowered.status_code == 200 and await _finance(cashier.id, tree.child.id) == FinanceAccess.NONE
    added = await client.put(
        f"/api/accounts/{cashier.id}/memberships", headers=headers, json={"unit_id": tree.own.id, "role": "viewer"}
    )
    assert added.status_code == 200 and await _finance(cashier.id, tree.own.id) == FinanceAccess.NONE


async def test_an_admin_without_finance_access_changes_the_role_of_an_account_with_it(client):
    """The town's admin (no finance access) promotes the cashier to clerk; the form resends the
    cashier's finance access as shown. Nothing is granted: the role changes, the access stays."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    cashier = await make_account("cashier", tree.child, role=Role.VIEWER, finance=FinanceAccess.ALL)
    headers = await login(client, "town_admin")
    for body in ({"role": "clerk"}, {"role": "viewer", "finance_access": "all"}):
        changed = await client.put(
            f"/api/accounts/{cashier.id}/memberships", headers=headers, json={"unit_id": tree.child.id, **body}
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["role"] == body["role"] and changed.json()["finance_access"] == "all"


async def test_resending_finance_access_another_admin_took_away_meanwhile_is_refused_as_a_grant(client, monkeypatch):
    """The county's admin takes the cashier's finance access away as the town's admin (who has none)
    saves the role form that still shows it: saving it would grant what the town's admin cannot."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    cashier = await make_account("cashier", tree.child, role=Role.VIEWER, finance=FinanceAccess.ALL)
    headers = await login(client, "town_admin")
    county = await _county_admin_with_finance(tree)
    commits_just_before_the_next_transaction(
        monkeypatch,
        lambda: actions.set_membership(
            county, cashier.id, unit_id=tree.child.id, role=Role.VIEWER, finance_access=FinanceAccess.NONE
        ),
    )
    answer = await client.put(
        f"/api/accounts/{cashier.id}/memberships",
        headers=headers,
        json={"unit_id": tree.child.id, "role": "clerk", "finance_access": "all"},
    )
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "finance_too_high", answer.text
    assert answer.json()["error"]["message"] == msg.FINANCE_TOO_HIGH
    membership = await Membership.get(account_id=cashier.id, unit_id=tree.child.id)
    assert (membership.role, membership.finance_access) == (Role.VIEWER, FinanceAccess.NONE)
    assert await AuditEntry.filter(action="membership.set").count() == 1  # the county admin's only


async def test_the_audit_entry_of_a_role_change_says_what_the_role_and_finance_access_were(client):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN, finance=FinanceAccess.ALL)
    cashier = await make_account("cashier", tree.child, role=Role.CLERK, finance=FinanceAccess.ALL)
    headers = await login(client, "town_admin")
    changed = await client.put(
        f"/api/accounts/{cashier.id}/memberships",
        headers=headers,
        json={"unit_id": tree.child.id, "role": "viewer", "finance_access": "none"},
    )
    assert changed.status_code == 200, changed.text
    added = await client.put(
        f"/api/accounts/{cashier.id}/memberships", headers=headers, json={"unit_id": tree.own.id, "role": "viewer"}
    )
    assert added.status_code == 200, added.text
    entries = await AuditEntry.filter(action="membership.set").order_by("id")
    assert [e.detail for e in entries] == [
        {
            "unit_id": tree.child.id,
            "role": "viewer",
            "finance_access": "none",
            "from_role": "clerk",
            "from_finance_access": "all",
        },
        {
            "unit_id": tree.own.id,
            "role": "viewer",
            "finance_access": "none",
            "from_role": None,
            "from_finance_access": None,
        },
    ]


async def test_the_audit_entry_of_a_unit_taken_away_says_which_role_and_finance_access_it_had(client):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    member = await make_account("two_units", tree.own, role=Role.VIEWER)
    await Membership.create(
        account_id=member.id,
        unit_id=tree.child.id,
        role=Role.CLERK,
        finance_access=FinanceAccess.ALL,
        created_at=member.created_at,
    )
    headers = await login(client, "town_admin")
    removed = await client.delete(f"/api/accounts/{member.id}/memberships/{tree.child.id}", headers=headers)
    assert removed.status_code == 204, removed.text
    entry = await AuditEntry.get(action="membership.remove")
    assert entry.detail == {"unit_id": tree.child.id, "role": "clerk", "finance_access": "all"}


async def test_a_deactivated_account_keeps_its_units_none_is_taken_away(client):
    """A deactivated account keeps its units for the record (a unit holding one is not deleted): taking
    one away let the unit go, and with it where the account had worked."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    member = await make_account("two_units", tree.own, role=Role.VIEWER)
    await Membership.create(account_id=member.id, unit_id=tree.child.id, role=Role.CLERK, created_at=member.created_at)
    headers = await login(client, "town_admin")
    assert (await client.post(f"/api/accounts/{member.id}/deactivate", headers=headers)).status_code == 204
    answer = await client.delete(f"/api/accounts/{member.id}/memberships/{tree.child.id}", headers=headers)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "account_deactivated", answer.text
    assert answer.json()["error"]["message"] == msg.ALREADY_DEACTIVATED
    assert await Membership.filter(account_id=member.id).count() == 2
    assert not await AuditEntry.exists(action="membership.remove")


async def test_a_role_change_in_a_unit_another_admin_took_away_meanwhile_does_not_bring_it_back(client, monkeypatch):
    """The county's admin takes the clerk out of the village as the town's admin changes the clerk's
    role there: the change would silently put the clerk back in the village."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    member = await make_account("two_units", tree.own, role=Role.VIEWER)
    await Membership.create(account_id=member.id, unit_id=tree.child.id, role=Role.CLERK, created_at=member.created_at)
    headers = await login(client, "town_admin")
    county_admin = await make_account("county_admin", tree.parent, role=Role.ADMIN)
    county = admin_actor(county_admin, await Membership.get(account_id=county_admin.id), tree.parent)
    commits_just_before_the_next_transaction(
        monkeypatch, lambda: actions.remove_membership(county, member.id, unit_id=tree.child.id)
    )
    answer = await client.put(
        f"/api/accounts/{member.id}/memberships", headers=headers, json={"unit_id": tree.child.id, "role": "viewer"}
    )
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "membership_removed", answer.text
    assert answer.json()["error"]["message"] == msg.MEMBERSHIP_REMOVED
    assert await Membership.filter(account_id=member.id).values_list("unit_id", flat=True) == [tree.own.id]
    assert not await AuditEntry.exists(action="membership.set")


async def test_the_personal_data_of_someone_who_also_works_above_the_admin_is_not_revealed(client):
    """The county's admin also sits in a village as a viewer: the township's admin sees that row of
    the village, but revealing the county admin's phone or ID number is seeing above its own level."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    county_admin = await make_account("county_admin", tree.parent, role=Role.ADMIN)
    await Membership.create(
        account_id=county_admin.id, unit_id=tree.child.id, role=Role.VIEWER, created_at=county_admin.created_at
    )
    headers = await login(client, "town_admin")
    answer = await client.post(f"/api/accounts/{county_admin.id}/reveal", headers=headers, json={"field": "phone"})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "beyond_scope", answer.text
    assert answer.json()["error"]["message"] == msg.REVEAL_BEYOND_SCOPE
    assert not await AuditEntry.exists(action="account.reveal")
    peer = await make_account("peer_admin", tree.own, role=Role.ADMIN)  # the same level: still revealed
    shown = await client.post(f"/api/accounts/{peer.id}/reveal", headers=headers, json={"field": "phone"})
    assert shown.status_code == 200, shown.text


async def test_resending_a_phone_another_admin_replaced_meanwhile_is_a_phone_move(client, monkeypatch):
    """The county's admin replaces the accountant's lost phone as the town's admin (no finance access)
    saves the edit form that still holds the old one: that puts the old phone back, a move of the
    phone the password resets go to, which the town's admin may not make for this account."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    old_phone, new_phone = "13912340005", "13912340006"
    accountant = await make_account("accountant", tree.child, finance=FinanceAccess.ALL, phone=old_phone)
    headers = await login(client, "town_admin")
    county = await _county_admin_with_finance(tree)
    commits_just_before_the_next_transaction(
        monkeypatch, lambda: actions.update_account(county, accountant.id, {"phone": new_phone})
    )
    answer = await client.patch(
        f"/api/accounts/{accountant.id}", headers=headers, json={"name": "王会计", "phone": old_phone}
    )
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "finance_too_high", answer.text
    assert answer.json()["error"]["message"] == msg.PHONE_OF_HIGHER_FINANCE
    saved = await Account.get(id=accountant.id)
    assert saved.phone_index == runtime.get().vault.index("phone", new_phone) and saved.name == "测试accountant"
