"""Agents of a unit (R6): add by phone, list, unbind with confirmation (thin: parse, call, serialise)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic_ext.extensions.openapi import openapi

from backend.agents import actions, queries
from backend.agents.schemas import (
    AgentAdd,
    AgentAdded,
    AgentConfirm,
    AgentConsentAsked,
    AgentListQuery,
    AgentPage,
    UnbindConfirm,
    UnbindPreview,
)
from backend.agents.serializers import agent_out, consent_asked, unbind_preview
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
@openapi.response(202, {"application/json": AgentConsentAsked})
@authenticated("accounts.manage")
@body(AgentAdd)
async def add_agent(request: Request, actor: Actor, unit_id: int, data: AgentAdd):
    """Add an agent by phone and name. A new phone: 201, a new account whose temporary password goes
    out by SMS. A registered phone whose name is the one typed (else 409 ``agent_name_mismatch``,
    naming nobody): 202, a code to its bound phone, bound by ``/agents/confirm`` with the code its
    owner gives; a superior of the admin (403 ``agent_superior``) is asked nothing."""
    added = await actions.add_agent(
        actor, unit_id, phone=data.phone, name=data.name, id_number=data.id_number, role=Role(data.role)
    )
    if isinstance(added, actions.ConsentAsked):
        return ok(consent_asked(added), status=202)
    return ok(AgentAdded(**agent_out(added.membership).model_dump(), new_account=added.new_account), status=201)


@bp.post("/<unit_id:id>/agents/confirm")
@openapi.response(201, {"application/json": AgentAdded})
@authenticated("accounts.manage")
@body(AgentConfirm)
async def confirm_add(request: Request, actor: Actor, unit_id: int, data: AgentConfirm):
    """Step two for a registered account: the ticket of the add (same session) and the code sent to
    the person's phone; everything is checked again before the account joins the unit."""
    added = await actions.confirm_add(actor, unit_id, ticket=data.ticket, code=data.code)
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
