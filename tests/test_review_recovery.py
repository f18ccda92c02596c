"""Review of the recovery flows (R1-R4): lost answers retried, phones typed as user names."""

from __future__ import annotations

import asyncio

from backend.accounts.models import Account
from backend.core import runtime
from tests.factories import login_response, make_account, make_tree
from tests.test_recovery import (
    ID_NUMBER,
    NEW_PASSWORD,
    OTHER_ID,
    PHONE,
    _captcha,
    _change_bound_phone,
    _code,
    _reset_ticket,
    _sms_count,
    _unit_recovery,
    _unit_with_legal_rep,
    _with_identity,
)

RESET = "/api/recovery/password/reset"


# A reset whose answer was lost ------------------------------------------------------------------


async def test_a_reset_retried_with_its_idempotency_key_after_a_lost_answer_answers_the_same_success(client):
    """The mini-program resends with its first key: it got 410 "从头开始" for a password that was set."""
    tree = await make_tree()
    await _with_identity("lost_answer", tree.own)
    body = {"reset_ticket": await _reset_ticket(client, "lost_answer"), "new_password": NEW_PASSWORD}
    key = {"Idempotency-Key": "reset-0001-abcdef"}
    assert (await client.post(RESET, json=body, headers=key)).status_code == 204
    again = await client.post(RESET, json=body, headers=key)
    assert again.status_code == 204, again.text
    assert (await login_response(client, "lost_answer", NEW_PASSWORD)).status_code == 200


async def test_a_reset_retried_without_its_key_is_told_the_password_was_reset(client):
    tree = await make_tree()
    await _with_identity("no_key_retry", tree.own)
    body = {"reset_ticket": await _reset_ticket(client, "no_key_retry"), "new_password": NEW_PASSWORD}
    assert (await client.post(RESET, json=body, headers={"Idempotency-Key": "reset-0002-abcdef"})).status_code == 204
    for headers in ({}, {"Idempotency-Key": "another-key-0003"}):
        again = await client.post(RESET, json=body, headers=headers)
        assert again.status_code == 409, again.text
        error = again.json()["error"]
        assert error["code"] == "password_already_reset"
        assert error["message"] == "密码已经重置成功，请用新密码登录"


async def test_a_used_reset_ticket_sent_with_another_password_is_invalid_whatever_its_key(client):
    """Not a retry of the reset that was done: the used ticket changes nothing and says so."""
    tree = await make_tree()
    account = await _with_identity("changed_mind", tree.own)
    body = {"reset_ticket": await _reset_ticket(client, "changed_mind"), "new_password": NEW_PASSWORD}
    key = {"Idempotency-Key": "reset-0004-abcdef"}
    assert (await client.post(RESET, json=body, headers=key)).status_code == 204
    for headers in (key, {}):
        other = await client.post(RESET, json={**body, "new_password": "Another#Pass9"}, headers=headers)
        assert other.status_code == 410 and other.json()["error"]["code"] == "ticket_invalid"
    assert (await login_response(client, "changed_mind", NEW_PASSWORD)).status_code == 200
    assert (await Account.get(id=account.id)).password_hash != account.password_hash


async def test_a_used_reset_ticket_is_no_oracle_of_the_password_it_set(client):
    """Its password is compared a few times only; then even the right one is just an invalid ticket."""
    tree = await make_tree()
    await _with_identity("oracle", tree.own)
    body = {"reset_ticket": await _reset_ticket(client, "oracle"), "new_password": NEW_PASSWORD}
    assert (await client.post(RESET, json=body)).status_code == 204
    for n in range(5):
        await client.post(RESET, json={**body, "new_password": f"Guess#Number{n}"})
    late = await client.post(RESET, json=body)
    assert late.status_code == 410 and late.json()["error"]["code"] == "ticket_invalid"


async def test_a_reset_resent_while_the_first_still_runs_is_told_to_wait(client, monkeypatch):
    """Between the ticket taken and the answer (the new password hashed, written), a resend with the
    same key is asked to wait, not told to start again; once done, it gets the success."""
    tree = await make_tree()
    await _with_identity("slow_reset", tree.own)
    body = {"reset_ticket": await _reset_ticket(client, "slow_reset"), "new_password": NEW_PASSWORD}
    key = {"Idempotency-Key": "reset-0006-abcdef"}
    hasher = runtime.get().hasher
    hashing, release = asyncio.Event(), asyncio.Event()
    real_hash = hasher.hash

    async def slow_hash(password: str) -> str:
        hashing.set()
        await release.wait()
        return await real_hash(password)

    monkeypatch.setattr(hasher, "hash", slow_hash)
    first = asyncio.create_task(client.post(RESET, json=body, headers=key))
    await hashing.wait()
    meanwhile = await client.post(RESET, json=body, headers=key)
    release.set()
    assert (await first).status_code == 204
    assert meanwhile.status_code == 409 and meanwhile.json()["error"]["code"] == "request_in_progress"
    assert (await client.post(RESET, json=body, headers=key)).status_code == 204


async def test_a_reset_ticket_never_used_still_answers_ticket_invalid(client):
    """Only a ticket that did reset a password is told so: an unknown one stays 'start again'."""
    missing = await client.post(
        RESET,
        json={"reset_ticket": "no-such-ticket", "new_password": NEW_PASSWORD},
        headers={"Idempotency-Key": "reset-0005-abcdef"},
    )
    assert missing.status_code == 410 and missing.json()["error"]["code"] == "ticket_invalid"


# A unit recovery whose answer was lost ----------------------------------------------------------


async def _unit_verified(client, key: dict[str, str]) -> tuple[dict, str]:
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    await make_account("village_boss", tree.child, role="admin", phone="13600005555")
    new_phone = "13600006666"
    sent = await _unit_recovery(client, {"identity": "legal_rep", "name": "王法人", "id_number": OTHER_ID}, new_phone)
    body = {"ticket": sent.json()["ticket"], "code": await _code(client, new_phone)}
    done = await client.post("/api/recovery/unit/verify", json=body, headers=key)
    assert done.status_code == 200, done.text
    return body, new_phone


async def test_a_unit_recovery_retried_with_its_key_answers_the_same_and_sends_no_second_password(client):
    key = {"Idempotency-Key": "unit-0001-abcdef"}
    body, new_phone = await _unit_verified(client, key)
    again = await client.post("/api/recovery/unit/verify", json=body, headers=key)
    assert again.status_code == 200, again.text
    assert again.json() == {"username": "village_boss", "unit_name": "王家湾村"}
    assert await _sms_count(new_phone) == 2  # the code and one temporary password


async def test_a_unit_recovery_retried_without_its_key_is_told_to_look_for_the_sms(client):
    body, _ = await _unit_verified(client, {"Idempotency-Key": "unit-0002-abcdef"})
    again = await client.post("/api/recovery/unit/verify", json=body)
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "unit_already_recovered"
    assert "短信" in again.json()["error"]["message"]


# A phone typed where the user name goes ---------------------------------------------------------


async def test_a_login_phone_typed_as_the_user_name_reaches_that_phone(client):
    """Cadres log in by phone (P16) and type it here too: it showed another, made-up phone and no
    code ever came."""
    tree = await make_tree()
    await _with_identity("by_phone_login", tree.own)
    start = await client.post("/api/recovery/password/start", json={"username": PHONE, **await _captcha(client)})
    assert start.status_code == 200 and start.json()["phone"] == "136****2222"
    sent = await client.post(
        "/api/recovery/password/send-code", json={"ticket": start.json()["ticket"], **await _captcha(client)}
    )
    assert sent.status_code == 200 and await _sms_count(PHONE) == 1
    verified = await client.post(
        "/api/recovery/password/verify",
        json={"ticket": start.json()["ticket"], "code": await _code(client, PHONE), "id_number": ID_NUMBER},
    )
    assert verified.status_code == 200, verified.text


async def test_an_unknown_phone_typed_as_the_user_name_shows_that_phone_and_sends_nothing(client):
    """The answer for a phone no account logs in with is the same: that phone, masked."""
    tree = await make_tree()
    await _with_identity("no_phone_login", tree.own, phone="13600003333", phone_login=False)
    for phone in ("13611112222", "13600003333"):
        start = await client.post("/api/recovery/password/start", json={"username": phone, **await _captcha(client)})
        assert start.status_code == 200 and start.json()["phone"] == f"{phone[:3]}****{phone[-4:]}"
        sent = await client.post(
            "/api/recovery/password/send-code", json={"ticket": start.json()["ticket"], **await _captcha(client)}
        )
        assert sent.status_code == 200 and await _sms_count(phone) == 0


# A code asked for after the account changed -----------------------------------------------------


async def _started(client, username: str) -> str:
    start = await client.post("/api/recovery/password/start", json={"username": username, **await _captcha(client)})
    assert start.status_code == 200, start.text
    return start.json()["ticket"]


async def test_no_code_goes_to_a_phone_unbound_since_the_user_name_was_given(client):
    """The lost phone replaced by an admin meanwhile: the code went to the old number (whoever has it
    now), where it could only fail."""
    tree = await make_tree()
    account = await _with_identity("phone_lost", tree.own)
    ticket = await _started(client, "phone_lost")
    await _change_bound_phone(account, "13600009999")
    sent = await client.post("/api/recovery/password/send-code", json={"ticket": ticket, **await _captcha(client)})
    assert sent.status_code == 200 and sent.json()["phone"] == "136****2222"  # the answer the start gave
    assert await _sms_count(PHONE) == 0


async def test_no_code_goes_to_an_account_deactivated_since_the_user_name_was_given(client):
    tree = await make_tree()
    account = await _with_identity("deactivated_meanwhile", tree.own)
    ticket = await _started(client, "deactivated_meanwhile")
    await Account.filter(id=account.id).update(is_active=False)
    sent = await client.post("/api/recovery/password/send-code", json={"ticket": ticket, **await _captcha(client)})
    assert sent.status_code == 200 and await _sms_count(PHONE) == 0


async def test_a_user_name_with_a_control_character_is_refused_in_chinese_not_looked_up(client):
    """It went to the database as typed: PostgreSQL refuses a NUL in text, answered as a 500."""
    for username in ("abc\x00", "ab\x1bc", "\u3000"):
        answer = await client.post(
            "/api/recovery/password/start", json={"username": username, **await _captcha(client)}
        )
        assert answer.status_code == 422, (username, answer.text)
        assert answer.json()["error"]["fields"]["username"] in ("不能包含控制字符", "不能为空白")
