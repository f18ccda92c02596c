"""P10 audit: hash chain written in the change's transaction, tamper detection, scoped queries."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys

from backend.accounts.models import Account
from backend.core import audit, db
from backend.core.audit import AuditEntry
from backend.core.config import Settings
from backend.core.roles import Role
from tests.factories import login, login_response, make_account, make_tree


def _verify_cli(settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APP_ENV": "test", "VAR_DIR": str(settings.var_dir), "DATABASE_URL": settings.database_url}
    return subprocess.run(
        [sys.executable, "-m", "backend", "audit", "verify"], env=env, capture_output=True, text=True, timeout=60
    )


async def _some_history(client) -> None:
    tree = await make_tree()
    await make_account("county_admin", tree.parent, role="admin")
    admin = await login(client, "county_admin")
    await login_response(client, "county_admin", "Wrong#pass1")
    await client.post("/api/units/", headers=admin, json={"parent_id": tree.own.id, "name": "新村", "type": "village"})
    await client.patch(f"/api/units/{tree.child.id}", headers=admin, json={"name": "王家湾社区"})


async def test_entries_form_an_unbroken_chain(client):
    await _some_history(client)
    entries = await AuditEntry.all().order_by("id")
    assert len(entries) >= 4
    assert entries[0].prev_hash == audit.GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    assert (await audit.verify_chain()).ok


async def test_verify_command_reports_the_first_entry_edited_in_the_database(client, settings):
    await _some_history(client)
    assert _verify_cli(settings).returncode == 0
    entries = await AuditEntry.all().order_by("id")
    victim = entries[1]
    await db.execute("UPDATE audit_entry SET outcome = ? WHERE id = ?", ["success", victim.id])
    result = _verify_cli(settings)
    assert result.returncode == 1
    assert f"BROKEN at entry {victim.id}" in result.stdout


async def test_verify_detects_a_deleted_entry_and_a_removed_tail(client):
    await _some_history(client)
    entries = await AuditEntry.all().order_by("id")
    await db.execute("DELETE FROM audit_entry WHERE id = ?", [entries[2].id])
    report = await audit.verify_chain()
    assert report.broken_id == entries[3].id
    await db.execute("DELETE FROM audit_entry WHERE id >= ?", [entries[2].id])
    assert not (await audit.verify_chain()).ok


async def test_a_failed_change_leaves_no_audit_entry(client):
    tree = await make_tree()
    await make_account("county_admin", tree.parent, role="admin")
    admin = await login(client, "county_admin")
    before = await AuditEntry.all().count()
    refused = await client.delete(f"/api/units/{tree.own.id}", headers=admin)  # has a child: refused
    assert refused.status_code == 409
    assert await AuditEntry.all().count() == before


async def test_parallel_writers_keep_a_single_chain(client):
    tree = await make_tree()
    await make_account("county_admin", tree.parent, role="admin")
    admin = await login(client, "county_admin")
    await asyncio.gather(
        *[
            client.post(
                "/api/units/", headers=admin, json={"parent_id": tree.own.id, "name": f"并发村{n}", "type": "village"}
            )
            for n in range(12)
        ]
    )
    assert (await audit.verify_chain()).ok
    assert await AuditEntry.filter(action="unit.create").count() == 12


async def test_audit_query_shows_only_entries_within_scope(client):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role="admin")
    await make_account("sibling_admin", tree.sibling, role="admin")
    await make_account("villager", tree.child, role="clerk")
    await login(client, "sibling_admin")
    await login(client, "villager")
    town = await login(client, "town_admin")
    listed = (await client.get("/api/audit/", headers=town)).json()["items"]
    visible = {a.username for a in await Account.filter(id__in=[e["actor_account_id"] for e in listed])}
    assert visible == {"town_admin", "villager"}


async def test_the_audit_query_narrows_to_a_unit_and_to_days_in_china(client):
    """The REST log could not be asked for a unit's entries or a day's, which the chat answers."""
    from backend.core import runtime

    clock = runtime.get().clock
    tree = await make_tree()
    await make_account("town_admin", tree.own, role="admin")
    await make_account("villager", tree.child, role="clerk")
    first_day = clock.china_now().date()
    await login(client, "villager")
    clock.advance(24 * 3600)
    await login(client, "villager")
    town = await login(client, "town_admin")

    async def listed(**params: object) -> list[str]:
        answer = await client.get("/api/audit/", headers=town, params=params)
        assert answer.status_code == 200, answer.text
        return [item["action"] for item in answer.json()["items"]]

    assert len(await listed()) == 3
    assert len(await listed(unit_id=tree.child.id)) == 2  # the village's: the township admin's own is not
    assert len(await listed(from_day=first_day.isoformat(), to_day=first_day.isoformat())) == 1
    assert len(await listed(from_day=clock.china_now().date().isoformat())) == 2
    assert len(await listed(to_day=first_day.isoformat(), unit_id=tree.child.id)) == 1
    reversed_days = await client.get(
        "/api/audit/", headers=town, params={"from_day": clock.china_now().date().isoformat(), "to_day": first_day}
    )
    assert reversed_days.status_code == 422 and "to_day" in reversed_days.json()["error"]["fields"]
    for bad in ({"from_day": "2026-13-01"}, {"to_day": "yesterday"}, {"unit_id": "x"}):
        answer = await client.get("/api/audit/", headers=town, params=bad)
        assert answer.status_code == 422, bad
    outside = await client.get("/api/audit/", headers=town, params={"unit_id": tree.sibling.id})
    assert outside.status_code == 404


async def test_entries_recorded_at_once_outside_a_transaction_still_form_one_chain():
    await asyncio.gather(*[audit.record("auth.login", scope_path="/1/", outcome="failure") for _ in range(5)])
    entries = await AuditEntry.all().order_by("id")
    assert len({e.prev_hash for e in entries}) == 5
    assert (await audit.verify_chain()).ok


async def test_the_root_sysadmin_sees_failed_logins_under_unknown_names_and_no_one_else_does(client):
    tree = await make_tree()
    await make_account("sysadmin", tree.parent, role=Role.SYSADMIN)
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    assert (await login_response(client, "no_such_user", "Wrong#pass1")).status_code == 401
    params = {"action": "auth.login", "outcome": "failure"}
    sysadmin = (await client.get("/api/audit/", params=params, headers=await login(client, "sysadmin"))).json()
    assert [e["detail"] for e in sysadmin["items"]] == [{"reason": "unknown_login"}]
    town = (await client.get("/api/audit/", params=params, headers=await login(client, "town_admin"))).json()
    assert town["items"] == []


async def _audit_plan(**filters: object) -> str:
    """SQLite's plan for the audit page query of a county admin with ``filters``; on PostgreSQL (whose
    planner takes a tiny test table whole) the names of the audit table's indexes."""
    if db.db().capabilities.dialect == "postgres":
        rows = await db.db().execute_query_dict("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_entry'")
        return "\n".join(row["indexname"] for row in rows)
    from backend.audit.queries import entries_query
    from backend.core.actor import Actor, Origin
    from backend.core.roles import FinanceAccess

    county = (await make_tree()).parent
    actor = Actor(1, "x", "s", 1, county.id, county.path, county.depth, Role.ADMIN, FinanceAccess.NONE, Origin())
    sql = entries_query(actor, **filters).order_by("-id").limit(51).sql(params_inline=True)
    rows = await db.db().execute_query_dict(f"EXPLAIN QUERY PLAN {sql}")
    return "\n".join(row["detail"] for row in rows)


async def test_the_audit_query_by_account_reads_the_account_indexes_not_the_whole_scope():
    plan = await _audit_plan(account_id=7)
    assert "idx_audit_actor_account" in plan and "idx_audit_target" in plan, plan


async def test_the_audit_query_by_action_or_outcome_walks_that_index_newest_first():
    assert "idx_audit_action" in await _audit_plan(action="account.phone")
    assert "idx_audit_outcome" in await _audit_plan(outcome="failure")


def test_verify_on_a_database_not_yet_migrated_says_to_migrate_without_a_traceback(tmp_path):
    """`audit verify` against a fresh or mistyped database printed tortoise's traceback."""
    env = {**os.environ, "APP_ENV": "test", "VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)  # the embedded default in an empty var dir: no tables
    result = subprocess.run(
        [sys.executable, "-m", "backend", "audit", "verify"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "python -m backend migrate" in result.stderr, result
    assert "Traceback" not in result.stderr + result.stdout
