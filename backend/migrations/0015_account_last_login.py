"""Each account keeps the time of its last successful login (``account.last_login_at``).

The chat's "谁还没登录过" / "谁一个月没登录" lists and the person card's 上次登录 looked it up in the
audit log for every account in scope (a province: about 100,000 lookups, 720 ms on SQLite's large
seed, holding the one connection), and would have called everybody "never logged in" had old audit
entries ever been pruned. A login now sets it in the transaction that audits it
(backend.auth.actions.start_session); this fills it from the audit entries written before.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


async def fill_last_logins(apps, schema_editor) -> None:
    await schema_editor.client.execute_script(
        'UPDATE "account" SET "last_login_at" = (SELECT MAX(e."at") FROM "audit_entry" e '
        "WHERE e.\"actor_account_id\" = \"account\".\"id\" AND e.\"action\" = 'auth.login' "
        "AND e.\"outcome\" = 'success')"
    )


async def noop(apps, schema_editor) -> None:
    """Backwards the column goes (the audit entries it was filled from stay)."""


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0014_unit_delete_keeps_decided_requests")]

    operations = [
        ops.AddField(model_name="Account", name="last_login_at", field=fields.DatetimeField(null=True)),
        ops.RunPython(fill_last_logins, noop),
    ]
