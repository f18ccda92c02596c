"""Reading the audit log within scope, newest first."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from backend.accounts.queries import ROOT_SCOPE
from backend.core import db
from backend.core.actor import Actor
from backend.core.audit import AuditEntry
from backend.core.clock import CHINA_TIME
from backend.core.roles import Role
from backend.core.scope import path_prefix

# A province (depth 0) or a city (1): scopes wide enough that the log, or an action's or an outcome's
# entries, walked newest first, hold a page of theirs after a short walk (see entries_query).
WIDE_SCOPE_DEPTH = 1


def entries_query(
    actor: Actor,
    *,
    action: str | None = None,
    account_id: int | None = None,
    outcome: str | None = None,
    within: str | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
) -> QuerySet[AuditEntry]:
    """Entries in scope with the filters; each filter has an ``(column, id)`` index (migration 0010).
    ``within``: the path of a unit in scope, whose entries only; ``since``: entries at or after;
    ``before``: entries before."""
    if actor.unit_depth <= WIDE_SCOPE_DEPTH and db.db().capabilities.dialect == "sqlite":
        # SQLite, once analysed, knows a filter's rows per value (outcome: half the log) but not how
        # much of the log a path range holds: it took a province's range for the smaller set and
        # sorted it all by id (a province's failures: 2 ms -> 2 s at 1M entries; a city's: 15 ->
        # 300 ms; a province's first page: 94 ms). A province's or a city's scope holds a large
        # share of the log: walked newest first (through the filter's index, or the table), a page
        # comes after a short walk, so the scope is a LIKE that no index serves. Narrower scopes
        # keep the range, which holds a few of their entries.
        scope = Q(scope_path__startswith=actor.unit_path)
    else:
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
    if within is not None:
        query = query.filter(path_prefix("scope_path", within))
    if since is not None:
        query = query.filter(at__gte=since)
    if before is not None:
        query = query.filter(at__lt=before)
    return query


def china_days(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """``since`` and ``before`` for :func:`entries_query` of the days from ``first`` to ``last``
    (both included, dates in China; either None: open), in UTC as the entries' times are stored:
    SQLite compares them as text. The first and last days there are (0001-01-01, 9999-12-31) leave
    that end open: no time in the log lies beyond them."""
    since = _china_midnight(first) if first is not None else None
    before = _china_midnight(last + timedelta(days=1)) if last is not None and last < date.max else None
    return since, before


def _china_midnight(day: date) -> datetime | None:
    """The start of ``day`` in China, in UTC; None for a day whose start UTC cannot write (0001-01-01)."""
    try:
        return datetime.combine(day, time(), CHINA_TIME).astimezone(UTC)
    except OverflowError:
        return None


async def list_entries(
    query: QuerySet[AuditEntry], *, cursor: int | None = None, limit: int = 50
) -> tuple[list[AuditEntry], int | None]:
    """A page of ``query`` (:func:`entries_query`), newest first; ``cursor`` is the last id seen
    (older come next)."""
    if cursor is not None:
        query = query.filter(id__lt=cursor)
    rows = await query.order_by("-id").limit(limit + 1)
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_cursor
