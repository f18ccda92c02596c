"""Each account keeps its last successful login (``account.last_login_at``, migration 0015): the
person card's 上次登录 and the "谁还没登录过" lists read it, not the audit log (which a province's
list walked for every account in scope)."""

from __future__ import annotations

import sqlite3

import pytest

from backend.accounts.models import Account
from backend.core import runtime
from tests.factories import login, login_response, make_tree
from tests.test_chat_accounts import admin_of, person
from tests.test_chat_lookup import blocks, card, fields, say
from tests.test_units_delete_decided import _migrate

DAY = 24 * 3600


async def test_a_login_is_kept_on_the_account_and_a_failed_one_is_not(client, clock):
    tree = await make_tree()
    hou = await person("hgm01", "侯国梅", tree.child)
    assert (await Account.get(id=hou.id)).last_login_at is None
    await login(client, "hgm01")
    first = clock.now()
    clock.advance(DAY)
    assert (await login_response(client, "hgm01", "Wrong#pass1")).status_code == 401
    assert (await Account.get(id=hou.id)).last_login_at == first
    await login(client, "hgm01")
    assert (await Account.get(id=hou.id)).last_login_at == clock.now()


async def test_the_lists_and_the_card_read_the_account_not_the_audit_log(client, clock):
    """An account whose login the audit log no longer holds (pruned, or a database restored without
    it) is not listed as never having logged in."""
    tree = await make_tree()
    await person("hgm01", "侯国梅", tree.child)
    kept = await person("sxp01", "宋晓平", tree.child)
    await Account.filter(id=kept.id).update(last_login_at=clock.now())  # no audit entry says so
    clock.advance(3 * DAY)
    headers = await admin_of(client, tree)
    never = blocks(await say(client, headers, "谁还没登录过"), "table")[0]
    assert [row[0] for row in never["rows"]] == ["侯国梅"]
    idle = blocks(await say(client, headers, "谁两天没登录了"), "table")[0]
    assert [(row[0], row[3]) for row in idle["rows"]] == [("侯国梅", "从未登录"), ("宋晓平", "2026-01-05 16:00")]
    assert fields(card(await say(client, headers, "宋晓平")))["上次登录"] == "2026-01-05 16:00"


async def test_the_migration_fills_the_last_login_from_the_audit_log(settings, tmp_path):
    """A database at 0014: each account gets its newest successful login; failures and other
    people's entries do not count, and an account never logged in stays empty."""
    if settings.dialect != "sqlite":
        pytest.skip("the database before the migration is built with SQLite")
    database = tmp_path / "before.sqlite3"
    _migrate(database, "cunwu.0014_unit_delete_keeps_decided_requests")
    now = runtime.get().clock.now().isoformat()
    entries = [
        (1, "2026-01-01T08:00:00+00:00", 7, "auth.login", "success"),
        (2, "2026-01-03T08:00:00+00:00", 7, "auth.login", "success"),
        (3, "2026-01-04T08:00:00+00:00", 7, "auth.login", "failure"),
        (4, "2026-01-05T08:00:00+00:00", 7, "account.update", "success"),
        (5, "2026-01-02T08:00:00+00:00", 8, "auth.login", "failure"),
    ]
    with sqlite3.connect(database) as connection:
        for account_id, username in ((7, "hgm01"), (8, "sxp01")):
            connection.execute(
                "INSERT INTO account (id, username, username_key, name, must_change_password, is_active, "
                "failed_logins, created_at, updated_at) VALUES (?, ?, ?, '某人', 0, 1, 0, ?, ?)",
                [account_id, username, username, now, now],
            )
        for entry_id, at, account_id, action, outcome in entries:
            connection.execute(
                "INSERT INTO audit_entry (id, at, actor_account_id, action, outcome, scope_path, detail, "
                "prev_hash, hash) VALUES (?, ?, ?, ?, ?, '/', '{}', '', '')",
                [entry_id, at, account_id, action, outcome],
            )
    _migrate(database)
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT id, last_login_at FROM account ORDER BY id").fetchall()
    assert rows == [(7, "2026-01-03T08:00:00+00:00"), (8, None)]
