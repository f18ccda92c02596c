"""The conversation context: a turn's writes leave for Redis while the turn goes on, in order, and
are all in by the time the turn ends (ChatContext.save)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from backend.chat.context import ChatContext, move_conversations
from backend.core import runtime


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """The fields of each context write, recorded as the write is sent (before Redis answers)."""
    made: list[dict[str, str]] = []
    redis = runtime.get().redis
    run = redis.eval

    def recording(script: str, numkeys: int, *args: Any) -> Any:
        pairs = args[numkeys + 1 :]  # after the key and the expiry: field, value, field, value...
        made.append(dict(zip(pairs[::2], pairs[1::2], strict=True)))
        return run(script, numkeys, *args)

    monkeypatch.setattr(redis, "eval", recording)
    return made


async def test_the_write_leaves_before_the_turn_ends_with_the_fields_of_its_step(writes):
    context = ChatContext("s1")
    await context.remember_unit(5, "王家湾村")
    await context.remember_page("unit.children", {"unit_id": 5}, 20)
    assert writes == []  # not yet: the two go together, once the turn yields to its next read
    await asyncio.sleep(0)
    assert len(writes) == 1 and set(writes[0]) == {"unit_id", "unit_name", "unit_shown", "page", "choices"}
    await context.save()
    assert await ChatContext("s1").last_unit() == (5, "王家湾村")
    table = await ChatContext("s1").table()
    assert table is not None and (table.intent, table.page(table.cursor)) == (
        "unit.children",
        {"unit_id": 5, "cursor": 20},
    )


async def test_a_later_step_lands_after_an_earlier_one(writes):
    context = ChatContext("s1")
    await context.remember_page("unit.children", {"unit_id": 5}, 20)
    await asyncio.sleep(0)
    await context.remember_page("unit.children", {"unit_id": 5}, 40)
    await context.remember_unit(5, "王家湾村")
    await context.save()
    assert len(writes) == 2
    table = await ChatContext("s1").table()
    assert table is not None and (table.intent, table.page(table.cursor)) == (
        "unit.children",
        {"unit_id": 5, "cursor": 40},
    )
    # as long as its session may live (backend.chat.context._send)
    assert await runtime.get().redis.ttl("chat:s1") == runtime.get().settings.session_absolute_seconds


async def test_a_turn_reads_what_it_remembered_before_it_is_written():
    context = ChatContext("s1")
    await context.remember_unit(7, "白沙镇")
    assert await context.last_unit() == (7, "白沙镇")
    await context.save()


async def test_a_failed_write_is_raised_when_the_turn_ends(monkeypatch: pytest.MonkeyPatch):
    redis = runtime.get().redis

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("redis went away")

    monkeypatch.setattr(redis, "eval", broken)
    context = ChatContext("s1")
    await context.remember_unit(5, "王家湾村")
    await asyncio.sleep(0)
    await context.remember_unit(6, "桃源村")  # behind the failed write: it fails with it
    with pytest.raises(ConnectionError):
        await context.save()
    await context.save()  # nothing is left waiting


async def test_a_turn_that_remembers_nothing_writes_nothing(writes):
    context = ChatContext("s1")
    await context.save()
    assert writes == [] and not await runtime.get().redis.exists("chat:s1")


async def test_moving_conversations_takes_each_unit_s_along_with_its_expiry_and_skips_absent_ones():
    redis = runtime.get().redis
    for membership in (1, 2):
        context = ChatContext(f"old:{membership}")
        await context.remember_unit(membership, f"单位{membership}")
        await context.save()
    await redis.expire("chat:old:2", 100)
    assert await move_conversations("old", "new", [1, 2, 3]) == 2
    assert await ChatContext("new:1").last_unit() == (1, "单位1")
    assert await ChatContext("new:2").last_unit() == (2, "单位2")
    assert await redis.ttl("chat:new:2") == 100
    assert await redis.exists("chat:old:1", "chat:old:2", "chat:new:3") == 0
    assert await move_conversations("old", "new", []) == 0


async def test_a_table_remembered_before_page_numbers_still_pages_forward():
    """A conversation's record written by the release before "上一页" (no starts): "更多" goes on from
    its cursor, and the pages before are not claimed to be known."""
    legacy = {"intent": "unit.children", "params": {"unit_id": 5}, "cursor": 20}
    await runtime.get().redis.hset("chat:s1", "page", json.dumps(legacy))
    table = await ChatContext("s1").table()
    assert table is not None and (table.starts, table.shown, table.after) == (None, None, 20)
    after = table.showing("unit.children", {"unit_id": 5}, 20, 40)
    assert (after.cursor, after.starts, after.shown) == (40, None, None)
