"""The PIV session on in-memory connections: the software card itself, or scripted answers."""

from __future__ import annotations

import gzip
import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding

from card_service.card import PinFormatError, PivSession, Slot
from card_service.card.piv import as_slot, der_signature, pin_bytes
from card_service.card.tlv import tlv
from card_service.fakes.card_ca import CardAuthority, CardIdentity
from card_service.fakes.soft_piv import SoftPivCard
from tests.card.test_apdu import ScriptedConnection

DIGEST = hashlib.sha256(b"context").digest()


def test_the_pin_is_padded_with_ff_to_eight_bytes() -> None:
    assert pin_bytes("123456") == b"123456\xff\xff"
    assert pin_bytes("12345678") == b"12345678"


@pytest.mark.parametrize("pin", ["12345", "123456789", "一二三四五六"])
def test_a_malformed_pin_is_refused_before_the_card_without_naming_it(pin: str) -> None:
    with pytest.raises(PinFormatError) as raised:
        pin_bytes(pin)
    assert pin not in str(raised.value) and pin[0] not in str(raised.value)
    # no chained error (a UnicodeEncodeError would name the characters) is shown with it
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None or raised.value.__suppress_context__


def test_slots_can_be_named_by_enum_number_or_text() -> None:
    assert as_slot("9a") is as_slot("9A") is as_slot(0x9A) is Slot.AUTHENTICATION
    assert as_slot("9c") is Slot.SIGNATURE
    with pytest.raises(ValueError):
        as_slot("9d")


def test_a_raw_r_s_signature_becomes_der(card_authority: CardAuthority, card_identity: CardIdentity) -> None:
    card = SoftPivCard(card_identity, card_authority, raw_signatures=True)
    piv = PivSession(card)
    piv.select()
    piv.verify_pin("123456")
    signature = piv.sign("9a", DIGEST)
    decode_dss_signature(signature)  # DER
    card.certificate("9a").public_key().verify(signature, DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))


def test_a_der_signature_is_kept_as_it_is() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    signature = key.sign(DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))
    assert der_signature(signature) == signature


def test_sign_wants_a_sha256_sized_digest(card_authority: CardAuthority, card_identity: CardIdentity) -> None:
    piv = PivSession(SoftPivCard(card_identity, card_authority))
    with pytest.raises(ValueError):
        piv.sign("9a", b"\x00" * 20)


def test_a_compressed_certificate_is_decompressed(card_authority: CardAuthority) -> None:
    der = card_authority.certificate.public_bytes(Encoding.DER)
    content = tlv(0x70, gzip.compress(der)) + tlv(0x71, b"\x01") + tlv(0xFE, b"")
    connection = ScriptedConnection((tlv(0x53, content), 0x9000))
    assert PivSession(connection).read_certificate("9c") == card_authority.certificate
    assert connection.sent[0].hex().upper() == "00CB3FFF055C035FC10A00"


def test_pin_retries_is_none_once_verified(card_authority: CardAuthority, card_identity: CardIdentity) -> None:
    piv = PivSession(SoftPivCard(card_identity, card_authority))
    piv.select()
    assert piv.pin_retries() == 3
    piv.verify_pin("123456")
    assert piv.pin_retries() is None
