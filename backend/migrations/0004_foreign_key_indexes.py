"""Indexes on the foreign keys that scope queries join and filter on (neither database adds them)."""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = (
    ("idx_membership_unit", "membership", "unit_id"),
    ("idx_unit_parent", "unit", "parent_id"),
    ("idx_review_unit", "review_request", "unit_id"),
    ("idx_review_account", "review_request", "account_id"),
    ("idx_registration_parent", "unit_registration", "parent_id"),
)


async def create_indexes(apps, schema_editor) -> None:
    for name, table, column in INDEXES:
        await schema_editor.client.execute_script(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")')


async def drop_indexes(apps, schema_editor) -> None:
    for name, _, _ in INDEXES:
        await schema_editor.client.execute_script(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0003_recovery_fields")]

    operations = [ops.RunPython(create_indexes, drop_indexes)]
