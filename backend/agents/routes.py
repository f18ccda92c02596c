"""Agents of a unit (R6): add by phone, list, unbind with confirmation (thin: parse, call, serialise)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic_ext.extensions.openapi import openapi

from backend.agents import actions, queries
from backend.agents.schemas import AgentAdd, AgentAdded, AgentListQuery, AgentPage, UnbindConfirm, UnbindPreview
from backend.agents.serializers import agent_out, unbind_preview
from backend.auth.guard import authenticated
from backend.core.actor import Actor
from backend.core.http import no_content, ok
from backend.core.roles import Role
from backend.core.validation import body, query

bp = Blueprint("agents", url_prefix="/api/units")


@bp.get("/<unit_id:id>/agents")
@openapi.response(200, {"application/json": AgentPage})
@authenticated("accounts.view")
@query(AgentListQuery)
async def list_agents(request: Request, actor: Actor, unit_id: int, params: AgentListQuery):
    """Everyone who works for the unit, phones masked."""
    page = await queries.list_agents(actor, unit_id, cursor=params.cursor, limit=params.limit)
    return ok(AgentPage(items=[agent_out(m) for m in page.items], total=page.total, next_cursor=page.next_cursor))


@bp.post("/<unit_id:id>/agents")
@openapi.response(201, {"application/json": AgentAdded})
@authenticated("accounts.manage")
@body(AgentAdd)
async def add_agent(request: Request, actor: Actor, unit_id: int, data: AgentAdd):
    """Add an agent by phone and name: a registered person joins the unit (notice by SMS) if the name
    is theirs (else 409 ``agent_name_mismatch``, naming nobody); a new phone gets a new account whose
    temporary password goes out by SMS and must be changed at first login."""
    added = await actions.add_agent(
        actor, unit_id, phone=data.phone, name=data.name, id_number=data.id_number, role=Role(data.role)
    )
    return ok(AgentAdded(**agent_out(added.membership).model_dump(), new_account=added.new_account), status=201)


@bp.post("/<unit_id:id>/agents/<account_id:id>/unbind")
@openapi.response(200, {"application/json": UnbindPreview})
@authenticated("accounts.manage")
async def request_unbind(request: Request, actor: Actor, unit_id: int, account_id: int):
    """Step one of unbinding: what will happen, and a ticket (2 minutes, single use) to confirm it."""
    return ok(unbind_preview(await actions.request_unbind(actor, unit_id, account_id)))


@bp.post("/<unit_id:id>/agents/<account_id:id>/unbind/confirm")
@authenticated("accounts.manage")
@body(UnbindConfirm)
async def confirm_unbind(request: Request, actor: Actor, unit_id: int, account_id: int, data: UnbindConfirm):
    """Step two: remove the agent from the unit (the account stays); its sessions for the unit end."""
    await actions.confirm_unbind(actor, unit_id, account_id, ticket=data.ticket)
    return no_content()
