"""P11: the start of a bound phone change (password re-entry, captcha, a code to the new phone) and
what it counts against the account's password tries."""

from __future__ import annotations

from backend.accounts.models import Account
from backend.auth.actions import REAUTH_LIMIT
from backend.core.audit import AuditEntry
from backend.profile import messages as msg
from tests.factories import PASSWORD, captcha, login, make_account, make_tree
from tests.test_profile import NEW_PHONE, OLD_PHONE, _phone_change


async def _sms_to(client, phone: str) -> list[dict]:
    return (await client.get("/api/dev/sms", params={"phone": phone})).json()["messages"]


async def test_an_account_without_a_password_is_told_to_set_one_and_uses_up_no_try(client):
    """A card login made the account: no password yet. It was told 「登录密码不正确」 whatever it typed,
    and each such answer took one of its password tries (five locked the phone change for 15 minutes)."""
    tree = await make_tree()
    account = await make_account("card_made", tree.own, phone=OLD_PHONE)
    headers = await login(client, "card_made")
    await Account.filter(id=account.id).update(password_hash=None, needs_activation=True)
    for typed in [PASSWORD, "Wrong#pass1", *[PASSWORD] * REAUTH_LIMIT]:
        refused = await _phone_change(client, headers, password=typed)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == {"code": "password_not_set", "message": msg.PASSWORD_NOT_SET, "fields": {}}
    assert await _sms_to(client, NEW_PHONE) == []
    assert not await AuditEntry.filter(action="profile.phone_change").exists()
    saved = await Account.get(id=account.id)
    assert saved.phone_index == account.phone_index
    # The password it sets next works at once: none of its tries was used up.
    activated = await client.post("/api/profile/activate", headers=headers, json={"new_password": PASSWORD})
    assert activated.status_code == 204, activated.text
    started = await _phone_change(client, headers)
    assert started.status_code == 200, started.text


async def test_an_empty_password_hash_counts_as_no_password(client):
    tree = await make_tree()
    account = await make_account("blank", tree.own, phone=OLD_PHONE)
    headers = await login(client, "blank")
    await Account.filter(id=account.id).update(password_hash="")
    refused = await _phone_change(client, headers, password="")
    assert refused.status_code == 422  # an empty password is not even a request
    refused = await _phone_change(client, headers)
    assert refused.json()["error"]["code"] == "password_not_set"


async def _start_with_captcha(client, headers, *, password: str, captcha_answer: str):
    captcha_id, _ = await captcha(client)
    return await client.post(
        "/api/profile/phone/send-code",
        headers=headers,
        json={"password": password, "new_phone": NEW_PHONE, "captcha_id": captcha_id, "captcha_answer": captcha_answer},
    )


async def test_a_wrong_captcha_uses_up_no_password_try_and_changes_nothing(client):
    """The password was tried before the captcha: a mistyped captcha took a try (with the right
    password too), five of them barred the phone change, and a wrong password was told so without
    any captcha solved."""
    tree = await make_tree()
    account = await make_account("typo", tree.own, phone=OLD_PHONE)
    headers = await login(client, "typo")
    for typed in [PASSWORD, "Wrong#pass1"] * REAUTH_LIMIT:
        refused = await _start_with_captcha(client, headers, password=typed, captcha_answer="????")
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "captcha_invalid"
    assert await _sms_to(client, NEW_PHONE) == []
    assert not await AuditEntry.filter(action="profile.phone_change").exists()
    assert (await Account.get(id=account.id)).phone_index == account.phone_index
    started = await _phone_change(client, headers)
    assert started.status_code == 200, started.text


async def test_a_right_captcha_with_a_wrong_password_still_uses_up_a_try(client):
    tree = await make_tree()
    await make_account("guesser", tree.own, phone=OLD_PHONE)
    headers = await login(client, "guesser")
    for _ in range(REAUTH_LIMIT):
        wrong = await _phone_change(client, headers, password="Wrong#pass1")
        assert wrong.json()["error"]["code"] == "password_wrong"
    assert await AuditEntry.filter(action="profile.phone_change", outcome="failure").count() == REAUTH_LIMIT
    capped = await _phone_change(client, headers)
    assert capped.status_code == 429
    assert await _sms_to(client, NEW_PHONE) == []
