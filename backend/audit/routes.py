"""The audit log, for admins, within their scope."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic_ext.extensions.openapi import openapi

from backend.audit import messages as msg
from backend.audit import queries
from backend.audit.schemas import AuditOut, AuditPage, AuditQuery
from backend.auth.guard import authenticated
from backend.core.actor import Actor
from backend.core.errors import ValidationFailed
from backend.core.http import ok
from backend.core.validation import query
from backend.units.queries import get_unit

bp = Blueprint("audit", url_prefix="/api/audit")


@bp.get("/")
@openapi.response(200, {"application/json": AuditPage})
@authenticated("audit.view")
@query(AuditQuery)
async def list_entries(request: Request, actor: Actor, params: AuditQuery):
    """The entries in scope, newest first, by action, account (acting or acted on), outcome, unit
    and days (in China)."""
    if params.from_day is not None and params.to_day is not None and params.from_day > params.to_day:
        raise ValidationFailed({"to_day": msg.DAYS_REVERSED})
    within = (await get_unit(actor, params.unit_id)).path if params.unit_id is not None else None
    since, before = queries.china_days(params.from_day, params.to_day)
    query = queries.entries_query(
        actor,
        action=params.action,
        account_id=params.account_id,
        outcome=params.outcome,
        within=within,
        since=since,
        before=before,
    )
    rows, next_cursor = await queries.list_entries(query, cursor=params.cursor, limit=params.limit)
    items = [
        AuditOut(
            id=r.id,
            at=r.at,
            actor_account_id=r.actor_account_id,
            actor_unit_id=r.actor_unit_id,
            action=r.action,
            outcome=r.outcome,
            target_type=r.target_type,
            target_id=r.target_id,
            ip=r.ip,
            detail=r.detail,
        )
        for r in rows
    ]
    return ok(AuditPage(items=items, next_cursor=next_cursor))
