"""A unit is deleted once every registration and manual review referring to it is decided: a pending
one holds it (the refusal names it and says to decide it first); a decided one keeps its record, its
link to the unit emptied (migration 0014), and reads with a dash where the unit's name was.

Before, any registration or review ever filed (a township once asked to take in a co-op and refused)
kept the unit for good, and its admin was told only that "a registration record" held it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from backend.core import db, runtime
from backend.core.audit import AuditEntry
from backend.core.errors import Conflict
from backend.core.roles import Role
from backend.registration.models import RegistrationStatus, UnitRegistration
from backend.registration.serializers import registration_out, registration_row
from backend.reviews import actions as review_actions
from backend.reviews import messages as review_msg
from backend.reviews.actions import OpenedReview
from backend.reviews.models import ReviewRequest, ReviewStatus
from backend.reviews.serializers import review_detail, review_row
from backend.units import actions as unit_actions
from backend.units import messages as msg
from backend.units.models import Unit
from tests.factories import Tree, commits_just_before_the_next_transaction, login, make_account, make_tree
from tests.test_registration import submit as submit_registration
from tests.test_review_races import _approve, _coop, _county, _error, _review

ROOT = Path(__file__).resolve().parent.parent
MISSING = "—"


async def _county_admin(client: httpx.AsyncClient, tree: Tree) -> dict[str, str]:
    await make_account("county_admin", tree.parent, role=Role.ADMIN)
    return await login(client, "county_admin")


async def _registration_to(client: httpx.AsyncClient, superior: Unit, n: int = 1) -> UnitRegistration:
    """A pending registration (through the public steps) of co-op ``n`` asking to join ``superior``."""
    phone = f"1390000{n:04d}"
    response, _, _ = await submit_registration(
        client, superior.id, n=n, phone=phone, unit__name=f"茶叶合作社{n}", unit__region_code=f"530101002{n:03d}"
    )
    assert response.status_code == 201, response.text
    return await UnitRegistration.filter(status=RegistrationStatus.PENDING).order_by("-id").first()


async def _delete(client: httpx.AsyncClient, unit: Unit, headers: dict[str, str]) -> httpx.Response:
    return await client.delete(f"/api/units/{unit.id}", headers=headers)


# Decided requests let the unit go, and keep their record --------------------------------------


async def test_a_township_whose_registrations_were_all_decided_is_deleted_and_they_keep_their_record(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    refused = await _registration_to(client, tree.sibling, n=1)
    approved = await _registration_to(client, tree.sibling, n=2)
    answer = await client.post(f"/api/registration/{refused.id}/reject", headers=admin, json={"reason": "不在本乡"})
    assert answer.status_code == 200, answer.text
    answer = await client.post(
        f"/api/registration/{approved.id}/approve", headers=admin, json={"parent_id": tree.parent.id}
    )
    assert answer.status_code == 200, answer.text

    deleted = await _delete(client, tree.sibling, admin)
    assert deleted.status_code == 204, deleted.text
    assert not await Unit.exists(id=tree.sibling.id)
    kept = {r.id: r for r in await UnitRegistration.all()}
    assert kept[refused.id].parent_id is None and kept[refused.id].status == RegistrationStatus.REJECTED
    assert kept[refused.id].decision_reason == "不在本乡"
    assert kept[approved.id].parent_id is None and kept[approved.id].status == RegistrationStatus.APPROVED
    assert await Unit.exists(id=kept[approved.id].created_unit_id)  # the unit it made stays where it was put
    assert await AuditEntry.filter(action="unit.delete", target_id=tree.sibling.id).exists()


async def test_a_co_op_whose_manual_review_was_decided_is_deleted_and_the_review_keeps_its_record(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    coop = await _coop(tree)
    review = await _review(client, kind="unit")
    answer = await client.post(f"/api/reviews/{review.id}/reject", headers=admin, json={"reason": "材料不清楚"})
    assert answer.status_code == 200, answer.text

    deleted = await _delete(client, coop, admin)
    assert deleted.status_code == 204, deleted.text
    kept = await ReviewRequest.get(id=review.id)
    assert (kept.unit_id, kept.status, kept.decision_reason) == (None, ReviewStatus.REJECTED, "材料不清楚")
    listed = await client.get("/api/reviews/", headers=admin, params={"status": "rejected"})
    assert listed.status_code == 200, listed.text  # the list still reads; the request is about no unit now


async def test_the_database_itself_empties_the_link_of_a_decided_request_when_its_unit_goes(client):
    """The foreign keys set NULL (migration 0014), whatever deletes the unit."""
    tree = await make_tree()
    await _county_admin(client, tree)
    registration = await _registration_to(client, tree.sibling)
    await UnitRegistration.filter(id=registration.id).update(status=RegistrationStatus.REJECTED)
    await Unit.filter(id=tree.sibling.id).delete()
    assert (await UnitRegistration.get(id=registration.id)).parent_id is None


# A pending request holds the unit, and the refusal names it ------------------------------------


async def test_a_pending_registration_holds_the_township_and_the_refusal_names_it_and_says_to_decide_it(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    decided = await _registration_to(client, tree.sibling, n=1)
    await UnitRegistration.filter(id=decided.id).update(status=RegistrationStatus.REJECTED)
    await _registration_to(client, tree.sibling, n=2)

    refused = await _delete(client, tree.sibling, admin)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    said = msg.UNIT_HAS_PENDING_REGISTRATIONS.format(count=1, names="茶叶合作社2")
    assert (error["code"], error["message"]) == ("unit_not_empty", said)
    assert "茶叶合作社1" not in error["message"]  # the decided one holds nothing
    assert await Unit.exists(id=tree.sibling.id)


async def test_a_pending_manual_review_holds_the_unit_and_the_refusal_names_its_kind_and_says_to_decide_it(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    coop = await _coop(tree)
    await _review(client, kind="unit")

    refused = await _delete(client, coop, admin)
    assert refused.status_code == 409, refused.text
    said = msg.UNIT_HAS_PENDING_REVIEWS.format(count=1, kinds=f"{review_msg.KIND_LABELS['unit']} 1 份")
    assert (refused.json()["error"]["code"], refused.json()["error"]["message"]) == ("unit_not_empty", said)
    assert await Unit.exists(id=coop.id)


async def test_a_refusal_names_at_most_three_pending_registrations():
    names = unit_actions._listed(["一社", "二社", "三社", "四社"])
    assert names == "一社、二社、三社等"


# Readers of a decided request whose unit is gone ------------------------------------------------


async def test_a_decided_registration_whose_superior_was_deleted_reads_with_a_dash(client):
    tree = await make_tree()
    await _county_admin(client, tree)
    registration = await _registration_to(client, tree.sibling)
    await UnitRegistration.filter(id=registration.id).update(status=RegistrationStatus.REJECTED)
    await Unit.filter(id=tree.sibling.id).delete()

    orphan = await UnitRegistration.get(id=registration.id).select_related("parent")
    out, row = registration_out(orphan), registration_row(orphan)
    assert (out.superior_id, out.superior_name) == (None, MISSING)
    assert (row.superior_id, row.superior_name) == (None, MISSING)
    assert out.unit_name == "茶叶合作社1"  # the name it was filed with


async def test_a_decided_review_whose_unit_was_deleted_reads_with_a_dash(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    coop = await _coop(tree)
    review = await _review(client, kind="unit")
    await client.post(f"/api/reviews/{review.id}/reject", headers=admin, json={"reason": "材料不清楚"})
    await Unit.filter(id=coop.id).delete()

    orphan = await ReviewRequest.get(id=review.id).select_related("unit", "account")
    row = review_row(orphan)
    assert (row.unit_id, row.unit_name, row.name) == (None, MISSING, "张三")
    detail = review_detail(OpenedReview(review=orphan, plan=None), image_url="/i/{index}")
    assert (detail.unit.id, detail.unit.name, detail.unit.credit_code) == (None, MISSING, None)
    assert (detail.checks.name, detail.checks.id_number) == (None, None)


async def test_a_decided_registration_of_a_deleted_superior_is_out_of_every_scope_not_a_server_error(client):
    tree = await make_tree()
    admin = await _county_admin(client, tree)
    registration = await _registration_to(client, tree.sibling)
    await client.post(f"/api/registration/{registration.id}/reject", headers=admin, json={"reason": "不在本乡"})
    assert (await _delete(client, tree.sibling, admin)).status_code == 204
    assert (await client.get(f"/api/registration/{registration.id}", headers=admin)).status_code == 404
    assert (await client.get("/api/registration/pending", headers=admin)).status_code == 200


async def test_an_approval_whose_request_was_decided_and_its_unit_deleted_meanwhile_is_a_conflict(client, monkeypatch):
    """Another admin rejects the request and deletes its (now free) unit between the approver's look and
    the approval's transaction: the approval says it was decided (it failed on the missing unit)."""
    tree = await make_tree()
    coop = await _coop(tree)
    review = await _review(client, kind="unit")
    county = await _county(tree)
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    headers = await login(client, "town_admin")

    async def rejected_and_deleted() -> None:
        await review_actions.reject_review(county, review.id, reason="材料不清楚")
        await unit_actions.delete_unit(county, coop.id)

    commits_just_before_the_next_transaction(monkeypatch, rejected_and_deleted)
    answer = await _approve(client, review, headers)
    assert _error(answer) == (409, "review_decided", review_msg.ALREADY_DECIDED), answer.text
    assert not await Unit.exists(id=coop.id)
    assert (await ReviewRequest.get(id=review.id)).status == ReviewStatus.REJECTED


async def test_a_delete_refused_for_a_pending_request_changes_nothing(client):
    tree = await make_tree()
    county = await _county(tree)
    await _registration_to(client, tree.sibling)
    with pytest.raises(Conflict):
        await unit_actions.delete_unit(county, tree.sibling.id)
    assert await Unit.exists(id=tree.sibling.id)
    assert not await AuditEntry.filter(action="unit.delete").exists()
    assert (await UnitRegistration.get()).parent_id == tree.sibling.id


# The migration ----------------------------------------------------------------------------------


async def test_the_request_tables_keep_their_indexes_after_the_migration_rebuilt_them(settings):
    """SQLite rebuilds a table to change a foreign key, and the old table's indexes go with it."""
    wanted = {
        "idx_review_requ_status_a569f9", "idx_review_unit", "idx_review_account",
        "idx_unit_regist_status_b950a2", "idx_unit_regist_credit__5b34a6", "idx_registration_parent",
    }  # fmt: skip
    tables = "('review_request', 'unit_registration')"
    if settings.dialect == "postgres":
        sql = f"SELECT indexname AS name FROM pg_indexes WHERE tablename IN {tables}"
    else:
        sql = f"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN {tables}"
    assert wanted <= {row["name"] for row in await db.fetch(sql, [])}


MIGRATE_TO = """
import asyncio, sys
from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate
from backend.core.db import tortoise_config

async def main(url, target):
    try:
        await migrate(config=tortoise_config(url), target=target or None)
    finally:
        await Tortoise.close_connections()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def _migrate(database: Path, target: str = "") -> None:
    run = [sys.executable, "-c", MIGRATE_TO, f"sqlite://{database}", target]
    done = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


async def test_the_migration_keeps_every_request_of_a_database_filled_before_it(settings, tmp_path):
    """An existing SQLite database at 0013 with requests in it: every row and id stays, the links are
    now optional, and a decided request no longer keeps its unit."""
    if settings.dialect != "sqlite":
        pytest.skip("the table rebuild is SQLite's; PostgreSQL alters the key in place")
    database = tmp_path / "before.sqlite3"
    _migrate(database, "cunwu.0013_org_codes")
    now = runtime.get().clock.now().isoformat()
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO unit (id, name, type, path, depth, created_at, updated_at, name_pinyin, name_initials) "
            "VALUES (7, '桃源乡', 'township', '/7/', 0, ?, ?, 'taoyuanxiang', 'tyx')",
            [now, now],
        )
        connection.execute(
            "INSERT INTO unit_registration (id, status, parent_id, unit_name, unit_type, credit_code, org_code, "
            "legal_rep_name, legal_rep_id_enc, legal_rep_id_index, admin_username, admin_name, admin_phone_enc, "
            "admin_phone_index, admin_password_hash, created_at) VALUES (41, 'rejected', 7, '茶叶合作社', 'coop', "
            "'c', 'o', 'n', 'e', 'i', 'u', 'a', 'p', 'pi', 'h', ?)",
            [now],
        )
        connection.execute(
            "INSERT INTO review_request (id, kind, status, unit_id, name, id_number_enc, id_number_index, phone_enc, "
            "phone_index, statement, images, created_at) VALUES (42, 'unit', 'approved', 7, '王法人', 'e', 'i', "
            "'p', 'pi', '', '[]', ?)",
            [now],
        )
    _migrate(database)
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA foreign_keys = ON")
        assert connection.execute("SELECT id, parent_id, unit_name FROM unit_registration").fetchall() == [
            (41, 7, "茶叶合作社")
        ]
        assert connection.execute("SELECT id, unit_id, name FROM review_request").fetchall() == [(42, 7, "王法人")]
        connection.execute("DELETE FROM unit WHERE id = 7")
        assert connection.execute("SELECT parent_id FROM unit_registration").fetchall() == [(None,)]
        assert connection.execute("SELECT unit_id FROM review_request").fetchall() == [(None,)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
