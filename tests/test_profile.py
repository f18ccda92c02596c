"""P4 first-login SMS check, P11 own profile and bound phone change."""

from __future__ import annotations

import re

import httpx

from backend.accounts.models import Account, RealnameLevel
from backend.core import runtime
from backend.core.audit import AuditEntry
from tests.factories import (
    PASSWORD,
    captcha,
    login,
    login_response,
    make_account,
    make_tree,
    phone_login_taken_after_the_check,
)

OLD_PHONE = "13500001111"
NEW_PHONE = "13500002222"


async def _code(client, phone: str) -> str:
    text = (await client.get("/api/dev/sms", params={"phone": phone})).json()["messages"][0]["text"]
    return re.search(r"验证码为 (\d{6})", text).group(1)


async def _captcha_body(client) -> dict[str, str]:
    captcha_id, answer = await captcha(client)
    return {"captcha_id": captcha_id, "captcha_answer": answer}


async def _operator(client, must_check: bool = True) -> dict[str, str]:
    tree = await make_tree()
    account = await make_account("operator", tree.own, role="clerk", phone=OLD_PHONE, must_change=True)
    await Account.filter(id=account.id).update(needs_sms_check=must_check)
    return await login(client, "operator")


async def test_first_login_needs_the_sms_check_before_the_password_change_and_anything_else(client):
    headers = await _operator(client)
    session = (await client.get("/api/session", headers=headers)).json()
    assert session["sms_check_required"] is True
    for method, path in (("get", "/api/units/"), ("get", "/api/profile"), ("get", "/api/sessions")):
        blocked = await getattr(client, method)(path, headers=headers)
        assert blocked.json()["error"]["code"] == "sms_check_required", path
    sent = await client.post("/api/session/first-login/send-code", headers=headers, json=await _captcha_body(client))
    assert sent.json()["phone"] == "135****1111"
    code = await _code(client, OLD_PHONE)
    wrong = await client.post(
        "/api/session/first-login/verify", headers=headers, json={"code": f"{(int(code) + 1) % 10**6:06d}"}
    )
    assert wrong.json()["error"]["code"] == "sms_code_wrong"
    ok = await client.post("/api/session/first-login/verify", headers=headers, json={"code": code})
    assert ok.status_code == 204
    still_must_change = await client.get("/api/units/", headers=headers)
    assert still_must_change.json()["error"]["code"] == "password_change_required"
    again = await client.post("/api/session/first-login/verify", headers=headers, json={"code": code})
    assert again.status_code == 409
    outcomes = await AuditEntry.filter(action="auth.first_login_sms").values_list("outcome", flat=True)
    assert sorted(outcomes) == ["failure", "success"]


async def test_first_login_code_needs_a_captcha(client):
    headers = await _operator(client)
    missing = await client.post("/api/session/first-login/send-code", headers=headers, json={})
    assert missing.status_code == 422
    wrong = await client.post(
        "/api/session/first-login/send-code", headers=headers, json={"captcha_id": "nope", "captcha_answer": "ABCD"}
    )
    assert wrong.json()["error"]["code"] == "captcha_invalid"


async def test_profile_shows_masked_identity_and_long_term_validity(client):
    tree = await make_tree()
    await make_account("someone", tree.own, phone=OLD_PHONE)
    headers = await login(client, "someone")
    updated = await client.patch(
        "/api/profile",
        headers=headers,
        json={"id_number": "11010519491231002x", "id_valid_until": "00000000", "email": "li@example.cn"},
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["id_number"] == "1101**********002X" and body["id_valid_until"] == "00000000"
    assert body["phone"] == "135****1111" and body["phone_login"] is True


async def test_changing_name_or_id_number_voids_the_real_name_level_but_email_does_not(client):
    tree = await make_tree()
    account = await make_account("verified", tree.own)
    await Account.filter(id=account.id).update(realname_level=RealnameLevel.MEDIUM)
    headers = await login(client, "verified")
    await client.patch("/api/profile", headers=headers, json={"email": "a@b.cn"})
    assert (await Account.get(id=account.id)).realname_level == RealnameLevel.MEDIUM
    await client.patch("/api/profile", headers=headers, json={"name": "新名字"})
    assert (await Account.get(id=account.id)).realname_level == RealnameLevel.NONE
    entry = await AuditEntry.filter(action="profile.update").order_by("-id").first()
    assert entry.detail["realname_voided"] == 1


async def test_bad_profile_values_are_refused_and_change_nothing(client):
    tree = await make_tree()
    account = await make_account("careful", tree.own)
    headers = await login(client, "careful")
    for payload, field in (
        ({"id_valid_until": "20301340"}, "id_valid_until"),
        ({"id_number": "110105194912310021"}, "id_number"),
        ({"id_type": "passport", "id_number": "E12-3456"}, "id_number"),
        ({"email": "not-an-email"}, "email"),
        ({"name": None}, "name"),
    ):
        refused = await client.patch("/api/profile", headers=headers, json=payload)
        assert refused.status_code == 422 and field in refused.json()["error"]["fields"], payload
    assert (await Account.get(id=account.id)).updated_at == account.updated_at
    passport = await client.patch(
        "/api/profile", headers=headers, json={"id_type": "passport", "id_number": "E12345678"}
    )
    assert passport.status_code == 200 and passport.json()["id_type"] == "passport"


async def _phone_change(client, headers, password: str = PASSWORD, new_phone: str = NEW_PHONE):
    return await client.post(
        "/api/profile/phone/send-code",
        headers=headers,
        json={"password": password, "new_phone": new_phone, **await _captcha_body(client)},
    )


async def _confirm_phone_change(client, headers, started) -> httpx.Response:
    """The confirm step of the phone change ``started``, with the code sent to NEW_PHONE."""
    return await client.post(
        "/api/profile/phone/confirm",
        headers=headers,
        json={"ticket": started.json()["ticket"], "code": await _code(client, NEW_PHONE)},
    )


async def test_bound_phone_changes_after_password_and_a_code_to_the_new_phone(client):
    tree = await make_tree()
    await make_account("mover", tree.own, phone=OLD_PHONE)
    headers = await login(client, "mover")
    started = await _phone_change(client, headers)
    assert started.status_code == 200 and started.json()["phone"] == "135****2222"
    confirmed = await _confirm_phone_change(client, headers, started)
    assert confirmed.status_code == 200 and confirmed.json()["phone"] == "135****2222"
    assert (await login_response(client, NEW_PHONE)).status_code == 200
    assert (await login_response(client, OLD_PHONE)).status_code == 401
    notice = (await client.get("/api/dev/sms", params={"phone": OLD_PHONE})).json()["messages"][0]["text"]
    assert "135****2222" in notice
    reused = await client.post(
        "/api/profile/phone/confirm", headers=headers, json={"ticket": started.json()["ticket"], "code": "000000"}
    )
    assert reused.status_code == 410
    assert await AuditEntry.filter(action="profile.phone_change", outcome="success").exists()


async def test_a_phone_change_racing_another_accounts_phone_login_keeps_the_change_without_phone_login(
    client, monkeypatch
):
    """Another account switched phone login on for the new phone between the check and the write:
    the unique index answered 500, and the spent code and ticket were lost with the change."""
    tree = await make_tree()
    await make_account("mover", tree.own, phone=OLD_PHONE)
    other = await make_account("other", tree.own, phone=NEW_PHONE)
    await Account.filter(id=other.id).update(login_phone_index=None)
    headers = await login(client, "mover")
    started = await _phone_change(client, headers)
    phone_login_taken_after_the_check(monkeypatch, other.id)
    confirmed = await _confirm_phone_change(client, headers, started)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["phone"] == "135****2222" and confirmed.json()["phone_login"] is False


async def test_phone_change_refuses_a_wrong_password_and_the_same_phone(client):
    tree = await make_tree()
    await make_account("strict", tree.own, phone=OLD_PHONE)
    headers = await login(client, "strict")
    wrong = await _phone_change(client, headers, password="Wrong#pass1")
    assert wrong.json()["error"]["code"] == "password_wrong"
    same = await _phone_change(client, headers, new_phone=OLD_PHONE)
    assert same.status_code == 422
    assert await AuditEntry.filter(action="profile.phone_change", outcome="failure").count() == 1
    for _ in range(3):
        await _phone_change(client, headers, password="Wrong#pass1")
    capped = await _phone_change(client, headers)
    assert capped.status_code == 429


async def test_a_phone_change_ticket_of_another_account_is_refused(client):
    tree = await make_tree()
    await make_account("first", tree.own, phone=OLD_PHONE)
    await make_account("second", tree.own, phone="13500003333")
    first = await login(client, "first")
    second = await login(client, "second")
    started = await _phone_change(client, first)
    stolen = await _confirm_phone_change(client, second, started)
    assert stolen.status_code == 410
    assert (await client.get("/api/profile", headers=second)).json()["phone"] == "135****3333"
    assert (await client.get("/api/profile", headers=first)).json()["phone"] == "135****1111"


async def test_control_characters_in_the_email_are_refused_and_change_nothing(client):
    """PostgreSQL cannot even store a NUL: such an e-mail must be a 422 there as here, never a 500."""
    tree = await make_tree()
    account = await make_account("mailer", tree.own)
    headers = await login(client, "mailer")
    for email in ("li\x00@example.cn", "li@exa\x07mple.cn", "li@example.cn\u2028"):
        refused = await client.patch("/api/profile", headers=headers, json={"email": email})
        assert refused.status_code == 422 and "email" in refused.json()["error"]["fields"], email
    assert (await Account.get(id=account.id)).email is None


async def test_a_phone_change_ticket_lost_to_a_redis_restart_asks_to_start_again_and_changes_nothing(client):
    tree = await make_tree()
    account = await make_account("restarted", tree.own, phone=OLD_PHONE)
    headers = await login(client, "restarted")
    started = await _phone_change(client, headers)
    code = await _code(client, NEW_PHONE)
    await runtime.get().redis.flushdb()  # the session went with it: a new login, the code sent again
    headers = await login(client, "restarted")
    lost = await client.post(
        "/api/profile/phone/confirm", headers=headers, json={"ticket": started.json()["ticket"], "code": code}
    )
    assert lost.status_code == 410, lost.text
    assert lost.json()["error"] == {"code": "ticket_invalid", "message": "操作已过期或无效，请从头开始", "fields": {}}
    assert (await Account.get(id=account.id)).phone_index == account.phone_index


async def test_logging_in_by_phone_is_switched_off_and_on_by_the_account_itself(client):
    """P16's switch had no endpoint: an account's phone login could be neither turned off nor on."""
    tree = await make_tree()
    account = await make_account("wang", tree.own, role="clerk", phone=OLD_PHONE)
    headers = await login(client, "wang")
    off = await client.put("/api/profile/phone-login", headers=headers, json={"enabled": False})
    assert off.status_code == 200 and off.json()["phone_login"] is False
    assert (await login_response(client, OLD_PHONE)).status_code == 401  # as a wrong password answers
    entries = await AuditEntry.filter(action="profile.phone_login", target_id=str(account.id))
    assert [e.detail for e in entries] == [{"enabled": 0}]
    again = await client.put("/api/profile/phone-login", headers=headers, json={"enabled": False})
    assert again.status_code == 200 and await AuditEntry.filter(action="profile.phone_login").count() == 1
    on = await client.put("/api/profile/phone-login", headers=headers, json={"enabled": True})
    assert on.status_code == 200 and on.json()["phone_login"] is True
    assert (await login_response(client, OLD_PHONE)).status_code == 200


async def test_one_phone_logs_in_to_one_account_only_and_an_account_needs_a_phone(client):
    tree = await make_tree()
    await make_account("first", tree.own, role="clerk", phone=OLD_PHONE)
    await make_account("second", tree.own, role="clerk", phone=OLD_PHONE, phone_login=False)
    nophone = await make_account("nophone", tree.own, role="clerk", phone_login=False)
    await Account.filter(id=nophone.id).update(phone_enc=None, phone_index=None)  # a card login made it
    second = await login(client, "second")
    taken = await client.put("/api/profile/phone-login", headers=second, json={"enabled": True})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "phone_login_taken"
    assert "一个手机号只能登录一个账号" in taken.json()["error"]["message"]
    first = await login(client, "first")
    assert (await client.put("/api/profile/phone-login", headers=first, json={"enabled": False})).status_code == 200
    moved = await client.put("/api/profile/phone-login", headers=second, json={"enabled": True})
    assert moved.status_code == 200 and moved.json()["phone_login"] is True
    reached = await login_response(client, OLD_PHONE)
    assert reached.status_code == 200 and reached.json()["username"] == "second"
    none = await client.put("/api/profile/phone-login", headers=await login(client, "nophone"), json={"enabled": True})
    assert none.status_code == 409 and none.json()["error"]["code"] == "no_phone"
    for body in ({"enabled": "yes"}, {}, {"enabled": True, "extra": 1}):
        bad = await client.put("/api/profile/phone-login", headers=second, json=body)
        assert bad.status_code == 422, body
