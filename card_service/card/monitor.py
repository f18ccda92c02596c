"""Readers and cards coming and going, and the PC/SC service itself going and coming back.

``CardMonitor(callback).start()`` runs a thread that waits in ``SCardGetStatusChange`` (with a
timeout, and cancelled by ``stop()``) on every reader plus PC/SC's plug-and-play pseudo reader, so
a reader plugged in or out wakes it as promptly as a card. When pcscd goes away the context is
released, ``ServiceLost`` is reported, and a new context is tried every ``retry_seconds``; once it
is back, ``ServiceRestored`` is followed by ``ReaderAdded`` / ``CardInserted`` for what is there.

Events, in the monitor's thread (the callback must be quick and must not raise):

- ``ReaderAdded(reader)``, ``ReaderRemoved(reader)`` (after ``CardRemoved`` if it held a card);
- ``CardInserted(reader, atr, mute)``, ``CardRemoved(reader)``; a card that does not answer (put in
  the wrong way round, dirty contacts: PC/SC's ``SCARD_STATE_MUTE``) comes with ``mute=True``, so the
  person is told to turn it round, not to put a card in; a card pulled and put in again between two
  waits (the same card or another, whatever its ATR) is told by the reader's event counter (the high
  16 bits of ``dwEventState``) and reported as ``CardRemoved`` then ``CardInserted``, so what was read
  from or verified on the first card is never taken for the second;
- ``ServiceLost()`` (every reader and card is gone with it), ``ServiceRestored()``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from smartcard import scard

from card_service.card.pcsc import SERVICE_GONE, hresult_text

log = logging.getLogger(__name__)

PNP_READER = "\\\\?PnP?\\Notification"


@dataclass(frozen=True)
class ReaderAdded:
    reader: str


@dataclass(frozen=True)
class ReaderRemoved:
    reader: str


@dataclass(frozen=True)
class CardInserted:
    """A card went in. ``mute``: it did not answer the power-up (no ATR), as a card put in the wrong
    way round or with dirty contacts does; it is in the reader all the same."""

    reader: str
    atr: bytes
    mute: bool = False


@dataclass(frozen=True)
class CardRemoved:
    reader: str


@dataclass(frozen=True)
class ServiceLost:
    pass


@dataclass(frozen=True)
class ServiceRestored:
    pass


CardEvent = ReaderAdded | ReaderRemoved | CardInserted | CardRemoved | ServiceLost | ServiceRestored


class _ServiceGone(Exception):
    def __init__(self, hresult: int) -> None:
        self.hresult = hresult


class CardMonitor:
    """Watches PC/SC in a thread and reports ``CardEvent``s to ``callback``."""

    def __init__(
        self,
        callback: Callable[[CardEvent], None],
        *,
        wait_ms: int = 500,
        retry_seconds: float = 0.5,
    ) -> None:
        self._callback = callback
        self._wait_ms = wait_ms
        self._retry_seconds = retry_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._context_lock = threading.Lock()
        self._context: int | None = None
        # what has been reported: reader -> PC/SC event state (as given back to the next wait)
        self._states: dict[str, int] = {}
        self._present: set[str] = set()
        self._mute: set[str] = set()  # of those, the readers whose card does not answer
        self._pnp_state = scard.SCARD_STATE_UNAWARE
        self._service_up: bool | None = None  # None until the first attempt

    # life cycle

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the monitor is already running")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="card-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (promptly: the wait is cancelled) and release the PC/SC context."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        with self._context_lock:
            if self._context is not None:
                scard.SCardCancel(self._context)
        thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> CardMonitor:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # the thread

    def _emit(self, event: CardEvent) -> None:
        log.debug("card event %s", event)
        try:
            self._callback(event)
        except Exception:
            log.exception("the card event callback failed")

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                if self._context is None and not self._connect():
                    self._stopping.wait(self._retry_seconds)
                    continue
                try:
                    self._sync_readers()
                    self._wait_for_change()
                except _ServiceGone as gone:
                    log.warning("PC/SC service lost: %s", hresult_text(gone.hresult))
                    self._lose_service()
                    self._stopping.wait(self._retry_seconds)
        finally:
            self._release_context()

    def _connect(self) -> bool:
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            if self._service_up is not False:
                log.warning("PC/SC service not available: %s", hresult_text(hresult))
                self._service_up = False
                self._emit(ServiceLost())
            return False
        with self._context_lock:
            self._context = context
        if self._service_up is False:
            log.info("PC/SC service is back")
            self._emit(ServiceRestored())
        self._service_up = True
        self._pnp_state = scard.SCARD_STATE_UNAWARE
        return True

    def _release_context(self) -> None:
        with self._context_lock:
            context, self._context = self._context, None
        if context is not None:
            scard.SCardReleaseContext(context)

    def _lose_service(self) -> None:
        self._release_context()
        self._states.clear()
        self._present.clear()
        self._mute.clear()
        self._service_up = False
        self._emit(ServiceLost())

    def _list_readers(self) -> list[str]:
        hresult, readers = scard.SCardListReaders(self._context, [])
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hresult in SERVICE_GONE:
            raise _ServiceGone(hresult)
        if hresult != scard.SCARD_S_SUCCESS:
            log.warning("listing readers failed: %s", hresult_text(hresult))
            return list(self._states)
        return list(readers)

    def _sync_readers(self) -> None:
        readers = self._list_readers()
        for reader in [r for r in self._states if r not in readers]:
            self._card_gone(reader)
            del self._states[reader]
            self._emit(ReaderRemoved(reader))
        for reader in readers:
            if reader not in self._states:
                self._states[reader] = scard.SCARD_STATE_UNAWARE
                self._emit(ReaderAdded(reader))

    def _card_gone(self, reader: str) -> None:
        if reader in self._present:
            self._present.discard(reader)
            self._mute.discard(reader)
            self._emit(CardRemoved(reader))

    def _wait_for_change(self) -> None:
        states = [(reader, state) for reader, state in self._states.items()]
        states.append((PNP_READER, self._pnp_state))
        hresult, new_states = scard.SCardGetStatusChange(self._context, self._wait_ms, states)
        if hresult in SERVICE_GONE:
            raise _ServiceGone(hresult)
        if hresult in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED, scard.SCARD_E_UNKNOWN_READER):
            return  # nothing new, stop() called, or a reader went away just now (the next list sees it)
        if hresult != scard.SCARD_S_SUCCESS:
            log.warning("waiting for card events failed: %s", hresult_text(hresult))
            self._stopping.wait(self._retry_seconds)
            return
        for reader, event_state, atr in new_states:
            state = event_state & ~scard.SCARD_STATE_CHANGED
            if reader == PNP_READER:
                self._pnp_state = state
                continue
            if reader not in self._states:
                continue
            swapped = _event_count(state) != _event_count(self._states[reader])
            self._states[reader] = state
            present = bool(event_state & scard.SCARD_STATE_PRESENT)
            mute = bool(event_state & scard.SCARD_STATE_MUTE)  # in the reader, but its power-up failed
            if present and reader in self._present and (swapped or mute != (reader in self._mute)):
                # pulled and put in again (maybe another card, maybe one with the same ATR) between two
                # waits, or the card stopped (or started) answering: what was read from it is stale
                log.info("the card in %r was replaced", reader)
                self._card_gone(reader)
            if present and reader not in self._present:
                self._present.add(reader)
                if mute:
                    log.warning("the card in %r does not answer (put in the wrong way round?)", reader)
                    self._mute.add(reader)
                self._emit(CardInserted(reader, bytes(atr), mute=mute))
            elif not present:
                self._card_gone(reader)


def _event_count(state: int) -> int:
    """The reader's event counter: PC/SC adds one for every card inserted or removed (high 16 bits)."""
    return (state >> 16) & 0xFFFF
