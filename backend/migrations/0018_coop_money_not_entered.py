"""A co-op card's money figures may be "not entered" (NULL) instead of a zero no one typed.

A clerk without finance access writes a card without its money (the actions refuse it from them);
the card then held 0 for every figure, which readers with access saw as "0.00 万元", which pulled
every average above it down and put the co-op first in "资产0.3亿以下". Now the columns are
nullable and a figure no one has entered is NULL: "未填报" on the card, left out of the averages
and the lists and rankings by that figure. The roll-up rows count, per figure, the cards that have
it (``*_entered``), which the averages are over. Cards written before keep their zeros (which of
them were typed is not known); their roll-ups count them as entered.

SQLite rebuilds ``coop_card`` for each altered column and the unique index on ``unit_id`` (0007)
goes with the old table: it is made again below. PostgreSQL only drops ``NOT NULL``.
Backwards, NULL figures become 0 again first.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

MONEY = ("registered_capital", "assets", "revenue", "profit")


def _postgres(schema_editor) -> bool:
    return schema_editor.client.capabilities.dialect == "postgres"


async def after_alter(apps, schema_editor) -> None:
    """Forwards: SQLite's unique index back; every existing card's figures count as entered."""
    client = schema_editor.client
    if not _postgres(schema_editor):
        await client.execute_script(
            'CREATE UNIQUE INDEX IF NOT EXISTS "uniq_coop_card_unit" ON "coop_card" ("unit_id")'
        )
    counts = ", ".join(f'"{name}_entered" = "coops"' for name in MONEY)
    await client.execute_script(f'UPDATE "coop_rollup" SET {counts}')


async def zeros_back(apps, schema_editor) -> None:
    """Backwards, before the columns are required again: a figure not entered becomes 0."""
    for name in MONEY:
        await schema_editor.client.execute_script(f'UPDATE "coop_card" SET "{name}_fen" = 0 WHERE "{name}_fen" IS NULL')


async def index_back(apps, schema_editor) -> None:
    """Backwards, once SQLite rebuilt the table again: its unique index back."""
    if not _postgres(schema_editor):
        await schema_editor.client.execute_script(
            'CREATE UNIQUE INDEX IF NOT EXISTS "uniq_coop_card_unit" ON "coop_card" ("unit_id")'
        )


async def noop(apps, schema_editor) -> None:
    """Nothing to do in this direction."""


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0017_card_issued_at")]

    operations = [
        ops.RunPython(noop, index_back),
        *(
            ops.AlterField(model_name="CoopCard", name=f"{name}_fen", field=fields.BigIntField(null=True))
            for name in MONEY
        ),
        *(
            ops.AddField(model_name="CoopRollup", name=f"{name}_entered", field=fields.IntField(default=0, db_default=0))
            for name in MONEY
        ),
        ops.RunPython(after_alter, zeros_back),
    ]
