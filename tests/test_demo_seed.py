"""The demo generator builds a consistent region tree whose demo accounts can log in."""

from __future__ import annotations

import json
from collections import Counter
from importlib import import_module

import pytest

from backend.accounts.models import Account, Membership
from backend.core import db
from backend.demo import seed
from backend.registration.models import UnitRegistration
from backend.units.models import Unit, UnitType
from tests.factories import login, make_unit


async def _assert_consistent_tree() -> list[Unit]:
    units = {u.id: u for u in await Unit.all()}
    for unit in units.values():
        if unit.parent_id is None:
            assert unit.path == f"/{unit.id}/" and unit.depth == 0
        else:
            parent = units[unit.parent_id]
            assert unit.path == f"{parent.path}{unit.id}/" and unit.depth == parent.depth + 1
            if parent.region_code and unit.region_code:
                digits = {"province": 2, "city": 4, "county": 6, "township": 9}[parent.type]
                assert unit.region_code[:digits] == parent.region_code[:digits]
    codes = [u.region_code for u in units.values() if u.region_code]  # co-ops have none
    assert len(codes) == len(set(codes))
    return list(units.values())


async def test_small_seed_builds_the_named_tree_and_demo_accounts_log_in(client, settings):
    result = await seed.seed("small", settings.var_dir)
    units = await _assert_consistent_tree()
    assert "王家湾村" in {u.name for u in units}
    assert await Account.all().count() == len(seed.DEMO_ACCOUNTS)
    stored = json.loads(seed.demo_file(settings.var_dir).read_text())
    assert stored["demo_accounts"] == result["demo_accounts"]
    admin = next(a for a in result["demo_accounts"] if a["username"] == "demo_town_admin")
    headers = await login(client, admin["username"], admin["password"])
    assert (await client.get("/api/accounts/", headers=headers)).json()["total"] >= 5
    agent = await Account.get(username_key="demo_agent")
    assert await Membership.filter(account_id=agent.id).count() == 2
    assert "DEMO ONLY" in seed.describe(settings.var_dir)
    coded = await Unit.filter(credit_code__isnull=False)
    # recovery by unit (R3) finds a unit by its organisation code too: every credit code holds one
    assert coded and all(u.org_code == u.credit_code[8:17] for u in coded)


async def test_the_migration_fills_the_organisation_codes_units_were_written_without(client):
    migration = import_module("backend.migrations.0013_org_codes")
    coop = await make_unit("王家湾村综合服务社", UnitType.COOP)
    await Unit.filter(id=coop.id).update(credit_code="93530101MA0000269F", org_code=None)
    bare = await make_unit("王家湾村", UnitType.VILLAGE)

    class Editor:  # what the migration runner hands over: the connection
        client = db.db()

    await migration.fill_org_codes(None, Editor())
    assert (await Unit.get(id=coop.id)).org_code == "MA0000269"
    assert (await Unit.get(id=bare.id)).org_code is None


async def test_seed_refuses_a_database_that_already_has_units(settings):
    await seed.seed("small", settings.var_dir)
    with pytest.raises(RuntimeError):
        await seed.seed("small", settings.var_dir)


async def test_large_seed_fills_every_level_to_its_target(settings, monkeypatch):
    targets = {"cities": 5, "counties": 12, "townships": 40, "villages": 150, "accounts": 900}
    monkeypatch.setattr(seed, "LARGE_TARGET", targets)
    result = await seed.seed("large", settings.var_dir)
    units = await _assert_consistent_tree()
    per_type = Counter(u.type for u in units)
    assert per_type[UnitType.PROVINCE] == 1
    assert per_type[UnitType.CITY] == targets["cities"]
    assert per_type[UnitType.COUNTY] == targets["counties"]
    assert per_type[UnitType.TOWNSHIP] == targets["townships"]
    assert per_type[UnitType.VILLAGE] == targets["villages"]
    assert await Account.all().count() == targets["accounts"] == result["counts"]["accounts"]
    assert result["bulk_password"]
    created = await Unit.create(
        name="新建村",
        type=UnitType.VILLAGE,
        path="/x/",
        depth=5,
        created_at=units[0].created_at,
        updated_at=units[0].created_at,
    )
    assert created.id > max(u.id for u in units)  # sequences moved past the bulk ids


async def test_a_seed_whose_rollups_fail_leaves_the_database_empty_to_seed_again(client, settings, monkeypatch):
    """Cards without their roll-ups would show zeros in every summary, and a seed refuses a database
    that is not empty: the roll-ups go in with the rest or nothing does."""

    async def failing() -> None:
        raise RuntimeError("roll-ups failed")

    monkeypatch.setattr(seed.rollups, "rebuild", failing)
    with pytest.raises(RuntimeError):
        await seed.seed("small", settings.var_dir)
    assert await seed.is_empty()
    monkeypatch.undo()
    await seed.seed("small", settings.var_dir)
    assert not await seed.is_empty()


async def test_the_demo_has_a_review_and_a_registration_for_the_town_admin_to_decide(client, settings):
    """ "待审核" and "注册审批" had nothing to show in the demo: requests come only from strangers."""
    result = await seed.seed("small", settings.var_dir)
    admin = next(a for a in result["demo_accounts"] if a["username"] == "demo_town_admin")
    headers = await login(client, admin["username"], admin["password"])
    reviews = (await client.post("/api/chat", json={"text": "待审核"}, headers=headers)).json()
    [table] = [b for b in reviews["blocks"] if b["type"] == "table"]
    assert len(table["rows"]) == 1 and table["rows"][0][0] == "找回密码"
    row = table["row_actions"][0]
    action = {"intent": row["intent"], "params": row["params"]}
    card = (await client.post("/api/chat", json={"action": action}, headers=headers)).json()
    [shown] = [b for b in card["blocks"] if b["type"] == "card"]
    image = next(a for a in shown["actions"] if a["intent"] == "review.image")
    fetched = await client.get(f"/api/reviews/{image['params']['review_id']}/images/1", headers=headers)
    assert fetched.status_code == 200 and fetched.content.startswith(b"\x89PNG")
    checks = {f["label"]: f["value"] for f in shown["fields"]}
    assert checks["姓名核对"] == "一致" and checks["身份证号核对"] == "一致"  # the account's own person
    registrations = (await client.post("/api/chat", json={"text": "注册审批"}, headers=headers)).json()
    [listed] = [b for b in registrations["blocks"] if b["type"] == "table"]
    assert [row[0] for row in listed["rows"]] == ["白沙镇蜂蜜养殖专业合作社"]
    approved = await client.post(
        f"/api/registration/{(await UnitRegistration.get()).id}/approve", headers=headers, json={}
    )
    assert approved.status_code == 200, approved.text  # a registration the API accepts as written
