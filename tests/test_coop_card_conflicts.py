"""D1 co-op cards, optimistic concurrency: a card's answer carries its ``ETag``; a PATCH or DELETE sent
with ``If-Match`` changes the card only if it is still the version the client read (412 otherwise),
checked under the write's lock; without ``If-Match`` the writes are unconditional as before."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from backend.coops import actions
from backend.coops.models import CoopCard
from backend.core.audit import AuditEntry
from backend.core.clock import FrozenClock
from backend.core.etags import MalformedIfMatch, parse_if_match
from backend.core.roles import FinanceAccess, Role
from backend.units import actions as unit_actions
from tests.coops_helpers import World, actor_at, login_at, make_world, stored_rollups
from tests.factories import once_both_arrived


async def clerk_of(client: httpx.AsyncClient, w: World, username: str = "town_clerk") -> dict[str, str]:
    return await login_at(client, username, w.town, Role.CLERK, FinanceAccess.ALL)


async def etag_of(client: httpx.AsyncClient, headers: dict[str, str], unit_id: int) -> str:
    response = await client.get(f"/api/coops/{unit_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


async def test_a_card_answer_carries_a_strong_etag_that_every_write_changes(client, clock: FrozenClock):
    """The clock stands still (as a fast second write may see it): the tag still moves."""
    w = await make_world()
    clerk = await clerk_of(client, w)
    created = await client.post("/api/coops/", headers=clerk, json={"unit_id": w.bare.id, "members": 3})
    assert created.status_code == 201, created.text
    tag = created.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"') and len(tag) > 2  # strong: no W/
    assert await etag_of(client, clerk, w.bare.id) == tag
    changed = await client.patch(f"/api/coops/{w.bare.id}", headers=clerk, json={"members": 4})  # no If-Match
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert await etag_of(client, clerk, w.bare.id) == changed.headers["etag"]
    others = {await etag_of(client, clerk, coop.id) for coop in (w.tea, w.veg)}
    assert len(others) == 2 and changed.headers["etag"] not in others  # seeded at the same instant


async def test_a_stale_if_match_is_refused_with_412_and_changes_nothing(client):
    w = await make_world()
    first, second = await clerk_of(client, w, "first_clerk"), await clerk_of(client, w, "second_clerk")
    read = await etag_of(client, first, w.tea.id)
    assert (await client.patch(f"/api/coops/{w.tea.id}", headers=second, json={"members": 130})).status_code == 200
    rollups, audits = await stored_rollups(), await AuditEntry.filter(action="coop.card.update").count()

    stale = await client.patch(
        f"/api/coops/{w.tea.id}", headers={**first, "If-Match": read}, json={"members": 125, "assets": 1}
    )
    assert stale.status_code == 412, stale.text
    error = stale.json()["error"]
    assert error["code"] == "card_changed" and "其他人修改" in error["message"] and "重新打开" in error["message"]
    card = await CoopCard.get(unit_id=w.tea.id)
    assert card.members == 130 and card.assets_fen != 100
    assert await stored_rollups() == rollups
    assert await AuditEntry.filter(action="coop.card.update").count() == audits
    nothing_sent = await client.patch(f"/api/coops/{w.tea.id}", headers={**first, "If-Match": read}, json={})
    assert nothing_sent.status_code == 412  # the precondition is judged before "nothing to change"


async def test_a_current_if_match_passes_and_answers_the_new_etag(client):
    w = await make_world()
    clerk = await clerk_of(client, w)
    read = await etag_of(client, clerk, w.tea.id)
    changed = await client.patch(f"/api/coops/{w.tea.id}", headers={**clerk, "If-Match": read}, json={"staff": 9})
    assert changed.status_code == 200, changed.text
    assert changed.json()["staff"] == 9
    new = changed.headers["etag"]
    assert new != read and await etag_of(client, clerk, w.tea.id) == new
    again = await client.patch(f"/api/coops/{w.tea.id}", headers={**clerk, "If-Match": new}, json={"staff": 10})
    assert again.status_code == 200  # the answer's tag is the one to send next
    listed = {**clerk, "If-Match": f"{read}, {again.headers['etag']}"}  # any tag of the list may match
    assert (await client.patch(f"/api/coops/{w.tea.id}", headers=listed, json={"staff": 11})).status_code == 200
    anything = await client.patch(f"/api/coops/{w.tea.id}", headers={**clerk, "If-Match": "*"}, json={"staff": 12})
    assert anything.status_code == 200 and anything.json()["staff"] == 12


async def test_two_patches_with_the_same_if_match_exactly_one_succeeds(client, monkeypatch):
    w = await make_world()
    first, second = await clerk_of(client, w, "first_clerk"), await clerk_of(client, w, "second_clerk")
    read = await etag_of(client, first, w.tea.id)
    monkeypatch.setattr(actions, "update_card", once_both_arrived(actions.update_card))
    answers = await asyncio.gather(
        client.patch(f"/api/coops/{w.tea.id}", headers={**first, "If-Match": read}, json={"members": 1}),
        client.patch(f"/api/coops/{w.tea.id}", headers={**second, "If-Match": read}, json={"members": 2}),
    )
    assert sorted(a.status_code for a in answers) == [200, 412], [a.text for a in answers]
    won = next(a for a in answers if a.status_code == 200)
    assert (await CoopCard.get(unit_id=w.tea.id)).members == won.json()["members"]
    assert await AuditEntry.filter(action="coop.card.update").count() == 1


async def test_delete_with_a_stale_if_match_is_refused_and_keeps_the_card(client):
    w = await make_world()
    clerk = await clerk_of(client, w)
    read = await etag_of(client, clerk, w.tea.id)
    changed = await client.patch(f"/api/coops/{w.tea.id}", headers=clerk, json={"contact_name": "王二"})
    rollups = await stored_rollups()
    stale = await client.delete(f"/api/coops/{w.tea.id}", headers={**clerk, "If-Match": read})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "card_changed"
    assert await CoopCard.exists(unit_id=w.tea.id) and await stored_rollups() == rollups
    assert not await AuditEntry.filter(action="coop.card.delete").exists()
    current = {**clerk, "If-Match": changed.headers["etag"]}
    assert (await client.delete(f"/api/coops/{w.tea.id}", headers=current)).status_code == 204
    gone = await client.patch(f"/api/coops/{w.tea.id}", headers=current, json={"staff": 1})
    assert gone.status_code == 404  # no card: "not found" comes before the precondition


@pytest.mark.parametrize(
    ("value", "weak"),
    [
        ('W/"0123456789abcdef"', True),
        ('"0123456789abcdef", W/"fedcba9876543210"', True),
        ("0123456789abcdef", False),  # not quoted
        ('"unterminated', False),
        ('*, "0123456789abcdef"', False),
        ("", False),
    ],
)
async def test_a_malformed_if_match_is_a_clear_400_and_changes_nothing(client, value, weak):
    w = await make_world()
    clerk = await clerk_of(client, w)
    before = await stored_rollups()
    for method, kwargs in (("PATCH", {"json": {"members": 1}}), ("DELETE", {})):
        refused = await client.request(method, f"/api/coops/{w.tea.id}", headers={**clerk, "If-Match": value}, **kwargs)
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert error["code"] == "if_match_invalid" and "If-Match" in error["message"] and "ETag" in error["message"]
        assert ("W/" in error["message"]) is weak
    card = await CoopCard.get(unit_id=w.tea.id)
    assert card.members == 120 and await stored_rollups() == before
    assert not await AuditEntry.filter(action__in=["coop.card.update", "coop.card.delete"]).exists()


@pytest.mark.parametrize(
    ("value", "tags"),
    [
        ('"a,b"', {'"a,b"'}),  # a comma inside a tag is part of it
        (' "a" ,, "b" ', {'"a"', '"b"'}),  # empty list elements and spaces are allowed
        ('""', {'""'}),
    ],
)
def test_if_match_lists_are_read_as_the_http_grammar_writes_them(value, tags):
    assert parse_if_match(value).tags == tags


def test_a_weak_if_match_is_told_apart_from_garbage():
    with pytest.raises(MalformedIfMatch) as weak:
        parse_if_match('W/"a"')
    with pytest.raises(MalformedIfMatch) as garbage:
        parse_if_match("a")
    assert weak.value.weak and not garbage.value.weak


# One card, several representations: each its own strong tag, any of them good for If-Match -------


async def read_card(client: httpx.AsyncClient, headers: dict[str, str], unit_id: int) -> httpx.Response:
    response = await client.get(f"/api/coops/{unit_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response


async def test_a_card_shown_with_money_and_with_money_masked_carries_two_tags_and_each_reader_writes_with_its_own(
    client,
):
    w = await make_world()
    sees = await clerk_of(client, w, "finance_clerk")
    masked = await login_at(client, "entry_clerk", w.town, Role.CLERK, FinanceAccess.NONE)
    shown, hidden = await read_card(client, sees, w.tea.id), await read_card(client, masked, w.tea.id)
    assert shown.json()["assets"] == "123.46" and hidden.json()["assets"] == "无权限"
    assert shown.headers["etag"] != hidden.headers["etag"]  # two representations, two strong tags
    assert not shown.headers["etag"].startswith("W/") and not hidden.headers["etag"].startswith("W/")

    written = await client.patch(
        f"/api/coops/{w.tea.id}", headers={**masked, "If-Match": hidden.headers["etag"]}, json={"staff": 9}
    )
    assert written.status_code == 200, written.text
    assert written.json()["assets"] == "无权限"
    assert written.headers["etag"] == (await read_card(client, masked, w.tea.id)).headers["etag"]
    stale = await client.patch(
        f"/api/coops/{w.tea.id}", headers={**sees, "If-Match": shown.headers["etag"]}, json={"staff": 10}
    )
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "card_changed"
    assert (await CoopCard.get(unit_id=w.tea.id)).staff == 9
    current = {**sees, "If-Match": (await read_card(client, sees, w.tea.id)).headers["etag"]}
    again = await client.patch(f"/api/coops/{w.tea.id}", headers=current, json={"staff": 10})
    assert again.status_code == 200 and again.json()["assets"] == "123.46"


async def test_a_gzipped_and_a_plain_answer_of_one_card_carry_two_tags_and_either_passes_if_match(client):
    w = await make_world()
    clerk = await clerk_of(client, w)
    gzipped = await client.get(f"/api/coops/{w.tea.id}", headers={**clerk, "Accept-Encoding": "gzip"})
    plain = await client.get(f"/api/coops/{w.tea.id}", headers={**clerk, "Accept-Encoding": "identity"})
    assert gzipped.headers.get("content-encoding") == "gzip" and "content-encoding" not in plain.headers
    assert gzipped.json() == plain.json()
    assert gzipped.headers["etag"] != plain.headers["etag"]  # two encodings, two strong tags (RFC 9110 §8.8.3.3)
    assert not gzipped.headers["etag"].startswith("W/")

    first = await client.patch(
        f"/api/coops/{w.tea.id}", headers={**clerk, "If-Match": gzipped.headers["etag"]}, json={"staff": 9}
    )
    assert first.status_code == 200, first.text
    stale = await client.patch(
        f"/api/coops/{w.tea.id}", headers={**clerk, "If-Match": plain.headers["etag"]}, json={"staff": 10}
    )
    assert stale.status_code == 412  # the plain tag named the version the gzipped one did: gone now
    again = await client.get(f"/api/coops/{w.tea.id}", headers={**clerk, "Accept-Encoding": "identity"})
    second = await client.patch(
        f"/api/coops/{w.tea.id}", headers={**clerk, "If-Match": again.headers["etag"]}, json={"staff": 10}
    )
    assert second.status_code == 200 and second.json()["staff"] == 10


async def test_a_renamed_co_op_is_answered_with_a_new_tag_and_the_card_it_did_not_change_stays_writable(client):
    w = await make_world()
    clerk = await clerk_of(client, w)
    before = (await read_card(client, clerk, w.tea.id)).headers["etag"]
    await unit_actions.update_unit(actor_at(w.county), w.tea.id, {"name": "王家湾村茶叶合作社"})
    renamed = await read_card(client, clerk, w.tea.id)
    assert renamed.json()["name"] == "王家湾村茶叶合作社" and renamed.headers["etag"] != before
    kept = await client.patch(f"/api/coops/{w.tea.id}", headers={**clerk, "If-Match": before}, json={"staff": 9})
    assert kept.status_code == 200, kept.text  # the card itself is still the version read: nothing is lost
