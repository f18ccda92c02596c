"""A review submission whose body yields no form parts (garbage, or framed with another boundary than
its header names) is refused as unreadable, not as a form with every field missing."""

from __future__ import annotations

import random

import pytest

from backend.reviews.models import ReviewRequest

BOUNDARY = "header-boundary"
HEADERS = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def _framed(boundary: str) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in {"kind": "password", "name": "张三", "statement": "原手机号已停用"}.items()
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


@pytest.mark.parametrize(
    "body",
    [random.Random(9).randbytes(512), b"\x00\xff" * 64, _framed("another-boundary"), b""],
    ids=["random-bytes", "binary", "boundary-mismatch", "empty"],
)
async def test_a_body_without_form_parts_is_refused_as_unreadable(client, body: bytes):
    refused = await client.post("/api/reviews", content=body, headers=HEADERS)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "form_unreadable" and "无法读取" in error["message"]
    assert "必填" not in refused.text
    assert not await ReviewRequest.exists()


async def test_a_form_with_parts_still_names_its_missing_fields(client):
    named = await client.post("/api/reviews", content=_framed(BOUNDARY), headers=HEADERS)
    assert named.status_code == 422 and named.json()["error"]["code"] != "form_unreadable"
    assert "id_number" in named.json()["error"]["fields"]
