"""Reading the agents of a unit, always through the actor's scope (a unit outside it does not exist)."""

from __future__ import annotations

from dataclasses import dataclass

from backend.accounts.models import Membership
from backend.core.actor import Actor
from backend.core.errors import NotFound
from backend.units.queries import get_unit


@dataclass(frozen=True)
class AgentPage:
    items: list[Membership]  # with .account and .unit loaded
    total: int
    next_cursor: int | None


async def list_agents(actor: Actor, unit_id: int, *, cursor: int | None = None, limit: int = 50) -> AgentPage:
    """Everyone who works for the unit (one row per membership), paged by membership id."""
    unit = await get_unit(actor, unit_id)
    query = Membership.filter(unit_id=unit.id)
    total = await query.count()
    if cursor is not None:
        query = query.filter(id__gt=cursor)
    rows = await query.order_by("id").limit(limit + 1).select_related("account", "unit")
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return AgentPage(items=rows[:limit], total=total, next_cursor=next_cursor)


async def get_agent(actor: Actor, unit_id: int, account_id: int) -> Membership:
    """The membership of one account in one unit of the actor's scope, with .account and .unit loaded."""
    unit = await get_unit(actor, unit_id)
    membership = await Membership.get_or_none(unit_id=unit.id, account_id=account_id).select_related("account", "unit")
    if membership is None:
        raise NotFound()
    return membership
