"""R5: manual review. A public submission with identity details and checked images; the admins of the
units above decide it once; the requester learns the result by SMS; every step is audited."""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image

from backend.accounts.models import Account, Membership
from backend.core import runtime
from backend.core.audit import AuditEntry, verify_chain
from backend.core.roles import Role
from backend.reviews.images import MAX_BODY_BYTES, MAX_IMAGE_BYTES
from backend.reviews.models import ReviewRequest
from backend.reviews.storage import uploads_dir
from backend.units.models import Unit, UnitType
from backend.wechat.models import WechatIdentity
from tests.factories import (
    PASSWORD,
    Tree,
    bind_wechat,
    captcha,
    login,
    login_response,
    make_account,
    make_tree,
    make_unit,
)

ACCOUNT_PHONE = "13800009999"  # on file
REQUEST_PHONE = "13911112222"  # the requester's new phone, given in the request
ID_NUMBER = "11010519491231002X"
CREDIT_CODE = "91350100M000100Y43"
NEW_PASSWORD = "Qingshan#River7"


def png(pad_to: int | None = None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 30, 30)).save(out, format="PNG")
    data = out.getvalue()
    return data + b"\0" * (pad_to - len(data)) if pad_to else data


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (30, 30, 200)).save(out, format="JPEG")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (16, 12)).save(out, format="GIF")
    return out.getvalue()


@dataclass
class Env:
    tree: Tree
    target: Account  # a clerk of the village (tree.child) who lost access


@pytest.fixture
async def env() -> Env:
    tree = await make_tree()
    target = await make_account("forgetful", tree.child, Role.CLERK, phone=ACCOUNT_PHONE)
    vault = runtime.get().vault
    target.id_number_enc = vault.encrypt("account.id_number", ID_NUMBER)
    target.id_number_index = vault.index("id_number", ID_NUMBER)
    target.name = "张三"
    await target.save(update_fields=["id_number_enc", "id_number_index", "name"])
    return Env(tree=tree, target=target)


async def admin_of(client: httpx.AsyncClient, unit: Unit, username: str, role: Role = Role.ADMIN) -> dict[str, str]:
    await make_account(username, unit, role)
    return await login(client, username)


async def submit(
    client: httpx.AsyncClient,
    *,
    kind: str = "password",
    images: list[tuple[str, bytes, str]] | None = None,
    with_captcha: bool = True,
    ip: str = "10.9.0.1",
    **overrides: str | None,
) -> httpx.Response:
    fields: dict[str, str | None] = {
        "kind": kind,
        "name": "张三",
        "id_number": ID_NUMBER,
        "phone": REQUEST_PHONE,
        "statement": "原手机号已停用，收不到验证码，申请人工审核",
        "username": "forgetful" if kind == "password" else None,
        "credit_code": CREDIT_CODE if kind == "unit" else None,
    }
    if with_captcha:
        fields["captcha_id"], fields["captcha_answer"] = await captcha(client, ip)
    fields.update(overrides)
    files = [("images", image) for image in (images if images is not None else [("id.png", png(), "image/png")])]
    return await client.post(
        "/api/reviews",
        data={k: v for k, v in fields.items() if v is not None},
        files=files,
        headers={"X-Forwarded-For": ip},
    )


async def inbox(client: httpx.AsyncClient, phone: str) -> list[dict]:
    return (await client.get("/api/dev/sms", params={"phone": phone})).json()["messages"]


async def only_review() -> ReviewRequest:
    return await ReviewRequest.get()


def stored_files() -> list[str]:
    folder = uploads_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture(autouse=True)
def empty_uploads() -> None:
    for name in stored_files():
        (uploads_dir() / name).unlink()


# Submission -------------------------------------------------------------------------------------


async def test_submission_is_stored_for_the_units_above_with_images_under_random_names(client, env):
    response = await submit(client, images=[("身份证正面.jpg", jpeg(), "image/jpeg"), ("手持.png", png(), "image/png")])
    assert response.status_code == 202, response.text
    assert "审核" in response.json()["message"] and "id" not in response.json()
    review = await only_review()
    assert review.status == "pending" and review.kind == "password"
    assert review.unit_id == env.tree.child.id and review.account_id == env.target.id
    assert REQUEST_PHONE not in review.phone_enc and ID_NUMBER not in review.id_number_enc
    assert [(i["type"], i["size"]) for i in review.images] == [("image/jpeg", len(jpeg())), ("image/png", len(png()))]
    names = [i["name"] for i in review.images]
    assert all(re.fullmatch(r"[0-9a-f]{32}\.(jpg|png)", n) for n in names)
    assert stored_files() == sorted(names)
    settings = runtime.get().settings
    assert uploads_dir().is_relative_to(settings.var_dir) and (uploads_dir() / names[0]).stat().st_mode & 0o077 == 0
    entry = await AuditEntry.get(action="review.submit")
    assert entry.outcome == "success" and entry.target_id == str(review.id) and entry.scope_path == env.tree.child.path
    assert entry.detail == {"kind": "password", "images": 2} and entry.ip == "10.9.0.1"


async def test_unknown_account_gets_the_same_answer_and_nothing_reaches_an_admin(client, env):
    known = await submit(client)
    unknown = await submit(client, username="nobody_here", ip="10.9.0.2")
    unknown_unit = await submit(client, kind="unit", ip="10.9.0.3")
    assert known.status_code == unknown.status_code == unknown_unit.status_code == 202
    assert known.json() == unknown.json() == unknown_unit.json()
    assert await ReviewRequest.all().count() == 1 and len(stored_files()) == 1
    ignored = await AuditEntry.filter(action="review.submit", outcome="ignored").order_by("id")
    assert [e.scope_path for e in ignored] == ["/", "/"]
    assert [e.detail["kind"] for e in ignored] == ["password", "unit"]
    county = await admin_of(client, env.tree.parent, "county_admin")
    assert (await client.get("/api/reviews", headers=county)).json()["total"] == 1


async def test_username_request_finds_the_account_by_phone_and_id_number(client, env):
    vault = runtime.get().vault
    await Account.filter(id=env.target.id).update(
        phone_enc=vault.encrypt("account.phone", REQUEST_PHONE), phone_index=vault.index("phone", REQUEST_PHONE)
    )
    assert (await submit(client, kind="username")).status_code == 202
    review = await only_review()
    assert review.kind == "username" and review.account_id == env.target.id and review.unit_id == env.tree.child.id


async def test_missing_or_wrong_captcha_is_refused_and_nothing_is_stored(client, env):
    missing = await submit(client, with_captcha=False)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "captcha_invalid"
    wrong = await submit(client, captcha_answer="ZZZZ")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "captcha_invalid"
    assert "验证码" in wrong.json()["error"]["message"]
    assert not await ReviewRequest.exists() and stored_files() == []


@pytest.mark.parametrize(
    ("filename", "content", "declared"),
    [
        ("photo.jpg", gif(), "image/jpeg"),
        ("photo.jpg", b"%PDF-1.7 not an image at all", "image/jpeg"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"garbage after a real signature", "image/png"),
        ("photo.jpg", b"", "image/jpeg"),
    ],
)
async def test_a_file_disguised_as_an_image_is_refused_by_its_content(client, env, filename, content, declared):
    response = await submit(client, images=[("ok.png", png(), "image/png"), (filename, content, declared)])
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] in ("image_type_not_allowed", "image_unreadable")
    assert "第 2 " in error["message"] and "images" in error["fields"]
    assert not await ReviewRequest.exists() and stored_files() == []


async def test_a_real_png_is_accepted_whatever_its_name_and_declared_type(client, env):
    response = await submit(client, images=[("scan.txt", png(), "text/plain")])
    assert response.status_code == 202
    assert (await only_review()).images[0]["type"] == "image/png"


async def test_an_image_of_4_mb_is_accepted_and_one_byte_more_is_refused(client, env):
    over = await submit(client, images=[("big.png", png(pad_to=MAX_IMAGE_BYTES + 1), "image/png")])
    assert over.status_code == 413 and over.json()["error"]["code"] == "image_too_large"
    assert "4 MB" in over.json()["error"]["message"]
    assert not await ReviewRequest.exists()
    exact = await submit(client, images=[("big.png", png(pad_to=MAX_IMAGE_BYTES), "image/png")], ip="10.9.0.9")
    assert exact.status_code == 202, exact.text
    assert (await only_review()).images[0]["size"] == MAX_IMAGE_BYTES


async def test_no_image_or_more_than_three_images_are_refused(client, env):
    four = [(f"{n}.png", png(), "image/png") for n in range(4)]
    too_many = await submit(client, images=four)
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "image_count"
    captcha_id, answer = await captcha(client)
    fields = {"kind": "password", "name": "张三", "id_number": ID_NUMBER, "phone": REQUEST_PHONE}
    fields |= {"username": "forgetful", "statement": "没有图片", "captcha_id": captcha_id, "captcha_answer": answer}
    boundary = "noimages"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    none = await client.post(
        "/api/reviews",
        content=("".join(parts) + f"--{boundary}--\r\n").encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert none.status_code == 422 and none.json()["error"]["code"] == "image_count"
    assert not await ReviewRequest.exists() and stored_files() == []


async def test_a_body_over_the_limit_is_refused_before_it_is_read(server, env):
    url = urlsplit(server)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(
        (
            "POST /api/reviews HTTP/1.1\r\n"
            f"Host: {url.netloc}\r\n"
            "Content-Type: multipart/form-data; boundary=xyz\r\n"
            f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=10)  # no body was ever sent
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    length = int(re.search(rb"content-length: (\d+)", head.lower()).group(1))
    payload = await reader.readexactly(length)
    writer.close()
    assert b" 413 " in status_line
    assert b"body_too_large" in payload and b"4 MB" in payload
    assert not await AuditEntry.filter(action="review.submit").exists()


async def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_the_limit(server, env):
    url = urlsplit(server)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(
        (
            "POST /api/reviews HTTP/1.1\r\n"
            f"Host: {url.netloc}\r\n"
            "Content-Type: multipart/form-data; boundary=xyz\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        ).encode()
    )
    chunk = b"x" * (1024 * 1024)
    for _ in range(MAX_BODY_BYTES // len(chunk) + 1):  # just past the limit, and no final chunk
        writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    length = int(re.search(rb"content-length: (\d+)", head.lower()).group(1))
    payload = await reader.readexactly(length)
    writer.close()
    assert b" 413 " in status_line and b"body_too_large" in payload
    assert not await AuditEntry.filter(action="review.submit").exists()


async def test_bad_fields_are_named_and_a_json_body_is_refused(client, env):
    bad = await submit(client, phone="12345", id_number="110105194912310021", username=None, statement="")
    assert bad.status_code == 422
    assert {"phone", "id_number", "statement", "username"} <= set(bad.json()["error"]["fields"])
    unit = await submit(client, kind="unit", credit_code=None)
    assert unit.status_code == 422 and "credit_code" in unit.json()["error"]["fields"]
    extra = await submit(client, role="admin")
    assert extra.status_code == 422 and "role" in extra.json()["error"]["fields"]
    as_json = await client.post("/api/reviews", json={"kind": "password"})
    assert as_json.status_code == 415 and as_json.json()["error"]["code"] == "multipart_required"
    assert not await ReviewRequest.exists()


async def test_submissions_are_capped_per_address(client, env):
    for _ in range(10):
        assert (await submit(client, username="nobody_here", ip="10.9.9.9")).status_code == 202
    capped = await submit(client, ip="10.9.9.9")
    assert capped.status_code == 429 and capped.json()["error"]["code"] == "review_throttled"


# Reviewing --------------------------------------------------------------------------------------


async def test_superior_admin_lists_masked_views_unmasked_and_fetches_images_each_audited(client, env):
    await submit(client, images=[("a.jpg", jpeg(), "image/jpeg"), ("b.png", png(), "image/png")])
    review = await only_review()
    town = await admin_of(client, env.tree.own, "town_admin")
    listed = await client.get("/api/reviews", params={"status": "pending"}, headers=town)
    assert listed.status_code == 200
    [row] = listed.json()["items"]
    assert row["phone"] == "139****2222" and row["id_number"] == "1101**********002X"
    assert row["username"] == "forgetful" and row["image_count"] == 2 and row["kind_label"] == "找回密码"
    assert REQUEST_PHONE not in listed.text and ID_NUMBER not in listed.text

    shown = await client.get(f"/api/reviews/{review.id}", headers=town)
    assert shown.status_code == 200
    body = shown.json()
    assert body["phone"] == REQUEST_PHONE and body["id_number"] == ID_NUMBER and body["name"] == "张三"
    assert body["checks"] == {"name": True, "phone": False, "id_number": True}
    assert "forgetful" in body["on_approve"] and body["account"]["id"] == env.target.id
    assert [i["url"] for i in body["images"]] == [
        f"/api/reviews/{review.id}/images/1",
        f"/api/reviews/{review.id}/images/2",
    ]
    image = await client.get(body["images"][0]["url"], headers=town)
    assert image.status_code == 200 and image.content == jpeg()
    assert image.headers["content-type"] == "image/jpeg" and image.headers["x-content-type-options"] == "nosniff"
    assert (await client.get(f"/api/reviews/{review.id}/images/3", headers=town)).status_code == 404
    assert (await client.get(f"/api/reviews/{review.id}/images/1")).status_code == 401

    view = await AuditEntry.get(action="review.view")
    assert view.target_id == str(review.id) and view.actor_account_id is not None
    fetch = await AuditEntry.get(action="review.image")
    assert fetch.detail == {"index": 1} and fetch.target_id == str(review.id)
    for entry in (view, fetch):
        assert REQUEST_PHONE not in str(entry.detail) and ID_NUMBER not in str(entry.detail)


async def test_admins_of_the_same_unit_or_a_sibling_unit_see_nothing(client, env):
    await submit(client)
    review = await only_review()
    same = await admin_of(client, env.tree.child, "village_admin")
    sibling = await admin_of(client, env.tree.sibling, "sibling_admin")
    for headers in (same, sibling):
        assert (await client.get("/api/reviews", headers=headers)).json()["total"] == 0
        assert (await client.get(f"/api/reviews/{review.id}", headers=headers)).status_code == 404
        assert (await client.get(f"/api/reviews/{review.id}/images/1", headers=headers)).status_code == 404
        assert (await client.post(f"/api/reviews/{review.id}/approve", headers=headers)).status_code == 404
        rejected = await client.post(f"/api/reviews/{review.id}/reject", headers=headers, json={"reason": "不认识"})
        assert rejected.status_code == 404
    assert (await only_review()).status == "pending"
    assert not await AuditEntry.filter(action__in=["review.view", "review.image"]).exists()


async def test_clerks_and_viewers_above_may_not_review(client, env):
    await submit(client)
    review = await only_review()
    for username, role in (("town_clerk", Role.CLERK), ("town_viewer", Role.VIEWER)):
        headers = await admin_of(client, env.tree.own, username, role)
        assert (await client.get("/api/reviews", headers=headers)).status_code == 403
        assert (await client.get(f"/api/reviews/{review.id}", headers=headers)).status_code == 403
        assert (await client.post(f"/api/reviews/{review.id}/approve", headers=headers)).status_code == 403
    assert (await only_review()).status == "pending"


async def test_approval_sends_a_temporary_password_to_the_requesters_phone_and_ends_sessions(client, env):
    """It also releases the account's WeChat, as every password reset: whoever knew the old password
    may have bound theirs, and would log in by one tap once the owner set a new one."""
    target_session = await login(client, "forgetful")
    await bind_wechat(env.target.id, "o-whoever-knew-it")
    await submit(client)
    review = await only_review()
    county = await admin_of(client, env.tree.parent, "county_admin")
    approved = await client.post(f"/api/reviews/{review.id}/approve", headers=county)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["status_label"] == "已通过"
    assert (await client.get("/api/session", headers=target_session)).status_code == 401
    assert [m["template"] for m in await inbox(client, ACCOUNT_PHONE)] == ["password_reset_by_review"]
    [sms] = await inbox(client, REQUEST_PHONE)
    assert sms["template"] == "review_approved" and "forgetful" in sms["text"]
    temporary = re.search(r"临时密码为 ([^，\s]+)，", sms["text"]).group(1)
    assert (await login_response(client, "forgetful", PASSWORD)).status_code == 401
    session = await login_response(client, "forgetful", temporary)
    assert session.status_code == 200 and session.json()["must_change_password"] is True
    decided = await only_review()
    assert decided.decided_by_id is not None and decided.decided_at is not None
    entry = await AuditEntry.get(action="review.approve")
    assert entry.target_id == str(review.id) and entry.scope_path == env.tree.child.path
    assert entry.detail == {"kind": "password", "mode": "reset", "account_id": env.target.id, "wechat_released": 1}
    assert temporary not in str(entry.detail) and not await WechatIdentity.exists(account_id=env.target.id)
    assert (await verify_chain()).ok


async def test_a_decided_request_cannot_be_decided_again(client, env):
    await submit(client)
    review = await only_review()
    town = await admin_of(client, env.tree.own, "town_admin")
    county = await admin_of(client, env.tree.parent, "county_admin")
    assert (await client.post(f"/api/reviews/{review.id}/approve", headers=town)).status_code == 200
    again = await client.post(f"/api/reviews/{review.id}/approve", headers=county)
    assert again.status_code == 409 and again.json()["error"]["code"] == "review_decided"
    late_reject = await client.post(f"/api/reviews/{review.id}/reject", headers=county, json={"reason": "资料不全"})
    assert late_reject.status_code == 409
    assert len(await inbox(client, REQUEST_PHONE)) == 1
    assert await AuditEntry.filter(action__in=["review.approve", "review.reject"]).count() == 1
    decided = await client.get("/api/reviews", params={"status": "approved"}, headers=county)
    assert [r["id"] for r in decided.json()["items"]] == [review.id]
    assert (await client.get("/api/reviews", headers=county)).json()["total"] == 0


async def test_parallel_decisions_leave_exactly_one(client, env):
    await submit(client)
    review = await only_review()
    town = await admin_of(client, env.tree.own, "town_admin")
    county = await admin_of(client, env.tree.parent, "county_admin")
    results = await asyncio.gather(
        client.post(f"/api/reviews/{review.id}/approve", headers=town),
        client.post(f"/api/reviews/{review.id}/reject", headers=county, json={"reason": "资料不全"}),
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    assert await AuditEntry.filter(action__in=["review.approve", "review.reject"]).count() == 1
    assert len(await inbox(client, REQUEST_PHONE)) == 1


async def test_rejection_needs_a_reason_of_1_to_200_characters_and_sends_it_by_sms(client, env):
    await submit(client)
    review = await only_review()
    town = await admin_of(client, env.tree.own, "town_admin")
    for reason in ("", "   ", "理" * 201):
        refused = await client.post(f"/api/reviews/{review.id}/reject", headers=town, json={"reason": reason})
        assert refused.status_code == 422 and "reason" in refused.json()["error"]["fields"]
    assert (await client.post(f"/api/reviews/{review.id}/reject", headers=town, json={})).status_code == 422
    reason = "照片模糊，无法核对身份证号"
    rejected = await client.post(f"/api/reviews/{review.id}/reject", headers=town, json={"reason": reason})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    [sms] = await inbox(client, REQUEST_PHONE)
    assert sms["template"] == "review_rejected" and reason in sms["text"]
    assert (await only_review()).decision_reason == reason
    assert (await login_response(client, "forgetful")).status_code == 200  # nothing changed for the account
    entry = await AuditEntry.get(action="review.reject")
    assert entry.target_id == str(review.id) and entry.detail == {"kind": "password"}


async def test_an_account_working_for_two_branches_is_reviewed_only_above_both(client, env):
    await Membership.create(
        account_id=env.target.id, unit_id=env.tree.sibling.id, role=Role.CLERK, created_at=env.target.created_at
    )
    await submit(client)
    review = await only_review()
    assert review.unit_id == env.tree.parent.id  # the lowest unit holding the village and the sibling
    town = await admin_of(client, env.tree.own, "town_admin")
    assert (await client.post(f"/api/reviews/{review.id}/approve", headers=town)).status_code == 404
    county = await admin_of(client, env.tree.parent, "county_admin")
    assert (await client.get(f"/api/reviews/{review.id}", headers=county)).status_code == 404


async def test_unit_request_hands_the_units_own_admin_account_to_the_requester(client, env):
    coop = await make_unit("青山种植合作社", UnitType.COOP, env.tree.child)
    await Unit.filter(id=coop.id).update(credit_code=CREDIT_CODE, legal_rep_name="张三")
    old_admin = await make_account("coop_admin", coop, Role.ADMIN, phone="13800007777")
    await bind_wechat(old_admin.id, "o-old-admin")
    old_session = await login(client, "coop_admin")
    assert (await submit(client, kind="unit")).status_code == 202
    review = await only_review()
    assert review.unit_id == coop.id and review.account_id == old_admin.id
    village = await admin_of(client, env.tree.child, "village_admin")
    shown = (await client.get(f"/api/reviews/{review.id}", headers=village)).json()
    assert shown["unit"]["credit_code"] == CREDIT_CODE and "coop_admin" in shown["on_approve"]
    assert shown["checks"]["name"] is True
    assert (await client.post(f"/api/reviews/{review.id}/approve", headers=village)).status_code == 200
    assert (await client.get("/api/session", headers=old_session)).status_code == 401
    handed = await Account.get(id=old_admin.id)
    vault = runtime.get().vault
    assert handed.name == "张三" and handed.phone_index == vault.index("phone", REQUEST_PHONE)
    assert handed.login_phone_index == handed.phone_index and handed.id_number_index == vault.index(
        "id_number", ID_NUMBER
    )
    [sms] = await inbox(client, REQUEST_PHONE)
    assert sms["template"] == "review_approved" and "coop_admin" in sms["text"]
    temporary = re.search(r"临时密码为 ([^，\s]+)，", sms["text"]).group(1)
    assert (await login_response(client, REQUEST_PHONE, temporary)).status_code == 200
    detail = (await AuditEntry.get(action="review.approve")).detail
    assert detail["mode"] == "hand_over" and detail["wechat_released"] == 1 and detail["card_released"] == 0
    assert not await WechatIdentity.filter(account_id=old_admin.id).exists()  # the old admin's WeChat is out


async def test_unit_request_for_a_unit_without_its_own_admin_gives_the_requester_a_new_admin_account(client, env):
    coop = await make_unit("青山种植合作社", UnitType.COOP, env.tree.child)
    await Unit.filter(id=coop.id).update(credit_code=CREDIT_CODE)
    assert (await submit(client, kind="unit")).status_code == 202
    review = await only_review()
    assert review.unit_id == coop.id and review.account_id is None
    town = await admin_of(client, env.tree.own, "town_admin")
    shown = (await client.get(f"/api/reviews/{review.id}", headers=town)).json()
    assert "新开" in shown["on_approve"] and shown["checks"] == {"name": None, "phone": None, "id_number": None}
    assert (await client.post(f"/api/reviews/{review.id}/approve", headers=town)).status_code == 200
    membership = await Membership.get(unit_id=coop.id).select_related("account")
    assert membership.role == Role.ADMIN and membership.account.name == "张三"
    assert membership.account.must_change_password and membership.account.username.endswith("_ADMIN")
    [sms] = await inbox(client, REQUEST_PHONE)
    temporary = re.search(r"临时密码为 ([^，\s]+)，", sms["text"]).group(1)
    session = await login_response(client, REQUEST_PHONE, temporary)
    headers = {"Authorization": f"Bearer {session.json()['token']}"}
    changed = await client.post(
        "/api/account/password", headers=headers, json={"old_password": temporary, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 200
    admin = {"Authorization": f"Bearer {changed.json()['token']}"}
    assert (await client.get(f"/api/units/{coop.id}/agents", headers=admin)).status_code == 200
    entry = await AuditEntry.get(action="review.approve")
    assert entry.detail == {"kind": "unit", "mode": "new_admin", "account_id": membership.account.id}


async def test_approval_is_refused_when_the_account_was_deactivated_meanwhile(client, env):
    await submit(client)
    review = await only_review()
    await Account.filter(id=env.target.id).update(is_active=False)
    town = await admin_of(client, env.tree.own, "town_admin")
    refused = await client.post(f"/api/reviews/{review.id}/approve", headers=town)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "review_target_gone"
    assert (await only_review()).status == "pending"
    ok = await client.post(f"/api/reviews/{review.id}/reject", headers=town, json={"reason": "账号已注销"})
    assert ok.status_code == 200


async def test_the_submission_form_is_documented_in_openapi(client):
    spec = (await client.get("/docs/openapi.json")).json()
    operation = spec["paths"]["/api/reviews"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]


async def test_a_statement_written_over_several_lines_is_accepted_and_kept(client, env):
    """The mini-program asks for the statement in a multi-line text area: its line breaks are normal input."""
    statement = "原手机号已停用。\r\n身份证照片见附件，\n请审核。"
    response = await submit(client, statement=statement)
    assert response.status_code == 202, response.text
    assert (await only_review()).statement == "原手机号已停用。\n身份证照片见附件，\n请审核。"
    other_control = await submit(client, statement="说明\x07", ip="10.9.0.2")
    assert other_control.status_code == 422 and "statement" in other_control.json()["error"]["fields"]


async def test_a_review_resent_after_a_redis_restart_lost_its_answer_is_not_stored_twice(client, env):
    """The answer was lost and the restart took the stored replay and the captcha: the page asks for a new
    captcha and sends the same form again. It made a second pending request (two approvals, two passwords)."""
    first = await submit(client)
    assert first.status_code == 202, first.text
    await runtime.get().redis.flushdb()
    resent = await submit(client)
    assert resent.status_code == 202 and resent.json() == first.json()
    review = await only_review()  # exactly one
    assert stored_files() == sorted(i["name"] for i in review.images)  # the resend's images are not kept
    changed = await submit(client, statement="补充：户口本也一并上传")
    assert changed.status_code == 202  # another statement is another request
    assert await ReviewRequest.filter(status="pending").count() == 2
