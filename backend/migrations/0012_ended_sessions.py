"""Sessions ended one by one, recorded in the database (backend.core.sessions.EndedSession).

A logout, a session ended from the list, the old token of a refresh, the sessions of a unit taken
away or of a WeChat unbound were only deleted from Redis: a Redis restarted from a snapshot taken
before that brought the session back. Each such end is now recorded here by the token's hash, and
the guard refuses a session recorded; a row is deleted (jobs.sessions) once the session is past its
absolute lifetime (``forget_after``, indexed for that sweep).
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0011_sms_due_index")]

    initial = False

    operations = [
        ops.CreateModel(
            name="EndedSession",
            fields=[
                ("key_hash", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ("account_id", fields.IntField()),
                ("ended_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("forget_after", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "ended_session",
                "app": "cunwu",
                "pk_attr": "key_hash",
                "table_description": (
                    "A session ended on its own, by the hash of its token, until it would have expired anyway."
                ),
            },
            bases=["Model"],
        ),
    ]
