"""P1 moves: on record where the unit left as well as where it arrived (P10), and its co-op cards
carried into the new ancestors' roll-ups as they are (W4, D1)."""

from __future__ import annotations

import httpx

from backend.coops.models import CoopCard, CoopRollup
from backend.core.audit import AuditEntry, verify_chain
from backend.units import actions as unit_actions
from backend.units.models import Unit, UnitType
from tests.coops_helpers import actor_at, coop_card, expected_rollups, stored_rollups
from tests.factories import Tree, login, make_account, make_tree, make_unit


async def _admins(client: httpx.AsyncClient, tree: Tree) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The county's admin and the admins of the two townships (白沙镇 and 桃源乡)."""
    await make_account("county_admin", tree.parent, role="admin")
    await make_account("own_admin", tree.own, role="admin")
    await make_account("sibling_admin", tree.sibling, role="admin")
    return (
        await login(client, "county_admin"),
        await login(client, "own_admin"),
        await login(client, "sibling_admin"),
    )


async def _moves_seen(client: httpx.AsyncClient, headers: dict[str, str], unit_id: int) -> list[dict]:
    page = await client.get("/api/audit/", headers=headers, params={"action": "unit.move", "limit": 200})
    assert page.status_code == 200, page.text
    return [item for item in page.json()["items"] if item["target_id"] == str(unit_id)]


async def test_the_township_a_village_left_sees_in_its_audit_log_that_it_was_moved_away(client):
    tree = await make_tree()
    county, own, sibling = await _admins(client, tree)
    moved = await client.post(
        f"/api/units/{tree.child.id}/move", headers=county, json={"new_parent_id": tree.sibling.id}
    )
    assert moved.status_code == 200, moved.text
    left = await _moves_seen(client, own, tree.child.id)
    arrived = await _moves_seen(client, sibling, tree.child.id)
    for seen in (left, arrived):
        assert len(seen) == 1
        assert (seen[0]["detail"]["from_parent_id"], seen[0]["detail"]["to_parent_id"]) == (
            tree.own.id,
            tree.sibling.id,
        )
    assert left[0]["detail"]["side"] == "from" and arrived[0]["detail"]["side"] == "to"
    old_place = await AuditEntry.get(id=left[0]["id"])
    assert old_place.scope_path == tree.child.path  # where the village was
    assert (await verify_chain()).ok


async def test_a_move_within_the_old_parents_subtree_is_recorded_once(client):
    """Below the old parent still: whoever saw the unit where it was sees it where it is."""
    tree = await make_tree()
    county, own, _ = await _admins(client, tree)
    team = await make_unit("一组", UnitType.WORK_TEAM, tree.own)
    moved = await client.post(f"/api/units/{team.id}/move", headers=county, json={"new_parent_id": tree.child.id})
    assert moved.status_code == 200, moved.text
    assert len(await _moves_seen(client, own, team.id)) == 1
    entry = await AuditEntry.get(action="unit.move")
    assert entry.scope_path == (await Unit.get(id=team.id)).path


async def test_a_refused_move_leaves_no_entry_in_either_place(client):
    tree = await make_tree()
    county, _, _ = await _admins(client, tree)
    refused = await client.post(f"/api/units/{tree.own.id}/move", headers=county, json={"new_parent_id": tree.child.id})
    assert refused.status_code == 422
    assert not await AuditEntry.filter(action="unit.move").exists()


async def test_a_coop_moved_to_another_county_keeps_its_card_and_the_rollups_equal_a_recomputation():
    """The poverty-county flag is the clerk's entry on the card (no county holds one): the move
    carries the card as it is, out of one county's totals and into the other's."""
    city = await make_unit("昆明市", UnitType.CITY, region_code="530100000000")
    poor = await make_unit("石门县", UnitType.COUNTY, city, region_code="530101000000")
    village = await make_unit("刘家岭村", UnitType.VILLAGE, poor, region_code="530101002001")
    coop = await make_unit("刘家岭村茶叶合作社", UnitType.COOP, village)
    await coop_card(coop, members=99, is_village_level=True, in_poverty_county=True)
    other = await make_unit("龙泉县", UnitType.COUNTY, city, region_code="530102000000")
    await unit_actions.move_unit(actor_at(city), village.id, new_parent_id=other.id)
    assert await stored_rollups() == await expected_rollups()
    assert (await CoopCard.get(unit_id=coop.id)).in_poverty_county
    rows = CoopRollup.filter(unit_id__in=[city.id, poor.id, other.id])
    assert dict(await rows.values_list("unit_id", "poverty_county")) == {city.id: 1, poor.id: 0, other.id: 1}
