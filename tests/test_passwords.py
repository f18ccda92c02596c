"""P5 password policy and change, Argon2id off the event loop."""

from __future__ import annotations

import threading

import pytest

from backend.accounts.models import Account
from backend.auth.actions import REAUTH_LIMIT
from backend.core import passwords, runtime
from backend.core.audit import AuditEntry
from backend.core.passwords import generate_temporary_password, policy_problems
from tests.factories import PASSWORD, login, make_account, make_tree

NEW = "Qingshan#River7"


@pytest.mark.parametrize(
    ("candidate", "fragment"),
    [
        ("Ab1!", "长度"),
        ("Ab1!" * 9, "长度"),
        ("abcdefgh1", "三类"),
        ("ABCDEFGH", "三类"),
        ("Zhang_san9", "用户名"),
        ("X13812345678y", "手机"),
        ("Password123", "常见"),
        ("Aa123456", "常见"),
        ("P@ssw0rd", "常见"),
        ("村务Tong2026!", "字母、数字和常见符号"),
    ],
)
def test_policy_refuses_weak_passwords_with_a_reason(candidate: str, fragment: str):
    problems = policy_problems(candidate, username="zhang_san", phone="13812345678")
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize("candidate", ["Qingshan#River7", "baisha.town.2026", "8chars!A", "CUNWU-tong-88"])
def test_policy_accepts_strong_passwords(candidate: str):
    assert policy_problems(candidate, username="zhang_san", phone="13812345678") == []


def test_temporary_passwords_are_random_and_pass_the_policy():
    made = {generate_temporary_password() for _ in range(200)}
    assert len(made) == 200
    assert all(policy_problems(p) == [] for p in made)


def test_hashes_are_argon2id_with_owasp_parameters():
    encoded = passwords.hash_password_sync("Qingshan#River7")
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password_sync("Qingshan#River7", encoded)
    assert not passwords.verify_password_sync("Qingshan#River8", encoded)


async def test_hashing_runs_in_its_own_threads_not_on_the_event_loop(monkeypatch):
    seen: list[str] = []
    original = passwords.hash_password_sync

    def spy(password: str) -> str:
        seen.append(threading.current_thread().name)
        return original(password)

    monkeypatch.setattr(passwords, "hash_password_sync", spy)
    await runtime.get().hasher.hash("Qingshan#River7")
    assert seen and seen[0].startswith("argon2") and seen[0] != threading.main_thread().name


async def test_change_password_needs_the_old_one_and_the_policy(client):
    tree = await make_tree()
    await make_account("changer", tree.own)
    headers = await login(client, "changer")
    wrong_old = await client.post(
        "/api/account/password", headers=headers, json={"old_password": "Nope#1234", "new_password": "Qingshan#River7"}
    )
    assert wrong_old.json()["error"]["code"] == "old_password_wrong"
    weak = await client.post(
        "/api/account/password", headers=headers, json={"old_password": PASSWORD, "new_password": "password"}
    )
    assert weak.status_code == 422 and "new_password" in weak.json()["error"]["fields"]
    assert await login(client, "changer")  # nothing changed: the old password still works


async def test_change_password_ends_every_session_and_returns_a_new_one(client):
    tree = await make_tree()
    await make_account("rotator", tree.own)
    first = await login(client, "rotator")
    second = await login(client, "rotator")
    response = await client.post(
        "/api/account/password", headers=first, json={"old_password": PASSWORD, "new_password": "Qingshan#River7"}
    )
    assert response.status_code == 200
    fresh = {"Authorization": f"Bearer {response.json()['token']}"}
    assert (await client.get("/api/session", headers=first)).status_code == 401
    assert (await client.get("/api/session", headers=second)).status_code == 401
    assert (await client.get("/api/session", headers=fresh)).status_code == 200
    assert await login(client, "rotator", "Qingshan#River7")


async def test_must_change_session_can_do_nothing_but_change_the_password(client):
    tree = await make_tree()
    await make_account("newbie", tree.own, role="admin", must_change=True)
    headers = await login(client, "newbie")
    for path in ("/api/units/", "/api/accounts/", "/api/sessions", "/api/audit/"):
        blocked = await client.get(path, headers=headers)
        assert blocked.status_code == 403, path
        assert blocked.json()["error"]["code"] == "password_change_required"
    assert (await client.get("/api/session", headers=headers)).json()["must_change_password"] is True
    changed = await client.post(
        "/api/account/password", headers=headers, json={"old_password": PASSWORD, "new_password": "Qingshan#River7"}
    )
    fresh = {"Authorization": f"Bearer {changed.json()['token']}"}
    assert (await client.get("/api/units/", headers=fresh)).status_code == 200


async def test_guessing_the_old_password_is_capped_per_account(client, clock):
    """A stolen session must not try old passwords without end to take the account over."""
    tree = await make_tree()
    await make_account("guessed", tree.own)
    headers = await login(client, "guessed")
    for n in range(5):
        wrong = await client.post(
            "/api/account/password", headers=headers, json={"old_password": f"Guess#{n}x", "new_password": NEW}
        )
        assert wrong.json()["error"]["code"] == "old_password_wrong"
    capped = await client.post(
        "/api/account/password", headers=headers, json={"old_password": PASSWORD, "new_password": NEW}
    )
    assert capped.status_code == 429
    clock.advance(15 * 60)
    assert (
        await client.post(
            "/api/account/password", headers=headers, json={"old_password": PASSWORD, "new_password": NEW}
        )
    ).status_code == 200


async def test_new_passwords_refused_by_the_policy_do_not_use_up_the_tries(client):
    tree = await make_tree()
    await make_account("picky", tree.own)
    headers = await login(client, "picky")
    for weak in ("password1", "12345678", "abcdefgh", "Picky#2026x", "short", "aaaaaaaaaa"):
        refused = await client.post(
            "/api/account/password", headers=headers, json={"old_password": PASSWORD, "new_password": weak}
        )
        assert refused.status_code == 422, weak
    done = await client.post(
        "/api/account/password", headers=headers, json={"old_password": PASSWORD, "new_password": NEW}
    )
    assert done.status_code == 200


async def test_a_wrong_old_password_is_audited(client):
    tree = await make_tree()
    account = await make_account("watched", tree.own)
    headers = await login(client, "watched")
    await client.post("/api/account/password", headers=headers, json={"old_password": "Nope#1234", "new_password": NEW})
    entry = await AuditEntry.get(action="auth.change_password", actor_account_id=account.id)
    assert entry.outcome == "failure"


async def test_changing_the_password_of_an_account_without_one_says_to_set_one_and_uses_no_try(client):
    """A card login made the account: "修改密码" answered 「原密码不正确」 whatever was typed, and took a
    password try each time (five barred the phone change and this page for 15 minutes)."""
    tree = await make_tree()
    account = await make_account("card_made", tree.own)
    headers = await login(client, "card_made")
    await Account.filter(id=account.id).update(password_hash=None, needs_activation=True)
    for _ in range(REAUTH_LIMIT + 1):
        refused = await client.post(
            "/api/account/password", headers=headers, json={"old_password": PASSWORD, "new_password": NEW}
        )
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "password_not_set", refused.text
        assert "设置密码" in refused.json()["error"]["message"]
    assert (await Account.get(id=account.id)).password_hash is None
    activated = await client.post("/api/profile/activate", headers=headers, json={"new_password": NEW})
    assert activated.status_code == 204, activated.text
