"""Review of the unit tree (P1): organisation codes follow credit codes, region codes are checked
against the nearest region that has one, a tree too deep for the path column is refused, and a
refused delete names the record that holds the unit."""

from __future__ import annotations

import httpx
import pytest

from backend.core import runtime
from backend.core.actor import Actor, Origin
from backend.core.errors import ValidationFailed
from backend.core.roles import FinanceAccess, Role
from backend.core.sms import SmsMessage
from backend.devices.models import Device
from backend.registration.models import UnitRegistration
from backend.reviews.models import ReviewKind, ReviewRequest
from backend.units import actions as unit_actions
from backend.units import messages as msg
from backend.units.models import Unit, UnitType
from tests.factories import Tree, commits_just_before_the_next_transaction, login, make_account, make_tree, make_unit
from tests.test_recovery import ID_NUMBER, PHONE, _captcha, _with_identity

CREDIT_CODE = "91350100M000100Y43"
OTHER_CREDIT_CODE = "93530101MA0000015J"
PATH_MAX = Unit._meta.fields_map["path"].max_length


def _actor_of(unit: Unit) -> Actor:
    return Actor(1, "x", "s", 1, unit.id, unit.path, unit.depth, Role.ADMIN, FinanceAccess.NONE, Origin())


async def _county_admin(client: httpx.AsyncClient, tree: Tree) -> dict[str, str]:
    await make_account("county_admin", tree.parent, role="admin")
    return await login(client, "county_admin")


async def _username_sms_by_org_code(client: httpx.AsyncClient, org_code: str) -> int:
    """Forgot user name by unit (R3) with an organisation code: how many SMS went to the person."""
    runtime.get().clock.advance(61)  # past the resend wait of the phone
    body = {"name": "测试unit_person", "id_number": ID_NUMBER, "phone": PHONE, "org_code": org_code}
    sent = await client.post("/api/recovery/username/by-unit/send-code", json={**body, **await _captcha(client)})
    assert sent.status_code == 200, sent.text
    return await SmsMessage.filter(phone_index=runtime.get().vault.index("phone", PHONE)).count()


async def test_the_organisation_code_follows_the_credit_code_an_admin_sets_so_the_unit_is_found_by_it(client):
    """R3 finds a unit by its organisation code (the credit code's characters 9-17): a unit created
    or recoded by an admin kept none, or the old one, so the person was never sent a code."""
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    await _with_identity("unit_person", tree.child)
    first = await client.patch(f"/api/units/{tree.child.id}", headers=admin, json={"credit_code": CREDIT_CODE})
    assert first.status_code == 200, first.text
    assert await _username_sms_by_org_code(client, CREDIT_CODE[8:17]) == 1
    recoded = await client.patch(f"/api/units/{tree.child.id}", headers=admin, json={"credit_code": OTHER_CREDIT_CODE})
    assert recoded.status_code == 200, recoded.text
    assert await _username_sms_by_org_code(client, CREDIT_CODE[8:17]) == 1  # the old code finds nothing
    assert await _username_sms_by_org_code(client, OTHER_CREDIT_CODE[8:17]) == 2
    cleared = await client.patch(f"/api/units/{tree.child.id}", headers=admin, json={"credit_code": None})
    assert cleared.status_code == 200 and (await Unit.get(id=tree.child.id)).org_code is None
    created = await client.post(
        "/api/units/",
        headers=admin,
        json={"parent_id": tree.own.id, "name": "茶叶合作社", "type": "coop", "credit_code": CREDIT_CODE},
    )
    assert created.status_code == 201, created.text
    assert (await Unit.get(id=created.json()["id"])).org_code == CREDIT_CODE[8:17]


async def test_a_region_code_below_a_unit_without_a_region_code_must_lie_in_the_nearest_coded_region(client):
    """Under a co-op (no region) or a township whose code is not filled in, any code passed; the
    village or county above then could never be recoded or retyped ("有下级单位的区划代码不在这个区划之内")."""
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    coop = await make_unit("茶叶合作社", UnitType.COOP, tree.child)
    uncoded = await make_unit("新设镇", UnitType.TOWNSHIP, tree.parent)
    for parent, outside, inside in ((coop, "440101001001", "530101001001"), (uncoded, "440101009001", "530101009001")):
        new = {"parent_id": parent.id, "name": "一组", "type": "work_team", "region_code": outside}
        refused = await client.post("/api/units/", headers=admin, json=new)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["fields"] == {"region_code": msg.REGION_CODE_OUTSIDE_PARENT}
        assert not await Unit.exists(parent_id=parent.id)
        made = await client.post("/api/units/", headers=admin, json={**new, "region_code": inside})
        assert made.status_code == 201, made.text
        edited = await client.patch(f"/api/units/{made.json()['id']}", headers=admin, json={"region_code": outside})
        assert edited.status_code == 422 and "region_code" in edited.json()["error"]["fields"]
        assert (await Unit.get(id=made.json()["id"])).region_code == inside
    # a township sits only below a county or higher: the village's township and county go up a level
    await Unit.filter(id=tree.parent.id).update(type=UnitType.CITY)
    await Unit.filter(id=tree.own.id).update(type=UnitType.COUNTY)
    retyped = await client.patch(f"/api/units/{tree.child.id}", headers=admin, json={"type": "township"})
    assert retyped.status_code == 200, retyped.text


async def _deepest_below(unit: Unit) -> Unit:
    """Units one below the other under ``unit`` until the path of one more would not fit (ids only grow)."""
    while len(unit.path) + len(str(unit.id + 1)) + 1 <= PATH_MAX:
        unit = await make_unit("组", UnitType.OTHER, unit)
    return unit


async def test_a_unit_whose_path_would_not_fit_is_refused_with_a_message_not_a_server_error(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    deepest = await _deepest_below(tree.own)
    response = await client.post(
        "/api/units/", headers=admin, json={"parent_id": deepest.id, "name": "最深组", "type": "other"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"] == {"parent_id": msg.TREE_TOO_DEEP}
    assert not await Unit.exists(name="最深组")


async def test_a_move_whose_paths_would_not_fit_is_refused_and_moves_nothing(client):
    """SQLite stored the over-long paths as they came (PostgreSQL: a server error)."""
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    coop = await make_unit("茶叶合作社", UnitType.COOP, tree.own)  # a village may not sit below "other" units
    grandchild = await make_unit("一组", UnitType.OTHER, coop)
    deepest = await _deepest_below(tree.sibling)
    response = await client.post(f"/api/units/{coop.id}/move", headers=admin, json={"new_parent_id": deepest.id})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"] == {"new_parent_id": msg.TREE_TOO_DEEP}
    assert (await Unit.get(id=grandchild.id)).path == f"{coop.path}{grandchild.id}/"
    assert (await Unit.get(id=coop.id)).parent_id == tree.own.id
    assert max(len(p) for p in await Unit.all().values_list("path", flat=True)) <= PATH_MAX


async def _device(unit: Unit) -> None:
    await Device.create(
        device_id="d" * 43, public_key="k" * 43, name="村委电脑", unit_id=unit.id, enrolled_at=unit.created_at
    )


async def _registration(unit: Unit) -> None:
    await UnitRegistration.create(
        parent_id=unit.id, unit_name="合作社", unit_type=UnitType.COOP, credit_code=CREDIT_CODE,
        org_code=CREDIT_CODE[8:17], legal_rep_name="法人", legal_rep_id_enc="x", legal_rep_id_index="x",
        admin_username="coop_admin", admin_name="管理员", admin_phone_enc="x", admin_phone_index="x",
        admin_password_hash="x", created_at=unit.created_at,
    )  # fmt: skip


async def _review(unit: Unit) -> None:
    await ReviewRequest.create(
        kind=ReviewKind.UNIT, unit_id=unit.id, name="王法人", id_number_enc="x", id_number_index="x",
        phone_enc="x", phone_index="x", created_at=unit.created_at,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("holder", "said"),
    [
        (_device, msg.UNIT_HAS_DEVICE),
        (_registration, msg.UNIT_HAS_PENDING_REGISTRATIONS.format(count=1, names="合作社")),
        (_review, msg.UNIT_HAS_PENDING_REVIEWS.format(count=1, kinds="找回单位账号 1 份")),
    ],
)
async def test_a_delete_refused_for_a_pc_a_registration_or_a_review_names_which(client, holder, said):
    """It said "设备、注册申请或审核等关联记录" for each: the admin could not tell which holds the unit."""
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    await holder(tree.sibling)
    refused = await client.delete(f"/api/units/{tree.sibling.id}", headers=admin)
    assert refused.status_code == 409, refused.text
    assert (refused.json()["error"]["code"], refused.json()["error"]["message"]) == ("unit_not_empty", said)
    assert await Unit.exists(id=tree.sibling.id)


async def test_two_moves_that_together_would_make_a_cycle_leave_the_second_refused(monkeypatch):
    """The township moves under a work team while that one is moved into the township's own village:
    the second reads both rows again under their locks and finds its target now below itself."""
    tree = await make_tree()
    team = await make_unit("工作队", UnitType.WORK_TEAM, tree.parent)
    county = _actor_of(tree.parent)
    commits_just_before_the_next_transaction(
        monkeypatch, lambda: unit_actions.move_unit(county, team.id, new_parent_id=tree.child.id)
    )
    with pytest.raises(ValidationFailed) as refused:
        await unit_actions.move_unit(county, tree.own.id, new_parent_id=team.id)
    assert refused.value.fields == {"new_parent_id": msg.MOVE_INTO_OWN_SUBTREE}
    own, moved = await Unit.get(id=tree.own.id), await Unit.get(id=team.id)
    assert own.parent_id == tree.parent.id and moved.path == f"{tree.child.path}{team.id}/"
