"""A PIV card in software that plugs into the vpcd virtual reader, so pyscard goes through real PC/SC.

vpcd (vsmartcard) listens on TCP port 35963 for its first slot (35964 for the second, see
scripts/pcsc.sh); a virtual card is a TCP client there. Frames both ways are a 2-byte big-endian
length and a payload. A 1-byte payload from vpcd is a control: 00 power off, 01 power on, 02 reset,
04 "send the ATR" (vpcd also polls presence that way); anything longer is a command APDU, answered
with response data + SW. Connected means inserted; closing the connection removes the card.

The card: the PIV application (SELECT A0 00 00 03 08), EC P-256 keys and certificates in slots 9A
and 9C (GET DATA 5FC105 / 5FC10A), a PIN (default 123456) with 3 tries (63Cx, then 6983), the
verified state cleared by reset and power off, slot 9C wanting a VERIFY right before each
signature, GENERAL AUTHENTICATE with algorithm 11 (ECC P-256). Long answers come in chunks of at
most ``max_response`` bytes with 61xx, so GET RESPONSE is needed for a certificate; with
``strict_le`` a wrong Le is answered 6Cxx (as a T=0 card does), for Le correction.

The card also implements the ``SmartCardConnection`` seam itself (``send_and_receive``), so unit
tests can run a ``PivSession`` on it without PC/SC.

Demo (stays inserted until Ctrl-C)::

    python -m card_service.fakes.soft_piv --ca-dir var/card-ca --card-number 6217000012345678 \\
        --holder 张三 --id-number 110101199003071234 --unit-name 示例村 \\
        --credit-code 91110000MA01ABCDE1 --kind legal_rep
"""

from __future__ import annotations

import argparse
import hmac
import logging
import signal
import socket
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding

from card_service.card import tlv
from card_service.card.apdu import SW, CommandApdu
from card_service.card.piv import (
    ALGORITHM_ECCP256,
    CERTIFICATE_OBJECTS,
    INS_GENERAL_AUTHENTICATE,
    INS_GET_DATA,
    INS_SELECT,
    INS_VERIFY,
    PIN_MAX,
    PIN_REFERENCE,
    PIV_AID,
    TAG_AUTH_CHALLENGE,
    TAG_AUTH_RESPONSE,
    TAG_CERT_INFO,
    TAG_CERTIFICATE,
    TAG_DYN_AUTH,
    TAG_OBJECT_DATA,
    TAG_OBJECT_ID,
    Slot,
    SlotLike,
    as_slot,
)
from card_service.fakes.card_ca import CardAuthority, CardIdentity, CardKind
from card_service.fakes.card_ca import Slot as CaSlot

log = logging.getLogger(__name__)

VPCD_HOST = "127.0.0.1"
VPCD_PORT = 35963
DEFAULT_PIN = "123456"
PIN_TRIES = 3
FULL_AID = PIV_AID + bytes.fromhex("000010000100")  # the PIV AID with its version
INS_GET_RESPONSE = 0xC0

CTRL_POWER_OFF, CTRL_POWER_ON, CTRL_RESET, CTRL_ATR = 0x00, 0x01, 0x02, 0x04


def make_atr(historical: bytes = b"CWT-PIV") -> bytes:
    """An ATR offering T=0 and T=1: 3B, T0, TD1 (T=0, TD2 follows), TD2 (T=1), history, TCK."""
    body = bytes([0x80 | len(historical), 0x80, 0x01]) + historical
    tck = 0
    for byte in body:
        tck ^= byte
    return b"\x3b" + body + bytes([tck])


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


@dataclass
class _CardState:
    """What a reset or power cycle forgets."""

    selected: bool = False
    pin_verified: bool = False
    just_verified: bool = False  # the previous command was a successful VERIFY (9C needs it)
    pending: bytes = b""  # response bytes waiting for GET RESPONSE
    seen: list[int] = field(default_factory=list)


class SoftPivCard:
    """A software PIV card: the card logic, and a vpcd client that inserts it into a reader."""

    def __init__(
        self,
        identity: CardIdentity | None = None,
        authority: CardAuthority | None = None,
        *,
        pin: str = DEFAULT_PIN,
        keys: dict[Slot, ec.EllipticCurvePrivateKey] | None = None,
        certificates: dict[Slot, x509.Certificate] | None = None,
        max_response: int = 256,
        strict_le: bool = False,
        raw_signatures: bool = False,
        atr: bytes | None = None,
    ) -> None:
        """Keys are made for 9A and 9C unless given; certificates are issued by ``authority`` for
        ``identity`` unless given. ``raw_signatures`` answers r||s instead of DER (as some cards do).
        """
        self.keys: dict[Slot, ec.EllipticCurvePrivateKey] = dict(keys or {})
        for slot in Slot:
            self.keys.setdefault(slot, ec.generate_private_key(ec.SECP256R1()))
        self.certificates: dict[Slot, x509.Certificate] = dict(certificates or {})
        for slot in Slot:
            if slot in self.certificates:
                continue
            if identity is None or authority is None:
                raise ValueError("certificates for every slot, or an identity and an authority to issue them")
            ca_slot: CaSlot = "9a" if slot is Slot.AUTHENTICATION else "9c"
            self.certificates[slot] = authority.issue(identity, self.keys[slot].public_key(), slot=ca_slot)
        raw_pin = pin.encode("ascii")
        if not 6 <= len(raw_pin) <= PIN_MAX:
            raise ValueError("a PIV PIN has 6 to 8 characters")
        self._pin = raw_pin.ljust(PIN_MAX, b"\xff")
        self.pin_retries_left = PIN_TRIES
        self.max_response = max_response
        self.strict_le = strict_le
        self.raw_signatures = raw_signatures
        self.atr = atr or make_atr()
        self._state = _CardState()
        self._lock = threading.Lock()
        # vpcd connection
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # what tests look at

    def certificate(self, slot: SlotLike = Slot.AUTHENTICATION) -> x509.Certificate:
        return self.certificates[as_slot(slot)]

    @property
    def pin_verified(self) -> bool:
        return self._state.pin_verified

    @property
    def instructions(self) -> list[int]:
        """The INS byte of every command APDU since the last reset or power cycle (never their data)."""
        return list(self._state.seen)

    # power

    def reset(self) -> None:
        """Power off, power on or reset: the verified PIN and the selection are forgotten."""
        with self._lock:
            self._state = _CardState()

    # the seam, so a PivSession runs on the card without PC/SC

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        response = self.process(apdu)
        return response[:-2], int.from_bytes(response[-2:], "big")

    def close(self) -> None:
        self.reset()

    # APDUs

    def process(self, apdu: bytes) -> bytes:
        """One command APDU -> response data + SW."""
        with self._lock:
            try:
                command = CommandApdu.decode(apdu)
            except ValueError:
                return _sw(SW.WRONG_LENGTH)
            state = self._state
            state.seen.append(command.ins)
            just_verified, state.just_verified = state.just_verified, False
            if command.ins == INS_GET_RESPONSE:
                return self._get_response(command)
            state.pending = b""
            if command.ins == INS_SELECT:
                return self._select(command)
            if not state.selected:
                return _sw(SW.INS_NOT_SUPPORTED)
            if command.ins == INS_GET_DATA:
                return self._get_data(command)
            if command.ins == INS_VERIFY:
                return self._verify(command)
            if command.ins == INS_GENERAL_AUTHENTICATE:
                return self._general_authenticate(command, just_verified)
            return _sw(SW.INS_NOT_SUPPORTED)

    def _answer(self, data: bytes, le: int | None) -> bytes:
        """Response data: a wrong Le gets 6Cxx (strict), more than fits gets 61xx chaining."""
        if not data:
            return _sw(SW.OK)
        if self.strict_le and le is not None and len(data) <= 256 and le != len(data):
            return _sw(0x6C00 | (len(data) & 0xFF))
        size = min(len(data), le or 0, self.max_response)
        self._state.pending = data[size:]
        return data[:size] + self._more()

    def _more(self) -> bytes:
        pending = len(self._state.pending)
        return _sw(SW.OK) if not pending else _sw(0x6100 | (min(pending, 256) & 0xFF))

    def _get_response(self, command: CommandApdu) -> bytes:
        pending = self._state.pending
        if not pending:
            return _sw(SW.CONDITIONS_NOT_SATISFIED)
        available = min(len(pending), 256)
        le = command.le or 0
        if self.strict_le and le != available:
            return _sw(0x6C00 | (available & 0xFF))
        size = min(available, le, self.max_response)
        self._state.pending = pending[size:]
        return pending[:size] + self._more()

    def _select(self, command: CommandApdu) -> bytes:
        if command.p1 != 0x04 or not command.data or not FULL_AID.startswith(command.data):
            self._state.selected = False
            return _sw(SW.FILE_NOT_FOUND)
        self._state.selected = True
        template = tlv.tlv(0x4F, FULL_AID[len(PIV_AID) :]) + tlv.tlv(0x79, tlv.tlv(0x4F, PIV_AID))
        algorithms = tlv.tlv(0xAC, tlv.tlv(0x80, bytes([ALGORITHM_ECCP256])) + tlv.tlv(0x06, b"\x00"))
        return self._answer(tlv.tlv(0x61, template + algorithms), command.le)

    def _get_data(self, command: CommandApdu) -> bytes:
        if (command.p1, command.p2) != (0x3F, 0xFF):
            return _sw(SW.INCORRECT_P1P2)
        try:
            object_id = int.from_bytes(tlv.unwrap(command.data, TAG_OBJECT_ID), "big")
        except Exception:
            return _sw(SW.WRONG_DATA)
        slot = next((s for s, oid in CERTIFICATE_OBJECTS.items() if oid == object_id), None)
        if slot is None or slot not in self.certificates:
            return _sw(SW.FILE_NOT_FOUND)
        der = self.certificates[slot].public_bytes(Encoding.DER)
        content = tlv.tlv(TAG_CERTIFICATE, der) + tlv.tlv(TAG_CERT_INFO, b"\x00") + tlv.tlv(0xFE, b"")
        return self._answer(tlv.tlv(TAG_OBJECT_DATA, content), command.le)

    def _verify(self, command: CommandApdu) -> bytes:
        state = self._state
        if command.p2 != PIN_REFERENCE:
            return _sw(SW.REFERENCE_NOT_FOUND)
        if command.p1 == 0xFF:  # reset the security status
            state.pin_verified = False
            return _sw(SW.OK)
        if self.pin_retries_left == 0:
            return _sw(SW.AUTH_METHOD_BLOCKED)
        if not command.data:  # the status: verified, or the tries left
            return _sw(SW.OK if state.pin_verified else SW.VERIFY_FAIL | self.pin_retries_left)
        if len(command.data) != PIN_MAX:
            return _sw(SW.WRONG_DATA)
        if hmac.compare_digest(command.data, self._pin):
            self.pin_retries_left = PIN_TRIES
            state.pin_verified = state.just_verified = True
            return _sw(SW.OK)
        self.pin_retries_left -= 1
        state.pin_verified = False
        return _sw(SW.VERIFY_FAIL | self.pin_retries_left)

    def _general_authenticate(self, command: CommandApdu, just_verified: bool) -> bytes:
        if command.p1 != ALGORITHM_ECCP256:
            return _sw(SW.INCORRECT_P1P2)
        try:
            slot = Slot(command.p2)
            items = tlv.parse_tlvs(tlv.unwrap(command.data, TAG_DYN_AUTH))
        except Exception:
            return _sw(SW.WRONG_DATA)
        challenge = tlv.find(items, TAG_AUTH_CHALLENGE)
        if tlv.find(items, TAG_AUTH_RESPONSE) != b"" or challenge is None or len(challenge) != 32:
            return _sw(SW.WRONG_DATA)
        allowed = just_verified if slot is Slot.SIGNATURE else self._state.pin_verified
        if not allowed:
            return _sw(SW.SECURITY_STATUS_NOT_SATISFIED)
        signature = self.keys[slot].sign(challenge, ec.ECDSA(Prehashed(hashes.SHA256())))
        if self.raw_signatures:
            r, s = decode_dss_signature(signature)
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return self._answer(tlv.tlv(TAG_DYN_AUTH, tlv.tlv(TAG_AUTH_RESPONSE, signature)), command.le)

    # vpcd

    @property
    def is_inserted(self) -> bool:
        """Between ``insert()`` and ``remove()``."""
        return self._thread is not None

    @property
    def is_connected(self) -> bool:
        """Connected to vpcd right now (false for a moment while pcscd restarts)."""
        return self._connected.is_set()

    def insert(self, host: str = VPCD_HOST, port: int = VPCD_PORT, *, timeout: float = 5.0) -> None:
        """Connect to vpcd in a background thread (reconnecting if pcscd restarts) until ``remove()``.

        Returns once connected; ``TimeoutError`` if vpcd does not accept within ``timeout``.
        """
        if self._thread is not None:
            raise RuntimeError("the card is already inserted")
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, args=(host, port), name="soft-piv", daemon=True)
        self._thread.start()
        if not self._connected.wait(timeout):
            self.remove()
            raise TimeoutError(f"vpcd did not accept the card on {host}:{port}")

    def remove(self, timeout: float = 5.0) -> None:
        """Disconnect from vpcd: the reader sees the card removed."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        sock = self._socket
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        thread.join(timeout)

    def _serve(self, host: str, port: int) -> None:
        while not self._stop.is_set():
            try:
                sock = socket.create_connection((host, port), timeout=1.0)
            except OSError:
                self._stop.wait(0.1)  # vpcd not listening (yet, or pcscd restarting)
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._socket = sock
            self._connected.set()
            log.debug("soft PIV card connected to vpcd on %s:%d", host, port)
            try:
                self._serve_connection(sock)
            except (OSError, EOFError):
                pass
            finally:
                self._connected.clear()
                self._socket = None
                sock.close()
                self.reset()

    def _serve_connection(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            payload = _receive(sock, struct.unpack(">H", _receive(sock, 2))[0])
            if len(payload) == 1:
                control = payload[0]
                if control == CTRL_ATR:
                    sock.sendall(struct.pack(">H", len(self.atr)) + self.atr)
                elif control in (CTRL_POWER_OFF, CTRL_POWER_ON, CTRL_RESET):
                    self.reset()
                continue
            response = self.process(payload)
            sock.sendall(struct.pack(">H", len(response)) + response)


def _receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("vpcd closed the connection")
        data += chunk
    return data


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m card_service.fakes.soft_piv", description=__doc__.splitlines()[0])
    parser.add_argument("--ca-dir", type=Path, default=Path("var/card-ca"), help="the issuer CA (made if missing)")
    parser.add_argument("--card-number", required=True)
    parser.add_argument("--holder", required=True, help="the holder's name")
    parser.add_argument("--id-number", required=True, help="the holder's resident ID number")
    parser.add_argument("--unit-name", required=True)
    parser.add_argument("--credit-code", required=True, help="the unit's unified social credit code")
    parser.add_argument("--kind", choices=["legal_rep", "operator"], default="operator")
    parser.add_argument("--pin", default=DEFAULT_PIN)
    parser.add_argument("--host", default=VPCD_HOST)
    parser.add_argument("--port", type=int, default=VPCD_PORT, help="35963: reader 'Virtual PCD 00 00'; 35964: 00 01")
    args = parser.parse_args(argv)
    kind: CardKind = args.kind
    identity = CardIdentity(
        card_number=args.card_number,
        holder_name=args.holder,
        id_number=args.id_number,
        unit_name=args.unit_name,
        unit_credit_code=args.credit_code,
        kind=kind,
    )
    authority = CardAuthority.load_or_generate(args.ca_dir)
    card = SoftPivCard(identity, authority, pin=args.pin)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    card.insert(args.host, args.port, timeout=30.0)
    print(
        f"soft PIV card {identity.card_number} ({identity.kind}) inserted into vpcd on {args.host}:{args.port}; "
        f"issuer CA {args.ca_dir / 'ca.pem'}; Ctrl-C removes it",
        flush=True,
    )
    stop.wait()
    card.remove()


if __name__ == "__main__":
    main()
