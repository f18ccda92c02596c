"""WeChat login (W1): one-tap login, binding after one password or SMS login, unbinding, the phone button.

- ``login``: the wx.login code goes to jscode2session on the server. A WeChat identity bound to an
  active account gets a session exactly like a password login (must-change, the SMS check and the
  unit choice come with the account); any other gets a bind ticket (10 minutes, single use) that
  keeps the openid on the server; one still bound to a deactivated account is told so too, and one
  whose binding a deactivation, a password reset or an unbind removed is told why
  (backend.wechat.releases), not asked to bind "for the first time".
- Binding: the password login (``POST /api/auth/login``) or the SMS login here, carrying the bind
  ticket. One identity per account and per app, one account per identity: anything else is 409.
  Every binding is told to the account's phone by SMS ("如非本人操作").
  An identity still bound to a deactivated account passes to the account that proves itself now.
- The SMS login exists only for binding (it needs a bind ticket) and only for accounts with phone
  login on (one phone, one account); an unknown phone gets the same answers and no message. Its
  code went to the account's bound phone, so it also passes the first-login SMS check (P4). A locked
  account (wrong passwords) is refused once its code is right: the lock holds for binding too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError

from backend.accounts.models import Account
from backend.accounts.queries import account_scope
from backend.auth import actions as auth_actions
from backend.auth import messages as auth_msg
from backend.core import audit, db, identifiers, runtime, sessions, sms, sms_codes, throttle, tickets
from backend.core.actor import Origin
from backend.core.clock import minutes_until
from backend.core.errors import AppError, Conflict, NotFound, TooManyRequests, Unauthorized
from backend.profile.actions import first_login_checked
from backend.wechat import client, releases
from backend.wechat import messages as msg
from backend.wechat.client import WechatError, WechatPhone
from backend.wechat.models import WechatIdentity

BIND_TICKET = "wechat.bind"
BIND_TTL_SECONDS = 10 * 60
SMS_PURPOSE = "wechat_login"
PHONE_IP_LIMIT = 20  # phone-number codes per client address per 10 minutes
PHONE_IP_WINDOW_SECONDS = 10 * 60
NOT_SUBSCRIBED = 43101


class _CredentialsChanged(Exception):
    """The account's sessions were revoked (or it was deactivated) after its login was checked."""


@dataclass(frozen=True)
class WechatLoginOutcome:
    """Either a session (the identity is bound) or a bind ticket (it is not)."""

    session: auth_actions.LoginResult | None = None
    bind_ticket: str | None = None
    bind_expires_in: int = BIND_TTL_SECONDS
    message: str = msg.BIND_REQUIRED  # what the mini-program shows with the bind ticket


async def _record(
    action: str,
    account_id: int | None,
    origin: Origin,
    *,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> None:
    async with db.atomic():
        await audit.record(
            action,
            origin=origin,
            account_id=account_id,
            scope_path=await account_scope(account_id),
            target_type="account" if account_id else None,
            target_id=account_id,
            outcome=outcome,
            detail=detail,
        )


# --- one-tap login ------------------------------------------------------------------------------


async def login(code: str, *, origin: Origin) -> WechatLoginOutcome:
    """Exchange a wx.login code: a session for a bound identity, a bind ticket otherwise."""
    settings = runtime.get().settings
    refused = await throttle.attempt(
        "wechat-login-ip",
        origin.ip or "-",
        limit=settings.login_ip_limit,
        window_seconds=settings.login_ip_window_seconds,
    )
    if refused is not None:
        raise auth_actions.too_many(refused, auth_msg.LOGIN_THROTTLED_FOR, "login_throttled")
    wechat = client.current()
    try:
        who = await wechat.code2session(code)  # the session_key stays inside the client and is dropped there
    except WechatError as exc:  # a bad, used or expired code, or WeChat failing: a failed login (P10)
        detail = {"method": "wechat", "reason": exc.code, "errcode": exc.errcode}
        await _record("auth.login", None, origin, outcome="failure", detail=detail)
        raise
    started = runtime.get().clock.timestamp()  # before the binding is read (auth_actions.start_session)
    identity = await WechatIdentity.get_or_none(appid=wechat.appid, openid=who.openid).select_related("account")
    if identity is not None and identity.account.is_active:
        session = await auth_actions.start_session(
            identity.account, origin=origin, started_at=started, method="wechat", wechat_identity_id=identity.id
        )
        if await WechatIdentity.filter(id=identity.id).exists():
            return WechatLoginOutcome(session=session)
        # Unbound while the session started: unbind() ended the others, and would miss this one.
        await sessions.end(session.session)
    message = msg.BIND_REQUIRED
    if identity is not None and not identity.account.is_active:  # its owner is told, not asked to "bind first"
        detail = {"method": "wechat", "reason": "deactivated"}
        await _record("auth.login", identity.account.id, origin, outcome="failure", detail=detail)
        message = msg.ACCOUNT_DEACTIVATED
    elif identity is None and (released := await releases.why_released(wechat.appid, who.openid)) is not None:
        # Unbound by a deactivation, a reset or an unbind: told why, not "首次使用" (backend.wechat.releases).
        if released.reason == releases.Reason.DEACTIVATED:
            detail = {"method": "wechat", "reason": "deactivated"}
            await _record("auth.login", released.account_id, origin, outcome="failure", detail=detail)
        message = released.message
    ticket = await tickets.issue(
        BIND_TICKET,
        {"appid": wechat.appid, "openid": who.openid, "unionid": who.unionid},
        ttl_seconds=BIND_TTL_SECONDS,
    )
    return WechatLoginOutcome(bind_ticket=ticket, message=message)


# --- binding ------------------------------------------------------------------------------------


async def _ticket_data(ticket: str) -> dict[str, Any]:
    """The bind ticket's data; gone, expired, used or of another mini-program, 410 naming the WeChat
    bind (the cadre at the password form would not know what "从头开始" starts again)."""
    try:
        data = await tickets.peek(ticket, BIND_TICKET)
    except AppError as exc:
        raise AppError(exc.code, msg.BIND_EXPIRED, status=410) from None
    if data.get("appid") != client.current().appid:  # issued for another mini-program
        raise AppError("ticket_invalid", msg.BIND_EXPIRED, status=410)
    return data


async def binder(ticket: str, *, origin: Origin) -> Callable[[Account], Awaitable[int]] | None:
    """For a login that carries a bind ticket: check the ticket now (410 before any password is
    tried) and return the step that binds once the login has succeeded (it gives the identity's id:
    the session is started from that WeChat). None when WeChat login was switched off since the
    ticket was given: the login goes on as a plain password login and binds nothing."""
    try:
        client.current()
    except WechatError:  # wechat_disabled: the cadre is on the password login already
        return None
    await _ticket_data(ticket)
    checked_at = runtime.get().clock.timestamp()  # before the login reads the account and its password

    async def bind_after_login(account: Account) -> int:
        return (await bind(account, ticket=ticket, origin=origin, checked_at=checked_at)).id

    return bind_after_login


async def _unchanged_since(account_id: int, checked_at: float | None) -> Account | None:
    """The account, if still active, its sessions not revoked since ``checked_at`` (a password reset or
    change, a hand-over, a deactivation); None otherwise. Locks its row: each of those updates it
    before it releases the account's WeChat, so it either comes first and is seen here, or waits for
    this binding and releases it too."""
    row = await Account.filter(id=account_id).select_for_update(no_key=True).first()
    if row is None or not row.is_active:
        return None
    revoked = row.sessions_revoked_at
    return row if checked_at is None or revoked is None or revoked.timestamp() <= checked_at else None


async def bind(
    account: Account,
    *,
    ticket: str,
    origin: Origin,
    checked_at: float | None = None,
    refusal: str = auth_msg.LOGIN_FAILED,
) -> WechatIdentity:
    """Bind the WeChat identity of ``ticket`` to ``account``; the ticket is used up only on success.
    The account's phone is told, in the binding's transaction (the SMS outbox): whoever talked its
    owner out of a code, or knew the password, now logs in with one tap.

    ``checked_at``: a time before the login read the credentials it checked; a password reset (or
    anything else that ends the account's sessions) after it refuses the binding, as it voids the
    login's session (``login_failed`` with ``refusal``): whoever knew the old password must not keep
    a WeChat bound.
    """
    data = await _ticket_data(ticket)
    appid, openid = data["appid"], data["openid"]
    own = await WechatIdentity.get_or_none(account_id=account.id, appid=appid)
    if own is not None and own.openid == openid:  # bound already: nothing changes
        await tickets.consume(ticket, BIND_TICKET)
        return own
    if own is not None:
        await _record("wechat.bind", account.id, origin, outcome="failure", detail={"reason": "account_bound"})
        raise Conflict("wechat_account_bound", msg.ACCOUNT_HAS_OTHER_WECHAT)
    holder = await WechatIdentity.get_or_none(appid=appid, openid=openid).select_related("account")
    if holder is not None and holder.account.is_active:
        detail = {"reason": "wechat_bound", "other_account": holder.account.id}
        await _record("wechat.bind", account.id, origin, outcome="failure", detail=detail)
        raise Conflict("wechat_identity_bound", msg.WECHAT_HAS_OTHER_ACCOUNT)
    await tickets.consume(ticket, BIND_TICKET)  # atomic: of two parallel binds only one gets here
    detail = {"appid": appid}
    if holder is not None:
        detail["replaced_inactive_account"] = holder.account.id
    try:
        async with db.atomic():
            row = await _unchanged_since(account.id, checked_at)
            if row is None:
                raise _CredentialsChanged
            if holder is not None:
                await WechatIdentity.filter(id=holder.id).delete()
            identity = await WechatIdentity.create(
                account_id=account.id,
                appid=appid,
                openid=openid,
                unionid=data.get("unionid"),
                created_at=runtime.get().clock.now(),
            )
            await releases.forget(appid, openid)
            if row.phone_enc:
                phone = runtime.get().vault.decrypt("account.phone", row.phone_enc)
                await sms.queue(phone, "wechat_bound", {"username": row.username})
            await audit.record(
                "wechat.bind",
                origin=origin,
                account_id=account.id,
                scope_path=await account_scope(account.id),
                target_type="account",
                target_id=account.id,
                detail=detail,
            )
    except _CredentialsChanged:
        await _record("wechat.bind", account.id, origin, outcome="failure", detail={"reason": "credentials_changed"})
        raise Unauthorized("login_failed", refusal) from None
    except IntegrityError:  # a parallel bind of this account or this identity won
        account_bound = await WechatIdentity.filter(account_id=account.id, appid=appid).exists()
        reason = "account_bound" if account_bound else "wechat_bound"
        await _record("wechat.bind", account.id, origin, outcome="failure", detail={"reason": reason, "race": 1})
        if account_bound:
            raise Conflict("wechat_account_bound", msg.ACCOUNT_HAS_OTHER_WECHAT) from None
        raise Conflict("wechat_identity_bound", msg.WECHAT_HAS_OTHER_ACCOUNT) from None
    return identity


async def binding_of(account: Account) -> WechatIdentity | None:
    return await WechatIdentity.get_or_none(account_id=account.id, appid=client.current().appid)


async def unbind(account: Account, *, origin: Origin, caller_session: str) -> None:
    """Remove one's own WeChat identity (from the profile); the next wx.login asks to bind again.

    The sessions that WeChat started end too, but the caller's (``caller_session``, a key hash): from
    the office PC, a lost phone is logged out at once; on the phone itself, its user stays in.
    """
    appid = client.current().appid
    identity = await WechatIdentity.get_or_none(account_id=account.id, appid=appid)
    if identity is None:
        raise NotFound(msg.NOT_BOUND)
    async with db.atomic():
        if not await releases.release(account.id, releases.Reason.UNBOUND, appid=appid):  # a double tap's twin won
            raise NotFound(msg.NOT_BOUND)
        await audit.record(
            "wechat.unbind",
            origin=origin,
            account_id=account.id,
            scope_path=await account_scope(account.id),
            target_type="account",
            target_id=account.id,
            detail={"appid": appid},
        )
    await sessions.end_matching(
        account.id, lambda r: r.wechat_identity_id == identity.id and r.key_hash != caller_session
    )


# --- SMS login, for binding -----------------------------------------------------------------------


async def _phone_login_account(phone: str) -> Account | None:
    return await Account.get_or_none(login_phone_index=runtime.get().vault.index("phone", phone))


async def sms_login_send_code(
    phone: str, *, bind_ticket: str, captcha_id: str, captcha_answer: str, origin: Origin
) -> sms_codes.SendResult:
    """A code to a phone with phone login on; any other phone gets the same answer and no message.
    Audited, sent or refused (never with the phone or the code)."""
    await _ticket_data(bind_ticket)
    account = await _phone_login_account(phone)
    deliver = account is not None and account.is_active
    account_id = account.id if account else None
    try:
        sent = await sms_codes.send_code(
            phone,
            SMS_PURPOSE,
            origin=origin,
            captcha_id=captcha_id,
            captcha_answer=captcha_answer,
            deliver=deliver,
            conceal_recipient=True,
        )
    except AppError as exc:
        await _record("wechat.sms_send_code", account_id, origin, outcome="failure", detail={"reason": exc.code})
        raise
    if sent.delivered:
        await _record("wechat.sms_send_code", account_id, origin)
    else:  # an unknown phone, or a cap only the outbox knew (sms_codes.send_code's conceal_recipient)
        reason = "sms_limit" if deliver else "unknown_phone"
        await _record("wechat.sms_send_code", account_id, origin, outcome="failure", detail={"reason": reason})
    return sent


async def sms_login(phone: str, code: str, *, bind_ticket: str, origin: Origin) -> auth_actions.LoginResult:
    """Phone + SMS code: binds the ticket's WeChat identity and starts a session."""
    await _ticket_data(bind_ticket)
    started = runtime.get().clock.timestamp()  # before the account is read (auth_actions.start_session)
    account = await _phone_login_account(phone)
    try:
        await sms_codes.check_code(phone, SMS_PURPOSE, code)
    except AppError as exc:
        detail = {"method": "sms", "reason": exc.code}
        await _record("auth.login", account.id if account else None, origin, outcome="failure", detail=detail)
        raise
    if account is None or not account.is_active:  # only if the account changed since the code went out
        raise Unauthorized("login_failed", msg.SMS_LOGIN_FAILED)
    now = runtime.get().clock.now()
    if account.locked_until is not None and account.locked_until > now:
        # The lock guards against password guessing; a code to the phone must not bind a WeChat past
        # it (one tap would then log in for good). Told only now that the phone is proven.
        await _record("auth.login", account.id, origin, outcome="failure", detail={"method": "sms", "reason": "locked"})
        minutes = minutes_until(account.locked_until, now)
        raise AppError("account_locked", msg.ACCOUNT_LOCKED.format(minutes=minutes), status=403)
    identity = await bind(account, ticket=bind_ticket, origin=origin, checked_at=started, refusal=msg.SMS_LOGIN_FAILED)
    if account.needs_sms_check and account.phone_index == runtime.get().vault.index("phone", phone):
        # The code went to the bound phone: it is the first-login SMS check (P4) too, as a recovery code is.
        await first_login_checked(account, origin, method="wechat_sms")
    return await auth_actions.start_session(
        account, origin=origin, started_at=started, method="sms", wechat_identity_id=identity.id
    )


# --- the phone-number button and subscribe messages -------------------------------------------------


async def phone_for_prefill(code: str, *, origin: Origin) -> WechatPhone:
    """The phone number of the WeChat user who tapped the button, to prefill an SMS form (not stored)."""
    if not await throttle.hit(
        "wechat-phone-ip", origin.ip or "-", limit=PHONE_IP_LIMIT, window_seconds=PHONE_IP_WINDOW_SECONDS
    ):
        raise TooManyRequests()
    phone = await client.current().phone_number(code)
    if phone.country_code not in ("86", "") or not identifiers.valid_phone(phone.phone):
        raise AppError("phone_not_supported", msg.PHONE_NOT_MAINLAND, status=422)
    return phone


async def send_subscribe_message(
    account_id: int, template_id: str, data: Mapping[str, str], *, page: str | None = None
) -> bool:
    """A subscribe message to the WeChat bound to ``account_id`` (``data``: keyword -> value).

    False when the account has no WeChat identity (or is deactivated) or its user has not accepted a message of this
    template (43101); other failures raise :class:`~backend.wechat.client.WechatError`.
    """
    wechat = client.current()
    identity = await WechatIdentity.get_or_none(account_id=account_id, appid=wechat.appid, account__is_active=True)
    if identity is None:  # none, or one left on a deactivated account
        return False
    try:
        await wechat.send_subscribe_message(identity.openid, template_id, data, page=page)
    except WechatError as exc:
        if exc.errcode == NOT_SUBSCRIBED:
            return False
        raise
    return True
