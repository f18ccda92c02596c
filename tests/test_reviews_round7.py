"""R5 manual reviews, round 7: requests about the top unit reach its system admins, a request nobody
decides expires, "找回用户名" works without the lost phone, refused uploads do not use up an office's
hourly limit, a keyed upload resent with another form is refused, and the chat's other phrasings."""

from __future__ import annotations

import httpx

from backend.accounts.models import Account
from backend.core import runtime
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from backend.reviews import messages as msg
from backend.reviews import retention
from backend.reviews.models import ReviewRequest
from jobs import reviews as jobs_reviews
from tests.coops_helpers import blocks, chat
from tests.factories import captcha, login, make_account
from tests.test_reviews import (
    ID_NUMBER,
    REQUEST_PHONE,
    Env,
    admin_of,
    empty_uploads,
    env,
    gif,
    inbox,
    jpeg,
    only_review,
    png,
    stored_files,
    submit,
)

__all__ = ["empty_uploads", "env"]  # the fixtures, used by name

DAY = 24 * 3600
OTHER_PHONE = "13800008888"


async def _with_identity(account: Account, name: str = "张三") -> Account:
    vault = runtime.get().vault
    account.id_number_enc = vault.encrypt("account.id_number", ID_NUMBER)
    account.id_number_index = vault.index("id_number", ID_NUMBER)
    account.name = name
    await account.save(update_fields=["id_number_enc", "id_number_index", "name"])
    return account


# Requests about accounts of the top unit --------------------------------------------------------


async def test_a_request_about_an_admin_of_the_top_unit_is_listed_and_decided_by_its_system_admin(client, env: Env):
    """Nobody is above the top unit: its requests were stored and never seen by anyone."""
    lost = await _with_identity(await make_account("county_lost", env.tree.parent, Role.ADMIN, phone=OTHER_PHONE))
    assert (await submit(client, username="county_lost")).status_code == 202
    review = await only_review()
    assert review.unit_id == env.tree.parent.id and review.account_id == lost.id
    peer = await admin_of(client, env.tree.parent, "county_admin")  # an admin of the same unit: a peer
    assert (await client.get("/api/reviews", headers=peer)).json()["total"] == 0
    assert (await client.get(f"/api/reviews/{review.id}", headers=peer)).status_code == 404
    sysadmin = await admin_of(client, env.tree.parent, "county_sysadmin", Role.SYSADMIN)
    [row] = (await client.get("/api/reviews", headers=sysadmin)).json()["items"]
    assert row["id"] == review.id and row["username"] == "county_lost"
    [table] = blocks(await chat(client, sysadmin, "待审核"), "table")
    assert table["rows"][0][:3] == ["找回密码", "张三", "青山县"]
    approved = await client.post(f"/api/reviews/{review.id}/approve", headers=sysadmin)
    assert approved.status_code == 200, approved.text
    [sms] = await inbox(client, REQUEST_PHONE)
    assert sms["template"] == "review_approved" and "county_lost" in sms["text"]


async def test_a_system_admin_never_sees_a_request_about_their_own_account(client, env: Env):
    me = await _with_identity(await make_account("county_sysadmin", env.tree.parent, Role.SYSADMIN))
    await submit(client, username="county_sysadmin")
    review = await only_review()
    assert review.account_id == me.id
    own = await login(client, "county_sysadmin")
    assert (await client.get("/api/reviews", headers=own)).json()["total"] == 0
    assert (await client.get(f"/api/reviews/{review.id}", headers=own)).status_code == 404
    assert (await client.post(f"/api/reviews/{review.id}/approve", headers=own)).status_code == 404
    other = await admin_of(client, env.tree.parent, "county_sysadmin2", Role.SYSADMIN)
    assert (await client.get("/api/reviews", headers=other)).json()["total"] == 1
    # A system admin manages no other system admin of its unit: only rejection is possible.
    refused = await client.post(f"/api/reviews/{review.id}/approve", headers=other)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "cannot_manage"
    rejected = await client.post(f"/api/reviews/{review.id}/reject", headers=other, json={"reason": "请联系运维"})
    assert rejected.status_code == 200


async def test_an_admin_of_a_lower_unit_still_sees_nothing_of_its_own_unit(client, env: Env):
    """Only the top unit's system admins decide for their own unit; below it the admins above do."""
    await submit(client)
    village_sysadmin = await admin_of(client, env.tree.child, "village_sysadmin", Role.SYSADMIN)
    assert (await client.get("/api/reviews", headers=village_sysadmin)).json()["total"] == 0


# Pending requests expire ------------------------------------------------------------------------


async def test_a_request_pending_longer_than_the_retention_is_closed_as_expired_and_its_images_deleted(
    client, env: Env, clock
):
    await submit(client, images=[("a.jpg", jpeg(), "image/jpeg"), ("b.png", png(), "image/png")])
    review = await only_review()
    clock.advance(180 * DAY)
    assert await jobs_reviews.review_images_remove({}) == 0  # 180 days to the second: not yet
    assert (await only_review()).status == "pending" and len(stored_files()) == 2
    clock.advance(1)
    assert await jobs_reviews.review_images_remove({}) == 1
    closed = await only_review()
    assert closed.status == "rejected" and closed.decided_at == clock.now() and closed.decided_by_id is None
    assert closed.decision_reason == msg.EXPIRED_REASON.format(days=180)
    assert closed.images == [] and closed.images_removed_at == clock.now() and stored_files() == []
    [sms] = await inbox(client, REQUEST_PHONE)
    assert sms["template"] == "review_rejected" and "180 天" in sms["text"]
    entry = await AuditEntry.get(action="review.expire")
    assert entry.target_id == str(review.id) and entry.scope_path == env.tree.child.path
    assert entry.detail == {"kind": "password", "images": 2, "keep_days": 180}
    assert await jobs_reviews.review_images_remove({}) == 0  # once
    assert len(await inbox(client, REQUEST_PHONE)) == 1
    town = await admin_of(client, env.tree.own, "town_admin")
    assert (await client.get("/api/reviews", headers=town)).json()["total"] == 0
    late = await client.post(f"/api/reviews/{review.id}/approve", headers=town)
    assert late.status_code == 409 and late.json()["error"]["code"] == "review_decided"


async def test_a_request_decided_while_it_expires_keeps_its_decision_and_loses_its_images(
    client, env: Env, clock, monkeypatch
):
    await submit(client)
    review = await only_review()
    clock.advance(181 * DAY)
    remove = retention.storage.remove

    async def decided_meanwhile(names: list[str]) -> None:
        await ReviewRequest.filter(id=review.id).update(status="rejected", decided_by_id=1, decision_reason="资料不全")
        await remove(names)

    monkeypatch.setattr(retention.storage, "remove", decided_meanwhile)
    assert await retention.expire_pending() == 0
    kept = await only_review()
    assert kept.decision_reason == "资料不全" and kept.images == [] and kept.images_removed_at == clock.now()
    assert stored_files() == [] and await inbox(client, REQUEST_PHONE) == []
    assert await AuditEntry.filter(action="review.images_removed").count() == 1


# 找回用户名 without the bound phone -------------------------------------------------------------


async def test_a_username_request_from_someone_who_lost_the_bound_phone_finds_the_account_by_name_and_id(
    client, env: Env
):
    """The phone given is where the answer goes (the requester's new one), not the one on file."""
    answer = await submit(client, kind="username")
    assert answer.status_code == 202, answer.text
    review = await only_review()
    assert review.kind == "username" and review.account_id == env.target.id and review.unit_id == env.tree.child.id
    assert not await AuditEntry.filter(action="review.submit", outcome="ignored").exists()


async def test_a_username_request_with_the_name_typed_in_full_width_or_spaced_finds_the_account(client, env: Env):
    """An exact match on the name dropped "张 三" and "ＺＨＡＮＧ" forms silently: told it was sent,
    nobody ever saw it."""
    await submit(client, kind="username", name="张\u3000三")
    assert (await only_review()).account_id == env.target.id


async def test_a_username_request_whose_name_is_not_on_file_gets_the_same_answer_and_stores_nothing(client, env: Env):
    known = await submit(client, kind="username")
    unknown = await submit(client, kind="username", name="李四", ip="10.9.0.2")
    assert (unknown.status_code, unknown.json()) == (known.status_code, known.json())
    assert await ReviewRequest.all().count() == 1


async def test_a_username_request_prefers_the_account_on_the_given_phone_among_one_persons_accounts(client, env: Env):
    """One person may hold several accounts; the one still on the phone given is the one meant."""
    other = await _with_identity(await make_account("forgetful2", env.tree.sibling, Role.CLERK, phone=REQUEST_PHONE))
    await submit(client, kind="username")
    assert (await only_review()).account_id == other.id


# The per-address limit counts only submissions that passed -------------------------------------


async def test_refused_submissions_do_not_use_up_the_addresss_hourly_limit(client, env: Env):
    ip = "10.9.7.7"
    for _ in range(3):
        assert (await submit(client, ip=ip, images=[("a.gif", gif(), "image/jpeg")])).status_code == 422
        assert (await submit(client, ip=ip, images=[("a.jpg", jpeg()[:-40], "image/jpeg")])).status_code == 422
        assert (await submit(client, ip=ip, username=None)).status_code == 422
    assert (await submit(client, ip=ip, with_captcha=False)).status_code == 400
    for n in range(10):
        accepted = await submit(client, ip=ip, statement=f"申请{n}")
        assert accepted.status_code == 202, (n, accepted.text)
    capped = await submit(client, ip=ip, statement="第十一次")
    assert capped.status_code == 429 and capped.json()["error"]["code"] == "review_throttled"
    assert await ReviewRequest.all().count() == 10


async def test_a_flood_of_uploads_from_one_address_is_still_cut_off_before_its_bodies_are_read(client, env: Env):
    ip = "10.9.7.8"
    for _ in range(60):
        assert (await submit(client, ip=ip, with_captcha=False)).status_code == 400
    capped = await submit(client, ip=ip)
    assert capped.status_code == 429 and capped.json()["error"]["code"] == "review_throttled"


# A keyed upload resent with another form --------------------------------------------------------


async def _keyed_upload(
    client: httpx.AsyncClient, fields: dict[str, str], image: bytes, key: str, boundary: str
) -> httpx.Response:
    built = client.build_request(
        "POST",
        "/api/reviews",
        data=fields,
        files=[("images", ("id.png", image, "image/png"))],
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    body = b"".join([part async for part in built.stream])
    headers = {"Content-Type": built.headers["content-type"], "Idempotency-Key": key, "X-Forwarded-For": "10.9.0.1"}
    return await client.post("/api/reviews", content=body, headers=headers)


async def test_a_review_resent_with_the_same_key_and_another_form_is_refused_the_same_form_replays(client, env: Env):
    captcha_id, answer = await captcha(client, "10.9.0.1")
    fields = {
        "kind": "password",
        "name": "张三",
        "id_number": ID_NUMBER,
        "phone": REQUEST_PHONE,
        "statement": "原手机号已停用，申请人工审核",
        "username": "forgetful",
        "captcha_id": captcha_id,
        "captcha_answer": answer,
    }
    key = "review-key-round7"
    first = await _keyed_upload(client, fields, png(), key, "boundary-one")
    assert first.status_code == 202, first.text
    changed = await _keyed_upload(client, {**fields, "statement": "另一份说明"}, png(), key, "boundary-one")
    assert changed.status_code == 422 and changed.json()["error"]["code"] == "idempotency_key_reused"
    other_image = await _keyed_upload(client, fields, png(pad_to=len(png()) + 10), key, "boundary-one")
    assert other_image.status_code == 422 and other_image.json()["error"]["code"] == "idempotency_key_reused"
    # The same form framed again (a client picks a new boundary for each send) is the same request.
    again = await _keyed_upload(client, fields, png(), key, "boundary-two")
    assert (again.status_code, again.json()) == (202, first.json()) and again.headers.get("idempotent-replayed")
    assert await ReviewRequest.all().count() == 1


# Chat phrasings ---------------------------------------------------------------------------------


async def test_the_pending_reviews_open_by_the_other_phrasings(client, env: Env):
    await submit(client)
    town = await admin_of(client, env.tree.own, "town_admin")
    [table] = blocks(await chat(client, town, "待审核的找回密码申请"), "table")
    assert table["title"] == "待审核的找回密码申请" and table["total"] == 1
    [none] = blocks(await chat(client, town, "待审核的找回用户名申请"), "notice")
    assert none["text"] == "没有待审核的找回用户名申请。"
    for text in ("有待审核的吗", "有待审核的申请吗"):
        [table] = blocks(await chat(client, town, text), "table")
        assert table["title"] == "待审核的申请" and table["total"] == 1, text


async def test_waiting_for_approval_lists_the_reviews_and_offers_the_registrations(client, env: Env):
    await submit(client)
    town = await admin_of(client, env.tree.own, "town_admin")
    for text in ("待审批", "有待审批的吗"):
        reply = await chat(client, town, text)
        [table] = blocks(reply, "table")
        assert table["title"] == "待审核的申请" and table["total"] == 1, text
        [chip] = [s for s in reply["suggestions"] if s["label"] == msg.CHAT_SUGGEST_REGISTRATIONS]
        assert chip["action"]["intent"] == "registration.list"
        registrations = await chat(client, town, intent=chip["action"]["intent"], params=chip["action"]["params"])
        assert blocks(registrations, "notice")[0]["text"] == "没有待审批的单位注册申请。"
    plain = await chat(client, town, "待审核")
    assert msg.CHAT_SUGGEST_REGISTRATIONS not in [s["label"] for s in plain["suggestions"]]
