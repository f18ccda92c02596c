"""P8: a session ended on its own (logout, ended from the list, the old token of a refresh, the
sessions of a unit taken away or of a WeChat unbound) stays ended when Redis comes back from a
snapshot taken before the end: the end is recorded in the database, and the guard refuses it there."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from backend.auth import guard
from backend.core import runtime, sessions
from backend.core.audit import AuditEntry
from backend.core.clock import FrozenClock
from backend.core.crypto import sha256_hex
from tests.factories import login, make_account, make_tree


@dataclass(frozen=True)
class Saved:
    """What a Redis snapshot holds of one session: its hash and its place in the account's set."""

    key_hash: str
    account_id: int
    fields: dict[str, str]


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].split()[1]


async def snapshot(headers: dict[str, str]) -> Saved:
    key_hash = sha256_hex(token_of(headers))
    redis = runtime.get().redis
    fields = await redis.hgetall(f"sess:{key_hash}")
    account_id = int(fields["account_id"])
    assert await redis.sismember(f"acct-sess:{account_id}", key_hash)
    return Saved(key_hash=key_hash, account_id=account_id, fields=fields)


async def restore(saved: Saved) -> None:
    """Write the session back as a restart from that snapshot (RDB or AOF) would."""
    redis = runtime.get().redis
    await redis.hset(f"sess:{saved.key_hash}", mapping=saved.fields)
    await redis.sadd(f"acct-sess:{saved.account_id}", saved.key_hash)


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def chat(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/api/chat", json={"text": "汇总"}, headers=headers)


async def assert_refused_on_both_paths(client: httpx.AsyncClient, headers: dict[str, str], saved: Saved) -> None:
    """Refused by the guard's account path (no unit needed), by its one-statement path for a session
    this process has seen (the actor read goes out with the session read), and by that path for a
    session it has not seen; each refusal drops the revived session from Redis, so it is restored
    again before the next."""
    assert error_of(await client.get("/api/session", headers=headers)) == (401, "session_invalid")
    await restore(saved)
    assert error_of(await chat(client, headers)) == (401, "session_invalid")
    await restore(saved)
    guard._HINTS.pop(saved.key_hash, None)
    assert error_of(await chat(client, headers)) == (401, "session_invalid")
    assert not await runtime.get().redis.exists(f"sess:{saved.key_hash}")


async def test_a_logged_out_token_stays_refused_when_redis_comes_back_from_an_older_snapshot(
    client: httpx.AsyncClient,
) -> None:
    tree = await make_tree()
    await make_account("clerk", tree.own)
    headers = await login(client, "clerk")
    assert (await chat(client, headers)).status_code == 200  # the process now knows the session
    saved = await snapshot(headers)
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204
    await restore(saved)
    await assert_refused_on_both_paths(client, headers, saved)


async def test_an_own_session_ended_from_the_list_stays_refused_after_a_restore(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    await make_account("phones", tree.own)
    office = await login(client, "phones")
    lost_phone = await login(client, "phones")
    assert (await chat(client, lost_phone)).status_code == 200
    saved = await snapshot(lost_phone)
    listed = (await client.get("/api/sessions", headers=office)).json()
    other = next(s for s in listed if not s["current"])
    assert (await client.delete(f"/api/sessions/{other['id']}", headers=office)).status_code == 204
    await restore(saved)
    # Not listed again, and dropped from Redis on the way.
    assert [s["current"] for s in (await client.get("/api/sessions", headers=office)).json()] == [True]
    assert not await runtime.get().redis.exists(f"sess:{saved.key_hash}")
    await restore(saved)
    await assert_refused_on_both_paths(client, headers=lost_phone, saved=saved)
    assert (await chat(client, office)).status_code == 200


async def test_the_old_token_of_a_refresh_stays_refused_after_a_restore(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    await make_account("fresh", tree.own)
    old = await login(client, "fresh")
    assert (await chat(client, old)).status_code == 200
    saved = await snapshot(old)
    refreshed = await client.post("/api/session/refresh", headers=old)
    assert refreshed.status_code == 200
    new = {"Authorization": f"Bearer {refreshed.json()['token']}"}
    await restore(saved)
    await assert_refused_on_both_paths(client, old, saved)
    assert (await chat(client, new)).status_code == 200
    # The restored old token cannot be refreshed into a new session either.
    await restore(saved)
    assert error_of(await client.post("/api/session/refresh", headers=old)) == (401, "session_invalid")


async def test_sessions_ended_by_a_match_stay_refused_after_a_restore(client: httpx.AsyncClient) -> None:
    """The sessions of a unit taken away (backend.agents) and of a WeChat unbound (backend.wechat)."""
    tree = await make_tree()
    account = await make_account("agent", tree.own)
    kept = await login(client, "agent")
    ended = await login(client, "agent")
    saved = await snapshot(ended)
    assert await sessions.end_matching(account.id, lambda record: record.key_hash == saved.key_hash) == 1
    await restore(saved)
    await assert_refused_on_both_paths(client, ended, saved)
    assert (await client.get("/api/session", headers=kept)).status_code == 200


async def test_a_logout_whose_end_cannot_be_recorded_fails_and_the_session_stays(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = await make_tree()
    await make_account("clerk", tree.own)
    headers = await login(client, "clerk")

    async def database_down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(sessions.EndedSession, "bulk_create", database_down)
    response = await client.post("/api/auth/logout", headers=headers)
    assert response.status_code >= 500  # never a 204 for an end that a Redis restore could undo
    monkeypatch.undo()
    assert (await client.get("/api/session", headers=headers)).status_code == 200  # not half ended
    assert not await AuditEntry.filter(action="auth.logout").exists()  # nor on record as ended
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204


async def test_ended_sessions_are_forgotten_once_past_their_absolute_lifetime(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    from jobs.sessions import ended_sessions_prune
    from jobs.worker import cron_jobs

    tree = await make_tree()
    await make_account("clerk", tree.own)
    early = await login(client, "clerk")
    clock.advance(20 * 60)
    late = await login(client, "clerk")
    saved = await snapshot(early)
    assert (await client.post("/api/auth/logout", headers=early)).status_code == 204
    assert (await client.post("/api/auth/logout", headers=late)).status_code == 204
    absolute = runtime.get().settings.session_absolute_seconds
    clock.advance(absolute - 20 * 60 + 60)  # the early session's absolute end and a minute for other clocks
    assert await ended_sessions_prune({}) == 0
    assert await sessions.EndedSession.all().count() == 2
    clock.advance(1)
    assert await ended_sessions_prune({}) == 1  # the early one only: the late one may still come back
    assert await sessions.EndedSession.all().values_list("key_hash", flat=True) == [sha256_hex(token_of(late))]
    await restore(saved)
    assert (await client.get("/api/session", headers=early)).status_code == 401  # past its lifetime anyway
    assert "cron:ended_sessions_prune" in {job.name for job in cron_jobs()}
