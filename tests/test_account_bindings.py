"""An admin releases the WeChat of an account they manage; deactivation releases its WeChat and card."""

from __future__ import annotations

import httpx

from backend.cards.models import CardBinding
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from backend.wechat.models import WechatIdentity
from tests.factories import bind_card, bind_wechat, login, make_account, make_tree


async def test_an_admin_unbinds_the_wechat_of_an_account_in_scope_and_its_sessions_end(
    client: httpx.AsyncClient,
) -> None:
    tree = await make_tree()
    await make_account("admin1", tree.own, Role.ADMIN)
    clerk = await make_account("clerk1", tree.child, Role.CLERK)
    stranger = await make_account("clerk2", tree.sibling, Role.CLERK)
    await bind_wechat(clerk.id, "o-clerk")
    await bind_wechat(stranger.id, "o-stranger")
    admin = await login(client, "admin1")
    lost_phone = await login(client, "clerk1")
    other_phone = await login(client, "clerk2")

    assert (await client.delete(f"/api/accounts/{clerk.id}/wechat", headers=admin)).status_code == 204
    assert (await client.get("/api/session", headers=lost_phone)).status_code == 401
    assert (await client.get("/api/session", headers=other_phone)).status_code == 200
    assert not await WechatIdentity.filter(account_id=clerk.id).exists()
    entry = await AuditEntry.get(action="wechat.unbind")
    assert str(entry.target_id) == str(clerk.id)
    again = await client.delete(f"/api/accounts/{clerk.id}/wechat", headers=admin)
    assert again.status_code == 404
    outside = await client.delete(f"/api/accounts/{stranger.id}/wechat", headers=admin)
    assert outside.status_code == 404
    assert await WechatIdentity.filter(account_id=stranger.id).exists()


async def test_deactivation_releases_the_wechat_and_the_card(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    await make_account("admin1", tree.own, Role.ADMIN)
    clerk = await make_account("clerk1", tree.child, Role.CLERK)
    await bind_wechat(clerk.id, "o-clerk")
    admin_account = await make_account("admin2", tree.own, Role.ADMIN)
    for account, number in ((clerk, "66000001"), (admin_account, "88000001")):  # the admin holds a card too
        await bind_card(account.id, number)
    admin = await login(client, "admin2")
    assert (await client.post(f"/api/accounts/{clerk.id}/deactivate", headers=admin)).status_code == 204
    assert not await WechatIdentity.filter(account_id=clerk.id).exists()
    assert not await CardBinding.filter(account_id=clerk.id).exists()
    entry = await AuditEntry.get(action="account.deactivate")
    assert entry.detail == {"wechat_released": 1, "card_released": 1}
