"""Review of account management (P2, P4, P6, W7): two admins changing one account at once, actions on
deactivated accounts, and the same refusals through the chat buttons, in Chinese.

A change by another admin commits just as the action's transaction opens: after the action's checks,
before its write (tests.factories.commits_just_before_the_next_transaction)."""

from __future__ import annotations

from dataclasses import replace

from backend.accounts import actions
from backend.accounts import messages as msg
from backend.accounts.models import Account, Membership
from backend.core import runtime
from backend.core.audit import AuditEntry
from backend.core.roles import FinanceAccess, Role
from backend.core.sms import SmsMessage
from tests.factories import (
    admin_actor,
    bind_card,
    commits_just_before_the_next_transaction,
    login,
    make_account,
    make_tree,
)
from tests.test_chat_accounts import sms_password
from tests.test_chat_lookup import blocks, notice, tap

NEW_PHONE = "13912340001"


async def _county_actor(tree):
    """The county's admin, for the other admin's change made straight through the actions."""
    county = await make_account("county_admin", tree.parent, role="admin")
    membership = await Membership.get(account_id=county.id)
    return admin_actor(county, membership, tree.parent)


async def _town_admin(client, tree) -> dict[str, str]:
    await make_account("town_admin", tree.own, role="admin")
    return await login(client, "town_admin")


def _refused(answer, status: int, code: str, message: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code, answer.text
    assert answer.json()["error"]["message"] == message


async def test_two_admins_removing_an_accounts_two_units_at_once_leave_it_in_one(client, monkeypatch):
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    member = await make_account("two_units", tree.own, role=Role.VIEWER)
    now = runtime.get().clock.now()
    await Membership.create(account_id=member.id, unit_id=tree.child.id, role=Role.CLERK, created_at=now)
    county = await _county_actor(tree)
    commits_just_before_the_next_transaction(
        monkeypatch, lambda: actions.remove_membership(county, member.id, unit_id=tree.own.id)
    )
    answer = await client.delete(f"/api/accounts/{member.id}/memberships/{tree.child.id}", headers=headers)
    _refused(answer, 409, "last_membership", msg.LAST_MEMBERSHIP)
    assert await Membership.filter(account_id=member.id).values_list("unit_id", flat=True) == [tree.child.id]
    assert await AuditEntry.filter(action="membership.remove").count() == 1


async def test_a_reset_after_another_admin_deactivated_the_account_meanwhile_sends_no_password(client, monkeypatch):
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    member = await make_account("plain", tree.child, role=Role.CLERK)
    county = await _county_actor(tree)
    commits_just_before_the_next_transaction(monkeypatch, lambda: actions.deactivate_account(county, member.id))
    answer = await client.post(f"/api/accounts/{member.id}/reset-password", headers=headers)
    _refused(answer, 409, "account_deactivated", msg.ALREADY_DEACTIVATED)
    assert not await SmsMessage.exists(template="password_reset")
    assert not await AuditEntry.exists(action="account.reset_password")
    assert (await Account.get(id=member.id)).must_change_password is False


async def test_two_deactivations_at_once_deactivate_and_audit_once(client, monkeypatch):
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    member = await make_account("plain", tree.child, role=Role.CLERK)
    county = await _county_actor(tree)
    commits_just_before_the_next_transaction(monkeypatch, lambda: actions.deactivate_account(county, member.id))
    answer = await client.post(f"/api/accounts/{member.id}/deactivate", headers=headers)
    _refused(answer, 409, "account_deactivated", msg.ALREADY_DEACTIVATED)
    assert await AuditEntry.filter(action="account.deactivate").count() == 1


async def test_an_account_made_admin_of_another_township_meanwhile_is_not_reset_by_the_town_admin(client, monkeypatch):
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    member = await make_account("rising", tree.child, role=Role.CLERK)
    county = await _county_actor(tree)
    commits_just_before_the_next_transaction(
        monkeypatch,
        lambda: actions.set_membership(
            county, member.id, unit_id=tree.sibling.id, role=Role.ADMIN, finance_access=FinanceAccess.NONE
        ),
    )
    answer = await client.post(f"/api/accounts/{member.id}/reset-password", headers=headers)
    _refused(answer, 403, "cannot_manage", msg.CANNOT_MANAGE)
    assert not await SmsMessage.exists(template="password_reset")
    assert not await AuditEntry.exists(action="account.reset_password")


async def test_a_phone_edit_racing_a_deactivation_gives_the_deactivated_account_no_phone_login(client, monkeypatch):
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    member = await make_account("plain", tree.child, role=Role.CLERK)
    county = await _county_actor(tree)
    commits_just_before_the_next_transaction(monkeypatch, lambda: actions.deactivate_account(county, member.id))
    answer = await client.patch(f"/api/accounts/{member.id}", headers=headers, json={"phone": NEW_PHONE})
    _refused(answer, 409, "account_deactivated", msg.ALREADY_DEACTIVATED)
    assert (await Account.get(id=member.id)).login_phone_index is None
    # the phone is still free for phone login of a live account
    assert not await Account.exists(login_phone_index=runtime.get().vault.index("phone", NEW_PHONE))


async def test_a_password_reset_of_an_account_without_a_phone_says_why_in_the_api_and_in_chat(client):
    tree = await make_tree()
    admin = await make_account("town_admin", tree.own, role="admin")
    await bind_card(admin.id, "C-ADMIN")  # a card holder may manage a card-made account
    headers = await login(client, "town_admin")
    member = await make_account("cardmade", tree.child, role=Role.CLERK)
    await Account.filter(id=member.id).update(phone_enc=None, phone_index=None, login_phone_index=None)
    await bind_card(member.id, "C-MEMBER")
    answer = await client.post(f"/api/accounts/{member.id}/reset-password", headers=headers)
    _refused(answer, 409, "no_phone", msg.NO_PHONE_FOR_RESET)
    said = await tap(client, headers, {"intent": "account.reset_password", "params": {"account_id": member.id}})
    assert notice(said) == msg.NO_PHONE_FOR_RESET and blocks(said, "notice")[0]["level"] == "warning"
    assert not await AuditEntry.exists(action="account.reset_password")


async def test_a_reset_racing_a_phone_change_sends_the_temporary_password_to_the_new_phone(client, monkeypatch):
    """The old phone was lost: the county's admin binds the new one as the town's admin resets."""
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    member = await make_account("plain", tree.child, role=Role.CLERK, phone="13912340009")
    county = await _county_actor(tree)
    commits_just_before_the_next_transaction(
        monkeypatch, lambda: actions.update_account(county, member.id, {"phone": NEW_PHONE})
    )
    answer = await client.post(f"/api/accounts/{member.id}/reset-password", headers=headers)
    assert answer.status_code == 204, answer.text
    assert await sms_password(client, NEW_PHONE) is not None
    assert await sms_password(client, "13912340009") is None


async def test_a_deactivated_account_is_neither_unlocked_edited_nor_given_a_unit(client):
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    member = await make_account("gone", tree.child, role=Role.CLERK)
    await Account.filter(id=member.id).update(failed_logins=3)
    assert (await client.post(f"/api/accounts/{member.id}/deactivate", headers=headers)).status_code == 204
    answers = [
        await client.post(f"/api/accounts/{member.id}/unlock", headers=headers),
        await client.patch(f"/api/accounts/{member.id}", headers=headers, json={"name": "新名字"}),
        await client.put(
            f"/api/accounts/{member.id}/memberships", headers=headers, json={"unit_id": tree.own.id, "role": "viewer"}
        ),
    ]
    for answer in answers:
        _refused(answer, 409, "account_deactivated", msg.ALREADY_DEACTIVATED)
    tapped = await tap(client, headers, {"intent": "account.unlock", "params": {"account_id": member.id}})
    assert notice(tapped) == msg.ALREADY_DEACTIVATED
    assert (await Account.get(id=member.id)).name == "测试gone"
    assert await Membership.filter(account_id=member.id).count() == 1
    assert not await AuditEntry.filter(action__in=["account.unlock", "account.update", "membership.set"]).exists()


async def _choose(client, headers: dict[str, str], unit_id: int) -> None:
    units = (await client.get("/api/session", headers=headers)).json()["units"]
    membership_id = next(u["id"] for u in units if u["unit_id"] == unit_id)
    chosen = await client.post("/api/session/unit", headers=headers, json={"membership_id": membership_id})
    assert chosen.status_code == 200, chosen.text


async def test_taking_one_unit_away_ends_only_the_sessions_working_for_it(client):
    """A cadre of the town and a village loses the village: the work in the town goes on (the agents'
    unbind already does so), the village's sessions end for good."""
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    member = await make_account("two_units", tree.child, role=Role.CLERK)
    await Membership.create(account_id=member.id, unit_id=tree.own.id, role=Role.VIEWER, created_at=member.created_at)
    in_child = await login(client, "two_units")
    await _choose(client, in_child, tree.child.id)
    in_own = await login(client, "two_units")
    await _choose(client, in_own, tree.own.id)
    removed = await client.delete(f"/api/accounts/{member.id}/memberships/{tree.child.id}", headers=headers)
    assert removed.status_code == 204, removed.text
    assert (await client.get("/api/session", headers=in_child)).status_code == 401
    assert (await client.get("/api/units/", headers=in_own)).status_code == 200


async def test_a_phone_move_racing_a_finance_grant_is_refused_as_for_a_higher_finance_account(client, monkeypatch):
    """The county's admin grants the clerk all finance access as the town's admin (who has none)
    moves the clerk's phone: the phone would take the password resets, and so that access."""
    tree = await make_tree()
    headers = await _town_admin(client, tree)
    member = await make_account("plain", tree.child, role=Role.CLERK, phone="13912340009")
    county = replace(await _county_actor(tree), finance_access=FinanceAccess.ALL)
    commits_just_before_the_next_transaction(
        monkeypatch,
        lambda: actions.set_membership(
            county, member.id, unit_id=tree.child.id, role=Role.CLERK, finance_access=FinanceAccess.ALL
        ),
    )
    answer = await client.patch(f"/api/accounts/{member.id}", headers=headers, json={"phone": NEW_PHONE})
    _refused(answer, 403, "finance_too_high", msg.PHONE_OF_HIGHER_FINANCE)
    assert (await Account.get(id=member.id)).phone_index == runtime.get().vault.index("phone", "13912340009")
