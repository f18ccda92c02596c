"""C5: a replacement card that takes over its holder's account at a card login ends the sessions the
old card (lost or stolen, maybe) started; those started otherwise go on."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from backend.cards.models import CardBinding
from backend.core import sessions
from backend.core.clock import FrozenClock
from backend.core.roles import Role
from backend.pairing import store as pairing_store
from card_service.fakes.card_ca import CardAuthority
from tests.card_helpers import SoftwareCard, enrolled_device, issue_card, scan_and_confirm, start_pairing
from tests.factories import fail_once, login, make_account, make_tree
from tests.test_card_auth import card_holder_account, card_login, coop_with_code, identity


async def _claimed(client: httpx.AsyncClient, device, card: SoftwareCard) -> dict[str, str]:
    """A card login and the phone's claim: the Authorization header of the session it started."""
    done, pairing_id, phone_key = await card_login(client, device, card)
    assert done.status_code == 200, done.text
    claimed = await client.post(f"/api/pairings/{pairing_id}/claim", json={"phone_key": phone_key})
    assert claimed.status_code == 200, claimed.text
    return {"Authorization": f"Bearer {claimed.json()['token']}"}


async def _alive(client: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    answer = await client.get("/api/session", headers=headers)
    assert answer.status_code in (200, 401), answer.text
    return answer.status_code == 200


async def _clerk_with_old_card(client: httpx.AsyncClient, card_authority: CardAuthority):
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    await make_account("coopadmin", coop, Role.ADMIN)
    clerk = await card_holder_account("clerk1", coop)
    device = await enrolled_device(tree.own)
    old_card = issue_card(card_authority, identity(coop, card="66000002"))
    return coop, clerk, device, old_card


async def test_a_replacement_card_ends_the_sessions_of_the_old_card_only(
    client: httpx.AsyncClient, card_authority: CardAuthority, clock: FrozenClock
) -> None:
    coop, clerk, device, old_card = await _clerk_with_old_card(client, card_authority)
    old_phone = await _claimed(client, device, old_card)
    refreshed = await client.post("/api/session/refresh", headers=await _claimed(client, device, old_card))
    assert refreshed.status_code == 200, refreshed.text
    old_pc = {"Authorization": f"Bearer {refreshed.json()['token']}"}  # a refresh keeps the card it came from
    by_password = await login(client, "clerk1")
    clock.advance(60)
    # A second holder's card in the same unit: another account, untouched.
    other_card = issue_card(card_authority, identity(coop, card="66000009", holder="王五", n=2))
    other = await _claimed(client, device, other_card)
    # Issued a day later than the old card (the holder reported it lost and got a new one).
    new_card = issue_card(card_authority, identity(coop, card="66000003"), now=clock.now() + timedelta(days=1))
    by_new_card = await _claimed(client, device, new_card)
    assert (await CardBinding.get(account_id=clerk.id)).card_number == "66000003"

    assert not await _alive(client, old_phone) and not await _alive(client, old_pc)
    assert await _alive(client, by_password) and await _alive(client, by_new_card) and await _alive(client, other)
    # For good: their end is recorded, so a Redis restored from before it brings neither back.
    live = await sessions.list_for(clerk.id)
    assert len(live) == 2
    assert await sessions.EndedSession.filter(account_id=clerk.id).count() == 3  # with the refreshed token


async def test_a_replacement_rolled_back_leaves_the_old_cards_sessions_alone(
    client: httpx.AsyncClient, card_authority: CardAuthority, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old binding's removal counts only if the card login commits; so does the end of its sessions."""
    coop, clerk, device, old_card = await _clerk_with_old_card(client, card_authority)
    old_phone = await _claimed(client, device, old_card)
    new_card = issue_card(card_authority, identity(coop, card="66000003"), now=clock.now() + timedelta(days=1))
    pairing = await start_pairing(client, device, "login")
    await scan_and_confirm(client, pairing)
    path = f"/api/pairings/{pairing['pairing_id']}"
    challenge = await device.request(client, "POST", f"{path}/challenge")
    assert challenge.status_code == 200, challenge.text
    fail_once(monkeypatch, pairing_store, "transition", ConnectionResetError("Redis went away at the move to done"))
    failed = await device.request(client, "POST", f"{path}/card", new_card.answer(challenge.json()))
    assert failed.status_code >= 500, failed.text
    assert (await CardBinding.get(account_id=clerk.id)).card_number == "66000002"
    assert await _alive(client, old_phone)


async def test_a_card_login_into_an_already_bound_account_ends_no_session(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    _coop, clerk, device, old_card = await _clerk_with_old_card(client, card_authority)
    first = await _claimed(client, device, old_card)
    second = await _claimed(client, device, old_card)
    assert await _alive(client, first) and await _alive(client, second)
    assert not await sessions.EndedSession.filter(account_id=clerk.id).exists()


async def test_an_old_card_s_login_claimed_after_the_replacement_took_over_starts_no_session(
    client: httpx.AsyncClient, card_authority: CardAuthority, clock: FrozenClock
) -> None:
    """The old card's login was done, then the new card took the binding over before the phone
    claimed: the claim would start a session the replacement's ending never saw."""
    coop, clerk, device, old_card = await _clerk_with_old_card(client, card_authority)
    done, pairing_id, phone_key = await card_login(client, device, old_card)
    assert done.status_code == 200, done.text
    new_card = issue_card(card_authority, identity(coop, card="66000003"), now=clock.now() + timedelta(days=1))
    await _claimed(client, device, new_card)
    late = await client.post(f"/api/pairings/{pairing_id}/claim", json={"phone_key": phone_key})
    assert late.status_code == 403 and late.json()["error"]["code"] == "card_replaced", late.text
    assert len(await sessions.list_for(clerk.id)) == 1  # the new card's


async def test_a_card_whose_certificate_was_renewed_still_logs_in_on_the_phone(
    client: httpx.AsyncClient, card_authority: CardAuthority, clock: FrozenClock
) -> None:
    """The same card (issuer and number) with a new certificate: the binding kept the first one's
    fingerprint, and the claim compared fingerprints: the PC said done, the phone card_replaced."""
    coop, clerk, device, old_card = await _clerk_with_old_card(client, card_authority)
    first = await _claimed(client, device, old_card)
    renewed = issue_card(card_authority, identity(coop, card="66000002"), now=clock.now() + timedelta(days=1))
    again = await _claimed(client, device, renewed)
    assert await _alive(client, first) and await _alive(client, again)
    assert len(await sessions.list_for(clerk.id)) == 2
