"""Review 6, finding 4: every step of the password recovery and the WeChat SMS code is audited, the
wrong codes at verify with their count and the voiding; never a code or a phone in clear."""

from __future__ import annotations

import json

from backend.accounts.models import Account
from backend.core.audit import AuditEntry
from tests.factories import captcha, make_account, make_tree
from tests.test_wechat import bind_ticket, fake, wechat

__all__ = ["fake", "wechat"]  # the fixtures, shared with test_wechat

PHONE = "13600002222"


async def _captcha(client) -> dict[str, str]:
    captcha_id, answer = await captcha(client)
    return {"captcha_id": captcha_id, "captcha_answer": answer}


async def _start(client, username: str) -> str:
    started = await client.post("/api/recovery/password/start", json={"username": username, **await _captcha(client)})
    assert started.status_code == 200, started.text
    return started.json()["ticket"]


async def _entries(action: str) -> list[tuple[int | None, str, dict]]:
    rows = await AuditEntry.filter(action=action).order_by("id")
    return [(e.actor_account_id, e.outcome, e.detail) for e in rows]


def _no_secrets(entries: list, *secrets: str) -> None:
    text = json.dumps([e[2] for e in entries], ensure_ascii=False)
    assert not any(secret in text for secret in secrets), text


async def test_recovery_start_is_audited_for_known_unknown_and_deactivated_users(client):
    tree = await make_tree()
    known = await make_account("known_user", tree.own, phone=PHONE)
    gone = await make_account("gone_user", tree.own)
    await Account.filter(id=gone.id).update(is_active=False)
    for username in ("known_user", PHONE, "no_such_user", "gone_user"):
        await _start(client, username)
    entries = await _entries("recovery.password_start")
    assert entries == [
        (known.id, "success", {"by": "username"}),
        (known.id, "success", {"by": "phone"}),
        (None, "failure", {"by": "username", "reason": "unknown_login"}),
        (gone.id, "failure", {"by": "username", "reason": "deactivated"}),
    ]
    _no_secrets(entries, PHONE, "no_such_user")


async def test_recovery_send_code_is_audited_sent_refused_and_with_a_wrong_captcha(client):
    tree = await make_tree()
    known = await make_account("sender", tree.own, phone=PHONE)
    ticket = await _start(client, "sender")
    sent = await client.post("/api/recovery/password/send-code", json={"ticket": ticket, **await _captcha(client)})
    assert sent.status_code == 200
    again = await client.post("/api/recovery/password/send-code", json={"ticket": ticket, **await _captcha(client)})
    assert again.status_code == 429
    wrong = await client.post(
        "/api/recovery/password/send-code", json={"ticket": ticket, "captcha_id": "nope", "captcha_answer": "0000"}
    )
    assert wrong.status_code == 400
    unknown = await _start(client, "nobody_here")
    assert (
        await client.post("/api/recovery/password/send-code", json={"ticket": unknown, **await _captcha(client)})
    ).status_code == 200
    entries = await _entries("recovery.password_send_code")
    assert entries == [
        (known.id, "success", {}),
        (known.id, "failure", {"reason": "sms_cooldown"}),
        (known.id, "failure", {"reason": "captcha_invalid"}),
        (None, "failure", {"reason": "unknown_login"}),
    ]
    _no_secrets(entries, PHONE)


async def test_wrong_codes_at_verify_are_audited_with_their_count_and_the_voiding(client):
    tree = await make_tree()
    known = await make_account("guessed", tree.own, phone=PHONE)
    ticket = await _start(client, "guessed")
    assert (
        await client.post("/api/recovery/password/send-code", json={"ticket": ticket, **await _captcha(client)})
    ).status_code == 200
    codes = []
    for n in range(5):
        code = f"00000{n}"
        answer = await client.post(
            "/api/recovery/password/verify", json={"ticket": ticket, "code": code, "id_number": "11010519491231002X"}
        )
        codes.append((code, answer.json()["error"]["code"]))
    entries = await _entries("recovery.password_code")
    assert not await AuditEntry.exists(action="recovery.password_verify")  # no ID number was compared
    wrong = [code for code, error in codes if error == "sms_code_wrong"]
    assert len(entries) == 5 and all(e[0] == known.id and e[1] == "failure" for e in entries)
    assert [e[2]["wrong_codes"] for e in entries] == [1, 2, 3, 4, 5]
    assert [e[2]["reason"] for e in entries] == [error for _, error in codes]
    assert entries[-1][2]["reason"] == "sms_code_void" or len(wrong) < 5  # the fifth wrong one voids it
    _no_secrets(entries, PHONE, *(code for code, _ in codes))


async def test_the_wechat_sms_send_code_is_audited(client, fake, wechat):
    tree = await make_tree()
    known = await make_account("wxsms", tree.own, phone=PHONE)
    ticket = await bind_ticket(client, fake, "wxsms")
    for phone in (PHONE, "13900009999"):
        body = {"phone": phone, "wechat_bind_ticket": ticket, **await _captcha(client)}
        assert (await client.post("/api/wechat/sms-login/send-code", json=body)).status_code == 200
    body = {"phone": PHONE, "wechat_bind_ticket": ticket, **await _captcha(client)}
    assert (await client.post("/api/wechat/sms-login/send-code", json=body)).status_code == 429
    entries = await _entries("wechat.sms_send_code")
    assert entries == [
        (known.id, "success", {}),
        (None, "failure", {"reason": "unknown_phone"}),
        (known.id, "failure", {"reason": "sms_cooldown"}),
    ]
    _no_secrets(entries, PHONE, "13900009999")
