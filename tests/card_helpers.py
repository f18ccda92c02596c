"""Test helpers for devices, pairing and cards: a device that signs its requests, a card made by a
test issuer CA that signs in software (the PC/SC path has its own tests), and the pairing steps."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from backend.core import runtime
from backend.devices.models import Device
from backend.units.models import Unit
from card_service import protocol
from card_service.fakes.card_ca import CardAuthority, CardIdentity


@dataclass
class SigningDevice:
    """An office PC's key, signing requests like the card service does."""

    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    timestamp: float | None = None  # None: the backend's (frozen) clock

    @property
    def public_raw(self) -> bytes:
        return self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def public_key(self) -> str:
        return protocol.b64url(self.public_raw)

    @property
    def device_id(self) -> str:
        return protocol.device_id(self.public_raw)

    def headers(self, method: str, path: str, body: bytes = b"", *, nonce: str | None = None) -> dict[str, str]:
        timestamp = int(self.timestamp if self.timestamp is not None else runtime.get().clock.timestamp())
        nonce = nonce or protocol.b64url(secrets.token_bytes(16))
        signature = self.key.sign(protocol.request_payload(method, path, body, timestamp, nonce))
        return {
            protocol.HEADER_DEVICE: self.device_id,
            protocol.HEADER_TIMESTAMP: str(timestamp),
            protocol.HEADER_NONCE: nonce,
            protocol.HEADER_SIGNATURE: protocol.b64url(signature),
        }

    async def request(
        self, client: httpx.AsyncClient, method: str, path: str, payload: Any = None, **kwargs: Any
    ) -> httpx.Response:
        body = b"" if payload is None else json.dumps(payload).encode()
        headers = {"content-type": "application/json"} if payload is not None else {}
        headers |= self.headers(method, path, body)
        return await client.request(method, path, content=body, headers=headers, **kwargs)


async def enrolled_device(unit: Unit, *, name: str = "村委会办公室电脑") -> SigningDevice:
    """A device written straight into the database (set-up, not the behaviour under test)."""
    device = SigningDevice()
    await Device.create(
        device_id=device.device_id,
        public_key=device.public_key,
        name=name,
        hostname="PC-01",
        unit_id=unit.id,
        enrolled_at=runtime.get().clock.now(),
    )
    return device


@dataclass
class SoftwareCard:
    """A card's 9A key and certificate, signing in software."""

    identity: CardIdentity
    certificate: bytes
    key: ec.EllipticCurvePrivateKey

    def answer(self, challenge: dict[str, Any], *, to_sign: bytes | None = None) -> dict[str, Any]:
        message = to_sign if to_sign is not None else protocol.b64url_decode(challenge["to_sign"])
        digest = hashlib.sha256(message).digest()
        signature = self.key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        return {
            "nonce": challenge["nonce"],
            "certificate": base64.b64encode(self.certificate).decode(),
            "chain": [],
            "signature": base64.b64encode(signature).decode(),
        }


def issue_card(
    authority: CardAuthority,
    identity: CardIdentity,
    *,
    now: datetime | None = None,
    valid_days: int = 365,
    digital_signature: bool = True,
) -> SoftwareCard:
    key = ec.generate_private_key(ec.SECP256R1())
    start = (now or runtime.get().clock.now()) - timedelta(days=1)
    certificate = authority.issue(
        identity,
        key.public_key(),
        not_before=start,
        not_after=start + timedelta(days=valid_days),
        digital_signature=digital_signature,
    )
    return SoftwareCard(identity=identity, certificate=certificate.public_bytes(serialization.Encoding.DER), key=key)


async def start_pairing(client: httpx.AsyncClient, device: SigningDevice, action: str) -> dict[str, Any]:
    response = await device.request(client, "POST", "/api/pairings", {"action": action})
    assert response.status_code == 201, response.text
    return response.json()


def qr_token(pairing: dict[str, Any]) -> str:
    return pairing["qr"].removeprefix(protocol.PAIR_QR_PREFIX)


async def scan_and_confirm(
    client: httpx.AsyncClient, pairing: dict[str, Any], phone: dict[str, str] | None = None
) -> str:
    """The phone's part up to confirmation; returns its phone key."""
    scanned = await client.post("/api/pairings/scan", json={"token": qr_token(pairing)}, headers=phone or {})
    assert scanned.status_code == 200, scanned.text
    phone_key = scanned.json()["phone_key"]
    confirmed = await client.post(f"/api/pairings/{pairing['pairing_id']}/confirm", json={"phone_key": phone_key})
    assert confirmed.status_code == 200, confirmed.text
    return phone_key


async def card_step(
    client: httpx.AsyncClient, device: SigningDevice, pairing_id: str, card: SoftwareCard
) -> httpx.Response:
    """The PC's part after confirmation: challenge, the card signs, submit."""
    challenge = await device.request(client, "POST", f"/api/pairings/{pairing_id}/challenge")
    assert challenge.status_code == 200, challenge.text
    return await device.request(client, "POST", f"/api/pairings/{pairing_id}/card", card.answer(challenge.json()))
