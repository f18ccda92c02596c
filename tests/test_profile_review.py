"""P11 own profile under review: ID validity dates, e-mail addresses, the phone-login switch racing
a bound phone change."""

from __future__ import annotations

from backend.accounts import people
from backend.accounts.models import Account
from tests.factories import login, login_response, make_account, make_tree
from tests.test_profile import NEW_PHONE, OLD_PHONE, _confirm_phone_change, _phone_change


async def test_an_expired_or_impossible_id_validity_is_refused_and_changes_nothing(client):
    """An ID that ran out yesterday, year 1 or 9999 (long-term written the wrong way) were all
    stored as valid; today is 2026-01-05 (the frozen clock)."""
    tree = await make_tree()
    account = await make_account("holder", tree.own)
    headers = await login(client, "holder")
    for value in ("20260104", "00010101", "99991231", "20460106"):
        refused = await client.patch("/api/profile", headers=headers, json={"id_valid_until": value})
        assert refused.status_code == 422 and "id_valid_until" in refused.json()["error"]["fields"], value
    assert "00000000" in refused.json()["error"]["fields"]["id_valid_until"]  # what long-term is written as
    assert (await Account.get(id=account.id)).id_valid_until is None
    for value in ("20260105", "20460105", "00000000"):
        accepted = await client.patch("/api/profile", headers=headers, json={"id_valid_until": value})
        assert accepted.status_code == 200 and accepted.json()["id_valid_until"] == value, value


async def test_an_email_is_kept_as_seen_and_one_that_shows_as_another_is_refused(client):
    """Pasted with a space it was refused for no visible reason; a zero-width space or a
    right-to-left override inside was stored, the address shown not the one kept."""
    tree = await make_tree()
    account = await make_account("mailer", tree.own)
    headers = await login(client, "mailer")
    pasted = await client.patch("/api/profile", headers=headers, json={"email": " li@example.cn "})
    assert pasted.status_code == 200 and pasted.json()["email"] == "li@example.cn"
    hidden = await client.patch("/api/profile", headers=headers, json={"email": "wang\u200b@example.cn"})
    assert hidden.status_code == 200 and hidden.json()["email"] == "wang@example.cn"
    reversed_ = await client.patch("/api/profile", headers=headers, json={"email": "li\u202e@example.cn"})
    assert reversed_.status_code == 422 and "email" in reversed_.json()["error"]["fields"]
    assert (await Account.get(id=account.id)).email == "wang@example.cn"


async def test_an_email_at_a_chinese_domain_is_accepted_and_a_full_width_dot_is_refused(client):
    tree = await make_tree()
    account = await make_account("zhongwen", tree.own)
    headers = await login(client, "zhongwen")
    for email in ("li@例子.中国", "张三@政务.公司", "li@example.xn--fiqs8s"):
        accepted = await client.patch("/api/profile", headers=headers, json={"email": email})
        assert accepted.status_code == 200 and accepted.json()["email"] == email, email
    for email in ("li@example。cn", "li@example．com.cn", "li@example.c1"):
        refused = await client.patch("/api/profile", headers=headers, json={"email": email})
        assert refused.status_code == 422 and "email" in refused.json()["error"]["fields"], email
    assert (await Account.get(id=account.id)).email == "li@example.xn--fiqs8s"


async def test_phone_login_switched_off_during_a_phone_change_stays_off(client, monkeypatch):
    """The confirm step read the account before the switch-off committed and turned phone login
    back on, for the new phone: the owner had just switched it off (a lost phone)."""
    tree = await make_tree()
    account = await make_account("mover", tree.own, phone=OLD_PHONE)
    headers = await login(client, "mover")
    started = await _phone_change(client, headers)
    checked = people.phone_login_free

    async def switched_off_meanwhile(phone: str, **kwargs: object) -> bool:
        free = await checked(phone, **kwargs)
        switched = await client.put("/api/profile/phone-login", headers=headers, json={"enabled": False})
        assert switched.status_code == 200 and switched.json()["phone_login"] is False
        return free

    monkeypatch.setattr(people, "phone_login_free", switched_off_meanwhile)
    confirmed = await _confirm_phone_change(client, headers, started)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["phone"] == "135****2222" and confirmed.json()["phone_login"] is False
    assert (await Account.get(id=account.id)).login_phone_index is None
    assert (await login_response(client, NEW_PHONE)).status_code == 401
