"""PostgreSQL only: indexes that serve ``path LIKE '<prefix>%'`` scope queries.

With a non-C collation a plain B-tree index cannot serve LIKE prefixes; ``text_pattern_ops`` can.
SQLite (the embedded default) keeps the plain indexes from 0001.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = (
    ("idx_unit_path_prefix", "unit", "path"),
    ("idx_audit_scope_prefix", "audit_entry", "scope_path"),
)


async def create_prefix_indexes(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect != "postgres":
        return
    for name, table, column in INDEXES:
        await schema_editor.client.execute_script(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}" text_pattern_ops)'
        )


async def drop_prefix_indexes(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect != "postgres":
        return
    for name, _, _ in INDEXES:
        await schema_editor.client.execute_script(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0001_initial")]

    operations = [ops.RunPython(create_prefix_indexes, drop_prefix_indexes)]
