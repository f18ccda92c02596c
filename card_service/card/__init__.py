"""The card layer, shaped like yubikit: one I/O seam, processors around it, typed errors, PIV on top.

- ``apdu``: ``SmartCardConnection`` (``send_and_receive(apdu) -> (data, sw)``), ``CommandApdu``,
  named status words ``SW``, the ``GetResponse`` (61xx) and ``LeCorrection`` (6Cxx) processors,
  ``ApduProtocol``;
- ``pcsc``: ``PcscConnection(reader)``, the seam over PC/SC (pyscard), and ``open_piv(reader)``;
- ``monitor``: ``CardMonitor(callback)``, readers and cards coming and going, PC/SC restarts;
- ``piv``: ``PivSession(connection)``: select, certificates, PIN, ECC P-256 signatures;
- ``errors``: ``CardError`` and its kinds (``ApduError(sw)``, ``InvalidPinError(retries_left)``, ...).

``card_service.fakes.soft_piv`` is a software PIV card for vpcd, for the tests and the demo.
"""

from card_service.card.apdu import SW, ApduProtocol, CommandApdu, GetResponse, LeCorrection, SmartCardConnection
from card_service.card.errors import (
    ApduError,
    BadResponseError,
    CardBusyError,
    CardError,
    CardMuteError,
    CardRemovedError,
    InvalidPinError,
    NoCardError,
    PinBlockedError,
    PinFormatError,
    PinRequiredError,
    ReaderUnavailableError,
    ServiceUnavailableError,
)
from card_service.card.monitor import (
    CardEvent,
    CardInserted,
    CardMonitor,
    CardRemoved,
    ReaderAdded,
    ReaderRemoved,
    ServiceLost,
    ServiceRestored,
)
from card_service.card.pcsc import PcscConnection, list_readers, open_piv
from card_service.card.piv import PivSession, Slot

__all__ = [
    "SW",
    "ApduError",
    "ApduProtocol",
    "BadResponseError",
    "CardBusyError",
    "CardError",
    "CardEvent",
    "CardInserted",
    "CardMonitor",
    "CardMuteError",
    "CardRemoved",
    "CardRemovedError",
    "CommandApdu",
    "GetResponse",
    "InvalidPinError",
    "LeCorrection",
    "NoCardError",
    "PcscConnection",
    "PinBlockedError",
    "PinFormatError",
    "PinRequiredError",
    "PivSession",
    "ReaderAdded",
    "ReaderRemoved",
    "ReaderUnavailableError",
    "ServiceLost",
    "ServiceRestored",
    "ServiceUnavailableError",
    "Slot",
    "SmartCardConnection",
    "list_readers",
    "open_piv",
]
