"""Office PCs of the card service (C2), cards bound to accounts (C6), accounts awaiting activation (C5)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.cards.models import CardKind
from backend.devices.models import DeviceStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

async def create_indexes(apps, schema_editor) -> None:
    # Device lists filter by unit; a one-to-one account column is unique on both databases already.
    await schema_editor.client.execute_script('CREATE INDEX IF NOT EXISTS "idx_device_unit" ON "device" ("unit_id")')


async def drop_indexes(apps, schema_editor) -> None:
    await schema_editor.client.execute_script('DROP INDEX IF EXISTS "idx_device_unit"')


class Migration(migrations.Migration):
    dependencies = [('cunwu', '0007_coop_unique_units')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CardBinding',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.OneToOneField('cunwu.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='card_binding', on_delete=OnDelete.CASCADE)),
                ('issuer', fields.CharField(max_length=64)),
                ('card_number', fields.CharField(max_length=20)),
                ('kind', fields.CharEnumField(description='LEGAL_REP: legal_rep\nOPERATOR: operator', enum_type=CardKind, max_length=12)),
                ('holder_id_index', fields.CharField(max_length=64)),
                ('certificate_sha256', fields.CharField(max_length=64)),
                ('bound_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'card_binding', 'app': 'cunwu', 'unique_together': (('issuer', 'card_number'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Device',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('device_id', fields.CharField(unique=True, max_length=43)),
                ('public_key', fields.CharField(max_length=64)),
                ('name', fields.CharField(max_length=50)),
                ('hostname', fields.CharField(default='', db_default='', max_length=64)),
                ('unit', fields.ForeignKeyField('cunwu.Unit', source_field='unit_id', db_constraint=True, to_field='id', related_name='devices', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharEnumField(default=DeviceStatus.ACTIVE, description='ACTIVE: active\nREVOKED: revoked', enum_type=DeviceStatus, max_length=8)),
                ('enrolled_by', fields.ForeignKeyField('cunwu.Account', source_field='enrolled_by_id', null=True, db_constraint=True, to_field='id', related_name='enrolled_devices', on_delete=OnDelete.SET_NULL)),
                ('enrolled_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'device', 'app': 'cunwu', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Account',
            name='needs_activation',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.RunPython(create_indexes, drop_indexes),
    ]
