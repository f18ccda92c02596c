"""P12 in chat: an admin of the superior a unit asked to join (or above) lists the registrations
awaiting a decision, opens one as a masked card, approves it with a confirmation or rejects it with
a reason, by the API's own actions; before these intents a registration waited for a hand-made API
call."""

from __future__ import annotations

import httpx

from backend.accounts.models import Account
from backend.core.audit import AuditEntry
from backend.core.clock import china_minute
from backend.registration import messages as msg
from backend.registration.models import RegistrationStatus, UnitRegistration
from backend.units.models import Unit
from tests.coops_helpers import blocks, chat, fields
from tests.factories import make_account, make_tree
from tests.test_chat_reviews import NOT_ALLOWED, card_buttons, tap
from tests.test_registration import PHONE, credit_code, reviewer, submitted


def _submitted_at(registration: UnitRegistration) -> str:
    return china_minute(registration.created_at)


async def _card(client: httpx.AsyncClient, headers: dict[str, str], registration_id: int) -> dict:
    return await chat(client, headers, intent="registration.card", params={"registration_id": registration_id})


async def _inbox(client: httpx.AsyncClient) -> list[dict]:
    return (await client.get("/api/dev/sms", params={"phone": PHONE})).json()["messages"]


async def test_an_admin_of_the_superior_lists_the_registrations_by_each_phrasing(client):
    tree = await make_tree()
    registration = await submitted(client, tree)
    for unit, username in ((tree.own, "town_admin"), (tree.parent, "county_admin")):
        headers = await reviewer(client, unit, username)
        for text in ("待审批的注册", "单位注册申请", "注册审批"):
            [table] = blocks(await chat(client, headers, text), "table")
            assert table["columns"] == ["单位名称", "类型", "申请加入", "管理员", "提交时间"], text
            assert table["rows"] == [
                ["白沙镇茶叶专业合作社", "合作社", "白沙镇", "王秀兰", _submitted_at(registration)]
            ]
            assert table["row_actions"][0]["intent"] == "registration.card"
            assert table["row_actions"][0]["params"] == {"registration_id": registration.id}
            assert table["total"] == 1 and "more" not in table


async def test_none_awaiting_is_a_notice_and_more_pages_the_list(client):
    tree = await make_tree()
    town = await reviewer(client, tree.own)
    reply = await chat(client, town, "注册审批")
    assert not blocks(reply, "table") and blocks(reply, "notice")[0]["text"] == "没有待审批的单位注册申请。"
    first = await submitted(client, tree)
    [row] = await UnitRegistration.filter(id=first.id).values()
    copied = {k: v for k, v in row.items() if k not in ("id", "credit_code", "admin_username")}
    for n in range(2, 12):
        await UnitRegistration.create(**copied, credit_code=credit_code(n), admin_username=f"chaye{n}")
    [page] = blocks(await chat(client, town, "注册审批"), "table")
    assert len(page["rows"]) == 10 and page["total"] == 11 and page["more"]["intent"] == "registration.list"
    [rest] = blocks(await chat(client, town, "更多"), "table")
    assert len(rest["rows"]) == 1 and "more" not in rest


async def test_the_card_shows_the_unit_and_its_people_masked(client):
    tree = await make_tree()
    registration = await submitted(client, tree)
    town = await reviewer(client, tree.own)
    [table] = blocks(await chat(client, town, "注册审批"), "table")
    reply = await chat(client, town, **{k: table["row_actions"][0][k] for k in ("intent", "params")})
    [card] = blocks(reply, "card")
    shown = fields(card)
    assert card["title"] == "单位注册申请：白沙镇茶叶专业合作社"
    assert shown["单位名称"] == "白沙镇茶叶专业合作社" and shown["类型"] == "合作社"
    assert shown["统一社会信用代码"] == credit_code(1) and shown["申请加入"] == "白沙镇"
    assert shown["法定代表人"] == "李春生（1101**********002X）"
    assert shown["管理员"] == "王秀兰（139****0001）" and shown["管理员用户名"] == "chaye1"
    assert shown["状态"] == "待审批" and shown["提交时间"] == _submitted_at(registration)
    assert PHONE not in str(reply) and "11010519491231002X" not in str(reply)
    buttons = card_buttons(card)
    assert list(buttons) == ["通过", "驳回"]
    approve = buttons["通过"]
    assert approve["intent"] == "registration.approve" and approve["params"] == {"registration_id": registration.id}
    assert "白沙镇茶叶专业合作社" in approve["confirm"] and "chaye1" in approve["confirm"]
    by_id = blocks(await chat(client, town, f"注册申请 {registration.id}"), "card")
    assert by_id and by_id[0]["title"] == card["title"]


async def test_approve_creates_the_unit_by_the_apis_action_and_a_second_decision_is_a_notice(client):
    tree = await make_tree()
    registration = await submitted(client, tree)
    town = await reviewer(client, tree.own)
    [card] = blocks(await _card(client, town, registration.id), "card")
    approve = card_buttons(card)["通过"]
    done = await tap(client, town, approve)
    assert done.status_code == 200, done.text
    notice = blocks(done.json(), "notice")[0]
    assert notice["level"] == "success" and "白沙镇茶叶专业合作社" in notice["text"]
    unit = await Unit.get(credit_code=credit_code(1))
    assert unit.parent_id == tree.own.id and await Account.exists(username_key="chaye1")
    assert (await UnitRegistration.get(id=registration.id)).status == RegistrationStatus.APPROVED
    assert (await _inbox(client))[0]["template"] == "registration_approved"
    assert await AuditEntry.filter(action="registration.approve").count() == 1

    again = (await tap(client, town, approve)).json()
    assert blocks(again, "notice")[0] == {"type": "notice", "level": "warning", "text": msg.ALREADY_DECIDED}
    reject = {"intent": "registration.reject", "params": {"registration_id": registration.id}}
    assert blocks((await tap(client, town, reject, reason="重复")).json(), "notice")[0]["text"] == msg.ALREADY_DECIDED
    assert await Unit.filter(credit_code=credit_code(1)).count() == 1
    [decided] = blocks(await _card(client, town, registration.id), "card")
    assert decided["actions"] == [] and fields(decided)["状态"] == "已通过" and fields(decided)["审批时间"]


async def test_reject_asks_for_a_reason_and_sends_it(client):
    tree = await make_tree()
    registration = await submitted(client, tree)
    town = await reviewer(client, tree.own)
    [card] = blocks(await _card(client, town, registration.id), "card")
    reply = await chat(client, town, **{k: card_buttons(card)["驳回"][k] for k in ("intent", "params")})
    [form] = blocks(reply, "form")
    assert [(f["name"], f["required"]) for f in form["fields"]] == [("reason", True)]
    assert form["submit"]["intent"] == "registration.reject"
    empty = await tap(client, town, form["submit"])
    assert empty.status_code == 422 and "reason" in empty.json()["error"]["fields"]
    long = await tap(client, town, form["submit"], reason="长" * 101)
    assert long.status_code == 422 and "reason" in long.json()["error"]["fields"]
    assert (await UnitRegistration.get(id=registration.id)).status == RegistrationStatus.PENDING
    done = await tap(client, town, form["submit"], reason="营业执照信息与申报不符")
    assert done.status_code == 200, done.text
    assert blocks(done.json(), "notice")[0]["level"] == "success"
    decided = await UnitRegistration.get(id=registration.id)
    assert decided.status == RegistrationStatus.REJECTED and decided.decision_reason == "营业执照信息与申报不符"
    sms = (await _inbox(client))[0]
    assert sms["template"] == "registration_rejected" and "营业执照信息与申报不符" in sms["text"]
    assert not await Unit.filter(credit_code=credit_code(1)).exists()
    [shown] = blocks(await _card(client, town, registration.id), "card")
    assert shown["actions"] == [] and fields(shown)["驳回原因"] == "营业执照信息与申报不符"


async def test_a_sibling_or_a_unit_below_sees_nothing_and_a_clerk_or_viewer_is_refused(client):
    tree = await make_tree()
    registration = await submitted(client, tree)
    for unit, username in ((tree.sibling, "sibling_admin"), (tree.child, "village_admin")):
        headers = await reviewer(client, unit, username)
        listed = await chat(client, headers, "注册审批")
        assert not blocks(listed, "table") and blocks(listed, "notice")[0]["text"] == "没有待审批的单位注册申请。"
        for intent, params in (
            ("registration.card", {"registration_id": registration.id}),
            ("registration.approve", {"registration_id": registration.id}),
            ("registration.reject", {"registration_id": registration.id, "reason": "不认识"}),
        ):
            reply = await chat(client, headers, intent=intent, params=params)
            assert not blocks(reply, "card") and blocks(reply, "notice")[0]["level"] == "warning", intent
            assert "茶叶" not in str(reply)
    for role in ("clerk", "viewer"):
        headers = await reviewer(client, tree.own, f"town_{role}", role=role)
        refused = blocks(await chat(client, headers, "注册审批"), "notice")[0]["text"]
        assert refused == NOT_ALLOWED + "单位和单位注册申请只有管理员可以管理。"  # who may, as for the others
        for intent in ("registration.card", "registration.approve", "registration.reject_form"):
            reply = await chat(client, headers, intent=intent, params={"registration_id": registration.id})
            assert blocks(reply, "notice")[0]["text"].startswith(NOT_ALLOWED), intent
    assert (await UnitRegistration.get(id=registration.id)).status == RegistrationStatus.PENDING
    assert not await Unit.filter(credit_code=credit_code(1)).exists()


async def test_an_admin_user_name_taken_since_is_a_notice_not_an_error(client):
    """The action's refusal names a field (admin_username): a chat button has no form to show it under."""
    tree = await make_tree()
    registration = await submitted(client, tree)
    town = await reviewer(client, tree.own)
    [card] = blocks(await _card(client, town, registration.id), "card")
    await make_account("chaye1", tree.sibling)  # took the user name after the card was shown
    done = await tap(client, town, card_buttons(card)["通过"])
    assert done.status_code == 200, done.text
    assert blocks(done.json(), "notice")[0] == {
        "type": "notice",
        "level": "warning",
        "text": msg.ADMIN_USERNAME_TAKEN,
    }
    assert (await UnitRegistration.get(id=registration.id)).status == RegistrationStatus.PENDING
