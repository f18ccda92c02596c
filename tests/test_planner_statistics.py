"""SQLite's planner statistics (sqlite_stat1): gathered after the migrations and the demo seed,
kept current by the worker's nightly step and at a connection's close. Without them SQLite guesses,
and took an index on a two-valued column for a selective one (README, "REST lists of a province or
county"). PostgreSQL gathers its own (autovacuum; the seed runs ANALYZE after its bulk load)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from backend.accounts.models import Membership
from backend.audit.queries import entries_query
from backend.core import db
from backend.core.actor import Actor, Origin
from backend.core.config import Settings
from backend.core.roles import FinanceAccess, Role
from backend.demo import seed
from jobs import worker as jobs_worker
from tests.factories import make_account, make_tree


@pytest.fixture(autouse=True)
async def sqlite_only(settings: Settings) -> AsyncIterator[None]:
    """SQLite only; each test starts without statistics and leaves none to the later tests."""
    if settings.dialect != "sqlite":
        pytest.skip("SQLite's statistics; PostgreSQL keeps its own")
    await _forget_statistics()
    yield
    await _forget_statistics()


async def _forget_statistics() -> None:
    """Empty sqlite_stat1, and have this connection reload it: a connection keeps the statistics it
    loaded, even past a DROP of the table, until ``ANALYZE sqlite_schema`` reloads them."""
    if await _stat_table():
        await db.db().execute_script("DELETE FROM sqlite_stat1; ANALYZE sqlite_schema;")


async def _stat_table() -> bool:
    return bool(await db.fetch("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'", []))


async def _analysed_tables() -> set[str]:
    """The tables that sqlite_stat1 holds statistics for (none before the first ANALYZE)."""
    if not await _stat_table():
        return set()
    return {row["tbl"] for row in await db.fetch("SELECT DISTINCT tbl FROM sqlite_stat1", [])}


def _run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """``python ...`` on the test database."""
    env = {**os.environ, "APP_ENV": "test", "VAR_DIR": str(settings.var_dir), "DATABASE_URL": settings.database_url}
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=120)


async def test_the_demo_seed_leaves_statistics_for_the_tables_it_filled(settings: Settings):
    await seed.seed("small", settings.var_dir)
    assert {"unit", "account", "membership", "coop_card"} <= await _analysed_tables()


async def test_migrate_gathers_statistics_for_the_tables_that_have_rows(settings: Settings):
    """A database upgraded in place: its tables have rows, and a new index has no statistics."""
    tree = await make_tree()
    for n in range(3):
        await make_account(f"villager{n}", tree.own)
    done = _run(settings, "-m", "backend", "migrate")
    assert done.returncode == 0, done.stderr
    assert {"unit", "account", "membership"} <= await _analysed_tables()


async def test_a_connection_closed_leaves_statistics_for_the_tables_its_queries_weighed(settings: Settings):
    """SQLite's advice for short-lived connections: ``PRAGMA optimize`` just before closing. It
    analyses the tables whose non-unique indexes the planner weighed (SQLite 3.46+: every table)."""
    tree = await make_tree()
    for n in range(3):
        await make_account(f"villager{n}", tree.own)
    script = (
        "import asyncio, sys\n"
        "from backend.core import db\n"
        "from backend.core.config import Settings\n"
        "async def main():\n"
        "    await db.init_db(Settings.from_env())\n"
        "    await db.fetch('SELECT COUNT(*) AS n FROM membership WHERE unit_id = ?', [int(sys.argv[1])])\n"
        "    await db.close_db()\n"
        "asyncio.run(main())\n"
    )
    done = _run(settings, "-c", script, str(tree.own.id))
    assert done.returncode == 0, done.stderr
    assert "membership" in await _analysed_tables()


async def test_the_nightly_step_analyses_the_tables_the_server_queried_without_statistics(settings: Settings):
    tree = await make_tree()
    for n in range(3):
        await make_account(f"villager{n}", tree.own)
    # the server's connection looked the village's people up (idx_membership_unit weighed)
    assert await Membership.filter(unit_id=tree.own.id).count() == 3
    (job,) = [job for job in jobs_worker.cron_jobs() if job.name == "cron:planner_statistics"]
    await job.coroutine({})
    assert "membership" in await _analysed_tables()


# sqlite_stat1's rows for the audit log as ANALYZE left them in the bench's large database (1M entries).
LARGE_AUDIT_STATISTICS = (
    ("idx_audit_action", "1000004 142858 1"),
    ("idx_audit_outcome", "1000004 500002 1"),
    ("idx_audit_actor_account", "1000004 11 1"),
    ("idx_audit_target", "1000004 500002 8 1"),
    ("idx_audit_entry_scope_p_fe99ea", "1000004 20"),
)


@pytest.mark.parametrize(
    ("filters", "walk"),
    [({"outcome": "failure"}, "idx_audit_outcome"), ({}, "SCAN audit_entry")],
    ids=["failures", "first-page"],
)
async def test_a_province_s_audit_log_is_read_newest_first_once_analysed(filters: dict[str, str], walk: str):
    """With these statistics SQLite took the province's path range for the smaller set and sorted
    the whole log by id (failures: 2 s at 1M entries instead of 2 ms through the outcome index; the
    first page: 94 ms instead of 3 ms walking the table from its newest entry)."""
    await db.db().execute_script("ANALYZE sqlite_schema")  # creates sqlite_stat1
    for index, stat in LARGE_AUDIT_STATISTICS:
        await db.execute("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('audit_entry', ?, ?)", [index, stat])
    await db.db().execute_script("ANALYZE sqlite_schema")  # this connection loads them
    province = (await make_tree()).parent
    actor = Actor(1, "x", "s", 1, province.id, province.path, province.depth, Role.ADMIN, FinanceAccess.NONE, Origin())
    sql = entries_query(actor, **filters).order_by("-id").limit(51).sql(params_inline=True)
    plan = "\n".join(row["detail"] for row in await db.fetch(f"EXPLAIN QUERY PLAN {sql}", []))
    assert walk in plan and "TEMP B-TREE" not in plan, plan
