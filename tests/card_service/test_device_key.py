"""The device key: made once with safe modes, ids as the contract defines, signatures that verify."""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import os
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from card_service import config
from card_service.device_key import KEY_FILE, DeviceKeyError, load_or_create


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_key_is_made_once_with_private_modes(tmp_path: Path) -> None:
    home = tmp_path / "home" / "cunwu-card-service"
    key, created = load_or_create(home)
    assert created
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / KEY_FILE).stat().st_mode) == 0o600
    again, created_again = load_or_create(home)
    assert not created_again
    assert again.public_raw == key.public_raw


def test_device_id_and_fingerprint_follow_the_contract(tmp_path: Path) -> None:
    key, _ = load_or_create(tmp_path)
    digest = hashlib.sha256(key.public_raw).digest()
    assert len(key.public_raw) == 32
    assert key.device_id == base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]
    assert len(key.device_id) == 32
    hexed = digest[:8].hex().upper()
    assert key.fingerprint == f"{hexed[0:4]}-{hexed[4:8]}-{hexed[8:12]}-{hexed[12:16]}"
    assert _unb64url(key.public_key_b64) == key.public_raw


def test_signature_verifies_over_the_canonical_string(tmp_path: Path) -> None:
    key, _ = load_or_create(tmp_path)
    body = '{"hostname":"镇政府办公室"}'.encode()
    headers = key.sign_request("post", "/api/pairings?x=1", body, now=lambda: 1_800_000_000.7)
    assert headers["X-Device-Id"] == key.device_id
    assert headers["X-Device-Timestamp"] == "1800000000"
    nonce = headers["X-Device-Nonce"]
    assert len(_unb64url(nonce)) >= 16 and len(nonce) <= 64
    expected = (
        f"CWT-DEVICE-1\nPOST\n/api/pairings?x=1\n{hashlib.sha256(body).hexdigest()}\n1800000000\n{nonce}"
    ).encode()
    public = Ed25519PublicKey.from_public_bytes(key.public_raw)
    signature = _unb64url(headers["X-Device-Signature"])
    assert "=" not in headers["X-Device-Signature"]
    public.verify(signature, expected)
    with pytest.raises(InvalidSignature):
        public.verify(signature, expected.replace(b"POST", b"GET"))


def test_nonce_differs_per_request(tmp_path: Path) -> None:
    key, _ = load_or_create(tmp_path)
    nonces = {key.sign_request("GET", "/api/devices/self", b"")["X-Device-Nonce"] for _ in range(50)}
    assert len(nonces) == 50


def test_default_home() -> None:
    assert config.default_home({"CARD_SERVICE_HOME": "/srv/cs"}) == Path("/srv/cs")
    assert config.default_home({"XDG_CONFIG_HOME": "/x"}) == Path("/x/cunwu-card-service")
    assert config.default_home({}) == Path.home() / ".config" / "cunwu-card-service"
    parsed = config.parse_args(["--backend", "http://h:1/", "--proxy", "http://p:3128", "--home", "/tmp/cs"])
    assert (parsed.backend, parsed.proxy, parsed.home) == ("http://h:1", "http://p:3128", Path("/tmp/cs"))


@pytest.mark.parametrize(("given", "reader"), [(["--reader", "ACS"], "ACS"), (["--reader", " "], None), ([], None)])
def test_an_empty_reader_name_names_no_reader(given: list[str], reader: str | None) -> None:
    """ "--reader ''" matched every reader and the window said none named "" was connected."""
    assert config.parse_args(given).reader == reader


def test_a_key_write_that_fails_leaves_no_half_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the disk fills up (or the PC loses power) while the new key is written: the next start
    # must make a key, not find a truncated file it can never read
    real_fdopen = os.fdopen

    class FullDisk(io.RawIOBase):
        def __init__(self, fd: int) -> None:
            self.inner = real_fdopen(fd, "wb")

        def write(self, data: object) -> int:
            self.inner.write(b"-----BEGIN PRIV")
            self.inner.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self) -> None:
            self.inner.close()
            super().close()

    monkeypatch.setattr(os, "fdopen", lambda fd, *args, **kwargs: FullDisk(fd))
    with pytest.raises(DeviceKeyError):
        load_or_create(tmp_path)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    key, created = load_or_create(tmp_path)
    assert created
    assert load_or_create(tmp_path)[0].public_raw == key.public_raw


def test_an_unreadable_key_file_is_a_device_key_error(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).write_bytes(b"")
    with pytest.raises(DeviceKeyError) as caught:
        load_or_create(tmp_path)
    assert caught.value.path == tmp_path / KEY_FILE
    assert (tmp_path / KEY_FILE).read_bytes() == b""  # kept for whoever restores it
