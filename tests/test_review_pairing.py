"""Review of C2-C4: PC enrolment, signed device requests, pairing states and the card step, as a
cadre or an operator would meet them (races, late answers, bad keys)."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from backend.cards.models import CardBinding
from backend.core import runtime
from backend.core.audit import AuditEntry
from backend.core.clock import FrozenClock
from backend.core.roles import Role
from backend.devices.models import Device
from card_service import protocol
from card_service.fakes.card_ca import CardAuthority
from tests.card_helpers import card_step, enrolled_device, issue_card, qr_token, scan_and_confirm, start_pairing
from tests.factories import bind_card, login, make_account, make_tree, once_both_arrived
from tests.test_card_auth import coop_with_code, identity

# Ed25519 points of small order (one of them in a non-canonical encoding): for such a "public key"
# a signature made without any private key verifies (R = the identity point, s = 0).
SMALL_ORDER_KEYS = {
    "identity (order 1)": "0100000000000000000000000000000000000000000000000000000000000000",
    "order 2": "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "order 4": "0000000000000000000000000000000000000000000000000000000000000000",
    "order 8": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "identity, not reduced mod p": "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
}
FORGED_SIGNATURE = bytes.fromhex("01" + "00" * 63)  # R = identity, s = 0


def _forged_enrolment(raw_key: bytes) -> tuple[bytes, dict[str, str]] | None:
    """An enrolment request for ``raw_key`` "signed" without a private key, if one verifies."""
    key = Ed25519PublicKey.from_public_bytes(raw_key)
    body = f'{{"public_key": "{protocol.b64url(raw_key)}", "hostname": "PC"}}'.encode()
    timestamp = int(runtime.get().clock.timestamp())
    for _ in range(200):  # [k]A is the identity for at least one k in 8
        nonce = protocol.b64url(secrets.token_bytes(16))
        payload = protocol.request_payload("POST", "/api/devices/enrolments", body, timestamp, nonce)
        try:
            key.verify(FORGED_SIGNATURE, payload)
        except InvalidSignature:
            continue
        return body, {
            protocol.HEADER_DEVICE: protocol.device_id(raw_key),
            protocol.HEADER_TIMESTAMP: str(timestamp),
            protocol.HEADER_NONCE: nonce,
            protocol.HEADER_SIGNATURE: protocol.b64url(FORGED_SIGNATURE),
            "content-type": "application/json",
        }
    return None


@pytest.mark.parametrize("raw_hex", list(SMALL_ORDER_KEYS.values()), ids=list(SMALL_ORDER_KEYS))
async def test_a_small_order_public_key_whose_signatures_anyone_can_forge_is_not_enrolled(
    client: httpx.AsyncClient, raw_hex: str
) -> None:
    raw = bytes.fromhex(raw_hex)
    forged = _forged_enrolment(raw)
    assert forged is not None  # the signature checker accepts what no private key made
    body, headers = forged
    refused = await client.post("/api/devices/enrolments", content=body, headers=headers)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_input" and error["fields"] == {"public_key": "设备公钥格式不正确"}
    assert not await Device.exists()


async def test_a_challenge_for_a_pairing_the_phone_cancelled_says_it_is_over_not_to_confirm_first(
    client: httpx.AsyncClient,
) -> None:
    """The PIN screen's challenge crossed the phone's cancel: "请先在手机上确认配对" sent the cadre
    to a phone that had already declined; the PC must start again."""
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "login")
    phone_key = await scan_and_confirm(client, pairing)
    path = f"/api/pairings/{pairing['pairing_id']}"
    assert (await client.post(f"{path}/cancel", json={"phone_key": phone_key})).status_code == 200
    late = await device.request(client, "POST", f"{path}/challenge")
    assert (late.status_code, late.json()["error"]["code"]) == (410, "pairing_invalid"), late.text
    assert "刷新二维码" in late.json()["error"]["message"]


async def test_a_card_answer_arriving_after_the_confirm_window_ran_out_says_the_pairing_is_over(
    client: httpx.AsyncClient, card_authority: CardAuthority, clock: FrozenClock
) -> None:
    """The nonce (5 min from the challenge) outlives the pairing (5 min from the scan): a PIN typed
    slowly answered 409 "请先在手机上确认配对" and logged nobody in."""
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    card = issue_card(card_authority, identity(coop, kind="legal_rep"))
    pairing = await start_pairing(client, device, "login")
    await scan_and_confirm(client, pairing)
    path = f"/api/pairings/{pairing['pairing_id']}"
    clock.advance(seconds=250)
    challenge = (await device.request(client, "POST", f"{path}/challenge")).json()
    clock.advance(seconds=60)  # 310 s after the scan, 60 s after the challenge
    late = await device.request(client, "POST", f"{path}/card", card.answer(challenge))
    assert (late.status_code, late.json()["error"]["code"]) == (410, "pairing_invalid"), late.text
    assert not await CardBinding.exists()
    events = await device.request(client, "GET", f"{path}/events")
    assert events.json()["state"] == "expired"


async def test_two_admins_revoking_one_pc_at_once_revoke_it_once(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.devices import actions as devices

    tree = await make_tree()
    await make_account("admin1", tree.own, Role.ADMIN)
    await make_account("admin2", tree.parent, Role.ADMIN)
    await enrolled_device(tree.child)
    device = await Device.get()
    monkeypatch.setattr(devices, "get_device", once_both_arrived(devices.get_device))
    answers = await asyncio.gather(
        client.post(f"/api/devices/{device.id}/revoke", headers=await login(client, "admin1")),
        client.post(f"/api/devices/{device.id}/revoke", headers=await login(client, "admin2")),
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.json()["error"]["code"] == "device_revoked"
    assert await AuditEntry.filter(action="device.revoke").count() == 1


async def test_unbinding_ones_card_twice_at_once_unbinds_and_audits_once(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = await make_tree()
    account = await make_account("clerk1", tree.own, Role.CLERK)
    await bind_card(account.id, "88000001")
    phone = await login(client, "clerk1")
    monkeypatch.setattr(CardBinding, "get_or_none", once_both_arrived(CardBinding.get_or_none))
    answers = await asyncio.gather(
        client.delete("/api/profile/card", headers=phone), client.delete("/api/profile/card", headers=phone)
    )
    assert sorted(a.status_code for a in answers) == [204, 409], [a.text for a in answers]
    assert next(a for a in answers if a.status_code == 409).json()["error"]["code"] == "card_not_bound"
    assert await AuditEntry.filter(action="card.unbind").count() == 1


async def test_a_pc_revoked_while_its_qr_is_on_screen_is_told_to_the_phone_and_ends_the_pairing(
    client: httpx.AsyncClient,
) -> None:
    """The phone confirmed a pairing of a revoked PC and then waited five minutes for a card that
    could never be read; scanning such a QR said it had expired and to refresh it (the PC cannot)."""
    tree = await make_tree()
    await make_account("admin1", tree.own, Role.ADMIN)
    device = await enrolled_device(tree.own)
    scanned_first = await start_pairing(client, device, "login")
    unscanned = await start_pairing(client, device, "login")
    scan = await client.post("/api/pairings/scan", json={"token": qr_token(scanned_first)})
    phone_key = scan.json()["phone_key"]
    device_pk = (await Device.get()).id
    revoked = await client.post(f"/api/devices/{device_pk}/revoke", headers=await login(client, "admin1"))
    assert revoked.status_code == 200

    path = f"/api/pairings/{scanned_first['pairing_id']}"
    confirmed = await client.post(f"{path}/confirm", json={"phone_key": phone_key})
    assert (confirmed.status_code, confirmed.json()["error"]["code"]) == (403, "device_revoked"), confirmed.text
    assert "撤销" in confirmed.json()["error"]["message"]
    followed = await client.get(f"{path}/phone-events", headers={protocol.HEADER_PAIRING_KEY: phone_key})
    assert followed.json()["state"] == "failed"
    assert followed.json()["error"]["code"] == "device_revoked"

    refused = await client.post("/api/pairings/scan", json={"token": qr_token(unscanned)})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "device_revoked"), refused.text
    assert "撤销" in refused.json()["error"]["message"]


async def test_a_pc_approved_into_a_unit_deleted_meanwhile_is_told_the_unit_is_gone_not_already_enrolled(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.units.models import Unit
    from tests.card_helpers import SigningDevice
    from tests.factories import commits_just_before_the_next_transaction

    tree = await make_tree()
    await make_account("admin1", tree.own, Role.ADMIN)
    admin = await login(client, "admin1")
    device = SigningDevice()
    started = await device.request(
        client, "POST", "/api/devices/enrolments", {"public_key": device.public_key, "hostname": "PC"}
    )
    token = started.json()["token"]

    async def another_admin_deletes_the_village() -> None:
        await Unit.filter(id=tree.child.id).delete()

    commits_just_before_the_next_transaction(monkeypatch, another_admin_deletes_the_village)
    approved = await client.post(
        f"/api/devices/enrolments/{token}/approve", json={"name": "村委会电脑", "unit_id": tree.child.id}, headers=admin
    )
    assert (approved.status_code, approved.json()["error"]["code"]) == (404, "not_found"), approved.text
    assert not await Device.exists()


async def test_an_issuer_ca_file_that_is_not_pem_refuses_the_card_in_chinese_not_a_server_error(
    client: httpx.AsyncClient, card_authority: CardAuthority, settings
) -> None:
    """An operator pointed CARD_ISSUER_CA at the CA in DER (or a file cut short while replaced):
    every card step answered 500 and left the pairing waiting on the PC and the phone."""
    from cryptography.hazmat.primitives import serialization

    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    card = issue_card(card_authority, identity(coop, kind="legal_rep"))
    ca_file = settings.card_issuer_ca
    good = ca_file.read_bytes()
    try:
        ca_file.write_bytes(card_authority.certificate.public_bytes(serialization.Encoding.DER))
        pairing = await start_pairing(client, device, "login")
        phone_key = await scan_and_confirm(client, pairing)
        refused = await card_step(client, device, pairing["pairing_id"], card)
    finally:
        ca_file.write_bytes(good)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "card_untrusted"), refused.text
    assert "发卡机构证书" in refused.json()["error"]["message"]
    followed = await client.get(
        f"/api/pairings/{pairing['pairing_id']}/phone-events", headers={protocol.HEADER_PAIRING_KEY: phone_key}
    )
    assert followed.json()["state"] == "failed"
    assert not await CardBinding.exists()
