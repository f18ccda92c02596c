"""The guard in front of a chat turn: the session, the account and its chosen unit, read in one query,
with every refusal of the two-step path, in the same order."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from backend.accounts.models import Account, Membership
from backend.core import db, runtime
from backend.core.clock import FrozenClock
from backend.core.crypto import sha256_hex
from tests.factories import login, login_response, make_account, make_tree


async def chat(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/api/chat", json={"text": "汇总"}, headers=headers)


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def test_a_chosen_unit_gives_the_actor_its_scope(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    await make_account("clerk", tree.own)
    headers = await login(client, "clerk")
    response = await chat(client, headers)
    assert response.status_code == 200
    assert tree.own.name in response.text and tree.sibling.name not in response.text


async def test_sessions_started_before_a_revocation_end(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    tree = await make_tree()
    account = await make_account("clerk", tree.own)
    headers = await login(client, "clerk")
    token = headers["Authorization"].split()[1]
    clock.advance(5)
    # Redis failed to drop the session: the revocation time on the account still voids it.
    await Account.filter(id=account.id).update(sessions_revoked_at=clock.now())
    assert error_of(await chat(client, headers)) == (401, "session_invalid")
    assert not await runtime.get().redis.exists(f"sess:{sha256_hex(token)}")
    clock.advance(5)
    later = await login(client, "clerk")
    assert (await chat(client, later)).status_code == 200


async def test_a_revocation_before_the_session_does_not_end_it(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    tree = await make_tree()
    account = await make_account("clerk", tree.own)
    await Account.filter(id=account.id).update(sessions_revoked_at=clock.now() - timedelta(minutes=1))
    headers = await login(client, "clerk")
    assert (await chat(client, headers)).status_code == 200


async def test_a_deactivated_account_is_refused(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    account = await make_account("clerk", tree.own)
    headers = await login(client, "clerk")
    await Account.filter(id=account.id).update(is_active=False)
    assert error_of(await chat(client, headers)) == (401, "session_invalid")


async def test_a_removed_membership_asks_for_a_unit_again(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    account = await make_account("clerk", tree.own)
    headers = await login(client, "clerk")
    await Membership.filter(account_id=account.id).delete()
    assert error_of(await chat(client, headers)) == (403, "unit_choice_required")


async def test_the_sms_check_comes_before_the_password_change(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    account = await make_account("clerk", tree.own)
    headers = await login(client, "clerk")
    await Account.filter(id=account.id).update(needs_sms_check=True, must_change_password=True)
    assert error_of(await chat(client, headers)) == (403, "sms_check_required")
    await Account.filter(id=account.id).update(needs_sms_check=False)
    assert error_of(await chat(client, headers)) == (403, "password_change_required")
    await Account.filter(id=account.id).update(must_change_password=False)
    assert (await chat(client, headers)).status_code == 200


async def _choose(client: httpx.AsyncClient, headers: dict[str, str], membership_id: int) -> None:
    chosen = await client.post("/api/session/unit", json={"membership_id": membership_id}, headers=headers)
    assert chosen.status_code == 200


async def test_for_a_session_seen_before_the_actor_read_does_not_wait_for_the_session_read(
    client: httpx.AsyncClient, monkeypatch
) -> None:
    from backend.auth import guard
    from backend.core import db, sessions

    tree = await make_tree()
    await make_account("clerk", tree.own)
    headers = await login(client, "clerk")
    assert (await chat(client, headers)).status_code == 200  # now the process knows the session
    actor_read = asyncio.Event()
    load, fetch = sessions.load, db.fetch

    async def slow_load(token: str, **options: str | None) -> sessions.SessionRecord | None:
        await asyncio.wait_for(actor_read.wait(), timeout=5)  # sent one after the other: times out
        return await load(token, **options)

    async def watched_fetch(sql: str, values: list) -> list:
        if sql == guard._ACTOR_SQL:
            actor_read.set()
        return await fetch(sql, values)

    monkeypatch.setattr(sessions, "load", slow_load)
    monkeypatch.setattr(db, "fetch", watched_fetch)
    response = await chat(client, headers)
    assert response.status_code == 200 and tree.own.name in response.text


async def test_a_session_seen_before_is_read_fresh_every_time(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    account = await make_account("clerk", tree.own)
    second = await Membership.create(
        account_id=account.id, unit_id=tree.sibling.id, role="viewer", created_at=account.created_at
    )
    first = await Membership.get(account_id=account.id, unit_id=tree.own.id)
    response = await login_response(client, "clerk")
    headers = {"Authorization": f"Bearer {response.json()['token']}"}
    await _choose(client, headers, first.id)
    assert tree.own.name in (await chat(client, headers)).text
    await _choose(client, headers, second.id)  # the process last saw the first unit
    switched = (await chat(client, headers)).text
    assert tree.sibling.name in switched and tree.own.name not in switched
    await Membership.filter(id=second.id).delete()
    assert error_of(await chat(client, headers)) == (403, "unit_choice_required")
    await _choose(client, headers, first.id)
    assert (await chat(client, headers)).status_code == 200
    await Account.filter(id=account.id).update(must_change_password=True)
    assert error_of(await chat(client, headers)) == (403, "password_change_required")
    await Account.filter(id=account.id).update(must_change_password=False, is_active=False)
    assert error_of(await chat(client, headers)) == (401, "session_invalid")


async def test_an_ended_session_seen_before_is_refused(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    await make_account("clerk", tree.own)
    headers = await login(client, "clerk")
    assert (await chat(client, headers)).status_code == 200
    assert (await client.post("/api/auth/logout", headers=headers)).status_code in (200, 204)
    assert error_of(await chat(client, headers)) == (401, "session_invalid")


async def test_a_lookup_learns_from_the_guard_that_its_name_index_is_current(
    client: httpx.AsyncClient, statements: list[str]
) -> None:
    """The guard reads the name change log's version with the actor: a warm lookup asks nothing more,
    and a rename committed just before the request (by plain SQL, not the application) is found."""
    tree = await make_tree()
    await make_account("clerk", tree.own)
    headers = await login(client, "clerk")
    assert "王家湾村" in (await ask(client, headers, "查 王家湾")).text  # the index is built
    statements.clear()
    assert "王家湾村" in (await ask(client, headers, "查 王家湾")).text
    assert not [sql for sql in statements if "name_change" in sql]
    await db.execute("UPDATE unit SET name = ? WHERE id = ?", ["王家湾社区", tree.child.id])
    assert "王家湾社区" in (await ask(client, headers, "查 王家湾")).text
    assert [sql for sql in statements if "name_change" in sql]


async def ask(client: httpx.AsyncClient, headers: dict[str, str], text: str) -> httpx.Response:
    response = await client.post("/api/chat", json={"text": text}, headers=headers)
    assert response.status_code == 200
    return response


async def test_a_chat_turn_hashes_its_session_token_once(client: httpx.AsyncClient, monkeypatch) -> None:
    """The token's hash keys the session, the hint and the turn's guess: worked out once a request."""
    from backend.auth import guard
    from backend.core import sessions

    tree = await make_tree()
    await make_account("clerk", tree.own)
    headers = await login(client, "clerk")
    token = headers["Authorization"].split()[1]
    assert (await chat(client, headers)).status_code == 200  # the process knows the session now
    hashed: list[str] = []

    def counting(value: str | bytes) -> str:
        hashed.append(value if isinstance(value, str) else value.decode())
        return sha256_hex(value)

    monkeypatch.setattr(guard, "sha256_hex", counting)
    monkeypatch.setattr(sessions, "sha256_hex", counting)
    response = await chat(client, headers)
    assert response.status_code == 200 and tree.own.name in response.text
    assert hashed.count(token) == 1


async def test_both_reads_end_before_the_first_ones_error_is_raised() -> None:
    from backend.auth.guard import _both

    finished: list[str] = []

    async def read(name: str, error: Exception | None = None, pause: int = 0) -> str:
        for _ in range(pause):
            await asyncio.sleep(0)
        finished.append(name)
        if error is not None:
            raise error
        return name

    assert await _both(read("session", pause=3), read("actor")) == ("session", "actor")
    finished.clear()
    with pytest.raises(KeyError):  # the slower one was awaited, and its error won
        await _both(read("session", KeyError("first"), pause=3), read("actor", ValueError("second")))
    assert sorted(finished) == ["actor", "session"]
    finished.clear()
    with pytest.raises(ValueError):
        await _both(read("session", pause=3), read("actor", ValueError("second")))
    assert sorted(finished) == ["actor", "session"]


async def test_a_cancelled_check_cancels_its_session_read() -> None:
    from backend.auth.guard import _both

    gate = asyncio.Event()
    session_read_started = asyncio.Event()
    session_read_cancelled = asyncio.Event()

    async def session_read() -> None:
        session_read_started.set()
        try:
            await gate.wait()
        except asyncio.CancelledError:
            session_read_cancelled.set()
            raise

    check = asyncio.ensure_future(_both(session_read(), gate.wait()))
    await asyncio.wait_for(session_read_started.wait(), timeout=5)
    check.cancel()
    with pytest.raises(asyncio.CancelledError):
        await check
    assert session_read_cancelled.is_set()


async def test_a_cancelled_check_stays_cancelled_when_its_session_read_failed() -> None:
    from backend.auth.guard import _both

    failed = asyncio.Event()

    async def session_read() -> None:
        failed.set()
        raise ConnectionError("redis gone")

    check = asyncio.ensure_future(_both(session_read(), asyncio.Event().wait()))
    await asyncio.wait_for(failed.wait(), timeout=5)
    check.cancel()
    with pytest.raises(asyncio.CancelledError):
        await check
