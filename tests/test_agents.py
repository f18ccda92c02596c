"""R6: a unit adds agents by phone (new or registered people), lists them, unbinds them in two
confirmed steps; an agent logs in by phone and picks the unit it works for."""

from __future__ import annotations

import re

import httpx

from backend.accounts.models import Account, Membership
from backend.agents import messages as msg
from backend.cards.models import CardBinding
from backend.core import runtime
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from tests.factories import PASSWORD, Tree, bind_card, login, login_response, make_account, make_tree
from tests.test_accounts import first_login_sms_check
from tests.test_agent_consent import add_with_consent

AGENT_PHONE = "13912345678"
NEW_PASSWORD = "Qingshan#River7"


async def _inbox(client: httpx.AsyncClient, phone: str) -> list[dict]:
    response = await client.get("/api/dev/sms", params={"phone": phone})
    assert response.status_code == 200, response.text
    return response.json()["messages"]


async def _temporary_password(client: httpx.AsyncClient, phone: str) -> str:
    match = re.search(r"临时密码 ([^，\s]+)，", (await _inbox(client, phone))[0]["text"])
    assert match
    return match.group(1)


async def _admin(client: httpx.AsyncClient, tree: Tree, username: str = "town_admin") -> dict[str, str]:
    await make_account(username, tree.own, Role.ADMIN)
    return await login(client, username)


async def _add(client: httpx.AsyncClient, headers: dict[str, str], unit_id: int, **fields) -> httpx.Response:
    return await client.post(f"/api/units/{unit_id}/agents", headers=headers, json={"phone": AGENT_PHONE, **fields})


async def _unbind(client, headers, unit_id: int, account_id: int) -> httpx.Response:
    return await client.post(f"/api/units/{unit_id}/agents/{account_id}/unbind", headers=headers)


async def _confirm(client, headers, unit_id: int, account_id: int, ticket: str) -> httpx.Response:
    return await client.post(
        f"/api/units/{unit_id}/agents/{account_id}/unbind/confirm", headers=headers, json={"ticket": ticket}
    )


def _bearer(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def _choose(client, headers: dict[str, str], unit_id: int) -> httpx.Response:
    units = (await client.get("/api/session", headers=headers)).json()["units"]
    membership_id = next(u["id"] for u in units if u["unit_id"] == unit_id)
    return await client.post("/api/session/unit", headers=headers, json={"membership_id": membership_id})


async def test_new_phone_gets_an_account_with_a_temporary_password_by_sms(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    response = await _add(client, admin, tree.child.id, name="王小芳", id_number="11010519491231002X")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["new_account"] is True and body["role"] == "clerk" and body["unit_id"] == tree.child.id
    assert body["phone"] == "139****5678" and AGENT_PHONE not in response.text
    account = await Account.get(id=body["account_id"])
    assert account.must_change_password and account.needs_sms_check
    assert account.login_phone_index == runtime.get().vault.index("phone", AGENT_PHONE)
    assert re.fullmatch(r"jb\d{8}", account.username)
    [sms] = await _inbox(client, AGENT_PHONE)
    assert sms["template"] == "agent_added"
    assert "王家湾村" in sms["text"] and account.username in sms["text"]
    temporary = await _temporary_password(client, AGENT_PHONE)
    assert temporary not in response.text
    session = await login_response(client, AGENT_PHONE, temporary)
    assert session.status_code == 200 and session.json()["must_change_password"] is True
    entry = await AuditEntry.get(action="agent.add")
    assert entry.target_id == str(account.id) and entry.scope_path == tree.child.path
    assert entry.detail == {"unit_id": tree.child.id, "role": "clerk", "new_account": True}
    assert AGENT_PHONE not in str(entry.detail)


async def test_registered_phone_joins_the_unit_with_its_own_password_and_gets_a_notice(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    person = await make_account("li_agent", tree.sibling, Role.CLERK, phone=AGENT_PHONE, phone_login=False)
    response = await add_with_consent(client, admin, tree.child.id, name=person.name, role="viewer")
    assert response.status_code == 201, response.text
    assert response.json()["new_account"] is False and response.json()["account_id"] == person.id
    assert await Account.all().count() == 2  # the admin and the person: nobody new
    assert await Membership.filter(account_id=person.id).count() == 2
    sms, _consent_code = await _inbox(client, AGENT_PHONE)
    assert sms["template"] == "agent_unit_added" and "王家湾村" in sms["text"]
    assert "密码" in sms["text"] and not re.search(r"临时密码 \S", sms["text"])
    # The notice says "log in by phone": phone login was switched on since no one else had it.
    session = await login_response(client, AGENT_PHONE, PASSWORD)
    assert session.status_code == 200
    assert {u["unit_id"] for u in session.json()["units"]} == {tree.sibling.id, tree.child.id}
    entry = await AuditEntry.get(action="agent.add")
    assert entry.detail["new_account"] is False and entry.detail["phone_login_on"] is True


async def test_added_agent_with_two_units_logs_in_by_phone_and_picks_the_unit(client, clock):
    tree = await make_tree()
    town_admin = await _admin(client, tree)
    await make_account("sibling_admin", tree.sibling, Role.ADMIN)
    sibling_admin = await login(client, "sibling_admin")
    first = await _add(client, town_admin, tree.child.id, name="赵经办")
    assert first.status_code == 201
    temporary = await _temporary_password(client, AGENT_PHONE)
    must_change = _bearer(await login_response(client, AGENT_PHONE, temporary))
    await first_login_sms_check(client, must_change, AGENT_PHONE)
    changed = await client.post(
        "/api/account/password", headers=must_change, json={"old_password": temporary, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 200, changed.text
    clock.advance(61)  # the first-login code's cooldown: the person is asked by a code too
    second = await add_with_consent(client, sibling_admin, tree.sibling.id, name="赵经办")
    assert second.status_code == 201 and second.json()["new_account"] is False
    assert (await _inbox(client, AGENT_PHONE))[0]["template"] == "agent_unit_added"

    agent = _bearer(await login_response(client, AGENT_PHONE, NEW_PASSWORD))
    session = (await client.get("/api/session", headers=agent)).json()
    assert session["unit"] is None
    assert {u["unit_name"] for u in session["units"]} == {"王家湾村", "桃源乡"}
    before = await client.get("/api/units/", headers=agent)
    assert before.status_code == 403 and before.json()["error"]["code"] == "unit_choice_required"
    chosen = await _choose(client, agent, tree.sibling.id)
    assert chosen.status_code == 200 and chosen.json()["unit"]["unit_id"] == tree.sibling.id
    listed = await client.get("/api/units/", headers=agent)
    assert [u["id"] for u in listed.json()["items"]] == [tree.sibling.id]
    assert (await client.get(f"/api/units/{tree.child.id}", headers=agent)).status_code == 404
    assert await AuditEntry.filter(action="agent.add").count() == 2
    assert await AuditEntry.filter(action="auth.choose_unit", target_id=str(tree.sibling.id)).exists()


async def test_agent_list_shows_the_members_of_a_unit_with_masked_phones(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    await make_account("village_clerk", tree.child, Role.CLERK, phone="13700001234")
    await _add(client, admin, tree.child.id, name="钱经办")
    listed = await client.get(f"/api/units/{tree.child.id}/agents", headers=admin)
    assert listed.status_code == 200
    body = listed.json()
    assert body["total"] == 2
    assert [row["phone"] for row in body["items"]] == ["137****1234", "139****5678"]
    assert "13700001234" not in listed.text and AGENT_PHONE not in listed.text
    assert {row["role_label"] for row in body["items"]} == {"录入员"}


async def test_clerks_and_viewers_may_not_list_add_or_unbind_agents(client):
    tree = await make_tree()
    target = await make_account("village_clerk", tree.child, Role.CLERK)
    for username, role in (("town_clerk", Role.CLERK), ("town_viewer", Role.VIEWER)):
        await make_account(username, tree.own, role)
        headers = await login(client, username)
        assert (await client.get(f"/api/units/{tree.child.id}/agents", headers=headers)).status_code == 403
        assert (await _add(client, headers, tree.child.id, name="某人")).status_code == 403
        assert (await _unbind(client, headers, tree.child.id, target.id)).status_code == 403
    assert not await Account.filter(phone_index=runtime.get().vault.index("phone", AGENT_PHONE)).exists()
    assert not await AuditEntry.filter(action__startswith="agent.").exists()


async def test_units_outside_the_scope_answer_404_and_nothing_is_added(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    sibling_clerk = await make_account("sibling_clerk", tree.sibling, Role.CLERK)
    for unit in (tree.sibling, tree.parent):
        assert (await _add(client, admin, unit.id, name="越界")).status_code == 404
        assert (await client.get(f"/api/units/{unit.id}/agents", headers=admin)).status_code == 404
    assert (await _unbind(client, admin, tree.sibling.id, sibling_clerk.id)).status_code == 404
    assert (await _add(client, admin, 99999, name="不存在")).status_code == 404
    assert await Account.all().count() == 2
    assert await _inbox(client, AGENT_PHONE) == []


async def test_agent_role_is_clerk_or_lower_and_a_member_cannot_be_added_twice(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    too_high = await _add(client, admin, tree.child.id, name="某人", role="admin")
    assert too_high.status_code == 422 and "role" in too_high.json()["error"]["fields"]
    nameless = await _add(client, admin, tree.child.id)
    assert nameless.status_code == 422 and "name" in nameless.json()["error"]["fields"]
    assert (await _add(client, admin, tree.child.id, name="某人")).status_code == 201
    again = await _add(client, admin, tree.child.id, name="某人")
    assert again.status_code == 409 and again.json()["error"]["code"] == "agent_exists"
    assert await AuditEntry.filter(action="agent.add").count() == 1


async def test_unbind_without_confirmation_only_describes_what_would_happen(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    agent = await make_account("village_clerk", tree.child, Role.CLERK)
    agent_session = await login(client, "village_clerk")
    preview = await _unbind(client, admin, tree.child.id, agent.id)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["agent"]["account_id"] == agent.id and body["agent"]["unit_name"] == "王家湾村"
    assert body["last_unit"] is True and body["expires_in"] == 120
    assert "测试village_clerk" in body["notice"] and "王家湾村" in body["notice"] and "最后一个单位" in body["notice"]
    assert await Membership.filter(account_id=agent.id, unit_id=tree.child.id).exists()
    assert (await client.get("/api/units/", headers=agent_session)).status_code == 200
    assert not await AuditEntry.filter(action="agent.unbind").exists()


async def test_confirmed_unbind_removes_only_that_unit_and_ends_the_sessions_working_for_it(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    agent = await make_account("two_units", tree.child, Role.CLERK)
    await Membership.create(account_id=agent.id, unit_id=tree.own.id, role=Role.CLERK, created_at=agent.created_at)
    in_child = await login(client, "two_units")
    assert (await _choose(client, in_child, tree.child.id)).status_code == 200
    in_own = await login(client, "two_units")
    assert (await _choose(client, in_own, tree.own.id)).status_code == 200

    preview = (await _unbind(client, admin, tree.child.id, agent.id)).json()
    assert preview["last_unit"] is False and "最后一个单位" not in preview["notice"]
    confirmed = await _confirm(client, admin, tree.child.id, agent.id, preview["ticket"])
    assert confirmed.status_code == 204, confirmed.text
    assert [m.unit_id for m in await Membership.filter(account_id=agent.id)] == [tree.own.id]
    assert (await Account.get(id=agent.id)).is_active
    assert (await client.get("/api/session", headers=in_child)).status_code == 401
    assert (await client.get("/api/units/", headers=in_own)).status_code == 200
    entry = await AuditEntry.get(action="agent.unbind")
    assert entry.target_id == str(agent.id) and entry.scope_path == tree.child.path
    assert entry.detail == {"unit_id": tree.child.id, "role": "clerk", "last_unit": False}


async def test_unbinding_the_last_unit_keeps_the_account_but_leaves_no_unit_to_pick(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    agent = await make_account("only_child", tree.child, Role.CLERK)
    ticket = (await _unbind(client, admin, tree.child.id, agent.id)).json()["ticket"]
    assert (await _confirm(client, admin, tree.child.id, agent.id, ticket)).status_code == 204
    assert await Account.filter(id=agent.id, is_active=True).exists()
    headers = _bearer(await login_response(client, "only_child"))
    assert (await client.get("/api/session", headers=headers)).json()["units"] == []
    refused = await client.get("/api/units/", headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "unit_choice_required"
    assert (await AuditEntry.get(action="agent.unbind")).detail["last_unit"] is True


async def test_a_confirmation_ticket_works_once(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    agent = await make_account("village_clerk", tree.child, Role.CLERK)
    ticket = (await _unbind(client, admin, tree.child.id, agent.id)).json()["ticket"]
    assert (await _confirm(client, admin, tree.child.id, agent.id, ticket)).status_code == 204
    await Membership.create(account_id=agent.id, unit_id=tree.child.id, role=Role.CLERK, created_at=agent.created_at)
    reused = await _confirm(client, admin, tree.child.id, agent.id, ticket)
    assert reused.status_code == 410 and reused.json()["error"]["code"] == "ticket_invalid"
    assert await Membership.filter(account_id=agent.id, unit_id=tree.child.id).exists()
    assert await AuditEntry.filter(action="agent.unbind").count() == 1


async def test_a_confirmation_ticket_expires_after_two_minutes(client, clock):
    tree = await make_tree()
    admin = await _admin(client, tree)
    agent = await make_account("village_clerk", tree.child, Role.CLERK)
    ticket = (await _unbind(client, admin, tree.child.id, agent.id)).json()["ticket"]
    clock.advance(121)
    late = await _confirm(client, admin, tree.child.id, agent.id, ticket)
    assert late.status_code == 410 and late.json()["error"]["code"] == "ticket_invalid"
    assert await Membership.filter(account_id=agent.id, unit_id=tree.child.id).exists()
    assert not await AuditEntry.filter(action="agent.unbind").exists()


async def test_a_ticket_confirms_only_the_agent_and_session_it_was_issued_for(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    other_admin_session = await login(client, "town_admin")
    agent = await make_account("village_clerk", tree.child, Role.CLERK)
    bystander = await make_account("village_viewer", tree.child, Role.VIEWER)
    ticket = (await _unbind(client, admin, tree.child.id, agent.id)).json()["ticket"]
    wrong_agent = await _confirm(client, admin, tree.child.id, bystander.id, ticket)
    assert wrong_agent.status_code == 410
    ticket = (await _unbind(client, admin, tree.child.id, agent.id)).json()["ticket"]
    wrong_session = await _confirm(client, other_admin_session, tree.child.id, agent.id, ticket)
    assert wrong_session.status_code == 410
    assert await Membership.filter(unit_id=tree.child.id).count() == 2


async def test_an_admin_cannot_unbind_itself_or_a_peer_admin_of_its_own_unit(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    me = await Account.get(username_key="town_admin")
    peer = await make_account("town_admin2", tree.own, Role.ADMIN)
    itself = await _unbind(client, admin, tree.own.id, me.id)
    assert itself.status_code == 403 and itself.json()["error"]["code"] == "not_self"
    refused = await _unbind(client, admin, tree.own.id, peer.id)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "cannot_unbind"
    not_member = await _unbind(client, admin, tree.child.id, peer.id)
    assert not_member.status_code == 404


async def test_an_admin_without_a_card_cannot_unbind_an_agent_holding_one(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    agent = await make_account("card_clerk", tree.child, Role.CLERK)
    await bind_card(agent.id, "66000009")
    refused = await _unbind(client, admin, tree.child.id, agent.id)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "card_holder_protected"
    # a ticket asked for before the card was bound does not get past the rule either
    await CardBinding.filter(account_id=agent.id).delete()
    ticket = (await _unbind(client, admin, tree.child.id, agent.id)).json()["ticket"]
    await bind_card(agent.id, "66000009")
    late = await _confirm(client, admin, tree.child.id, agent.id, ticket)
    assert late.status_code == 403 and late.json()["error"]["code"] == "card_holder_protected"
    assert await Membership.filter(account_id=agent.id, unit_id=tree.child.id).exists()
    assert not await AuditEntry.filter(action="agent.unbind").exists()


async def test_a_confirmation_ticket_lost_to_a_redis_restart_asks_to_start_again_and_unbinds_nothing(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    agent = await make_account("village_clerk", tree.child, Role.CLERK)
    ticket = (await _unbind(client, admin, tree.child.id, agent.id)).json()["ticket"]
    await runtime.get().redis.flushdb()  # the session went with it: a new login, the confirmation sent again
    assert (await _confirm(client, admin, tree.child.id, agent.id, ticket)).status_code == 401
    admin = await login(client, "town_admin")
    lost = await _confirm(client, admin, tree.child.id, agent.id, ticket)
    assert lost.status_code == 410 and lost.json()["error"]["message"] == "操作已过期或无效，请从头开始"
    assert await Membership.filter(account_id=agent.id, unit_id=tree.child.id).exists()
    again = (await _unbind(client, admin, tree.child.id, agent.id)).json()["ticket"]
    assert (await _confirm(client, admin, tree.child.id, agent.id, again)).status_code == 204


async def test_an_agent_added_before_a_redis_restart_is_not_added_twice_by_a_resend(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    body = {"phone": AGENT_PHONE, "name": "李四", "role": "clerk"}
    key = {"Idempotency-Key": "agent-add-resend-1"}
    first = await client.post(f"/api/units/{tree.child.id}/agents", headers={**admin, **key}, json=body)
    assert first.status_code == 201, first.text
    await runtime.get().redis.flushdb()  # the stored answer and the session are gone
    admin = await login(client, "town_admin")
    resent = await client.post(f"/api/units/{tree.child.id}/agents", headers={**admin, **key}, json=body)
    assert resent.status_code == 201 and resent.json() == first.json()  # the answer kept in the database
    assert resent.headers.get("idempotent-replayed") == "true"
    assert await Account.filter(phone_index=runtime.get().vault.index("phone", AGENT_PHONE)).count() == 1
    assert len(await _inbox(client, AGENT_PHONE)) == 1  # one temporary password, not two


async def test_a_registered_phone_typed_with_another_persons_name_binds_nobody_and_does_not_name_the_owner(client):
    """One digit wrong reaches a stranger's account: binding it gave them the unit (and an SMS)."""
    tree = await make_tree()
    admin = await _admin(client, tree)
    stranger = await make_account("li_agent", tree.sibling, Role.CLERK, phone=AGENT_PHONE, phone_login=False)
    refused = await _add(client, admin, tree.child.id, name="王小芳")
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "agent_name_mismatch" and error["message"] == msg.NAME_MISMATCH
    assert error["fields"] == {"phone": msg.NAME_MISMATCH}  # the chat form shows it under the phone
    assert stranger.name not in refused.text and "li_agent" not in refused.text
    nameless = await _add(client, admin, tree.child.id)  # no name: nothing to check the phone against
    assert nameless.status_code == 422 and "name" in nameless.json()["error"]["fields"], nameless.text
    assert stranger.name not in nameless.text
    assert await Membership.filter(account_id=stranger.id).values_list("unit_id", flat=True) == [tree.sibling.id]
    assert (await Account.get(id=stranger.id)).login_phone_index is None
    assert await Account.all().count() == 2
    assert await _inbox(client, AGENT_PHONE) == []
    assert not await AuditEntry.filter(action="agent.add").exists()


async def test_a_registered_phone_with_its_owners_name_typed_with_spaces_or_full_width_joins_the_unit(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    person = await make_account("li_agent", tree.sibling, Role.CLERK, phone=AGENT_PHONE)
    added = await add_with_consent(client, admin, tree.child.id, name="测试 ＬＩ_agent")  # registered as 测试li_agent
    assert added.status_code == 201, added.text
    assert added.json()["account_id"] == person.id and added.json()["new_account"] is False


async def test_a_shared_phone_binds_the_account_of_the_name_typed(client):
    """A family shares one phone in a village: the name says which of its accounts is meant."""
    tree = await make_tree()
    admin = await _admin(client, tree)
    await make_account("father", tree.sibling, Role.CLERK, phone=AGENT_PHONE)  # logs in by the phone
    son = await make_account("son", tree.sibling, Role.VIEWER, phone=AGENT_PHONE, phone_login=False)
    added = await add_with_consent(client, admin, tree.child.id, name="测试son")
    assert added.status_code == 201, added.text
    assert added.json()["account_id"] == son.id
    assert await Membership.exists(account_id=son.id, unit_id=tree.child.id)
