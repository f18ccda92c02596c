"""The card monitor against a fake PC/SC that keeps, like pcsc-lite, an event counter per reader.

PC/SC puts a reader's event counter (one more for every card inserted or removed) in the high 16
bits of ``dwEventState``. A card pulled and another put in between two waits leaves the reader
"present" as before: only the counter tells the two cards apart. These tests need no pcscd.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from smartcard import scard

from card_service.card import monitor as monitor_module
from card_service.card.monitor import (
    PNP_READER,
    CardEvent,
    CardInserted,
    CardMonitor,
    CardRemoved,
    ReaderAdded,
)

READER = "Virtual PCD 00 00"
ATR_A = bytes.fromhex("3b8980018047504956000001")
ATR_B = bytes.fromhex("3b8980018047504956000002")
WAIT_SECONDS = 5.0  # an upper bound for the monitor's thread to reach the end of the script


@dataclass
class FakeReader:
    atr: bytes | None = None  # None: no card
    counter: int = 0  # insertions and removals so far (pcsc-lite's eventCounter)
    in_use: bool = False  # a connection to the card is open (SCARD_STATE_INUSE)

    def state(self) -> int:
        if self.atr is None:
            flags = scard.SCARD_STATE_EMPTY
        else:
            flags = scard.SCARD_STATE_PRESENT | (scard.SCARD_STATE_INUSE if self.in_use else 0)
        return flags | (self.counter & 0xFFFF) << 16


@dataclass
class FakePcsc:
    """The part of ``smartcard.scard`` the monitor calls, answering as pcsc-lite does.

    ``script`` holds the changes to make, one per wait that would otherwise find nothing new;
    once it is used up ``done`` is set and the wait blocks until ``SCardCancel``.
    """

    readers: dict[str, FakeReader] = field(default_factory=dict)
    script: list[Callable[[FakePcsc], None]] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)

    def __getattr__(self, name: str) -> object:
        return getattr(scard, name)  # the constants

    # changes
    def insert(self, reader: str, atr: bytes) -> None:
        self.readers[reader].atr = atr
        self.readers[reader].counter += 1

    def remove(self, reader: str) -> None:
        self.readers[reader].atr = None
        self.readers[reader].counter += 1

    # the calls
    def SCardEstablishContext(self, scope: int) -> tuple[int, int]:
        return scard.SCARD_S_SUCCESS, 1

    def SCardReleaseContext(self, context: int) -> int:
        return scard.SCARD_S_SUCCESS

    def SCardCancel(self, context: int) -> int:
        self.cancelled.set()
        return scard.SCARD_S_SUCCESS

    def SCardListReaders(self, context: int, groups: list[str]) -> tuple[int, list[str]]:
        if not self.readers:
            return scard.SCARD_E_NO_READERS_AVAILABLE, []
        return scard.SCARD_S_SUCCESS, list(self.readers)

    def SCardGetStatusChange(
        self, context: int, timeout_ms: int, states: list[tuple[str, int]]
    ) -> tuple[int, list[tuple[str, int, list[int]]]]:
        while True:
            answer, changed = [], False
            for reader, current in states:
                if reader == PNP_READER:
                    event = len(self.readers) << 16
                    atr: bytes = b""
                else:
                    event, atr = self.readers[reader].state(), self.readers[reader].atr or b""
                if event != current:  # another state, or the same one with another counter
                    event |= scard.SCARD_STATE_CHANGED
                    changed = True
                answer.append((reader, event, list(atr)))
            if changed:
                return scard.SCARD_S_SUCCESS, answer
            if not self.script:
                self.done.set()
                self.cancelled.wait(WAIT_SECONDS)
                return scard.SCARD_E_CANCELLED, []
            self.script.pop(0)(self)


@pytest.fixture
def pcsc(monkeypatch: pytest.MonkeyPatch) -> FakePcsc:
    fake = FakePcsc(readers={READER: FakeReader()})
    monkeypatch.setattr(monitor_module, "scard", fake)
    return fake


@pytest.fixture
def watch(pcsc: FakePcsc) -> Iterator[Callable[[], list[CardEvent]]]:
    """Runs the monitor through the fake's script and gives back the events it reported."""
    events: list[CardEvent] = []
    monitor = CardMonitor(events.append, wait_ms=10, retry_seconds=0)

    def run() -> list[CardEvent]:
        monitor.start()
        assert pcsc.done.wait(WAIT_SECONDS), "the monitor did not reach the end of the script"
        monitor.stop()
        return events

    yield run
    monitor.stop()


# Cards of one issuer answer the same ATR: a card swapped for such a one is still a new card.
@pytest.mark.parametrize("second", [ATR_B, ATR_A], ids=["another ATR", "the same ATR"])
def test_a_card_swapped_between_two_waits_is_reported_as_removed_and_inserted(
    pcsc: FakePcsc, watch: Callable[[], list[CardEvent]], second: bytes
) -> None:
    def swap(fake: FakePcsc) -> None:  # both happen while the monitor is busy between two waits
        fake.remove(READER)
        fake.insert(READER, second)

    pcsc.script = [lambda fake: fake.insert(READER, ATR_A), swap]
    assert watch() == [
        ReaderAdded(READER),
        CardInserted(READER, ATR_A),
        CardRemoved(READER),
        CardInserted(READER, second),
    ]


def test_a_card_already_in_the_reader_at_start_is_reported_once(
    pcsc: FakePcsc, watch: Callable[[], list[CardEvent]]
) -> None:
    pcsc.readers[READER] = FakeReader(atr=ATR_A, counter=7)  # pcscd has seen cards come and go before
    assert watch() == [ReaderAdded(READER), CardInserted(READER, ATR_A)]


def test_the_same_card_being_used_is_not_a_new_card(pcsc: FakePcsc, watch: Callable[[], list[CardEvent]]) -> None:
    # opening a connection (ours or another program's) changes SCARD_STATE_INUSE, not the counter
    def connect(fake: FakePcsc) -> None:
        fake.readers[READER].in_use = True

    def disconnect(fake: FakePcsc) -> None:
        fake.readers[READER].in_use = False

    pcsc.script = [lambda fake: fake.insert(READER, ATR_A), connect, disconnect]
    assert watch() == [ReaderAdded(READER), CardInserted(READER, ATR_A)]


def test_a_card_put_in_and_pulled_out_between_two_waits_leaves_no_card(
    pcsc: FakePcsc, watch: Callable[[], list[CardEvent]]
) -> None:
    def in_and_out(fake: FakePcsc) -> None:
        fake.insert(READER, ATR_A)
        fake.remove(READER)

    pcsc.script = [in_and_out]
    assert watch() == [ReaderAdded(READER)]
