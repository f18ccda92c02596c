"""Indexes on the pinyin name keys that the chat name index (backend/chat/lookup.py) searches.

0005 added ``name_pinyin`` / ``name_initials`` with ``db_index=True``, but ``AddField`` created the
columns without their indexes, so every lookup walked the table. Plain B-tree indexes serve equality,
ranges and ``ORDER BY`` (SQLite reads prefixes as ranges); PostgreSQL also gets ``text_pattern_ops``
indexes for ``LIKE 'prefix%'``, which a plain index cannot serve under a non-C collation (see 0002).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = (
    ("idx_unit_name_pinyin", "unit", "name_pinyin"),
    ("idx_unit_name_initials", "unit", "name_initials"),
    ("idx_account_name_pinyin", "account", "name_pinyin"),
    ("idx_account_name_initials", "account", "name_initials"),
)


async def create_indexes(apps, schema_editor) -> None:
    postgres = schema_editor.client.capabilities.dialect == "postgres"
    for name, table, column in INDEXES:
        await schema_editor.client.execute_script(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")')
        if postgres:
            await schema_editor.client.execute_script(
                f'CREATE INDEX IF NOT EXISTS "{name}_prefix" ON "{table}" ("{column}" text_pattern_ops)'
            )


async def drop_indexes(apps, schema_editor) -> None:
    for name, _, _ in INDEXES:
        await schema_editor.client.execute_script(f'DROP INDEX IF EXISTS "{name}"')
        await schema_editor.client.execute_script(f'DROP INDEX IF EXISTS "{name}_prefix"')


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0005_chat_coops_wechat")]

    operations = [ops.RunPython(create_indexes, drop_indexes)]
