from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from backend.accounts.models import IdType, RealnameLevel
from backend.core.sms import SmsStatus
from backend.registration.models import RegistrationStatus
from backend.reviews.models import ReviewKind, ReviewStatus
from backend.units.models import UnitType
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('cunwu', '0002_prefix_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ReviewRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='PASSWORD: password\nUSERNAME: username\nUNIT: unit', enum_type=ReviewKind, max_length=16)),
                ('status', fields.CharEnumField(default=ReviewStatus.PENDING, db_index=True, description='PENDING: pending\nAPPROVED: approved\nREJECTED: rejected', enum_type=ReviewStatus, max_length=16)),
                ('unit', fields.ForeignKeyField('cunwu.Unit', source_field='unit_id', db_constraint=True, to_field='id', related_name='reviews', on_delete=OnDelete.RESTRICT)),
                ('account', fields.ForeignKeyField('cunwu.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='reviews', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=50)),
                ('id_number_enc', fields.TextField(unique=False)),
                ('id_number_index', fields.CharField(max_length=64)),
                ('phone_enc', fields.TextField(unique=False)),
                ('phone_index', fields.CharField(max_length=64)),
                ('statement', fields.CharField(default='', max_length=500)),
                ('images', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decided_by_id', fields.IntField(null=True)),
                ('decision_reason', fields.CharField(null=True, max_length=200)),
            ],
            options={'table': 'review_request', 'app': 'cunwu', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UnitRegistration',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('status', fields.CharEnumField(default=RegistrationStatus.PENDING, db_index=True, description='PENDING: pending\nAPPROVED: approved\nREJECTED: rejected', enum_type=RegistrationStatus, max_length=16)),
                ('parent', fields.ForeignKeyField('cunwu.Unit', source_field='parent_id', db_constraint=True, to_field='id', related_name='registrations', on_delete=OnDelete.RESTRICT)),
                ('unit_name', fields.CharField(max_length=100)),
                ('unit_type', fields.CharEnumField(description='PROVINCE: province\nCITY: city\nCOUNTY: county\nTOWNSHIP: township\nVILLAGE: village\nCOOP: coop\nSCHOOL: school\nEMPLOYER: employer\nWORK_TEAM: work_team\nOTHER: other', enum_type=UnitType, max_length=16)),
                ('credit_code', fields.CharField(db_index=True, max_length=18)),
                ('org_code', fields.CharField(max_length=9)),
                ('region_code', fields.CharField(null=True, max_length=12)),
                ('legal_rep_name', fields.CharField(max_length=50)),
                ('legal_rep_id_enc', fields.TextField(unique=False)),
                ('legal_rep_id_index', fields.CharField(max_length=64)),
                ('admin_username', fields.CharField(max_length=32)),
                ('admin_name', fields.CharField(max_length=50)),
                ('admin_phone_enc', fields.TextField(unique=False)),
                ('admin_phone_index', fields.CharField(max_length=64)),
                ('admin_id_number_enc', fields.TextField(null=True, unique=False)),
                ('admin_id_number_index', fields.CharField(null=True, max_length=64)),
                ('admin_password_hash', fields.CharField(max_length=160)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decided_by_id', fields.IntField(null=True)),
                ('decision_reason', fields.CharField(null=True, max_length=200)),
                ('created_unit_id', fields.IntField(null=True)),
            ],
            options={'table': 'unit_registration', 'app': 'cunwu', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Account',
            name='email',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='Account',
            name='id_type',
            field=fields.CharEnumField(default=IdType.RESIDENT_ID, description='RESIDENT_ID: resident_id\nPASSPORT: passport\nHK_MACAO_PERMIT: hk_macao_permit\nTAIWAN_PERMIT: taiwan_permit\nFOREIGN_PERMANENT: foreign_permanent', db_default='resident_id', enum_type=IdType, max_length=24),
        ),
        ops.AddField(
            model_name='Account',
            name='id_valid_until',
            field=fields.CharField(null=True, max_length=8),
        ),
        ops.AddField(
            model_name='Account',
            name='needs_sms_check',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Account',
            name='realname_level',
            field=fields.CharEnumField(default=RealnameLevel.NONE, description='NONE: none\nMEDIUM: medium\nHIGH: high', db_default='none', enum_type=RealnameLevel, max_length=8),
        ),
        ops.AlterField(
            model_name='SmsMessage',
            name='status',
            field=fields.CharEnumField(default=SmsStatus.PENDING, description='PENDING: pending\nSENDING: sending\nSENT: sent\nFAILED: failed', enum_type=SmsStatus, max_length=16),
        ),
        ops.AddField(
            model_name='SmsMessage',
            name='last_error',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='SmsMessage',
            name='lease_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='SmsMessage',
            name='needs_status_check',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='SmsMessage',
            name='next_attempt_at',
            field=fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='SmsMessage',
            name='provider_serial',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Unit',
            name='legal_rep_id_enc',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Unit',
            name='legal_rep_id_index',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Unit',
            name='legal_rep_name',
            field=fields.CharField(null=True, max_length=50),
        ),
        ops.AddField(
            model_name='Unit',
            name='org_code',
            field=fields.CharField(null=True, db_index=True, max_length=9),
        ),
    ]
