"""The SMS outbox's due index: the sweep (every 10 s) finds the messages due by status and time.

``sms_message`` keeps every message ever queued, and the models' ``db_index`` on ``next_attempt_at``
never reached the database (the field was added by 0003, whose AddField creates no index), so each
sweep read the whole outbox (about 5 ms at 400,000 rows on SQLite, growing without end). The due
condition is ``status IN (pending, sending) AND next_attempt_at <= now OR status = pending AND
next_attempt_at IS NULL``: ``(status, next_attempt_at)`` serves both halves. SQLite also lacks the
phone index 0001 declared (the development inbox's lookup); PostgreSQL has it.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = (
    ("idx_sms_due", "sms_message", ("status", "next_attempt_at")),
    ("idx_sms_message_phone", "sms_message", ("phone_index",)),
)
SQLITE_ONLY = frozenset({"idx_sms_message_phone"})


async def create_indexes(apps, schema_editor) -> None:
    postgres = schema_editor.client.capabilities.dialect == "postgres"
    for name, table, columns in INDEXES:
        if name in SQLITE_ONLY and postgres:
            continue
        column_list = ", ".join(f'"{column}"' for column in columns)
        await schema_editor.client.execute_script(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({column_list})')


async def drop_indexes(apps, schema_editor) -> None:
    for name, _, _ in INDEXES:
        await schema_editor.client.execute_script(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0010_list_filter_indexes")]

    operations = [ops.RunPython(create_indexes, drop_indexes)]
