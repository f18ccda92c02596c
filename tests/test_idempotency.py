"""W6 on the server: a write retried with the same Idempotency-Key happens once."""

from __future__ import annotations

import asyncio

from backend.accounts.models import Account
from backend.core.sms import SmsMessage
from backend.units.models import Unit
from tests.factories import PASSWORD, captcha, login, make_account, make_tree


async def _admin(client):
    tree = await make_tree()
    await make_account("county_admin", tree.parent, role="admin")
    return tree, await login(client, "county_admin")


async def test_a_retried_create_happens_once_and_the_retry_gets_the_same_answer(client):
    tree, headers = await _admin(client)
    body = {"parent_id": tree.own.id, "name": "重试村", "type": "village"}
    keyed = {**headers, "Idempotency-Key": "key-create-0001"}
    first = await client.post("/api/units/", json=body, headers=keyed)
    again = await client.post("/api/units/", json=body, headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
    assert await Unit.filter(name="重试村").count() == 1
    second = {**body, "name": "重试二村"}  # another key is another request (a namesake would be refused)
    other = await client.post("/api/units/", json=second, headers={**headers, "Idempotency-Key": "key-create-0002"})
    assert other.status_code == 201 and await Unit.filter(name__startswith="重试").count() == 2


async def test_a_retried_account_creation_sends_one_sms(client):
    tree, headers = await _admin(client)
    body = {"username": "once_only", "name": "一次", "phone": "13900009999", "unit_id": tree.child.id, "role": "clerk"}
    keyed = {**headers, "Idempotency-Key": "key-account-0001"}
    results = await asyncio.gather(*[client.post("/api/accounts/", json=body, headers=keyed) for _ in range(3)])
    assert sorted(r.status_code for r in results)[0] == 201
    assert {r.status_code for r in results} <= {201, 409}
    assert await Account.filter(username_key="once_only").count() == 1
    assert await SmsMessage.all().count() == 1


async def test_the_same_key_with_another_body_is_refused(client):
    tree, headers = await _admin(client)
    keyed = {**headers, "Idempotency-Key": "key-reused-0001"}
    await client.post("/api/units/", json={"parent_id": tree.own.id, "name": "甲村", "type": "village"}, headers=keyed)
    refused = await client.post(
        "/api/units/", json={"parent_id": tree.own.id, "name": "乙村", "type": "village"}, headers=keyed
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "idempotency_key_reused"
    assert not await Unit.filter(name="乙村").exists()


async def test_a_refusal_that_may_pass_later_runs_again_and_keys_are_per_account(client):
    tree, headers = await _admin(client)
    keyed = {**headers, "Idempotency-Key": "key-refused-0001"}
    first = await client.delete(f"/api/units/{tree.own.id}", headers=keyed)  # not empty: it may be later
    again = await client.delete(f"/api/units/{tree.own.id}", headers=keyed)
    assert first.status_code == again.status_code == 409 and again.headers.get("idempotent-replayed") is None
    bad = {"parent_id": tree.own.id, "name": "", "type": "village"}
    refused = await client.post("/api/units/", json=bad, headers={**headers, "Idempotency-Key": "key-invalid-001"})
    replayed = await client.post("/api/units/", json=bad, headers={**headers, "Idempotency-Key": "key-invalid-001"})
    assert refused.status_code == replayed.status_code == 422 and replayed.headers.get("idempotent-replayed") == "true"

    # After logging in again (the answer lost, the session expired), the retry still finds its answer.
    body = {"parent_id": tree.own.id, "name": "重登村", "type": "village"}
    created = await client.post("/api/units/", json=body, headers={**headers, "Idempotency-Key": "key-relogin-001"})
    relogged = {**(await login(client, "county_admin")), "Idempotency-Key": "key-relogin-001"}
    retried = await client.post("/api/units/", json=body, headers=relogged)
    assert created.status_code == retried.status_code == 201 and retried.headers.get("idempotent-replayed") == "true"
    assert await Unit.filter(name="重登村").count() == 1
    await make_account("other_admin", tree.parent, role="admin")  # another account: its own keys
    other = {**(await login(client, "other_admin")), "Idempotency-Key": "key-relogin-001"}
    fresh = await client.post("/api/units/", json={**body, "name": "重登二村"}, headers=other)
    assert fresh.status_code == 201 and fresh.headers.get("idempotent-replayed") is None


async def test_a_malformed_key_is_refused_and_reads_ignore_keys(client):
    tree, headers = await _admin(client)
    bad = await client.post(
        "/api/units/",
        json={"parent_id": tree.own.id, "name": "丙村", "type": "village"},
        headers={**headers, "Idempotency-Key": "short"},
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "idempotency_key_invalid"
    read = await client.get("/api/units/", headers={**headers, "Idempotency-Key": "key-read-00001"})
    assert read.status_code == 200


async def test_large_answers_are_gzipped_for_clients_that_accept_it_replays_included(client):
    import gzip
    import json

    tree, headers = await _admin(client)
    for n in range(20):
        await client.post(
            "/api/units/", json={"parent_id": tree.own.id, "name": f"压缩村{n}", "type": "village"}, headers=headers
        )
    raw = await client.get("/api/units/", headers={**headers, "Accept-Encoding": "gzip"})
    assert raw.headers.get("content-encoding") == "gzip" and len(raw.json()["items"]) >= 20
    plain = await client.get("/api/units/", headers={**headers, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    keyed = {**headers, "Accept-Encoding": "gzip", "Idempotency-Key": "key-gzip-00001"}
    body = {"parent_id": tree.own.id, "name": "压缩" * 50, "type": "village", "unit_code": "C" * 32}
    first = await client.post("/api/units/", json=body, headers=keyed)
    again = await client.post("/api/units/", json=body, headers=keyed)
    assert first.headers.get("content-encoding") == again.headers.get("content-encoding") == "gzip"
    assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
    assert json.loads(gzip.decompress(again.content) if again.content[:2] == b"\x1f\x8b" else again.content)


async def test_answers_with_credentials_are_never_kept_and_logins_are_not_keyed(client):
    from backend.core import runtime
    from tests.factories import PASSWORD, captcha

    _tree, headers = await _admin(client)
    keyed = {**headers, "Idempotency-Key": "key-refresh-001"}
    first = await client.post("/api/session/refresh", headers=keyed)
    assert first.status_code == 200 and first.headers.get("idempotent-replayed") is None
    captcha_id, answer = await captcha(client)
    login_body = {"login": "county_admin", "password": PASSWORD, "captcha_id": captcha_id, "captcha_answer": answer}
    await client.post("/api/auth/login", json=login_body, headers={"Idempotency-Key": "key-login-0001"})
    stored = [await runtime.get().redis.get(k) async for k in runtime.get().redis.scan_iter("idem:*")]
    assert stored == []


async def test_stored_answers_are_encrypted(client):
    from backend.core import runtime

    tree, headers = await _admin(client)
    await client.post(
        "/api/units/",
        json={"parent_id": tree.own.id, "name": "密文村", "type": "village"},
        headers={**headers, "Idempotency-Key": "key-cipher-001"},
    )
    stored = [await runtime.get().redis.get(k) async for k in runtime.get().redis.scan_iter("idem:*")]
    assert len(stored) == 1 and "密文村" not in stored[0] and "5a+G5paH" not in stored[0]


async def test_a_write_that_committed_and_then_failed_is_not_run_again_by_its_retry(client, monkeypatch):
    """A database blip in the reads after the commit answered 503 and dropped the key: the retry
    reset the password again, a second SMS with a second password."""
    from tortoise.exceptions import DBConnectionError

    from backend.accounts import chat as accounts_chat

    tree, headers = await _admin(client)
    target = await make_account("target", tree.child, phone="13900008888")
    reply = accounts_chat.person_reply
    calls: list[int] = []

    async def blip_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise DBConnectionError("connection lost")
        return await reply(*args, **kwargs)

    monkeypatch.setattr(accounts_chat, "person_reply", blip_once)
    reset = {"action": {"intent": "account.reset_password", "params": {"account_id": target.id}}}
    keyed = {**headers, "Idempotency-Key": "chat-reset-0001"}
    first = await client.post("/api/chat", json=reset, headers=keyed)
    assert first.status_code == 503
    retried = await client.post("/api/chat", json=reset, headers=keyed)
    assert retried.status_code == 409 and retried.json()["error"]["code"] == "request_done"
    assert "不要重复提交" in retried.json()["error"]["message"]
    assert await SmsMessage.filter(template="password_reset").count() == 1


async def test_a_review_resent_without_a_session_is_kept_once_and_the_resend_gets_the_first_answer(client):
    """The mini-program resends a review upload with the same key and the same bytes; the server
    keyed only requests with a session, so a lost answer made a second review request."""
    from backend.reviews.models import ReviewRequest
    from tests.test_reviews import ACCOUNT_PHONE, ID_NUMBER, REQUEST_PHONE, png

    tree = await make_tree()
    await make_account("forgetful", tree.child, phone=ACCOUNT_PHONE)
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
    built = client.build_request(
        "POST", "/api/reviews", data=fields, files=[("images", ("id.png", png(), "image/png"))]
    )
    body = b"".join([part async for part in built.stream])
    headers = {
        "Content-Type": built.headers["content-type"],
        "Idempotency-Key": "review-key-0001",
        "X-Forwarded-For": "10.9.0.1",
    }
    first = await client.post("/api/reviews", content=body, headers=headers)
    again = await client.post("/api/reviews", content=body, headers=headers)
    assert first.status_code == 202, first.text
    assert (again.status_code, again.json()) == (202, first.json()) and again.headers.get("idempotent-replayed")
    assert await ReviewRequest.all().count() == 1


async def test_a_registration_resent_without_a_session_is_kept_once_not_refused_for_its_spent_code(client):
    from backend.registration.models import UnitRegistration
    from tests.test_registration import payload, send_code, sms_code

    tree = await make_tree()
    ticket = await send_code(client)
    body = payload(ticket, await sms_code(client), tree.own.id)
    keyed = {"Idempotency-Key": "registration-key-0001"}
    first = await client.post("/api/registration", json=body, headers=keyed)
    again = await client.post("/api/registration", json=body, headers=keyed)
    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()) == (201, first.json()) and again.headers.get("idempotent-replayed")
    assert await UnitRegistration.all().count() == 1


async def test_a_login_is_never_replayed_even_with_a_key(client):
    """Answers without a session are kept only where they carry no credentials: a login's token is
    never stored for a replay."""
    tree = await make_tree()
    await make_account("county_admin", tree.parent, role="admin")
    tokens = set()
    for _ in range(2):
        captcha_id, answer = await captcha(client)
        body = {"login": "county_admin", "password": PASSWORD, "captcha_id": captcha_id, "captcha_answer": answer}
        response = await client.post("/api/auth/login", json=body, headers={"Idempotency-Key": "login-key-0001"})
        assert response.status_code == 200 and not response.headers.get("idempotent-replayed"), response.text
        tokens.add(response.json()["token"])
    assert len(tokens) == 2
