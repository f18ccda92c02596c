"""P1: one parent holds no two units of the same name, and no two region units hold one region code
(a double-tapped create made a second 王家湾村 under 白沙镇; chat and REST lookups then could not tell them apart)."""

from __future__ import annotations

import asyncio

import httpx

from backend.accounts.models import Account
from backend.registration.models import RegistrationStatus, UnitRegistration
from backend.units.models import Unit, UnitType
from tests.factories import Tree, login, make_account, make_tree, make_unit
from tests.test_registration import reviewer, submitted

SAME_NAME = "白沙镇下已有名为“王家湾村”的单位"
SAME_CODE = "区划代码已被其他单位使用"


async def _county_admin(client: httpx.AsyncClient) -> tuple[Tree, dict[str, str]]:
    tree = await make_tree()
    await make_account("county_admin", tree.parent, role="admin")
    return tree, await login(client, "county_admin")


def _error(response: httpx.Response) -> dict:
    return response.json()["error"]


async def test_a_second_unit_of_the_same_name_under_one_parent_is_refused_naming_the_parent(client):
    tree, county = await _county_admin(client)
    for name in ("王家湾村", "王家湾\u3000村", " 王家湾村\u200b", "王家湾 村"):
        response = await client.post(
            "/api/units/", headers=county, json={"parent_id": tree.own.id, "name": name, "type": "village"}
        )
        assert response.status_code == 409, (name, response.text)
        said = _error(response)["message"]
        assert _error(response)["code"] == "duplicate_unit_name" and SAME_NAME in said
        assert _error(response)["fields"] == {"name": said}
    assert await Unit.filter(name__contains="王家湾").count() == 1


async def test_names_differing_only_in_width_or_case_are_the_same_name(client):
    tree, county = await _county_admin(client)
    await make_unit("幸福小区B2栋", UnitType.OTHER, tree.child)
    body = {"parent_id": tree.child.id, "name": "幸福小区ｂ２栋", "type": "other"}
    response = await client.post("/api/units/", headers=county, json=body)
    assert response.status_code == 409 and "王家湾村下已有名为“幸福小区B2栋”的单位" in _error(response)["message"]


async def test_the_same_name_under_another_parent_is_a_different_unit(client):
    tree, county = await _county_admin(client)
    body = {"parent_id": tree.sibling.id, "name": "王家湾村", "type": "village", "region_code": "530101002001"}
    response = await client.post("/api/units/", headers=county, json=body)
    assert response.status_code == 201, response.text


async def test_a_region_code_another_region_holds_is_refused(client):
    tree, county = await _county_admin(client)
    body = {"parent_id": tree.own.id, "name": "重复区划村", "type": "village", "region_code": "530101001001"}
    response = await client.post("/api/units/", headers=county, json=body)
    assert response.status_code == 409, response.text
    assert _error(response)["code"] == "duplicate_region_code" and _error(response)["message"] == SAME_CODE
    assert _error(response)["fields"] == {"region_code": SAME_CODE}
    assert not await Unit.exists(name="重复区划村")


async def test_a_coop_may_give_the_code_of_the_region_it_lies_in(client):
    """A co-op's region code says where it is (a registration gives its village's or township's): not a region's own."""
    tree, county = await _county_admin(client)
    body = {"parent_id": tree.child.id, "name": "王家湾茶叶社", "type": "coop", "region_code": "530101001001"}
    assert (await client.post("/api/units/", headers=county, json=body)).status_code == 201
    second = {**body, "name": "王家湾蜂蜜社"}
    assert (await client.post("/api/units/", headers=county, json=second)).status_code == 201


async def test_a_coop_retyped_as_a_village_may_not_keep_a_code_a_village_holds(client):
    tree, county = await _county_admin(client)
    coop = await make_unit("王家湾茶叶社", UnitType.COOP, tree.own, region_code="530101001001")
    retyped = await client.patch(f"/api/units/{coop.id}", headers=county, json={"type": "village"})
    assert retyped.status_code == 409 and _error(retyped)["message"] == SAME_CODE
    assert (await Unit.get(id=coop.id)).type == UnitType.COOP


async def test_renaming_or_recoding_a_unit_into_a_siblings_name_or_code_is_refused(client):
    tree, county = await _county_admin(client)
    other = await make_unit("张家冲村", UnitType.VILLAGE, tree.own, region_code="530101001002")
    renamed = await client.patch(f"/api/units/{other.id}", headers=county, json={"name": "王家湾\u3000村"})
    assert renamed.status_code == 409 and SAME_NAME in _error(renamed)["message"]
    recoded = await client.patch(f"/api/units/{other.id}", headers=county, json={"region_code": "530101001001"})
    assert recoded.status_code == 409 and _error(recoded)["message"] == SAME_CODE
    assert (await Unit.get(id=other.id)).name == "张家冲村"
    assert (await Unit.get(id=other.id)).region_code == "530101001002"
    fine = await client.patch(f"/api/units/{other.id}", headers=county, json={"name": "张家冲新村"})
    assert fine.status_code == 200, fine.text


async def test_moving_a_unit_beside_a_namesake_is_refused(client):
    tree, county = await _county_admin(client)
    namesake = await make_unit("王家湾村", UnitType.VILLAGE, tree.sibling, region_code="530101002001")
    moved = await client.post(f"/api/units/{namesake.id}/move", headers=county, json={"new_parent_id": tree.own.id})
    assert moved.status_code == 409 and SAME_NAME in _error(moved)["message"]
    assert (await Unit.get(id=namesake.id)).parent_id == tree.sibling.id


async def test_namesakes_and_shared_codes_from_before_the_rule_do_not_block_edits_of_other_fields(client):
    """Data written before the rule (an import, the demo's generated villages): a form that sends the
    name and code unchanged with another edit is not refused for them."""
    tree, county = await _county_admin(client)
    twin = await make_unit("王家湾村", UnitType.VILLAGE, tree.own, region_code="530101001001")
    unchanged = {"name": "王家湾村", "type": "village", "region_code": "530101001001", "unit_code": "WJW-2"}
    edited = await client.patch(f"/api/units/{twin.id}", headers=county, json=unchanged)
    assert edited.status_code == 200, edited.text
    retyped = await client.patch(f"/api/units/{twin.id}", headers=county, json={"type": "other"})
    assert retyped.status_code == 200, retyped.text
    renamed = await client.patch(f"/api/units/{twin.id}", headers=county, json={"name": "王家湾新村"})
    assert renamed.status_code == 200, renamed.text


async def test_a_double_tapped_create_without_an_idempotency_key_makes_one_unit(client):
    tree, county = await _county_admin(client)
    body = {"parent_id": tree.own.id, "name": "张家冲村", "type": "village", "region_code": "530101001002"}
    first, second = await asyncio.gather(
        client.post("/api/units/", headers=county, json=body), client.post("/api/units/", headers=county, json=body)
    )
    assert sorted([first.status_code, second.status_code]) == [201, 409], (first.text, second.text)
    assert await Unit.filter(name="张家冲村").count() == 1


async def test_a_registration_is_not_approved_beside_a_namesake_written_with_a_full_width_space(client):
    """The rule the tree keeps is the one approval keeps: the same name as lookups compare it."""
    tree = await make_tree()
    await make_unit("白沙镇\u3000茶叶专业合作社", UnitType.COOP, tree.own)
    registration = await submitted(client, tree)
    town = await reviewer(client, tree.own)
    approved = await client.post(f"/api/registration/{registration.id}/approve", headers=town, json={})
    assert approved.status_code == 409, approved.text
    said = _error(approved)["message"]
    assert _error(approved)["code"] == "duplicate_unit_name" and "同名" in said and "驳回" in said
    assert _error(approved)["fields"] == {"unit_name": said}
    assert (await UnitRegistration.get(id=registration.id)).status == RegistrationStatus.PENDING
    assert not await Account.exists(username_key="chaye1")
