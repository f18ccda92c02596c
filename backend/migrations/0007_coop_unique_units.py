"""One card and one roll-up row per unit, enforced by the database (0005 left both columns unindexed).

The models declare ``unit`` unique on CoopCard and CoopRollup, but the CreateModel of 0005 produced
neither the unique constraint nor any index on ``unit_id``: nothing stopped a second card for a
co-op, every roll-up read scanned the table, and ``INSERT ... ON CONFLICT (unit_id)`` (how the card
actions create missing roll-up rows) needs a unique index to name. Roll-up rows are derived data:
duplicates, if any, are dropped here and ``python -m backend coops rebuild-rollups`` refills them.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = (
    ("uniq_coop_card_unit", "coop_card"),
    ("uniq_coop_rollup_unit", "coop_rollup"),
)


async def create_indexes(apps, schema_editor) -> None:
    client = schema_editor.client
    await client.execute_script(
        'DELETE FROM "coop_rollup" WHERE "id" NOT IN (SELECT MIN("id") FROM "coop_rollup" GROUP BY "unit_id")'
    )
    for name, table in INDEXES:
        await client.execute_script(f'CREATE UNIQUE INDEX IF NOT EXISTS "{name}" ON "{table}" ("unit_id")')


async def drop_indexes(apps, schema_editor) -> None:
    for name, _ in INDEXES:
        await schema_editor.client.execute_script(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0006_name_key_indexes")]

    operations = [ops.RunPython(create_indexes, drop_indexes)]
