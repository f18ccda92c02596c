"""Bad input of any kind is refused and changes nothing: also a body sent to an action that takes
none ("reset-password" with {"dry_run": true} reset the password) and query parameters no route
reads (a write ignored them; the lists already refused theirs)."""

from __future__ import annotations

import httpx

from backend.accounts.models import Account
from backend.core.sms import SmsMessage
from backend.units.models import Unit
from tests.factories import login, make_account, make_tree


async def _admin_and_member(client: httpx.AsyncClient):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role="admin")
    member = await make_account("member", tree.child)
    return tree, await login(client, "town_admin"), member


async def test_a_body_sent_to_an_action_that_takes_none_is_refused_and_nothing_happens(client):
    _tree, admin, member = await _admin_and_member(client)
    before = (await Account.get(id=member.id)).password_hash
    for body in ({"content": '{"dry_run": true, "notify": false}', "headers": {"Content-Type": "application/json"}},
                 {"content": "reset=1", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}):  # fmt: skip
        refused = await client.post(
            f"/api/accounts/{member.id}/reset-password", content=body["content"], headers={**admin, **body["headers"]}
        )
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "body_not_accepted" and "不需要" in error["message"]
    assert (await Account.get(id=member.id)).password_hash == before
    assert not await SmsMessage.filter(template="password_reset").exists()


async def test_an_action_that_takes_no_body_still_works_without_one_or_with_an_empty_one(client):
    _tree, admin, member = await _admin_and_member(client)
    assert (await client.post(f"/api/accounts/{member.id}/reset-password", headers=admin)).status_code == 204
    for nothing in (b"", b"{}", b" {} \n"):
        empty = await client.post(f"/api/accounts/{member.id}/reset-password", headers=admin, content=nothing)
        assert empty.status_code == 204, empty.text


async def test_query_parameters_a_write_does_not_read_are_refused_by_name(client):
    tree, admin, _member = await _admin_and_member(client)
    body = {"parent_id": tree.own.id, "name": "新村", "type": "village"}
    refused = await client.post("/api/units/", params={"zz_unknown": "1"}, json=body, headers=admin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["fields"] == {"zz_unknown": "不支持此项"}
    assert not await Unit.filter(name="新村").exists()
    read = await client.get(f"/api/units/{tree.own.id}", params={"verbose": "1"}, headers=admin)
    assert read.status_code == 422 and read.json()["error"]["fields"] == {"verbose": "不支持此项"}


async def test_routes_that_read_their_own_input_keep_working(client):
    """The chat parses its body itself, the development inbox reads its query: both declare it."""
    _tree, admin, _member = await _admin_and_member(client)
    assert (await client.post("/api/chat/", json={"text": "帮助"}, headers=admin)).status_code == 200
    assert (await client.get("/api/dev/sms", params={"phone": "13900000000"})).status_code == 200
