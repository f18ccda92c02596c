"""Idempotent writes: a retried POST/PUT/PATCH/DELETE with the same ``Idempotency-Key`` happens once.

The first request with a key claims it in Redis (SET NX); its answer is stored for 24 hours and
replayed to any retry with the same key, method, path, body and ``If-Match`` (header
``Idempotent-Replayed``), with the headers of the first answer a client acts on (``ETag``,
``Location``). A retry while the first is still running gets 409 ``request_in_progress``; the same
key with a different body or precondition gets 422 ``idempotency_key_reused``.

A failed request that changed nothing (no transaction committed: backend.core.db.watch_commits) is
not stored, so the client's retry really runs again: server errors, and refusals that may pass
later (a session to renew, a throttle, a conflict). One that did commit and then failed (a read
after the commit, the phone gone mid-answer, a response timeout) stores 409 ``request_done``
instead: its retry must not run the write again (a second temporary password by SMS).

Keys are per account (read from the session in the same Redis call as the claim), so a retry sent
after logging in again still finds its answer. Without a session only the submissions whose answers
carry nothing secret are keyed (a manual review, a unit registration: a resend after a lost answer
would make a second request, or fail on its spent captcha or SMS code), per path; logins and
recovery steps are not, and answers that carry credentials (a new token, a revealed value) are never
stored. Stored answers are encrypted with the data key.

That a keyed write committed is also recorded in the database, in its own transaction
(:class:`IdempotentRequest`, by a before-commit hook of backend.core.db.atomic): a retry whose record
Redis lost (restarted from an older snapshot, a store that failed after the commit, a crash between
the two) finds it there, not run again: the answer is kept there too once sent (encrypted as in
Redis) and replayed, or ``request_done`` when it was not (a crash before). Only a request that
claims a key anew reads the table; a replay from Redis and a write without a key never do.

A JSON body is compared as canonical JSON (:func:`_canonical_json`): a resend that escapes its
Chinese or orders its members otherwise is the same request. A request may carry one key.

A streamed route (the review upload) has not read its body when the middleware runs: it claims the
key itself once it has (:func:`claim_streamed`), with what the form says for the body.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from operator import itemgetter
from typing import Any

from sanic import HTTPResponse, Request
from tortoise import fields
from tortoise.models import Model

from backend.core import compression, db, messages, runtime, sessions
from backend.core.errors import AppError
from backend.core.http import ok

log = logging.getLogger(__name__)

HEADER = "idempotency-key"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TTL_SECONDS = 24 * 60 * 60
PENDING_TTL_SECONDS = 60
MAX_STORED_BODY = 64 * 1024
_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{8,64}$")
# Answers holding credentials or revealed personal data: never kept for replay.
_NEVER_STORED = re.compile(r"^/api/(?:session/refresh|account/password|accounts/\d+/reveal|reviews/\d+)(?:/|$)")

# Written without a session, answered with nothing secret: keyed per path (see the docstring).
_ANONYMOUS = re.compile(r"^/api/(?:reviews|registration)/?$")
# Refusals that changed nothing and may pass on a retry: never replayed.
_TRANSIENT = frozenset({401, 403, 408, 409, 429})
# Headers of an answer that a client acts on, replayed with it: the version to send back as
# If-Match, where a created thing lives. Not the ones the response middleware sets on the replay
# itself (security headers, compression), nothing per request (a cookie, a request id, the date);
# Retry-After comes only with refusals that are never stored (429, 503).
_REPLAYED_HEADERS = ("ETag", "Location")
# Preconditions of a write: the same body with another one is another request (it may be refused).
_PRECONDITIONS = ("if-match",)
# The claim, in one round trip: the session's account (none: not keyed, the guard refuses it), then
# SET NX of the account's key; the key and, when it was taken already, what it holds.
_CLAIM = """
local account = redis.call('hget', KEYS[1], 'account_id')
if not account then return false end
local key = 'idem:a:' .. account .. ':' .. ARGV[1]
if redis.call('set', key, ARGV[2], 'NX', 'EX', ARGV[3]) then return {key, ''} end
return {key, redis.call('get', key) or ''}
"""
_CLAIM_ANONYMOUS = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return {KEYS[1], ''} end
return {KEYS[1], redis.call('get', KEYS[1]) or ''}
"""

KEY_INVALID = "请求标识格式不正确"
KEY_REPEATED = "一个请求只能带一个请求标识"
IN_PROGRESS = "同一操作正在处理中，请稍候"
KEY_REUSED = "请求标识已用于另一项操作"


class IdempotentRequest(Model):
    """A keyed write that committed, recorded in its own transaction, kept for the retry window."""

    # Deleted after TTL_SECONDS (jobs.sessions), when Redis forgets the answer too.

    id = fields.IntField(primary_key=True)
    scope = fields.CharField(max_length=32)  # "a:<account id>"; without a session "p:<path>"
    request_key = fields.CharField(max_length=64)  # the Idempotency-Key
    fingerprint = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(db_index=True)
    answer = fields.TextField(null=True)  # the record Redis holds (:func:`_record`), once sent

    class Meta:
        table = "idempotent_request"
        unique_together = (("scope", "request_key"),)


class _Number(str):
    """A JSON number as written: 1.0 and 1.00 may be different amounts to a route."""


class _Object(list):
    """A JSON object's members as sent, a repeated one included (a route refuses it)."""


def _dump(value: Any) -> str:
    if isinstance(value, _Number):
        return value
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, _Object):
        members = sorted(value, key=itemgetter(0))  # stable: repeats keep their order
        return "{" + ",".join(f"{json.dumps(name, ensure_ascii=False)}:{_dump(item)}" for name, item in members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(map(_dump, value)) + "]"
    return json.dumps(value)  # true, false, null


def _canonical_json(body: bytes) -> bytes | None:
    """``body`` as canonical JSON (members sorted by name, text unescaped, no spaces, numbers and
    repeated members as sent); None when it is no JSON (or nests too deep to read)."""
    try:
        parsed = json.loads(
            body, object_pairs_hook=_Object, parse_float=_Number, parse_int=_Number, parse_constant=_Number
        )
        return _dump(parsed).encode()
    except (ValueError, RecursionError):  # UnicodeError is a ValueError: a lone surrogate too
        return None


def _is_json(request: Request) -> bool:
    return (request.headers.get("content-type") or "").partition(";")[0].strip().lower() == "application/json"


def _fingerprint(request: Request, content: bytes | None = None, *, canonical: bool = True) -> str:
    """The request's method, path and body (``content``: what a streamed route read, see
    :func:`claim_streamed`; a JSON body as canonical JSON, or as sent when not ``canonical``: the
    previous release's fingerprint) and preconditions."""
    if content is None:
        content = request.body or b""
        if canonical and content and _is_json(request):
            content = _canonical_json(content) or content
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    digest.update(content)
    fingerprint = digest.hexdigest()
    # Mixed in only when sent: a request without one keeps the fingerprint it had before (keys
    # claimed by the previous release still match their retries).
    conditions = [f"{name}: {value}" for name in _PRECONDITIONS for value in request.headers.getall(name, [])]
    if conditions:
        text = "\n".join([fingerprint, *conditions])
        fingerprint = hashlib.sha256(text.encode(errors="surrogateescape")).hexdigest()
    return fingerprint


async def before(request: Request) -> HTTPResponse | None:
    """Request middleware: replay a finished request, refuse a running or mismatched one."""
    db.before_each_commit(None)  # one request's record is never written by the next on its connection
    key = request.headers.get(HEADER)
    if key is None or request.method not in WRITE_METHODS:  # most requests: nothing to hash
        return None
    if len(request.headers.getall(HEADER)) > 1:
        return ok(AppError("idempotency_key_invalid", KEY_REPEATED).body(), status=400)
    token = sessions.bearer_token(request.headers.get("authorization", ""))
    anonymous = not token and _ANONYMOUS.match(request.path)
    if not (token or anonymous) or _NEVER_STORED.match(request.path):
        return None
    if not _KEY.match(key):
        return ok(AppError("idempotency_key_invalid", KEY_INVALID).body(), status=400)
    if request.route is not None and getattr(request.route.extra, "stream", False):
        request.ctx.idempotency_streamed = (key, token, bool(anonymous))  # its body is not read yet
        return None
    response = await _claim(request, key, token, bool(anonymous), None)
    if response is not None and response.headers.get("Idempotent-Replayed"):
        await compression.compress(request, response)  # a response from request middleware skips the others
    return response


async def claim_streamed(request: Request, content: bytes) -> HTTPResponse | None:
    """For a streamed route, whose body is not read when :func:`before` runs: once the route has read
    and parsed it, claim the key with ``content`` for the body (what the form says, not how it was
    framed: a resend picks another multipart boundary). As :func:`before`: the stored answer to
    replay, a refusal to answer, or None to go on."""
    streamed = getattr(request.ctx, "idempotency_streamed", None)
    if streamed is None:
        return None
    key, token, anonymous = streamed
    return await _claim(request, key, token, anonymous, content)


async def _claim(
    request: Request, key: str, token: str | None, anonymous: bool, content: bytes | None
) -> HTTPResponse | None:
    """Claim ``key`` for this request, or answer it: the stored answer, or 422 / 409."""
    fingerprint = _fingerprint(request, content)
    pending = json.dumps({"state": "pending", "fp": fingerprint})
    redis = runtime.get().redis
    if anonymous:
        path = request.path.rstrip("/")
        path_key = hashlib.sha256(f"{path}\n{key}".encode()).hexdigest()
        claim = await redis.eval(_CLAIM_ANONYMOUS, 1, f"idem:p:{path_key}", pending, PENDING_TTL_SECONDS)
    else:
        claim = await redis.eval(_CLAIM, 1, sessions.key_of_token(token), key, pending, PENDING_TTL_SECONDS)
    if not claim:
        return None  # no live session: the guard answers
    redis_key, raw = claim
    scope = f"p:{path}" if anonymous else redis_key.removeprefix("idem:").removesuffix(f":{key}")
    if not raw:
        committed = await _committed(scope, key)
        # A new request (or one that committed nothing) runs; so does an anonymous submission whose
        # answer was never kept: its route knows it by what it stored (a registrant has nothing to
        # refresh, as request_done would tell them).
        if committed is None or (anonymous and not committed.answer):
            commits = db.watch_commits()
            db.before_each_commit(_recorder(scope, key, fingerprint, commits))
            request.ctx.idempotency = (redis_key, fingerprint, commits, scope, key)
            return None
        raw = await _restore(redis_key, committed)  # Redis lost its answer: from now on in Redis again
    stored = json.loads(raw)
    if stored["fp"] != fingerprint and stored["fp"] != _fingerprint(request, content, canonical=False):
        return ok(AppError("idempotency_key_reused", KEY_REUSED, status=422).body(), status=422)
    if stored["state"] == "pending":
        committed = await _committed(scope, key)
        if committed is None or not committed.answer:  # still running, or committed and on its way out
            return ok(AppError("request_in_progress", IN_PROGRESS, status=409).body(), status=409)
        stored = json.loads(_answer_of(committed))  # committed, its answer not in Redis (or not yet)
    vault = runtime.get().vault
    body = base64.b64decode(vault.decrypt("idempotency.body", stored["body"]))
    headers = json.loads(vault.decrypt("idempotency.headers", stored["headers"])) if "headers" in stored else {}
    response = HTTPResponse(body=body, status=stored["status"], headers=headers, content_type=stored["content_type"])
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _request_done() -> HTTPResponse:
    return ok(AppError("request_done", messages.REQUEST_DONE, status=409).body(), status=409)


def _record(fingerprint: str, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> str:
    """A finished request's answer as Redis keeps it, encrypted."""
    vault = runtime.get().vault
    record = {
        "state": "done",
        "fp": fingerprint,
        "status": status,
        "content_type": content_type or "application/json",
        "body": vault.encrypt("idempotency.body", base64.b64encode(body).decode()),
    }
    if headers:  # an answer stored without (most, and those of the previous release) replays none
        record["headers"] = vault.encrypt("idempotency.headers", json.dumps(headers))
    return json.dumps(record)


async def _committed(scope: str, key: str) -> IdempotentRequest | None:
    """The record of the key's committed write, if it is within its retry window (one past it, that
    the job has not deleted yet, is deleted now: the key is new again, as in Redis)."""
    committed = await IdempotentRequest.get_or_none(scope=scope, request_key=key)
    if committed is not None and committed.created_at < runtime.get().clock.now() - timedelta(seconds=TTL_SECONDS):
        await IdempotentRequest.filter(id=committed.id).delete()
        return None
    return committed


def _answer_of(committed: IdempotentRequest) -> str:
    """The committed write's answer as kept, or ``request_done`` when it was not (a crash before)."""
    if committed.answer:
        return committed.answer
    done = _request_done()
    return _record(committed.fingerprint, done.status, done.body or b"", "application/json", {})


async def _restore(redis_key: str, committed: IdempotentRequest) -> str:
    """Put the committed write's answer back in Redis for the rest of its window; the record put."""
    raw = _answer_of(committed)
    remaining = committed.created_at + timedelta(seconds=TTL_SECONDS) - runtime.get().clock.now()
    await runtime.get().redis.set(redis_key, raw, ex=max(1, int(remaining.total_seconds())))
    return raw


async def _keep_answer(scope: str, key: str, raw: str) -> None:
    """Keep the answer beside the record of the committed write; a failure leaves ``request_done``."""
    try:
        await IdempotentRequest.filter(scope=scope, request_key=key).update(answer=raw)
    except Exception:
        log.exception("keeping the answer of a keyed write in the database failed")


def _recorder(scope: str, key: str, fingerprint: str, commits: list[None]) -> Callable[[], Awaitable[None]]:
    """The before-commit hook of a keyed request: record its key in the transaction. Once a
    transaction of the request has committed, the record is in; of two at once, one inserts it."""

    async def record() -> None:
        if commits:
            return
        row = IdempotentRequest(
            scope=scope, request_key=key, fingerprint=fingerprint, created_at=runtime.get().clock.now()
        )
        await IdempotentRequest.bulk_create([row], ignore_conflicts=True)

    return record


async def forget_done() -> int:
    """Delete the records of keyed writes past their retry window (jobs.sessions); how many."""
    cutoff = runtime.get().clock.now() - timedelta(seconds=TTL_SECONDS)
    return await IdempotentRequest.filter(created_at__lt=cutoff).delete()


async def after(request: Request, response: HTTPResponse) -> None:
    """Response middleware: keep the answer for retries; a failure that changed nothing is dropped
    (the retry runs again), one that changed something is kept as ``request_done``."""
    claim = getattr(request.ctx, "idempotency", None)
    if claim is None:
        return
    redis_key, fingerprint, commits, scope, key = claim
    redis = runtime.get().redis
    status, body, content_type = response.status, response.body or b"", response.content_type
    headers = {name: response.headers[name] for name in _REPLAYED_HEADERS if name in response.headers}
    failed = status >= 500 or status in _TRANSIENT or len(body) > MAX_STORED_BODY
    if failed and not commits:
        await redis.delete(redis_key)
        return
    if failed:  # it did change something: never run it again
        done = _request_done()
        status, body, content_type, headers = done.status, done.body or b"", "application/json", {}
    raw = _record(fingerprint, status, body, content_type, headers)
    if commits:  # its record is in the database: the answer goes beside it, for a Redis that loses it
        await _keep_answer(scope, key, raw)
    await redis.set(redis_key, raw, ex=TTL_SECONDS)
