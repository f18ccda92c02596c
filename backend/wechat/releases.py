"""Why a WeChat is no longer bound: its next wx.login says so, not "首次使用微信登录".

A deactivation, every password reset (by an admin, by SMS, by an approved manual review), a hand-over
of the account to another person, the owner's password change made elsewhere and an unbind (by the
owner or an admin) delete the account's WeChat identity, each through :func:`release`, which
keeps one row per identity released (:class:`~backend.wechat.models.WechatRelease`): the appid, a
keyed hash of the openid (enough to find it again, nothing to read back), the account, the reason and
the time. The row goes when that WeChat is bound again (:func:`forget`), and after KEEP_DAYS (rows past
it are ignored, and deleted at the next release or look-up).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from backend.accounts.models import Account
from backend.core import runtime
from backend.wechat import messages as msg
from backend.wechat.models import WechatIdentity, WechatRelease

KEEP_DAYS = 90  # a cadre who uses the mini-program once a quarter is still told


class Reason(StrEnum):
    DEACTIVATED = "deactivated"
    ADMIN_RESET = "admin_reset"  # an admin's reset: a temporary password by SMS
    SELF_RESET = "self_reset"  # the owner's reset by an SMS code and the ID number
    UNBOUND = "unbound"  # by the owner, in "我的"
    ADMIN_UNBOUND = "admin_unbound"
    REVIEW_RESET = "review_reset"  # a manual review approved: a temporary password by SMS
    HANDED_OVER = "handed_over"  # the account given to another person (a review, a unit's recovery)
    PASSWORD_CHANGED = "password_changed"  # the owner's change, made from elsewhere


MESSAGES = {
    Reason.DEACTIVATED: msg.ACCOUNT_DEACTIVATED,
    Reason.ADMIN_RESET: msg.RELEASED_BY_ADMIN_RESET,
    Reason.SELF_RESET: msg.RELEASED_BY_SELF_RESET,
    Reason.UNBOUND: msg.RELEASED_BY_UNBIND,
    Reason.ADMIN_UNBOUND: msg.RELEASED_BY_ADMIN_UNBIND,
    Reason.REVIEW_RESET: msg.RELEASED_BY_REVIEW_RESET,
    Reason.HANDED_OVER: msg.RELEASED_BY_HAND_OVER,
    Reason.PASSWORD_CHANGED: msg.RELEASED_BY_PASSWORD_CHANGE,
}


@dataclass(frozen=True)
class Released:
    account_id: int
    reason: Reason
    message: str


def openid_key(appid: str, openid: str) -> str:
    """The openid as this table keeps it: an HMAC under the index key (openids are case-sensitive,
    so not the vault's index, which reads values in upper case)."""
    key = runtime.get().settings.index_key
    return hmac.new(key, f"wechat-release:{appid}:{openid}".encode(), hashlib.sha256).hexdigest()


def _oldest_kept() -> datetime:
    return runtime.get().clock.now() - timedelta(days=KEEP_DAYS)


async def release(
    account_id: int, reason: Reason, *, appid: str | None = None, except_identity_id: int | None = None
) -> int:
    """Release the account's WeChat identities (of ``appid`` only, if given; all but
    ``except_identity_id``) and remember why, inside the caller's transaction; how many were
    released. The one way a binding is removed for the account's sake (a binding moved to another
    account is no release). Locks the account's row first (a bind locks it too), so no identity is
    bound between the reading and the delete."""
    await Account.filter(id=account_id).select_for_update(no_key=True).first()
    now = runtime.get().clock.now()
    # What an earlier release told is stale now (reset, then deactivated: "log in with the temporary
    # password" would mislead): the account's latest reason is what its released WeChats are told.
    await WechatRelease.filter(account_id=account_id, released_at__gte=_oldest_kept()).update(
        reason=reason, released_at=now
    )
    bound = WechatIdentity.filter(account_id=account_id)
    if except_identity_id is not None:
        bound = bound.exclude(id=except_identity_id)
    if appid is not None:
        bound = bound.filter(appid=appid)
    identities = await bound.values_list("appid", "openid")
    if not identities:
        return 0
    await WechatRelease.filter(released_at__lt=_oldest_kept()).delete()
    for identity_appid, openid in identities:
        key = openid_key(identity_appid, openid)
        await WechatRelease.filter(appid=identity_appid, openid_key=key).delete()
        await WechatRelease.create(
            appid=identity_appid, openid_key=key, account_id=account_id, reason=reason, released_at=now
        )
    return await bound.delete()


async def why_released(appid: str, openid: str) -> Released | None:
    """Why this WeChat is no longer bound, if it was bound within KEEP_DAYS."""
    key = openid_key(appid, openid)
    row = await WechatRelease.get_or_none(appid=appid, openid_key=key)
    if row is None:
        return None
    if row.released_at < _oldest_kept():
        await WechatRelease.filter(id=row.id).delete()
        return None
    reason = Reason(row.reason)
    return Released(account_id=row.account_id, reason=reason, message=MESSAGES[reason])


async def latest_for(account_id: int) -> tuple[Reason, datetime] | None:
    """Why and when a WeChat of the account was last released, if within KEEP_DAYS and not bound
    again since (a bind forgets it); for an account with no WeChat bound now."""
    row = (
        await WechatRelease.filter(account_id=account_id, released_at__gte=_oldest_kept())
        .order_by("-released_at")
        .first()
    )
    return None if row is None else (Reason(row.reason), row.released_at)


async def forget(appid: str, openid: str) -> None:
    """The WeChat is bound again: nothing to tell any more (inside the binding's transaction)."""
    await WechatRelease.filter(appid=appid, openid_key=openid_key(appid, openid)).delete()
