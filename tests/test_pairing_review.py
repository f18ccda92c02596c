"""Review of office PCs, QR pairing and card login (C2-C5) as an attacker or an unlucky user meets
them: a deactivated holder coming back with the card, a PC revoked while the phone waits, a card
answer resent after a server error."""

from __future__ import annotations

import httpx
import pytest

from backend.accounts.models import Account, Membership
from backend.cards import actions as cards
from backend.cards.models import CardBinding
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from backend.devices.models import Device
from card_service import protocol
from card_service.fakes.card_ca import CardAuthority
from tests.card_helpers import enrolled_device, issue_card, scan_and_confirm, start_pairing
from tests.factories import fail_once, login, make_account, make_tree
from tests.test_card_auth import _clerk_and_card, card_holder_account, card_login, coop_with_code, identity


async def test_an_operator_whose_account_was_deactivated_gets_no_new_account_by_card_login(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    """The co-op's admin deactivated clerk 李四; with the operator card he logged in again at once,
    as a clerk ``<card number>`` the card login made for him in the same co-op."""
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    await make_account("coopadmin", coop, Role.ADMIN)
    clerk = await card_holder_account("clerk1", coop)
    admin = await login(client, "coopadmin")
    assert (await client.post(f"/api/accounts/{clerk.id}/deactivate", headers=admin)).status_code == 204
    accounts_before = await Account.all().count()
    device = await enrolled_device(tree.own)

    refused, pairing_id, phone_key = await card_login(
        client, device, issue_card(card_authority, identity(coop, card="66000003"))
    )
    assert refused.status_code == 403, refused.json()["result"]
    assert refused.json()["error"]["code"] == "card_account_inactive"
    assert "停用" in refused.json()["error"]["message"]
    assert await Account.all().count() == accounts_before
    assert not await CardBinding.exists()
    phone = await client.get(f"/api/pairings/{pairing_id}/phone-events", headers={"X-Pairing-Key": phone_key})
    assert (phone.json()["state"], phone.json()["error"]["code"]) == ("failed", "card_account_inactive")
    claim = await client.post(f"/api/pairings/{pairing_id}/claim", json={"phone_key": phone_key})
    assert claim.status_code == 409
    entry = await AuditEntry.get(action="auth.login", outcome="failure")
    assert entry.detail == {"method": "card", "reason": "card_account_inactive", "device": device.device_id}


async def test_a_legal_representative_whose_admin_account_was_deactivated_gets_no_new_admin_by_card(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    """The township deactivated the co-op's only admin, its legal representative; his legal-person
    card then made him a fresh admin ``<card number>_ADMIN`` of the same co-op."""
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    await make_account("townadmin", tree.own, Role.ADMIN)
    rep = await card_holder_account("coopadmin", coop)
    await Membership.filter(account_id=rep.id).update(role=Role.ADMIN)
    town = await login(client, "townadmin")
    assert (await client.post(f"/api/accounts/{rep.id}/deactivate", headers=town)).status_code == 204
    device = await enrolled_device(tree.own)

    refused, *_ = await card_login(client, device, issue_card(card_authority, identity(coop, kind="legal_rep")))
    assert refused.status_code == 403, refused.json()["result"]
    assert refused.json()["error"]["code"] == "card_account_inactive"
    assert not await Account.filter(username="88000001_ADMIN").exists()
    assert not await CardBinding.exists()


async def test_a_phone_waiting_for_the_card_of_a_pc_revoked_meanwhile_is_told_at_once(
    client: httpx.AsyncClient,
) -> None:
    """Confirmed, then the PC was revoked: every request of the PC (its card answer, its cancel) is
    refused, so the phone kept waiting for a card that could never come until the five minutes ran
    out, and then read that the QR code had expired."""
    tree = await make_tree()
    await make_account("admin1", tree.own, Role.ADMIN)
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "login")
    phone_key = await scan_and_confirm(client, pairing)
    device_pk = (await Device.get()).id
    revoked = await client.post(f"/api/devices/{device_pk}/revoke", headers=await login(client, "admin1"))
    assert revoked.status_code == 200

    path = f"/api/pairings/{pairing['pairing_id']}"
    cancel = await device.request(client, "POST", f"{path}/device-cancel", {})
    assert cancel.status_code == 403  # the PC cannot tell the phone itself
    followed = await client.get(f"{path}/phone-events?since=3&wait=0", headers={protocol.HEADER_PAIRING_KEY: phone_key})
    assert followed.status_code == 200
    assert followed.json()["state"] == "failed", followed.json()
    assert followed.json()["error"]["code"] == "device_revoked"
    assert "撤销" in followed.json()["error"]["message"]


async def test_a_card_answer_that_failed_on_a_server_error_may_be_sent_again_as_it_was(
    client: httpx.AsyncClient, card_authority: CardAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database went away while the card's binding was written: nothing was kept and the pairing
    stayed confirmed, so the card service resends the very same answer (docs: a 5xx is a lost
    answer), but its nonce had been used up: 403 card_nonce_invalid, after the PIN and the card."""
    device, card = await _clerk_and_card(card_authority)
    fail_once(monkeypatch, cards, "bind_card", ConnectionResetError("the database went away"))
    pairing = await start_pairing(client, device, "bind")
    await scan_and_confirm(client, pairing, await login(client, "clerk1"))
    path = f"/api/pairings/{pairing['pairing_id']}"
    challenge = (await device.request(client, "POST", f"{path}/challenge")).json()
    answer = card.answer(challenge)
    failed = await device.request(client, "POST", f"{path}/card", answer)
    assert failed.status_code >= 500 and not await CardBinding.exists()
    assert (await device.request(client, "GET", f"{path}/events")).json()["state"] == "confirmed"

    resent = await device.request(client, "POST", f"{path}/card", answer)
    assert resent.status_code == 200, resent.text
    assert resent.json()["state"] == "done"
    assert await CardBinding.all().count() == 1
    again = await device.request(client, "POST", f"{path}/card", answer)  # still once
    assert again.status_code in (403, 410) and await CardBinding.all().count() == 1
