"""Idempotent writes: a retried POST/PUT/PATCH/DELETE with the same ``Idempotency-Key`` happens once.

The first request with a key claims it in Redis (SET NX); its answer is stored for 24 hours and
replayed to any retry with the same key, method, path and body (header ``Idempotent-Replayed``).
A retry while the first is still running gets 409 ``request_in_progress``; the same key with a
different body gets 422 ``idempotency_key_reused``. Server errors (5xx) are not stored, so the
client's retry really runs again. Keys are per session: requests without a session (login,
recovery) are not keyed, and answers that carry credentials (a new token, a revealed value) are
never stored. Stored answers are encrypted with the data key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re

from sanic import HTTPResponse, Request

from backend.core import compression, runtime
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

KEY_INVALID = "请求标识格式不正确"
IN_PROGRESS = "同一操作正在处理中，请稍候"
KEY_REUSED = "请求标识已用于另一项操作"


def _owner(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return "s:" + hashlib.sha256(auth.encode()).hexdigest()[:32] if auth else None


def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    digest.update(request.body or b"")
    return digest.hexdigest()


async def before(request: Request) -> HTTPResponse | None:
    """Request middleware: replay a finished request, refuse a running or mismatched one."""
    key = request.headers.get(HEADER)
    if key is None or request.method not in WRITE_METHODS:  # most requests: nothing to hash
        return None
    owner = _owner(request)
    if owner is None or _NEVER_STORED.match(request.path):
        return None
    if not _KEY.match(key):
        return ok(AppError("idempotency_key_invalid", KEY_INVALID).body(), status=400)
    redis_key = f"idem:{owner}:{key}"
    fingerprint = _fingerprint(request)
    redis = runtime.get().redis
    claimed = await redis.set(
        redis_key, json.dumps({"state": "pending", "fp": fingerprint}), nx=True, ex=PENDING_TTL_SECONDS
    )
    if claimed:
        request.ctx.idempotency = (redis_key, fingerprint)
        return None
    raw = await redis.get(redis_key)
    stored = json.loads(raw) if raw else {"state": "pending", "fp": fingerprint}
    if stored["fp"] != fingerprint:
        return ok(AppError("idempotency_key_reused", KEY_REUSED, status=422).body(), status=422)
    if stored["state"] == "pending":
        return ok(AppError("request_in_progress", IN_PROGRESS, status=409).body(), status=409)
    body = base64.b64decode(runtime.get().vault.decrypt("idempotency.body", stored["body"]))
    response = HTTPResponse(body=body, status=stored["status"], content_type=stored["content_type"])
    response.headers["Idempotent-Replayed"] = "true"
    await compression.compress(request, response)  # a response from request middleware skips the others
    return response


async def after(request: Request, response: HTTPResponse) -> None:
    """Response middleware: keep the answer for retries (not server errors: those may run again)."""
    claim = getattr(request.ctx, "idempotency", None)
    if claim is None:
        return
    redis_key, fingerprint = claim
    redis = runtime.get().redis
    body = response.body or b""
    if response.status >= 500 or len(body) > MAX_STORED_BODY:
        await redis.delete(redis_key)
        return
    record = {
        "state": "done",
        "fp": fingerprint,
        "status": response.status,
        "content_type": response.content_type or "application/json",
        "body": runtime.get().vault.encrypt("idempotency.body", base64.b64encode(body).decode()),
    }
    await redis.set(redis_key, json.dumps(record), ex=TTL_SECONDS)
