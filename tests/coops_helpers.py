"""Set-up shared by the co-op and summary tests: a small region tree with co-ops and their cards.

Cards are written through the card action (with a set-up actor at the root), so their roll-ups are
those the product keeps, not hand-made ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from backend.coops import actions
from backend.coops.rollups import COUNTERS, recompute
from backend.core.actor import Actor, Origin
from backend.core.roles import FinanceAccess, Role
from backend.units.models import Unit, UnitType
from tests.factories import login, make_account, make_unit


def actor_at(unit: Unit, role: Role = Role.ADMIN, finance: FinanceAccess = FinanceAccess.ALL) -> Actor:
    """An actor for calling actions directly (set-up and property tests; the HTTP tests log in)."""
    return Actor(
        account_id=0,
        username="setup",
        session_id="setup",
        membership_id=0,
        unit_id=unit.id,
        unit_path=unit.path,
        unit_depth=unit.depth,
        role=role,
        finance_access=finance,
        origin=Origin(),
    )


@dataclass
class World:
    """青山县 > 白沙镇 > 王家湾村 / 李家坪村, and the sibling 青山县 > 桃源乡 > 刘家岭村, with co-ops:

    - 白沙镇供销社 directly under 白沙镇 (township level, benchmark);
    - 王家湾村 has 茶叶社 (village level, benchmark, with coordinates) and 果蔬社 (village level);
    - 李家坪村 has 李家坪综合社 (village level, no card yet);
    - 刘家岭村 (in the sibling township) has 刘家岭社 (village level, benchmark): never visible from 白沙镇.
    """

    county: Unit
    town: Unit
    village: Unit
    village2: Unit
    sibling: Unit
    sibling_village: Unit
    town_coop: Unit
    tea: Unit
    veg: Unit
    bare: Unit
    sibling_coop: Unit


async def coop_card(unit: Unit, **fields: Any) -> None:
    root = await Unit.get(path=f"/{unit.path.strip('/').split('/')[0]}/")
    await actions.create_card(actor_at(root), unit_id=unit.id, fields=fields)


async def make_world() -> World:
    county = await make_unit("青山县", UnitType.COUNTY, region_code="530101000000")
    town = await make_unit("白沙镇", UnitType.TOWNSHIP, county, region_code="530101001000")
    village = await make_unit("王家湾村", UnitType.VILLAGE, town, region_code="530101001001")
    village2 = await make_unit("李家坪村", UnitType.VILLAGE, town, region_code="530101001002")
    sibling = await make_unit("桃源乡", UnitType.TOWNSHIP, county, region_code="530101002000")
    sibling_village = await make_unit("刘家岭村", UnitType.VILLAGE, sibling, region_code="530101002001")
    world = World(
        county=county,
        town=town,
        village=village,
        village2=village2,
        sibling=sibling,
        sibling_village=sibling_village,
        town_coop=await make_unit("白沙镇供销社", UnitType.COOP, town),
        tea=await make_unit("王家湾村茶叶专业合作社", UnitType.COOP, village),
        veg=await make_unit("王家湾村果蔬合作社", UnitType.COOP, village),
        bare=await make_unit("李家坪综合社", UnitType.COOP, village2),
        sibling_coop=await make_unit("刘家岭村茶叶合作社", UnitType.COOP, sibling_village),
    )
    await coop_card(world.town_coop, members=300, staff=20, assets=500, revenue=800, profit=12.5, is_benchmark=True)
    await coop_card(
        world.tea,
        members=120,
        staff=8,
        registered_capital=50,
        assets=123.456789,
        revenue=88,
        profit=-1.5,
        contact_name="王建国",
        contact_phone="13912345678",
        latitude=25.04,
        longitude=102.71,
        is_village_level=True,
        is_benchmark=True,
    )
    await coop_card(world.veg, members=60, staff=3, assets=20, revenue=30, profit=2, is_village_level=True)
    await coop_card(
        world.sibling_coop,
        members=999,
        staff=99,
        assets=7777,
        latitude=25.5,
        longitude=102.9,
        is_village_level=True,
        is_benchmark=True,
        in_poverty_county=True,
    )
    return world


async def login_at(
    client: httpx.AsyncClient,
    username: str,
    unit: Unit,
    role: Role = Role.VIEWER,
    finance: FinanceAccess = FinanceAccess.NONE,
) -> dict[str, str]:
    await make_account(username, unit, role=role, finance=finance)
    return await login(client, username)


async def chat(client: httpx.AsyncClient, headers: dict[str, str], text: str | None = None, **action: Any) -> dict:
    payload: dict[str, Any] = {"text": text} if text is not None else {"action": action}
    response = await client.post("/api/chat", json=payload, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def blocks(reply: dict, kind: str) -> list[dict]:
    return [b for b in reply["blocks"] if b["type"] == kind]


def fields(card: dict) -> dict[str, str]:
    return {f["label"]: f["value"] for f in card["fields"]}


async def stored_rollups() -> dict[int, tuple[int, ...]]:
    """Roll-up rows as stored, zero rows left out (a zero row and no row mean the same)."""
    from backend.coops.models import CoopRollup

    rows = await CoopRollup.all()
    stored = {r.unit_id: tuple(getattr(r, name) for name in COUNTERS) for r in rows}
    return {unit_id: totals for unit_id, totals in stored.items() if any(totals)}


async def expected_rollups() -> dict[int, tuple[int, ...]]:
    """An independent recomputation: walk every card's unit up through the parents in Python."""
    from backend.coops.models import CoopCard

    parents = dict(await Unit.all().values_list("id", "parent_id"))
    sums: dict[int, list[int]] = {}
    for card in await CoopCard.all():
        values = (
            1,
            int(card.is_village_level),
            int(card.is_benchmark),
            int(card.in_poverty_county),
            card.members,
            card.staff,
            card.registered_capital_fen or 0,
            card.assets_fen or 0,
            card.revenue_fen or 0,
            card.profit_fen or 0,
            card.registered_capital_fen is not None,
            card.assets_fen is not None,
            card.revenue_fen is not None,
            card.profit_fen is not None,
        )
        unit_id: int | None = card.unit_id
        while unit_id is not None:
            row = sums.setdefault(unit_id, [0] * len(COUNTERS))
            for i, value in enumerate(values):
                row[i] += value
            unit_id = parents[unit_id]
    expected = {unit_id: tuple(row) for unit_id, row in sums.items()}
    assert expected == {k: v for k, v in (await recompute()).items() if any(v)}  # the product's own recomputation
    return {unit_id: totals for unit_id, totals in expected.items() if any(totals)}
