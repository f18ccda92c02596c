"""P12 and the unit tree: a pending registration holds its credit code, and an approver who cannot
approve (the code taken anyway, or the unit already in the tree under the same name) is told to reject."""

from __future__ import annotations

from backend.accounts.models import Account
from backend.registration.models import RegistrationStatus, UnitRegistration
from backend.units.models import Unit, UnitType
from tests.coops_helpers import blocks, chat
from tests.factories import make_tree, make_unit
from tests.test_registration import credit_code, error, reviewer, submitted


async def test_a_unit_cannot_be_created_or_edited_with_the_credit_code_of_a_pending_registration(client):
    """The county admin created the unit by hand while its registration waited: approving it then failed."""
    tree = await make_tree()
    registration = await submitted(client, tree)
    county = await reviewer(client, tree.parent, "county_admin")
    body = {"parent_id": tree.own.id, "name": "茶叶社", "type": "coop", "credit_code": credit_code(1)}
    created = await client.post("/api/units/", headers=county, json=body)
    assert created.status_code == 409, created.text
    said = error(created)["message"]
    assert "注册申请" in said and "等待审核" in said and "白沙镇" in said and "注册审批" in said
    assert f"注册申请 {registration.id}" in said  # how to open it in chat
    assert error(created)["fields"] == {"credit_code": said}
    other = await client.post("/api/units/", headers=county, json={**body, "credit_code": credit_code(2)})
    assert other.status_code == 201, other.text
    edited = await client.patch(
        f"/api/units/{other.json()['id']}", headers=county, json={"credit_code": credit_code(1)}
    )
    assert edited.status_code == 409 and error(edited)["message"] == said
    assert not await Unit.exists(credit_code=credit_code(1))
    town = await reviewer(client, tree.own)
    approved = await client.post(f"/api/registration/{registration.id}/approve", headers=town, json={})
    assert approved.status_code == 200, approved.text
    assert (await Unit.get(credit_code=credit_code(1))).name == "白沙镇茶叶专业合作社"


async def test_an_admin_outside_the_registrations_scope_is_told_who_decides_it_not_its_details(client):
    tree = await make_tree()
    registration = await submitted(client, tree)
    other_town = await reviewer(client, tree.sibling, "other_town_admin")
    body = {"parent_id": tree.sibling.id, "name": "茶叶社", "type": "coop", "credit_code": credit_code(1)}
    created = await client.post("/api/units/", headers=other_town, json=body)
    assert created.status_code == 409, created.text
    said = error(created)["message"]
    assert "等待审核" in said and "白沙镇" in said
    assert registration.unit_name not in said and f"注册申请 {registration.id}" not in said


async def test_a_rejected_registration_no_longer_holds_its_credit_code(client):
    tree = await make_tree()
    registration = await submitted(client, tree)
    town = await reviewer(client, tree.own)
    rejected = await client.post(f"/api/registration/{registration.id}/reject", headers=town, json={"reason": "重复"})
    assert rejected.status_code == 200
    body = {"parent_id": tree.own.id, "name": "茶叶社", "type": "coop", "credit_code": credit_code(1)}
    assert (await client.post("/api/units/", headers=town, json=body)).status_code == 201


async def test_a_unit_that_holds_the_code_already_keeps_it_when_edited(client):
    """Data from before the rule: a unit and a pending registration with one code. A form that sends
    the unit's code unchanged with another edit is not refused for it (the approval is, see below)."""
    tree = await make_tree()
    await submitted(client, tree)
    await _code_taken_anyway(tree)
    county = await reviewer(client, tree.parent, "county_admin")
    unit = await Unit.get(credit_code=credit_code(1))
    edited = await client.patch(
        f"/api/units/{unit.id}", headers=county, json={"name": "新茶叶社", "credit_code": credit_code(1)}
    )
    assert edited.status_code == 200, edited.text


async def _code_taken_anyway(tree) -> None:
    """A unit holding the registration's credit code (data from before the rule, or a race)."""
    unit = await make_unit("老茶叶社", UnitType.COOP, tree.child)
    await Unit.filter(id=unit.id).update(credit_code=credit_code(1))


async def test_approving_a_registration_whose_credit_code_a_unit_took_says_to_reject_it(client):
    tree = await make_tree()
    registration = await submitted(client, tree)
    await _code_taken_anyway(tree)
    town = await reviewer(client, tree.own)
    taken = await client.post(f"/api/registration/{registration.id}/approve", headers=town, json={})
    assert taken.status_code == 409, taken.text
    said = error(taken)["message"]
    assert error(taken)["code"] == "duplicate_credit_code" and "驳回" in said and "统一社会信用代码" in said
    assert error(taken)["fields"] == {"credit_code": said}
    assert (await UnitRegistration.get(id=registration.id)).status == RegistrationStatus.PENDING
    assert not await Account.exists(username_key="chaye1")
    notice = blocks(
        await chat(client, town, intent="registration.approve", params={"registration_id": registration.id}), "notice"
    )
    assert notice[0]["text"] == said


async def test_a_unit_an_admin_created_without_a_code_cannot_be_registered_again_beside_it(client):
    """Its people registered it themselves: approving would leave two units of that name under the township."""
    tree = await make_tree()
    existing = await make_unit("白沙镇茶叶专业合作社", UnitType.COOP, tree.own)
    registration = await submitted(client, tree)
    town = await reviewer(client, tree.own)
    twice = await client.post(f"/api/registration/{registration.id}/approve", headers=town, json={})
    assert twice.status_code == 409, twice.text
    said = error(twice)["message"]
    assert error(twice)["code"] == "duplicate_unit_name" and "同名" in said and "驳回" in said
    assert "白沙镇" in said and "统一社会信用代码" in said
    assert await Unit.filter(name=existing.name).count() == 1
    assert (await UnitRegistration.get(id=registration.id)).status == RegistrationStatus.PENDING
    assert not await Account.exists(username_key="chaye1")
    notice = blocks(
        await chat(client, town, intent="registration.approve", params={"registration_id": registration.id}), "notice"
    )
    assert notice[0]["text"] == said
    elsewhere = await client.post(
        f"/api/registration/{registration.id}/approve", headers=town, json={"parent_id": tree.child.id}
    )
    assert elsewhere.status_code == 200, elsewhere.text  # no unit of that name under the village
