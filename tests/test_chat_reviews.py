"""R5 in chat: an admin above a unit lists the pending manual reviews, opens one as a masked card
(audited, as the API's view), approves it with a confirmation or rejects it with a reason, by the
API's own actions; before these intents a request waited until someone called the API by hand."""

from __future__ import annotations

import httpx

from backend.core.audit import AuditEntry
from backend.core.clock import CHINA_TIME, china_minute
from backend.core.roles import Role
from backend.reviews import messages as msg
from backend.reviews.models import ReviewRequest
from tests.coops_helpers import blocks, chat, fields
from tests.test_reviews import (
    ID_NUMBER,
    REQUEST_PHONE,
    Env,
    admin_of,
    empty_uploads,
    env,
    inbox,
    jpeg,
    only_review,
    png,
    submit,
)

__all__ = ["empty_uploads", "env"]  # the fixtures, shared with test_reviews

NOT_ALLOWED = "您的角色不能进行这项操作。"


def _submitted_at(review: ReviewRequest) -> str:
    return china_minute(review.created_at)


async def _card(client: httpx.AsyncClient, headers: dict[str, str], review_id: int) -> dict:
    return await chat(client, headers, intent="review.card", params={"review_id": review_id})


def card_buttons(card: dict) -> dict[str, dict]:
    return {action["label"]: action for action in card["actions"]}


async def tap(client: httpx.AsyncClient, headers: dict[str, str], action: dict, **values: str) -> httpx.Response:
    params = {**action["params"], **values}
    return await client.post(
        "/api/chat", json={"action": {"intent": action["intent"], "params": params}}, headers=headers
    )


async def test_an_admin_above_lists_the_pending_reviews_by_each_phrasing(client, env: Env):
    await submit(client, images=[("a.jpg", jpeg(), "image/jpeg"), ("b.png", png(), "image/png")])
    review = await only_review()
    town = await admin_of(client, env.tree.own, "town_admin")
    for text in ("待审核", "人工审核", "审核申请", "有哪些待审核的", "找回密码的审核"):
        [table] = blocks(await chat(client, town, text), "table")
        assert table["columns"] == ["类型", "申请人", "单位", "提交时间"], text
        assert table["rows"] == [["找回密码", "张三", "王家湾村", _submitted_at(review)]], text
        assert table["row_actions"] == [
            {
                "label": "张三",
                "intent": "review.card",
                "params": {"review_id": review.id},
                "style": "default",
            }
        ]
        assert table["total"] == 1 and "more" not in table
    [none] = blocks(await chat(client, town, "找回用户名的审核"), "notice")
    assert none["text"] == "没有待审核的找回用户名申请。"


async def test_none_pending_is_a_notice_saying_so(client, env: Env):
    town = await admin_of(client, env.tree.own, "town_admin")
    reply = await chat(client, town, "待审核")
    assert not blocks(reply, "table") and blocks(reply, "notice")[0]["text"] == "没有待审核的申请。"


async def test_more_pages_the_list_as_other_chat_tables(client, env: Env):
    for n in range(11):
        response = await submit(client, statement=f"第{n}次申请人工审核", ip=f"10.9.1.{n}")
        assert response.status_code == 202, response.text
    town = await admin_of(client, env.tree.own, "town_admin")
    [first] = blocks(await chat(client, town, "待审核"), "table")
    assert len(first["rows"]) == 10 and first["total"] == 11 and first["more"]["intent"] == "review.list"
    [second] = blocks(await chat(client, town, "更多"), "table")
    assert len(second["rows"]) == 1 and "more" not in second
    last = await ReviewRequest.all().order_by("-id").first()
    assert second["row_actions"][0]["params"] == {"review_id": last.id}


async def test_the_card_shows_masked_details_checks_and_what_approval_does_and_is_audited(client, env: Env):
    await submit(client, images=[("a.jpg", jpeg(), "image/jpeg"), ("b.png", png(), "image/png")])
    review = await only_review()
    town = await admin_of(client, env.tree.own, "town_admin")
    [table] = blocks(await chat(client, town, "待审核"), "table")
    reply = await chat(client, town, **{k: table["row_actions"][0][k] for k in ("intent", "params")})
    [card] = blocks(reply, "card")
    shown = fields(card)
    assert card["title"] == "找回密码申请：张三"
    assert shown["申请人"] == "张三" and shown["单位"] == "王家湾村" and shown["账号"] == "forgetful"
    assert shown["手机号"] == "139****2222" and shown["身份证号"] == "1101**********002X"
    assert (shown["姓名核对"], shown["身份证号核对"], shown["手机号核对"]) == ("一致", "一致", "不一致")
    assert shown["情况说明"] == "原手机号已停用，收不到验证码，申请人工审核" and shown["图片"] == "2 张"
    assert shown["状态"] == "待审核" and shown["提交时间"] == _submitted_at(review)
    assert "forgetful" in card["subtitle"] and "临时密码" in card["subtitle"]
    assert REQUEST_PHONE not in str(reply) and ID_NUMBER not in str(reply)
    buttons = card_buttons(card)
    assert list(buttons) == ["通过", "驳回", "查看图片1", "查看图片2"]
    assert buttons["通过"]["intent"] == "review.approve" and buttons["通过"]["confirm"] == card["subtitle"]
    assert buttons["通过"]["params"] == {"review_id": review.id}
    assert buttons["驳回"]["intent"] == "review.reject_form"
    assert buttons["查看图片2"] == {
        "label": "查看图片2",
        "intent": "review.image",
        "params": {"review_id": review.id, "index": 2},
        "style": "default",
    }
    view = await AuditEntry.get(action="review.view")
    assert view.target_id == str(review.id) and view.actor_account_id is not None
    by_id = blocks(await chat(client, town, f"审核 {review.id}"), "card")
    assert by_id and by_id[0]["title"] == card["title"]
    assert await AuditEntry.filter(action="review.view").count() == 2


async def test_approve_decides_by_the_apis_action_and_a_second_decision_is_a_notice(client, env: Env):
    await submit(client)
    review = await only_review()
    town = await admin_of(client, env.tree.own, "town_admin")
    [card] = blocks(await _card(client, town, review.id), "card")
    approve = card_buttons(card)["通过"]
    done = await tap(client, town, approve)
    assert done.status_code == 200, done.text
    notice = blocks(done.json(), "notice")[0]
    assert notice["level"] == "success" and "已通过" in notice["text"]
    assert (await only_review()).status == "approved"
    [sms] = await inbox(client, REQUEST_PHONE)
    assert sms["template"] == "review_approved" and "forgetful" in sms["text"]
    assert await AuditEntry.filter(action="review.approve", target_id=str(review.id)).count() == 1

    again = (await tap(client, town, approve)).json()
    assert blocks(again, "notice")[0] == {"type": "notice", "level": "warning", "text": msg.ALREADY_DECIDED}
    rejected = (
        await tap(client, town, {"intent": "review.reject", "params": {"review_id": review.id}}, reason="x")
    ).json()
    assert blocks(rejected, "notice")[0]["text"] == msg.ALREADY_DECIDED
    assert (await only_review()).status == "approved" and len(await inbox(client, REQUEST_PHONE)) == 1

    [decided] = blocks(await _card(client, town, review.id), "card")
    assert decided["actions"] == [] and fields(decided)["状态"] == "已通过"
    assert fields(decided)["审核时间"]


async def test_reject_asks_for_a_reason_of_1_to_200_characters_and_sends_it(client, env: Env):
    await submit(client)
    review = await only_review()
    town = await admin_of(client, env.tree.own, "town_admin")
    [card] = blocks(await _card(client, town, review.id), "card")
    reject = card_buttons(card)["驳回"]
    [form] = blocks(await chat(client, town, intent=reject["intent"], params=reject["params"]), "form")
    assert [(f["name"], f["required"]) for f in form["fields"]] == [("reason", True)]
    assert form["submit"]["intent"] == "review.reject" and form["submit"]["params"] == {"review_id": review.id}
    empty = await tap(client, town, form["submit"])
    assert empty.status_code == 422 and "reason" in empty.json()["error"]["fields"]
    long = await tap(client, town, form["submit"], reason="长" * 201)
    assert long.status_code == 422 and "reason" in long.json()["error"]["fields"]
    assert (await only_review()).status == "pending" and await inbox(client, REQUEST_PHONE) == []
    done = await tap(client, town, form["submit"], reason="提供的证件照片不清晰")
    assert done.status_code == 200, done.text
    assert blocks(done.json(), "notice")[0]["level"] == "success"
    decided = await only_review()
    assert decided.status == "rejected" and decided.decision_reason == "提供的证件照片不清晰"
    [sms] = await inbox(client, REQUEST_PHONE)
    assert sms["template"] == "review_rejected" and "提供的证件照片不清晰" in sms["text"]
    [shown] = blocks(await _card(client, town, review.id), "card")
    assert shown["actions"] == [] and fields(shown)["驳回原因"] == "提供的证件照片不清晰"


async def test_a_sibling_or_the_units_own_admin_sees_nothing_and_decides_nothing(client, env: Env):
    await submit(client)
    review = await only_review()
    for unit, username in ((env.tree.sibling, "sibling_admin"), (env.tree.child, "village_admin")):
        headers = await admin_of(client, unit, username)
        listed = await chat(client, headers, "待审核")
        assert not blocks(listed, "table") and blocks(listed, "notice")[0]["text"] == "没有待审核的申请。"
        for intent, params in (
            ("review.card", {"review_id": review.id}),
            ("review.approve", {"review_id": review.id}),
            ("review.reject", {"review_id": review.id, "reason": "不认识"}),
        ):
            reply = await chat(client, headers, intent=intent, params=params)
            assert not blocks(reply, "card") and blocks(reply, "notice")[0]["level"] == "warning", intent
            assert "张三" not in str(reply)
    assert (await only_review()).status == "pending"
    assert not await AuditEntry.filter(action="review.view").exists()


async def test_clerks_and_viewers_are_refused(client, env: Env):
    await submit(client)
    review = await only_review()
    for username, role in (("town_clerk", Role.CLERK), ("town_viewer", Role.VIEWER)):
        headers = await admin_of(client, env.tree.own, username, role)
        for text in ("待审核", f"审核 {review.id}"):
            assert blocks(await chat(client, headers, text), "notice")[0]["text"].startswith(NOT_ALLOWED)
        for intent in ("review.card", "review.approve", "review.reject_form"):
            reply = await chat(client, headers, intent=intent, params={"review_id": review.id})
            assert blocks(reply, "notice")[0]["text"].startswith(NOT_ALLOWED), intent
    assert (await only_review()).status == "pending"


async def test_an_approval_gone_stale_is_a_notice_and_changes_nothing(client, env: Env):
    await submit(client)
    review = await only_review()
    town = await admin_of(client, env.tree.own, "town_admin")
    [card] = blocks(await _card(client, town, review.id), "card")
    env.target.is_active = False  # deactivated after the card was shown
    await env.target.save(update_fields=["is_active"])
    reply = (await tap(client, town, card_buttons(card)["通过"])).json()
    assert blocks(reply, "notice")[0] == {"type": "notice", "level": "warning", "text": msg.TARGET_GONE}
    assert (await only_review()).status == "pending" and await inbox(client, REQUEST_PHONE) == []
    [again] = blocks(await _card(client, town, review.id), "card")
    assert list(card_buttons(again)) == ["驳回", "查看图片1"] and again["subtitle"] == msg.ON_APPROVE_UNKNOWN


async def test_the_image_intent_is_the_mini_programs_and_the_server_sends_no_bytes(client, env: Env):
    await submit(client)
    review = await only_review()
    town = await admin_of(client, env.tree.own, "town_admin")
    reply = await chat(client, town, intent="review.image", params={"review_id": review.id, "index": 1})
    assert [b["type"] for b in reply["blocks"]] == ["notice"]
    assert "小程序" in reply["blocks"][0]["text"]
    assert not await AuditEntry.filter(action="review.image").exists()


async def test_a_decided_reviews_removed_images_are_said_on_its_card(client, env: Env, clock):
    await submit(client)
    review = await only_review()
    town = await admin_of(client, env.tree.own, "town_admin")
    await ReviewRequest.filter(id=review.id).update(
        status="rejected", decided_at=clock.now(), decision_reason="不符", images_removed_at=clock.now()
    )
    [card] = blocks(await _card(client, town, review.id), "card")
    removed = clock.now().astimezone(CHINA_TIME).strftime("%Y-%m-%d")
    assert fields(card)["图片"] == f"已于 {removed} 删除" and card["actions"] == []


async def test_a_buttons_kind_that_is_no_kind_lists_every_kind(client, env: Env):
    """A client may send any parameters: a list as the kind was looked up in a dict (a server error)."""
    await submit(client)
    town = await admin_of(client, env.tree.own, "town_admin")
    for kind in (["password"], "nothing", 3):
        [table] = blocks(await chat(client, town, intent="review.list", params={"kind": kind}), "table")
        assert table["title"] == "待审核的申请" and len(table["rows"]) == 1
