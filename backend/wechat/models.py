from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class WechatIdentity(Model):
    # A WeChat user (openid of one mini-program) bound to one account: one identity per account and
    # per app, and one account per identity. session_key is never stored here or sent anywhere.
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "cunwu.Account", related_name="wechat_identities", on_delete=fields.CASCADE
    )
    appid = fields.CharField(max_length=32)
    openid = fields.CharField(max_length=64)
    unionid = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "wechat_identity"
        unique_together = (("appid", "openid"), ("account", "appid"))
