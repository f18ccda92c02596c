"""The PIV card application (NIST SP 800-73-4) as the card service uses it, over any connection.

Shaped like yubikit's ``piv.PivSession``: SELECT, the 9A / 9C certificates by GET DATA, VERIFY PIN,
and ECC P-256 signatures by GENERAL AUTHENTICATE. The PIN only lives in the VERIFY command it is
sent in: it is never stored, logged, or put into an exception.
"""

from __future__ import annotations

import gzip
import logging
import zlib
from enum import IntEnum

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from card_service.card import tlv
from card_service.card.apdu import SW, ApduProtocol, CommandApdu, SmartCardConnection, sw1
from card_service.card.errors import (
    ApduError,
    BadResponseError,
    InvalidPinError,
    PinBlockedError,
    PinFormatError,
    PinRequiredError,
)

log = logging.getLogger(__name__)

PIV_AID = bytes.fromhex("A000000308")

INS_SELECT = 0xA4
INS_VERIFY = 0x20
INS_GET_DATA = 0xCB
INS_GENERAL_AUTHENTICATE = 0x87

PIN_REFERENCE = 0x80  # the PIV card application PIN
PIN_MIN, PIN_MAX = 6, 8
ALGORITHM_ECCP256 = 0x11
ECCP256_DIGEST_SIZE = 32

TAG_OBJECT_ID = 0x5C
TAG_OBJECT_DATA = 0x53
TAG_CERTIFICATE = 0x70
TAG_CERT_INFO = 0x71
TAG_DYN_AUTH = 0x7C
TAG_AUTH_RESPONSE = 0x82
TAG_AUTH_CHALLENGE = 0x81
CERT_INFO_COMPRESSED = 0x01


class Slot(IntEnum):
    AUTHENTICATION = 0x9A  # card login, binding, real-name (PIN once per session)
    SIGNATURE = 0x9C  # digital signature, e.g. seals (PIN before every signature)


CERTIFICATE_OBJECTS = {Slot.AUTHENTICATION: 0x5FC105, Slot.SIGNATURE: 0x5FC10A}

SlotLike = Slot | int | str


def as_slot(slot: SlotLike) -> Slot:
    """``Slot.AUTHENTICATION``, ``0x9A`` and ``"9a"`` all name slot 9A."""
    try:
        return Slot(int(slot, 16) if isinstance(slot, str) else slot)
    except ValueError:
        raise ValueError(f"not a supported PIV slot: {slot!r}") from None


def pin_bytes(pin: str) -> bytes:
    """The VERIFY data: the PIN's ASCII bytes padded with FF to 8."""
    try:
        raw = pin.encode("ascii")
    except UnicodeEncodeError:
        raise PinFormatError("the PIN must be ASCII characters") from None
    if not PIN_MIN <= len(raw) <= PIN_MAX:
        raise PinFormatError(f"the PIN must be {PIN_MIN} to {PIN_MAX} characters")
    return raw.ljust(PIN_MAX, b"\xff")


def pin_error(sw: int) -> ApduError:
    """The error for a VERIFY status word that is not 9000."""
    if sw1(sw) == 0x63 and sw & 0xF0 == 0xC0:
        retries = sw & 0x0F
        return PinBlockedError(sw) if retries == 0 else InvalidPinError(retries, sw)
    if sw == SW.AUTH_METHOD_BLOCKED:
        return PinBlockedError(sw)
    return ApduError(sw, f"VERIFY answered SW {sw:04X}")


def der_signature(signature: bytes) -> bytes:
    """A DER ECDSA signature as is; a raw r||s (64 bytes for P-256) converted to DER."""
    try:
        r, s = decode_dss_signature(signature)
        if encode_dss_signature(r, s) == signature:
            return signature
    except ValueError:
        pass
    if len(signature) == 2 * ECCP256_DIGEST_SIZE:
        half = ECCP256_DIGEST_SIZE
        return encode_dss_signature(int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big"))
    raise BadResponseError("the card's signature is neither DER nor raw r||s")


class PivSession:
    """PIV commands over a connection (which stays the caller's to close)."""

    def __init__(self, connection: SmartCardConnection) -> None:
        self.protocol = ApduProtocol(connection)

    def select(self) -> bytes:
        """SELECT the PIV application; returns its application property template."""
        return self.protocol.send_apdu(0x00, INS_SELECT, 0x04, 0x00, PIV_AID, le=256)

    def get_object(self, object_id: int) -> bytes:
        """GET DATA of a data object; the value inside its 53 wrapper."""
        request = tlv.tlv(TAG_OBJECT_ID, tlv.tag_bytes(object_id))
        return tlv.unwrap(self.protocol.send_apdu(0x00, INS_GET_DATA, 0x3F, 0xFF, request, le=256), TAG_OBJECT_DATA)

    def read_certificate(self, slot: SlotLike) -> x509.Certificate:
        """The certificate in slot 9A or 9C (6A82 as ``ApduError`` when the slot has none)."""
        items = tlv.parse_tlvs(self.get_object(CERTIFICATE_OBJECTS[as_slot(slot)]))
        der = tlv.find(items, TAG_CERTIFICATE)
        if der is None:
            raise BadResponseError("no certificate in the data object")
        info = tlv.find(items, TAG_CERT_INFO) or b"\x00"
        if info[:1] and info[0] & CERT_INFO_COMPRESSED:
            try:
                der = gzip.decompress(der)
            except (OSError, EOFError, zlib.error):
                raise BadResponseError("a compressed certificate that does not decompress") from None
        try:
            return x509.load_der_x509_certificate(der)
        except ValueError:
            raise BadResponseError("the slot does not hold an X.509 certificate") from None

    def verify_pin(self, pin: str) -> None:
        """VERIFY the PIN; ``InvalidPinError`` (with the tries left) or ``PinBlockedError`` when it fails."""
        _, sw = self.protocol.transmit(CommandApdu(0x00, INS_VERIFY, 0x00, PIN_REFERENCE, pin_bytes(pin)))
        if sw != SW.OK:
            raise pin_error(sw)

    def pin_retries(self) -> int | None:
        """The PIN tries left (0 when blocked); None when the PIN is verified (the card does not say then)."""
        _, sw = self.protocol.transmit(CommandApdu(0x00, INS_VERIFY, 0x00, PIN_REFERENCE))
        if sw == SW.OK:
            return None
        error = pin_error(sw)
        if isinstance(error, InvalidPinError):
            return error.retries_left
        if isinstance(error, PinBlockedError):
            return 0
        raise error

    def sign(self, slot: SlotLike, digest: bytes) -> bytes:
        """The DER ECDSA (P-256) signature of a 32-byte digest with the slot's key.

        ``PinRequiredError`` when the PIN is not verified (9C wants it before every signature).
        """
        if len(digest) != ECCP256_DIGEST_SIZE:
            raise ValueError(f"an ECC P-256 signature takes a {ECCP256_DIGEST_SIZE}-byte digest")
        template = tlv.tlv(TAG_DYN_AUTH, tlv.tlv(TAG_AUTH_RESPONSE, b"") + tlv.tlv(TAG_AUTH_CHALLENGE, digest))
        command = CommandApdu(0x00, INS_GENERAL_AUTHENTICATE, ALGORITHM_ECCP256, as_slot(slot), template, le=256)
        response, sw = self.protocol.transmit(command)
        if sw == SW.SECURITY_STATUS_NOT_SATISFIED:
            raise PinRequiredError(sw)
        if sw != SW.OK:
            raise ApduError(sw, f"GENERAL AUTHENTICATE answered SW {sw:04X}")
        signature = tlv.find(tlv.parse_tlvs(tlv.unwrap(response, TAG_DYN_AUTH)), TAG_AUTH_RESPONSE)
        if not signature:
            raise BadResponseError("no signature in the card's answer")
        return der_signature(signature)
