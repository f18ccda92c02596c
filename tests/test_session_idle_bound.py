"""P8 idle limit with a last_seen rewritten at most every TOUCH_EVERY_SECONDS: a session used within
the last SESSION_IDLE_SECONDS is never ended as idle; one unused for longer than the idle limit and
the touch interval always is."""

from __future__ import annotations

import httpx
import pytest

from backend.core import runtime, sessions
from backend.core.actor import Origin
from backend.core.clock import FrozenClock
from tests.factories import login, make_account, make_tree

TOUCH = sessions.TOUCH_EVERY_SECONDS


async def _session() -> str:
    token, _ = await sessions.create(1, membership_id=None, must_change=False, origin=Origin())
    return token


@pytest.mark.parametrize("used_after", [0, 1, TOUCH - 1, TOUCH, TOUCH + 1])
async def test_a_session_used_within_the_idle_limit_is_never_ended_and_one_unused_past_the_bound_always_is(
    clock: FrozenClock, used_after: int
) -> None:
    """``used_after``: the last use, seconds after the session started (before TOUCH its last_seen
    is not rewritten: the use leaves no trace)."""
    idle = runtime.get().settings.session_idle_seconds
    kept, ended = await _session(), await _session()
    clock.advance(used_after)
    assert await sessions.load(kept) is not None and await sessions.load(ended) is not None  # the last use
    clock.advance(idle)  # idle seconds since the last use, to the second
    assert await sessions.load(kept) is not None
    clock.advance(TOUCH + 1)  # past idle + TOUCH since the last use (of the session not used above)
    assert await sessions.load(ended) is None


async def test_a_request_that_left_no_trace_still_counts_for_the_idle_limit(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """Used 29 s after the login (last_seen not rewritten), it was ended 29 s early as idle."""
    idle = runtime.get().settings.session_idle_seconds
    tree = await make_tree()
    await make_account("busy", tree.own)
    headers = await login(client, "busy")
    clock.advance(TOUCH - 1)
    assert (await client.get("/api/session", headers=headers)).status_code == 200
    clock.advance(idle)
    assert (await client.get("/api/session", headers=headers)).status_code == 200
    clock.advance(idle + TOUCH + 1)
    assert (await client.get("/api/session", headers=headers)).status_code == 401


async def test_the_list_of_sessions_keeps_one_used_within_the_idle_limit(clock: FrozenClock) -> None:
    idle = runtime.get().settings.session_idle_seconds
    token = await _session()
    clock.advance(TOUCH - 1)
    assert await sessions.load(token) is not None
    clock.advance(idle)
    assert len(await sessions.list_for(1)) == 1
    clock.advance(TOUCH + 1)
    assert await sessions.list_for(1) == []
