"""R6, P4 (round 7): the notice to an existing person added as an agent says how they really log in,
and an agent an admin created passes the first-login SMS check like any operator an admin created."""

from __future__ import annotations

from backend.accounts.models import Account
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from tests.factories import PASSWORD, login_response, make_account, make_tree
from tests.test_agent_consent import add_with_consent
from tests.test_agents import AGENT_PHONE, _add, _admin, _inbox, _temporary_password


async def test_a_person_added_without_phone_login_is_told_to_log_in_by_user_name(client):
    """Another account logs in by the shared phone: following "请用手机号登录" counted a failed login there."""
    tree = await make_tree()
    admin = await _admin(client, tree)
    await make_account("father", tree.sibling, Role.CLERK, phone=AGENT_PHONE)  # logs in by the phone
    son = await make_account("son", tree.sibling, Role.VIEWER, phone=AGENT_PHONE, phone_login=False)
    added = await add_with_consent(client, admin, tree.child.id, name="测试son")  # the son gave his code
    assert added.status_code == 201, added.text
    assert added.json()["account_id"] == son.id
    assert (await AuditEntry.get(action="agent.add")).detail["phone_login_on"] is False
    sms = (await _inbox(client, AGENT_PHONE))[0]  # after the consent code
    assert sms["template"] == "agent_unit_added_username"
    assert "用户名 son " in sms["text"] and "王家湾村" in sms["text"]
    assert "手机号" not in sms["text"] and "原密码" not in sms["text"]
    assert (await login_response(client, "son", PASSWORD)).status_code == 200  # what the notice says works


async def test_a_person_whose_phone_login_was_switched_on_is_told_to_log_in_by_phone(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    await make_account("li_agent", tree.sibling, Role.CLERK, phone=AGENT_PHONE, phone_login=False)
    assert (await add_with_consent(client, admin, tree.child.id, name="测试li_agent")).status_code == 201
    sms = (await _inbox(client, AGENT_PHONE))[0]  # after the consent code
    assert sms["template"] == "agent_unit_added" and "手机号" in sms["text"]
    assert (await login_response(client, AGENT_PHONE, PASSWORD)).status_code == 200


async def test_a_person_already_logging_in_by_phone_is_told_to_log_in_by_phone(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    await make_account("li_agent", tree.sibling, Role.CLERK, phone=AGENT_PHONE)
    assert (await add_with_consent(client, admin, tree.child.id, name="测试li_agent")).status_code == 201
    assert (await AuditEntry.get(action="agent.add")).detail["phone_login_on"] is False  # nothing switched
    sms = (await _inbox(client, AGENT_PHONE))[0]  # after the consent code
    assert sms["template"] == "agent_unit_added" and "手机号" in sms["text"]


async def test_the_notice_to_a_person_added_as_an_agent_does_not_speak_of_an_old_password(client):
    """Someone still on a temporary password has no "原密码": the notice names the temporary one too."""
    tree = await make_tree()
    admin = await _admin(client, tree)
    await make_account("li_agent", tree.sibling, Role.CLERK, phone=AGENT_PHONE, must_change=True)
    assert (await add_with_consent(client, admin, tree.child.id, name="测试li_agent")).status_code == 201
    sms = (await _inbox(client, AGENT_PHONE))[0]  # after the consent code
    assert "原密码" not in sms["text"] and "临时密码" in sms["text"]


async def test_an_agent_an_admin_created_passes_the_sms_check_at_first_login(client):
    tree = await make_tree()
    admin = await _admin(client, tree)
    added = await _add(client, admin, tree.child.id, name="王小芳")
    assert added.status_code == 201, added.text
    assert (await Account.get(id=added.json()["account_id"])).needs_sms_check is True
    session = await login_response(client, AGENT_PHONE, await _temporary_password(client, AGENT_PHONE))
    assert session.status_code == 200, session.text
    assert session.json()["sms_check_required"] is True and session.json()["must_change_password"] is True
