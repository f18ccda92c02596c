"""R1: SMS codes and their limits, and single-use tickets, against real Redis with a moved clock."""

from __future__ import annotations

import asyncio
import re

import pytest

from backend.core import captcha, runtime, sms_codes, tickets
from backend.core.actor import Origin
from backend.core.errors import AppError
from backend.core.sms import SmsMessage, inbox

PHONE = "13700001111"


async def _captcha() -> tuple[str, str]:
    issued = await captcha.issue()
    return issued.captcha_id, await captcha.peek_answer(issued.captcha_id) or ""


async def _send(
    phone: str = PHONE,
    purpose: str = "password_reset",
    ip: str = "10.1.1.1",
    deliver: bool = True,
    conceal_recipient: bool = False,
):
    captcha_id, answer = await _captcha()
    return await sms_codes.send_code(
        phone,
        purpose,
        origin=Origin(ip=ip),
        captcha_id=captcha_id,
        captcha_answer=answer,
        deliver=deliver,
        conceal_recipient=conceal_recipient,
    )


async def _last_code(phone: str = PHONE) -> str:
    text = (await inbox(phone))[0]["text"]
    match = re.search(r"验证码为 (\d{6})", text)
    assert match, text
    return match.group(1)


async def _error_code(coro) -> str:
    with pytest.raises(AppError) as raised:
        await coro
    return raised.value.code


async def test_code_is_six_digits_sent_once_and_kept_only_as_a_hash():
    await _send()
    code = await _last_code()
    assert re.fullmatch(r"\d{6}", code)
    stored = [await runtime.get().redis.hgetall(k) async for k in runtime.get().redis.scan_iter("smscode:*")]
    assert code not in str(stored)
    await sms_codes.check_code(PHONE, "password_reset", code)
    assert await _error_code(sms_codes.check_code(PHONE, "password_reset", code)) == "sms_code_void"


async def test_code_of_one_purpose_does_not_work_for_another():
    await _send(purpose="password_reset")
    code = await _last_code()
    assert await _error_code(sms_codes.check_code(PHONE, "username_lookup", code)) == "sms_code_void"


async def test_code_expires_after_five_minutes(clock):
    await _send()
    code = await _last_code()
    clock.advance(5 * 60 + 1)
    assert await _error_code(sms_codes.check_code(PHONE, "password_reset", code)) == "sms_code_void"


async def test_five_wrong_tries_void_the_code():
    await _send()
    code = await _last_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(4):
        assert await _error_code(sms_codes.check_code(PHONE, "password_reset", wrong)) == "sms_code_wrong"
    assert await _error_code(sms_codes.check_code(PHONE, "password_reset", wrong)) == "sms_code_void"
    assert await _error_code(sms_codes.check_code(PHONE, "password_reset", code)) == "sms_code_void"


async def test_resend_only_after_sixty_seconds(clock):
    await _send()
    assert await _error_code(_send()) == "sms_cooldown"
    clock.advance(59)
    assert await _error_code(_send()) == "sms_cooldown"
    clock.advance(1)
    await _send()
    assert len(await inbox(PHONE)) == 2


async def test_a_new_code_replaces_the_old_one(clock):
    await _send()
    old = await _last_code()
    clock.advance(60)
    await _send()
    new = await _last_code()
    if old != new:
        assert await _error_code(sms_codes.check_code(PHONE, "password_reset", old)) == "sms_code_wrong"
    await sms_codes.check_code(PHONE, "password_reset", new)


async def test_parallel_sends_to_one_phone_let_only_one_through():
    answers = [await _captcha() for _ in range(8)]
    results = await asyncio.gather(
        *[
            sms_codes.send_code(
                PHONE,
                "password_reset",
                origin=Origin(ip=f"10.2.0.{n}"),
                captcha_id=cid,
                captcha_answer=ans,
                deliver=True,
            )
            for n, (cid, ans) in enumerate(answers)
        ],
        return_exceptions=True,
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert await SmsMessage.all().count() == 1


async def test_at_most_ten_codes_per_phone_per_day(clock):
    for n in range(10):
        await _send(ip=f"10.3.0.{n}")
        clock.advance(61)
    assert await _error_code(_send(ip="10.3.1.1")) == "sms_daily_limit"
    clock.advance(24 * 3600)
    await _send(ip="10.3.1.2")


async def test_per_address_cap_across_phones(clock):
    for n in range(30):
        await _send(phone=f"1370000{n:04d}", ip="10.4.4.4")
    assert await _error_code(_send(phone="13799990000", ip="10.4.4.4")) == "sms_ip_limit"
    clock.advance(3600)
    await _send(phone="13799990000", ip="10.4.4.4")


async def test_wrong_captchas_do_not_use_up_the_addresss_codes():
    """The address's cap was counted before the captcha: 30 junk captchas from one carrier address
    (a whole village behind it) left no code for anyone there for an hour."""
    for _ in range(sms_codes.IP_LIMIT_PER_HOUR + 5):
        wrong = sms_codes.send_code(
            PHONE,
            "password_reset",
            origin=Origin(ip="10.4.5.6"),
            captcha_id="nope",
            captcha_answer="ABCD",
            deliver=True,
        )
        assert await _error_code(wrong) == "captcha_invalid"
    await _send(ip="10.4.5.6")
    assert len(await inbox(PHONE)) == 1


async def test_no_code_without_a_valid_captcha():
    for captcha_id, answer in [(None, None), ("nope", "ABCD")]:
        code = await _error_code(
            sms_codes.send_code(
                PHONE,
                "password_reset",
                origin=Origin(ip="10.5.5.5"),
                captcha_id=captcha_id,
                captcha_answer=answer,
                deliver=True,
            )
        )
        assert code == "captcha_invalid"
    assert not await SmsMessage.exists()


async def test_an_undelivered_code_counts_against_the_limits_all_the_same():
    await _send(deliver=False)
    assert not await SmsMessage.exists()
    assert await _error_code(_send(deliver=True)) == "sms_cooldown"


async def test_tickets_are_single_use_bound_to_a_purpose_and_expire(clock):
    token = await tickets.issue("reset", {"account_id": 7}, ttl_seconds=900)
    assert await tickets.peek(token, "reset") == {"account_id": 7}
    assert await _error_code(tickets.peek(token, "other")) == "ticket_invalid"
    assert await tickets.consume(token, "reset") == {"account_id": 7}
    assert await _error_code(tickets.consume(token, "reset")) == "ticket_invalid"
    late = await tickets.issue("reset", {}, ttl_seconds=900)
    clock.advance(901)
    assert await _error_code(tickets.consume(late, "reset")) == "ticket_invalid"


async def test_parallel_consumers_of_one_ticket_only_one_wins():
    token = await tickets.issue("reset", {"account_id": 1}, ttl_seconds=60)
    results = await asyncio.gather(*[tickets.consume(token, "reset") for _ in range(6)], return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 1


async def test_the_daily_cap_counts_a_day_of_beijing_time(clock):
    """Ten codes from 07:00 Beijing time (23:00 UTC): none more at 09:00 the same day, when the UTC
    date has turned; the next ones after midnight in Beijing."""
    clock.advance(15 * 3600)  # the clock starts at 16:00 in Beijing; now 07:00 the next day
    for n in range(10):
        await _send(ip=f"10.3.2.{n}")
        clock.advance(61)
    clock.advance(2 * 3600)
    assert await _error_code(_send(ip="10.3.3.1")) == "sms_daily_limit"
    clock.advance(15 * 3600)  # past 00:00 in Beijing
    await _send(ip="10.3.3.2")


async def test_a_redis_restart_does_not_reset_the_phones_daily_cap_or_cooldown(clock):
    """Redis's counters are gone after a restart that lost them; the outbox in the database still
    holds the day's codes, so the phone gets no eleventh code that day and no second within 60 s."""
    for n in range(10):
        await _send(ip=f"10.4.0.{n}")
        clock.advance(61)
    await runtime.get().redis.flushdb()
    assert await _error_code(_send(ip="10.4.1.1")) == "sms_daily_limit"
    assert await SmsMessage.all().count() == 10
    clock.advance(24 * 3600)  # the next day in Beijing: allowed again
    await _send(ip="10.4.1.2")
    await runtime.get().redis.flushdb()
    clock.advance(20)
    with pytest.raises(AppError) as raised:
        await _send(ip="10.4.1.3")
    assert (raised.value.code, raised.value.message) == ("sms_cooldown", "验证码发送太频繁，请 40 秒后再试")
    clock.advance(40)
    await _send(ip="10.4.1.4")
    assert await SmsMessage.all().count() == 12


async def test_where_the_flow_hides_the_phone_a_cap_known_only_from_the_outbox_answers_as_for_an_unknown_phone(clock):
    """After a Redis restart only the outbox knows a registered phone's codes; refusing it then
    (where an unknown phone, which has no outbox, passes) would tell the two apart. Both get the
    usual answer, the registered one no message, and from there Redis refuses both alike."""
    unknown = "13900000001"
    for n in range(10):
        await _send(ip=f"10.5.0.{n}", conceal_recipient=True)
        clock.advance(61)
    await runtime.get().redis.flushdb()
    held = await _send(ip="10.5.1.1", conceal_recipient=True)
    assert held.delivered is False  # the caller's audit says so; its answer does not
    await _send(unknown, ip="10.5.1.2", deliver=False, conceal_recipient=True)
    assert await SmsMessage.all().count() == 10  # no eleventh code went out
    clock.advance(20)
    assert await _error_code(_send(ip="10.5.1.3", conceal_recipient=True)) == "sms_cooldown"
    assert await _error_code(_send(unknown, ip="10.5.1.4", deliver=False, conceal_recipient=True)) == "sms_cooldown"
    assert await _error_code(_send(ip="10.5.1.5")) == "sms_daily_limit"  # a flow that does not hide it says so
    clock.advance(24 * 3600)
    assert (await _send(ip="10.5.1.6", conceal_recipient=True)).delivered is True
    assert await SmsMessage.all().count() == 11
