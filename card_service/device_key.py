"""The device key: an Ed25519 key made on first start, kept 0600, and the headers of a signed request.

The byte-exact definitions (device id, fingerprint, the signed string) are in ``card_service.protocol``.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from card_service import protocol
from card_service.protocol import b64url

log = logging.getLogger(__name__)

KEY_FILE = "device-key.pem"


@dataclass(frozen=True)
class DeviceKey:
    private_key: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def public_key_b64(self) -> str:
        return b64url(self.public_raw)

    @property
    def device_id(self) -> str:
        return protocol.device_id(self.public_raw)

    @property
    def fingerprint(self) -> str:
        return protocol.fingerprint(self.public_raw)

    def sign_request(
        self,
        method: str,
        path: str,
        body: bytes,
        *,
        now: Callable[[], float] = time.time,
        nonce: str | None = None,
    ) -> dict[str, str]:
        """The four X-Device-* headers for one request (a fresh 16-byte nonce unless one is given)."""
        timestamp = int(now())
        nonce = nonce or b64url(secrets.token_bytes(16))
        signature = self.private_key.sign(protocol.request_payload(method, path, body, timestamp, nonce))
        return {
            protocol.HEADER_DEVICE: self.device_id,
            protocol.HEADER_TIMESTAMP: str(timestamp),
            protocol.HEADER_NONCE: nonce,
            protocol.HEADER_SIGNATURE: b64url(signature),
        }


class DeviceKeyError(Exception):
    """The key cannot be used; ``path`` names its file, ``kind`` says why.

    ``corrupt``: the file is not a usable key; ``unreadable``: it is there but this user may not
    read it (or others may, and that cannot be changed); ``unwritable``: there is none yet and the
    folder takes no new file.
    """

    def __init__(
        self, path: Path, reason: str, *, kind: Literal["corrupt", "unreadable", "unwritable"] = "corrupt"
    ) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.kind = kind


def key_path(home: Path) -> Path:
    return home / KEY_FILE


def load_or_create(home: Path) -> tuple[DeviceKey, bool]:
    """The device key kept in ``home`` (folder 0700, file 0600); makes one on first start. Returns (key, created).

    ``DeviceKeyError`` when the file is there but unusable: it is left as it is (a restored backup
    keeps the enrolment), never silently replaced by a new key. A folder that cannot be made
    private (a read-only mount) still lends its key, unless others could write to it.
    """
    path = key_path(home)
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        _make_private(home, 0o700, tolerate_readers=True)
    except OSError as error:
        raise DeviceKeyError(path, _reason(error), kind="unwritable") from None
    try:
        exists = path.exists()
        if exists:
            return _load(path), False
    except OSError as error:
        raise DeviceKeyError(path, _reason(error), kind="unreadable") from None
    try:
        return _create(path)
    except OSError as error:
        raise DeviceKeyError(path, _reason(error), kind="unwritable") from None


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def _make_private(target: Path, mode: int, *, tolerate_readers: bool = False) -> None:
    """Take the group's and others' permissions off ``target``.

    With ``tolerate_readers`` a failure is only logged when nobody else can write there (or the
    file system is read-only): others may list the folder, but the key file itself is 0600.
    """
    current = stat.S_IMODE(target.stat().st_mode)
    if not current & 0o077:
        return
    try:
        target.chmod(mode)
    except OSError as error:
        if not tolerate_readers or (current & 0o022 and error.errno != errno.EROFS):
            raise
        log.warning("%s stays readable by other users: %s", target, _reason(error))


def _load(path: Path) -> DeviceKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise DeviceKeyError(path, "not a readable private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise DeviceKeyError(path, "not an Ed25519 key")
    _make_private(path, 0o600)
    return DeviceKey(key)


def _create(path: Path) -> tuple[DeviceKey, bool]:
    """A new key, written whole to a private temporary file and then linked into place.

    The link is atomic and never replaces a file: a crash leaves no half key, and of two services
    started at once the second reads the first one's key.
    """
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # 0600 from its first byte
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _load(path), False
    finally:
        temporary.unlink(missing_ok=True)
    return DeviceKey(key), True
