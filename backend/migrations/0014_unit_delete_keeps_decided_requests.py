"""A deleted unit leaves its decided registrations and manual reviews behind, their link emptied.

``unit_registration.parent_id`` (the superior a unit asked to join) and ``review_request.unit_id``
(the unit a manual review is about) were ``NOT NULL ... ON DELETE RESTRICT``: one registration or
review ever filed, even one decided long ago (a township once asked to take in a co-op and
refused), kept the unit from being deleted for good. Now only a pending one holds it (the delete
refuses it, naming it: backend.units.actions.delete_unit); a decided one keeps its record and its
link becomes NULL (``ON DELETE SET NULL``).

The ``AlterField`` operations keep the migration state in step with the models. What they do to
the database differs:

* SQLite cannot alter a column's foreign key in place, so it rebuilds each table (a new table,
  the rows copied, the old one dropped) with the new key, and the indexes go with the old table
  (as migration 0003 lost the SMS outbox's phone index, put back by 0011): they are made again
  below, with the names they had.
* PostgreSQL only drops ``NOT NULL``; the key's ``ON DELETE`` is replaced below.

Reversed, the links become required again: that fails while any request's unit has been deleted
(there is no unit to give it back).
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

# (table, column, the foreign key's name on PostgreSQL: the name CREATE TABLE gave it)
KEYS = (
    ("review_request", "unit_id", "review_request_unit_id_fkey"),
    ("unit_registration", "parent_id", "unit_registration_parent_id_fkey"),
)

# The indexes of both tables (0003's CreateModel and 0004), which a rebuild on SQLite drops.
INDEXES = (
    ("idx_review_requ_status_a569f9", "review_request", "status"),
    ("idx_review_unit", "review_request", "unit_id"),
    ("idx_review_account", "review_request", "account_id"),
    ("idx_unit_regist_status_b950a2", "unit_registration", "status"),
    ("idx_unit_regist_credit__5b34a6", "unit_registration", "credit_code"),
    ("idx_registration_parent", "unit_registration", "parent_id"),
)


def _postgres(schema_editor) -> bool:
    return schema_editor.client.capabilities.dialect == "postgres"


async def _restore_sqlite_indexes(schema_editor) -> None:
    for name, table, column in INDEXES:
        await schema_editor.client.execute_script(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")')


async def _replace_keys(schema_editor, on_delete: str) -> None:
    for table, column, name in KEYS:
        await schema_editor.client.execute_script(
            f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{name}"; '
            f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" FOREIGN KEY ("{column}") '
            f'REFERENCES "unit" ("id") ON DELETE {on_delete}'
        )


async def after_rebuild(apps, schema_editor) -> None:
    """Forwards, once the fields are altered: PostgreSQL's keys set NULL; SQLite's indexes back."""
    if _postgres(schema_editor):
        await _replace_keys(schema_editor, "SET NULL")
    else:
        await _restore_sqlite_indexes(schema_editor)


async def before_rebuild_back(apps, schema_editor) -> None:
    """Backwards, before the fields are altered back: PostgreSQL's keys restrict again."""
    if _postgres(schema_editor):
        await _replace_keys(schema_editor, "RESTRICT")


async def noop(apps, schema_editor) -> None:
    """Forwards there is nothing to do before the fields are altered."""


async def after_rebuild_back(apps, schema_editor) -> None:
    """Backwards, once the fields are altered back: SQLite rebuilt the tables again."""
    if not _postgres(schema_editor):
        await _restore_sqlite_indexes(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0013_org_codes")]

    initial = False

    operations = [
        ops.RunPython(noop, after_rebuild_back),
        ops.AlterField(
            model_name="ReviewRequest",
            name="unit",
            field=fields.ForeignKeyField(
                "cunwu.Unit",
                source_field="unit_id",
                null=True,
                db_constraint=True,
                to_field="id",
                related_name="reviews",
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.AlterField(
            model_name="UnitRegistration",
            name="parent",
            field=fields.ForeignKeyField(
                "cunwu.Unit",
                source_field="parent_id",
                null=True,
                db_constraint=True,
                to_field="id",
                related_name="registrations",
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.RunPython(after_rebuild, before_rebuild_back),
    ]
