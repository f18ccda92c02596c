"""APDU encoding and the processors around the seam, on an in-memory connection (no PC/SC)."""

from __future__ import annotations

import pytest

from card_service.card import SW, ApduError, ApduProtocol, CommandApdu, GetResponse, LeCorrection
from card_service.card.apdu import with_processors
from card_service.card.errors import BadResponseError


class ScriptedConnection:
    """Answers each APDU with the next scripted (data, sw) and records what it was sent."""

    def __init__(self, *answers: tuple[bytes, int]) -> None:
        self.answers = list(answers)
        self.sent: list[bytes] = []
        self.closed = False

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        self.sent.append(apdu)
        return self.answers.pop(0)

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("command", "encoded"),
    [
        (CommandApdu(0x00, 0xA4, 0x04, 0x00), "00A40400"),
        (CommandApdu(0x00, 0xC0, 0x00, 0x00, le=0x1B), "00C000001B"),
        (CommandApdu(0x00, 0xC0, 0x00, 0x00, le=256), "00C0000000"),
        (CommandApdu(0x00, 0x20, 0x00, 0x80, b"\x31\x32"), "00200080023132"),
        (CommandApdu(0x00, 0xA4, 0x04, 0x00, bytes.fromhex("A000000308"), le=256), "00A4040005A00000030800"),
        (CommandApdu(0x00, 0xB0, 0x00, 0x00, le=65536), "00B00000000000"),
        (CommandApdu(0x00, 0xB0, 0x00, 0x00, le=1000), "00B000000003E8"),
        (CommandApdu(0x00, 0xDB, 0x3F, 0xFF, b"\xaa" * 300), "00DB3FFF00012C" + "AA" * 300),
        (CommandApdu(0x00, 0xDB, 0x3F, 0xFF, b"\xaa" * 300, le=256), "00DB3FFF00012C" + "AA" * 300 + "0100"),
        (CommandApdu(0x00, 0x87, 0x11, 0x9A, b"\x01", le=256, extended=True), "0087119A000001010100"),
    ],
)
def test_commands_encode_short_or_extended_and_decode_back(command: CommandApdu, encoded: str) -> None:
    assert command.encode().hex().upper() == encoded
    decoded = CommandApdu.decode(bytes.fromhex(encoded))
    assert (decoded.encode(), decoded.data, decoded.le) == (command.encode(), command.data, command.le)


@pytest.mark.parametrize("raw", ["00A404", "00A4040003A000", "00A40400000005A0"])
def test_malformed_commands_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        CommandApdu.decode(bytes.fromhex(raw))


def test_out_of_range_fields_are_refused() -> None:
    with pytest.raises(ValueError):
        CommandApdu(0x100, 0, 0, 0)
    with pytest.raises(ValueError):
        CommandApdu(0, 0, 0, 0, le=0)


def test_get_response_collects_61xx_chunks_until_9000() -> None:
    inner = ScriptedConnection((b"a" * 256, 0x6100), (b"b" * 256, 0x6110), (b"c" * 16, SW.OK))
    data, sw = GetResponse(inner).send_and_receive(bytes.fromhex("00CB3FFF055C035FC10500"))
    assert (data, sw) == (b"a" * 256 + b"b" * 256 + b"c" * 16, SW.OK)
    # 61 00 asks for 256 more, 61 10 for 16
    assert inner.sent[1:] == [bytes.fromhex("00C0000000"), bytes.fromhex("00C0000010")]


def test_get_response_keeps_the_final_error_status() -> None:
    inner = ScriptedConnection((b"a" * 10, 0x6105), (b"", 0x6F00))
    assert GetResponse(inner).send_and_receive(bytes.fromhex("00CA000000")) == (b"a" * 10, 0x6F00)


def test_get_response_gives_up_on_a_card_that_never_stops_chaining() -> None:
    inner = ScriptedConnection(*[(b"x", 0x6101)] * 10)
    with pytest.raises(BadResponseError):
        GetResponse(inner, max_rounds=5).send_and_receive(bytes.fromhex("00CA000000"))


def test_get_response_passes_other_answers_through() -> None:
    inner = ScriptedConnection((b"", 0x63C2))
    assert GetResponse(inner).send_and_receive(bytes.fromhex("002000800831323334353637FF")) == (b"", 0x63C2)
    assert len(inner.sent) == 1


def test_le_correction_repeats_the_command_with_the_le_the_card_names() -> None:
    inner = ScriptedConnection((b"", 0x6C1B), (b"z" * 0x1B, SW.OK))
    data, sw = LeCorrection(inner).send_and_receive(bytes.fromhex("00A4040005A00000030800"))
    assert (data, sw) == (b"z" * 0x1B, SW.OK)
    assert inner.sent[1] == bytes.fromhex("00A4040005A0000003081B")


def test_le_correction_retries_only_once() -> None:
    inner = ScriptedConnection((b"", 0x6C10), (b"", 0x6C08))
    assert LeCorrection(inner).send_and_receive(bytes.fromhex("00CA000000")) == (b"", 0x6C08)
    assert len(inner.sent) == 2


def test_get_response_commands_are_le_corrected_too() -> None:
    inner = ScriptedConnection((b"a" * 4, 0x6100), (b"", 0x6C20), (b"b" * 0x20, SW.OK))
    data, sw = with_processors(inner).send_and_receive(bytes.fromhex("00CA000000"))
    assert (data, sw) == (b"a" * 4 + b"b" * 0x20, SW.OK)
    assert inner.sent[1:] == [bytes.fromhex("00C0000000"), bytes.fromhex("00C0000020")]


def test_the_protocol_raises_apdu_error_carrying_the_status_word() -> None:
    inner = ScriptedConnection((b"", SW.FILE_NOT_FOUND))
    with pytest.raises(ApduError) as raised:
        ApduProtocol(inner).send_apdu(0x00, 0xA4, 0x04, 0x00, b"\xa0\x00", le=256)
    assert raised.value.sw == SW.FILE_NOT_FOUND
    assert "6A82" in str(raised.value)


def test_closing_the_chain_closes_the_connection() -> None:
    inner = ScriptedConnection()
    ApduProtocol(inner).close()
    assert inner.closed
