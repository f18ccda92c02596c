from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from backend.core.roles import FinanceAccess, Role
from backend.core.sms import SmsStatus
from backend.units.models import UnitType
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Account',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(max_length=32)),
                ('username_key', fields.CharField(unique=True, max_length=32)),
                ('name', fields.CharField(max_length=50)),
                ('phone_enc', fields.TextField(null=True, unique=False)),
                ('phone_index', fields.CharField(null=True, db_index=True, max_length=64)),
                ('login_phone_index', fields.CharField(null=True, unique=True, max_length=64)),
                ('id_number_enc', fields.TextField(null=True, unique=False)),
                ('id_number_index', fields.CharField(null=True, db_index=True, max_length=64)),
                ('password_hash', fields.CharField(null=True, max_length=160)),
                ('must_change_password', fields.BooleanField(default=True)),
                ('is_active', fields.BooleanField(default=True)),
                ('deactivated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('failed_logins', fields.SmallIntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('password_changed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sessions_revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'account', 'app': 'cunwu', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor_account_id', fields.IntField(null=True)),
                ('actor_unit_id', fields.IntField(null=True)),
                ('action', fields.CharField(max_length=48)),
                ('outcome', fields.CharField(max_length=16)),
                ('target_type', fields.CharField(null=True, max_length=24)),
                ('target_id', fields.CharField(null=True, max_length=48)),
                ('scope_path', fields.CharField(db_index=True, max_length=255)),
                ('ip', fields.CharField(null=True, max_length=64)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('prev_hash', fields.CharField(max_length=64)),
                ('hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'audit_entry', 'app': 'cunwu', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditHead',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('last_id', fields.BigIntField(default=0)),
                ('last_hash', fields.CharField(default='0000000000000000000000000000000000000000000000000000000000000000', max_length=64)),
            ],
            options={'table': 'audit_head', 'app': 'cunwu', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SmsMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('phone_enc', fields.TextField(unique=False)),
                ('phone_index', fields.CharField(db_index=True, max_length=64)),
                ('template', fields.CharField(max_length=48)),
                ('params_enc', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=SmsStatus.PENDING, description='PENDING: pending\nSENT: sent\nFAILED: failed', enum_type=SmsStatus, max_length=16)),
                ('attempts', fields.SmallIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sms_message', 'app': 'cunwu', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Unit',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('parent', fields.ForeignKeyField('cunwu.Unit', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=100)),
                ('type', fields.CharEnumField(description='PROVINCE: province\nCITY: city\nCOUNTY: county\nTOWNSHIP: township\nVILLAGE: village\nCOOP: coop\nSCHOOL: school\nEMPLOYER: employer\nWORK_TEAM: work_team\nOTHER: other', enum_type=UnitType, max_length=16)),
                ('region_code', fields.CharField(null=True, db_index=True, max_length=12)),
                ('unit_code', fields.CharField(null=True, unique=True, max_length=32)),
                ('credit_code', fields.CharField(null=True, unique=True, max_length=18)),
                ('path', fields.CharField(db_index=True, max_length=255)),
                ('depth', fields.SmallIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'unit', 'app': 'cunwu', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Membership',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('cunwu.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('unit', fields.ForeignKeyField('cunwu.Unit', source_field='unit_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.RESTRICT)),
                ('role', fields.CharEnumField(description='SYSADMIN: sysadmin\nADMIN: admin\nCLERK: clerk\nVIEWER: viewer', enum_type=Role, max_length=16)),
                ('finance_access', fields.CharEnumField(default=FinanceAccess.NONE, description='NONE: none\nALL: all\nOWN_REGION: own_region', enum_type=FinanceAccess, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'membership', 'app': 'cunwu', 'unique_together': (('account', 'unit'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
