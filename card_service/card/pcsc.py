"""The seam over PC/SC (pyscard's ``smartcard.scard``, the thin layer over winscard / pcsc-lite).

``PcscConnection(reader)`` connects to the card in a named reader (T=0 or T=1, shared) and holds a
PC/SC transaction until it is closed, so no other program's APDUs come between a VERIFY and the
signature it allows. Closing resets the card by default, which clears the verified PIN.
PC/SC return codes become the typed errors of ``card_service.card.errors``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from smartcard import scard

from card_service.card.errors import (
    BadResponseError,
    CardBusyError,
    CardError,
    CardMuteError,
    CardRemovedError,
    NoCardError,
    ReaderUnavailableError,
    ServiceUnavailableError,
)
from card_service.card.piv import PivSession

log = logging.getLogger(__name__)

SERVICE_GONE = frozenset(
    {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED, scard.SCARD_F_COMM_ERROR, scard.SCARD_E_INVALID_HANDLE}
)
READER_GONE = frozenset(
    {scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE, scard.SCARD_E_NO_READERS_AVAILABLE}
)
CARD_GONE = frozenset(
    {
        scard.SCARD_W_REMOVED_CARD,
        scard.SCARD_W_RESET_CARD,
        scard.SCARD_W_UNPOWERED_CARD,
    }
)


def hresult_text(hresult: int) -> str:
    return f"{scard.SCardGetErrorMessage(hresult)} (0x{hresult & 0xFFFFFFFF:08X})"


def pcsc_error(hresult: int, reader: str | None = None, *, connecting: bool = False) -> CardError:
    """The typed error for a PC/SC return code."""
    text = hresult_text(hresult)
    if hresult in SERVICE_GONE:
        return ServiceUnavailableError(f"the PC/SC service is not available: {text}")
    if hresult in READER_GONE:
        return ReaderUnavailableError(reader or "", f"reader {reader!r} is not available: {text}")
    if hresult == scard.SCARD_W_UNRESPONSIVE_CARD:  # in the reader, but its power-up got no ATR
        return CardMuteError(f"the card in reader {reader!r} does not answer: {text}")
    if hresult == scard.SCARD_E_NO_SMARTCARD or (connecting and hresult in CARD_GONE):
        return NoCardError(f"no card in reader {reader!r}: {text}")
    if hresult in CARD_GONE:
        return CardRemovedError(f"the card in reader {reader!r} was removed or reset: {text}")
    if hresult == scard.SCARD_E_SHARING_VIOLATION:
        return CardBusyError(f"another program holds the card in reader {reader!r}")
    return CardError(f"PC/SC error: {text}")


def list_readers() -> list[str]:
    """The readers PC/SC knows now ([] when there are none)."""
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise pcsc_error(hresult)
    try:
        hresult, readers = scard.SCardListReaders(context, [])
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hresult != scard.SCARD_S_SUCCESS:
            raise pcsc_error(hresult)
        return list(readers)
    finally:
        scard.SCardReleaseContext(context)


class PcscConnection:
    """A connection to the card in ``reader``: the ``SmartCardConnection`` seam over PC/SC."""

    def __init__(self, reader: str, *, reset_on_close: bool = True) -> None:
        self.reader = reader
        self._disposition = scard.SCARD_RESET_CARD if reset_on_close else scard.SCARD_LEAVE_CARD
        self._context: int | None = None
        self._card: int | None = None
        self.protocol: int = scard.SCARD_PROTOCOL_T1
        self.atr: bytes = b""
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise pcsc_error(hresult, reader)
        self._context = context
        try:
            hresult, card, protocol = scard.SCardConnect(
                context, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
            )
            if hresult != scard.SCARD_S_SUCCESS:
                raise pcsc_error(hresult, reader, connecting=True)
            self._card = card
            self.protocol = protocol
            hresult = scard.SCardBeginTransaction(card)
            if hresult != scard.SCARD_S_SUCCESS:
                raise pcsc_error(hresult, reader, connecting=True)
            hresult, _, _, _, atr = scard.SCardStatus(card)
            if hresult != scard.SCARD_S_SUCCESS:
                raise pcsc_error(hresult, reader, connecting=True)
            self.atr = bytes(atr)
        except BaseException:
            self.close()
            raise
        log.debug("connected to %s (T=%d)", reader, 0 if protocol == scard.SCARD_PROTOCOL_T0 else 1)

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        if self._card is None:
            raise CardError("the connection is closed")
        pci = scard.SCARD_PCI_T0 if self.protocol == scard.SCARD_PROTOCOL_T0 else scard.SCARD_PCI_T1
        hresult, response = scard.SCardTransmit(self._card, pci, list(apdu))
        if hresult != scard.SCARD_S_SUCCESS:
            raise pcsc_error(hresult, self.reader)
        if len(response) < 2:
            raise BadResponseError("a response without a status word")
        return bytes(response[:-2]), (response[-2] << 8) | response[-1]

    def close(self) -> None:
        """End the transaction and disconnect (resetting the card unless told not to); idempotent."""
        card, context = self._card, self._context
        self._card = self._context = None
        if card is not None:
            scard.SCardEndTransaction(card, self._disposition)
            scard.SCardDisconnect(card, self._disposition)
        if context is not None:
            scard.SCardReleaseContext(context)

    def __enter__(self) -> PcscConnection:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


@contextmanager
def open_piv(reader: str, *, reset_on_close: bool = True) -> Iterator[PivSession]:
    """A ``PivSession`` on the card in ``reader``, disconnected (and reset) afterwards.

    The card service's card opener: ``with open_piv(reader) as piv: piv.select(); ...``
    """
    with PcscConnection(reader, reset_on_close=reset_on_close) as connection:
        yield PivSession(connection)
