"""C3: pairing a phone with an office PC: states, single-use QR, expiry, scope, and long-poll events."""

from __future__ import annotations

import asyncio

import httpx

from backend.core.clock import FrozenClock
from backend.core.roles import Role
from tests.card_helpers import card_step, enrolled_device, qr_token, scan_and_confirm, start_pairing
from tests.factories import login, make_account, make_tree


async def test_a_pairing_moves_created_scanned_confirmed_and_both_sides_see_it(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.child, name="村委会电脑")
    pairing = await start_pairing(client, device, "login")
    assert pairing["state"] == "created" and pairing["version"] == 1
    assert len(pairing["user_code"]) == 9 and pairing["user_code"][4] == "-"
    assert len(qr_token(pairing)) >= 32  # >= 128 bits of token
    pairing_id = pairing["pairing_id"]

    scanned = await client.post("/api/pairings/scan", json={"token": qr_token(pairing)})
    assert scanned.status_code == 200
    phone = scanned.json()
    assert phone["device"] == {"name": "村委会电脑", "unit": {"id": tree.child.id, "name": "王家湾村"}}
    assert (phone["action_label"], phone["user_code"], phone["state"]) == ("卡登录", pairing["user_code"], "scanned")

    seen_by_pc = await device.request(client, "GET", f"/api/pairings/{pairing_id}/events?since=1")
    assert seen_by_pc.json()["state"] == "scanned"
    confirmed = await client.post(f"/api/pairings/{pairing_id}/confirm", json={"phone_key": phone["phone_key"]})
    assert confirmed.json()["state"] == "confirmed"
    assert confirmed.json()["confirmed_by"] is None  # an anonymous login scan
    followed = await client.get(
        f"/api/pairings/{pairing_id}/phone-events?since=2", headers={"X-Pairing-Key": phone["phone_key"]}
    )
    assert followed.json()["version"] == 3


async def test_the_pc_long_poll_returns_when_the_phone_scans(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "login")
    waiting = asyncio.create_task(
        device.request(client, "GET", f"/api/pairings/{pairing['pairing_id']}/events?since=1&wait=20")
    )
    await asyncio.sleep(0.2)
    assert not waiting.done()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await client.post("/api/pairings/scan", json={"token": qr_token(pairing)})
    answer = await asyncio.wait_for(waiting, timeout=10)
    assert answer.json()["state"] == "scanned"
    assert loop.time() - started < 5  # woken by the event, not by the 20 s timeout or a re-read


async def test_the_qr_token_works_once(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "login")
    assert (await client.post("/api/pairings/scan", json={"token": qr_token(pairing)})).status_code == 200
    second = await client.post("/api/pairings/scan", json={"token": qr_token(pairing)})
    assert (second.status_code, second.json()["error"]["code"]) == (410, "pairing_invalid")


async def test_an_unscanned_pairing_expires_after_its_two_minutes(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "login")
    clock.advance(seconds=121)
    events = await device.request(client, "GET", f"/api/pairings/{pairing['pairing_id']}/events?since=1")
    assert events.json()["state"] == "expired"
    late = await client.post("/api/pairings/scan", json={"token": qr_token(pairing)})
    assert late.status_code == 410


async def test_binding_and_realname_need_a_logged_in_phone(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    await make_account("clerk1", tree.own, Role.CLERK)
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "bind")
    anonymous = await client.post("/api/pairings/scan", json={"token": qr_token(pairing)})
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "login_required")
    # the refusal did not use up the QR
    phone_key = await scan_and_confirm(client, pairing, await login(client, "clerk1"))
    events = await client.get(
        f"/api/pairings/{pairing['pairing_id']}/phone-events", headers={"X-Pairing-Key": phone_key}
    )
    assert events.json()["confirmed_by"] == {"name": "测试clerk1", "username": "clerk1"}


async def test_a_session_that_must_change_its_password_cannot_pair_before_it_does(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    await make_account("clerk1", tree.own, Role.CLERK, must_change=True)
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "bind")
    refused = await client.post(
        "/api/pairings/scan", json={"token": qr_token(pairing)}, headers=await login(client, "clerk1")
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "password_change_required")


async def test_a_qr_scanned_by_an_account_outside_the_devices_unit_is_refused(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    await make_account("sibling1", tree.sibling, Role.ADMIN)
    await make_account("county1", tree.parent, Role.ADMIN)
    await make_account("village1", tree.child, Role.CLERK)
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "bind")
    refused = await client.post(
        "/api/pairings/scan", json={"token": qr_token(pairing)}, headers=await login(client, "sibling1")
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "pairing_outside_scope")
    # an account below the device's unit may pair, and so may one whose scope contains it
    below = await client.post(
        "/api/pairings/scan", json={"token": qr_token(pairing)}, headers=await login(client, "village1")
    )
    assert below.status_code == 200
    other = await start_pairing(client, device, "bind")
    above = await client.post(
        "/api/pairings/scan", json={"token": qr_token(other)}, headers=await login(client, "county1")
    )
    assert above.status_code == 200


async def test_only_the_scanning_phone_can_confirm_and_a_cancel_reaches_the_pc(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "login")
    pairing_id = pairing["pairing_id"]
    phone_key = (await client.post("/api/pairings/scan", json={"token": qr_token(pairing)})).json()["phone_key"]
    forged = await client.post(f"/api/pairings/{pairing_id}/confirm", json={"phone_key": "x" * 32})
    assert (forged.status_code, forged.json()["error"]["code"]) == (403, "pairing_key_invalid")
    cancelled = await client.post(f"/api/pairings/{pairing_id}/cancel", json={"phone_key": phone_key})
    assert cancelled.json()["state"] == "cancelled"
    pc = await device.request(client, "GET", f"/api/pairings/{pairing_id}/events?since=2&wait=5")
    assert pc.json()["state"] == "cancelled"
    late = await client.post(f"/api/pairings/{pairing_id}/confirm", json={"phone_key": phone_key})
    assert late.status_code == 409


async def test_another_device_cannot_follow_or_drive_a_pairing(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    intruder = await enrolled_device(tree.own, name="另一台电脑")
    pairing = await start_pairing(client, device, "login")
    await scan_and_confirm(client, pairing)
    events = await intruder.request(client, "GET", f"/api/pairings/{pairing['pairing_id']}/events")
    challenge = await intruder.request(client, "POST", f"/api/pairings/{pairing['pairing_id']}/challenge")
    assert events.status_code == 410 and challenge.status_code == 410


async def test_a_challenge_needs_the_phones_confirmation(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "login")
    early = await device.request(client, "POST", f"/api/pairings/{pairing['pairing_id']}/challenge")
    assert (early.status_code, early.json()["error"]["code"]) == (409, "pairing_not_confirmed")


async def test_a_login_qr_scanned_by_a_phone_whose_old_session_expired_still_pairs(client: httpx.AsyncClient) -> None:
    """The phone sends the token it has kept; an expired one answered 401 and sent the cadre to the
    password login, although a card login needs no session. Binding still needs a live one."""
    tree = await make_tree()
    device = await enrolled_device(tree.child)
    stale = {"Authorization": "Bearer an-expired-token-the-phone-still-keeps"}
    login_pairing = await start_pairing(client, device, "login")
    scanned = await client.post("/api/pairings/scan", json={"token": qr_token(login_pairing)}, headers=stale)
    assert scanned.status_code == 200 and scanned.json()["state"] == "scanned", scanned.text
    bind_pairing = await start_pairing(client, device, "bind")
    refused = await client.post("/api/pairings/scan", json={"token": qr_token(bind_pairing)}, headers=stale)
    assert refused.status_code == 401


async def test_a_pairing_half_done_when_redis_restarts_asks_both_sides_to_start_again_and_performs_nothing(
    client: httpx.AsyncClient, card_authority
) -> None:
    from backend.cards.models import CardBinding
    from backend.core import runtime
    from tests.test_card_auth import _clerk_and_card

    device, card = await _clerk_and_card(card_authority)
    pairing = await start_pairing(client, device, "login")
    pairing_id = pairing["pairing_id"]
    phone_key = await scan_and_confirm(client, pairing)
    challenge = await device.request(client, "POST", f"/api/pairings/{pairing_id}/challenge")
    assert challenge.status_code == 200, challenge.text
    await runtime.get().redis.flushdb()
    answered = await device.request(client, "POST", f"/api/pairings/{pairing_id}/card", card.answer(challenge.json()))
    followed = await client.get(
        f"/api/pairings/{pairing_id}/phone-events?since=3", headers={"X-Pairing-Key": phone_key}
    )
    for response in (answered, followed):
        assert response.status_code == 410, response.text
        assert response.json()["error"]["code"] == "pairing_invalid"
        assert "刷新二维码" in response.json()["error"]["message"]
    assert not await CardBinding.exists()
    again = await start_pairing(client, device, "login")  # the PC refreshes its QR: a new pairing works
    await scan_and_confirm(client, again)
    done = await card_step(client, device, again["pairing_id"], card)
    assert done.status_code == 200, done.text
    assert await CardBinding.exists()  # what the lost pairing did not do


async def test_a_pc_opening_pairings_in_a_loop_is_stopped_and_others_are_not(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """A PC could open pairings without end (a loop in its program, or its key in other hands)."""
    tree = await make_tree()
    busy, other = await enrolled_device(tree.own), await enrolled_device(tree.own)
    for _ in range(30):  # a QR code every 2 minutes for an hour is 30: ten minutes' worth is plenty
        await start_pairing(client, busy, "login")
    refused = await busy.request(client, "POST", "/api/pairings", {"action": "login"})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "pairing_throttled"
    assert "太频繁" in refused.json()["error"]["message"]
    await start_pairing(client, other, "login")  # another PC of the office is not held up
    clock.advance(600)
    await start_pairing(client, busy, "login")  # ten minutes on, it opens pairings again
