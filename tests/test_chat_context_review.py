"""Adversarial cases of the conversation context (backend.chat.context)."""

from __future__ import annotations

import httpx

from backend.core import runtime
from tests.test_chat_ahead import chat, conversation, known_session


async def test_a_conversation_outlives_half_an_hour_without_a_context_write_while_its_session_lives(
    client: httpx.AsyncClient,
) -> None:
    """The session stays alive on any request (the mini-program's other pages, a turn that remembers
    nothing: help, an ID number); its conversation expired 30 minutes after the last turn that
    remembered something, and "更多" under a table still on screen answered "没有更多了"."""
    tree, _, headers = await known_session(client)
    assert tree.child.name in (await chat(client, headers, text="下级单位")).text
    settings = runtime.get().settings
    ttl = await runtime.get().redis.ttl(f"chat:{await conversation(headers)}")
    assert ttl > settings.session_idle_seconds
    assert ttl <= settings.session_absolute_seconds
