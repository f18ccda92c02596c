"""Idempotency keys and co-op card versions: a replayed answer keeps the headers a client acts on
(the card's ``ETag``), and a resend with another ``If-Match`` is another request, not a replay."""

from __future__ import annotations

import json

import httpx
from sanic import HTTPResponse

from backend.coops import routes
from backend.coops.models import CoopCard
from backend.coops.queries import CardView
from backend.core import runtime
from backend.core.roles import FinanceAccess, Role
from tests.coops_helpers import World, login_at, make_world


async def clerk_of(client: httpx.AsyncClient, w: World) -> dict[str, str]:
    return await login_at(client, "town_clerk", w.town, Role.CLERK, FinanceAccess.ALL)


async def etag_of(client: httpx.AsyncClient, headers: dict[str, str], unit_id: int) -> str:
    response = await client.get(f"/api/coops/{unit_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


async def test_a_replayed_card_write_carries_the_etag_of_its_first_answer(client):
    """The answer to a PATCH was lost; the resend with its key got the body back but no ``ETag``, so
    the client had no tag for its next conditional write."""
    w = await make_world()
    clerk = await clerk_of(client, w)
    keyed = {**clerk, "Idempotency-Key": "card-create-0001"}
    created = await client.post("/api/coops/", headers=keyed, json={"unit_id": w.bare.id, "members": 3})
    resent = await client.post("/api/coops/", headers=keyed, json={"unit_id": w.bare.id, "members": 3})
    assert created.status_code == resent.status_code == 201, resent.text
    assert resent.headers.get("idempotent-replayed") == "true"
    assert resent.headers.get("etag") == created.headers["etag"]

    read = await etag_of(client, clerk, w.tea.id)
    patch = {**clerk, "If-Match": read, "Idempotency-Key": "card-patch-0001"}
    changed = await client.patch(f"/api/coops/{w.tea.id}", headers=patch, json={"staff": 9})
    replayed = await client.patch(f"/api/coops/{w.tea.id}", headers=patch, json={"staff": 9})
    assert changed.status_code == replayed.status_code == 200 and replayed.headers.get("idempotent-replayed")
    assert replayed.headers.get("etag") == changed.headers["etag"] == await etag_of(client, clerk, w.tea.id)
    following = {**clerk, "If-Match": replayed.headers["etag"]}  # the replayed tag is the one to send next
    assert (await client.patch(f"/api/coops/{w.tea.id}", headers=following, json={"staff": 10})).status_code == 200


async def test_the_same_key_with_another_if_match_is_refused_and_changes_nothing(client):
    """A resend with the key of a write that passed, but a tag that no longer matches, was answered
    with the stored 200 as if its precondition had held."""
    w = await make_world()
    clerk = await clerk_of(client, w)
    read = await etag_of(client, clerk, w.tea.id)
    keyed = {**clerk, "Idempotency-Key": "card-patch-0002"}
    first = await client.patch(f"/api/coops/{w.tea.id}", headers={**keyed, "If-Match": read}, json={"staff": 9})
    assert first.status_code == 200, first.text
    stale = '"00000000000000000000000000000000"'
    for other in ({**keyed, "If-Match": stale}, keyed):  # another tag; no precondition at all
        refused = await client.patch(f"/api/coops/{w.tea.id}", headers=other, json={"staff": 9})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "idempotency_key_reused"
        assert refused.headers.get("idempotent-replayed") is None and "etag" not in refused.headers
    again = await client.patch(f"/api/coops/{w.tea.id}", headers={**keyed, "If-Match": read}, json={"staff": 9})
    assert again.status_code == 200 and again.headers.get("idempotent-replayed") == "true"  # the same request

    unconditional = {**clerk, "Idempotency-Key": "card-delete-0001"}
    assert (await client.delete(f"/api/coops/{w.tea.id}", headers=unconditional)).status_code == 204
    conditional = {**unconditional, "If-Match": first.headers["etag"]}
    refused = await client.delete(f"/api/coops/{w.tea.id}", headers=conditional)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "idempotency_key_reused"
    assert not await CoopCard.exists(unit_id=w.tea.id)


async def test_a_replay_keeps_the_location_and_never_a_cookie_or_a_request_id(client, monkeypatch):
    """Only an allow-list of the first answer's headers is kept; the security headers are set on the
    replay as on any answer."""
    answer = routes._card_answer

    def with_extra_headers(view: CardView, status: int = 200) -> HTTPResponse:
        response = answer(view, status)
        response.headers.update({"Location": f"/api/coops/{view.unit.id}", "Set-Cookie": "s=1", "X-Request-Id": "r-1"})
        return response

    monkeypatch.setattr(routes, "_card_answer", with_extra_headers)
    w = await make_world()
    clerk = await clerk_of(client, w)
    keyed = {**clerk, "Idempotency-Key": "card-create-0002"}
    created = await client.post("/api/coops/", headers=keyed, json={"unit_id": w.bare.id, "members": 3})
    resent = await client.post("/api/coops/", headers=keyed, json={"unit_id": w.bare.id, "members": 3})
    assert created.status_code == resent.status_code == 201 and resent.headers.get("idempotent-replayed") == "true"
    assert resent.headers.get("location") == created.headers["location"] == f"/api/coops/{w.bare.id}"
    assert resent.headers.get("etag") == created.headers["etag"]
    assert "set-cookie" not in resent.headers and "x-request-id" not in resent.headers
    for name in ("cache-control", "x-content-type-options"):
        assert resent.headers.get(name) == created.headers.get(name) is not None


async def test_an_answer_stored_before_headers_were_kept_still_replays(client):
    """Answers stored by the previous release (no ``headers`` field) replay as they were, tag-less."""
    w = await make_world()
    clerk = await clerk_of(client, w)
    keyed = {**clerk, "Idempotency-Key": "card-create-0003"}
    created = await client.post("/api/coops/", headers=keyed, json={"unit_id": w.bare.id, "members": 3})
    redis = runtime.get().redis
    [key] = [k async for k in redis.scan_iter("idem:*")]
    record = json.loads(await redis.get(key))
    record.pop("headers", None)
    await redis.set(key, json.dumps(record), ex=60)
    resent = await client.post("/api/coops/", headers=keyed, json={"unit_id": w.bare.id, "members": 3})
    assert (resent.status_code, resent.json()) == (201, created.json())
    assert resent.headers.get("idempotent-replayed") == "true" and "etag" not in resent.headers
