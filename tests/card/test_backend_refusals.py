"""The backend's refusals of a card answer, with the answer made by the software PIV card through
real PC/SC (pcscd + vpcd + pyscard + the card layer): an untrusted issuer, an expired certificate,
a replayed nonce and a login signature offered for a binding. The same refusals with software keys,
and the rest of the rules, are in tests/test_card_auth.py."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.accounts.models import Account
from backend.cards.models import CardBinding
from backend.core import runtime
from backend.core.clock import FrozenClock
from backend.core.config import Settings
from card_service import protocol
from card_service.card import Slot, open_piv
from card_service.fakes.card_ca import CardAuthority, CardIdentity
from card_service.fakes.soft_piv import SoftPivCard
from tests.card.conftest import SoftCardFactory
from tests.card_helpers import SigningDevice, enrolled_device, scan_and_confirm, start_pairing
from tests.factories import login, make_tree
from tests.test_card_auth import card_holder_account, coop_with_code, id_number

PIN = "123456"


@pytest.fixture
def trusted(settings: Settings) -> CardAuthority:
    """The issuer the backend trusts, dated by the backend's frozen clock."""
    assert settings.card_issuer_ca is not None
    authority = CardAuthority.generate(now=runtime.get().clock.now())
    authority.save(settings.card_issuer_ca.parent)
    return authority


def make_soft_card(authority: CardAuthority, identity: CardIdentity, *, not_before: datetime) -> SoftPivCard:
    keys = {slot: ec.generate_private_key(ec.SECP256R1()) for slot in Slot}
    certificates = {
        slot: authority.issue(
            identity,
            keys[slot].public_key(),
            slot="9a" if slot is Slot.AUTHENTICATION else "9c",
            not_before=not_before,
            not_after=not_before + timedelta(days=365),
        )
        for slot in Slot
    }
    return SoftPivCard(keys=keys, certificates=certificates, pin=PIN)


def card_signs(reader: str, to_sign: bytes) -> tuple[bytes, bytes]:
    """What the card service does at the PIN prompt: the 9A certificate and its signature."""
    with open_piv(reader) as piv:
        piv.select()
        certificate = piv.read_certificate(Slot.AUTHENTICATION)
        piv.verify_pin(PIN)
        signature = piv.sign(Slot.AUTHENTICATION, hashlib.sha256(to_sign).digest())
    return certificate.public_bytes(serialization.Encoding.DER), signature


def answer(challenge: dict[str, Any], certificate: bytes, signature: bytes) -> dict[str, Any]:
    return {
        "nonce": challenge["nonce"],
        "certificate": base64.b64encode(certificate).decode(),
        "chain": [],
        "signature": base64.b64encode(signature).decode(),
    }


async def confirmed_pairing(
    client: httpx.AsyncClient, device: SigningDevice, action: str, phone: dict[str, str] | None = None
) -> tuple[str, dict[str, Any]]:
    pairing = await start_pairing(client, device, action)
    await scan_and_confirm(client, pairing, phone)
    path = f"/api/pairings/{pairing['pairing_id']}"
    challenge = await device.request(client, "POST", f"{path}/challenge")
    return path, challenge.json()


def identity_of(unit: Any, kind: str = "legal_rep") -> CardIdentity:
    return CardIdentity("88001111", "李四", id_number(1), unit.name, unit.credit_code, kind)  # type: ignore[arg-type]


async def test_cards_of_an_untrusted_issuer_or_out_of_date_are_refused_through_pcsc(
    client: httpx.AsyncClient, trusted: CardAuthority, clock: FrozenClock, soft_card: SoftCardFactory
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    stranger = CardAuthority.generate(name="陌生发卡机构", now=clock.now())
    cases = {
        "card_untrusted": make_soft_card(stranger, identity_of(coop), not_before=clock.now() - timedelta(days=1)),
        "card_expired": make_soft_card(trusted, identity_of(coop), not_before=clock.now() - timedelta(days=400)),
    }
    for slot, (code, card) in enumerate(cases.items()):
        reader = soft_card(card, slot=slot)
        path, challenge = await confirmed_pairing(client, device, "login")
        certificate, signature = card_signs(reader, protocol.b64url_decode(challenge["to_sign"]))
        refused = await device.request(client, "POST", f"{path}/card", answer(challenge, certificate, signature))
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, code)
    assert await Account.all().count() == 0


async def test_a_replayed_nonce_and_a_login_signature_offered_for_binding_are_refused_through_pcsc(
    client: httpx.AsyncClient, trusted: CardAuthority, clock: FrozenClock, soft_card: SoftCardFactory
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    reader = soft_card(
        make_soft_card(trusted, identity_of(coop, "operator"), not_before=clock.now() - timedelta(days=1))
    )

    path, challenge = await confirmed_pairing(client, device, "login")
    signed = answer(challenge, *card_signs(reader, protocol.b64url_decode(challenge["to_sign"])))
    assert (await device.request(client, "POST", f"{path}/card", signed)).json()["state"] == "done"
    replayed = await device.request(client, "POST", f"{path}/card", signed)
    assert (replayed.status_code, replayed.json()["error"]["code"]) == (403, "card_nonce_invalid")

    clerk = await card_holder_account("clerk1", coop)
    await CardBinding.all().delete()  # the login above bound the card to the account it created
    path, challenge = await confirmed_pairing(client, device, "bind", await login(client, "clerk1"))
    as_login = protocol.card_context(
        action="login", device=device.device_id, pairing=path.rsplit("/", 1)[-1], nonce=challenge["nonce"]
    )
    refused = await device.request(client, "POST", f"{path}/card", answer(challenge, *card_signs(reader, as_login)))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "card_signature_invalid")
    assert not await CardBinding.filter(account_id=clerk.id).exists()
