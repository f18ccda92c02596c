"""P2, P4, P6, P9: creating and managing accounts below, temporary passwords by SMS, masking and reveal."""

from __future__ import annotations

import asyncio
import re

from backend.accounts.models import Account, Membership
from backend.core import runtime
from backend.core.audit import AuditEntry
from backend.core.roles import FinanceAccess
from backend.core.sms import SmsMessage
from backend.wechat.models import WechatIdentity
from tests.factories import (
    PASSWORD,
    bind_card,
    bind_wechat,
    captcha,
    login,
    login_response,
    make_account,
    make_tree,
    phone_login_taken_after_the_check,
)

NEW_PHONE = "13912340001"
ID_NUMBER = "11010519491231002X"


async def _sms_password(client, phone: str) -> str:
    inbox = (await client.get("/api/dev/sms", params={"phone": phone})).json()["messages"]
    match = re.search(r"临时密码 ([^，\s]+)，", inbox[0]["text"])
    assert match, inbox
    return match.group(1)


async def first_login_sms_check(client, headers: dict[str, str], phone: str) -> None:
    captcha_id, answer = await captcha(client)
    sent = await client.post(
        "/api/session/first-login/send-code", headers=headers, json={"captcha_id": captcha_id, "captcha_answer": answer}
    )
    assert sent.status_code == 200, sent.text
    text = (await client.get("/api/dev/sms", params={"phone": phone})).json()["messages"][0]["text"]
    code = re.search(r"验证码为 (\d{6})", text).group(1)
    verified = await client.post("/api/session/first-login/verify", headers=headers, json={"code": code})
    assert verified.status_code == 204, verified.text


async def _admin(client, tree):
    await make_account("town_admin", tree.own, role="admin")
    return await login(client, "town_admin")


async def test_created_account_gets_a_random_password_by_sms_and_must_change_it(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    response = await client.post(
        "/api/accounts/",
        headers=admin,
        json={
            "username": "li_clerk",
            "name": "李四",
            "phone": NEW_PHONE,
            "id_number": ID_NUMBER,
            "unit_id": tree.child.id,
            "role": "clerk",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["phone"] == "139****0001" and body["id_number"] == "1101**********002X"
    assert body["must_change_password"] is True
    temporary = await _sms_password(client, NEW_PHONE)
    assert temporary not in response.text
    session = await login_response(client, "li_clerk", temporary)
    assert session.json()["must_change_password"] is True and session.json()["sms_check_required"] is True
    headers = {"Authorization": f"Bearer {session.json()['token']}"}
    assert (await client.get("/api/units/", headers=headers)).status_code == 403
    change = {"old_password": temporary, "new_password": "Qingshan#River7"}
    too_early = await client.post("/api/account/password", headers=headers, json=change)
    assert too_early.status_code == 403 and too_early.json()["error"]["code"] == "sms_check_required"
    await first_login_sms_check(client, headers, NEW_PHONE)
    changed = await client.post("/api/account/password", headers=headers, json=change)
    assert changed.status_code == 200
    assert (await login_response(client, "li_clerk", temporary)).status_code == 401


async def test_two_created_accounts_never_share_a_temporary_password(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    for n, phone in enumerate(("13912340011", "13912340012")):
        await client.post(
            "/api/accounts/",
            headers=admin,
            json={"username": f"twin{n}", "name": "双胞胎", "phone": phone, "unit_id": tree.child.id, "role": "viewer"},
        )
    assert await _sms_password(client, "13912340011") != await _sms_password(client, "13912340012")


async def test_sms_parameters_are_encrypted_in_the_outbox(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    await client.post(
        "/api/accounts/",
        headers=admin,
        json={"username": "secret", "name": "王五", "phone": NEW_PHONE, "unit_id": tree.child.id, "role": "viewer"},
    )
    temporary = await _sms_password(client, NEW_PHONE)
    row = await SmsMessage.get()
    assert temporary not in row.params_enc and NEW_PHONE not in row.phone_enc
    assert row.status == "sent"


async def test_admin_cannot_grant_a_role_above_its_own_nor_an_equal_role_in_its_own_unit(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    base = {"name": "赵六", "phone": NEW_PHONE}
    too_high = await client.post(
        "/api/accounts/",
        headers=admin,
        json={**base, "username": "boss2", "unit_id": tree.child.id, "role": "sysadmin"},
    )
    assert too_high.status_code == 403 and too_high.json()["error"]["code"] == "role_too_high"
    peer = await client.post(
        "/api/accounts/", headers=admin, json={**base, "username": "peer", "unit_id": tree.own.id, "role": "admin"}
    )
    assert peer.status_code == 403
    below = await client.post(
        "/api/accounts/",
        headers=admin,
        json={**base, "username": "village_admin", "unit_id": tree.child.id, "role": "admin"},
    )
    assert below.status_code == 201
    assert not await Account.filter(username_key__in=["boss2", "peer"]).exists()


async def test_deactivated_user_name_is_never_issued_again(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    target = await make_account("Old_Name", tree.child, role="clerk")
    worker = await login(client, "old_name")
    assert (await client.post(f"/api/accounts/{target.id}/deactivate", headers=admin)).status_code == 204
    assert (await client.get("/api/session", headers=worker)).status_code == 401
    assert (await login_response(client, "old_name")).status_code == 401
    again = await client.post(
        "/api/accounts/",
        headers=admin,
        json={"username": "old_NAME", "name": "新人", "phone": NEW_PHONE, "unit_id": tree.child.id, "role": "clerk"},
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "username_taken"
    twice = await client.post(f"/api/accounts/{target.id}/deactivate", headers=admin)
    assert twice.status_code == 409


async def test_reset_password_sends_a_new_temporary_password_ends_sessions_and_releases_the_wechat(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    target = await make_account("forgetful", tree.child, role="clerk", phone=NEW_PHONE)
    await bind_wechat(target.id, "o-whoever-knew-the-old-password")
    worker = await login(client, "forgetful")
    assert (await client.post(f"/api/accounts/{target.id}/reset-password", headers=admin)).status_code == 204
    assert (await client.get("/api/session", headers=worker)).status_code == 401
    assert (await login_response(client, "forgetful", PASSWORD)).status_code == 401
    temporary = await _sms_password(client, NEW_PHONE)
    session = await login_response(client, "forgetful", temporary)
    assert session.status_code == 200 and session.json()["must_change_password"] is True
    entry = await AuditEntry.get(action="account.reset_password")
    assert entry.target_id == str(target.id) and entry.actor_account_id is not None
    assert entry.detail == {"wechat_released": 1} and not await WechatIdentity.filter(account_id=target.id).exists()


async def test_admin_unlocks_a_locked_account(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    target = await make_account("locked_out", tree.child, role="clerk")
    for _ in range(5):
        await login_response(client, "locked_out", "Wrong#pass1")
    assert (await login_response(client, "locked_out")).status_code == 401
    listed = await client.get("/api/accounts/", params={"status": "locked"}, headers=admin)
    assert [row["username"] for row in listed.json()["items"]] == ["locked_out"]
    assert (await client.post(f"/api/accounts/{target.id}/unlock", headers=admin)).status_code == 204
    assert (await login_response(client, "locked_out")).status_code == 200
    assert (await client.post(f"/api/accounts/{target.id}/unlock", headers=admin)).status_code == 409


async def test_admin_cannot_manage_itself_a_peer_or_someone_with_a_unit_outside_its_scope(client):
    tree = await make_tree()
    me = await make_account("town_admin", tree.own, role="admin")
    peer = await make_account("town_admin2", tree.own, role="admin")
    straddler = await make_account("straddler", tree.child, role="clerk")
    from backend.accounts.models import Membership

    await Membership.create(
        account_id=straddler.id, unit_id=tree.sibling.id, role="clerk", created_at=straddler.created_at
    )
    admin = await login(client, "town_admin")
    assert (await client.post(f"/api/accounts/{me.id}/reset-password", headers=admin)).json()["error"][
        "code"
    ] == "not_self"
    for target in (peer, straddler):
        refused = await client.post(f"/api/accounts/{target.id}/deactivate", headers=admin)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "cannot_manage"
    assert await Account.filter(is_active=True).count() == 3


async def test_personal_data_is_masked_and_each_reveal_is_audited(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    target = await make_account("private", tree.child, role="clerk", phone=NEW_PHONE)
    shown = await client.get(f"/api/accounts/{target.id}", headers=admin)
    assert shown.json()["phone"] == "139****0001" and NEW_PHONE not in shown.text
    listed = await client.get("/api/accounts/", headers=admin)
    assert NEW_PHONE not in listed.text
    revealed = await client.post(f"/api/accounts/{target.id}/reveal", headers=admin, json={"field": "phone"})
    assert revealed.json() == {"field": "phone", "value": NEW_PHONE}
    entry = await AuditEntry.get(action="account.reveal")
    assert entry.detail == {"field": "phone"} and entry.target_id == str(target.id)
    assert NEW_PHONE not in str(entry.detail)
    missing = await client.post(f"/api/accounts/{target.id}/reveal", headers=admin, json={"field": "id_number"})
    assert missing.status_code == 404


async def test_clerks_and_viewers_may_not_reveal_or_manage(client):
    tree = await make_tree()
    target = await make_account("private", tree.child, role="viewer")
    await make_account("town_clerk", tree.own, role="clerk")
    clerk = await login(client, "town_clerk")
    assert (
        await client.post(f"/api/accounts/{target.id}/reveal", headers=clerk, json={"field": "phone"})
    ).status_code == 403
    assert (await client.get("/api/accounts/", headers=clerk)).status_code == 403
    assert not await AuditEntry.filter(action="account.reveal").exists()


async def test_phone_data_is_encrypted_at_rest_with_a_lookup_index(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    await client.post(
        "/api/accounts/",
        headers=admin,
        json={
            "username": "enc",
            "name": "孙七",
            "phone": NEW_PHONE,
            "id_number": ID_NUMBER,
            "unit_id": tree.child.id,
            "role": "viewer",
        },
    )
    row = await Account.get(username_key="enc")
    assert NEW_PHONE not in (row.phone_enc or "") and ID_NUMBER not in (row.id_number_enc or "")
    assert row.phone_index == runtime.get().vault.index("phone", NEW_PHONE)
    found = await client.get("/api/accounts/", params={"q": NEW_PHONE}, headers=admin)
    assert [r["username"] for r in found.json()["items"]] == ["enc"]


async def test_one_phone_turns_on_phone_login_for_one_account_only(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    for name in ("first", "second"):
        created = await client.post(
            "/api/accounts/",
            headers=admin,
            json={"username": name, "name": "同号", "phone": NEW_PHONE, "unit_id": tree.child.id, "role": "viewer"},
        )
        assert created.status_code == 201
    first, second = await Account.filter(username_key__in=["first", "second"]).order_by("id")
    assert first.login_phone_index is not None and second.login_phone_index is None


async def test_membership_in_a_second_unit_is_added_and_removed(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    target = await make_account("two_units", tree.child, role="clerk")
    other = await client.post(
        "/api/units/", headers=admin, json={"parent_id": tree.own.id, "name": "李家坪村", "type": "village"}
    )
    other_id = other.json()["id"]
    added = await client.put(
        f"/api/accounts/{target.id}/memberships", headers=admin, json={"unit_id": other_id, "role": "viewer"}
    )
    assert added.status_code == 200 and added.json()["unit_id"] == other_id
    shown = await client.get(f"/api/accounts/{target.id}", headers=admin)
    assert {m["unit_id"] for m in shown.json()["memberships"]} == {tree.child.id, other_id}
    removed = await client.delete(f"/api/accounts/{target.id}/memberships/{other_id}", headers=admin)
    assert removed.status_code == 204
    last = await client.delete(f"/api/accounts/{target.id}/memberships/{tree.child.id}", headers=admin)
    assert last.status_code == 409 and last.json()["error"]["code"] == "last_membership"


async def test_an_admin_grants_no_finance_access_beyond_its_own(client):
    """An admin without finance access could create an account that sees every money figure."""
    tree = await make_tree()
    admin = await make_account("fin_admin", tree.own, role="admin")
    await Membership.filter(account_id=admin.id).update(finance_access=FinanceAccess.OWN_REGION)
    headers = await login(client, "fin_admin")
    body = {"username": "fin1", "name": "李四", "phone": "13912340001", "unit_id": tree.child.id, "role": "viewer"}
    for wanted, unit in (("all", tree.own), ("own_region", tree.child)):
        refused = await client.post(
            "/api/accounts/", headers=headers, json={**body, "unit_id": unit.id, "finance_access": wanted}
        )
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "finance_too_high", wanted
    assert not await Account.filter(username_key="fin1").exists()
    same_region = await client.post(
        "/api/accounts/", headers=headers, json={**body, "unit_id": tree.own.id, "finance_access": "own_region"}
    )
    assert same_region.status_code == 201, same_region.text
    member = await make_account("plain", tree.child)
    raised = await client.put(
        f"/api/accounts/{member.id}/memberships",
        headers=headers,
        json={"unit_id": tree.child.id, "role": "viewer", "finance_access": "all"},
    )
    assert (
        raised.status_code == 403 and (await Membership.get(account_id=member.id)).finance_access == FinanceAccess.NONE
    )


async def test_an_admin_cannot_move_the_phone_of_an_account_that_sees_more_money_than_it(client):
    """Changing the bound phone to one's own, then a password reset, logged an admin with no finance
    access in as an account with all of it (the reset's SMS goes to the bound phone)."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role="admin")  # finance: none
    accountant = await make_account("accountant", tree.child)
    await Membership.filter(account_id=accountant.id).update(finance_access=FinanceAccess.ALL)
    headers = await login(client, "town_admin")
    moved = await client.patch(f"/api/accounts/{accountant.id}", headers=headers, json={"phone": "13912340002"})
    assert moved.status_code == 403 and moved.json()["error"]["code"] == "finance_too_high", moved.text
    assert runtime.get().vault.decrypt("account.phone", (await Account.get(id=accountant.id)).phone_enc) != (
        "13912340002"
    )
    renamed = await client.patch(f"/api/accounts/{accountant.id}", headers=headers, json={"name": "王会计"})
    assert renamed.status_code == 200, renamed.text
    reset = await client.post(f"/api/accounts/{accountant.id}/reset-password", headers=headers)
    assert reset.status_code in (200, 202, 204), reset.text  # the temporary password goes to its own phone


async def test_two_identical_membership_adds_at_once_give_one_row_and_no_server_error(client):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role="admin")
    member = await make_account("plain", tree.child)
    headers = await login(client, "town_admin")
    await Membership.filter(account_id=member.id).update(unit_id=tree.own.id)  # to add the child unit below
    body = {"unit_id": tree.child.id, "role": "clerk"}
    answers = await asyncio.gather(
        *(client.put(f"/api/accounts/{member.id}/memberships", headers=headers, json=body) for _ in range(2))
    )
    assert sorted(a.status_code for a in answers) in ([200, 200], [200, 409])
    assert await Membership.filter(account_id=member.id, unit_id=tree.child.id).count() == 1


async def test_two_accounts_created_at_once_on_one_phone_are_both_created(client):
    """A family sharing one phone: two admins create their accounts at the same moment. Both
    accounts are made (phone login goes to one of them), not "user name taken" for the other."""
    tree = await make_tree()
    admin = await _admin(client, tree)
    answers = await asyncio.gather(
        *(
            client.post(
                "/api/accounts/",
                headers=admin,
                json={"username": name, "name": "同号", "phone": NEW_PHONE, "unit_id": tree.child.id, "role": "viewer"},
            )
            for name in ("first", "second")
        )
    )
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    created = await Account.filter(username_key__in=["first", "second"])
    assert sorted(a.login_phone_index is None for a in created) == [False, True]


async def test_the_audit_entry_of_a_new_account_records_the_finance_access_granted(client):
    tree = await make_tree()
    admin = await make_account("fin_admin", tree.own, role="admin", finance=FinanceAccess.ALL)
    headers = await login(client, "fin_admin")
    created = await client.post(
        "/api/accounts/",
        headers=headers,
        json={
            "username": "cashier",
            "name": "李四",
            "phone": NEW_PHONE,
            "unit_id": tree.child.id,
            "role": "viewer",
            "finance_access": "all",
        },
    )
    assert created.status_code == 201, created.text
    entry = await AuditEntry.get(action="account.create")
    assert entry.actor_account_id == admin.id
    assert entry.detail == {"unit_id": tree.child.id, "role": "viewer", "finance_access": "all"}


async def test_removing_a_unit_the_account_is_not_in_says_so_not_that_the_account_cannot_be_managed(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    target = await make_account("plain", tree.child, role="clerk")
    answer = await client.delete(f"/api/accounts/{target.id}/memberships/{tree.own.id}", headers=admin)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    assert answer.json()["error"]["message"] == "该账号不在这个单位中"  # the admin does manage this account


async def test_an_edit_that_sends_the_unchanged_phone_of_a_higher_finance_account_is_not_refused(client):
    """A form that sends every field back (the phone as it was) moves no phone: refusing it as a
    phone change stopped an admin from correcting the name of an account that sees more money."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role="admin")  # finance: none
    accountant = await make_account("accountant", tree.child, phone="13912340003", finance=FinanceAccess.ALL)
    headers = await login(client, "town_admin")
    edited = await client.patch(
        f"/api/accounts/{accountant.id}", headers=headers, json={"name": "王会计", "phone": "13912340003"}
    )
    assert edited.status_code == 200, edited.text
    assert (await Account.get(id=accountant.id)).name == "王会计"


async def test_an_admin_phone_edit_racing_another_accounts_phone_login_keeps_the_edit_without_phone_login(
    client, monkeypatch
):
    """Another account switched phone login on for the new phone between the check and the write:
    the unique index answered 500 and the edit was lost (creation and the profile already fell back)."""
    tree = await make_tree()
    admin = await _admin(client, tree)
    member = await make_account("member", tree.child, phone="13912340004")
    other = await make_account("other", tree.child, phone=NEW_PHONE)
    await Account.filter(id=other.id).update(login_phone_index=None)
    phone_login_taken_after_the_check(monkeypatch, other.id)
    edited = await client.patch(f"/api/accounts/{member.id}", headers=admin, json={"name": "改名", "phone": NEW_PHONE})
    assert edited.status_code == 200, edited.text
    saved = await Account.get(id=member.id)
    assert saved.name == "改名" and saved.login_phone_index is None
    assert runtime.get().vault.decrypt("account.phone", saved.phone_enc) == NEW_PHONE
    assert await AuditEntry.filter(action="account.update", target_id=str(member.id)).count() == 1


async def test_a_reset_password_of_a_card_made_account_ends_its_awaiting_activation(client):
    """A card login made the account (no password, awaiting activation); after an admin's reset it
    logged in with the temporary password while its profile still asked to set a first password."""
    tree = await make_tree()
    admin = await _admin(client, tree)
    target = await make_account("card_made", tree.child, role="clerk", phone=NEW_PHONE)
    await Account.filter(id=target.id).update(password_hash=None, needs_activation=True)
    assert (await client.post(f"/api/accounts/{target.id}/reset-password", headers=admin)).status_code == 204
    session = await login_response(client, "card_made", await _sms_password(client, NEW_PHONE))
    assert session.status_code == 200, session.text
    assert (await Account.get(id=target.id)).needs_activation is False


async def test_the_status_filter_indexes_are_where_each_planner_uses_them_well():
    """Migration 0010: locked_until on both databases; is_active on PostgreSQL only (SQLite, without
    statistics, took it for a selective index and walked every active account of a county's list)."""
    from backend.core import db

    if db.db().capabilities.dialect == "postgres":
        sql = "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'account'"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'account'"
    names = {row["name"] for row in await db.db().execute_query_dict(sql)}
    assert "idx_account_locked_until" in names
    assert ("idx_account_is_active" in names) == (db.db().capabilities.dialect == "postgres")


async def test_an_account_says_whether_a_wechat_and_a_card_are_bound(client):
    """A card holder is changed only by an admin with a card (C6), and a WeChat logs in with one tap
    (W1): the admin's view of the account said neither, so a refusal came unexplained."""
    tree = await make_tree()
    admin = await _admin(client, tree)
    member = await make_account("member", tree.child)
    shown = (await client.get(f"/api/accounts/{member.id}", headers=admin)).json()
    assert (shown["wechat_bound"], shown["card_bound"]) == (False, False)
    await bind_wechat(member.id, "openid-member")
    await bind_card(member.id, "66000001")
    shown = (await client.get(f"/api/accounts/{member.id}", headers=admin)).json()
    assert (shown["wechat_bound"], shown["card_bound"]) == (True, True)
