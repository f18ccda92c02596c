"""C6: a card that stops being bound (its owner unbinds it, or the account's name or ID number
changes so that it no longer names the person) ends the sessions its card logins started, as a
replacement card does; the session that made the change and those started otherwise go on."""

from __future__ import annotations

import httpx

from backend.cards.models import CardBinding
from backend.core import sessions
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from card_service.fakes.card_ca import CardAuthority
from tests.factories import bind_card, login, make_account
from tests.test_card_auth import id_number
from tests.test_card_replacement_sessions import _alive, _claimed, _clerk_with_old_card


async def test_an_own_unbind_ends_the_sessions_the_card_started_but_not_the_callers(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    _coop, clerk, device, card = await _clerk_with_old_card(client, card_authority)
    lost_phone = await _claimed(client, device, card)  # someone else's phone, the card in a stranger's hand
    by_password = await login(client, "clerk1")
    other_password = await login(client, "clerk1")
    unbound = await client.delete("/api/profile/card", headers=by_password)
    assert unbound.status_code == 204, unbound.text
    assert not await CardBinding.filter(account_id=clerk.id).exists()
    assert not await _alive(client, lost_phone)
    assert await _alive(client, by_password) and await _alive(client, other_password)
    assert await sessions.EndedSession.filter(account_id=clerk.id).count() == 1  # for good


async def test_an_unbind_from_a_session_the_card_started_keeps_that_session(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    _coop, _clerk, device, card = await _clerk_with_old_card(client, card_authority)
    here = await _claimed(client, device, card)
    elsewhere = await _claimed(client, device, card)
    unbound = await client.delete("/api/profile/card", headers=here)
    assert unbound.status_code == 204, unbound.text
    assert await _alive(client, here) and not await _alive(client, elsewhere)


async def test_an_own_name_change_that_unbinds_the_card_ends_its_sessions(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    _coop, clerk, device, card = await _clerk_with_old_card(client, card_authority)
    by_card = await _claimed(client, device, card)
    by_password = await login(client, "clerk1")
    renamed = await client.patch("/api/profile", headers=by_password, json={"name": "李思"})
    assert renamed.status_code == 200, renamed.text
    assert not await CardBinding.filter(account_id=clerk.id).exists()
    assert not await _alive(client, by_card) and await _alive(client, by_password)


async def test_a_profile_edit_that_keeps_the_identity_ends_no_card_session(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    _coop, clerk, device, card = await _clerk_with_old_card(client, card_authority)
    by_card = await _claimed(client, device, card)
    by_password = await login(client, "clerk1")
    edited = await client.patch("/api/profile", headers=by_password, json={"email": "li@example.cn"})
    assert edited.status_code == 200, edited.text
    assert await CardBinding.filter(account_id=clerk.id).exists() and await _alive(client, by_card)


async def test_an_admins_id_number_edit_that_unbinds_the_card_ends_its_sessions(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    coop, clerk, device, card = await _clerk_with_old_card(client, card_authority)
    by_card = await _claimed(client, device, card)
    by_password = await login(client, "clerk1")
    peer = await make_account("peer_admin", coop, Role.ADMIN)
    await bind_card(peer.id, "66000099", kind="legal_rep")  # a card-holding admin may edit a card holder
    admin = await login(client, "peer_admin")
    edited = await client.patch(f"/api/accounts/{clerk.id}", headers=admin, json={"id_number": id_number(2)})
    assert edited.status_code == 200, edited.text
    assert not await CardBinding.filter(account_id=clerk.id).exists()
    assert not await _alive(client, by_card) and await _alive(client, by_password)


async def test_an_unbind_rolled_back_ends_no_session(
    client: httpx.AsyncClient, card_authority: CardAuthority, monkeypatch
) -> None:
    """The sessions end only once the unbind commits: a failed audit write keeps binding and sessions."""
    from backend.cards import actions

    _coop, clerk, device, card = await _clerk_with_old_card(client, card_authority)
    by_card = await _claimed(client, device, card)
    by_password = await login(client, "clerk1")

    async def audit_fails(*args: object, **kwargs: object) -> None:
        raise ConnectionResetError("the database went away at the audit write")

    monkeypatch.setattr(actions, "_audit", audit_fails)
    failed = await client.delete("/api/profile/card", headers=by_password)
    assert failed.status_code >= 500
    assert await CardBinding.filter(account_id=clerk.id).exists() and await _alive(client, by_card)


async def test_a_card_holding_admin_unbinds_a_card_holders_card_and_its_sessions_end(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    """A holder whose card (bound before issue dates were kept, so no replacement takes it over) is
    lost and who has no password (a card-made account) could follow neither way the refusal named."""
    coop, clerk, device, card = await _clerk_with_old_card(client, card_authority)
    by_card = await _claimed(client, device, card)
    peer = await make_account("peer_admin", coop, Role.ADMIN)
    admin = await login(client, "peer_admin")
    card_less = await client.delete(f"/api/accounts/{clerk.id}/card", headers=admin)
    assert card_less.status_code == 403 and card_less.json()["error"]["code"] == "card_holder_protected"
    await bind_card(peer.id, "66000099", kind="legal_rep")
    unbound = await client.delete(f"/api/accounts/{clerk.id}/card", headers=admin)
    assert unbound.status_code == 204, unbound.text
    assert not await CardBinding.filter(account_id=clerk.id).exists() and not await _alive(client, by_card)
    entry = await AuditEntry.get(action="card.unbind", target_id=str(clerk.id))
    assert entry.detail == {"by": "admin"} and entry.actor_account_id == peer.id
    again = await client.delete(f"/api/accounts/{clerk.id}/card", headers=admin)
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"
