"""P8 + P10: ending a session on request (one's own from the list, logging out, an admin ending
another's) is an audited account change: who, which session by its public id, the outcome. A
session that expires is not."""

from __future__ import annotations

import httpx

from backend.core.audit import AuditEntry, verify_chain
from tests.factories import login, make_account, make_tree


async def _own_sessions(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict]:
    listed = await client.get("/api/sessions", headers=headers)
    assert listed.status_code == 200, listed.text
    return listed.json()


async def test_ending_one_of_ones_own_sessions_is_audited_with_its_public_id(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    account = await make_account("phones", tree.own)
    office = await login(client, "phones")
    await login(client, "phones")  # the lost phone
    lost = next(s for s in await _own_sessions(client, office) if not s["current"])

    assert (await client.delete(f"/api/sessions/{lost['id']}", headers=office)).status_code == 204

    entry = await AuditEntry.get(action="auth.end_session")
    assert (entry.actor_account_id, entry.outcome) == (account.id, "success")
    assert (entry.target_type, entry.target_id) == ("account", str(account.id))
    assert entry.detail == {"session": lost["id"]}
    assert entry.scope_path == tree.own.path
    assert (await verify_chain()).ok


async def test_ending_an_unknown_session_is_audited_as_a_failure_without_what_was_typed(
    client: httpx.AsyncClient,
) -> None:
    tree = await make_tree()
    account = await make_account("phones", tree.own)
    headers = await login(client, "phones")

    answer = await client.delete("/api/sessions/430521199001011234", headers=headers)

    assert answer.status_code == 404
    entry = await AuditEntry.get(action="auth.end_session")
    assert (entry.actor_account_id, entry.outcome) == (account.id, "failure")
    assert entry.detail == {"reason": "not_found"}
    assert "430521199001011234" not in str(entry.detail)


async def test_logging_out_is_audited_with_the_sessions_public_id(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    account = await make_account("leaver", tree.own)
    headers = await login(client, "leaver")
    current = next(s for s in await _own_sessions(client, headers) if s["current"])

    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204

    entry = await AuditEntry.get(action="auth.logout")
    assert (entry.actor_account_id, entry.outcome) == (account.id, "success")
    assert entry.detail == {"session": current["id"]}


async def test_a_session_that_expires_leaves_no_audit_entry(client: httpx.AsyncClient, clock) -> None:
    tree = await make_tree()
    await make_account("idle", tree.own)
    headers = await login(client, "idle")
    clock.advance(31 * 60)

    assert (await client.get("/api/session", headers=headers)).status_code == 401

    assert not await AuditEntry.filter(action__in=["auth.logout", "auth.end_session"]).exists()


async def test_an_admin_ending_anothers_sessions_is_audited(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    boss = await make_account("boss", tree.own, role="admin")
    target = await make_account("worker", tree.child, role="clerk")
    admin = await login(client, "boss")
    await login(client, "worker")

    assert (await client.delete(f"/api/accounts/{target.id}/sessions", headers=admin)).status_code == 204

    entry = await AuditEntry.get(action="account.end_sessions")
    assert (entry.actor_account_id, entry.outcome) == (boss.id, "success")
    assert (entry.target_type, entry.target_id) == ("account", str(target.id))
