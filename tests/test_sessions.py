"""P8 sessions: opaque tokens hashed in Redis, idle and absolute expiry, listing and ending them."""

from __future__ import annotations

from backend.core import runtime
from backend.core.crypto import sha256_hex
from tests.factories import login, make_account, make_tree


async def test_redis_keeps_only_the_hash_of_the_token(client):
    tree = await make_tree()
    await make_account("clerk", tree.own)
    headers = await login(client, "clerk")
    token = headers["Authorization"].split()[1]
    keys = [k async for k in runtime.get().redis.scan_iter("sess:*")]
    assert keys == [f"sess:{sha256_hex(token)}"]
    assert token not in str([await runtime.get().redis.hgetall(k) for k in keys])


async def test_session_ends_after_thirty_idle_minutes(client, clock):
    tree = await make_tree()
    await make_account("idle", tree.own)
    headers = await login(client, "idle")
    clock.advance(29 * 60)
    assert (await client.get("/api/session", headers=headers)).status_code == 200
    clock.advance(29 * 60)  # activity above moved the idle window
    assert (await client.get("/api/session", headers=headers)).status_code == 200
    clock.advance(30 * 60 + 1)
    expired = await client.get("/api/session", headers=headers)
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "session_invalid"


async def test_session_ends_after_twelve_hours_even_when_active(client, clock):
    tree = await make_tree()
    await make_account("busy", tree.own)
    headers = await login(client, "busy")
    for _ in range(12 * 3 + 1):
        clock.advance(20 * 60)
        response = await client.get("/api/session", headers=headers)
    assert response.status_code == 401


async def test_refresh_gives_a_new_token_and_voids_the_old_but_keeps_the_absolute_limit(client, clock):
    tree = await make_tree()
    await make_account("fresh", tree.own)
    old = await login(client, "fresh")
    for _ in range(23):  # 11.5 hours, kept alive by activity every half hour
        clock.advance(30 * 60)
        assert (await client.get("/api/session", headers=old)).status_code == 200
    refreshed = await client.post("/api/session/refresh", headers=old)
    new = {"Authorization": f"Bearer {refreshed.json()['token']}"}
    assert (await client.get("/api/session", headers=old)).status_code == 401
    assert (await client.get("/api/session", headers=new)).status_code == 200
    clock.advance(31 * 60)  # now past 12 h since the original login
    assert (await client.get("/api/session", headers=new)).status_code == 401


async def test_user_lists_own_sessions_and_ends_one(client):
    tree = await make_tree()
    await make_account("phones", tree.own)
    first = await login(client, "phones")
    second = await login(client, "phones")
    listed = (await client.get("/api/sessions", headers=first)).json()
    assert len(listed) == 2 and sum(s["current"] for s in listed) == 1
    other = next(s for s in listed if not s["current"])
    assert (await client.delete(f"/api/sessions/{other['id']}", headers=first)).status_code == 204
    assert (await client.get("/api/session", headers=second)).status_code == 401
    assert (await client.get("/api/session", headers=first)).status_code == 200
    assert (await client.delete("/api/sessions/doesnotexist", headers=first)).status_code == 404


async def test_logout_ends_the_session(client):
    tree = await make_tree()
    await make_account("leaver", tree.own)
    headers = await login(client, "leaver")
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/api/session", headers=headers)).status_code == 401


async def test_admin_ends_the_sessions_of_an_account_below(client):
    tree = await make_tree()
    await make_account("boss", tree.own, role="admin")
    target = await make_account("worker", tree.child, role="clerk")
    boss = await login(client, "boss")
    worker = await login(client, "worker")
    response = await client.delete(f"/api/accounts/{target.id}/sessions", headers=boss)
    assert response.status_code == 204
    assert (await client.get("/api/session", headers=worker)).status_code == 401
    assert (await client.get("/api/session", headers=boss)).status_code == 200


async def test_a_garbage_or_missing_token_is_unauthenticated(client):
    assert (await client.get("/api/session")).json()["error"]["code"] == "session_invalid"
    bad = await client.get("/api/session", headers={"Authorization": "Bearer " + "x" * 500})
    assert bad.status_code == 401
