"""P1 unit tree: create, edit, move a subtree in one transaction, delete only when empty."""

from __future__ import annotations

import datetime as dt
from functools import partial

import ciso8601
import pytest
from tortoise.fields import data

from backend.accounts.models import Account
from backend.core.actor import Actor, Origin
from backend.core.audit import AuditEntry
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.roles import FinanceAccess, Role
from backend.units import actions as unit_actions
from backend.units import messages as msg
from backend.units.models import Unit, UnitType
from backend.units.queries import get_unit
from tests.factories import commits_just_before_the_next_transaction, login, make_account, make_tree, make_unit

CREDIT_CODE = "91350100M000100Y43"


async def _county_admin(client, tree):
    await make_account("county_admin", tree.parent, role="admin")
    return await login(client, "county_admin")


async def test_admin_creates_a_unit_below_with_its_path_and_an_audit_entry(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    response = await client.post(
        "/api/units/",
        headers=admin,
        json={
            "parent_id": tree.own.id,
            "name": "张家冲村",
            "type": "village",
            "region_code": "530101001002",
            "credit_code": CREDIT_CODE,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["path"] == f"{tree.own.path}{body['id']}/" and body["depth"] == tree.own.depth + 1
    entry = await AuditEntry.get(action="unit.create")
    assert entry.target_id == str(body["id"]) and entry.scope_path == body["path"]


async def test_region_code_must_sit_inside_the_parent_region(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    response = await client.post(
        "/api/units/",
        headers=admin,
        json={"parent_id": tree.own.id, "name": "外来村", "type": "village", "region_code": "530199001002"},
    )
    assert response.status_code == 422 and "region_code" in response.json()["error"]["fields"]


async def test_duplicate_credit_code_is_a_conflict_naming_the_field(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    payload = {"parent_id": tree.own.id, "type": "coop", "credit_code": CREDIT_CODE}
    assert (await client.post("/api/units/", headers=admin, json={**payload, "name": "一社"})).status_code == 201
    again = await client.post("/api/units/", headers=admin, json={**payload, "name": "二社"})
    assert again.status_code == 409 and "credit_code" in again.json()["error"]["fields"]


async def test_edit_changes_only_the_fields_sent(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    response = await client.patch(f"/api/units/{tree.child.id}", headers=admin, json={"name": "王家湾社区"})
    assert response.status_code == 200
    unit = await Unit.get(id=tree.child.id)
    assert unit.name == "王家湾社区" and unit.region_code == "530101001001"
    refused = await client.patch(f"/api/units/{tree.child.id}", headers=admin, json={"name": None})
    assert refused.status_code == 422


async def test_admin_may_not_edit_move_or_delete_its_own_unit(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    assert (await client.patch(f"/api/units/{tree.parent.id}", headers=admin, json={"name": "x"})).status_code == 404
    assert (await client.delete(f"/api/units/{tree.parent.id}", headers=admin)).status_code == 404


async def test_moving_a_unit_rewrites_the_paths_of_its_whole_subtree(client):
    tree = await make_tree()
    grandchild = await make_unit("一组", UnitType.OTHER, tree.child)
    admin = await _county_admin(client, tree)
    response = await client.post(
        f"/api/units/{tree.child.id}/move", headers=admin, json={"new_parent_id": tree.sibling.id}
    )
    assert response.status_code == 200, response.text
    child = await Unit.get(id=tree.child.id)
    moved_grandchild = await Unit.get(id=grandchild.id)
    assert child.parent_id == tree.sibling.id
    assert child.path == f"{tree.sibling.path}{child.id}/" and child.depth == tree.sibling.depth + 1
    assert moved_grandchild.path == f"{child.path}{grandchild.id}/" and moved_grandchild.depth == child.depth + 1
    assert not await Unit.filter(path__startswith=tree.own.path).exclude(id=tree.own.id).exists()


async def test_moving_the_village_moves_it_out_of_the_old_township_admins_scope(client):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role="admin")
    county = await _county_admin(client, tree)
    town = await login(client, "town_admin")
    assert (await client.get(f"/api/units/{tree.child.id}", headers=town)).status_code == 200
    await client.post(f"/api/units/{tree.child.id}/move", headers=county, json={"new_parent_id": tree.sibling.id})
    assert (await client.get(f"/api/units/{tree.child.id}", headers=town)).status_code == 404


async def test_a_unit_cannot_move_under_itself_or_its_subtree(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    for target in (tree.own.id, tree.child.id):
        refused = await client.post(f"/api/units/{tree.own.id}/move", headers=admin, json={"new_parent_id": target})
        assert refused.status_code == 422
    assert (await Unit.get(id=tree.own.id)).path == tree.own.path


async def test_delete_only_when_the_unit_has_no_children_and_no_accounts(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    with_child = await client.delete(f"/api/units/{tree.own.id}", headers=admin)
    assert with_child.status_code == 409 and with_child.json()["error"]["code"] == "unit_not_empty"
    assert with_child.json()["error"]["message"] == msg.UNIT_HAS_CHILDREN
    await make_account("villager", tree.child)
    with_account = await client.delete(f"/api/units/{tree.child.id}", headers=admin)
    assert with_account.status_code == 409 and with_account.json()["error"]["message"] == msg.UNIT_HAS_ACCOUNTS
    assert (await client.delete(f"/api/units/{tree.sibling.id}", headers=admin)).status_code == 204
    assert not await Unit.filter(id=tree.sibling.id).exists()
    assert await AuditEntry.filter(action="unit.delete", target_id=str(tree.sibling.id)).exists()


async def test_a_unit_whose_accounts_are_all_deactivated_says_why_it_stays(client):
    """ "请先把账号移出本单位" could not be done: a deactivated account keeps its last unit."""
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    gone = await make_account("villager", tree.child)
    await Account.filter(id=gone.id).update(is_active=False)
    refused = await client.delete(f"/api/units/{tree.child.id}", headers=admin)
    assert refused.status_code == 409 and refused.json()["error"]["message"] == msg.UNIT_HAS_DEACTIVATED_ACCOUNTS
    assert await Unit.exists(id=tree.child.id)


async def test_units_list_pages_by_cursor_and_filters_by_name_and_type(client):
    tree = await make_tree()
    for n in range(5):
        await make_unit(f"新村{n}", UnitType.VILLAGE, tree.own)
    admin = await _county_admin(client, tree)
    first = (await client.get("/api/units/", params={"parent_id": tree.own.id, "limit": 4}, headers=admin)).json()
    assert first["total"] == 6 and len(first["items"]) == 4 and first["next_cursor"]
    rest = (
        await client.get(
            "/api/units/", params={"parent_id": tree.own.id, "limit": 4, "cursor": first["next_cursor"]}, headers=admin
        )
    ).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    named = (await client.get("/api/units/", params={"q": "新村3"}, headers=admin)).json()
    assert [u["name"] for u in named["items"]] == ["新村3"]
    towns = (await client.get("/api/units/", params={"type": "township"}, headers=admin)).json()
    assert {u["name"] for u in towns["items"]} == {"白沙镇", "桃源乡"}


async def test_a_unit_still_referenced_by_a_registration_is_not_empty(client):
    from backend.registration.models import UnitRegistration

    tree = await make_tree()
    admin = await _county_admin(client, tree)
    now = tree.sibling.created_at
    await UnitRegistration.create(
        parent_id=tree.sibling.id,
        unit_name="合作社",
        unit_type=UnitType.COOP,
        credit_code=CREDIT_CODE,
        org_code=CREDIT_CODE[8:17],
        legal_rep_name="法人",
        legal_rep_id_enc="x",
        legal_rep_id_index="x",
        admin_username="coop_admin",
        admin_name="管理员",
        admin_phone_enc="x",
        admin_phone_index="x",
        admin_password_hash="x",
        created_at=now,
    )
    refused = await client.delete(f"/api/units/{tree.sibling.id}", headers=admin)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "unit_not_empty"
    assert await Unit.filter(id=tree.sibling.id).exists()
    assert not await AuditEntry.filter(action="unit.delete").exists()


async def test_a_units_times_read_back_equal_to_what_was_written_through_the_c_datetime_parser():
    """SQLite hands datetimes over as text; tortoise-orm parses them with ciso8601 when it is
    installed (a dependency for that: iso8601 cost 13 µs a value on every row read)."""
    assert data.parse_datetime is ciso8601.parse_datetime
    tree = await make_tree()
    written = dt.datetime(2026, 2, 3, 4, 5, 6, 789012, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    await Unit.filter(id=tree.child.id).update(created_at=written)
    own = tree.own
    actor = Actor(1, "x", "s", 1, own.id, own.path, own.depth, Role.ADMIN, FinanceAccess.NONE, Origin())
    read = await get_unit(actor, tree.child.id)  # the chat's written SQL, rows converted by the ORM
    assert read.created_at == written and read.created_at.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("how", ["create", "edit"])
async def test_a_code_taken_while_it_is_checked_answers_409_not_500(client, monkeypatch, how):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role="admin")
    headers = await login(client, "town_admin")
    await Unit.filter(id=tree.child.id).update(unit_code="DUP1")
    check = unit_actions._check_unique
    calls: list[int] = []

    async def passes_first(*args):  # as if the other unit took the code just after this check
        calls.append(1)
        if len(calls) > 1:
            await check(*args)

    monkeypatch.setattr(unit_actions, "_check_unique", passes_first)
    if how == "create":
        new = {"parent_id": tree.own.id, "name": "新村", "type": "village", "unit_code": "DUP1"}
        response = await client.post("/api/units/", headers=headers, json=new)
    else:
        other = await make_unit("新村", UnitType.VILLAGE, tree.own)
        response = await client.patch(f"/api/units/{other.id}", headers=headers, json={"unit_code": "DUP1"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "duplicate_code"
    assert response.json()["error"]["fields"] == {"unit_code": msg.DUPLICATE_UNIT_CODE}
    assert await Unit.filter(unit_code="DUP1").values_list("id", flat=True) == [tree.child.id]


def _actor_of(unit: Unit, account_id: int = 1) -> Actor:
    return Actor(account_id, "x", "s", 1, unit.id, unit.path, unit.depth, Role.ADMIN, FinanceAccess.NONE, Origin())


async def test_a_unit_created_while_its_parent_moves_takes_the_parents_new_path(client, monkeypatch):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    county = _actor_of(tree.parent)
    commits_just_before_the_next_transaction(  # another admin moves the parent meanwhile
        monkeypatch, lambda: unit_actions.move_unit(county, tree.child.id, new_parent_id=tree.sibling.id)
    )
    response = await client.post(
        "/api/units/", headers=admin, json={"parent_id": tree.child.id, "name": "一组", "type": "work_team"}
    )
    assert response.status_code == 201, response.text
    moved_parent = await Unit.get(id=tree.child.id)
    created = await Unit.get(id=response.json()["id"])
    assert created.path == f"{moved_parent.path}{created.id}/" and created.depth == moved_parent.depth + 1
    assert response.json()["path"] == created.path
    entry = await AuditEntry.get(action="unit.create")
    assert entry.scope_path == created.path


async def test_a_region_code_that_would_leave_a_lower_units_code_outside_it_is_refused(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    refused = await client.patch(f"/api/units/{tree.own.id}", headers=admin, json={"region_code": "530101003000"})
    assert refused.status_code == 422 and "region_code" in refused.json()["error"]["fields"]
    assert (await Unit.get(id=tree.own.id)).region_code == "530101001000"
    # the way to recode a whole township: clear its code, recode the villages, then set the new code
    assert (await client.patch(f"/api/units/{tree.own.id}", headers=admin, json={"region_code": None})).is_success
    village = await client.patch(f"/api/units/{tree.child.id}", headers=admin, json={"region_code": "530101003001"})
    assert village.status_code == 200
    town = await client.patch(f"/api/units/{tree.own.id}", headers=admin, json={"region_code": "530101003000"})
    assert town.status_code == 200, town.text


async def test_a_type_change_that_would_leave_a_lower_units_code_outside_it_is_refused(client):
    """A township retyped as a village keeps all twelve digits of its code: the units below it fall
    outside (a co-op here: a village would keep the levels out of order, refused first)."""
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    await make_unit("茶叶合作社", UnitType.COOP, tree.sibling, region_code="530101002001")
    refused = await client.patch(f"/api/units/{tree.sibling.id}", headers=admin, json={"type": "village"})
    assert refused.status_code == 422 and "region_code" in refused.json()["error"]["fields"]
    assert (await Unit.get(id=tree.sibling.id)).type == UnitType.TOWNSHIP
    # a wider region keeps them inside: a county's six digits still hold 530101002001 (below a city)
    await Unit.filter(id=tree.parent.id).update(type=UnitType.CITY)
    widened = await client.patch(f"/api/units/{tree.sibling.id}", headers=admin, json={"type": "county"})
    assert widened.status_code == 200, widened.text


async def test_deleting_a_coop_that_has_an_info_card_says_what_still_holds_it(client):
    from tests.coops_helpers import coop_card

    tree = await make_tree()
    admin = await _county_admin(client, tree)
    coop = await make_unit("茶叶合作社", UnitType.COOP, tree.own)
    await coop_card(coop)
    refused = await client.delete(f"/api/units/{coop.id}", headers=admin)
    assert refused.status_code == 409 and "信息卡" in refused.json()["error"]["message"]
    assert await Unit.filter(id=coop.id).exists()


RECODED = "530101006000"  # the sibling township's new code (it was 530101002000)


@pytest.mark.parametrize("how", ["create", "edit"])
async def test_a_code_checked_against_a_parent_recoded_meanwhile_is_refused(monkeypatch, how):
    tree = await make_tree()
    county = _actor_of(tree.parent)
    village = await make_unit("新村", UnitType.VILLAGE, tree.sibling)
    commits_just_before_the_next_transaction(
        monkeypatch, lambda: unit_actions.update_unit(county, tree.sibling.id, {"region_code": RECODED})
    )
    with pytest.raises(ValidationFailed) as refused:
        if how == "create":
            await unit_actions.create_unit(
                county, parent_id=tree.sibling.id, name="后来村", unit_type=UnitType.VILLAGE, region_code="530101002002"
            )
        else:
            await unit_actions.update_unit(county, village.id, {"region_code": "530101002001"})
    assert refused.value.fields == {"region_code": msg.REGION_CODE_OUTSIDE_PARENT}
    assert (await Unit.get(id=tree.sibling.id)).region_code == RECODED
    assert not await Unit.filter(parent_id=tree.sibling.id, region_code__isnull=False).exists()


@pytest.mark.parametrize("how", ["create", "edit"])
async def test_a_recode_is_refused_when_a_code_below_was_set_meanwhile(monkeypatch, how):
    tree = await make_tree()
    county = _actor_of(tree.parent)
    village = await make_unit("新村", UnitType.VILLAGE, tree.sibling)
    if how == "create":
        below = partial(
            unit_actions.create_unit,
            county,
            parent_id=tree.sibling.id,
            name="后来村",
            unit_type=UnitType.VILLAGE,
            region_code="530101002002",
        )
    else:
        below = partial(unit_actions.update_unit, county, village.id, {"region_code": "530101002001"})
    commits_just_before_the_next_transaction(monkeypatch, below)
    with pytest.raises(ValidationFailed) as refused:
        await unit_actions.update_unit(county, tree.sibling.id, {"region_code": RECODED})
    assert refused.value.fields == {"region_code": msg.REGION_CODE_EXCLUDES_LOWER}
    assert (await Unit.get(id=tree.sibling.id)).region_code == "530101002000"
    assert await Unit.filter(parent_id=tree.sibling.id, region_code__startswith="530101002").exists()


@pytest.mark.parametrize("how", ["create", "edit"])
@pytest.mark.parametrize(("field", "code"), [("unit_code", "DUP1"), ("credit_code", CREDIT_CODE)])
async def test_a_code_another_unit_took_meanwhile_is_a_409_naming_the_field(monkeypatch, how, field, code):
    tree = await make_tree()
    county = _actor_of(tree.parent)
    commits_just_before_the_next_transaction(
        monkeypatch, lambda: unit_actions.update_unit(county, tree.child.id, {field: code})
    )
    with pytest.raises(Conflict) as refused:
        if how == "create":
            await unit_actions.create_unit(
                county, parent_id=tree.own.id, name="后来村", unit_type=UnitType.VILLAGE, **{field: code}
            )
        else:
            await unit_actions.update_unit(county, tree.sibling.id, {field: code})
    said = {"unit_code": msg.DUPLICATE_UNIT_CODE, "credit_code": msg.DUPLICATE_CREDIT_CODE}[field]
    assert refused.value.code == "duplicate_code" and refused.value.fields == {field: said}
    assert refused.value.message == said
    assert await Unit.filter(**{field: code}).values_list("id", flat=True) == [tree.child.id]


@pytest.mark.parametrize("holder", ["lower unit", "account", "card"])
async def test_a_delete_refused_by_what_came_to_hold_the_unit_meanwhile_names_it(monkeypatch, holder):
    """Another admin adds a unit below, an account or the co-op's info card just as the delete opens
    its transaction: the delete sees it and says which (not a foreign-key 409 naming other things)."""
    from tests.coops_helpers import coop_card

    tree = await make_tree()
    county = _actor_of(tree.parent)
    coop = await make_unit("茶叶合作社", UnitType.COOP, tree.own)
    holders = {
        "lower unit": (
            lambda: unit_actions.create_unit(county, parent_id=coop.id, name="一组", unit_type=UnitType.OTHER),
            msg.UNIT_HAS_CHILDREN,
        ),
        "account": (lambda: make_account("coop_clerk", coop), msg.UNIT_HAS_ACCOUNTS),
        "card": (lambda: coop_card(coop), msg.UNIT_HAS_COOP_CARD),
    }
    add, said = holders[holder]
    commits_just_before_the_next_transaction(monkeypatch, add)
    with pytest.raises(Conflict) as refused:
        await unit_actions.delete_unit(county, coop.id)
    assert refused.value.code == "unit_not_empty" and refused.value.message == said
    assert await Unit.exists(id=coop.id)
    assert not await AuditEntry.filter(action="unit.delete").exists()


async def test_a_unit_moved_meanwhile_is_deleted_with_its_new_path_in_the_audit_entry(monkeypatch):
    tree = await make_tree()
    county = _actor_of(tree.parent)
    commits_just_before_the_next_transaction(
        monkeypatch, lambda: unit_actions.move_unit(county, tree.child.id, new_parent_id=tree.sibling.id)
    )
    await unit_actions.delete_unit(county, tree.child.id)
    assert not await Unit.exists(id=tree.child.id)
    entry = await AuditEntry.get(action="unit.delete")
    assert entry.scope_path == f"{tree.sibling.path}{tree.child.id}/"


async def test_a_unit_moved_out_of_the_admins_scope_meanwhile_is_not_deleted(monkeypatch):
    tree = await make_tree()
    town = _actor_of(tree.own)
    commits_just_before_the_next_transaction(
        monkeypatch,
        lambda: unit_actions.move_unit(_actor_of(tree.parent), tree.child.id, new_parent_id=tree.sibling.id),
    )
    with pytest.raises(NotFound):
        await unit_actions.delete_unit(town, tree.child.id)
    assert await Unit.exists(id=tree.child.id)
    assert not await AuditEntry.filter(action="unit.delete").exists()
