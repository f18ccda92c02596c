"""P10 audit log, reviewed: the days of China asked in REST and chat, absurd days, and the chain check
naming the entry a tamperer broke however it was broken."""

from __future__ import annotations

import pytest

from backend.core import audit, db
from backend.core.audit import AuditEntry
from backend.core.clock import FrozenClock
from backend.core.config import Settings
from backend.core.roles import Role
from tests.coops_helpers import blocks, chat
from tests.factories import login, make_account, make_tree
from tests.test_audit import _some_history, _verify_cli

HOUR = 3600


async def test_a_day_in_china_holds_the_entries_of_that_day_whatever_their_hour(client, clock: FrozenClock):
    """SQLite compared the stored UTC times with China's midnight as text ("2026-01-04 20:00+00:00" <
    "2026-01-05 00:00+08:00"): an entry at 04:00 in China fell on the day before, one at 02:00 on
    the day before it happened."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    villager = await make_account("wjg01", tree.child, role=Role.CLERK)
    clock.advance(-12 * HOUR)  # 2026-01-04 20:00 UTC: 5 January, 04:00 in China
    await login(client, "wjg01")
    clock.advance(22 * HOUR)  # 2026-01-05 18:00 UTC: 6 January, 02:00 in China
    town = await login(client, "town_admin")

    answer = await client.get("/api/audit/", headers=town, params={"from_day": "2026-01-05", "to_day": "2026-01-05"})
    assert answer.status_code == 200, answer.text
    assert [item["actor_account_id"] for item in answer.json()["items"]] == [villager.id]
    today = await client.get("/api/audit/", headers=town, params={"from_day": "2026-01-06"})
    assert [item["actor_account_id"] for item in today.json()["items"]] != [villager.id]
    assert len(today.json()["items"]) == 1

    [yesterday] = blocks(await chat(client, town, "昨天的操作记录"), "table")
    assert [row[1:] for row in yesterday["rows"]] == [["登录", "测试wjg01", "成功"]]
    assert yesterday["rows"][0][0] == "01-05 04:00"


async def test_the_first_and_last_days_there_are_answer_the_whole_log_not_an_error(client):
    """``to_day=9999-12-31`` (a "no end" some clients send) overflowed the day after it: 500."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    town = await login(client, "town_admin")
    for params in ({"to_day": "9999-12-31"}, {"from_day": "0001-01-01", "to_day": "9999-12-31"}):
        answer = await client.get("/api/audit/", headers=town, params=params)
        assert answer.status_code == 200, (params, answer.text)
        assert [item["action"] for item in answer.json()["items"]] == ["auth.login"]
    for params in ({"to_day": "0001-01-01"}, {"from_day": "9999-12-31"}):
        answer = await client.get("/api/audit/", headers=town, params=params)
        assert answer.status_code == 200 and answer.json()["items"] == [], (params, answer.text)

    wide = await chat(client, town, intent="audit.recent", params={"from_day": "0001-01-01", "to_day": "9999-12-31"})
    assert [row[1:] for row in blocks(wide, "table")[0]["rows"]] == [["登录", "测试town_admin", "成功"]]
    last = await chat(client, town, intent="audit.recent", params={"day": "9999-12-31"})
    assert not blocks(last, "table") and blocks(last, "notice")[0]["text"].startswith("没有")


@pytest.mark.parametrize(("column", "value"), [("detail", "{not json"), ("at", "yesterday noon")])
async def test_verify_names_an_entry_whose_stored_value_can_no_longer_be_read(
    client, settings: Settings, column: str, value: str
):
    """An entry overwritten with a value its column cannot hold (SQLite keeps any text) crashed the
    check with a traceback instead of naming the entry."""
    if settings.dialect != "sqlite":
        pytest.skip("PostgreSQL refuses such a value in a jsonb or timestamptz column")
    await _some_history(client)
    victim = (await AuditEntry.all().order_by("id"))[1]
    await db.execute(f"UPDATE audit_entry SET {column} = ? WHERE id = ?", [value, victim.id])

    report = await audit.verify_chain()
    assert (report.broken_id, report.checked) == (victim.id, 1)
    result = _verify_cli(settings)
    assert result.returncode == 1, result.stderr
    assert f"BROKEN at entry {victim.id}" in result.stdout and "Traceback" not in result.stderr


async def test_verify_reports_a_removed_tail_when_the_chain_head_went_with_it(client):
    """With the head row deleted the check had nothing to compare the last entry with: entries
    removed from the end together with it were reported "intact"."""
    await _some_history(client)
    entries = await AuditEntry.all().order_by("id")
    await db.execute("DELETE FROM audit_entry WHERE id >= ?", [entries[-2].id])
    await db.execute("DELETE FROM audit_head", [])

    report = await audit.verify_chain()
    assert not report.ok
    assert report.broken_id == entries[-3].id and "head" in (report.reason or "")


async def test_someone_who_moved_away_is_not_called_a_superior_in_the_chat_log(client):
    """Whoever the reader may not see was "上级单位人员": a clerk moved from the village to another
    township had their logins there shown as a superior's."""
    from backend.accounts.models import Membership

    tree = await make_tree()
    await make_account("county_admin", tree.parent, role=Role.ADMIN)
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    clerk = await make_account("wjg01", tree.child, role=Role.CLERK, phone="13912345670")
    await login(client, "wjg01")  # filed in the village
    county = await login(client, "county_admin")
    reset = await client.post(f"/api/accounts/{clerk.id}/reset-password", headers=county)
    assert reset.status_code in (200, 204), reset.text
    # the clerk moves to the other township (set-up: the memberships as the county's admin leaves them)
    moved = await Membership.get(account_id=clerk.id)
    await Membership.create(account_id=clerk.id, unit_id=tree.sibling.id, role=Role.CLERK, created_at=moved.created_at)
    await moved.delete()

    town = await login(client, "town_admin")
    [table] = blocks(await chat(client, town, "操作记录"), "table")
    rows = [row[1:] for row in table["rows"]]
    assert ["重置密码", "上级单位人员", "成功"] in rows  # the county's admin
    assert ["登录", "辖区外人员", "成功"] in rows  # the clerk, now of 桃源乡
    assert "测试wjg01" not in str(rows) and "测试county_admin" not in str(rows)
