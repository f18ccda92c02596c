"""P7, P11: a "too many" answer says how long to wait (Retry-After and the minutes in the message)."""

from __future__ import annotations

from backend.auth import messages as msg
from backend.auth.actions import REAUTH_LIMIT, REAUTH_WINDOW_SECONDS
from backend.core.audit import AuditEntry
from tests.factories import PASSWORD, login, login_response, make_account, make_tree
from tests.test_profile import OLD_PHONE, _phone_change

NEW = "Qingshan#River7"


async def _flood(client, ip: str, times: int) -> None:
    for _ in range(times):
        await login_response(client, "nobody", "Wrong#pass1", ip=ip)


async def _throttled_entries() -> list[AuditEntry]:
    entries = await AuditEntry.filter(action="auth.login").order_by("id")
    return [e for e in entries if e.detail == {"reason": "throttled"}]


async def test_a_throttled_login_sends_retry_after_and_says_the_minutes(client, clock, settings):
    tree = await make_tree()
    await make_account("crowded", tree.own)
    window = settings.login_ip_window_seconds
    clock.advance(window - clock.timestamp() % window + 20)  # 20 s into a window
    await _flood(client, "10.8.8.8", settings.login_ip_limit)
    refused = await login_response(client, "crowded", ip="10.8.8.8")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "login_throttled"
    assert refused.headers["Retry-After"] == str(window - 20)
    assert refused.json()["error"]["message"] == msg.LOGIN_THROTTLED_FOR.format(minutes=1)
    clock.advance(window - 20)
    assert (await login_response(client, "crowded", ip="10.8.8.8")).status_code == 200


async def test_throttled_logins_are_audited_once_per_address_and_window(client, clock, settings):
    await _flood(client, "10.8.8.9", settings.login_ip_limit + 3)
    entries = await _throttled_entries()
    assert len(entries) == 1
    assert entries[0].outcome == "failure" and entries[0].ip == "10.8.8.9" and entries[0].actor_account_id is None
    clock.advance(settings.login_ip_window_seconds)
    await _flood(client, "10.8.8.9", settings.login_ip_limit + 1)
    assert len(await _throttled_entries()) == 2


async def _used_up_tries(client, clock, username: str) -> dict[str, str]:
    """Five wrong old passwords, 100 s into a window; the session's headers."""
    tree = await make_tree()
    await make_account(username, tree.own, phone=OLD_PHONE)
    clock.advance(REAUTH_WINDOW_SECONDS - clock.timestamp() % REAUTH_WINDOW_SECONDS + 100)
    headers = await login(client, username)
    for _ in range(REAUTH_LIMIT):
        wrong = await client.post(
            "/api/account/password", headers=headers, json={"old_password": "Wrong#pass1", "new_password": NEW}
        )
        assert wrong.json()["error"]["code"] == "old_password_wrong", wrong.text
    return headers


async def test_a_password_change_after_five_wrong_old_passwords_says_how_many_minutes_to_wait(client, clock):
    headers = await _used_up_tries(client, clock, "fumbler")
    refused = await client.post(
        "/api/account/password", headers=headers, json={"old_password": PASSWORD, "new_password": NEW}
    )
    assert refused.status_code == 429, refused.text
    assert refused.headers["Retry-After"] == str(REAUTH_WINDOW_SECONDS - 100)
    assert refused.json()["error"]["message"] == msg.PASSWORD_TRIES_USED_UP.format(minutes=14)
    assert "14 分钟" in refused.json()["error"]["message"]


async def test_a_phone_change_after_five_wrong_passwords_says_how_many_minutes_to_wait(client, clock):
    headers = await _used_up_tries(client, clock, "fumbler2")
    clock.advance(60)
    refused = await _phone_change(client, headers)
    assert refused.status_code == 429, refused.text
    assert refused.headers["Retry-After"] == str(REAUTH_WINDOW_SECONDS - 160)
    assert refused.json()["error"]["message"] == msg.PASSWORD_TRIES_USED_UP.format(minutes=13)
