"""BER-TLV as PIV uses it: tags of one to three bytes, definite lengths of up to three bytes."""

from __future__ import annotations

from card_service.card.errors import BadResponseError


def tag_bytes(tag: int) -> bytes:
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    if length <= 0xFF:
        return bytes([0x81, length])
    if length <= 0xFFFF:
        return b"\x82" + length.to_bytes(2, "big")
    if length <= 0xFFFFFF:
        return b"\x83" + length.to_bytes(3, "big")
    raise ValueError("TLV value too long")


def tlv(tag: int, value: bytes) -> bytes:
    return tag_bytes(tag) + encode_length(len(value)) + value


def _read_tag(data: bytes, offset: int) -> tuple[int, int]:
    first = data[offset]
    tag, offset = first, offset + 1
    if first & 0x1F == 0x1F:  # more tag bytes follow, each with bit 8 set but the last
        while True:
            if offset >= len(data):
                raise BadResponseError("truncated TLV tag")
            byte = data[offset]
            tag, offset = (tag << 8) | byte, offset + 1
            if not byte & 0x80:
                break
    return tag, offset


def _read_length(data: bytes, offset: int) -> tuple[int, int]:
    if offset >= len(data):
        raise BadResponseError("truncated TLV length")
    first = data[offset]
    offset += 1
    if first < 0x80:
        return first, offset
    size = first & 0x7F
    if size == 0 or size > 3 or offset + size > len(data):
        raise BadResponseError("bad TLV length")
    return int.from_bytes(data[offset : offset + size], "big"), offset + size


def parse_tlvs(data: bytes) -> list[tuple[int, bytes]]:
    """The (tag, value) pairs of a concatenation of TLVs, in order."""
    items: list[tuple[int, bytes]] = []
    offset = 0
    while offset < len(data):
        tag, offset = _read_tag(data, offset)
        length, offset = _read_length(data, offset)
        if offset + length > len(data):
            raise BadResponseError("TLV value runs past the data")
        items.append((tag, data[offset : offset + length]))
        offset += length
    return items


def unwrap(data: bytes, tag: int) -> bytes:
    """The value of ``data`` that must be exactly one TLV with ``tag``."""
    items = parse_tlvs(data)
    if len(items) != 1 or items[0][0] != tag:
        raise BadResponseError(f"expected one TLV with tag {tag:X}")
    return items[0][1]


def find(items: list[tuple[int, bytes]], tag: int) -> bytes | None:
    return next((value for item_tag, value in items if item_tag == tag), None)
