"""A keyed write that committed is recorded in the database (backend.core.idempotency.IdempotentRequest).

The answer to a request sent with an Idempotency-Key was kept only in Redis: a Redis restarted from a
snapshot without it, a store that failed after the commit, or a crash between the commit and the
store made the retry run the write a second time (a second unit). The record is written in the
write's own transaction, the answer (``answer``, encrypted as in Redis) beside it once sent, so a
retry whose answer Redis lost gets that answer, or "already done" when there was none. One
key per account (``a:<id>``) or, without a session, per path (``p:<path>``); a row is deleted
(jobs.sessions) once past the retry window (``created_at``, indexed for that sweep).
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0019_wechat_release")]

    initial = False

    operations = [
        ops.CreateModel(
            name="IdempotentRequest",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("scope", fields.CharField(max_length=32)),
                ("request_key", fields.CharField(max_length=64)),
                ("fingerprint", fields.CharField(max_length=64)),
                ("created_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ("answer", fields.TextField(null=True)),
            ],
            options={
                "table": "idempotent_request",
                "app": "cunwu",
                "unique_together": (("scope", "request_key"),),
                "pk_attr": "id",
                "table_description": (
                    "A keyed write that committed, recorded in its own transaction, kept for the retry window."
                ),
            },
            bases=["Model"],
        ),
    ]
