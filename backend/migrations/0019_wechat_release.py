"""A WeChat whose binding was removed is told why (``wechat_release``, backend.wechat.releases).

A deactivation, a password reset (by an admin or by SMS) and an unbind delete the account's
``wechat_identity``; the WeChat's next wx.login then read "首次使用微信登录" to a cadre who had used it
for months, and the "account deactivated" answer could never be given. Each removal now leaves a row
keyed like the identity (the appid and a keyed hash of the openid) with the reason and the time; it
goes when that WeChat is bound again, and after KEEP_DAYS. Bindings removed before have none.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0018_coop_money_not_entered")]

    initial = False

    operations = [
        ops.CreateModel(
            name="WechatRelease",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("appid", fields.CharField(max_length=32)),
                ("openid_key", fields.CharField(max_length=64)),
                (
                    "account",
                    fields.ForeignKeyField(
                        "cunwu.Account",
                        source_field="account_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="wechat_releases",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("reason", fields.CharField(max_length=16)),
                ("released_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "wechat_release",
                "app": "cunwu",
                "unique_together": (("appid", "openid_key"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
