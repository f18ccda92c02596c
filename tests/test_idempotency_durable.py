"""A keyed write that committed is known to have committed even when Redis lost its stored answer (a
restart from an older snapshot, a store that failed, a crash between the commit and the store): its
retry gets the answer kept in the database, or ``request_done`` when none was kept, never a second
run. And a resend is the same request however its JSON is written (escapes, member order); a request
with two keys is refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from backend.core import db, idempotency, runtime
from backend.units.models import Unit
from jobs.sessions import ended_sessions_prune
from tests.factories import login, make_account, make_tree


@pytest.fixture(autouse=True)
async def no_records() -> AsyncIterator[None]:
    """tests/conftest.py empties the tables it knows of; this one too, before and after."""
    await db.execute("DELETE FROM idempotent_request", [])
    yield
    await db.execute("DELETE FROM idempotent_request", [])


async def _admin(client) -> tuple[object, dict[str, str]]:
    tree = await make_tree()
    await make_account("county_admin", tree.parent, role="admin")
    return tree, await login(client, "county_admin")


async def _forget_answers() -> None:
    """Redis lost every stored answer and pending marker (restarted from a snapshot without them)."""
    redis = runtime.get().redis
    keys = [key async for key in redis.scan_iter("idem:*")]
    if keys:
        await redis.delete(*keys)


def _done(response) -> bool:
    return response.status_code == 409 and response.json()["error"]["code"] == "request_done"


def _replayed(response, first) -> bool:
    return (response.status_code, response.json(), response.headers.get("idempotent-replayed")) == (
        first.status_code,
        first.json(),
        "true",
    )


async def test_a_retry_after_redis_restarted_without_the_answer_is_not_run_again(client):
    tree, headers = await _admin(client)
    body = {"parent_id": tree.own.id, "name": "快照村", "type": "village"}
    first = await client.post("/api/units/", json=body, headers={**headers, "Idempotency-Key": "durable-0001"})
    assert first.status_code == 201, first.text
    await runtime.get().redis.flushdb()  # redis-server killed, restarted from a snapshot without the key
    relogged = {**(await login(client, "county_admin")), "Idempotency-Key": "durable-0001"}
    retried = await client.post("/api/units/", json=body, headers=relogged)
    assert _replayed(retried, first), retried.text
    assert retried.headers.get("location") == first.headers.get("location")
    assert await Unit.filter(name="快照村").count() == 1
    again = await client.post("/api/units/", json=body, headers=relogged)  # answered from Redis again
    assert _replayed(again, first)
    other = {**body, "name": "另一村"}
    reused = await client.post("/api/units/", json=other, headers=relogged)
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert not await Unit.filter(name="另一村").exists()


async def test_a_write_whose_answer_was_never_kept_is_answered_done_after_redis_lost_it(client, monkeypatch):
    """A crash between the commit and keeping the answer: the record says it committed, nothing more."""

    async def crashed(*args, **kwargs):
        return None

    monkeypatch.setattr(idempotency, "_keep_answer", crashed)
    tree, headers = await _admin(client)
    body = {"parent_id": tree.own.id, "name": "崩溃村", "type": "village"}
    keyed = {**headers, "Idempotency-Key": "durable-0010"}
    assert (await client.post("/api/units/", json=body, headers=keyed)).status_code == 201
    await _forget_answers()
    retried = await client.post("/api/units/", json=body, headers=keyed)
    assert _done(retried), retried.text
    assert "不要重复提交" in retried.json()["error"]["message"]
    assert await Unit.filter(name="崩溃村").count() == 1


async def test_another_body_under_a_key_whose_answer_redis_lost_is_refused_as_a_reused_key(client):
    tree, headers = await _admin(client)
    keyed = {**headers, "Idempotency-Key": "durable-0002"}
    first = await client.post(
        "/api/units/", json={"parent_id": tree.own.id, "name": "甲村", "type": "village"}, headers=keyed
    )
    assert first.status_code == 201, first.text
    await _forget_answers()
    other = await client.post(
        "/api/units/", json={"parent_id": tree.own.id, "name": "乙村", "type": "village"}, headers=keyed
    )
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert not await Unit.filter(name="乙村").exists()


async def test_a_retry_after_the_answer_failed_to_store_is_done_not_in_progress(client, monkeypatch):
    """The store after the commit failed: the client had its 201, the pending marker stayed. The retry
    within its minute was told to wait, and once it expired created a second unit."""
    tree, headers = await _admin(client)
    redis = runtime.get().redis
    store = redis.set
    failed: list[str] = []

    async def fails_once(name, value, *args, **kwargs):
        if name.startswith("idem:") and '"done"' in value and not failed:
            failed.append(name)
            raise ConnectionError("redis went away")
        return await store(name, value, *args, **kwargs)

    monkeypatch.setattr(redis, "set", fails_once)
    body = {"parent_id": tree.own.id, "name": "未存村", "type": "village"}
    keyed = {**headers, "Idempotency-Key": "durable-0003"}
    first = await client.post("/api/units/", json=body, headers=keyed)
    assert first.status_code == 201 and failed, first.text
    within_the_minute = await client.post("/api/units/", json=body, headers=keyed)
    assert _replayed(within_the_minute, first), within_the_minute.text
    await _forget_answers()  # the pending marker expired
    after_the_minute = await client.post("/api/units/", json=body, headers=keyed)
    assert _replayed(after_the_minute, first), after_the_minute.text
    assert await Unit.filter(name="未存村").count() == 1


async def test_a_keyed_write_that_committed_nothing_runs_again_after_redis_lost_its_answer(client):
    """Only a commit is recorded: a refusal is sent again and answered again. The same keep-alive
    connection then carries a write without a key: it records nothing for the earlier key."""
    from backend.core.idempotency import IdempotentRequest

    tree, headers = await _admin(client)
    bad = {"parent_id": tree.own.id, "name": "", "type": "village"}
    keyed = {**headers, "Idempotency-Key": "durable-0004"}
    refused = await client.post("/api/units/", json=bad, headers=keyed)
    assert refused.status_code == 422, refused.text
    plain = await client.post("/api/units/", json={**bad, "name": "无键村"}, headers=headers)
    assert plain.status_code == 201, plain.text
    assert not await IdempotentRequest.exists()
    await _forget_answers()
    again = await client.post("/api/units/", json=bad, headers=keyed)
    assert again.status_code == 422 and again.json()["error"]["code"] != "request_done"


async def test_a_replay_from_redis_never_reads_the_table_and_the_record_is_kept_once(client, monkeypatch):
    from backend.core.idempotency import IdempotentRequest

    tree, headers = await _admin(client)
    body = {"parent_id": tree.own.id, "name": "快路村", "type": "village"}
    keyed = {**headers, "Idempotency-Key": "durable-0005"}
    assert (await client.post("/api/units/", json=body, headers=keyed)).status_code == 201
    (row,) = await IdempotentRequest.all()
    assert (row.request_key, row.created_at) == ("durable-0005", runtime.get().clock.now())
    assert row.answer and "快路村" not in row.answer and "5b+r6Lev" not in row.answer  # encrypted

    async def no_reads(*args, **kwargs):
        raise AssertionError("the table was read for an answer Redis holds")

    monkeypatch.setattr(idempotency, "_committed", no_reads)
    replayed = await client.post("/api/units/", json=body, headers=keyed)
    assert replayed.status_code == 201 and replayed.headers.get("idempotent-replayed") == "true"


async def test_a_request_with_two_transactions_is_recorded_once(client):
    """The record goes in with the first commit; a second transaction of the same request adds none."""
    from backend.core.idempotency import IdempotentRequest

    commits = db.watch_commits()
    db.before_each_commit(idempotency._recorder("a:1", "durable-0006", "f" * 64, commits))
    try:
        for _ in range(2):
            async with db.atomic():
                async with db.atomic():  # nested: only the outermost block records
                    pass
        with pytest.raises(RuntimeError):
            async with db.atomic():
                raise RuntimeError("rolled back")
    finally:
        db.before_each_commit(None)
    assert [(r.scope, r.request_key) for r in await IdempotentRequest.all()] == [("a:1", "durable-0006")]
    async with db.atomic():  # a second recorder of the key (a task of the request): no conflict
        await idempotency._recorder("a:1", "durable-0006", "f" * 64, [])()
    assert await IdempotentRequest.all().count() == 1


async def test_a_rolled_back_transaction_leaves_no_record(client):
    from backend.core.idempotency import IdempotentRequest

    db.before_each_commit(idempotency._recorder("a:1", "durable-0007", "f" * 64, db.watch_commits()))
    try:
        with pytest.raises(RuntimeError):
            async with db.atomic():
                raise RuntimeError("rolled back")
    finally:
        db.before_each_commit(None)
    assert not await IdempotentRequest.exists()


async def test_records_past_the_retry_window_are_deleted_and_no_longer_answer(client, clock):
    from backend.core.idempotency import IdempotentRequest

    tree, headers = await _admin(client)
    body = {"parent_id": tree.own.id, "name": "过期村", "type": "village"}
    keyed = {**headers, "Idempotency-Key": "durable-0008"}
    assert (await client.post("/api/units/", json=body, headers=keyed)).status_code == 201
    clock.advance(60)
    assert (
        await client.post(
            "/api/units/", json={**body, "name": "新近村"}, headers={**headers, "Idempotency-Key": "durable-0009"}
        )
    ).status_code == 201
    clock.advance(idempotency.TTL_SECONDS - 30)  # the first is past its window, the second is not
    await ended_sessions_prune({})
    assert [r.request_key for r in await IdempotentRequest.all()] == ["durable-0009"]

    # A record past its window that the job has not deleted yet answers nothing either.
    await IdempotentRequest.create(
        scope=(await IdempotentRequest.get()).scope,
        request_key="durable-0008",
        fingerprint="0" * 64,
        created_at=clock.now() - timedelta(seconds=idempotency.TTL_SECONDS + 1),
    )
    await _forget_answers()
    headers = await login(client, "county_admin")  # the session outlived by the clock
    another = {**body, "name": "再建村"}  # a record in its window would refuse it as a reused key
    again = await client.post("/api/units/", json=another, headers={**headers, "Idempotency-Key": "durable-0008"})
    assert again.status_code == 201 and again.headers.get("idempotent-replayed") is None, again.text


async def test_an_anonymous_submission_is_recorded_by_its_path(client):
    from backend.core.idempotency import IdempotentRequest
    from backend.registration.models import UnitRegistration
    from tests.test_registration import payload, send_code, sms_code

    tree = await make_tree()
    ticket = await send_code(client)
    body = payload(ticket, await sms_code(client), tree.own.id)
    keyed = {"Idempotency-Key": "durable-anon-1"}
    first = await client.post("/api/registration", json=body, headers=keyed)
    assert first.status_code == 201, first.text
    assert [(r.scope, r.request_key) for r in await IdempotentRequest.all()] == [
        ("p:/api/registration", "durable-anon-1")
    ]
    await _forget_answers()
    again = await client.post("/api/registration", json=body, headers=keyed)
    assert _replayed(again, first), again.text
    assert await UnitRegistration.all().count() == 1


# Defect 6: the body's JSON, not its bytes; one key a request -----------------------------------


async def test_the_same_json_written_otherwise_is_the_same_request(client):
    tree, headers = await _admin(client)
    keyed = {**headers, "Idempotency-Key": "canonical-0001", "Content-Type": "application/json"}
    body = {"parent_id": tree.own.id, "name": "重写村", "type": "village"}
    first = await client.post("/api/units/", content=json.dumps(body, ensure_ascii=False).encode(), headers=keyed)
    assert first.status_code == 201, first.text
    escaped = json.dumps(body, ensure_ascii=True)  # \u91cd\u5199\u6751
    reordered = json.dumps(dict(reversed(body.items())), ensure_ascii=False, indent=2)
    for content in (escaped, reordered):
        resent = await client.post("/api/units/", content=content.encode(), headers=keyed)
        assert resent.status_code == 201 and resent.json() == first.json(), resent.text
        assert resent.headers.get("idempotent-replayed") == "true"
    assert await Unit.filter(name="重写村").count() == 1


async def test_numbers_written_otherwise_and_repeated_members_are_another_request(client):
    """Canonical text keeps what a route may read differently: a number's digits, a repeated member."""
    canonical = idempotency._canonical_json
    assert canonical(b'{"b": 1.0, "a": "\\u6751"}') == '{"a":"村","b":1.0}'.encode()
    assert canonical(b'{"a": 1.0}') != canonical(b'{"a": 1.00}')
    assert canonical(b'{"a": 1, "a": 2}') != canonical(b'{"a": 2}')
    assert canonical(b'{"a": "1"}') != canonical(b'{"a": 1}')
    assert canonical(b"not json") is None


async def test_a_key_claimed_before_canonical_fingerprints_still_matches_its_retry(client):
    """A key stored by the previous release (its fingerprint of the raw bytes) still answers its resend."""
    tree, headers = await _admin(client)
    keyed = {**headers, "Idempotency-Key": "canonical-0002", "Content-Type": "application/json"}
    content = json.dumps({"type": "village", "name": "旧版村", "parent_id": tree.own.id}).encode()
    first = await client.post("/api/units/", content=content, headers=keyed)
    assert first.status_code == 201, first.text
    redis = runtime.get().redis
    (name,) = [key async for key in redis.scan_iter("idem:*")]
    record = json.loads(await redis.get(name))
    digest = __import__("hashlib").sha256(b"POST" + b"/api/units/" + content).hexdigest()
    await redis.set(name, json.dumps({**record, "fp": digest}))
    resent = await client.post("/api/units/", content=content, headers=keyed)
    assert resent.status_code == 201 and resent.headers.get("idempotent-replayed") == "true", resent.text


async def test_a_request_with_two_keys_is_refused(client):
    tree, headers = await _admin(client)
    both = [*headers.items(), ("Idempotency-Key", "two-keys-0001"), ("Idempotency-Key", "two-keys-0002")]
    body = {"parent_id": tree.own.id, "name": "双键村", "type": "village"}
    refused = await client.post("/api/units/", json=body, headers=both)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "idempotency_key_invalid" and error["message"] == idempotency.KEY_REPEATED
    assert not await Unit.filter(name="双键村").exists()


async def test_an_anonymous_submission_whose_answer_was_never_kept_is_answered_by_its_route(client, monkeypatch):
    """A registrant has nothing to refresh: "request_done" told them to look where they cannot. The
    route's own resend check answers with the registration that was stored."""
    from backend.registration.models import UnitRegistration
    from tests.test_registration import payload, send_code, sms_code

    async def crashed(*args, **kwargs):
        return None

    monkeypatch.setattr(idempotency, "_keep_answer", crashed)
    tree = await make_tree()
    body = payload(await send_code(client), await sms_code(client), tree.own.id)
    keyed = {"Idempotency-Key": "durable-anon-2"}
    first = await client.post("/api/registration", json=body, headers=keyed)
    assert first.status_code == 201, first.text
    await _forget_answers()
    again = await client.post("/api/registration", json=body, headers=keyed)
    assert again.status_code == 201 and again.json() == first.json(), again.text
    assert await UnitRegistration.all().count() == 1


async def test_a_retry_while_the_first_has_committed_but_not_answered_is_in_progress(client, monkeypatch):
    """The first request committed and is still on its way out (its answer not kept yet): a double
    tap was told "done" and never got the new unit's id; it is told to wait, as before."""

    async def not_yet(*args, **kwargs):
        return None

    tree, headers = await _admin(client)
    body = {"parent_id": tree.own.id, "name": "在途村", "type": "village"}
    keyed = {**headers, "Idempotency-Key": "durable-0020"}
    monkeypatch.setattr(idempotency, "_keep_answer", not_yet)
    redis = runtime.get().redis
    store = redis.set

    async def answer_still_on_its_way(name, value, *args, **kwargs):
        if name.startswith("idem:") and '"done"' in value:
            return None  # the first request's answer is not in Redis yet: its marker says pending
        return await store(name, value, *args, **kwargs)

    monkeypatch.setattr(redis, "set", answer_still_on_its_way)
    assert (await client.post("/api/units/", json=body, headers=keyed)).status_code == 201
    retried = await client.post("/api/units/", json=body, headers=keyed)
    assert retried.status_code == 409 and retried.json()["error"]["code"] == "request_in_progress", retried.text
