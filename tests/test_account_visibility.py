"""P2, P6: nobody sees an account above their own level (a higher role in the actor's unit or a unit
above it is not found, as out of scope; its personal data is never revealed), and an admin moving
someone's bound phone tells the phone it moves away from."""

from __future__ import annotations

from backend.accounts import actions, queries
from backend.accounts import messages as msg
from backend.accounts.models import Account, Membership
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from tests.factories import (
    admin_actor,
    commits_just_before_the_next_transaction,
    login,
    make_account,
    make_tree,
)

OLD_PHONE = "13912340031"
NEW_PHONE = "13912340032"
OTHER_PHONE = "13912340033"


async def _listed_ids(client, headers: dict[str, str], **params: str) -> tuple[set[int], int]:
    listed = await client.get("/api/accounts/", headers=headers, params=params)
    assert listed.status_code == 200, listed.text
    return {row["account_id"] for row in listed.json()["items"]}, listed.json()["total"]


async def test_a_system_admin_of_the_admins_own_unit_is_not_found_listed_or_revealed(client):
    """The demo's province admin opened the system admin of the same unit and read its ID number."""
    tree = await make_tree()
    admin = await make_account("town_admin", tree.own, role=Role.ADMIN)
    sysadmin = await make_account("town_sysadmin", tree.own, role=Role.SYSADMIN)
    headers = await login(client, "town_admin")
    shown = await client.get(f"/api/accounts/{sysadmin.id}", headers=headers)
    assert shown.status_code == 404 and shown.json()["error"]["code"] == "not_found", shown.text
    for field in ("phone", "id_number"):
        revealed = await client.post(f"/api/accounts/{sysadmin.id}/reveal", headers=headers, json={"field": field})
        assert revealed.status_code == 404, revealed.text
    assert not await AuditEntry.exists(action="account.reveal")
    ids, total = await _listed_ids(client, headers)
    assert ids == {admin.id} and total == 1
    assert (await _listed_ids(client, headers, q="town_sysadmin"))[0] == set()


async def test_an_account_with_a_higher_role_above_is_hidden_with_its_rows_in_scope(client):
    """The county's system admin also sits in a village as a viewer: that row is not a way to see it."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    county_sysadmin = await make_account("county_sysadmin", tree.parent, role=Role.SYSADMIN)
    await Membership.create(
        account_id=county_sysadmin.id, unit_id=tree.child.id, role=Role.VIEWER, created_at=county_sysadmin.created_at
    )
    clerk = await make_account("village_clerk", tree.child, role=Role.CLERK)
    headers = await login(client, "town_admin")
    assert (await client.get(f"/api/accounts/{county_sysadmin.id}", headers=headers)).status_code == 404
    ids, total = await _listed_ids(client, headers, unit_id=str(tree.child.id))
    assert ids == {clerk.id} and total == 1


async def test_peers_and_lower_roles_stay_visible_and_the_system_admin_sees_everyone(client):
    """Only a higher role hides an account: a peer admin of the same unit, or an admin above with
    the same role, is seen as before; the system admin has nobody above it."""
    tree = await make_tree()
    admin = await make_account("town_admin", tree.own, role=Role.ADMIN)
    peer = await make_account("peer_admin", tree.own, role=Role.ADMIN)
    clerk = await make_account("town_clerk", tree.own, role=Role.CLERK)
    county_admin = await make_account("county_admin", tree.parent, role=Role.ADMIN)
    await Membership.create(
        account_id=county_admin.id, unit_id=tree.child.id, role=Role.VIEWER, created_at=county_admin.created_at
    )
    sysadmin = await make_account("root_sysadmin", tree.parent, role=Role.SYSADMIN)
    headers = await login(client, "town_admin")
    for account in (peer, clerk, county_admin):
        assert (await client.get(f"/api/accounts/{account.id}", headers=headers)).status_code == 200
    ids, total = await _listed_ids(client, headers)
    assert ids == {admin.id, peer.id, clerk.id, county_admin.id} and total == 4
    root = await login(client, "root_sysadmin")
    ids, total = await _listed_ids(client, root)
    assert ids == {admin.id, peer.id, clerk.id, county_admin.id, sysadmin.id} and total == 6


async def test_the_personal_data_of_a_higher_role_below_the_admin_is_not_revealed(client):
    """A system admin that also works in a village below: its row there shows (it is not above the
    township), but revealing its ID number is seeing a role above the township admin's."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    village_sysadmin = await make_account("village_sysadmin", tree.child, role=Role.SYSADMIN, phone=OLD_PHONE)
    headers = await login(client, "town_admin")
    assert (await client.get(f"/api/accounts/{village_sysadmin.id}", headers=headers)).status_code == 200
    answer = await client.post(f"/api/accounts/{village_sysadmin.id}/reveal", headers=headers, json={"field": "phone"})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "above_level", answer.text
    assert answer.json()["error"]["message"] == msg.REVEAL_ABOVE_LEVEL
    assert OLD_PHONE not in answer.text
    assert not await AuditEntry.exists(action="account.reveal")


async def test_the_list_of_accounts_not_logged_in_leaves_out_a_higher_role_of_the_own_unit(client):
    tree = await make_tree()
    admin = await make_account("town_admin", tree.own, role=Role.ADMIN)
    await make_account("town_sysadmin", tree.own, role=Role.SYSADMIN)
    clerk = await make_account("village_clerk", tree.child, role=Role.CLERK)
    actor = admin_actor(admin, await Membership.get(account_id=admin.id), tree.own)
    page = await queries.accounts_not_logged_in(actor, within=tree.own.path, since=None)
    assert {row.account_id for row in page.items} == {admin.id, clerk.id} and page.total == 2


async def _texts(client, phone: str) -> list[str]:
    return [m["text"] for m in (await client.get("/api/dev/sms", params={"phone": phone})).json()["messages"]]


async def test_an_admin_moving_the_bound_phone_texts_the_phone_it_moves_away_from(client):
    """Followed by a reset, a silent move hands the account over: the old phone hears of it."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    clerk = await make_account("village_clerk", tree.child, role=Role.CLERK, phone=OLD_PHONE)
    headers = await login(client, "town_admin")
    moved = await client.patch(f"/api/accounts/{clerk.id}", headers=headers, json={"phone": NEW_PHONE})
    assert moved.status_code == 200, moved.text
    [notice] = await _texts(client, OLD_PHONE)
    assert "village_clerk" in notice and "139****0032" in notice and NEW_PHONE not in notice
    assert await _texts(client, NEW_PHONE) == []


async def test_an_edit_that_keeps_the_bound_phone_texts_nobody(client):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    clerk = await make_account("village_clerk", tree.child, role=Role.CLERK, phone=OLD_PHONE)
    headers = await login(client, "town_admin")
    for body in ({"name": "王会计"}, {"name": "王会计", "phone": OLD_PHONE}):
        edited = await client.patch(f"/api/accounts/{clerk.id}", headers=headers, json=body)
        assert edited.status_code == 200, edited.text
    assert await _texts(client, OLD_PHONE) == []


async def test_the_notice_goes_to_the_phone_bound_when_the_move_lands(client, monkeypatch):
    """Another admin replaced the lost phone meanwhile: the phone the account moves away from is that
    one, not the lost one the form was opened with."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    clerk = await make_account("village_clerk", tree.child, role=Role.CLERK, phone=OLD_PHONE)
    headers = await login(client, "town_admin")
    county_admin = await make_account("county_admin", tree.parent, role=Role.ADMIN)
    county = admin_actor(county_admin, await Membership.get(account_id=county_admin.id), tree.parent)
    commits_just_before_the_next_transaction(
        monkeypatch, lambda: actions.update_account(county, clerk.id, {"phone": OTHER_PHONE})
    )
    moved = await client.patch(f"/api/accounts/{clerk.id}", headers=headers, json={"phone": NEW_PHONE})
    assert moved.status_code == 200, moved.text
    assert len(await _texts(client, OLD_PHONE)) == 1  # the county admin's move
    [notice] = await _texts(client, OTHER_PHONE)
    assert "139****0032" in notice


async def test_giving_a_phone_to_an_account_without_one_texts_nobody(client):
    """An account made by a card login has no bound phone: there is no old phone to tell."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    clerk = await make_account("village_clerk", tree.child, role=Role.CLERK, phone_login=False)
    await Account.filter(id=clerk.id).update(phone_enc=None, phone_index=None)
    headers = await login(client, "town_admin")
    given = await client.patch(f"/api/accounts/{clerk.id}", headers=headers, json={"phone": NEW_PHONE})
    assert given.status_code == 200, given.text
    assert await _texts(client, NEW_PHONE) == []
