"""Personal data at rest: AES-GCM encryption and a keyed HMAC index for exact lookup.

Each value is bound to its field name (associated data), so a ciphertext moved into another
column does not decrypt. The index is an HMAC-SHA256 of the normalised value under a separate key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"


class Vault:
    def __init__(self, data_key: bytes, index_key: bytes) -> None:
        self._aead = AESGCM(data_key)
        self._index_key = index_key

    def encrypt(self, field: str, value: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, value.encode(), field.encode())
        return base64.b64encode(_VERSION + nonce + sealed).decode()

    def decrypt(self, field: str, token: str) -> str:
        raw = base64.b64decode(token)
        if raw[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        return self._aead.decrypt(raw[1:13], raw[13:], field.encode()).decode()

    def index(self, field: str, value: str) -> str:
        normalised = value.strip().upper()
        return hmac.new(self._index_key, f"{field}:{normalised}".encode(), hashlib.sha256).hexdigest()


def sha256_hex(value: str | bytes) -> str:
    data = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()
