"""The name index's statements: one per source once a scope's size class is known, the size class
cached for a while by the injected clock, and the scope kept by every way of drawing candidates."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from backend.chat import lookup
from backend.core import db
from backend.core.actor import Actor, Origin
from backend.core.clock import FrozenClock
from backend.core.roles import FinanceAccess, Role
from backend.units.models import Unit, UnitType
from tests.factories import Tree, make_account, make_tree, make_unit

# (CANDIDATES, SCAN_LIMIT): the whole of a small scope, the path index walking a medium one, the
# name keys for a large one.
STRATEGIES = {"whole-scope": (200, 2000), "by-path": (6, 2000), "by-name": (6, 7)}


@pytest.fixture(params=list(STRATEGIES.values()), ids=list(STRATEGIES))
def strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    candidates, scan_limit = request.param
    monkeypatch.setattr(lookup, "CANDIDATES", candidates)
    monkeypatch.setattr(lookup, "SCAN_LIMIT", scan_limit)
    return request.param


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL the name index sends (it reads through backend.core.db.fetch and fetch_rows only)."""
    sent: list[str] = []
    fetch, fetch_rows = db.fetch, db.fetch_rows

    async def counting(sql: str, values: list[Any]) -> list[dict[str, Any]]:
        sent.append(sql)
        return await fetch(sql, values)

    async def counting_rows(sql: str, values: list[Any]) -> Sequence[Sequence[Any]]:
        sent.append(sql)
        return await fetch_rows(sql, values)

    monkeypatch.setattr(db, "fetch", counting)
    monkeypatch.setattr(db, "fetch_rows", counting_rows)
    yield sent


def actor_at(unit: Unit) -> Actor:
    return Actor(1, "x", "s", 1, unit.id, unit.path, unit.depth, Role.ADMIN, FinanceAccess.NONE, Origin())


async def _tree_with_namesakes() -> Tree:
    """Villages and people named alike inside the town 白沙镇 and in its sibling 桃源乡."""
    tree = await make_tree()
    for name in ("王家寨村", "李家坪村", "东王家湾村", "王家湾村茶叶专业合作社", "黄家湾村"):
        await make_unit(name, UnitType.VILLAGE, tree.own)
    await make_unit("王家湾村", UnitType.VILLAGE, tree.sibling)
    await make_unit("王家湾", UnitType.VILLAGE, tree.sibling)
    await make_unit("王家弯村", UnitType.VILLAGE, tree.sibling)
    await make_unit("王佳湾村", UnitType.VILLAGE, tree.sibling)
    await make_account("clerk1", tree.child)
    await make_account("clerk2", tree.sibling)
    return tree


async def _subtree_ids(unit: Unit) -> set[int]:
    return {u.id for u in await Unit.filter(path__startswith=unit.path)}


async def test_one_statement_per_source_once_the_size_class_is_known(strategy, statements, clock: FrozenClock):
    tree = await _tree_with_namesakes()
    actor = actor_at(tree.own)
    first = await lookup.find(actor, "王家湾", people=True)
    assert len(statements) == 4  # per source: its size, then its candidates
    statements.clear()
    again = await lookup.find(actor, "王家湾", people=True)
    assert len(statements) == 2  # the size classes come from the cache
    assert again == first
    statements.clear()
    clock.advance(lookup.SIZE_SECONDS - 1)
    await lookup.find(actor, "wangjiawan", people=True)
    assert len(statements) == 2
    statements.clear()
    clock.advance(2)  # past SIZE_SECONDS since they were measured: measured again
    await lookup.find(actor, "wangjiawan", people=True)
    assert len(statements) == 4


async def test_a_new_clock_starts_a_new_cache(statements):
    from backend.core import runtime

    tree = await make_tree()
    await lookup.find(actor_at(tree.own), "王家湾")
    runtime.get().clock = FrozenClock()
    statements.clear()
    await lookup.find(actor_at(tree.own), "王家湾")
    assert len(statements) == 2


async def test_a_small_scope_that_grew_is_measured_again(monkeypatch: pytest.MonkeyPatch, statements):
    monkeypatch.setattr(lookup, "CANDIDATES", 6)
    tree = await make_tree()
    actor = actor_at(tree.own)
    await lookup.find(actor, "白沙镇")  # two units in scope: read whole, and the class cached
    for i in range(8):
        await make_unit(f"新村{i}组", UnitType.WORK_TEAM, tree.child)
    await make_unit("王家寨村", UnitType.VILLAGE, tree.own)
    statements.clear()
    found = await lookup.find(actor, "王家寨")  # 11 units now: more than the whole read takes
    assert [m.name for m in found.matches] == ["王家寨村"]
    assert len(statements) == 3  # the whole read (one row too many), the size again, the walk
    statements.clear()
    await lookup.find(actor, "王家寨")
    assert len(statements) == 1


SCOPE_PROBES = ("王家湾", "wangjiawan", "wjw", "王家弯", "王家", "w", "湾", "桃源乡", "kongjiawan")
SCOPE_PROBES += ("clerk2", "ceshi", "测试")  # people: the sibling's clerk is 测试clerk2


async def test_no_strategy_finds_a_sibling_towns_units_or_people(strategy):
    tree = await _tree_with_namesakes()
    actor = actor_at(tree.own)
    inside = await _subtree_ids(tree.own)
    for text in SCOPE_PROBES:
        found = await lookup.find(actor, text, people=True, limit=50)
        for match in found.matches + found.near:
            if match.kind == lookup.Kind.UNIT:
                assert match.id in inside, (text, match)
            else:
                assert match.within in inside and match.name != "测试clerk2", (text, match)


async def test_the_village_comes_first_in_every_strategy(strategy):
    tree = await _tree_with_namesakes()
    for text in ("王家湾", "wangjiawan", "王家弯"):
        found = await lookup.find(actor_at(tree.own), text, people=True)
        assert lookup.single(found) is not None, (text, found)
        assert lookup.single(found).id == tree.child.id, (text, found)  # type: ignore[union-attr]


async def test_wildcards_in_the_text_match_only_themselves(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(lookup, "CANDIDATES", 2)  # walk the scope: the name conditions are LIKE patterns
    tree = await make_tree()
    for name in ("李_坪合作社", "李家坪村", "百分%村", "百分之村"):
        await make_unit(name, UnitType.VILLAGE, tree.own)
    actor = actor_at(tree.own)
    for text, only in (("李_坪", "李_坪合作社"), ("分%村", "百分%村")):
        rows = await lookup._fetch(lookup._by_path(lookup.UNITS, actor, lookup.Query.of(text)))
        assert [r.name for r in rows] == [only], text


async def test_near_names_are_offered_only_when_nothing_matches(strategy):
    tree = await _tree_with_namesakes()
    actor = actor_at(tree.own)
    found = await lookup.find(actor, "王家湾")
    assert found.matches and not found.near
    missing = await lookup.find(actor, "孔家湾")  # kongjiawan: too far from wangjiawan to match, near enough to offer
    assert not missing.matches and not missing.more
    assert "王家湾村" in [m.name for m in missing.near]
    assert all(m.rank == lookup.Rank.FUZZY for m in missing.near)
