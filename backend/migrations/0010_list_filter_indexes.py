"""Indexes for the filters of the audit log and account lists, which walked whole tables at scale.

The audit query (backend/audit/queries.py) pages newest first (``ORDER BY id DESC``) within the
scope, optionally by action, outcome or account. Without an index on the filter, PostgreSQL walks
the primary key backwards and drops every row that does not match: a rare action, or a county's
failed logins among a province's million entries, read most of the table (150-300 ms for 1M
entries). ``(filter, id)`` lets it walk only the matching entries, newest first; the account filter
(the actor, or the target account) becomes two index reads.

The account list's status filters (locked, deactivated) count through ``account``; with an index
on the column the few matching accounts are found first instead of joining every account in scope.
The index on ``is_active`` is PostgreSQL's only: SQLite keeps no statistics unless analysed and took
it for a selective one, walking every active account for a county's "active" or "locked" list (a
county 245 ms instead of 17 at the large scale, in bench/rest.py); PostgreSQL's planner knows better.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = (
    ("idx_audit_action", "audit_entry", ("action", "id")),
    ("idx_audit_outcome", "audit_entry", ("outcome", "id")),
    ("idx_audit_actor_account", "audit_entry", ("actor_account_id", "id")),
    ("idx_audit_target", "audit_entry", ("target_type", "target_id", "id")),
    ("idx_account_locked_until", "account", ("locked_until",)),
    ("idx_account_is_active", "account", ("is_active",)),
)
POSTGRES_ONLY = frozenset({"idx_account_is_active"})


async def create_indexes(apps, schema_editor) -> None:
    postgres = schema_editor.client.capabilities.dialect == "postgres"
    for name, table, columns in INDEXES:
        if name in POSTGRES_ONLY and not postgres:
            continue
        column_list = ", ".join(f'"{column}"' for column in columns)
        await schema_editor.client.execute_script(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({column_list})')


async def drop_indexes(apps, schema_editor) -> None:
    for name, _, _ in INDEXES:
        await schema_editor.client.execute_script(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0009_name_changes")]

    operations = [ops.RunPython(create_indexes, drop_indexes)]
