"""The one filter that decides scope: a materialised path prefix, written so an index serves it.

PostgreSQL serves ``LIKE 'prefix%'`` from the ``text_pattern_ops`` index (migration 0002). SQLite
cannot use an index for LIKE here, but paths hold only digits and ``/``, which sort bytewise, so
the same set is the range ``prefix <= path < prefix-with-its-last-'/'-raised``, which an index serves.
"""

from __future__ import annotations

from tortoise.expressions import Q

from backend.core import db
from backend.core.actor import Actor

_NEXT_AFTER_SLASH = chr(ord("/") + 1)


def path_prefix(field: str, prefix: str) -> Q:
    """Rows whose ``field`` (a materialised path, e.g. ``unit__path``) starts with ``prefix``."""
    if db.db().capabilities.dialect == "postgres":
        return Q(**{f"{field}__startswith": prefix})
    upper = prefix[:-1] + _NEXT_AFTER_SLASH  # "/1/5/" -> "/1/50": every "/1/5/..." sorts between
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": upper})


def scope_like(column: str, actor: Actor) -> tuple[str, str]:
    """``column`` (a unit path) inside the actor's scope, as a filter of rows found by id.

    The same set as :func:`backend.core.scope.path_prefix`; written as a LIKE on both databases
    since the rows come by primary key, not by a walk of the path index.
    """
    return f"{column} LIKE ? ESCAPE '\\'", _like_pattern(actor.unit_path)


def _like_pattern(prefix: str) -> str:
    """A LIKE pattern (ESCAPE '\\') for the values that start with ``prefix``."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def path_prefix_sql(column: str, prefix: str) -> tuple[str, list[str]]:
    """:func:`path_prefix` for written SQL: the condition on ``column`` and its values."""
    if db.db().capabilities.dialect == "postgres":
        return f"{column} LIKE ? ESCAPE '\\'", [_like_pattern(prefix)]
    return f"{column} >= ? AND {column} < ?", [prefix, prefix[:-1] + _NEXT_AFTER_SLASH]
