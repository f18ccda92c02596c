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


class WechatRelease(Model):
    # A WeChat identity whose binding was removed (a deactivation, a password reset, an unbind): its
    # next wx.login is told why, not asked to bind "for the first time". Keyed like the identity, by
    # the appid and a keyed hash of the openid (backend.wechat.releases.openid_key); deleted when the
    # identity is bound again, and after backend.wechat.releases.KEEP_DAYS.
    id = fields.IntField(primary_key=True)
    appid = fields.CharField(max_length=32)
    openid_key = fields.CharField(max_length=64)
    account: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "cunwu.Account", related_name="wechat_releases", on_delete=fields.CASCADE
    )
    reason = fields.CharField(max_length=16)
    released_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "wechat_release"
        unique_together = (("appid", "openid_key"),)
