"""A county's 6-digit region code, as cadres write it ("530101汇总", "查 530101"), names the unit
whose 12-digit code is it followed by zeros; only 12-digit codes were read ("没有找到“530101”")."""

from __future__ import annotations

import pytest

from backend.core.roles import Role
from tests.coops_helpers import blocks, chat, login_at, make_world


def _first_title(reply: dict) -> str | None:
    titled = [b for b in reply["blocks"] if b["type"] in ("card", "table", "map")]
    return titled[0]["title"] if titled else None


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("530101汇总", "青山县合作社汇总"),
        ("汇总 530101", "青山县合作社汇总"),
        ("530101", "青山县"),
        ("查 530101", "青山县"),
        ("530101的下级单位", "青山县的下级单位"),
    ],
)
async def test_a_six_digit_county_code_names_the_county_in_scope(client, text, title):
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county, role=Role.VIEWER)
    assert _first_title(await chat(client, headers, text)) == title, text


async def test_a_six_digit_code_outside_the_scope_or_of_no_county_finds_nothing(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    for text in ("530101汇总", "查 530101", "530102"):
        reply = await chat(client, headers, text)
        assert _first_title(reply) is None and "青山县" not in str(reply), text
        assert blocks(reply, "notice"), text
