"""P2, P6: an account or a membership written while its unit (or the account) goes away, or while a
parallel request takes the same name or unit, is refused for the reason that holds.

A unit delete locks the unit and refuses while a membership exists; an insert that arrives meanwhile
waits for it (PostgreSQL) and then fails on the foreign key. Here the other change commits just as
the action's transaction opens: after its checks, before its insert (SQLite enforces foreign keys:
tortoise turns the pragma on for every connection)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from backend.accounts import messages as msg
from backend.accounts.models import Account, Membership
from backend.core import messages, runtime
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from backend.core.sms import SmsMessage
from backend.units import actions as unit_actions
from backend.units.models import Unit
from tests.factories import (
    admin_actor,
    commits_just_before_the_next_transaction,
    login,
    make_account,
    make_tree,
)

NEW_PHONE = "13912340001"


async def _county_deleter(tree) -> Callable[[], Awaitable[None]]:
    """The county's admin deleting the village ``tree.child`` (empty when the action under test checked)."""
    county = await make_account("county_admin", tree.parent, role="admin")
    membership = await Membership.get(account_id=county.id)
    actor = admin_actor(county, membership, tree.parent)
    return lambda: unit_actions.delete_unit(actor, tree.child.id)


def _not_found(answer) -> None:
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["code"] == "not_found"
    assert answer.json()["error"]["message"] == messages.NOT_FOUND


async def test_an_account_created_in_a_unit_deleted_meanwhile_is_not_found_not_a_taken_user_name(client, monkeypatch):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role="admin")
    headers = await login(client, "town_admin")
    commits_just_before_the_next_transaction(monkeypatch, await _county_deleter(tree))
    answer = await client.post(
        "/api/accounts/",
        headers=headers,
        json={"username": "li_clerk", "name": "李四", "phone": NEW_PHONE, "unit_id": tree.child.id, "role": "clerk"},
    )
    _not_found(answer)
    assert not await Unit.exists(id=tree.child.id)
    assert not await Account.exists(username_key="li_clerk")  # the name stays free
    assert not await SmsMessage.exists(template="account_created")
    assert not await AuditEntry.exists(action="account.create")


async def test_a_user_name_taken_meanwhile_is_still_said_to_be_taken(client, monkeypatch):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role="admin")
    headers = await login(client, "town_admin")

    async def other_takes_the_name() -> None:
        await make_account("li_clerk", tree.own)

    commits_just_before_the_next_transaction(monkeypatch, other_takes_the_name)
    answer = await client.post(
        "/api/accounts/",
        headers=headers,
        json={"username": "li_clerk", "name": "李四", "phone": NEW_PHONE, "unit_id": tree.child.id, "role": "clerk"},
    )
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "username_taken", answer.text
    assert answer.json()["error"]["message"] == msg.USERNAME_TAKEN
    assert await Account.filter(username_key="li_clerk").count() == 1


@pytest.mark.parametrize("gone", ["unit", "account"])
async def test_a_membership_added_where_the_unit_or_account_went_meanwhile_is_not_found_not_already_there(
    client, monkeypatch, gone
):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role="admin")
    member = await make_account("plain", tree.own)
    headers = await login(client, "town_admin")
    if gone == "unit":
        other = await _county_deleter(tree)
    else:  # no action deletes an account; the key would refuse the membership all the same

        async def other() -> None:
            await Account.filter(id=member.id).delete()

    commits_just_before_the_next_transaction(monkeypatch, other)
    answer = await client.put(
        f"/api/accounts/{member.id}/memberships", headers=headers, json={"unit_id": tree.child.id, "role": "clerk"}
    )
    _not_found(answer)
    assert not await Membership.exists(unit_id=tree.child.id)
    assert not await AuditEntry.exists(action="membership.set")


async def test_a_membership_another_admin_added_meanwhile_is_still_said_to_exist(client, monkeypatch):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role="admin")
    member = await make_account("plain", tree.own)
    headers = await login(client, "town_admin")

    async def other_adds_it() -> None:
        now = runtime.get().clock.now()
        await Membership.create(account_id=member.id, unit_id=tree.child.id, role=Role.VIEWER, created_at=now)

    commits_just_before_the_next_transaction(monkeypatch, other_adds_it)
    answer = await client.put(
        f"/api/accounts/{member.id}/memberships", headers=headers, json={"unit_id": tree.child.id, "role": "clerk"}
    )
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "membership_exists", answer.text
    assert answer.json()["error"]["message"] == msg.MEMBERSHIP_EXISTS
    assert await Membership.filter(account_id=member.id, unit_id=tree.child.id).values_list("role", flat=True) == [
        Role.VIEWER
    ]
