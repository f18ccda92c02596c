"""C3: the PC drops a pairing (its user cancelled, pulled the card, or left the QR unscanned): the
pairing ends as cancelled for the phone too, with a reason it can show, and its QR stops working."""

from __future__ import annotations

import asyncio

import httpx

from backend.cards.models import CardBinding
from backend.core import runtime
from backend.core.clock import FrozenClock
from backend.pairing import store
from card_service.fakes.card_ca import CardAuthority
from tests.card_helpers import card_step, enrolled_device, qr_token, scan_and_confirm, start_pairing
from tests.factories import make_tree
from tests.test_card_auth import _clerk_and_card

CANCELLED_BY_DEVICE = {"code": "pairing_cancelled_by_device", "message": "电脑上已取消本次业务"}


async def test_a_pc_cancelling_a_confirmed_pairing_ends_the_phones_wait_with_the_reason(
    client: httpx.AsyncClient,
) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "login")
    path = f"/api/pairings/{pairing['pairing_id']}"
    phone_key = await scan_and_confirm(client, pairing)
    waiting = asyncio.create_task(
        client.get(f"{path}/phone-events?since=3&wait=20", headers={"X-Pairing-Key": phone_key})
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    cancelled = await device.request(client, "POST", f"{path}/device-cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["state"], cancelled.json()["version"]) == ("cancelled", 4)
    assert cancelled.json()["error"] == CANCELLED_BY_DEVICE
    phone = await asyncio.wait_for(waiting, timeout=10)
    assert phone.json()["state"] == "cancelled" and phone.json()["error"] == CANCELLED_BY_DEVICE
    assert loop.time() - started < 4  # woken by the change, not by the 20 s wait nor a 5 s re-read
    late = await device.request(client, "POST", f"{path}/challenge")
    assert (late.status_code, late.json()["error"]["code"]) == (410, "pairing_invalid")


async def test_a_phone_that_scanned_cannot_confirm_once_the_pc_cancelled(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "login")
    path = f"/api/pairings/{pairing['pairing_id']}"
    scanned = await client.post("/api/pairings/scan", json={"token": qr_token(pairing)})
    phone_key = scanned.json()["phone_key"]
    assert (await device.request(client, "POST", f"{path}/device-cancel")).json()["state"] == "cancelled"
    late = await client.post(f"{path}/confirm", json={"phone_key": phone_key})
    assert (late.status_code, late.json()["error"]["code"]) == (409, "pairing_state")
    events = await client.get(f"{path}/phone-events", headers={"X-Pairing-Key": phone_key})
    assert events.json()["state"] == "cancelled" and events.json()["error"] == CANCELLED_BY_DEVICE


async def test_a_qr_the_pc_took_down_cannot_be_scanned_from_a_photo(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "login")
    cancelled = await device.request(client, "POST", f"/api/pairings/{pairing['pairing_id']}/device-cancel")
    assert cancelled.json()["state"] == "cancelled"
    assert not await runtime.get().redis.exists(store.token_key(qr_token(pairing)))  # used up
    late = await client.post("/api/pairings/scan", json={"token": qr_token(pairing)})
    assert (late.status_code, late.json()["error"]["code"]) == (410, "pairing_invalid")


async def test_a_pc_cancel_sent_twice_changes_nothing_the_second_time(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "login")
    path = f"/api/pairings/{pairing['pairing_id']}/device-cancel"
    first = await device.request(client, "POST", path)
    second = await device.request(client, "POST", path)
    assert second.status_code == 200, second.text
    assert second.json() == first.json()


async def test_a_pc_cancel_of_a_pairing_that_ended_answers_its_state_and_changes_nothing(
    client: httpx.AsyncClient, card_authority: CardAuthority, clock: FrozenClock
) -> None:
    device, card = await _clerk_and_card(card_authority)
    done = await start_pairing(client, device, "login")
    await scan_and_confirm(client, done)
    assert (await card_step(client, device, done["pairing_id"], card)).status_code == 200
    answer = await device.request(client, "POST", f"/api/pairings/{done['pairing_id']}/device-cancel")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["state"], answer.json()["version"], answer.json()["error"]) == ("done", 4, None)
    assert await CardBinding.exists()

    phone_cancelled = await start_pairing(client, device, "login")
    phone_key = await scan_and_confirm(client, phone_cancelled)
    path = f"/api/pairings/{phone_cancelled['pairing_id']}"
    await client.post(f"{path}/cancel", json={"phone_key": phone_key})
    answer = await device.request(client, "POST", f"{path}/device-cancel")
    assert (answer.json()["state"], answer.json()["version"], answer.json()["error"]) == ("cancelled", 4, None)

    expired = await start_pairing(client, device, "login")
    clock.advance(seconds=121)
    answer = await device.request(client, "POST", f"/api/pairings/{expired['pairing_id']}/device-cancel")
    assert (answer.json()["state"], answer.json()["error"]) == ("expired", None)


async def test_another_pc_cannot_cancel_a_pairing(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    intruder = await enrolled_device(tree.own, name="另一台电脑")
    pairing = await start_pairing(client, device, "login")
    path = f"/api/pairings/{pairing['pairing_id']}"
    refused = await intruder.request(client, "POST", f"{path}/device-cancel")
    assert (refused.status_code, refused.json()["error"]["code"]) == (410, "pairing_invalid")  # as its other calls
    unknown = await device.request(client, "POST", "/api/pairings/no-such-pairing/device-cancel")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (410, "pairing_invalid")
    events = await device.request(client, "GET", f"{path}/events")
    assert (events.json()["state"], events.json()["version"]) == ("created", 1)
    assert (await client.post("/api/pairings/scan", json={"token": qr_token(pairing)})).status_code == 200
