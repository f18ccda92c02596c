"""Reading the audit log within scope, newest first."""

from __future__ import annotations

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from backend.accounts.queries import ROOT_SCOPE
from backend.core.actor import Actor
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from backend.core.scope import path_prefix


def entries_query(
    actor: Actor, *, action: str | None = None, account_id: int | None = None, outcome: str | None = None
) -> QuerySet[AuditEntry]:
    """Entries in scope with the filters; each filter has an ``(column, id)`` index (migration 0010)."""
    scope = path_prefix("scope_path", actor.unit_path)
    if actor.role == Role.SYSADMIN and actor.unit_depth == 0:
        # entries of no unit (a failed login under an unknown name): a root unit's sysadmin sees them
        scope |= Q(scope_path=ROOT_SCOPE)
    query = AuditEntry.filter(scope)
    if action:
        query = query.filter(action=action)
    if account_id is not None:
        query = query.filter(Q(actor_account_id=account_id) | Q(target_type="account", target_id=str(account_id)))
    if outcome:
        query = query.filter(outcome=outcome)
    return query


async def list_entries(
    actor: Actor,
    *,
    action: str | None = None,
    account_id: int | None = None,
    outcome: str | None = None,
    cursor: int | None = None,
    limit: int = 50,
) -> tuple[list[AuditEntry], int | None]:
    """Entries whose scope is the actor's unit or below; ``cursor`` is the last id seen (older come next)."""
    query = entries_query(actor, action=action, account_id=account_id, outcome=outcome)
    if cursor is not None:
        query = query.filter(id__lt=cursor)
    rows = await query.order_by("-id").limit(limit + 1)
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_cursor
