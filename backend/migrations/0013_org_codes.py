"""Every unit with a credit code gets the organisation code it holds (characters 9-17).

Recovery by unit (R3) finds a unit by either code, but units created or edited through the API and
the demo seed's co-ops had a credit code and no organisation code: a search by the organisation
code found nothing (and, the answers being alike, nobody could tell). The unit actions and the seed
now set it; this fills the units written before.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


async def fill_org_codes(apps, schema_editor) -> None:
    await schema_editor.client.execute_script(
        'UPDATE "unit" SET "org_code" = SUBSTR("credit_code", 9, 9) '
        'WHERE "credit_code" IS NOT NULL AND "org_code" IS NULL'
    )


async def noop(apps, schema_editor) -> None:
    """Organisation codes filled in stay: they are right for their credit codes."""


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0012_ended_sessions")]

    operations = [ops.RunPython(fill_org_codes, noop)]
