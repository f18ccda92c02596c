"""Review 6, finding 2: a login phone typed as it is printed or pasted (spaces, dashes, +86, full-width
digits) is that phone in password recovery and the WeChat SMS login; a user name typed exactly wins."""

from __future__ import annotations

import pytest

from backend.core import identifiers
from backend.core.sms import SmsMessage
from tests.factories import captcha, login_response, make_account, make_tree
from tests.test_wechat import bind_ticket, fake, wechat

__all__ = ["fake", "wechat"]  # the fixtures, shared with test_wechat

PHONE = "13900000010"
SPELLINGS = ["139 0000 0010", "139-0000-0010", "+86 13900000010", "86 139 0000 0010", "１３９００００００１０", PHONE]


@pytest.mark.parametrize("typed", SPELLINGS)
def test_a_typed_login_name_reads_as_the_mobile_it_spells(typed):
    assert identifiers.typed_phone(typed) == PHONE


@pytest.mark.parametrize("typed", ["clerk_01", "139-0000-001", "0871-65150432", "23900000010", "139 0000 0010 1"])
def test_a_login_name_that_spells_no_mobile_is_no_phone(typed):
    assert identifiers.typed_phone(typed) is None


@pytest.mark.parametrize("typed", SPELLINGS)
async def test_the_password_login_reads_the_login_phone_however_it_is_typed(client, typed):
    """ "139 0000 0010" with the right password answered "用户名或密码错误"."""
    tree = await make_tree()
    await make_account("village_clerk", tree.own, phone=PHONE, phone_login=True)
    answer = await login_response(client, typed)
    assert answer.status_code == 200, answer.text


async def test_the_password_login_takes_a_user_name_spelled_like_a_phone_as_that_user(client):
    tree = await make_tree()
    await make_account("phone_owner", tree.own, phone=PHONE, phone_login=True)
    await make_account("139-0000-0010", tree.own, phone="13700007777", password="Other#2026pass")
    assert (await login_response(client, "139-0000-0010", "Other#2026pass")).status_code == 200
    assert (await login_response(client, "139 0000 0010")).status_code == 200  # the phone's owner


async def _start(client, username: str) -> dict:
    captcha_id, answer = await captcha(client)
    started = await client.post(
        "/api/recovery/password/start",
        json={"username": username, "captcha_id": captcha_id, "captcha_answer": answer},
    )
    assert started.status_code == 200, started.text
    return started.json()


@pytest.mark.parametrize("typed", SPELLINGS)
async def test_recovery_reads_the_login_phone_however_it_is_typed_and_sends_the_code(client, typed):
    tree = await make_tree()
    await make_account("village_clerk", tree.own, phone=PHONE)
    started = await _start(client, typed)
    assert started["phone"] == "139****0010"
    captcha_id, answer = await captcha(client)
    sent = await client.post(
        "/api/recovery/password/send-code",
        json={"ticket": started["ticket"], "captcha_id": captcha_id, "captcha_answer": answer},
    )
    assert sent.status_code == 200, sent.text
    assert await SmsMessage.all().count() == 1  # the code reached the account's phone


async def test_an_unknown_phone_typed_with_gaps_shows_that_phone_and_sends_nothing(client):
    started = await _start(client, "+86 139 0000 0099")
    assert started["phone"] == "139****0099"


async def test_a_user_name_spelled_like_a_phone_wins_when_it_exists(client):
    """valid_username allows digits and dashes: the account named so is the one meant."""
    tree = await make_tree()
    await make_account("phone_owner", tree.own, phone=PHONE)
    await make_account("139-0000-0010", tree.own, phone="13700007777")
    assert (await _start(client, "139-0000-0010"))["phone"] == "137****7777"
    assert (await _start(client, "139 0000 0010"))["phone"] == "139****0010"


@pytest.mark.parametrize("typed", ["139 0000 0010", "+86 139-0000-0010", "１３９００００００１０"])
async def test_the_wechat_sms_login_sends_to_the_phone_however_it_is_typed(client, fake, wechat, typed):
    tree = await make_tree()
    await make_account("smsbinder", tree.own, phone=PHONE)
    ticket = await bind_ticket(client, fake, "typed")
    captcha_id, answer = await captcha(client)
    body = {"phone": typed, "captcha_id": captcha_id, "captcha_answer": answer, "wechat_bind_ticket": ticket}
    sent = await client.post("/api/wechat/sms-login/send-code", json=body)
    assert sent.status_code == 200, sent.text
    assert sent.json()["phone"] == "139****0010"
    assert await SmsMessage.all().count() == 1
