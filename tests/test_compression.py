"""Answers gzipped with a window sized to the body: the same bytes back, no bigger than zlib's defaults."""

from __future__ import annotations

import gzip
import json

import pytest

from backend.core.compression import accepts_gzip, gzipped


def _answer(size: int) -> bytes:
    rows = [[f"王家湾村{i}", str(i % 7), str(i * 13 % 101), f"{i * 7.31:.2f}"] for i in range(size // 20 + 1)]
    return json.dumps({"blocks": [{"type": "table", "rows": rows}]}, ensure_ascii=False).encode()[:size]


@pytest.mark.parametrize("size", [512, 1_000, 1_024, 1_025, 4_096, 30_000, 32_768, 32_769, 200_000])
def test_a_gzipped_answer_decompresses_to_the_same_bytes_and_is_no_bigger_than_with_zlib_defaults(size):
    body = _answer(size)
    packed = gzipped(body)
    assert gzip.decompress(packed) == body
    assert len(packed) <= len(gzip.compress(body, compresslevel=6, mtime=0))


def test_the_same_answer_is_gzipped_to_the_same_bytes_every_time():
    body = _answer(2_000)
    assert gzipped(body) == gzipped(body)
    assert gzipped(body)[4:8] == b"\x00\x00\x00\x00"  # no modification time: caches and ETags stay stable


@pytest.mark.parametrize(
    ("header", "takes"),
    [
        ("gzip", True),
        ("GZIP", True),  # codings are case-insensitive
        ("gzip, deflate, br", True),
        ("identity, gzip;q=0", False),  # named, and refused
        ("gzip; q=0.000", False),
        ("*", True),
        ("*;q=0", False),
        ("gzip;q=0, *", False),  # gzip named: its own q counts
        ("deflate", False),
        ("", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_gzip_is_sent_only_to_a_client_whose_accept_encoding_takes_it(header, takes):
    assert accepts_gzip(header) is takes
