from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

async def fill_pinyin(apps, schema_editor) -> None:
    """Pinyin keys for the names already in the database (new rows get them on save)."""
    from backend.core.names import pinyin_keys

    client = schema_editor.client
    mark = "$1" if client.capabilities.dialect == "postgres" else "?"
    marks = [mark.replace("1", str(n)) if mark != "?" else "?" for n in (1, 2, 3)]
    for table in ("unit", "account"):
        rows = await client.execute_query_dict(f'SELECT id, name FROM "{table}"')
        values = [[*pinyin_keys(row["name"]), row["id"]] for row in rows]
        if values:
            await client.execute_many(
                f'UPDATE "{table}" SET name_pinyin = {marks[0]}, name_initials = {marks[1]} WHERE id = {marks[2]}',
                values,
            )


async def noop(apps, schema_editor) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [('cunwu', '0004_foreign_key_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CoopCard',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('unit', fields.ForeignKeyField('cunwu.Unit', source_field='unit_id', unique=True, db_constraint=True, to_field='id', related_name='coop_cards', on_delete=OnDelete.RESTRICT)),
                ('members', fields.IntField(default=0)),
                ('staff', fields.IntField(default=0)),
                ('registered_capital_fen', fields.BigIntField(default=0)),
                ('assets_fen', fields.BigIntField(default=0)),
                ('revenue_fen', fields.BigIntField(default=0)),
                ('profit_fen', fields.BigIntField(default=0)),
                ('business_scope', fields.CharField(default='', max_length=500)),
                ('contact_name', fields.CharField(null=True, max_length=50)),
                ('contact_phone_enc', fields.TextField(null=True, unique=False)),
                ('contact_phone_index', fields.CharField(null=True, max_length=64)),
                ('address', fields.CharField(null=True, max_length=200)),
                ('latitude', fields.FloatField(null=True)),
                ('longitude', fields.FloatField(null=True)),
                ('founded_year', fields.SmallIntField(null=True)),
                ('report_year', fields.SmallIntField(null=True)),
                ('is_village_level', fields.BooleanField(default=False)),
                ('is_benchmark', fields.BooleanField(default=False)),
                ('in_poverty_county', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'coop_card', 'app': 'cunwu', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CoopRollup',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('unit', fields.ForeignKeyField('cunwu.Unit', source_field='unit_id', unique=True, db_constraint=True, to_field='id', related_name='coop_rollups', on_delete=OnDelete.CASCADE)),
                ('coops', fields.IntField(default=0)),
                ('village_level', fields.IntField(default=0)),
                ('benchmark', fields.IntField(default=0)),
                ('poverty_county', fields.IntField(default=0)),
                ('members', fields.BigIntField(default=0)),
                ('staff', fields.BigIntField(default=0)),
                ('registered_capital_fen', fields.BigIntField(default=0)),
                ('assets_fen', fields.BigIntField(default=0)),
                ('revenue_fen', fields.BigIntField(default=0)),
                ('profit_fen', fields.BigIntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'coop_rollup', 'app': 'cunwu', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WechatIdentity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('cunwu.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='wechat_identities', on_delete=OnDelete.CASCADE)),
                ('appid', fields.CharField(max_length=32)),
                ('openid', fields.CharField(max_length=64)),
                ('unionid', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'wechat_identity', 'app': 'cunwu', 'unique_together': (('appid', 'openid'), ('account', 'appid')), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Account',
            name='name_initials',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=50),
        ),
        ops.AddField(
            model_name='Account',
            name='name_pinyin',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Unit',
            name='name_initials',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=100),
        ),
        ops.AddField(
            model_name='Unit',
            name='name_pinyin',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=400),
        ),
        ops.RunPython(fill_pinyin, noop),
    ]
