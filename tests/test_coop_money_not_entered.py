"""D1: a money figure no one has entered is "未填报", not a zero no one typed: a clerk without finance
access writes a card without its money, and the averages, lists and rankings by a figure leave out
the cards that do not have it (the roll-ups count, per figure, the cards that have it)."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from backend.coops.models import CoopCard
from backend.core import runtime
from backend.core.roles import FinanceAccess, Role
from backend.units.models import UnitType
from tests.coops_helpers import (
    blocks,
    chat,
    coop_card,
    expected_rollups,
    fields,
    login_at,
    make_world,
    stored_rollups,
)
from tests.factories import make_unit
from tests.test_units_delete_decided import _migrate


async def test_a_card_a_clerk_without_finance_access_writes_has_its_money_not_entered(client: httpx.AsyncClient):
    w = await make_world()
    new = await make_unit("王家湾村电商合作社", UnitType.COOP, w.village)
    clerk = await login_at(client, "clerk_none", w.town, Role.CLERK, FinanceAccess.NONE)
    created = await client.post("/api/coops/", headers=clerk, json={"unit_id": new.id, "members": 40})
    assert created.status_code == 201, created.text
    stored = await CoopCard.get(unit_id=new.id)
    assert (stored.members, stored.assets_fen, stored.revenue_fen, stored.profit_fen) == (40, None, None, None)
    admin = await login_at(client, "town_all", w.town, Role.ADMIN, FinanceAccess.ALL)
    card = (await client.get(f"/api/coops/{new.id}", headers=admin)).json()
    assert (card["assets"], card["revenue"], card["profit"], card["registered_capital"]) == ("未填报",) * 4
    shown = fields(blocks(await chat(client, admin, "王家湾村电商合作社的信息卡"), "card")[0])
    assert shown["资产总额"].startswith("未填报"), shown
    # Someone with access fills one figure in later: that one is entered, the others still are not.
    filled = await client.patch(f"/api/coops/{new.id}", headers=admin, json={"assets": 15})
    assert filled.status_code == 200, filled.text
    assert (filled.json()["assets"], filled.json()["revenue"]) == ("15.00", "未填报")
    assert await stored_rollups() == await expected_rollups()


async def test_averages_are_over_the_cards_that_have_the_figure(client: httpx.AsyncClient):
    """白沙镇's three cards all have their assets; a fourth without any money leaves the average
    alone (it was pulled down as if its assets were 0); a figure no card in the region has reads "—"."""
    w = await make_world()
    admin = await login_at(client, "town_all", w.town, Role.ADMIN, FinanceAccess.ALL)
    stats = (await client.get("/api/coops/stats", headers=admin)).json()
    assert stats["totals"]["coops"] == 3
    assert stats["avg_assets"] == "214.49"  # (500 + 123.456789 + 20) / 3: every card has assets
    new = await make_unit("李家坪村新社", UnitType.COOP, w.village2)
    await coop_card(new, members=10)  # no money at all
    stats = (await client.get("/api/coops/stats", headers=admin)).json()
    assert stats["totals"]["coops"] == 4 and stats["avg_assets"] == "214.49"  # still over the three
    only_new = (await client.get("/api/coops/stats", headers=admin, params={"region_id": w.village2.id})).json()
    assert only_new["avg_assets"] == "—" and only_new["avg_members"] == 10.0


async def test_a_card_without_a_figure_is_in_no_list_or_ranking_by_it(client: httpx.AsyncClient):
    w = await make_world()
    new = await make_unit("王家湾村电商合作社", UnitType.COOP, w.village)
    await coop_card(new, members=5)
    admin = await login_at(client, "town_all", w.town, Role.ADMIN, FinanceAccess.ALL)
    below = blocks(await chat(client, admin, "资产100万以下的合作社"), "table")
    names = [row[0] for table in below for row in table["rows"]]
    assert "王家湾村电商合作社" not in names
    least = blocks(await chat(client, admin, "资产最少的合作社"), "table")[0]
    assert "王家湾村电商合作社" not in [row[0] for row in least["rows"]]
    assert least["rows"][0][0] == "王家湾村果蔬合作社"


async def test_the_migration_keeps_every_card_s_figures_and_counts_them_entered(settings, tmp_path):
    """A database at 0017 with a card and its roll-ups: the figures stay, a figure may now be NULL,
    the card's unique index is still there, and every roll-up counts the card as having each figure."""
    if settings.dialect != "sqlite":
        pytest.skip("the database before the migration is built with SQLite")
    database = tmp_path / "before.sqlite3"
    _migrate(database, "cunwu.0017_card_issued_at")
    now = runtime.get().clock.now().isoformat()
    with sqlite3.connect(database) as connection:
        for unit_id, parent, path, kind in ((1, None, "/1/", "county"), (2, 1, "/1/2/", "coop")):
            connection.execute(
                "INSERT INTO unit (id, parent_id, name, type, path, depth, created_at, updated_at, name_pinyin, "
                "name_initials) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'danwei', 'dw')",
                [unit_id, parent, f"单位{unit_id}", kind, path, path.count("/") - 2, now, now],
            )
        connection.execute(
            "INSERT INTO coop_card (unit_id, members, staff, registered_capital_fen, assets_fen, revenue_fen, "
            "profit_fen, business_scope, is_village_level, is_benchmark, in_poverty_county, created_at, updated_at) "
            "VALUES (2, 7, 1, 0, 5000000, 0, -100, '', 0, 0, 0, ?, ?)",
            [now, now],
        )
        for unit_id in (1, 2):
            connection.execute(
                "INSERT INTO coop_rollup (unit_id, coops, village_level, benchmark, poverty_county, members, staff, "
                "registered_capital_fen, assets_fen, revenue_fen, profit_fen, updated_at) "
                "VALUES (?, 1, 0, 0, 0, 7, 1, 0, 5000000, 0, -100, ?)",
                [unit_id, now],
            )
    _migrate(database)
    with sqlite3.connect(database) as connection:
        card = connection.execute("SELECT members, assets_fen, revenue_fen, profit_fen FROM coop_card").fetchall()
        entered = connection.execute(
            "SELECT unit_id, registered_capital_entered, assets_entered, revenue_entered, profit_entered "
            "FROM coop_rollup ORDER BY unit_id"
        ).fetchall()
        indexes = {row[1] for row in connection.execute("PRAGMA index_list('coop_card')")}
        connection.execute("UPDATE coop_card SET revenue_fen = NULL")  # nullable now
    assert card == [(7, 5000000, 0, -100)]
    assert entered == [(1, 1, 1, 1, 1), (2, 1, 1, 1, 1)]
    assert "uniq_coop_card_unit" in indexes


async def test_a_unit_whose_cards_have_no_figure_is_not_ranked_by_it_and_its_total_is_not_entered(
    client: httpx.AsyncClient,
):
    """李家坪村's only card has no money: "资产最少的村" put it first at 0.00, and its summary showed 0.00."""
    w = await make_world()
    await coop_card(w.bare, members=12)
    admin = await login_at(client, "county_all", w.county, Role.ADMIN, FinanceAccess.ALL)
    least = blocks(await chat(client, admin, "资产最少的村"), "table")[0]
    assert "李家坪村" not in [row[0] for row in least["rows"]]
    summary = (await client.get("/api/coops/summary", headers=admin, params={"unit_id": w.village2.id})).json()
    assert (summary["unit"]["coops"], summary["unit"]["assets"]) == (1, "未填报")
    town = blocks(await chat(client, admin, "汇总 白沙镇"), "table")[0]
    [row] = [row for row in town["rows"] if row[0] == "李家坪村"]
    assert row[-1] == "未填报"
