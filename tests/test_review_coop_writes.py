"""Review of the co-op card writes (D1) through the REST API: input checks, and what a refused write
leaves behind (nothing: no card, no roll-up, no audit entry)."""

from __future__ import annotations

import httpx
import pytest

from backend.coops.models import CoopCard
from backend.core import db
from backend.core.audit import AuditEntry
from backend.core.roles import FinanceAccess, Role
from tests.coops_helpers import World, login_at, make_world, stored_rollups


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


async def _clerk(client: httpx.AsyncClient, w: World) -> dict[str, str]:
    return await login_at(client, "town_clerk", w.town, Role.CLERK, FinanceAccess.ALL)


def _json(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "content-type": "application/json"}


@pytest.mark.parametrize(
    "number",
    [
        "12.3400000000000000000000000000001",  # read through a float: 12.34
        "1.00000000000000001",  # 1
        "99999999.9999999999",  # 100000000, the largest figure allowed
        "1e-400",  # 0
        "-1e-400",  # -0.0, and so past "not negative"
    ],
)
async def test_a_money_figure_sent_as_a_json_number_finer_than_a_fen_is_refused_not_rounded(client, number):
    """The same digits sent as a string were refused (MONEY_TOO_PRECISE); sent as a JSON number they
    were rounded through a float and stored as another figure than the one typed."""
    w = await make_world()
    clerk = await _clerk(client, w)
    before = await stored_rollups()
    created = await client.post(
        "/api/coops/", headers=_json(clerk), content=f'{{"unit_id": {w.bare.id}, "assets": {number}}}'
    )
    assert created.status_code == 422, created.text
    error = created.json()["error"]
    # below zero as well as too fine: either refusal is true
    wanted = "数值超出范围" if number.startswith("-") else "小数点后 6 位"
    assert error["code"] == "invalid_input" and wanted in error["fields"]["assets"]
    assert not await CoopCard.exists(unit_id=w.bare.id)
    changed = await client.patch(f"/api/coops/{w.tea.id}", headers=_json(clerk), content=f'{{"revenue": {number}}}')
    assert changed.status_code == 422, changed.text
    assert (await CoopCard.get(unit_id=w.tea.id)).revenue_fen == 88_000_000
    assert (
        await stored_rollups() == before
        and not await AuditEntry.filter(action__startswith="coop.card")
        .exclude(target_id__in=[str(u.id) for u in (w.town_coop, w.tea, w.veg, w.sibling_coop)])
        .exists()
    )


async def test_money_sent_as_json_numbers_keeps_every_digit_up_to_the_fen(client):
    w = await make_world()
    clerk = await _clerk(client, w)
    body = '{"assets": 12345678.123456, "revenue": 0.000001, "profit": -99999999.999999, "registered_capital": 7}'
    response = await client.patch(f"/api/coops/{w.tea.id}", headers=_json(clerk), content=body)
    assert response.status_code == 200, response.text
    card = await CoopCard.get(unit_id=w.tea.id)
    assert (card.assets_fen, card.revenue_fen) == (12_345_678_123_456, 1)
    assert (card.profit_fen, card.registered_capital_fen) == (-99_999_999_999_999, 7_000_000)


@pytest.mark.parametrize(
    ("field", "year", "first"),
    [
        ("founded_year", 1899, "1900"),
        ("founded_year", 1, "1900"),
        ("report_year", 1948, "1949"),
        ("report_year", 1900, "1949"),
    ],
)
async def test_a_year_too_early_is_refused_with_a_message_naming_the_first_year(client, field, year, first):
    """1900-1948 were stored as a report's year, and a year before 1900 got only "数值超出范围"."""
    w = await make_world()
    clerk = await _clerk(client, w)
    response = await client.post("/api/coops/", headers=clerk, json={"unit_id": w.bare.id, field: year})
    assert response.status_code == 422, response.text
    assert first in response.json()["error"]["fields"][field]
    assert not await CoopCard.exists(unit_id=w.bare.id)
    patched = await client.patch(f"/api/coops/{w.tea.id}", headers=clerk, json={field: year})
    assert patched.status_code == 422 and first in patched.json()["error"]["fields"][field]
    assert getattr(await CoopCard.get(unit_id=w.tea.id), field) is None


async def test_the_first_years_are_allowed_and_an_older_stored_year_does_not_block_other_changes(client):
    w = await make_world()
    clerk = await _clerk(client, w)
    accepted = await client.patch(
        f"/api/coops/{w.tea.id}", headers=clerk, json={"founded_year": 1900, "report_year": 1949}
    )
    assert accepted.status_code == 200 and (accepted.json()["founded_year"], accepted.json()["report_year"]) == (
        1900,
        1949,
    )
    await db.execute("UPDATE coop_card SET founded_year = 1899 WHERE unit_id = ?", [w.veg.id])  # kept from before
    other = await client.patch(f"/api/coops/{w.veg.id}", headers=clerk, json={"members": 61})
    assert other.status_code == 200 and other.json()["founded_year"] == 1899


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [(102.71, 25.04), (121.47, 31.23), (73.5, 53.9)],
)
async def test_swapped_coordinates_are_told_as_swapped(client, latitude, longitude):
    """102.71, 25.04 answered "数值超出范围" for the latitude alone: the clerk was not told the two
    were simply the wrong way round (a frequent slip: many map tools show longitude first)."""
    w = await make_world()
    clerk = await _clerk(client, w)
    response = await client.patch(
        f"/api/coops/{w.tea.id}", headers=clerk, json={"latitude": latitude, "longitude": longitude}
    )
    assert response.status_code == 422, response.text
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"latitude", "longitude"} and all("填反" in text for text in fields.values())
    card = await CoopCard.get(unit_id=w.tea.id)
    assert (card.latitude, card.longitude) == (25.04, 102.71)


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"latitude": 95, "longitude": 102}, "latitude", "纬度"),  # not a mere "数值超出范围"
        ({"latitude": 25, "longitude": 190}, "longitude", "经度"),
        ({"latitude": -25, "longitude": 102}, "latitude", "纬度"),
    ],
)
async def test_coordinates_out_of_china_say_which_and_why(client, payload, field, words):
    w = await make_world()
    clerk = await _clerk(client, w)
    response = await client.post("/api/coops/", headers=clerk, json={"unit_id": w.bare.id, **payload})
    assert response.status_code == 422, response.text
    text = response.json()["error"]["fields"][field]
    assert words in text and "我国范围" in text and _chinese(text)
    assert not await CoopCard.exists(unit_id=w.bare.id)
