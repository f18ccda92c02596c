"""R2-R4 recovery flows through the API: happy paths and their abuse cases."""

from __future__ import annotations

import asyncio
import re

import httpx

from backend.accounts.models import Account, Membership
from backend.cards.models import CardBinding
from backend.core import identifiers, runtime
from backend.core.audit import AuditEntry
from backend.core.sms import SmsMessage
from backend.recovery import actions
from backend.units.models import Unit
from backend.wechat.models import WechatIdentity
from tests.factories import PASSWORD, bind_card, bind_wechat, login, login_response, make_account, make_tree

PHONE = "13600002222"
ID_NUMBER = "11010519491231002X"
OTHER_ID = "110105198001010016"
NEW_PASSWORD = "Qingshan#River7"
CREDIT_CODE = "91350100M000100Y43"


async def _captcha(client: httpx.AsyncClient) -> dict[str, str]:
    captcha_id = (await client.get("/api/auth/captcha")).json()["captcha_id"]
    answer = (await client.get(f"/api/dev/captcha/{captcha_id}")).json()["answer"]
    return {"captcha_id": captcha_id, "captcha_answer": answer}


async def _code(client: httpx.AsyncClient, phone: str) -> str:
    messages = (await client.get("/api/dev/sms", params={"phone": phone})).json()["messages"]
    match = re.search(r"验证码为 (\d{6})", messages[0]["text"])
    assert match, messages
    return match.group(1)


async def _sms_count(phone: str) -> int:
    return await SmsMessage.filter(phone_index=runtime.get().vault.index("phone", phone)).count()


async def _with_identity(
    username: str, unit, phone: str = PHONE, id_number: str | None = ID_NUMBER, phone_login: bool = True
) -> Account:
    account = await make_account(username, unit, role="clerk", phone=phone, phone_login=phone_login)
    if id_number:
        vault = runtime.get().vault
        await Account.filter(id=account.id).update(
            id_number_enc=vault.encrypt("account.id_number", id_number),
            id_number_index=vault.index("id_number", id_number),
        )
    return account


async def _password_ticket(client, username: str) -> dict:
    start = await client.post("/api/recovery/password/start", json={"username": username, **await _captcha(client)})
    assert start.status_code == 200, start.text
    sent = await client.post(
        "/api/recovery/password/send-code", json={"ticket": start.json()["ticket"], **await _captcha(client)}
    )
    assert sent.status_code == 200, sent.text
    return {"start": start.json(), "sent": sent.json()}


# R2 -------------------------------------------------------------------------------------------


async def test_forgot_password_end_to_end_ends_sessions_releases_the_wechat_and_sets_the_new_password(client):
    tree = await make_tree()
    account = await _with_identity("forgetful", tree.own)
    await bind_wechat(account.id, "o-whoever-knew-the-old-password")
    old_session = await login(client, "forgetful")
    flow = await _password_ticket(client, "forgetful")
    assert flow["start"]["phone"] == "136****2222"
    verified = await client.post(
        "/api/recovery/password/verify",
        json={"ticket": flow["start"]["ticket"], "code": await _code(client, PHONE), "id_number": ID_NUMBER},
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["expires_in"] == 15 * 60
    reset = await client.post(
        "/api/recovery/password/reset",
        json={"reset_ticket": verified.json()["reset_ticket"], "new_password": NEW_PASSWORD},
    )
    assert reset.status_code == 204
    assert (await client.get("/api/session", headers=old_session)).status_code == 401
    assert (await login_response(client, "forgetful", PASSWORD)).status_code == 401
    assert (await login_response(client, "forgetful", NEW_PASSWORD)).json()["must_change_password"] is False
    actions = set(await AuditEntry.filter(actor_account_id=account.id).values_list("action", flat=True))
    assert {"recovery.password_verify", "recovery.password_reset"} <= actions
    entry = await AuditEntry.get(action="recovery.password_reset")
    assert entry.detail == {"wechat_released": 1} and not await WechatIdentity.filter(account_id=account.id).exists()
    notice = (await client.get("/api/dev/sms", params={"phone": PHONE})).json()["messages"][0]["text"]
    assert "密码已通过短信验证重置" in notice


async def test_unknown_user_name_gets_the_same_answers_and_no_message(client):
    tree = await make_tree()
    await _with_identity("real_user", tree.own)
    real = await _password_ticket(client, "real_user")
    fake = await _password_ticket(client, "no_such_user")
    assert set(real["start"]) == set(fake["start"]) and set(real["sent"]) == set(fake["sent"])
    assert re.fullmatch(r"1\d\d\*\*\*\*\d{4}", fake["start"]["phone"])
    again = await client.post(
        "/api/recovery/password/start", json={"username": "no_such_user", **await _captcha(client)}
    )
    assert again.json()["phone"] == fake["start"]["phone"]  # stable, so repeating does not give it away
    assert real["sent"]["resend_after"] == fake["sent"]["resend_after"] == 60
    assert await SmsMessage.all().count() == 1  # only the real account's code went out
    answers = []
    for flow in (real, fake):  # a wrong code: the same answer, whether the account exists or not
        body = {"ticket": flow["start"]["ticket"], "code": "000000", "id_number": ID_NUMBER}
        answers.append((await client.post("/api/recovery/password/verify", json=body)).json()["error"]["code"])
    real_code = await _code(client, PHONE)
    assert answers == ["sms_code_wrong", "sms_code_wrong"] or real_code == "000000"


async def test_wrong_code_counts_tries_and_five_void_it(client):
    tree = await make_tree()
    await _with_identity("tries", tree.own)
    flow = await _password_ticket(client, "tries")
    code = await _code(client, PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    body = {"ticket": flow["start"]["ticket"], "id_number": ID_NUMBER}
    for _ in range(4):
        response = await client.post("/api/recovery/password/verify", json={**body, "code": wrong})
        assert response.json()["error"]["code"] == "sms_code_wrong"
    assert (await client.post("/api/recovery/password/verify", json={**body, "code": wrong})).json()["error"][
        "code"
    ] == "sms_code_void"
    assert (await client.post("/api/recovery/password/verify", json={**body, "code": code})).json()["error"][
        "code"
    ] == "sms_code_void"


async def test_wrong_id_number_is_refused_and_three_use_the_ticket_up(client, clock):
    """A wrong ID number counts against the code and the ticket, three end the ticket; before the
    code, a wrong ID number said so without a single SMS."""
    tree = await make_tree()
    await _with_identity("idcheck", tree.own)
    flow = await _password_ticket(client, "idcheck")
    ticket = flow["start"]["ticket"]
    no_code = {"ticket": ticket, "code": "000000", "id_number": OTHER_ID}
    assert (await client.post("/api/recovery/password/verify", json=no_code)).json()["error"]["code"] in (
        "sms_code_wrong",
        "sms_code_void",
    )
    for attempt in range(3):
        if attempt:
            clock.advance(61)
            resend = {"ticket": ticket, **await _captcha(client)}
            assert (await client.post("/api/recovery/password/send-code", json=resend)).status_code == 200
        body = {"ticket": ticket, "code": await _code(client, PHONE), "id_number": OTHER_ID}
        answer = await client.post("/api/recovery/password/verify", json=body)
        assert (answer.status_code == 410) is (attempt == 2), answer.text
    right = await client.post("/api/recovery/password/verify", json={**body, "id_number": ID_NUMBER})
    assert right.status_code == 410
    failures = await AuditEntry.filter(action="recovery.password_verify", outcome="failure").count()
    assert failures == 3


async def test_account_without_an_id_number_is_sent_to_manual_review(client):
    tree = await make_tree()
    await _with_identity("no_id", tree.own, id_number=None)
    flow = await _password_ticket(client, "no_id")
    response = await client.post(
        "/api/recovery/password/verify",
        json={"ticket": flow["start"]["ticket"], "code": await _code(client, PHONE), "id_number": ID_NUMBER},
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "manual_review_needed"


async def test_reset_ticket_is_single_use_and_expires_after_fifteen_minutes(client, clock):
    tree = await make_tree()
    await _with_identity("ticketed", tree.own)

    async def reset_ticket() -> str:
        flow = await _password_ticket(client, "ticketed")
        verified = await client.post(
            "/api/recovery/password/verify",
            json={"ticket": flow["start"]["ticket"], "code": await _code(client, PHONE), "id_number": ID_NUMBER},
        )
        return verified.json()["reset_ticket"]

    first = await reset_ticket()
    weak = await client.post("/api/recovery/password/reset", json={"reset_ticket": first, "new_password": "weak"})
    assert weak.status_code == 422  # a refused password does not use the ticket up
    assert (
        await client.post("/api/recovery/password/reset", json={"reset_ticket": first, "new_password": NEW_PASSWORD})
    ).status_code == 204
    reused = await client.post(
        "/api/recovery/password/reset", json={"reset_ticket": first, "new_password": "Another#Pass9"}
    )
    assert reused.status_code == 410 and reused.json()["error"]["code"] == "ticket_invalid"
    clock.advance(61)
    late = await reset_ticket()
    clock.advance(15 * 60 + 1)
    expired = await client.post(
        "/api/recovery/password/reset", json={"reset_ticket": late, "new_password": "Another#Pass9"}
    )
    assert expired.status_code == 410


async def test_a_ticket_works_only_for_its_own_step_and_account(client):
    tree = await make_tree()
    await _with_identity("alice", tree.own, phone="13600003333")
    bob = await _with_identity("bob", tree.own, phone="13600004444", id_number=OTHER_ID)
    alice_flow = await _password_ticket(client, "alice")
    await _password_ticket(client, "bob")
    bobs_code = await _code(client, "13600004444")
    crossed = await client.post(
        "/api/recovery/password/verify",
        json={"ticket": alice_flow["start"]["ticket"], "code": bobs_code, "id_number": OTHER_ID},
    )
    assert crossed.status_code in (400, 410, 422) and crossed.json()["error"]["code"] != "ok"
    wrong_step = await client.post(
        "/api/recovery/password/reset",
        json={"reset_ticket": alice_flow["start"]["ticket"], "new_password": NEW_PASSWORD},
    )
    assert wrong_step.status_code == 410
    assert (await Account.get(id=bob.id)).password_hash == bob.password_hash


async def test_every_send_needs_a_fresh_captcha(client):
    tree = await make_tree()
    await _with_identity("captcha_user", tree.own)
    start = await client.post(
        "/api/recovery/password/start", json={"username": "captcha_user", **await _captcha(client)}
    )
    missing = await client.post("/api/recovery/password/send-code", json={"ticket": start.json()["ticket"]})
    assert missing.status_code == 422
    wrong = await client.post(
        "/api/recovery/password/send-code",
        json={"ticket": start.json()["ticket"], "captcha_id": "x", "captcha_answer": "ABCD"},
    )
    assert wrong.json()["error"]["code"] == "captcha_invalid"
    no_captcha_start = await client.post(
        "/api/recovery/password/start", json={"username": "captcha_user", "captcha_id": "x", "captcha_answer": "ABCD"}
    )
    assert no_captcha_start.json()["error"]["code"] == "captcha_invalid"
    assert not await SmsMessage.exists()


# R3 -------------------------------------------------------------------------------------------


async def test_forgot_user_name_by_phone_lists_every_account_on_that_phone(client):
    tree = await make_tree()
    await _with_identity("first_name", tree.own)
    await _with_identity("second_name", tree.child, phone_login=False)
    started = await client.post(
        "/api/recovery/username/by-phone/send-code", json={"phone": PHONE, **await _captcha(client)}
    )
    found = await client.post(
        "/api/recovery/username/by-phone/verify",
        json={"ticket": started.json()["ticket"], "code": await _code(client, PHONE)},
    )
    assert found.status_code == 200
    accounts = found.json()["accounts"]
    assert [a["username"] for a in accounts] == ["first_name", "second_name"]
    assert accounts[0]["units"] == ["白沙镇"] and accounts[1]["units"] == ["王家湾村"]
    assert accounts[0]["name"].startswith("测") and "*" in accounts[0]["name"]
    assert await AuditEntry.filter(action="recovery.username_lookup").count() == 2


async def test_forgot_user_name_by_unknown_phone_answers_alike_and_sends_nothing(client):
    started = await client.post(
        "/api/recovery/username/by-phone/send-code", json={"phone": "13611112222", **await _captcha(client)}
    )
    assert started.status_code == 200 and set(started.json()) == {"ticket", "phone", "resend_after", "expires_in"}
    assert await _sms_count("13611112222") == 0
    found = await client.post(
        "/api/recovery/username/by-phone/verify", json={"ticket": started.json()["ticket"], "code": "000000"}
    )
    assert found.json()["error"]["code"] == "sms_code_wrong"


async def test_forgot_user_name_right_after_a_redis_restart_answers_a_known_phone_as_an_unknown_one(client, clock):
    """The outbox alone remembers the known phone's code of 20 s ago: its refusal would tell a
    registered phone from one nobody has. Both are answered alike; no second code goes out."""
    tree = await make_tree()
    await _with_identity("first_name", tree.own)
    path = "/api/recovery/username/by-phone/send-code"
    assert (await client.post(path, json={"phone": PHONE, **await _captcha(client)})).status_code == 200
    await runtime.get().redis.flushdb()
    clock.advance(20)
    known = await client.post(path, json={"phone": PHONE, **await _captcha(client)})
    unknown = await client.post(path, json={"phone": "13611112222", **await _captcha(client)})
    assert (known.status_code, unknown.status_code) == (200, 200), known.text
    assert set(known.json()) == set(unknown.json()) and known.json()["resend_after"] == unknown.json()["resend_after"]
    assert await _sms_count(PHONE) == 1


async def test_forgot_user_name_by_unit_needs_the_matching_identity(client):
    tree = await make_tree()
    await Unit.filter(id=tree.own.id).update(credit_code=CREDIT_CODE, org_code=CREDIT_CODE[8:17])
    await _with_identity("unit_person", tree.own)
    body = {"name": "测试unit_person", "id_number": ID_NUMBER, "phone": PHONE}
    wrong = await client.post(
        "/api/recovery/username/by-unit/send-code",
        json={**body, "id_number": OTHER_ID, "credit_code": CREDIT_CODE, **await _captcha(client)},
    )
    assert wrong.status_code == 200 and await _sms_count(PHONE) == 0
    by_org = await client.post(
        "/api/recovery/username/by-unit/send-code",
        json={**body, "phone": PHONE, "org_code": CREDIT_CODE[8:17], **await _captcha(client)},
    )
    assert by_org.json()["error"]["code"] == "sms_cooldown"  # same phone within 60 s, known or not
    assert by_org.headers["retry-after"] == "60"  # a client counts down from it (no clock moved yet)
    runtime.get().clock.advance(60)
    by_org = await client.post(
        "/api/recovery/username/by-unit/send-code",
        json={**body, "org_code": CREDIT_CODE[8:17], **await _captcha(client)},
    )
    found = await client.post(
        "/api/recovery/username/by-unit/verify",
        json={"ticket": by_org.json()["ticket"], "code": await _code(client, PHONE)},
    )
    assert [a["username"] for a in found.json()["accounts"]] == ["unit_person"]
    neither = await client.post("/api/recovery/username/by-unit/send-code", json={**body, **await _captcha(client)})
    assert neither.status_code == 422 and "credit_code" in neither.json()["error"]["fields"]


# R4 -------------------------------------------------------------------------------------------


async def _unit_with_legal_rep(tree) -> None:
    vault = runtime.get().vault
    await Unit.filter(id=tree.child.id).update(
        credit_code=CREDIT_CODE,
        legal_rep_name="王法人",
        legal_rep_id_enc=vault.encrypt("unit.legal_rep_id", OTHER_ID),
        legal_rep_id_index=vault.index("id_number", OTHER_ID),
    )


async def _unit_recovery(client, identity: dict, new_phone: str) -> httpx.Response:
    started = await client.post("/api/recovery/unit/start", json={"credit_code": CREDIT_CODE, **await _captcha(client)})
    return await client.post(
        "/api/recovery/unit/send-code",
        json={
            "ticket": started.json()["ticket"],
            "new_agent_name": "新经办",
            "new_agent_phone": new_phone,
            **identity,
            **await _captcha(client),
        },
    )


async def test_unit_account_recovered_by_the_legal_representative_goes_to_the_new_agent(client):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    old_admin = await make_account("village_boss", tree.child, role="admin", phone="13600005555")
    await bind_wechat(old_admin.id, "o-old-agent")
    await bind_card(old_admin.id, "66000001")
    old_session = await login(client, "village_boss")
    new_phone = "13600006666"
    sent = await _unit_recovery(client, {"identity": "legal_rep", "name": "王法人", "id_number": OTHER_ID}, new_phone)
    assert sent.status_code == 200, sent.text
    done = await client.post(
        "/api/recovery/unit/verify", json={"ticket": sent.json()["ticket"], "code": await _code(client, new_phone)}
    )
    assert done.json() == {"username": "village_boss", "unit_name": "王家湾村"}
    text = (await client.get("/api/dev/sms", params={"phone": new_phone})).json()["messages"][0]["text"]
    password = re.search(r"临时密码 ([^，\s]+)，", text).group(1)
    session = await login_response(client, new_phone, password)
    assert session.status_code == 200 and session.json()["must_change_password"] is True
    assert (await client.get("/api/session", headers=old_session)).status_code == 401
    account = await Account.get(id=old_admin.id)
    assert account.name == "新经办" and account.id_number_index is None
    entry = await AuditEntry.get(action="recovery.unit_account", target_id=str(old_admin.id))
    assert entry.detail["wechat_released"] == entry.detail["card_released"] == 1  # the old agent's are void
    assert not await WechatIdentity.filter(account_id=old_admin.id).exists()
    assert not await CardBinding.filter(account_id=old_admin.id).exists()


async def test_an_agent_identity_recovers_a_unit_without_admin_by_creating_one(client):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    await _with_identity("village_agent", tree.child)
    sent = await _unit_recovery(
        client, {"identity": "agent", "name": "测试village_agent", "id_number": ID_NUMBER}, "13600007777"
    )
    done = await client.post(
        "/api/recovery/unit/verify", json={"ticket": sent.json()["ticket"], "code": await _code(client, "13600007777")}
    )
    assert done.json()["username"] == f"{CREDIT_CODE}_ADMIN"
    admin = await Account.get(username_key=f"{CREDIT_CODE}_admin".lower())
    membership = await Membership.get(account_id=admin.id)
    assert membership.unit_id == tree.child.id and membership.role == "admin"


async def test_a_wrong_identity_gets_the_same_answer_and_no_message(client):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    sent = await _unit_recovery(
        client, {"identity": "legal_rep", "name": "王法人", "id_number": ID_NUMBER}, "13600008888"
    )
    assert sent.status_code == 200 and set(sent.json()) == {"ticket", "phone", "resend_after", "expires_in"}
    assert await _sms_count("13600008888") == 0
    refused = await client.post("/api/recovery/unit/verify", json={"ticket": sent.json()["ticket"], "code": "000000"})
    assert refused.json()["error"]["code"] == "sms_code_wrong"
    assert await AuditEntry.filter(action="recovery.unit_identify", outcome="failure").exists()
    known = await client.post("/api/recovery/unit/start", json={"credit_code": CREDIT_CODE, **await _captcha(client)})
    unknown = await client.post(
        "/api/recovery/unit/start", json={"credit_code": "91110000MA00000077", **await _captcha(client)}
    )
    assert unknown.status_code == known.status_code == 200 and set(unknown.json()) == set(known.json())


async def test_before_the_code_an_account_without_an_id_number_answers_like_any_other(client):
    """It said 422 manual_review_needed without any code, where an unknown name said identity_mismatch."""
    tree = await make_tree()
    await _with_identity("noid", tree.own, id_number=None)
    codes = []
    for username in ("noid", "ghost_user"):
        flow = await _password_ticket(client, username)
        body = {"ticket": flow["start"]["ticket"], "code": "000000", "id_number": ID_NUMBER}
        codes.append((await client.post("/api/recovery/password/verify", json=body)).json()["error"]["code"])
    assert codes[0] == codes[1] or "000000" == await _code(client, PHONE)


def test_stand_in_phones_of_unknown_names_use_every_mobile_prefix_not_only_13x():
    prefixes = {actions.stand_in_phone(f"nobody{n}")[:3] for n in range(300)}
    assert len(prefixes) > 30 and any(p.startswith(("15", "18", "19")) for p in prefixes)
    assert all(identifiers.valid_phone(actions.stand_in_phone(f"nobody{n}")) for n in range(300))


async def test_a_captcha_answer_in_chinese_is_wrong_not_a_server_error(client):
    captcha_id = (await client.get("/api/auth/captcha")).json()["captcha_id"]
    body = {"username": "x", "captcha_id": captcha_id, "captcha_answer": "验证码"}
    response = await client.post("/api/recovery/password/start", json=body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "captcha_invalid"


async def test_a_viewer_of_a_unit_with_an_admin_cannot_take_the_admin_account_over(client):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    await make_account("real_admin", tree.child, role="admin")
    viewer = await make_account("lowly_viewer", tree.child, role="viewer")
    await Account.filter(id=viewer.id).update(id_number_index=runtime.get().vault.index("id_number", ID_NUMBER))
    sent = await _unit_recovery(
        client, {"identity": "agent", "name": "测试lowly_viewer", "id_number": ID_NUMBER}, "13600006666"
    )
    assert sent.status_code == 200  # the same answer as a match...
    assert (await client.get("/api/dev/sms", params={"phone": "13600006666"})).json()["messages"] == []  # ...no code


async def test_a_reset_ticket_of_an_account_deactivated_meanwhile_is_refused(client):
    tree = await make_tree()
    account = await _with_identity("leaving", tree.own)
    flow = await _password_ticket(client, "leaving")
    body = {"ticket": flow["start"]["ticket"], "code": await _code(client, PHONE), "id_number": ID_NUMBER}
    verified = await client.post("/api/recovery/password/verify", json=body)
    await Account.filter(id=account.id).update(is_active=False)
    reset = {"reset_ticket": verified.json()["reset_ticket"], "new_password": NEW_PASSWORD}
    assert (await client.post("/api/recovery/password/reset", json=reset)).status_code == 410


async def test_a_mistyped_id_number_keeps_the_code_but_counts_as_one_of_its_wrong_tries(client):
    tree = await make_tree()
    await _with_identity("typo", tree.own)
    flow = await _password_ticket(client, "typo")
    code = await _code(client, PHONE)
    body = {"ticket": flow["start"]["ticket"], "code": code, "id_number": OTHER_ID}
    assert (await client.post("/api/recovery/password/verify", json=body)).json()["error"][
        "code"
    ] == "identity_mismatch"
    wrong = {**body, "code": f"{(int(code) + 1) % 10**6:06d}", "id_number": ID_NUMBER}
    answers = [
        (await client.post("/api/recovery/password/verify", json=wrong)).json()["error"]["code"] for _ in range(4)
    ]
    assert answers == ["sms_code_wrong"] * 3 + ["sms_code_void"]  # the ID number's miss was the first of five


async def test_after_a_mistyped_id_number_the_same_code_still_resets(client):
    tree = await make_tree()
    await _with_identity("typo2", tree.own)
    flow = await _password_ticket(client, "typo2")
    body = {"ticket": flow["start"]["ticket"], "code": await _code(client, PHONE), "id_number": OTHER_ID}
    assert (await client.post("/api/recovery/password/verify", json=body)).status_code == 400
    assert (
        await client.post("/api/recovery/password/verify", json={**body, "id_number": ID_NUMBER})
    ).status_code == 200


async def _reset_ticket(client, username: str, phone: str = PHONE) -> str:
    flow = await _password_ticket(client, username)
    body = {"ticket": flow["start"]["ticket"], "code": await _code(client, phone), "id_number": ID_NUMBER}
    verified = await client.post("/api/recovery/password/verify", json=body)
    assert verified.status_code == 200, verified.text
    return verified.json()["reset_ticket"]


async def _change_bound_phone(account: Account, phone: str) -> None:
    vault = runtime.get().vault
    index = vault.index("phone", phone)
    await Account.filter(id=account.id).update(
        phone_enc=vault.encrypt("account.phone", phone), phone_index=index, login_phone_index=index
    )


async def test_a_user_name_typed_with_spaces_around_it_still_reaches_the_bound_phone(client):
    """Copied from the user name lookup with a trailing space, it got a stand-in phone and no code."""
    tree = await make_tree()
    await _with_identity("spaced", tree.own)
    flow = await _password_ticket(client, " spaced ")
    assert flow["start"]["phone"] == "136****2222"
    assert await _sms_count(PHONE) == 1


async def test_a_code_from_the_old_phone_does_not_verify_once_the_bound_phone_changed(client):
    """A lost phone: its owner binds a new one; whoever holds the old one (and the ID card lost with
    it) must not reset the password with a code sent there before the change."""
    tree = await make_tree()
    account = await _with_identity("lost_phone", tree.own)
    flow = await _password_ticket(client, "lost_phone")
    code = await _code(client, PHONE)
    await _change_bound_phone(account, "13600009999")
    body = {"ticket": flow["start"]["ticket"], "code": code, "id_number": ID_NUMBER}
    refused = await client.post("/api/recovery/password/verify", json=body)
    assert refused.status_code == 410 and refused.json()["error"]["code"] == "ticket_invalid"
    assert await AuditEntry.filter(action="recovery.password_verify", outcome="failure").exists()


async def test_a_reset_ticket_is_void_once_the_bound_phone_changed(client):
    tree = await make_tree()
    account = await _with_identity("lost_later", tree.own)
    reset_ticket = await _reset_ticket(client, "lost_later")
    await _change_bound_phone(account, "13600009999")
    reset = {"reset_ticket": reset_ticket, "new_password": NEW_PASSWORD}
    assert (await client.post("/api/recovery/password/reset", json=reset)).status_code == 410
    assert (await Account.get(id=account.id)).password_hash == account.password_hash


async def test_the_new_password_cannot_be_the_forgotten_one(client):
    """Whoever knew the old password (the reason for a reset, often) would otherwise stay in."""
    tree = await make_tree()
    await _with_identity("same_again", tree.own)
    reset_ticket = await _reset_ticket(client, "same_again")
    same = await client.post(
        "/api/recovery/password/reset", json={"reset_ticket": reset_ticket, "new_password": PASSWORD}
    )
    assert same.status_code == 422 and same.json()["error"]["fields"]["new_password"] == "新密码不能与原密码相同"
    fresh = {"reset_ticket": reset_ticket, "new_password": NEW_PASSWORD}
    assert (await client.post("/api/recovery/password/reset", json=fresh)).status_code == 204


def _id_numbers(count: int) -> list[str]:
    """Valid ID numbers of one birth date and place, none of them ID_NUMBER: what a guesser tries."""
    firsts = [f"11010519800101{serial:03d}" for serial in range(100, 100 + count)]
    return [first + identifiers.id_number_check_char(first) for first in firsts]


async def _identity_guesses() -> int:
    return await AuditEntry.filter(action="recovery.password_verify", outcome="failure").count()


async def test_id_numbers_guessed_in_parallel_with_one_code_are_compared_three_times_at_most(client):
    """Sent together, every guess passed the code check before any counted against the code or the
    ticket: a stolen phone alone tried as many ID numbers as it sent requests."""
    tree = await make_tree()
    await _with_identity("parallel", tree.own)
    flow = await _password_ticket(client, "parallel")
    code = await _code(client, PHONE)
    bodies = [{"ticket": flow["start"]["ticket"], "code": code, "id_number": guess} for guess in _id_numbers(8)]
    answers = await asyncio.gather(*(client.post("/api/recovery/password/verify", json=b) for b in bodies))
    assert all(a.status_code != 200 for a in answers)
    assert await _identity_guesses() <= 3


async def test_one_code_shared_by_many_tickets_compares_five_id_numbers_at_most(client):
    tree = await make_tree()
    await _with_identity("many_tickets", tree.own)
    flow = await _password_ticket(client, "many_tickets")
    code = await _code(client, PHONE)
    tickets = [flow["start"]["ticket"]]
    for _ in range(3):  # more tickets for the same user name need a captcha each, but no new code
        start = await client.post(
            "/api/recovery/password/start", json={"username": "many_tickets", **await _captcha(client)}
        )
        tickets.append(start.json()["ticket"])
    guesses = iter(_id_numbers(8))
    bodies = [{"ticket": t, "code": code, "id_number": next(guesses)} for t in tickets for _ in range(2)]
    answers = await asyncio.gather(*(client.post("/api/recovery/password/verify", json=b) for b in bodies))
    assert all(a.status_code != 200 for a in answers)
    assert await _identity_guesses() <= 5


async def test_a_unit_recovery_code_that_did_not_arrive_is_sent_again_with_the_ticket_of_the_first_send(client, clock):
    """The code button sends again with the ticket the first send answered (the page keeps no other):
    it said 410 "从头开始", and the page had no way back to the first step."""
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    await make_account("village_boss", tree.child, role="admin", phone="13600005555")
    new_phone = "13600006666"
    identity = {"identity": "legal_rep", "name": "王法人", "id_number": OTHER_ID}
    first = await _unit_recovery(client, identity, new_phone)
    assert first.status_code == 200, first.text
    clock.advance(61)  # the code button waits for resend_after
    again = await client.post(
        "/api/recovery/unit/send-code",
        json={
            "ticket": first.json()["ticket"],
            "new_agent_name": "新经办",
            "new_agent_phone": new_phone,
            **identity,
            **await _captcha(client),
        },
    )
    assert again.status_code == 200, again.text
    assert await _sms_count(new_phone) == 2
    reused = await client.post("/api/recovery/unit/verify", json={"ticket": first.json()["ticket"], "code": "000000"})
    assert reused.status_code == 410  # the first send's ticket is used up by the second
    done = await client.post(
        "/api/recovery/unit/verify", json={"ticket": again.json()["ticket"], "code": await _code(client, new_phone)}
    )
    assert done.status_code == 200 and done.json()["username"] == "village_boss"


async def test_a_unit_recovery_resend_with_a_wrong_identity_still_sends_nothing(client, clock):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    identity = {"identity": "legal_rep", "name": "王法人", "id_number": ID_NUMBER}
    first = await _unit_recovery(client, identity, "13600008888")
    clock.advance(61)
    again = await client.post(
        "/api/recovery/unit/send-code",
        json={
            "ticket": first.json()["ticket"],
            "new_agent_name": "新经办",
            "new_agent_phone": "13600008888",
            **identity,
            **await _captcha(client),
        },
    )
    assert again.status_code == 200 and set(again.json()) == set(first.json())
    assert await _sms_count("13600008888") == 0


async def _lost_ticket_answers(client, path: str, body: dict) -> None:
    await runtime.get().redis.flushdb()
    response = await client.post(path, json=body)
    assert response.status_code == 410, response.text
    assert response.json()["error"] == {
        "code": "ticket_invalid",
        "message": "操作已过期或无效，请从头开始",
        "fields": {},
    }


async def test_every_password_step_whose_ticket_a_redis_restart_lost_asks_to_start_again(client, clock):
    """(Each new start waits out the phone's 60 s between codes: the outbox keeps it across the restart.)"""
    tree = await make_tree()
    account = await _with_identity("restarted", tree.own)
    start = await client.post("/api/recovery/password/start", json={"username": "restarted", **await _captcha(client)})
    await _lost_ticket_answers(
        client, "/api/recovery/password/send-code", {"ticket": start.json()["ticket"], **await _captcha(client)}
    )
    clock.advance(60)
    flow = await _password_ticket(client, "restarted")
    verify = {"ticket": flow["start"]["ticket"], "code": await _code(client, PHONE), "id_number": ID_NUMBER}
    await _lost_ticket_answers(client, "/api/recovery/password/verify", verify)
    clock.advance(60)
    flow = await _password_ticket(client, "restarted")
    verify = {"ticket": flow["start"]["ticket"], "code": await _code(client, PHONE), "id_number": ID_NUMBER}
    reset_ticket = (await client.post("/api/recovery/password/verify", json=verify)).json()["reset_ticket"]
    await _lost_ticket_answers(
        client, "/api/recovery/password/reset", {"reset_ticket": reset_ticket, "new_password": NEW_PASSWORD}
    )
    assert (await Account.get(id=account.id)).password_hash == account.password_hash


async def test_user_name_and_unit_steps_whose_ticket_a_redis_restart_lost_ask_to_start_again(client):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    await _with_identity("by_phone", tree.child)
    sent = await client.post(
        "/api/recovery/username/by-phone/send-code", json={"phone": PHONE, **await _captcha(client)}
    )
    code = await _code(client, PHONE)
    await _lost_ticket_answers(
        client, "/api/recovery/username/by-phone/verify", {"ticket": sent.json()["ticket"], "code": code}
    )
    started = await client.post("/api/recovery/unit/start", json={"credit_code": CREDIT_CODE, **await _captcha(client)})
    identify = {
        "ticket": started.json()["ticket"],
        "identity": "legal_rep",
        "name": "王法人",
        "id_number": OTHER_ID,
        "new_agent_name": "新经办",
        "new_agent_phone": "13600006666",
        **await _captcha(client),
    }
    await _lost_ticket_answers(client, "/api/recovery/unit/send-code", identify)
    sent = await _unit_recovery(
        client, {"identity": "legal_rep", "name": "王法人", "id_number": OTHER_ID}, "13600006666"
    )
    code = await _code(client, "13600006666")
    await _lost_ticket_answers(client, "/api/recovery/unit/verify", {"ticket": sent.json()["ticket"], "code": code})
    assert not await AuditEntry.filter(action="recovery.unit_account").exists()


# R4: the per-unit limit on identity checks -----------------------------------------------------

RIGHT = {"identity": "legal_rep", "name": "王法人", "id_number": OTHER_ID}
WRONG = {"identity": "legal_rep", "name": "王法人", "id_number": ID_NUMBER}
OTHER_CREDIT_CODE = "91350100M000200365"


async def _identify(client, identity: dict, n: int, credit_code: str = CREDIT_CODE) -> httpx.Response:
    """One identity check from its own address and its own new agent's phone (``n`` tells them apart)."""
    started = await client.post("/api/recovery/unit/start", json={"credit_code": credit_code, **await _captcha(client)})
    assert started.status_code == 200, started.text
    body = {"ticket": started.json()["ticket"], "new_agent_name": "新经办", "new_agent_phone": f"1370000{n:04d}"}
    return await client.post(
        "/api/recovery/unit/send-code",
        json={**body, **identity, **await _captcha(client)},
        headers={"X-Forwarded-For": f"10.1.{n // 250}.{n % 250 + 1}"},
    )


def _refused(response: httpx.Response) -> bool:
    return response.status_code == 429 and response.json()["error"]["code"] == "unit_recovery_limit"


async def test_a_units_identity_checks_are_limited_across_addresses_and_phones(client):
    """Only addresses and phones were limited: a prober changing both compared a unit's legal
    representative's identity without bound."""
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    await make_account("village_boss", tree.child, role="admin", phone="13600005555")
    agent_guess = {"identity": "agent", "name": "某经办", "id_number": ID_NUMBER}
    for n, identity in enumerate((WRONG, agent_guess, WRONG, WRONG)):
        assert (await _identify(client, identity, n)).status_code == 200
    assert (await _identify(client, RIGHT, 4)).status_code == 200  # others' failures do not block it
    assert await _sms_count("13700000004") == 1
    refused = await _identify(client, RIGHT, 5)
    assert _refused(refused), refused.text
    assert refused.json()["error"]["message"] == "该单位今天的身份核验次数已达上限，请明天再试，或申请人工审核"
    assert await _sms_count("13700000005") == 0  # the right identity was not compared
    entry = await AuditEntry.filter(action="recovery.unit_identify").order_by("-id").first()
    assert entry.outcome == "failure" and entry.detail["reason"] == "too_many_tries"


async def test_a_right_identity_after_the_units_limit_is_refused_until_the_next_day(client, clock):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    await make_account("village_boss", tree.child, role="admin", phone="13600005555")
    for n in range(5):
        await _identify(client, WRONG, n)
    clock.advance(8 * 3600 - 1)  # 23:59:59 in Beijing (the clock starts at 16:00 there)
    assert _refused(await _identify(client, RIGHT, 5))
    clock.advance(1)  # the next day
    sent = await _identify(client, RIGHT, 6)
    assert sent.status_code == 200, sent.text
    done = await client.post(
        "/api/recovery/unit/verify", json={"ticket": sent.json()["ticket"], "code": await _code(client, "13700000006")}
    )
    assert done.status_code == 200 and done.json()["username"] == "village_boss"


async def test_the_answer_at_the_units_limit_is_the_same_whether_the_last_guess_was_right(client):
    """Were only mismatches counted, a try refused or not after the last one allowed would tell a
    prober (who need not read the new agent's phone) whether that guess was right."""
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    answers = []
    for last_guess in (WRONG, RIGHT):
        await runtime.get().redis.flushdb()
        for n in range(4):
            await _identify(client, WRONG, n)
        last = await _identify(client, last_guess, 4)
        after = [await _identify(client, guess, n) for n, guess in ((5, WRONG), (6, RIGHT))]
        answers.append((last.status_code, sorted(last.json()), [(a.status_code, a.json()) for a in after]))
    assert answers[0] == answers[1]
    assert answers[0][2][0] == answers[0][2][1] and answers[0][2][0][0] == 429


async def test_other_units_and_unknown_credit_codes_keep_their_own_limits(client):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    await Unit.filter(id=tree.own.id).update(
        credit_code=OTHER_CREDIT_CODE,
        legal_rep_name="李法人",
        legal_rep_id_index=runtime.get().vault.index("id_number", ID_NUMBER),
    )
    for n in range(5):
        await _identify(client, WRONG, n)
    assert _refused(await _identify(client, RIGHT, 5))
    other = await _identify(
        client, {"identity": "legal_rep", "name": "李法人", "id_number": ID_NUMBER}, 6, OTHER_CREDIT_CODE
    )
    assert other.status_code == 200 and await _sms_count("13700000006") == 1
    # A credit code no unit has answers as a unit does, its refusal included.
    unknown = [await _identify(client, WRONG, 10 + n, "91110000MA00000077") for n in range(6)]
    assert [a.status_code for a in unknown] == [200] * 5 + [429] and _refused(unknown[-1])


async def test_tries_the_captcha_refuses_do_not_count_toward_the_units_limit(client):
    """Nothing is answered to a wrong captcha: counted, one solved captcha would lock a unit out."""
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    started = await client.post("/api/recovery/unit/start", json={"credit_code": CREDIT_CODE, **await _captcha(client)})
    body = {"ticket": started.json()["ticket"], "new_agent_name": "新经办", "new_agent_phone": "13700009999", **WRONG}
    for _ in range(6):
        bad = await client.post(
            "/api/recovery/unit/send-code", json={**body, "captcha_id": "x", "captcha_answer": "ABCD"}
        )
        assert bad.json()["error"]["code"] == "captcha_invalid"
    assert [(await _identify(client, WRONG, n)).status_code for n in range(6)] == [200] * 5 + [429]


async def test_identity_checks_sent_together_compare_no_more_than_the_units_limit(client):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    answers = await asyncio.gather(*(_identify(client, RIGHT, n) for n in range(10)))
    assert sum(a.status_code == 200 for a in answers) == 5
    assert sum(_refused(a) for a in answers) == 5
    assert await SmsMessage.all().count() == 5
