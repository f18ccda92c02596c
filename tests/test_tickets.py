"""Single-use tickets (backend.core.tickets) against real Redis."""

from __future__ import annotations

import pytest

from backend.core import tickets
from backend.core.errors import AppError


async def _error_code(coro) -> str:
    with pytest.raises(AppError) as raised:
        await coro
    return raised.value.code


async def test_a_ticket_taken_for_another_purpose_is_refused_and_stays_usable_for_its_own():
    """A ticket presented to the wrong step (a client's mix-up, a stale page) was deleted on the way
    to being refused: its own step then told the user to start again."""
    token = await tickets.issue("agents.unbind", {"account_id": 7}, ttl_seconds=600)
    assert await _error_code(tickets.consume(token, "devices.enrolment")) == "ticket_invalid"
    assert await tickets.consume(token, "agents.unbind") == {"account_id": 7}


async def test_an_extended_ticket_lives_from_the_extension_and_is_never_shortened(clock):
    token = await tickets.issue("recovery.password", {"account_id": 7}, ttl_seconds=600)
    await tickets.extend(token, "recovery.password", ttl_seconds=60)  # sooner than it would end: kept
    clock.advance(500)
    await tickets.extend(token, "recovery.password", ttl_seconds=600)
    clock.advance(600)
    assert await tickets.peek(token, "recovery.password") == {"account_id": 7}
    clock.advance(1)
    assert await _error_code(tickets.extend(token, "recovery.password", ttl_seconds=600)) == "ticket_invalid"
