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

A streamed route (the review upload) has not read its body when the middleware runs: it claims the
key itself once it has (:func:`claim_streamed`), with what the form says for the body.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re

from sanic import HTTPResponse, Request

from backend.core import compression, db, messages, runtime, sessions
from backend.core.errors import AppError
from backend.core.http import ok

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
IN_PROGRESS = "同一操作正在处理中，请稍候"
KEY_REUSED = "请求标识已用于另一项操作"


def _fingerprint(request: Request, content: bytes | None = None) -> str:
    """The request's method, path and body (``content``: what a streamed route read, see
    :func:`claim_streamed`) and preconditions."""
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    digest.update((request.body or b"") if content is None else content)
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
    key = request.headers.get(HEADER)
    if key is None or request.method not in WRITE_METHODS:  # most requests: nothing to hash
        return None
    token = sessions.bearer_token(request.headers.get("authorization", ""))
    anonymous = not token and _ANONYMOUS.match(request.path)
    if not (token or anonymous) or _NEVER_STORED.match(request.path):
        return None
    if not _KEY.match(key):
        return ok(AppError("idempotency_key_invalid", KEY_INVALID).body(), status=400)
    if request.route is not None and getattr(request.route.extra, "stream", False):
        request.ctx.idempotency_streamed = (key, token, bool(anonymous))  # its body is not read yet
        return None
    response = await _claim(request, key, token, bool(anonymous), _fingerprint(request))
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
    return await _claim(request, key, token, anonymous, _fingerprint(request, content))


async def _claim(
    request: Request, key: str, token: str | None, anonymous: bool, fingerprint: str
) -> HTTPResponse | None:
    """Claim ``key`` for this request, or answer it: the stored answer, or 422 / 409."""
    pending = json.dumps({"state": "pending", "fp": fingerprint})
    redis = runtime.get().redis
    if anonymous:
        path_key = hashlib.sha256(f"{request.path.rstrip('/')}\n{key}".encode()).hexdigest()
        claim = await redis.eval(_CLAIM_ANONYMOUS, 1, f"idem:p:{path_key}", pending, PENDING_TTL_SECONDS)
    else:
        claim = await redis.eval(_CLAIM, 1, sessions.key_of_token(token), key, pending, PENDING_TTL_SECONDS)
    if not claim:
        return None  # no live session: the guard answers
    redis_key, raw = claim
    if not raw:
        request.ctx.idempotency = (redis_key, fingerprint, db.watch_commits())
        return None
    stored = json.loads(raw)
    if stored["fp"] != fingerprint:
        return ok(AppError("idempotency_key_reused", KEY_REUSED, status=422).body(), status=422)
    if stored["state"] == "pending":
        return ok(AppError("request_in_progress", IN_PROGRESS, status=409).body(), status=409)
    vault = runtime.get().vault
    body = base64.b64decode(vault.decrypt("idempotency.body", stored["body"]))
    headers = json.loads(vault.decrypt("idempotency.headers", stored["headers"])) if "headers" in stored else {}
    response = HTTPResponse(body=body, status=stored["status"], headers=headers, content_type=stored["content_type"])
    response.headers["Idempotent-Replayed"] = "true"
    return response


async def after(request: Request, response: HTTPResponse) -> None:
    """Response middleware: keep the answer for retries; a failure that changed nothing is dropped
    (the retry runs again), one that changed something is kept as ``request_done``."""
    claim = getattr(request.ctx, "idempotency", None)
    if claim is None:
        return
    redis_key, fingerprint, commits = claim
    redis = runtime.get().redis
    status, body, content_type = response.status, response.body or b"", response.content_type
    headers = {name: response.headers[name] for name in _REPLAYED_HEADERS if name in response.headers}
    failed = status >= 500 or status in _TRANSIENT or len(body) > MAX_STORED_BODY
    if failed and not commits:
        await redis.delete(redis_key)
        return
    if failed:  # it did change something: never run it again
        status, body = 409, ok(AppError("request_done", messages.REQUEST_DONE, status=409).body()).body
        content_type, headers = "application/json", {}
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
    await redis.set(redis_key, json.dumps(record), ex=TTL_SECONDS)
