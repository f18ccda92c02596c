"""The card layer through the real PC/SC stack: pyscard -> pcscd -> vpcd -> the software PIV card."""

from __future__ import annotations

import hashlib
import logging
import queue
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from card_service.card import (
    CardEvent,
    CardInserted,
    CardMonitor,
    CardRemoved,
    InvalidPinError,
    NoCardError,
    PcscConnection,
    PinBlockedError,
    PinRequiredError,
    PivSession,
    ReaderAdded,
    ReaderUnavailableError,
    ServiceLost,
    ServiceRestored,
    ServiceUnavailableError,
    open_piv,
)
from card_service.card.piv import INS_GET_DATA, INS_SELECT
from card_service.fakes.card_ca import CardAuthority, CardIdentity
from card_service.fakes.soft_piv import INS_GET_RESPONSE, SoftPivCard
from tests.card.conftest import PcscStack, SoftCardFactory, require_root

DIGEST = hashlib.sha256(b'{"action":"login","nonce":"n"}').digest()
PIN = "846271"  # distinctive, so a leak is not a coincidence
WRONG_PIN = "593017"


def verify(certificate_key: ec.EllipticCurvePublicKey, signature: bytes) -> None:
    certificate_key.verify(signature, DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))


class Events:
    """A monitor's events, for waiting on the one a test expects."""

    def __init__(self) -> None:
        self.queue: queue.Queue[CardEvent] = queue.Queue()
        self.seen: list[CardEvent] = []

    def __call__(self, event: CardEvent) -> None:
        self.queue.put(event)

    def wait_for(self, wanted: Callable[[CardEvent], bool], timeout: float = 10.0) -> CardEvent:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no such event within {timeout:.0f}s; seen: {self.seen}")
            try:
                event = self.queue.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(event)
            if wanted(event):
                return event


@pytest.fixture
def events(pcsc: PcscStack) -> Iterator[Events]:
    """A running card monitor's events (stopped after the test)."""
    received = Events()
    monitor = CardMonitor(received, wait_ms=200, retry_seconds=0.2)
    monitor.start()
    yield received
    started = time.monotonic()
    monitor.stop()
    assert not monitor.running
    assert time.monotonic() - started < 2.0, "stop() should not wait for a whole PC/SC wait"


@dataclass(frozen=True)
class InsertedCard:
    card: SoftPivCard
    reader: str


@pytest.fixture
def pin_card(soft_card: SoftCardFactory, card_identity: CardIdentity, card_authority: CardAuthority) -> InsertedCard:
    """A software card with the PIN ``PIN``, in the vpcd reader."""
    card = SoftPivCard(card_identity, card_authority, pin=PIN)
    return InsertedCard(card, soft_card(card))


@contextmanager
def selected(reader: str) -> Iterator[PivSession]:
    """A PIV session on the card in ``reader``, the PIV application selected."""
    with open_piv(reader) as piv:
        piv.select()
        yield piv


def test_the_monitor_sees_the_readers_and_a_card_inserted_and_removed(
    pcsc: PcscStack, events: Events, card_identity: CardIdentity, card_authority: CardAuthority
) -> None:
    reader = pcsc.reader()
    events.wait_for(lambda e: e == ReaderAdded(reader))
    card = SoftPivCard(card_identity, card_authority)
    card.insert(port=pcsc.port())
    try:
        inserted = events.wait_for(lambda e: isinstance(e, CardInserted))
        assert inserted == CardInserted(reader, card.atr)
    finally:
        card.remove()
    events.wait_for(lambda e: e == CardRemoved(reader))


def test_the_monitor_survives_the_pcsc_service_restarting(
    pcsc: PcscStack, events: Events, soft_card: SoftCardFactory
) -> None:
    require_root("restarting pcscd")
    reader = soft_card()
    events.wait_for(lambda e: isinstance(e, CardInserted) and e.reader == reader)
    pcsc.stop()
    try:
        events.wait_for(lambda e: isinstance(e, ServiceLost))
        with pytest.raises(ServiceUnavailableError):
            PcscConnection(reader)
    finally:
        pcsc.start()
    events.wait_for(lambda e: isinstance(e, ServiceRestored))
    # the card stayed in the reader: it is reported again on the new service
    events.wait_for(lambda e: isinstance(e, CardInserted) and e.reader == reader)
    with selected(reader) as piv:
        assert piv.pin_retries() == 3


def test_certificates_are_read_through_pyscard_with_get_response(
    pcsc: PcscStack, soft_card: SoftCardFactory, card_identity: CardIdentity, card_authority: CardAuthority
) -> None:
    card = SoftPivCard(card_identity, card_authority)
    reader = soft_card(card)
    with PcscConnection(reader) as connection:
        assert connection.atr == card.atr
        piv = PivSession(connection)
        piv.select()
        authentication = piv.read_certificate("9a")
        signature = piv.read_certificate("9c")
        assert card.instructions.count(INS_GET_DATA) == 2
        assert card.instructions.count(INS_GET_RESPONSE) >= 2  # each certificate is longer than 256 bytes
    assert authentication == card.certificate("9a")
    assert signature == card.certificate("9c")
    assert len(authentication.tbs_certificate_bytes) > 256


def test_a_wrong_le_is_corrected_from_6cxx(
    pcsc: PcscStack, soft_card: SoftCardFactory, card_identity: CardIdentity, card_authority: CardAuthority
) -> None:
    card = SoftPivCard(card_identity, card_authority, strict_le=True)
    reader = soft_card(card)
    with open_piv(reader) as piv:
        piv.select()  # asks for 256 bytes (Le 00); the card wants the exact length
        assert card.instructions == [INS_SELECT, INS_SELECT]
        assert piv.read_certificate("9a") == card.certificate("9a")


def test_a_wrong_pin_counts_down_and_the_error_carries_the_tries_left(pin_card: InsertedCard) -> None:
    reader = pin_card.reader
    with selected(reader) as piv:
        assert piv.pin_retries() == 3
        with pytest.raises(InvalidPinError) as first:
            piv.verify_pin(WRONG_PIN)
        assert first.value.retries_left == 2
        with pytest.raises(InvalidPinError) as second:
            piv.verify_pin(WRONG_PIN)
        assert second.value.retries_left == 1
        assert piv.pin_retries() == 1
    with selected(reader) as piv:  # the counter lives on the card, across connections and resets
        assert piv.pin_retries() == 1


def test_the_pin_blocks_after_three_wrong_tries(pin_card: InsertedCard) -> None:
    reader = pin_card.reader
    with selected(reader) as piv:
        for left in (2, 1):
            with pytest.raises(InvalidPinError) as raised:
                piv.verify_pin(WRONG_PIN)
            assert raised.value.retries_left == left
        with pytest.raises(PinBlockedError):
            piv.verify_pin(WRONG_PIN)
        with pytest.raises(PinBlockedError):
            piv.verify_pin(PIN)  # even the right PIN
        assert piv.pin_retries() == 0


def test_the_right_pin_resets_the_tries(pin_card: InsertedCard) -> None:
    card, reader = pin_card.card, pin_card.reader
    with selected(reader) as piv:
        with pytest.raises(InvalidPinError):
            piv.verify_pin(WRONG_PIN)
        piv.verify_pin(PIN)
        assert card.pin_retries_left == 3
    with selected(reader) as piv:
        assert piv.pin_retries() == 3


def test_a_9a_signature_verifies_with_the_certificate_key(pin_card: InsertedCard) -> None:
    reader = pin_card.reader
    with selected(reader) as piv:
        certificate = piv.read_certificate("9a")
        with pytest.raises(PinRequiredError):
            piv.sign("9a", DIGEST)
        piv.verify_pin(PIN)
        first = piv.sign("9a", DIGEST)
        second = piv.sign("9a", DIGEST)  # 9A: one VERIFY is enough for the session
    public_key = certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    verify(public_key, first)
    verify(public_key, second)


def test_closing_the_connection_resets_the_card_and_forgets_the_pin(pin_card: InsertedCard) -> None:
    reader = pin_card.reader
    with selected(reader) as piv:
        piv.verify_pin(PIN)
    with selected(reader) as piv:
        with pytest.raises(PinRequiredError):
            piv.sign("9a", DIGEST)


def test_a_9c_signature_needs_the_pin_every_time(pin_card: InsertedCard) -> None:
    card, reader = pin_card.card, pin_card.reader
    public_key = card.certificate("9c").public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    with selected(reader) as piv:
        piv.verify_pin(PIN)
        verify(public_key, piv.sign("9c", DIGEST))
        with pytest.raises(PinRequiredError):
            piv.sign("9c", DIGEST)
        piv.verify_pin(PIN)
        verify(public_key, piv.sign("9c", DIGEST))


def test_the_pin_never_reaches_a_log_line_or_an_error(pin_card: InsertedCard, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    reader = pin_card.reader
    errors: list[BaseException] = []
    with selected(reader) as piv:
        for attempt in (WRONG_PIN, WRONG_PIN):
            try:
                piv.verify_pin(attempt)
            except InvalidPinError as error:
                errors.append(error)
        piv.verify_pin(PIN)
        piv.sign("9c", DIGEST)
        try:
            piv.sign("9c", DIGEST)
        except PinRequiredError as error:
            errors.append(error)
    assert len(errors) == 3
    shown = caplog.text + "".join(
        "".join(traceback.format_exception(error)) + repr(error) + repr(error.args) for error in errors
    )
    for secret in (PIN, WRONG_PIN):
        for form in (
            secret,
            secret.encode().hex(),
            secret.encode().hex().upper(),
            (secret.encode() + b"\xff\xff").hex(),
        ):
            assert form not in shown


def test_connecting_to_an_empty_or_unknown_reader_is_a_typed_error(pcsc: PcscStack) -> None:
    pcsc.wait_for_card(False)
    with pytest.raises(NoCardError):
        PcscConnection(pcsc.reader())
    with pytest.raises(ReaderUnavailableError) as raised:
        PcscConnection("No Such Reader 00 00")
    assert raised.value.reader == "No Such Reader 00 00"
