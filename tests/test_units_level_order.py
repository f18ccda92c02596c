"""P1 unit tree: the region levels stay in order (province > city > county > township > village).

A region sits only below a region of a higher level (levels may be skipped: a village straight under
a county); co-ops, schools, employers, work teams and other units may sit anywhere. Creating, moving
and retyping a unit are refused when they would break that, with the levels named, and nothing
changes."""

from __future__ import annotations

import httpx

from backend.core.audit import AuditEntry
from backend.units import messages as msg
from backend.units.models import Unit, UnitType
from tests.factories import Tree, login, make_account, make_tree, make_unit

CODE = "unit_level_order"


async def _county_admin(client: httpx.AsyncClient, tree: Tree) -> dict[str, str]:
    await make_account("county_admin", tree.parent, role="admin")
    return await login(client, "county_admin")


def _refused(response: httpx.Response, field: str, child: str, parent: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    said = msg.LEVEL_ORDER_BELOW.format(child=child, parent=parent)
    assert error["code"] == CODE and error["message"] == said and error["fields"] == {field: said}


async def test_a_region_below_a_region_of_the_same_or_a_lower_level_is_not_created(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    for parent, unit_type, child, above in (
        (tree.child, "township", "乡镇", "村"),  # a township under a village
        (tree.own, "township", "乡镇", "乡镇"),  # a township under a township
        (tree.own, "county", "县", "乡镇"),
    ):
        new = {"parent_id": parent.id, "name": "新设单位", "type": unit_type}
        _refused(await client.post("/api/units/", headers=admin, json=new), "type", child, above)
    assert not await Unit.exists(name="新设单位")
    assert not await AuditEntry.exists(action="unit.create")


async def test_a_region_below_a_co_op_is_not_created_but_a_co_op_anywhere_is(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    coop = await make_unit("茶叶合作社", UnitType.COOP, tree.child)
    village = {"parent_id": coop.id, "name": "新村", "type": "village"}
    _refused(await client.post("/api/units/", headers=admin, json=village), "type", "村", "合作社")
    assert not await Unit.exists(parent_id=coop.id)
    for parent in (tree.parent, tree.own, tree.child, coop):
        team = {"parent_id": parent.id, "name": f"工作队{parent.id}", "type": "work_team"}
        assert (await client.post("/api/units/", headers=admin, json=team)).status_code == 201


async def test_a_level_may_be_skipped(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    new = {"parent_id": tree.parent.id, "name": "直属村", "type": "village", "region_code": "530101000001"}
    made = await client.post("/api/units/", headers=admin, json=new)
    assert made.status_code == 201, made.text


async def _city_tree() -> tuple[Unit, Unit, Unit, Unit]:
    """青山市 > 青山县 > 白沙镇, and 绿水县 under the city as well."""
    city = await make_unit("青山市", UnitType.CITY)
    county = await make_unit("青山县", UnitType.COUNTY, city)
    town = await make_unit("白沙镇", UnitType.TOWNSHIP, county)
    other_county = await make_unit("绿水县", UnitType.COUNTY, city)
    return city, county, town, other_county


async def test_a_county_is_not_moved_below_a_township_nor_a_village_below_a_co_op(client):
    city, county, town, other_county = await _city_tree()
    village = await make_unit("王家湾村", UnitType.VILLAGE, town)
    coop = await make_unit("茶叶合作社", UnitType.COOP, town)
    other_village = await make_unit("刘家岭村", UnitType.VILLAGE, other_county)
    await make_account("city_admin", city, role="admin")
    admin = await login(client, "city_admin")
    for unit, new_parent, child, above in (
        (other_county, town, "县", "乡镇"),
        (other_county, county, "县", "县"),
        (town, other_village, "乡镇", "村"),
        (village, coop, "村", "合作社"),
    ):
        moved = await client.post(f"/api/units/{unit.id}/move", headers=admin, json={"new_parent_id": new_parent.id})
        _refused(moved, "new_parent_id", child, above)
        assert (await Unit.get(id=unit.id)).path == unit.path
    assert not await AuditEntry.exists(action="unit.move")
    # a co-op goes anywhere; a township may hang straight below the city
    assert (
        await client.post(f"/api/units/{coop.id}/move", headers=admin, json={"new_parent_id": village.id})
    ).is_success
    moved = await client.post(f"/api/units/{town.id}/move", headers=admin, json={"new_parent_id": city.id})
    assert moved.status_code == 200, moved.text


async def test_a_type_change_above_the_parents_level_is_refused(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    for unit, new_type, child, above in ((tree.child, "township", "乡镇", "乡镇"), (tree.sibling, "city", "市", "县")):
        retyped = await client.patch(f"/api/units/{unit.id}", headers=admin, json={"type": new_type})
        _refused(retyped, "type", child, above)
        assert (await Unit.get(id=unit.id)).type == unit.type
    assert not await AuditEntry.exists(action="unit.update")


async def test_a_type_change_below_a_childs_level_is_refused_naming_the_child(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    await make_unit("茶叶合作社", UnitType.COOP, tree.own)
    for new_type, label in (("village", "村"), ("coop", "合作社"), ("school", "学校")):
        retyped = await client.patch(f"/api/units/{tree.own.id}", headers=admin, json={"type": new_type})
        assert retyped.status_code == 422, retyped.text
        error = retyped.json()["error"]
        said = msg.LEVEL_ORDER_RETYPE_CHILD.format(new=label, name=tree.child.name, child="村")
        assert error["code"] == CODE and error["message"] == said and error["fields"] == {"type": said}
        assert (await Unit.get(id=tree.own.id)).type == UnitType.TOWNSHIP
    assert not await AuditEntry.exists(action="unit.update")


async def test_a_type_change_that_keeps_the_levels_in_order_goes_through(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    # a village without region children may become a co-op; the co-op's work team does not matter
    await make_unit("一组", UnitType.WORK_TEAM, tree.child)
    retyped = await client.patch(f"/api/units/{tree.child.id}", headers=admin, json={"type": "coop"})
    assert retyped.status_code == 200, retyped.text
    # and back: a village below a township again
    back = await client.patch(f"/api/units/{tree.child.id}", headers=admin, json={"type": "village"})
    assert back.status_code == 200, back.text


async def test_a_form_sent_again_with_the_type_unchanged_is_not_refused_for_an_older_tree(client):
    """A tree stored before the rule (a township under a township) can still be edited: only a
    change of type is checked."""
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    older = await make_unit("老镇", UnitType.TOWNSHIP, tree.own)
    edited = await client.patch(f"/api/units/{older.id}", headers=admin, json={"name": "新镇", "type": "township"})
    assert edited.status_code == 200, edited.text
    assert (await Unit.get(id=older.id)).name == "新镇"
