"""Health check, and the development-only hooks (mounted only outside production)."""

from __future__ import annotations

import asyncio

from sanic import Blueprint, Request
from sanic_ext.extensions.openapi import openapi

from backend.core import captcha, db, messages, runtime, sms
from backend.core.errors import NotFound, ValidationFailed
from backend.core.http import ok
from backend.core.identifiers import valid_phone
from backend.core.validation import reads_input

health = Blueprint("health")
dev = Blueprint("dev", url_prefix="/api/dev")

CHECK_TIMEOUT_SECONDS = 2.0


async def _check(probe) -> str:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
    except Exception:
        return "down"
    return "up"


@health.get("/healthz")
async def healthz(request: Request):
    """200 when the database and Redis answer; 503 with an error code naming what is down."""
    database, redis = await asyncio.gather(_check(db.ping), _check(runtime.get().redis.ping))
    checks = {"database": database, "redis": redis}
    if database == "up" and redis == "up":
        return ok({"status": "ok", "checks": checks})
    code = "database_unavailable" if database == "down" else "redis_unavailable"
    message = messages.DATABASE_UNAVAILABLE if database == "down" else messages.REDIS_UNAVAILABLE
    return ok(
        {"status": "degraded", "checks": checks, "error": {"code": code, "message": message, "fields": {}}}, status=503
    )


@dev.get("/sms")
@reads_input(query=True)
@openapi.exclude()
async def sms_inbox(request: Request):
    """Development SMS inbox: what the development channel 'sent' to one phone."""
    phone = request.args.get("phone", "")
    if not valid_phone(phone):
        raise ValidationFailed({"phone": messages.FIELD_BAD_PHONE})
    return ok({"messages": await sms.inbox(phone)})


@dev.get("/captcha/<captcha_id:str>")
@openapi.exclude()
async def captcha_answer(request: Request, captcha_id: str):
    """Test hook: the answer of a captcha, so automated tests and CI can log in."""
    answer = await captcha.peek_answer(captcha_id)
    if answer is None:
        raise NotFound()
    return ok({"answer": answer})
