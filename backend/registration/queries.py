"""Reading registrations through the reviewer's scope, and the public search for a superior unit."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from backend.core.actor import Actor
from backend.core.errors import NotFound
from backend.core.scope import path_prefix
from backend.registration.models import RegistrationStatus, UnitRegistration
from backend.units.models import Unit, UnitType

# The units a registrant may name as the superior it asks to join (villages are too many and too
# alike by name; the reviewer can still place the new unit under one when approving).
SUPERIOR_TYPES = (UnitType.PROVINCE, UnitType.CITY, UnitType.COUNTY, UnitType.TOWNSHIP)
SEARCH_LIMIT = 20


def in_scope(actor: Actor) -> QuerySet[UnitRegistration]:
    """Registrations that ask to join a unit in the actor's scope (its own unit or below)."""
    return UnitRegistration.filter(path_prefix("parent__path", actor.unit_path))


async def get_registration(actor: Actor, registration_id: int) -> UnitRegistration:
    """One registration with its requested superior loaded; outside the scope it does not exist."""
    registration = await in_scope(actor).get_or_none(id=registration_id).select_related("parent")
    if registration is None:
        raise NotFound()
    return registration


@dataclass(frozen=True)
class RegistrationPage:
    items: list[UnitRegistration]  # with .parent loaded
    total: int
    next_cursor: int | None


async def list_pending(actor: Actor, *, cursor: int | None = None, limit: int = 50) -> RegistrationPage:
    """Pending registrations in scope, oldest first, paged by id."""
    query = in_scope(actor).filter(status=RegistrationStatus.PENDING)
    total = await query.count()
    if cursor is not None:
        query = query.filter(id__gt=cursor)
    rows = await query.order_by("id").limit(limit + 1).select_related("parent")
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return RegistrationPage(items=rows[:limit], total=total, next_cursor=next_cursor)


async def search_superiors(q: str) -> list[Unit]:
    """Region units from province to township whose name contains ``q`` (or whose region code starts with it)."""
    match = Q(region_code__startswith=q) if q.isdigit() else Q(name__contains=q)
    return await Unit.filter(match, type__in=SUPERIOR_TYPES).order_by("depth", "id").limit(SEARCH_LIMIT)


async def superior_by_id(unit_id: int) -> Unit | None:
    return await Unit.get_or_none(id=unit_id, type__in=SUPERIOR_TYPES)


async def superiors_by_region_code(region_code: str) -> list[Unit]:
    return await Unit.filter(region_code=region_code, type__in=SUPERIOR_TYPES).limit(2)
