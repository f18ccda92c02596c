"""Adversarial cases of a turn started ahead of its session's check (backend.chat.service.handle_ahead)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from backend.accounts.models import Membership
from backend.chat import lookup, registry
from backend.chat.protocol import ChatReply, NoticeBlock
from backend.core import db
from backend.core.roles import FinanceAccess, Role
from backend.units.models import Unit
from tests.factories import login, make_account, make_tree
from tests.test_chat_ahead import chat, known_session


@pytest.fixture
def typed_writer() -> Iterator[list[bool]]:
    """An intent marked ``writes`` that text reaches ("测试写入"): each call notes whether it ran
    ahead of the check."""
    runs: list[bool] = []

    async def write(turn: registry.Turn) -> ChatReply:
        runs.append(db._reads_only.get())
        return ChatReply(blocks=[NoticeBlock(level="success", text="已写")])

    registry.intent("test.typed_write", patterns=(r"^测试写入$",), writes=True)(write)
    yield runs
    del registry._INTENTS["test.typed_write"]


async def test_a_follow_up_that_asks_an_intent_that_writes_starts_it_only_after_the_check(
    client: httpx.AsyncClient, typed_writer: list[bool]
) -> None:
    """ "测试写入呢" is a follow-up: what it asks is known only once it is resolved, and an intent
    marked ``writes`` must not start before the session is checked (not even to be refused)."""
    _, _, headers = await known_session(client)
    response = await chat(client, headers, text="测试写入呢")
    assert response.status_code == 200 and "已写" in response.text
    assert typed_writer == [False]


async def test_a_tapped_follow_up_that_asks_an_intent_that_writes_starts_it_only_after_the_check(
    client: httpx.AsyncClient, typed_writer: list[bool]
) -> None:
    _, _, headers = await known_session(client)
    response = await chat(client, headers, action={"intent": "chat.follow_up", "params": {"name": "测试写入"}})
    assert response.status_code == 200 and "已写" in response.text
    assert typed_writer == [False]


async def test_finance_access_reduced_since_the_last_turn_answers_for_the_access_now(
    client: httpx.AsyncClient,
) -> None:
    """The guessed actor may order co-ops by money; the checked one may not: the answer is the
    refusal, not the ranking run ahead."""
    tree = await make_tree()
    account = await make_account("clerk", tree.own, finance=FinanceAccess.ALL)
    headers = await login(client, "clerk")
    allowed = await chat(client, headers, text="资产最多的合作社")
    assert allowed.status_code == 200 and "财务权限" not in allowed.text
    await Membership.filter(account_id=account.id).update(finance_access=FinanceAccess.NONE)
    refused = await chat(client, headers, text="资产最多的合作社")
    assert refused.status_code == 200 and "财务权限" in refused.text


async def test_more_of_a_table_of_a_unit_moved_out_of_scope_shows_none_of_its_rows(client: httpx.AsyncClient) -> None:
    tree, _, headers = await known_session(client, Role.ADMIN)
    for n in range(12):
        await make_account(f"wjg{n:02d}", tree.child)
    first = await chat(client, headers, text=f"{tree.child.name}的成员")
    assert "wjg00" in first.text and "wjg11" not in first.text
    moved = f"{tree.sibling.path}{tree.child.id}/"
    await Unit.filter(id=tree.child.id).update(path=moved, parent_id=tree.sibling.id)
    more = await chat(client, headers, text="更多")
    assert more.status_code == 200 and "wjg1" not in more.text and '"notice"' in more.text


@pytest.fixture
def strict_reader() -> Iterator[None]:
    """An intent that looks a name up and fails (as a plain error, not a refusal) when what it found
    is not the unit's name now: as a handler may, reading a row its lookup found by a stale name."""

    async def read(turn: registry.Turn) -> ChatReply:
        found = await lookup.find(turn.actor, "王家湾", units=True, limit=1)
        for match in found.matches:
            if (await Unit.get(id=match.id)).name != match.name:
                raise LookupError("the name index is behind")
        return ChatReply(blocks=[NoticeBlock(text=",".join(m.name for m in found.matches))])

    registry.intent("test.strict_read")(read)
    yield
    del registry._INTENTS["test.strict_read"]


async def test_a_turn_ahead_that_failed_on_a_name_changed_since_the_guess_runs_again_checked(
    client: httpx.AsyncClient, strict_reader: None
) -> None:
    """A rename committed between the last turn and this one: the run ahead searched the index the
    guess knew, and its failure is no answer: the turn runs again with the index the check saw."""
    tree, _, headers = await known_session(client)
    assert tree.child.name in (await chat(client, headers, action={"intent": "test.strict_read"})).text
    await db.execute("UPDATE unit SET name = ? WHERE id = ?", ["王家湾社区", tree.child.id])
    response = await chat(client, headers, action={"intent": "test.strict_read"})
    assert response.status_code == 200 and "王家湾社区" in response.text
