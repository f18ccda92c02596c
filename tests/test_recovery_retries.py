"""Recovery steps sent again after their answer was lost (a weak rural network)."""

from __future__ import annotations

from backend.accounts.models import Account
from backend.units.models import Unit
from tests.factories import make_tree
from tests.test_recovery import (
    CREDIT_CODE,
    ID_NUMBER,
    NEW_PASSWORD,
    OTHER_ID,
    PHONE,
    _captcha,
    _code,
    _password_ticket,
    _with_identity,
)

VERIFY = "/api/recovery/password/verify"
RESET = "/api/recovery/password/reset"


async def _verify_body(client, username: str) -> dict:
    flow = await _password_ticket(client, username)
    return {"ticket": flow["start"]["ticket"], "code": await _code(client, PHONE), "id_number": ID_NUMBER}


async def test_a_verify_sent_again_after_its_answer_was_lost_gets_the_same_reset_ticket(client, clock):
    """The reset ticket was lost on the way back: the resend was told to start again (a new captcha,
    a new SMS after a minute's wait, one more of the phone's ten a day)."""
    tree = await make_tree()
    account = await _with_identity("weak_network", tree.own)
    body = await _verify_body(client, "weak_network")
    first = await client.post(VERIFY, json=body)
    assert first.status_code == 200, first.text
    clock.advance(40)
    again = await client.post(VERIFY, json=body)
    assert again.status_code == 200, again.text
    assert again.json() == {"reset_ticket": first.json()["reset_ticket"], "expires_in": 15 * 60 - 40}
    reset = await client.post(RESET, json={"reset_ticket": again.json()["reset_ticket"], "new_password": NEW_PASSWORD})
    assert reset.status_code == 204
    assert (await Account.get(id=account.id)).password_hash != account.password_hash


async def test_a_verify_sent_again_with_another_code_or_id_number_gets_no_reset_ticket(client):
    tree = await make_tree()
    await _with_identity("other_guess", tree.own)
    body = await _verify_body(client, "other_guess")
    assert (await client.post(VERIFY, json=body)).status_code == 200
    wrong_code = f"{(int(body['code']) + 1) % 10**6:06d}"
    for changed in ({"code": wrong_code}, {"id_number": OTHER_ID}):
        refused = await client.post(VERIFY, json={**body, **changed})
        assert refused.status_code == 410 and refused.json()["error"]["code"] == "ticket_invalid"


async def test_a_used_step_ticket_is_compared_with_a_few_resends_only(client):
    """Whoever holds a used step ticket cannot guess the code and ID number it was verified with."""
    tree = await make_tree()
    await _with_identity("few_checks", tree.own)
    body = await _verify_body(client, "few_checks")
    assert (await client.post(VERIFY, json=body)).status_code == 200
    for guess in range(5):
        assert (await client.post(VERIFY, json={**body, "code": f"{guess:06d}"})).status_code == 410
    assert (await client.post(VERIFY, json=body)).status_code == 410


async def test_a_verify_sent_again_once_its_reset_ticket_was_used_or_expired_asks_to_start_again(client, clock):
    tree = await make_tree()
    await _with_identity("too_late", tree.own)
    body = await _verify_body(client, "too_late")
    first = await client.post(VERIFY, json=body)
    reset = {"reset_ticket": first.json()["reset_ticket"], "new_password": NEW_PASSWORD}
    assert (await client.post(RESET, json=reset)).status_code == 204
    used = await client.post(VERIFY, json=body)
    assert used.status_code == 410 and used.json()["error"]["code"] == "ticket_invalid"
    clock.advance(61)
    body = await _verify_body(client, "too_late")
    assert (await client.post(VERIFY, json=body)).status_code == 200
    clock.advance(15 * 60 + 1)
    assert (await client.post(VERIFY, json=body)).status_code == 410


async def test_a_user_name_lookup_sent_again_after_its_answer_was_lost_lists_the_accounts_again(client):
    tree = await make_tree()
    await _with_identity("lookup_again", tree.own)
    started = await client.post(
        "/api/recovery/username/by-phone/send-code", json={"phone": PHONE, **await _captcha(client)}
    )
    body = {"ticket": started.json()["ticket"], "code": await _code(client, PHONE)}
    first = await client.post("/api/recovery/username/by-phone/verify", json=body)
    assert first.status_code == 200, first.text
    again = await client.post("/api/recovery/username/by-phone/verify", json=body)
    assert again.status_code == 200 and again.json() == first.json()
    wrong = {**body, "code": f"{(int(body['code']) + 1) % 10**6:06d}"}
    assert (await client.post("/api/recovery/username/by-phone/verify", json=wrong)).status_code == 410


async def test_a_user_name_lookup_by_unit_sent_again_after_its_answer_was_lost_lists_the_accounts_again(client):
    tree = await make_tree()
    await Unit.filter(id=tree.own.id).update(credit_code=CREDIT_CODE)
    await _with_identity("unit_again", tree.own)
    started = await client.post(
        "/api/recovery/username/by-unit/send-code",
        json={
            "credit_code": CREDIT_CODE,
            "name": "测试unit_again",
            "id_number": ID_NUMBER,
            "phone": PHONE,
            **await _captcha(client),
        },
    )
    body = {"ticket": started.json()["ticket"], "code": await _code(client, PHONE)}
    first = await client.post("/api/recovery/username/by-unit/verify", json=body)
    assert [a["username"] for a in first.json()["accounts"]] == ["unit_again"]
    again = await client.post("/api/recovery/username/by-unit/verify", json=body)
    assert again.status_code == 200 and again.json() == first.json()


async def test_a_code_sent_again_late_in_the_step_can_be_used_for_the_five_minutes_it_was_given(client, clock):
    """The send answered "valid 5 minutes" while the step's ticket, ten minutes from the user name,
    ran out sooner: a slow SMS resent at minute nine, and the verify said to start again."""
    tree = await make_tree()
    await _with_identity("slow_sms", tree.own)
    flow = await _password_ticket(client, "slow_sms")
    clock.advance(9 * 60)
    resend = {"ticket": flow["start"]["ticket"], **await _captcha(client)}
    sent = await client.post("/api/recovery/password/send-code", json=resend)
    assert sent.status_code == 200 and sent.json()["expires_in"] == 5 * 60
    clock.advance(4 * 60)
    body = {"ticket": flow["start"]["ticket"], "code": await _code(client, PHONE), "id_number": ID_NUMBER}
    verified = await client.post(VERIFY, json=body)
    assert verified.status_code == 200, verified.text
