"""Two writes that collide in the database (PostgreSQL aborts one of two transactions waiting for
each other's locks) answer 409 ``write_conflict``: nothing of the aborted one stayed, and sending it
again may pass. It was a 500 "server problem", and a retried write keyed for idempotency was then
refused as done."""

from __future__ import annotations

import asyncio

from backend.core import db
from backend.core.roles import Role
from backend.units import actions as unit_actions
from backend.units.models import Unit, UnitType
from tests.factories import login, make_account, make_tree, make_unit


class _Deadlock(Exception):
    """What asyncpg raises when PostgreSQL aborts a transaction as a deadlock (its ``sqlstate``)."""

    sqlstate = "40P01"


async def test_a_write_the_database_aborted_as_a_deadlock_answers_409_and_may_be_sent_again(client, monkeypatch):
    tree = await make_tree()
    await make_account("town_admin", tree.own, Role.ADMIN)
    headers = await login(client, "town_admin")
    create = unit_actions.create_unit

    async def collides(*args, **kwargs):
        try:
            raise _Deadlock("deadlock detected")
        except _Deadlock as exc:
            raise RuntimeError("wrapped by the driver layer") from exc

    monkeypatch.setattr(unit_actions, "create_unit", collides)
    body = {"parent_id": tree.own.id, "name": "一组", "type": "work_team"}
    keyed = {**headers, "Idempotency-Key": "conflict-once-1"}
    refused = await client.post("/api/units/", headers=keyed, json=body)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "write_conflict"
    assert "再提交一次" in refused.json()["error"]["message"]
    assert not await Unit.exists(name="一组")
    monkeypatch.setattr(unit_actions, "create_unit", create)
    again = await client.post("/api/units/", headers=keyed, json=body)  # the same key: it really runs
    assert again.status_code == 201, again.text


def test_only_the_database_aborting_a_colliding_transaction_is_a_write_conflict():
    class Serialization(Exception):
        sqlstate = "40001"

    class UniqueViolation(Exception):
        sqlstate = "23505"

    assert db.is_write_conflict(Serialization())
    assert not db.is_write_conflict(UniqueViolation())
    assert not db.is_write_conflict(RuntimeError("deadlock detected"))  # the words alone are not the state


async def test_a_real_deadlock_is_recognised_as_a_write_conflict(settings):
    """The shape PostgreSQL's deadlock really arrives in through tortoise and asyncpg. SQLite runs
    one write transaction at a time: there the two crossing transactions both pass, one after the
    other."""
    postgres = settings.dialect == "postgres"
    tree = await make_tree()
    first, second = tree.child, await make_unit("李家坪村", UnitType.VILLAGE, tree.own)
    both_hold_one = asyncio.Barrier(2)

    async def lock(one: Unit, other: Unit) -> None:
        async with db.atomic():
            await Unit.filter(id=one.id).select_for_update().first()
            if postgres:  # on SQLite the second transaction waits for the first to end
                await both_hold_one.wait()
            await Unit.filter(id=other.id).select_for_update().first()

    results = await asyncio.gather(lock(first, second), lock(second, first), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if postgres:
        assert len(failures) == 1 and db.is_write_conflict(failures[0]), results
    else:
        assert failures == [], results
