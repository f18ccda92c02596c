"""Rule 1: scope is decided once, on the server.

An admin of 白沙镇 (``own``) sees its own unit and everything below it. Ids of the parent county,
of the sibling township and ids that do not exist all answer the same 404 ``not_found`` (never 403,
so ids cannot be probed) and change nothing; lists and totals never include or count those rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest

from backend.accounts.models import Account, Membership
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from backend.core.sms import SmsMessage
from backend.units.models import Unit, UnitType
from tests.factories import Tree, login, make_account, make_tree, make_unit

MISSING_ID = 987_654


@dataclass
class World:
    """The tree of ``make_tree`` plus two units below ``own``, and accounts in every unit."""

    tree: Tree
    spare: Unit  # a second village below own (where child_clerk also works)
    leaf: Unit  # an empty work team below child (deletable)
    far: Unit  # a village below the sibling township, with the highest unit id
    admin: Account  # admin of own: the actor of most tests
    own_clerk: Account
    own_viewer: Account
    parent_admin: Account
    sibling_admin: Account
    child_clerk: Account  # clerk in child and viewer in spare; one failed login (so it can be unlocked)
    dual: Account  # admin in child and in sibling: must choose a unit per session

    def ids(self) -> dict[str, int]:
        return {
            "own": self.tree.own.id,
            "child": self.tree.child.id,
            "spare": self.spare.id,
            "leaf": self.leaf.id,
            "child_account": self.child_clerk.id,
        }


async def _membership(account: Account, unit: Unit, role: Role) -> None:
    await Membership.create(account_id=account.id, unit_id=unit.id, role=role, created_at=unit.created_at)


@pytest.fixture
async def world() -> World:
    tree = await make_tree()
    spare = await make_unit("李家庄村", UnitType.VILLAGE, tree.own, region_code="530101001002")
    leaf = await make_unit("第一村民小组", UnitType.WORK_TEAM, tree.child)
    child_clerk = await make_account("child_clerk", tree.child, Role.CLERK)
    await _membership(child_clerk, spare, Role.VIEWER)
    await Account.filter(id=child_clerk.id).update(failed_logins=1)
    dual = await make_account("dual_admin", tree.child, Role.ADMIN)
    await _membership(dual, tree.sibling, Role.ADMIN)
    far = await make_unit("桃源村", UnitType.VILLAGE, tree.sibling, region_code="530101002001")
    return World(
        tree=tree,
        spare=spare,
        leaf=leaf,
        far=far,
        admin=await make_account("town_admin", tree.own, Role.ADMIN),
        own_clerk=await make_account("own_clerk", tree.own, Role.CLERK),
        own_viewer=await make_account("own_viewer", tree.own, Role.VIEWER),
        parent_admin=await make_account("county_admin", tree.parent, Role.ADMIN),
        sibling_admin=await make_account("sibling_admin", tree.sibling, Role.ADMIN),
        child_clerk=child_clerk,
        dual=dual,
    )


async def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row that an endpoint of units or accounts may write, to prove a refusal changed nothing."""
    return {
        "unit": await Unit.all()
        .order_by("id")
        .values_list("id", "parent_id", "name", "type", "region_code", "unit_code", "credit_code", "path", "depth"),
        "account": await Account.all()
        .order_by("id")
        .values_list(
            "id",
            "name",
            "phone_index",
            "id_number_index",
            "password_hash",
            "is_active",
            "failed_logins",
            "locked_until",
            "must_change_password",
            "sessions_revoked_at",
        ),
        "membership": await Membership.all()
        .order_by("id")
        .values_list("id", "account_id", "unit_id", "role", "finance_access"),
        "audit_entry": await AuditEntry.all().order_by("id").values_list("id", "action", "outcome"),
        "sms_message": await SmsMessage.all().order_by("id").values_list("id"),
    }


@dataclass(frozen=True)
class Endpoint:
    """One request that names a unit or an account.

    ``{target}`` in the path or body takes the id under test (a unit or an account, per ``kind``);
    ``in_scope`` names which in-scope id proves the endpoint works. ``{child}``, ``{spare}``,
    ``{leaf}``, ``{own}`` and ``{child_account}`` are fixed in-scope ids.
    """

    name: str
    method: str
    path: str
    body: dict[str, Any] | None
    kind: Literal["unit", "account"]
    in_scope: str
    success: int
    permission: str


ENDPOINTS = [
    Endpoint("get unit", "GET", "/api/units/{target}", None, "unit", "child", 200, "units.view"),
    Endpoint("update unit", "PATCH", "/api/units/{target}", {"name": "新名称村"}, "unit", "child", 200, "units.manage"),
    Endpoint("delete unit", "DELETE", "/api/units/{target}", None, "unit", "leaf", 204, "units.manage"),
    Endpoint(
        "move unit (unit moved)",
        "POST",
        "/api/units/{target}/move",
        {"new_parent_id": "{spare}"},
        "unit",
        "leaf",
        200,
        "units.manage",
    ),
    Endpoint(
        "move unit (new parent)",
        "POST",
        "/api/units/{leaf}/move",
        {"new_parent_id": "{target}"},
        "unit",
        "spare",
        200,
        "units.manage",
    ),
    Endpoint(
        "create unit (parent_id)",
        "POST",
        "/api/units/",
        {"parent_id": "{target}", "name": "新建小组", "type": "work_team"},
        "unit",
        "child",
        201,
        "units.manage",
    ),
    Endpoint("list units (parent_id)", "GET", "/api/units/?parent_id={target}", None, "unit", "own", 200, "units.view"),
    Endpoint("get account", "GET", "/api/accounts/{target}", None, "account", "child_account", 200, "accounts.view"),
    Endpoint(
        "update account",
        "PATCH",
        "/api/accounts/{target}",
        {"name": "新名字"},
        "account",
        "child_account",
        200,
        "accounts.manage",
    ),
    Endpoint(
        "set membership (account)",
        "PUT",
        "/api/accounts/{target}/memberships",
        {"unit_id": "{child}", "role": "viewer"},
        "account",
        "child_account",
        200,
        "accounts.manage",
    ),
    Endpoint(
        "set membership (unit_id)",
        "PUT",
        "/api/accounts/{child_account}/memberships",
        {"unit_id": "{target}", "role": "viewer"},
        "unit",
        "leaf",
        200,
        "accounts.manage",
    ),
    Endpoint(
        "remove membership (account)",
        "DELETE",
        "/api/accounts/{target}/memberships/{spare}",
        None,
        "account",
        "child_account",
        204,
        "accounts.manage",
    ),
    Endpoint(
        "remove membership (unit)",
        "DELETE",
        "/api/accounts/{child_account}/memberships/{target}",
        None,
        "unit",
        "spare",
        204,
        "accounts.manage",
    ),
    Endpoint(
        "reset password",
        "POST",
        "/api/accounts/{target}/reset-password",
        None,
        "account",
        "child_account",
        204,
        "accounts.manage",
    ),
    Endpoint(
        "unlock", "POST", "/api/accounts/{target}/unlock", None, "account", "child_account", 204, "accounts.manage"
    ),
    Endpoint(
        "deactivate",
        "POST",
        "/api/accounts/{target}/deactivate",
        None,
        "account",
        "child_account",
        204,
        "accounts.manage",
    ),
    Endpoint(
        "reveal",
        "POST",
        "/api/accounts/{target}/reveal",
        {"field": "phone"},
        "account",
        "child_account",
        200,
        "accounts.reveal",
    ),
    Endpoint(
        "end sessions",
        "DELETE",
        "/api/accounts/{target}/sessions",
        None,
        "account",
        "child_account",
        204,
        "accounts.manage",
    ),
    Endpoint(
        "create account (unit_id)",
        "POST",
        "/api/accounts/",
        {"unit_id": "{target}", "username": "new_clerk", "name": "新录入员", "phone": "13900000001", "role": "clerk"},
        "unit",
        "child",
        201,
        "accounts.manage",
    ),
    Endpoint(
        "list accounts (unit_id)", "GET", "/api/accounts/?unit_id={target}", None, "unit", "child", 200, "accounts.view"
    ),
]
ENDPOINT_IDS = [e.name for e in ENDPOINTS]
MANAGEMENT_ENDPOINTS = [e for e in ENDPOINTS if e.permission != "units.view"]


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


async def call(
    client: httpx.AsyncClient, endpoint: Endpoint, world: World, target: int, headers: dict[str, str]
) -> httpx.Response:
    ids = {**world.ids(), "target": target}
    body = _fill(endpoint.body, ids) if endpoint.body is not None else None
    return await client.request(endpoint.method, endpoint.path.format(**ids), json=body, headers=headers)


def out_of_scope_id(world: World, endpoint: Endpoint, where: str) -> int:
    if where == "missing":
        return MISSING_ID
    if endpoint.kind == "unit":
        return world.tree.sibling.id if where == "sibling" else world.tree.parent.id
    return world.sibling_admin.id if where == "sibling" else world.parent_admin.id


def in_scope_id(world: World, endpoint: Endpoint) -> int:
    return world.ids()[endpoint.in_scope]


def assert_not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert set(error) == {"code", "message", "fields"}


@pytest.mark.parametrize("where", ["sibling", "parent", "missing"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
async def test_ids_outside_scope_answer_404_exactly_like_missing_ids_and_change_nothing(
    client: httpx.AsyncClient, world: World, endpoint: Endpoint, where: str
) -> None:
    headers = await login(client, "town_admin")
    before = await snapshot()
    response = await call(client, endpoint, world, out_of_scope_id(world, endpoint, where), headers)
    assert_not_found(response)
    missing = await call(client, endpoint, world, MISSING_ID, headers)
    assert response.json() == missing.json(), "an out-of-scope id must be indistinguishable from a missing one"
    assert await snapshot() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
async def test_in_scope_ids_reach_the_same_endpoints(
    client: httpx.AsyncClient, world: World, endpoint: Endpoint
) -> None:
    headers = await login(client, "town_admin")
    response = await call(client, endpoint, world, in_scope_id(world, endpoint), headers)
    assert response.status_code == endpoint.success, response.text


async def test_ending_sessions_of_an_out_of_scope_account_leaves_them_alive(
    client: httpx.AsyncClient, world: World
) -> None:
    sibling = await login(client, "sibling_admin")
    headers = await login(client, "town_admin")
    assert_not_found(await client.delete(f"/api/accounts/{world.sibling_admin.id}/sessions", headers=headers))
    assert_not_found(await client.post(f"/api/accounts/{world.sibling_admin.id}/deactivate", headers=headers))
    assert (await client.get("/api/session", headers=sibling)).status_code == 200


async def test_unit_list_and_total_hold_only_own_subtree(client: httpx.AsyncClient, world: World) -> None:
    headers = await login(client, "town_admin")
    expected = {world.tree.own.id, world.tree.child.id, world.spare.id, world.leaf.id}
    page = (await client.get("/api/units/", headers=headers)).json()
    assert {item["id"] for item in page["items"]} == expected
    assert page["total"] == len(expected)
    paged = (await client.get("/api/units/?limit=1", headers=headers)).json()
    assert paged["total"] == len(expected) and len(paged["items"]) == 1
    for query in ("q=桃源", "q=青山", "q=县", "type=county"):
        filtered = (await client.get(f"/api/units/?{query}", headers=headers)).json()
        assert filtered == {"items": [], "total": 0, "next_cursor": None}, query
    beyond = (await client.get(f"/api/units/?cursor={world.leaf.id}", headers=headers)).json()
    assert beyond["items"] == [] and beyond["next_cursor"] is None  # the far village's higher id is not next


async def test_account_list_and_total_hold_only_memberships_in_own_subtree(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = await login(client, "town_admin")
    page = (await client.get("/api/accounts/?limit=200", headers=headers)).json()
    rows = {(row["account_id"], row["unit_id"]) for row in page["items"]}
    own, child = world.tree.own.id, world.tree.child.id
    assert rows == {
        (world.admin.id, own),
        (world.own_clerk.id, own),
        (world.own_viewer.id, own),
        (world.child_clerk.id, child),
        (world.child_clerk.id, world.spare.id),
        (world.dual.id, child),  # but not dual's membership in the sibling township
    }
    assert page["total"] == len(rows)
    for query in ("q=sibling", "q=county", "q=sibling_admin", f"unit_id={world.leaf.id}"):
        filtered = (await client.get(f"/api/accounts/?{query}", headers=headers)).json()
        assert filtered == {"items": [], "total": 0, "next_cursor": None}, query


async def test_account_detail_hides_memberships_outside_scope(client: httpx.AsyncClient, world: World) -> None:
    headers = await login(client, "town_admin")
    detail = (await client.get(f"/api/accounts/{world.dual.id}", headers=headers)).json()
    assert [m["unit_id"] for m in detail["memberships"]] == [world.tree.child.id]
    # dual also works in the sibling township, so the admin of own may see but not manage it
    refused = await client.post(f"/api/accounts/{world.dual.id}/reset-password", headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "cannot_manage"


async def test_audit_list_holds_only_entries_of_own_subtree(client: httpx.AsyncClient, world: World) -> None:
    county = await login(client, "county_admin")
    renamed = await client.patch(f"/api/units/{world.tree.sibling.id}", json={"name": "桃源镇"}, headers=county)
    assert renamed.status_code == 200, renamed.text
    await login(client, "sibling_admin")
    headers = await login(client, "town_admin")
    assert (
        await client.patch(f"/api/units/{world.leaf.id}", json={"name": "一组"}, headers=headers)
    ).status_code == 200

    outside = {world.tree.parent.path, world.tree.sibling.path}
    entries = await AuditEntry.all().values_list("id", "scope_path")
    outside_ids = {entry_id for entry_id, path in entries if path in outside}
    inside_ids = {entry_id for entry_id, path in entries if path.startswith(world.tree.own.path)}
    assert outside_ids and inside_ids  # the test is not vacuous

    page = (await client.get("/api/audit/?limit=200", headers=headers)).json()
    seen = {item["id"] for item in page["items"]}
    assert seen == inside_ids
    assert not seen & outside_ids
    by_county = (await client.get(f"/api/audit/?account_id={world.parent_admin.id}", headers=headers)).json()
    assert by_county["items"] == []


async def test_account_with_two_units_must_choose_one_before_unit_scoped_requests(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = await login(client, "dual_admin")
    session = (await client.get("/api/session", headers=headers)).json()
    assert session["unit"] is None
    assert {m["unit_id"] for m in session["units"]} == {world.tree.child.id, world.tree.sibling.id}
    for path in (
        "/api/units/",
        f"/api/units/{world.tree.child.id}",
        "/api/accounts/",
        f"/api/accounts/{world.child_clerk.id}",
        "/api/audit/",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "unit_choice_required", path
    before = await snapshot()
    refused = await client.patch(f"/api/units/{world.leaf.id}", json={"name": "改名"}, headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "unit_choice_required"
    assert await snapshot() == before


async def test_a_session_cannot_choose_a_membership_of_another_account(client: httpx.AsyncClient, world: World) -> None:
    headers = await login(client, "dual_admin")
    foreign = await Membership.get(account_id=world.sibling_admin.id)
    response = await client.post("/api/session/unit", json={"membership_id": foreign.id}, headers=headers)
    assert_not_found(response)
    assert (await client.get("/api/session", headers=headers)).json()["unit"] is None


async def test_chosen_unit_alone_decides_what_a_two_unit_account_sees(client: httpx.AsyncClient, world: World) -> None:
    headers = await login(client, "dual_admin")
    in_child = await Membership.get(account_id=world.dual.id, unit_id=world.tree.child.id)
    chosen = await client.post("/api/session/unit", json={"membership_id": in_child.id}, headers=headers)
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["unit"]["unit_id"] == world.tree.child.id

    units = (await client.get("/api/units/", headers=headers)).json()
    assert {u["id"] for u in units["items"]} == {world.tree.child.id, world.leaf.id}
    assert units["total"] == 2
    assert (await client.get("/api/units/?q=桃源", headers=headers)).json()["total"] == 0
    assert_not_found(await client.get(f"/api/units/{world.tree.sibling.id}", headers=headers))
    assert_not_found(await client.get(f"/api/units/?parent_id={world.tree.sibling.id}", headers=headers))
    assert_not_found(await client.patch(f"/api/units/{world.tree.sibling.id}", json={"name": "x镇"}, headers=headers))

    accounts = (await client.get("/api/accounts/", headers=headers)).json()
    rows = {(row["account_id"], row["unit_id"]) for row in accounts["items"]}
    assert rows == {(world.child_clerk.id, world.tree.child.id), (world.dual.id, world.tree.child.id)}
    assert accounts["total"] == 2
    assert_not_found(await client.get(f"/api/accounts/{world.sibling_admin.id}", headers=headers))
    assert_not_found(await client.post(f"/api/accounts/{world.sibling_admin.id}/unlock", headers=headers))
    myself = (await client.get(f"/api/accounts/{world.dual.id}", headers=headers)).json()
    assert [m["unit_id"] for m in myself["memberships"]] == [world.tree.child.id]

    audit = (await client.get("/api/audit/?limit=200", headers=headers)).json()
    entries = await AuditEntry.all().values_list("id", "scope_path")
    assert {item["id"] for item in audit["items"]} == {
        entry_id for entry_id, path in entries if path.startswith(world.tree.child.path)
    }
    assert any(path == world.tree.sibling.path for _, path in entries)  # dual's login, kept out of sight


@pytest.mark.parametrize("username", ["own_viewer", "own_clerk"])
@pytest.mark.parametrize("endpoint", MANAGEMENT_ENDPOINTS, ids=[e.name for e in MANAGEMENT_ENDPOINTS])
async def test_viewer_and_clerk_are_forbidden_to_manage_even_in_their_own_scope(
    client: httpx.AsyncClient, world: World, endpoint: Endpoint, username: str
) -> None:
    headers = await login(client, username)
    assert (await client.get(f"/api/units/{world.tree.child.id}", headers=headers)).status_code == 200
    before = await snapshot()
    response = await call(client, endpoint, world, in_scope_id(world, endpoint), headers)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"
    assert await snapshot() == before


async def test_viewer_sees_its_subtree_but_not_the_sibling(client: httpx.AsyncClient, world: World) -> None:
    headers = await login(client, "own_viewer")
    page = (await client.get("/api/units/", headers=headers)).json()
    assert {u["id"] for u in page["items"]} == {world.tree.own.id, world.tree.child.id, world.spare.id, world.leaf.id}
    assert_not_found(await client.get(f"/api/units/{world.tree.sibling.id}", headers=headers))
    assert_not_found(await client.get(f"/api/units/{world.tree.parent.id}", headers=headers))
