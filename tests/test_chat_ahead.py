"""A chat turn of a session the process has seen starts alongside the session's check, with the actor
found last time, and counts only if the check finds the same actor (backend.chat.service.handle_ahead).

The refusals themselves (ended sessions, another unit, first-login steps, a rename by plain SQL) are
in tests/test_chat_guard.py, which runs every case with a session seen before.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from backend.accounts import actions
from backend.accounts.models import Account, Membership
from backend.auth import guard
from backend.chat import registry
from backend.chat.context import ChatContext
from backend.chat.protocol import ChatReply, NoticeBlock
from backend.core import db, runtime
from backend.core.roles import Role
from backend.units.models import Unit
from tests.factories import Tree, login, make_account, make_tree


async def chat(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post("/api/chat", json=body or {"text": "汇总"}, headers=headers)


async def conversation(headers: dict[str, str]) -> str:
    """The chat context's name for this session in the unit it chose."""
    from backend.core import sessions

    record = await sessions.load(headers["Authorization"].split()[1])
    assert record is not None
    return f"{record.public_id}:{record.membership_id}"


async def known_session(client: httpx.AsyncClient, role: Role = Role.VIEWER) -> tuple[Tree, Account, dict[str, str]]:
    """An account of the tree's own unit whose session the process has checked once (a summary was
    asked), so its next turn starts ahead of the check."""
    tree = await make_tree()
    account = await make_account("clerk", tree.own, role)
    headers = await login(client, "clerk")
    assert (await chat(client, headers)).status_code == 200
    return tree, account, headers


async def test_the_turn_reads_while_its_session_is_checked(client: httpx.AsyncClient, monkeypatch) -> None:
    """The check's actor read is held until the turn has sent a read of its own: checked first, the
    turn would never start and the request would time out."""
    tree, _, headers = await known_session(client)
    turn_read = asyncio.Event()
    fetch = db.fetch

    async def watched(sql: str, values: list) -> list:
        if sql == guard._ACTOR_SQL:
            await asyncio.wait_for(turn_read.wait(), timeout=5)
        else:
            turn_read.set()
        return await fetch(sql, values)

    monkeypatch.setattr(db, "fetch", watched)
    response = await chat(client, headers)
    assert response.status_code == 200 and tree.own.name in response.text


async def test_a_new_session_is_checked_before_its_turn(client: httpx.AsyncClient, statements: list[str]) -> None:
    tree = await make_tree()
    await make_account("clerk", tree.own)
    headers = await login(client, "clerk")
    statements.clear()
    assert (await chat(client, headers)).status_code == 200
    assert statements[0] == guard._ACTOR_SQL  # no guess: nothing starts before the check


async def test_an_ended_session_s_turn_changes_no_context_and_is_not_started_again(
    client: httpx.AsyncClient, statements: list[str]
) -> None:
    _, _, headers = await known_session(client)
    key = f"chat:{await conversation(headers)}"
    redis = runtime.get().redis
    await redis.delete(key)
    assert (await client.post("/api/auth/logout", headers=headers)).status_code in (200, 204)
    statements.clear()
    assert (await chat(client, headers)).status_code == 401
    assert any(sql != guard._ACTOR_SQL for sql in statements)  # the turn ran ahead of the check...
    assert not await redis.exists(key)  # ...and what it remembered never reached Redis
    statements.clear()
    assert (await chat(client, headers)).status_code == 401
    assert statements == []  # refused once: the next request is checked first, and nothing else


async def test_a_role_taken_away_since_the_last_turn_answers_for_the_new_role(client: httpx.AsyncClient) -> None:
    tree, admin, headers = await known_session(client, Role.ADMIN)  # the context's page: the summary's
    await make_account("wjg01", tree.child)
    key = f"chat:{await conversation(headers)}"
    await Membership.filter(account_id=admin.id).update(role=Role.VIEWER)
    members = await chat(client, headers, text=f"{tree.child.name}的成员")
    assert "您的角色不能进行这项操作。" in members.text and "wjg01" not in members.text
    page = json.loads(await runtime.get().redis.hget(key, "page"))
    assert page["intent"] == "summary"  # the admin's run of the turn left no page behind


async def test_a_turn_whose_unit_was_moved_answers_from_the_new_place(client: httpx.AsyncClient) -> None:
    """The guess's scope (its unit's path) is compared too: a turn of a moved unit runs again."""
    tree, _, headers = await known_session(client)
    assert tree.child.name in (await chat(client, headers, text="下级单位")).text
    moved = f"{tree.sibling.path}{tree.own.id}/"
    await Unit.filter(id=tree.own.id).update(path=moved, parent_id=tree.sibling.id, depth=tree.own.depth + 1)
    await Unit.filter(id=tree.child.id).update(path=f"{moved}{tree.child.id}/", depth=tree.child.depth + 1)
    assert tree.child.name in (await chat(client, headers, text="下级单位")).text


async def test_a_button_that_writes_starts_only_after_the_check(client: httpx.AsyncClient, monkeypatch) -> None:
    tree, _, headers = await known_session(client, Role.ADMIN)
    target = await make_account("wjg01", tree.child, phone="13900000001")
    calls: list[bool] = []
    reset = actions.reset_password

    async def recording(actor: Any, account_id: int) -> None:
        calls.append(db._reads_only.get())
        await reset(actor, account_id)

    monkeypatch.setattr(actions, "reset_password", recording)
    tapped = {"intent": "account.reset_password", "params": {"account_id": target.id}}
    response = await chat(client, headers, action=tapped)
    assert response.status_code == 200 and '"success"' in response.text
    assert calls == [False]  # once, checked: not a run ahead that was refused and run again


@pytest.fixture
def quiet_writer() -> Iterator[list[bool]]:
    """An intent that writes without saying so (``writes`` left out): each call notes whether it ran
    ahead of the check."""
    runs: list[bool] = []

    async def rename(turn: registry.Turn) -> ChatReply:
        runs.append(db._reads_only.get())
        async with db.atomic():
            await db.execute("UPDATE unit SET name = name || ? WHERE id = ?", ["·", turn.actor.unit_id])
        return ChatReply(blocks=[NoticeBlock(level="success", text="已改")])

    registry.intent("test.quiet_write")(rename)
    yield runs
    del registry._INTENTS["test.quiet_write"]


async def test_an_intent_that_writes_unannounced_is_refused_ahead_and_runs_once_checked(
    client: httpx.AsyncClient, quiet_writer: list[bool]
) -> None:
    tree, _, headers = await known_session(client)
    response = await chat(client, headers, action={"intent": "test.quiet_write", "params": {}})
    assert response.status_code == 200 and "已改" in response.text
    assert quiet_writer == [True, False]
    assert (await Unit.get(id=tree.own.id)).name == f"{tree.own.name}·"  # written once


async def test_reads_only_refuses_transactions_and_writes_in_its_tasks_too() -> None:
    with db.reads_only():
        with pytest.raises(db.WriteRefused):
            async with db.atomic():
                pass
        task = asyncio.ensure_future(db.execute("UPDATE unit SET name = name WHERE id = 0", []))
    with pytest.raises(db.WriteRefused):
        await task
    assert await db.execute("UPDATE unit SET name = name WHERE id = 0", []) == 0  # outside: allowed


async def test_a_held_context_sends_nothing_until_released() -> None:
    redis = runtime.get().redis
    held = ChatContext("s-held", held=True)
    await held.remember_unit(5, "王家湾村")
    assert await held.last_unit() == (5, "王家湾村")  # its own reads see it
    await asyncio.sleep(0)
    await held.save()
    assert not await redis.exists("chat:s-held")
    held.release()
    await held.save()
    assert await ChatContext("s-held").last_unit() == (5, "王家湾村")


async def test_a_turn_ahead_that_fails_has_its_context_written_before_the_error_answers(
    client: httpx.AsyncClient, monkeypatch
) -> None:
    """As a checked turn does (service.handle saves in a finally): the context's write is in before
    the outage is answered, so a retry finds what the failed turn remembered."""
    tree, _, headers = await known_session(client)
    redis = runtime.get().redis
    gate, run = asyncio.Event(), redis.eval

    async def gated(*args: Any) -> Any:
        await gate.wait()
        return await run(*args)

    async def remember_then_fail(turn: registry.Turn) -> ChatReply:
        await turn.context.remember_unit(tree.child.id, tree.child.name)
        raise ConnectionError("database gone")

    registry.intent("test.remember_then_fail")(remember_then_fail)
    monkeypatch.setattr(redis, "eval", gated)
    try:
        request = asyncio.ensure_future(chat(client, headers, action={"intent": "test.remember_then_fail"}))
        for _ in range(50):
            await asyncio.sleep(0)
        assert not request.done()  # held by the context's write
        gate.set()
        assert (await request).status_code == 503
    finally:
        del registry._INTENTS["test.remember_then_fail"]
    assert await ChatContext(await conversation(headers)).last_unit() == (tree.child.id, tree.child.name)
