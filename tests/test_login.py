"""P7 login: captcha, lockout after 5 failures for 15 minutes, per-IP throttle, same answer for all failures."""

from __future__ import annotations

import asyncio

from backend.accounts.models import Account
from backend.core import runtime
from backend.core.audit import AuditEntry
from tests.factories import PASSWORD, captcha, login_response, make_account, make_tree, phone_for


async def test_login_by_user_name_returns_a_session_with_the_only_unit_chosen(client):
    tree = await make_tree()
    await make_account("clerk1", tree.own, role="clerk")
    response = await login_response(client, "clerk1")
    assert response.status_code == 200
    body = response.json()
    assert body["token"] and body["unit"]["unit_id"] == tree.own.id
    assert body["must_change_password"] is False


async def test_login_is_case_insensitive_on_the_user_name(client):
    tree = await make_tree()
    await make_account("Clerk2", tree.own)
    assert (await login_response(client, "cLERK2")).status_code == 200


async def test_login_by_phone_works_only_where_phone_login_is_on(client):
    tree = await make_tree()
    await make_account("with_phone", tree.own, phone=phone_for(9001))
    await make_account("without_phone", tree.own, phone=phone_for(9002), phone_login=False)
    assert (await login_response(client, phone_for(9001))).status_code == 200
    refused = await login_response(client, phone_for(9002))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "login_failed"


async def test_wrong_captcha_is_refused_and_the_captcha_is_used_up(client):
    tree = await make_tree()
    await make_account("clerk3", tree.own)
    captcha_id, answer = await captcha(client)
    wrong = "AAAA" if answer != "AAAA" else "BBBB"
    body = {"login": "clerk3", "password": PASSWORD, "captcha_id": captcha_id, "captcha_answer": wrong}
    first = await client.post("/api/auth/login", json=body)
    assert first.status_code == 400 and first.json()["error"]["code"] == "captcha_invalid"
    again = await client.post("/api/auth/login", json={**body, "captcha_answer": answer})
    assert again.json()["error"]["code"] == "captcha_invalid"  # single use, even after a wrong guess


async def test_captcha_expires_after_two_minutes(client, clock):
    tree = await make_tree()
    await make_account("clerk4", tree.own)
    captcha_id, answer = await captcha(client)
    clock.advance(121)
    body = {"login": "clerk4", "password": PASSWORD, "captcha_id": captcha_id, "captcha_answer": answer}
    response = await client.post("/api/auth/login", json=body)
    assert response.json()["error"]["code"] == "captcha_invalid"


async def test_captcha_image_is_a_png(client):
    response = await client.get("/api/auth/captcha")
    image = response.json()["image"]
    assert image.startswith("data:image/png;base64,")


async def test_unknown_user_wrong_password_locked_and_deactivated_all_answer_the_same(client, clock):
    tree = await make_tree()
    await make_account("victim", tree.own)
    gone = await make_account("gone", tree.own)
    await Account.filter(id=gone.id).update(is_active=False)
    answers = []
    for name, password in [("nobody", PASSWORD), ("victim", "Wrong#pass1"), ("gone", PASSWORD)]:
        response = await login_response(client, name, password)
        answers.append((response.status_code, response.json()))
    for _ in range(4):
        await login_response(client, "victim", "Wrong#pass1")
    locked = await login_response(client, "victim", PASSWORD)  # right password, but locked now
    answers.append((locked.status_code, locked.json()))
    assert len({str(a) for a in answers}) == 1
    assert answers[0][0] == 401 and answers[0][1]["error"]["code"] == "login_failed"


async def test_five_failures_lock_the_account_for_fifteen_minutes(client, clock):
    tree = await make_tree()
    await make_account("locky", tree.own)
    for _ in range(5):
        assert (await login_response(client, "locky", "Wrong#pass1")).status_code == 401
    assert (await login_response(client, "locky")).status_code == 401
    clock.advance(14 * 60 + 59)
    assert (await login_response(client, "locky")).status_code == 401
    clock.advance(2)
    assert (await login_response(client, "locky")).status_code == 200


async def test_four_failures_then_success_resets_the_count(client):
    tree = await make_tree()
    await make_account("careful", tree.own)
    for _ in range(4):
        await login_response(client, "careful", "Wrong#pass1")
    assert (await login_response(client, "careful")).status_code == 200
    for _ in range(4):
        await login_response(client, "careful", "Wrong#pass1")
    assert (await login_response(client, "careful")).status_code == 200


async def test_failures_and_successes_are_audited_without_the_password(client):
    tree = await make_tree()
    account = await make_account("audited", tree.own)
    await login_response(client, "audited", "Wrong#pass1")
    await login_response(client, "audited")
    entries = await AuditEntry.filter(action="auth.login", actor_account_id=account.id).order_by("id")
    assert [e.outcome for e in entries] == ["failure", "success"]
    assert entries[0].ip == "10.0.0.1"
    assert "Wrong#pass1" not in str([e.detail for e in entries])


async def test_per_ip_throttle_stops_a_flood_from_one_address_but_not_others(client, clock):
    tree = await make_tree()
    await make_account("throttled", tree.own)
    for _ in range(30):
        await login_response(client, "nobody", "x", ip="10.9.9.9")
    flooded = await login_response(client, "throttled", ip="10.9.9.9")
    assert flooded.status_code == 429 and flooded.json()["error"]["code"] == "login_throttled"
    assert (await login_response(client, "throttled", ip="10.9.9.10")).status_code == 200
    clock.advance(61)
    assert (await login_response(client, "throttled", ip="10.9.9.9")).status_code == 200


async def test_account_with_several_units_must_choose_one_before_working(client):
    tree = await make_tree()
    account = await make_account("agent", tree.child, role="clerk")
    from backend.accounts.models import Membership

    await Membership.create(
        account_id=account.id, unit_id=tree.sibling.id, role="viewer", created_at=account.created_at
    )
    response = await login_response(client, "agent")
    body = response.json()
    assert body["unit"] is None and len(body["units"]) == 2
    headers = {"Authorization": f"Bearer {body['token']}"}
    blocked = await client.get("/api/units/", headers=headers)
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "unit_choice_required"
    sibling_membership = next(u for u in body["units"] if u["unit_id"] == tree.sibling.id)
    chosen = await client.post("/api/session/unit", json={"membership_id": sibling_membership["id"]}, headers=headers)
    assert chosen.status_code == 200 and chosen.json()["unit"]["unit_id"] == tree.sibling.id
    listed = await client.get("/api/units/", headers=headers)
    assert [u["id"] for u in listed.json()["items"]] == [tree.sibling.id]


async def test_choosing_a_unit_of_another_account_is_not_found(client):
    tree = await make_tree()
    await make_account("one", tree.own)
    await make_account("two", tree.child)
    from backend.accounts.models import Membership

    other = await Membership.get(account__username_key="two")
    response = await login_response(client, "one")
    headers = {"Authorization": f"Bearer {response.json()['token']}"}
    refused = await client.post("/api/session/unit", json={"membership_id": other.id}, headers=headers)
    assert refused.status_code == 404


async def test_captcha_requests_are_capped_per_address(client, clock):
    for _ in range(60):
        assert (await client.get("/api/auth/captcha", headers={"X-Forwarded-For": "10.7.7.7"})).status_code == 200
    capped = await client.get("/api/auth/captcha", headers={"X-Forwarded-For": "10.7.7.7"})
    assert capped.status_code == 429
    assert (await client.get("/api/auth/captcha", headers={"X-Forwarded-For": "10.7.7.8"})).status_code == 200
    clock.advance(60)
    assert (await client.get("/api/auth/captcha", headers={"X-Forwarded-For": "10.7.7.7"})).status_code == 200


async def test_a_right_password_checked_while_the_account_got_locked_is_refused(client, monkeypatch):
    """Five wrong guesses lock the account while a sixth (the right one) is being checked: the
    sixth must not get in on what it read before the lock."""
    tree = await make_tree()
    account = await make_account("raced", tree.own)
    hasher = runtime.get().hasher
    original = hasher.verify
    checking = asyncio.Event()

    async def verify(password: str, encoded: str | None) -> bool:
        result = await original(password, encoded)
        if password == PASSWORD:  # the right guess finishes only after the wrong ones locked the account
            checking.set()
            for _ in range(500):
                if (await Account.get(id=account.id)).locked_until is not None:
                    break
                await asyncio.sleep(0.01)
        return result

    monkeypatch.setattr(hasher, "verify", verify)
    right = asyncio.create_task(login_response(client, "raced", ip="10.6.6.1"))
    await asyncio.wait_for(checking.wait(), 10)
    for _ in range(5):
        assert (await login_response(client, "raced", "Wrong#pass1", ip="10.6.6.2")).status_code == 401
    response = await right
    assert response.status_code == 401 and response.json()["error"]["code"] == "login_failed"


async def test_captcha_typed_with_a_chinese_input_method_full_width_or_lower_case_is_accepted(client):
    """A Chinese input method in full-width mode types "ＡＢ３Ｄ" for "AB3D"."""
    tree = await make_tree()
    await make_account("typist", tree.own)
    for typed in (lambda a: "".join(chr(ord(c) + 0xFEE0) for c in a), lambda a: f" {a.lower()} "):
        captcha_id, answer = await captcha(client)
        body = {"login": "typist", "password": PASSWORD, "captcha_id": captcha_id, "captcha_answer": typed(answer)}
        assert (await client.post("/api/auth/login", json=body)).status_code == 200


async def test_spaces_around_a_pasted_user_name_or_phone_do_not_fail_the_login(client):
    tree = await make_tree()
    await make_account("pasted", tree.own, phone=phone_for(9003))
    assert (await login_response(client, " pasted ")).status_code == 200
    assert (await login_response(client, f"{phone_for(9003)}\n")).status_code == 200
    # a zero-width space or a byte order mark pasted from a WeChat message along with the name
    assert (await login_response(client, "\ufeffpast\u200bed")).status_code == 200


async def test_a_login_name_longer_than_any_user_name_is_a_wrong_login_not_a_server_error(client):
    """33 to 64 characters passed the request's check and overflowed the user-name lookup: 500."""
    tree = await make_tree()
    await make_account("clerk1", tree.own)
    for name in ("x" * 33, "x" * 64, "clerk1" + " " * 40 + "x"):
        response = await login_response(client, name)
        assert response.status_code == 401, (name, response.text)
        assert response.json()["error"]["code"] == "login_failed"
    assert await AuditEntry.filter(action="auth.login").count() == 3  # each a failure, audited


async def test_a_user_name_typed_in_full_width_logs_in(client):
    """A Chinese input method in full-width mode types "ＣＬＥＲＫ１": its phone digits were folded, its letters not."""
    tree = await make_tree()
    await make_account("clerk1", tree.own)
    assert (await login_response(client, "ＣＬＥＲＫ１")).status_code == 200
