"""APDUs: the one I/O seam, command encoding, named status words, and the processors around the seam.

Shaped like yubikit's ``core/smartcard``: everything that talks to a card is a
``SmartCardConnection`` (``send_and_receive(apdu) -> (data, sw)``). Processors are connections
that wrap another one and smooth over transport quirks, so they chain::

    GetResponse(LeCorrection(PcscConnection(reader)))

``ApduProtocol`` sits on top: it encodes commands and turns any status word but 9000 into an
``ApduError``. Nothing here logs APDU data: a VERIFY command carries the PIN.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Protocol

from card_service.card.errors import ApduError, BadResponseError

log = logging.getLogger(__name__)


class SmartCardConnection(Protocol):
    """The seam: one command APDU out, the response data and status word back."""

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]: ...

    def close(self) -> None: ...


class SW(IntEnum):
    """Status words with a name (ISO 7816-4 and NIST SP 800-73-4)."""

    OK = 0x9000
    BYTES_REMAINING = 0x6100  # 61xx: xx more bytes wait for GET RESPONSE (00 means 256)
    VERIFY_FAIL = 0x63C0  # 63Cx: wrong PIN, x tries left
    WRONG_LENGTH = 0x6700
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    CONDITIONS_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED = 0x6986
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    INCORRECT_P1P2 = 0x6A86
    REFERENCE_NOT_FOUND = 0x6A88
    WRONG_LE = 0x6C00  # 6Cxx: repeat the command with Le = xx
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00


def sw1(sw: int) -> int:
    return sw >> 8


def short_length(sw: int) -> int:
    """The length in SW2 of a 61xx or 6Cxx answer (00 stands for 256)."""
    return sw & 0xFF or 256


INS_GET_RESPONSE = 0xC0


@dataclass(frozen=True)
class CommandApdu:
    """A command APDU. ``le`` is the most response bytes expected (None: no Le field).

    Short encoding unless the data exceeds 255 bytes, ``le`` exceeds 256, or ``extended`` is True.
    """

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    extended: bool = False

    def __post_init__(self) -> None:
        for value in (self.cla, self.ins, self.p1, self.p2):
            if not 0 <= value <= 0xFF:
                raise ValueError("APDU header bytes must be 0..255")
        if len(self.data) > 0xFFFF:
            raise ValueError("APDU data longer than 65535 bytes")
        if self.le is not None and not 1 <= self.le <= 0x10000:
            raise ValueError("Le must be 1..65536")

    @property
    def is_extended(self) -> bool:
        return self.extended or len(self.data) > 0xFF or (self.le or 0) > 0x100

    def encode(self) -> bytes:
        header = bytes([self.cla, self.ins, self.p1, self.p2])
        if not self.is_extended:
            body = bytes([len(self.data)]) + self.data if self.data else b""
            le = bytes([self.le & 0xFF]) if self.le is not None else b""  # 256 -> 00
            return header + body + le
        body = b"\x00" + len(self.data).to_bytes(2, "big") + self.data if self.data else b""
        le = b""
        if self.le is not None:
            le = (b"" if self.data else b"\x00") + (self.le & 0xFFFF).to_bytes(2, "big")  # 65536 -> 0000
        return header + body + le

    @classmethod
    def decode(cls, raw: bytes) -> CommandApdu:
        """Parse the four ISO 7816-3 cases, short and extended."""
        if len(raw) < 4:
            raise ValueError("an APDU has at least 4 bytes")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:  # case 1
            return cls(cla, ins, p1, p2)
        if len(body) == 1:  # case 2 short
            return cls(cla, ins, p1, p2, le=body[0] or 0x100)
        if body[0] != 0:  # short, case 3 or 4
            lc = body[0]
            if len(body) == 1 + lc:
                return cls(cla, ins, p1, p2, body[1:])
            if len(body) == 2 + lc:
                return cls(cla, ins, p1, p2, body[1 : 1 + lc], le=body[-1] or 0x100)
            raise ValueError("APDU length does not match Lc")
        if len(body) == 3:  # case 2 extended
            return cls(cla, ins, p1, p2, le=int.from_bytes(body[1:3], "big") or 0x10000, extended=True)
        lc = int.from_bytes(body[1:3], "big")
        if lc and len(body) == 3 + lc:
            return cls(cla, ins, p1, p2, body[3:], extended=True)
        if lc and len(body) == 5 + lc:
            le = int.from_bytes(body[-2:], "big") or 0x10000
            return cls(cla, ins, p1, p2, body[3 : 3 + lc], le=le, extended=True)
        raise ValueError("APDU length does not match Lc")


class Processor:
    """A connection that wraps another one; closing it closes the inner one."""

    def __init__(self, inner: SmartCardConnection) -> None:
        self.inner = inner

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        return self.inner.send_and_receive(apdu)

    def close(self) -> None:
        self.inner.close()


class LeCorrection(Processor):
    """6Cxx (wrong Le, xx bytes available): repeat the same command once with Le = xx."""

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        data, sw = self.inner.send_and_receive(apdu)
        if sw1(sw) == 0x6C:
            command = CommandApdu.decode(apdu)
            le = short_length(sw)
            log.debug("Le correction: INS %02X again with Le %d", command.ins, le)
            data, sw = self.inner.send_and_receive(replace(command, le=le).encode())
        return data, sw


class GetResponse(Processor):
    """61xx (xx more bytes): fetch them with GET RESPONSE until the card ends with another SW.

    A T=0 card answers long responses this way; PC/SC passes 61xx through to the application.
    """

    def __init__(self, inner: SmartCardConnection, *, max_rounds: int = 256) -> None:
        super().__init__(inner)
        self.max_rounds = max_rounds

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        data, sw = self.inner.send_and_receive(apdu)
        if sw1(sw) != 0x61:
            return data, sw
        cla = apdu[0] & ~0x10 & 0xFF  # without the command-chaining bit
        chunks = [data]
        rounds = 0
        while sw1(sw) == 0x61:
            rounds += 1
            if rounds > self.max_rounds:
                raise BadResponseError("the card kept answering 61xx")
            le = short_length(sw)
            data, sw = self.inner.send_and_receive(CommandApdu(cla, INS_GET_RESPONSE, 0, 0, le=le).encode())
            chunks.append(data)
        log.debug("GET RESPONSE: %d rounds, %d bytes", rounds, sum(map(len, chunks)))
        return b"".join(chunks), sw


def with_processors(connection: SmartCardConnection) -> SmartCardConnection:
    """The usual chain: GET RESPONSE outside, so its own commands get Le correction too."""
    return GetResponse(LeCorrection(connection))


class ApduProtocol:
    """Commands in, response data out; any status word but 9000 raises ``ApduError``."""

    def __init__(self, connection: SmartCardConnection) -> None:
        self.connection = with_processors(connection)

    def send_apdu(self, cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
        response, sw = self.transmit(CommandApdu(cla, ins, p1, p2, data, le))
        if sw != SW.OK:
            raise ApduError(sw, f"INS {ins:02X} answered SW {sw:04X}")
        return response

    def transmit(self, command: CommandApdu) -> tuple[bytes, int]:
        """The raw (data, sw) of a command, for callers that read status words themselves."""
        return self.connection.send_and_receive(command.encode())

    def close(self) -> None:
        self.connection.close()
