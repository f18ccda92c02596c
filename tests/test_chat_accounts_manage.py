"""P4 and P6 in chat (W7): an admin creates an account through a form and deactivates one after a
card that says what will happen, both by the API's own actions (backend.accounts.actions): the same
rights, scope, SMS and audit. "新建账号" and "停用王建国的账号" were looked up as names."""

from __future__ import annotations

import json

import pytest

from backend.accounts.models import Account, Membership
from backend.cards.models import CardBinding
from backend.chat import intents, parser
from backend.core.audit import AuditEntry
from backend.core.roles import FinanceAccess, Role
from backend.wechat.models import WechatIdentity
from tests.coops_helpers import blocks, chat
from tests.factories import bind_card, bind_wechat, login, login_response, make_account, make_tree
from tests.test_chat_accounts import PHONE_IN_SCOPE, PHONE_OUTSIDE, admin_of, person, sms_password
from tests.test_chat_agents import _send_form
from tests.test_chat_lookup import button, card, fields, notice

NEW_PHONE = "13912345670"
NOT_ALLOWED = "您的角色不能进行这项操作。"


def _options(form: dict, name: str) -> list[str]:
    [field] = [f for f in form["fields"] if f["name"] == name]
    return [o["value"] for o in field["options"]]


def _value(form: dict, name: str) -> str | None:
    [field] = [f for f in form["fields"] if f["name"] == name]
    return field["value"]


@pytest.mark.parametrize(
    ("text", "intent", "params"),
    [
        ("新建账号", "account.form", {}),
        ("添加账号", "account.form", {}),
        ("新建一个账号", "account.form", {}),
        ("给王家湾村新建一个账号", "account.form", {"name": "王家湾村"}),
        ("在王家湾村添加录入员", "account.form", {"name": "王家湾村", "role": "录入员"}),
        ("王家湾村开通一个账号", "account.form", {"name": "王家湾村"}),
        ("停用王建国的账号", "account.deactivate", {"name": "王建国"}),
        ("注销王建国的账号", "account.deactivate", {"name": "王建国"}),
        ("停用王建国", "account.deactivate", {"name": "王建国"}),
        ("把王建国的账号停用", "account.deactivate", {"name": "王建国"}),
        # the phrasings of other questions stay theirs
        ("注销的账号", "accounts.deactivated", {}),
        ("王家湾村已注销的账号", "accounts.deactivated", {"name": "王家湾村"}),
        ("哪些账号被停用了", "accounts.deactivated", {}),
        ("注销登录", "chat.own_account", {}),
        ("添加经办人", "agent.form", {}),
        ("给王家湾村添加经办人", "agent.form", {"name": "王家湾村"}),
        ("王家湾村的录入员", "unit.members", {"name": "王家湾村", "role": "录入员"}),
        ("王建国的账号", "account.card", {"name": "王建国"}),
    ],
)
def test_creating_and_deactivating_are_asked_in_words_without_taking_other_questions(text, intent, params):
    intents.load()
    parsed = parser.parse(text)
    assert (parsed.intent, parsed.params) == (intent, params)


async def test_an_admin_creates_an_account_through_the_form_and_sees_its_card(client):
    """ "新建账号" answered "没有找到“新建”": creating was in the API only, which the mini-program lacks."""
    tree = await make_tree()
    headers = await admin_of(client, tree)
    reply = await chat(client, headers, "新建账号")
    [form] = blocks(reply, "form")
    assert "白沙镇" in form["title"] and form["submit"]["intent"] == "account.create"
    assert form["submit"]["params"] == {"unit_id": tree.own.id}
    assert [f["name"] for f in form["fields"]] == ["username", "name", "phone", "id_number", "role", "finance_access"]
    [phone_field] = [f for f in form["fields"] if f["name"] == "phone"]
    assert phone_field["kind"] == "phone" and not phone_field.get("landline")  # a mobile: the SMS goes there
    [id_field] = [f for f in form["fields"] if f["name"] == "id_number"]
    assert id_field["kind"] == "id_number" and id_field["required"] is False
    # In its own unit an admin gives only lower roles; it has no finance access to grant.
    assert _options(form, "role") == ["clerk", "viewer"] and _value(form, "role") == "clerk"
    assert _options(form, "finance_access") == ["none"] and _value(form, "finance_access") == "none"
    values = {"username": "zxh01", "name": "赵小红", "phone": "12345", "role": "clerk", "finance_access": "none"}
    refused = await _send_form(client, headers, form, **values)
    assert refused.status_code == 422 and "phone" in refused.json()["error"]["fields"]
    assert not await Account.exists(username_key="zxh01")
    added = await _send_form(client, headers, form, **{**values, "phone": NEW_PHONE})
    assert added.status_code == 200, added.text
    answer = added.json()
    [lead] = blocks(answer, "notice")
    assert lead["level"] == "success" and "赵小红" in lead["text"] and "短信" in lead["text"]
    shown = card(answer)
    assert shown["title"] == "赵小红" and fields(shown)["用户名"] == "zxh01"
    assert fields(shown)["单位与角色"] == "白沙镇·录入员" and fields(shown)["手机"] == "139****5670"
    temporary = await sms_password(client, NEW_PHONE)
    assert temporary is not None and temporary not in added.text and NEW_PHONE not in added.text
    session = await login_response(client, "zxh01", temporary)
    assert session.status_code == 200 and session.json()["must_change_password"] is True
    account = await Account.get(username_key="zxh01")
    membership = await Membership.get(account_id=account.id)
    assert (membership.unit_id, membership.role, membership.finance_access) == (tree.own.id, "clerk", "none")
    entry = await AuditEntry.get(action="account.create")
    assert entry.target_id == str(account.id)


async def test_the_form_is_for_the_unit_named_else_the_last_shown_else_the_own(client):
    tree = await make_tree()
    await make_account("finance_admin", tree.own, role=Role.ADMIN, finance=FinanceAccess.ALL)
    headers = await login(client, "finance_admin")
    [named] = blocks(await chat(client, headers, "给王家湾村新建一个账号"), "form")
    assert "王家湾村" in named["title"] and named["submit"]["params"] == {"unit_id": tree.child.id}
    # In a unit below, up to its own role; all its finance access (own_region only in its own unit).
    assert _options(named, "role") == ["admin", "clerk", "viewer"]
    assert _options(named, "finance_access") == ["none", "all", "own_region"]
    [clerk] = blocks(await chat(client, headers, "在王家湾村添加查看员"), "form")
    assert clerk["submit"]["params"] == {"unit_id": tree.child.id} and _value(clerk, "role") == "viewer"
    await chat(client, headers, "王家湾村")  # its card: the last unit shown
    [last] = blocks(await chat(client, headers, "新建账号"), "form")
    assert last["submit"]["params"] == {"unit_id": tree.child.id}
    other = await admin_of(client, tree)
    [own] = blocks(await chat(client, other, "添加账号"), "form")
    assert own["submit"]["params"] == {"unit_id": tree.own.id}


async def test_a_role_the_admin_may_not_give_is_said_and_not_offered(client):
    tree = await make_tree()
    headers = await admin_of(client, tree)
    reply = await chat(client, headers, "在白沙镇添加管理员")  # a peer of the admin: not its to create
    assert blocks(reply, "notice")[0]["level"] == "warning" and "角色" in notice(reply)
    [form] = blocks(reply, "form")
    assert "admin" not in _options(form, "role") and _value(form, "role") == "clerk"


async def test_a_refused_field_reopens_the_form_naming_it_and_nothing_is_created(client):
    tree = await make_tree()
    await make_account("taken01", tree.child)
    headers = await admin_of(client, tree)
    [form] = blocks(await chat(client, headers, "新建账号"), "form")
    base = {"username": "zxh01", "name": "赵小红", "phone": NEW_PHONE, "role": "clerk", "finance_access": "none"}
    cases = {
        "username": {"username": "Taken01"},  # a user name is never issued twice (any case)
        "role": {"role": "admin"},  # a peer, in the admin's own unit
        "finance_access": {"finance_access": "all"},  # more than the admin sees
        "id_number": {"id_number": "110105194912310021"},  # wrong check character
    }
    for field, change in cases.items():
        refused = await _send_form(client, headers, form, **{**base, **change})
        assert refused.status_code == 422, (field, refused.text)
        assert field in refused.json()["error"]["fields"], (field, refused.text)
    assert not await Account.exists(username_key="zxh01")
    assert await sms_password(client, NEW_PHONE) is None
    assert not await AuditEntry.filter(action="account.create").exists()


async def test_creating_is_the_admins_and_only_within_the_scope(client):
    tree = await make_tree()
    values = {"username": "zxh01", "name": "赵小红", "phone": NEW_PHONE, "role": "viewer", "finance_access": "none"}
    for role in (Role.CLERK, Role.VIEWER):
        headers = await admin_of(client, tree, role=role)
        assert notice(await chat(client, headers, "新建账号")).startswith(NOT_ALLOWED)
        sent = await chat(client, headers, intent="account.create", params={"unit_id": tree.child.id, **values})
        assert notice(sent).startswith(NOT_ALLOWED)
    admin = await admin_of(client, tree)
    outside = await chat(client, admin, intent="account.create", params={"unit_id": tree.sibling.id, **values})
    missing = await chat(client, admin, intent="account.create", params={"unit_id": 999999, **values})
    assert outside == missing and blocks(outside, "notice")[0]["level"] == "warning"
    assert blocks(await chat(client, admin, intent="account.form", params={"unit_id": tree.sibling.id}), "form") == []
    assert not await Account.exists(username_key="zxh01")


async def test_an_admin_deactivates_an_account_after_the_card_says_what_will_happen(client):
    tree = await make_tree()
    wang = await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    await bind_wechat(wang.id, "openid-wang")
    wang_session = await login(client, "wjg01")
    headers = await admin_of(client, tree)
    for text in ("停用王建国的账号", "注销王建国的账号"):
        preview = card(await chat(client, headers, text))
        confirm = button(preview, "确认停用")
        assert confirm["intent"] == "account.deactivate" and confirm["style"] == "danger", text
        said = json.dumps(preview, ensure_ascii=False)
        assert "王建国" in said and "wjg01" in said and "登录" in said and "微信" in said and "不会再" in said
    assert (await Account.get(id=wang.id)).is_active  # the card changes nothing
    done = await chat(client, headers, intent=confirm["intent"], params=confirm["params"])
    [lead] = blocks(done, "notice")
    assert lead["level"] == "success" and "王建国" in lead["text"]
    assert fields(card(done))["账号状态"] == "已停用"
    assert not (await Account.get(id=wang.id)).is_active
    assert not await WechatIdentity.exists(account_id=wang.id)
    assert (await client.get("/api/profile", headers=wang_session)).status_code == 401
    assert (await login_response(client, "wjg01")).status_code == 401
    entry = await AuditEntry.get(action="account.deactivate")
    assert entry.target_id == str(wang.id)
    again = await chat(client, headers, intent=confirm["intent"], params=confirm["params"])
    assert blocks(again, "notice")[0]["level"] == "warning" and "已停用" in notice(again)
    typed_again = await chat(client, headers, "停用王建国的账号")
    assert "已停用" in notice(typed_again) and "确认停用" not in json.dumps(typed_again, ensure_ascii=False)


async def test_deactivating_is_refused_to_others_and_outside_the_scope_like_a_missing_account(client):
    tree = await make_tree()
    wang = await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    stranger = await person("lxm01", "李小明", tree.sibling, phone=PHONE_OUTSIDE)
    for role in (Role.CLERK, Role.VIEWER):
        headers = await admin_of(client, tree, role=role)
        assert notice(await chat(client, headers, "停用王建国的账号")).startswith(NOT_ALLOWED)
        confirmed = {"account_id": wang.id, "confirmed": True}
        assert notice(await chat(client, headers, intent="account.deactivate", params=confirmed)).startswith(
            NOT_ALLOWED
        )
    admin = await admin_of(client, tree)
    for params in ({"account_id": stranger.id}, {"account_id": stranger.id, "confirmed": True}):
        outside = await chat(client, admin, intent="account.deactivate", params=params)
        missing = await chat(client, admin, intent="account.deactivate", params={**params, "account_id": 999999})
        assert outside == missing and not blocks(outside, "card"), params
    assert "没有找到" in notice(await chat(client, admin, "停用李小明的账号"))
    assert (await Account.get(id=wang.id)).is_active and (await Account.get(id=stranger.id)).is_active
    assert not await AuditEntry.filter(action="account.deactivate").exists()


async def test_no_confirm_button_where_the_api_would_refuse_and_a_crafted_one_changes_nothing(client):
    tree = await make_tree()
    peer = await person("peer01", "同级管理员", tree.own, role=Role.ADMIN)
    holder = await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    await bind_card(holder.id, "C0001")
    headers = await admin_of(client, tree)
    admin = await Account.get(username="town_admin")
    cases = {"同级管理员": peer.id, "王建国": holder.id}
    for name, account_id in cases.items():
        shown = await chat(client, headers, f"停用{name}的账号")
        assert blocks(shown, "notice")[0]["level"] == "warning", (name, shown)
        assert "确认停用" not in json.dumps(shown, ensure_ascii=False), name
        crafted = await chat(
            client, headers, intent="account.deactivate", params={"account_id": account_id, "confirmed": True}
        )
        assert blocks(crafted, "notice")[0]["level"] == "warning", (name, crafted)
        assert (await Account.get(id=account_id)).is_active, name
    own = await chat(client, headers, intent="account.deactivate", params={"account_id": admin.id, "confirmed": True})
    assert "自己" in notice(own) and (await Account.get(id=admin.id)).is_active
    assert await CardBinding.exists(account_id=holder.id)
    await bind_card(admin.id, "C0002")  # an admin holding a card may (C6)
    assert button(card(await chat(client, headers, "停用王建国的账号")), "确认停用")


async def test_the_person_card_offers_deactivation_where_the_action_would_accept_it(client):
    """Deactivating could only be typed ("停用王建国的账号"): the card had unlock and reset only."""
    tree = await make_tree()
    await person("wjg01", "王建国", tree.child, phone=PHONE_IN_SCOPE)
    holder = await person("hgm01", "侯国梅", tree.child, phone="13912345672")
    await bind_card(holder.id, "C0001")
    headers = await admin_of(client, tree)
    offered = button(card(await chat(client, headers, "王建国")), "停用账号")
    assert offered["style"] == "danger" and "confirmed" not in offered["params"]
    preview = await chat(client, headers, intent=offered["intent"], params=offered["params"])
    assert button(card(preview), "确认停用") and (await Account.get(username="wjg01")).is_active
    for shown in (await chat(client, headers, "侯国梅"), await chat(client, headers, "town_admin")):
        assert "停用账号" not in json.dumps(shown, ensure_ascii=False)
    viewer = await admin_of(client, tree, role=Role.VIEWER)
    assert "停用账号" not in json.dumps(await chat(client, viewer, "王建国"), ensure_ascii=False)
