"""Typed card errors, each carrying what the caller needs (a status word, the PIN retries left).

No message ever holds APDU data: a VERIFY command carries the PIN.
"""

from __future__ import annotations


class CardError(Exception):
    """Anything that went wrong talking to a card, its reader or the PC/SC service."""


class ApduError(CardError):
    """The card answered a status word other than 9000."""

    def __init__(self, sw: int, message: str = "") -> None:
        self.sw = sw
        super().__init__(message or f"the card answered SW {sw:04X}")


class InvalidPinError(ApduError):
    """A wrong PIN; ``retries_left`` more tries before the PIN blocks."""

    def __init__(self, retries_left: int, sw: int | None = None) -> None:
        self.retries_left = retries_left
        super().__init__(0x63C0 | retries_left if sw is None else sw, f"wrong PIN, {retries_left} tries left")


class PinBlockedError(ApduError):
    """The PIN is blocked (no tries left); only the card issuer can unblock it."""

    def __init__(self, sw: int = 0x6983) -> None:
        super().__init__(sw, "the PIN is blocked")


class PinRequiredError(ApduError):
    """The operation needs a verified PIN first (6982); slot 9C needs it before every signature."""

    def __init__(self, sw: int = 0x6982) -> None:
        super().__init__(sw, "the PIN must be verified first")


class PinFormatError(CardError, ValueError):
    """The PIN is not 6 to 8 ASCII characters (refused before it reaches the card)."""


class BadResponseError(CardError):
    """The card's answer could not be parsed (wrong TLV, not a certificate, not a signature)."""


class CardRemovedError(CardError):
    """The card was removed (or reset by someone else) during or before the operation."""


class NoCardError(CardError):
    """The reader has no card in it."""


class CardMuteError(CardError):
    """A card is in the reader but does not answer: put in the wrong way round, dirty contacts, no chip."""


class ReaderUnavailableError(CardError):
    """The reader is unknown or went away."""

    def __init__(self, reader: str, message: str = "") -> None:
        self.reader = reader
        super().__init__(message or f"reader {reader!r} is not available")


class ServiceUnavailableError(CardError):
    """The PC/SC service (pcscd) is not running."""


class CardBusyError(CardError):
    """Another program holds the card exclusively (sharing violation)."""
