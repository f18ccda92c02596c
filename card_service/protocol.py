"""The byte-exact parts of docs/card-protocol.md, shared by the card service and the backend.

Standard library only, so both ends import the same definitions: device ids and fingerprints,
the string a device signs for each request, and the context a card signs for each action.
"""

from __future__ import annotations

import base64
import hashlib
import json

SIGNATURE_SCHEME = "CWT-DEVICE-1"
HEADER_DEVICE = "X-Device-Id"
HEADER_TIMESTAMP = "X-Device-Timestamp"
HEADER_NONCE = "X-Device-Nonce"
HEADER_SIGNATURE = "X-Device-Signature"
HEADER_PAIRING_KEY = "X-Pairing-Key"
SERVICE = "cunwu-tong"
ACTIONS = ("login", "bind", "realname")
ENROL_QR_PREFIX = "cwt://enrol/"
PAIR_QR_PREFIX = "cwt://pair/"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url; raises ValueError on anything else."""
    if not text or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def device_id(public_key: bytes) -> str:
    """The id a device is known by: base64url of SHA-256 of its raw Ed25519 key, 32 characters."""
    return b64url(hashlib.sha256(public_key).digest())[:32]


def fingerprint(public_key: bytes) -> str:
    """What a person compares on the PC and the phone: XXXX-XXXX-XXXX-XXXX."""
    digits = hashlib.sha256(public_key).hexdigest()[:16].upper()
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


def request_payload(method: str, path: str, body: bytes, timestamp: int, nonce: str) -> bytes:
    """The bytes a device signs for one request (path including the query string, as sent)."""
    body_hash = hashlib.sha256(body).hexdigest()
    return f"{SIGNATURE_SCHEME}\n{method.upper()}\n{path}\n{body_hash}\n{timestamp}\n{nonce}".encode()


def card_context(*, action: str, device: str, pairing: str, nonce: str) -> bytes:
    """The context a card signs (its SHA-256) for one action: canonical JSON, sorted keys."""
    context = {"action": action, "device": device, "nonce": nonce, "pairing": pairing, "service": SERVICE, "v": 1}
    return json.dumps(context, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
