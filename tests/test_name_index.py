"""The in-memory name index: exact at every lookup whoever wrote (triggers, the change log), one
statement for a warm lookup, rebuilt on a moved subtree, a gap in the log or too many changes, and
the scope kept by every way of drawing candidates."""

from __future__ import annotations

import random
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any

import pytest
from tortoise.exceptions import IntegrityError

from backend.accounts.models import Account, Membership
from backend.chat import lookup, name_index, parser
from backend.chat.name_index import Column, Condition, Entry, Mode, Source, Strings
from backend.core import db
from backend.core.actor import Actor, Origin
from backend.core.config import Settings
from backend.core.names import alternate_keys, match_key
from backend.core.names import columns as names_columns
from backend.core.roles import FinanceAccess, Role
from backend.units import actions as unit_actions
from backend.units.models import Unit, UnitType
from tests.factories import Tree, make_account, make_tree, make_unit


def actor_at(unit: Unit) -> Actor:
    return Actor(1, "x", "s", 1, unit.id, unit.path, unit.depth, Role.ADMIN, FinanceAccess.NONE, Origin())


async def names(unit: Unit, text: str, *, people: bool = True) -> list[str]:
    found = await lookup.find(actor_at(unit), text, people=people, limit=50)
    return [m.name for m in found.matches]


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the tables were built (each item: the version they were built at)."""
    seen: list[int] = []
    build = name_index.build

    async def counted() -> name_index.NameIndex:
        index = await build()
        seen.append(index.version)
        return index

    monkeypatch.setattr(name_index, "build", counted)
    return seen


async def test_a_warm_lookup_sends_one_statement_to_the_index(statements):
    tree = await make_tree()
    await names(tree.own, "王家湾")  # builds the tables
    statements.clear()
    assert await names(tree.own, "王家湾", people=False) == ["王家湾村"]
    assert statements == [statements[0]] and "name_change" in statements[0]  # nothing changed: one check


async def test_a_write_costs_the_next_lookup_a_re_read_of_what_it_names(statements, builds):
    tree = await make_tree()
    await names(tree.own, "王家湾")
    await Unit.filter(id=tree.child.id).update(name="王家湾社区")
    statements.clear()
    assert await names(tree.own, "王家湾", people=False) == ["王家湾社区"]
    assert len(statements) == 3  # the check, again under the lock, the unit re-read
    assert len(builds) == 1
    statements.clear()
    await names(tree.own, "王家湾")
    assert len(statements) == 1


async def newest_version() -> int:
    rows = await db.fetch_rows("SELECT version FROM name_index_state WHERE id = 1", [])
    return int(rows[0][0])


async def test_a_lookup_told_the_newest_version_sends_nothing_when_the_index_has_it(statements):
    tree = await make_tree()
    await names(tree.own, "王家湾")
    actor = replace(actor_at(tree.own), names_version=await newest_version())
    statements.clear()
    found = await lookup.find(actor, "王家湾", people=False)
    assert [m.name for m in found.matches] == ["王家湾村"]
    assert statements == []


async def test_a_lookup_told_a_newer_version_than_its_index_reads_the_changes(statements):
    tree = await make_tree()
    await names(tree.own, "王家湾")
    await Unit.filter(id=tree.child.id).update(name="王家湾社区")
    actor = replace(actor_at(tree.own), names_version=await newest_version())
    statements.clear()
    found = await lookup.find(actor, "王家湾", people=False)
    assert [m.name for m in found.matches] == ["王家湾社区"]
    assert any("name_change" in sql for sql in statements)


async def test_every_kind_of_write_reaches_the_next_lookup(builds):
    tree = await make_tree()
    await names(tree.own, "王家湾")
    # A unit added, renamed, deleted.
    new = await make_unit("李家坪村", UnitType.VILLAGE, tree.own)
    assert await names(tree.own, "李家坪", people=False) == ["李家坪村"]
    await Unit.filter(id=new.id).update(name="李家坡村", name_pinyin="lijiapocun", name_initials="ljpc")
    assert await names(tree.own, "ljp", people=False) == ["李家坡村"]
    await unit_actions.delete_unit(actor_at(tree.parent), new.id)
    assert await names(tree.own, "李家坡", people=False) == []
    # A person added, renamed, moved to another unit, removed.
    person = await make_account("zhang", tree.child)
    assert await names(tree.own, "测试zhang") == ["测试zhang"]
    await Account.filter(id=person.id).update(name="张建国", name_pinyin="zhangjianguo", name_initials="zjg")
    assert await names(tree.own, "张建国") == ["张建国"]
    assert await names(tree.own, "zjg") == ["张建国"]
    await Membership.filter(account_id=person.id).update(unit_id=tree.sibling.id)
    assert await names(tree.own, "张建国") == []
    assert await names(tree.sibling, "张建国") == ["张建国"]
    await Membership.filter(account_id=person.id).delete()
    assert await names(tree.parent, "张建国") == []
    assert len(builds) == 1  # all of it through the overlay


async def test_a_moved_subtree_takes_its_people_out_of_the_old_scope(builds):
    tree = await make_tree()
    await make_account("li", tree.child)
    await Account.filter(username_key="li").update(name="李四", name_pinyin="lisi", name_initials="ls")
    assert await names(tree.own, "李四") == ["李四"]
    await unit_actions.move_unit(actor_at(tree.parent), tree.child.id, new_parent_id=tree.sibling.id)
    assert await names(tree.own, "李四") == []
    assert await names(tree.own, "王家湾") == []
    assert await names(tree.sibling, "李四") == ["李四"]
    assert await names(tree.sibling, "王家湾") == ["王家湾村"]
    assert len(builds) == 2  # a path changed: rebuilt once


async def test_writes_from_outside_the_application_are_seen(settings: Settings, builds):
    """Another process (here a connection of its own, plain SQL, no ORM) writes; the triggers log it."""
    tree = await make_tree()
    assert await names(tree.own, "王家湾", people=False) == ["王家湾村"]
    sql = "UPDATE unit SET name = '王家湾新村', name_pinyin = 'wangjiawanxincun', name_initials = 'wjwxc' WHERE id = "
    if settings.dialect == "postgres":
        import asyncpg

        connection = await asyncpg.connect(settings.database_url)
        try:
            await connection.execute(sql + str(tree.child.id))
        finally:
            await connection.close()
    else:
        import sqlite3

        with sqlite3.connect(settings.database_url.removeprefix("sqlite://")) as connection:
            connection.execute(sql + str(tree.child.id))
    assert await names(tree.own, "王家湾", people=False) == ["王家湾新村"]
    assert len(builds) == 1


async def test_a_rolled_back_write_leaves_no_change_and_no_gap(builds):
    tree = await make_tree()
    await names(tree.own, "王家湾")
    with pytest.raises(RuntimeError):
        async with db.atomic():
            await Unit.filter(id=tree.child.id).update(name="不存在村")
            raise RuntimeError("cancelled")
    await Unit.filter(id=tree.child.id).update(name="王家湾一村")
    assert await names(tree.own, "王家湾", people=False) == ["王家湾一村"]
    assert await names(tree.own, "不存在", people=False) == []
    assert len(builds) == 1  # the versions stayed contiguous: patched, not rebuilt


async def test_a_gap_in_the_change_log_rebuilds(builds):
    tree = await make_tree()
    await names(tree.own, "王家湾")
    for name in ("王家湾一村", "王家湾二村", "王家湾三村"):
        await Unit.filter(id=tree.child.id).update(name=name)
    await name_index.prune(keep=1)  # the first two changes are gone before this process read them
    assert await names(tree.own, "王家湾", people=False) == ["王家湾三村"]
    assert len(builds) == 2


async def test_more_changes_than_the_overlay_holds_rebuild(monkeypatch: pytest.MonkeyPatch, builds):
    monkeypatch.setattr(name_index, "OVERLAY_MAX", 3)
    tree = await make_tree()
    await names(tree.own, "王家湾")
    for i in range(4):
        await make_unit(f"新村{i}", UnitType.VILLAGE, tree.own)
    assert await names(tree.own, "新村", people=False) == [f"新村{i}" for i in range(4)]
    assert len(builds) == 2


async def test_prune_keeps_the_newest_changes():
    tree = await make_tree()
    rows = await db.fetch_rows("SELECT COUNT(*) FROM name_change", [])
    assert rows[0][0] > 4
    await name_index.prune(keep=2)
    left = await db.fetch_rows("SELECT version FROM name_change ORDER BY version", [])
    state = await db.fetch_rows("SELECT version FROM name_index_state", [])
    assert [r[0] for r in left] == [state[0][0] - 1, state[0][0]]
    assert await names(tree.own, "王家湾", people=False) == ["王家湾村"]


def test_strings_find_each_kind_of_condition_in_a_range():
    strings = Strings(["王家湾村", "王家", "东王家湾村", "", "王家湾"])
    assert list(strings.find(Condition(Column.NAME, Mode.IS, "王家").needle(), 0, 5, 10)) == [1]
    assert list(strings.find(Condition(Column.NAME, Mode.STARTS, "王家").needle(), 0, 5, 10)) == [0, 1, 4]
    assert list(strings.find(Condition(Column.NAME, Mode.CONTAINS, "家湾").needle(), 0, 5, 10)) == [0, 2, 4]
    assert list(strings.find("家湾", 1, 3, 10)) == [2]  # only inside the range
    assert list(strings.find("家湾", 0, 5, 2)) == [0, 2]  # at most the limit
    assert [strings[i] for i in range(5)] == ["王家湾村", "王家", "东王家湾村", "", "王家湾"]


# The scope, in every strategy (tests/conftest.py: the whole scope or the conditions; tables or overlay).


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


SCOPE_PROBES = ("王家湾", "wangjiawan", "wjw", "王家弯", "王家", "w", "湾", "桃源乡", "kongjiawan")
SCOPE_PROBES += ("clerk2", "ceshi", "测试")  # people: the sibling's clerk is 测试clerk2


async def test_no_strategy_finds_a_sibling_towns_units_or_people(strategy):
    tree = await _tree_with_namesakes()
    actor = actor_at(tree.own)
    inside = {u.id for u in await Unit.filter(path__startswith=tree.own.path)}
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


async def test_the_usual_reading_of_a_polyphone_finds_the_name_in_every_strategy(strategy):
    """pypinyin reads 长岭村 zhanglingcun and 曾 ceng; a cadre types changling, clc, zeng."""
    tree = await make_tree()
    for name in ("长岭村", "朝阳村", "长坪村"):
        await make_unit(name, UnitType.VILLAGE, tree.own)
    zeng = await make_account("zjg", tree.child)
    await Account.filter(id=zeng.id).update(**names_columns("曾建国", Account))
    actor = actor_at(tree.own)
    for text, name in (("changling", "长岭村"), ("clc", "长岭村"), ("chaoyang", "朝阳村"), ("changping", "长坪村")):
        found = await lookup.find(actor, text)
        chosen = lookup.single(found)
        assert chosen is not None and chosen.name == name, (text, found)
    for text in ("zhangling", "长岭"):  # the other reading, and the characters, still find it
        assert lookup.single(await lookup.find(actor, text)).name == "长岭村", text
    assert [m.name for m in (await lookup.find(actor, "zengjianguo", people=True)).matches] == ["曾建国"]
    assert sorted(m.name for m in (await lookup.find(actor, "长", limit=50)).matches) == [
        "长坪村",
        "长岭村",
    ]  # once each


async def test_full_width_or_upper_case_in_a_name_is_found_as_typed_in_every_strategy(strategy):
    """The chat folds what is typed (NFKC): 王家湾村（二组） arrived as 王家湾村(二组) and found its
    own name only as a near spelling; １组 found nothing; b2栋 missed 幸福小区B2栋."""
    tree = await make_tree()
    for name in ("王家湾村（二组）", "１组", "2组", "幸福小区B2栋"):
        await make_unit(name, UnitType.WORK_TEAM, tree.child)
    actor = actor_at(tree.own)
    for typed, name in (
        ("王家湾村（二组）", "王家湾村（二组）"),
        ("王家湾村(二组)", "王家湾村（二组）"),
        ("１组", "１组"),
        ("1组", "１组"),
        ("２组", "2组"),
        ("b2栋", "幸福小区B2栋"),
    ):
        query = parser.parse(f"查 {typed}").params["name"]
        chosen = lookup.single(await lookup.find(actor, query))
        assert chosen is not None and chosen.name == name, (typed, query)  # shown as stored


async def test_letters_with_digits_are_looked_for_inside_names_in_every_strategy(strategy, monkeypatch):
    """B2 (no pinyin or initials hold a digit) found 幸福小区B2栋 only in a small scope, or when the
    typo stage's walk of the nearest pinyin keys happened to reach it."""
    monkeypatch.setattr(lookup, "NEIGHBOURS", 1)
    tree = await make_tree()
    for name in ("幸福小区B2栋", "八里村", "白沙村", "坝头村", "安乐村"):
        await make_unit(name, UnitType.WORK_TEAM, tree.child)
    actor = actor_at(tree.own)
    for typed in ("B2", "b2", "Ｂ2"):
        query = parser.parse(f"查 {typed}").params["name"]
        chosen = lookup.single(await lookup.find(actor, query))
        assert chosen is not None and chosen.name == "幸福小区B2栋", (typed, query)


async def test_wildcards_in_the_text_match_only_themselves(strategy):
    tree = await make_tree()
    for name in ("李_坪合作社", "李家坪村", "百分%村", "百分之村"):
        await make_unit(name, UnitType.VILLAGE, tree.own)
    for text, only in (("李_坪", "李_坪合作社"), ("分%村", "百分%村")):
        assert await names(tree.own, text, people=False) == [only], text


async def test_near_names_are_offered_only_when_nothing_matches(strategy):
    tree = await _tree_with_namesakes()
    actor = actor_at(tree.own)
    found = await lookup.find(actor, "王家湾")
    assert found.matches and not found.near
    missing = await lookup.find(actor, "孔家湾")  # kongjiawan: too far from wangjiawan to match, near enough to offer
    assert not missing.matches and not missing.more
    assert "王家湾村" in [m.name for m in missing.near]
    assert all(m.rank == lookup.Rank.FUZZY for m in missing.near)


# The index equals the database after any sequence of writes.


async def _in_database(source: Source, path: str) -> list[tuple[Any, ...]]:
    columns = name_index.UNIT_COLUMNS if source == Source.UNIT else name_index.PERSON_COLUMNS
    tables = name_index.UNITS_FROM if source == Source.UNIT else name_index.PEOPLE_FROM
    rows = await db.fetch_rows(f"SELECT {columns} FROM {tables} WHERE u.path LIKE ?", [path + "%"])
    expected = []
    for r in rows:  # each row, and each other reading of its name (单位: danwei, shanwei)
        row = (int(r[0]), r[1], r[2] or "", r[3] or "", int(r[4]), r[5], r[6] or "", r[7], match_key(r[1]))
        expected += [row] + [(*row[:2], pinyin, initials, *row[4:]) for pinyin, initials in alternate_keys(r[1])]
    return sorted(expected)


async def _in_index(source: Source, path: str) -> list[tuple[Any, ...]]:
    names_ = (await name_index.current()).of(source)
    return sorted(tuple(e) for e in names_.whole(path))


async def refused_or_done(write: Awaitable[Any]) -> None:
    """A write the database may refuse (a person in the same unit twice): refused, it changes nothing."""
    try:
        await write
    except IntegrityError:
        pass


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_index_equals_the_database_after_random_writes(seed: int, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(name_index, "OVERLAY_MAX", 25)  # some rebuilds on the way, mostly patches
    rng = random.Random(seed)
    tree = await make_tree()
    units = [tree.parent, tree.own, tree.child, tree.sibling]
    people: list[int] = []
    for step in range(150):
        op = rng.choice(("unit", "rename", "move", "person", "rename_person", "join", "leave", "relocate", "drop"))
        if op == "unit":
            parent = await Unit.get(id=rng.choice(units).id)
            units.append(await make_unit(f"单位{step}", UnitType.OTHER, parent))  # any unit may hold it
        elif op == "rename":
            await Unit.filter(id=rng.choice(units).id).update(name=f"改名{step}", name_pinyin=f"gaiming{step}")
        elif op == "move" and len(units) > 4:
            unit = await Unit.get(id=rng.choice(units[4:]).id)
            target = await Unit.get(id=rng.choice(units).id)
            if not target.path.startswith(unit.path) and target.id != unit.parent_id:
                await unit_actions.move_unit(actor_at(tree.parent), unit.id, new_parent_id=target.id)
        elif op == "person":
            people.append((await make_account(f"p{step}", rng.choice(units))).id)
        elif op == "rename_person" and people:
            await Account.filter(id=rng.choice(people)).update(name=f"人{step}", name_initials=f"r{step}")
        elif op == "join" and people:
            await refused_or_done(
                Membership.create(
                    account_id=rng.choice(people),
                    unit_id=rng.choice(units).id,
                    role=Role.VIEWER,
                    created_at=tree.own.created_at,
                )
            )
        elif op == "leave" and people:
            membership = await Membership.filter(account_id=rng.choice(people)).first()
            if membership is not None:
                await membership.delete()
        elif op == "relocate" and people:
            relocate = Membership.filter(account_id=rng.choice(people)).update(unit_id=rng.choice(units).id)
            await refused_or_done(relocate)
        elif op == "drop" and people:
            await Account.filter(id=people.pop(rng.randrange(len(people)))).delete()
        if step % 5 == 4:
            for unit in (tree.parent, tree.own, tree.sibling):
                for source in Source:
                    assert await _in_index(source, unit.path) == await _in_database(source, unit.path), (step, op)


async def test_the_worker_trims_the_change_log_every_hour(monkeypatch: pytest.MonkeyPatch):
    from jobs.name_changes import name_changes_prune
    from jobs.worker import cron_jobs

    job = next(c for c in cron_jobs() if c.name == "cron:name_changes_prune")
    assert job.minute == {41} and job.hour is None
    await make_tree()
    monkeypatch.setattr(name_index, "OVERLAY_MAX", 0)  # keep ten overlays' worth: none
    assert await name_changes_prune({}) > 0
    assert await db.fetch_rows("SELECT version FROM name_change", []) == []


async def test_typo_candidates_are_drawn_only_when_a_page_of_better_matches_is_missing(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(lookup, "CANDIDATES", 14)  # 15 units in scope: conditions, not the whole scope
    tree = await make_tree()
    for i in range(12):
        await make_unit(f"王家湾{i:02d}组", UnitType.WORK_TEAM, tree.child)
    await make_unit("黄家湾村", UnitType.VILLAGE, tree.own)
    stages: list[lookup.Stage] = []
    candidates = lookup._candidates

    def spy(index: Any, kind: Any, actor: Any, query: Any, stage: lookup.Stage) -> Any:
        stages.append(stage)
        return candidates(index, kind, actor, query, stage)

    monkeypatch.setattr(lookup, "_candidates", spy)
    page = await lookup.find(actor_at(tree.own), "王家湾", limit=10)
    assert stages == [lookup.Stage.STRONG] and page.more
    assert all(m.rank < lookup.Rank.FUZZY for m in page.matches)
    stages.clear()
    everything = await lookup.find(actor_at(tree.own), "王家湾", limit=20)
    assert stages == [lookup.Stage.STRONG, lookup.Stage.WEAK]
    assert everything.matches[:10] == page.matches  # the typo stage never changes the first page
    assert everything.matches[-1].name == "黄家湾村" and everything.matches[-1].rank == lookup.Rank.FUZZY


@pytest.mark.parametrize("wide_range", [1, 10**9], ids=["narrow-scope-order", "table-order"])
def test_the_nearest_pinyin_keys_of_a_scope_are_found_either_way(monkeypatch: pytest.MonkeyPatch, wide_range: int):
    monkeypatch.setattr(name_index, "WIDE_RANGE", wide_range)
    rng = random.Random(7)
    syllables = ("wang", "jia", "wan", "li", "ping", "zhang", "huang", "an", "zhai")
    entries = []
    for i in range(400):
        pinyin = "".join(rng.choice(syllables) for _ in range(3))
        path = f"/1/{rng.choice((2, 3, 4))}/"
        entries.append(name_index.Entry(i, f"名{i}", pinyin, pinyin[:1], 2, 2, "village", path, f"名{i}"))
    table = name_index.Table(list(entries))
    lo, hi = table.range("/1/3/")
    for target in ("wangjiawan", "a", "zzz", "lipingzhai"):
        in_scope = sorted((e.pinyin, e.id) for e in entries if e.path == "/1/3/")
        below = [p for p in in_scope if p[0] < target][-5:]
        above = [p for p in in_scope if p[0] > target][:5]
        found = {(table.pinyins[row], table.ids[row]) for row in table.neighbours(target, lo, hi, 5)}
        assert {p for p, _ in found} == {p for p, _ in below + above}, target
        assert all(lo <= row < hi for row in table.neighbours(target, lo, hi, 5))


def test_a_list_of_rows_is_scored_row_by_row_as_each_alone():
    from backend.core.names import pinyin_keys

    names = ["王家湾村", "黄家湾村", "王家滩", "汪家湾", "李家坪村", "王", "wangjiawan茶社", "白沙镇"]
    rows = [Entry(i, n, *pinyin_keys(n), 2, 1, "village", "/1/", n) for i, n in enumerate(names)]
    for text in ("王家湾", "wangjiawan", "wjw", "王家"):
        query = lookup.Query.of(text)
        for at_least in (0.0, lookup.NEAR_MIN, lookup.FUZZY_MIN):
            scores = lookup.similarities(query, rows, at_least)
            assert scores == [lookup.similarities(query, [row], at_least)[0] for row in rows]
            assert all(s == 0.0 or s >= at_least for s in scores)
        assert lookup.similarities(query, rows)[0] > lookup.similarities(query, rows)[4]  # 王家湾村 over 李家坪村


async def test_a_lookup_inside_a_rolled_back_transaction_does_not_make_the_index_skip_a_change():
    """Applied inside the transaction, its own log row moved the index to a version that the next
    real change then took again: that change was skipped for good."""
    tree = await make_tree()
    await name_index.current()
    with pytest.raises(RuntimeError):
        async with db.atomic():
            await Unit.filter(id=tree.child.id).update(**names_columns("临时村", Unit))
            await name_index.current()
            raise RuntimeError("rolled back")
    await Unit.filter(id=tree.child.id).update(**names_columns("李家坪村", Unit))
    assert await names(tree.own, "李家坪", people=False) == ["李家坪村"]
