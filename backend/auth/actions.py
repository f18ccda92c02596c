"""Login, unit choice, password change, session refresh and logout."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import F

from backend.accounts.models import Account, Membership
from backend.accounts.queries import ROOT_SCOPE, account_for_login, memberships_scope
from backend.auth import messages as msg
from backend.chat.context import move_conversations
from backend.core import audit, captcha, db, messages, names, runtime, sessions, throttle
from backend.core.actor import Origin
from backend.core.errors import AppError, Conflict, NotFound, TooManyRequests, Unauthorized, ValidationFailed
from backend.core.passwords import policy_problems
from backend.wechat import releases as wechat_releases

# Tries of one's own password from a live session (a password change, a phone change), per account.
REAUTH_LIMIT = 5
REAUTH_WINDOW_SECONDS = 15 * 60
# A temporary password (P4: creation, an admin's reset, a review, a hand-over) logs in for this long.
TEMPORARY_PASSWORD_HOURS = 72


@dataclass(frozen=True)
class LoginResult:
    token: str
    session: sessions.SessionRecord
    account: Account
    memberships: list[Membership]


async def count_password_try(account_id: int) -> None:
    """Count a try of the account's own password from its session: a stolen session may guess it
    (to take the account over) only REAUTH_LIMIT times per REAUTH_WINDOW_SECONDS."""
    refused = await throttle.attempt(
        "reauth", str(account_id), limit=REAUTH_LIMIT, window_seconds=REAUTH_WINDOW_SECONDS
    )
    if refused is not None:
        raise too_many(refused, msg.PASSWORD_TRIES_USED_UP)


def too_many(refused: throttle.Refused, message: str, code: str = "too_many_requests") -> TooManyRequests:
    """The 429 of a used-up throttle: the wait in the Retry-After header and, in minutes, in ``message``."""
    minutes = max(1, math.ceil(refused.retry_after / 60))
    return TooManyRequests(code, message.format(minutes=minutes), retry_after=refused.retry_after)


async def _find_account(login: str) -> Account | None:
    # Pasted with a space, a line break or a character that shows as nothing: none is ever part of a
    # name or a phone (user names are stored without them: backend.core.validation.Username). A
    # deactivated user name is found too: it fails as deactivated (and is audited so).
    account, _phone = await account_for_login(names.visible(login).strip())
    return account


async def _memberships(account_id: int) -> list[Membership]:
    return await Membership.filter(account_id=account_id).select_related("unit").order_by("id")


async def login(
    login: str,
    password: str,
    *,
    captcha_id: str,
    captcha_answer: str,
    origin: Origin,
    before_session: Callable[[Account], Awaitable[int]] | None = None,
) -> LoginResult:
    """Password login. Unknown user, wrong password, locked and deactivated all answer alike.

    ``before_session`` runs once the password is right and before the session starts (binding a
    WeChat identity: it returns the identity's id, and the session is started from it); if it
    raises, there is no session.
    """
    rt = runtime.get()
    settings = rt.settings
    refused = await throttle.attempt(
        "login-ip", origin.ip or "-", limit=settings.login_ip_limit, window_seconds=settings.login_ip_window_seconds
    )
    if refused is not None:
        if refused.first:  # once per address and window: a flood must not flood the audit log too
            async with db.atomic():
                await _audit_login_refused(None, origin, {"reason": "throttled"})
        raise too_many(refused, msg.LOGIN_THROTTLED_FOR, "login_throttled")
    if not await captcha.check(captcha_id, captcha_answer):
        raise AppError("captcha_invalid", messages.CAPTCHA_INVALID, fields={"captcha_answer": messages.CAPTCHA_INVALID})
    started = rt.clock.timestamp()  # before the password is read: a revocation after it voids this session
    account = await _find_account(login)
    password_ok = await rt.hasher.verify(password, account.password_hash if account else None)
    # Read again: a lock set by other guesses while this one was checked holds (for an unknown name
    # too, so that both take the same steps).
    account = await Account.get_or_none(id=account.id if account else 0)
    now = rt.clock.now()
    if (
        account is None
        or not account.is_active
        or not password_ok
        or (account.locked_until is not None and account.locked_until > now)
    ):
        await _record_failure(account, origin)
        raise Unauthorized("login_failed", msg.LOGIN_FAILED)
    if _temporary_password_expired(account, now):  # told so: the right password proves the person
        async with db.atomic():
            await _audit_login_refused(account, origin, {"reason": "temporary_password_expired"})
        raise Unauthorized(
            "temporary_password_expired", msg.TEMPORARY_PASSWORD_EXPIRED.format(hours=TEMPORARY_PASSWORD_HOURS)
        )
    wechat_identity_id = await before_session(account) if before_session is not None else None
    return await start_session(account, origin=origin, wechat_identity_id=wechat_identity_id, started_at=started)


async def start_session(
    account: Account,
    *,
    origin: Origin,
    started_at: float,
    method: str = "password",
    wechat_identity_id: int | None = None,
    card_key: str | None = None,
) -> LoginResult:
    """The session of an account whose credentials were just checked (by password, WeChat or SMS);
    ``started_at``: the time before the credentials were read (a password change or reset committed
    while the login was checking the old one then voids this session: backend.auth.guard._revoked);
    ``wechat_identity_id``: the bound WeChat identity it is started from (backend.core.sessions.create).
    ``card_key``: the card a card login was done with (backend.cards.models.card_key); the
    holder's replacement card taking that card's binding over ends the session
    (backend.cards.actions._replaced_card).

    Audited as ``auth.login`` (with the method unless it is the password) and kept as the account's
    ``last_login_at``; the only unit is chosen; must-change and the SMS check come with the account.
    A password login also clears the count of password failures.
    """
    memberships = await _memberships(account.id)
    changes: dict[str, Any] = {"last_login_at": runtime.get().clock.now()}
    if method == "password" and (account.failed_logins or account.locked_until):
        changes.update(failed_logins=0, locked_until=None)
    async with db.atomic():
        await Account.filter(id=account.id).update(**changes)
        await audit.record(
            "auth.login",
            origin=origin,
            account_id=account.id,
            scope_path=memberships_scope(memberships),
            target_type="account",
            target_id=account.id,
            detail=None if method == "password" else {"method": method},
        )
    only = memberships[0].id if len(memberships) == 1 else None
    token, record = await sessions.create(
        account.id,
        membership_id=only,
        must_change=account.must_change_password,
        origin=origin,
        started_at=started_at,
        wechat_identity_id=wechat_identity_id,
        card_key=card_key,
    )
    return LoginResult(token=token, session=record, account=account, memberships=memberships)


def _temporary_password_expired(account: Account, now: datetime) -> bool:
    """Is the password a temporary one set more than TEMPORARY_PASSWORD_HOURS ago? Every write of one
    sets the account's ``created_at`` (a new account) or ``sessions_revoked_at`` (a reset, a review,
    a hand-over: backend.accounts.people) to its time; the latest of those and of
    ``password_changed_at`` is when the password was last set (an admin ending the account's sessions
    meanwhile moves it later, never earlier)."""
    if not account.must_change_password:
        return False
    moments = (account.created_at, account.sessions_revoked_at, account.password_changed_at)
    set_at = max(moment for moment in moments if moment is not None)
    return now - set_at > timedelta(hours=TEMPORARY_PASSWORD_HOURS)


async def _audit_login_refused(account: Account | None, origin: Origin, detail: dict[str, str | int]) -> None:
    """The audit entry of a refused login (inside a transaction); ``account``: None for a name that
    matches none, or when none was looked up."""
    await audit.record(
        "auth.login",
        origin=origin,
        outcome="failure",
        account_id=account.id if account else None,
        scope_path=memberships_scope(await _memberships(account.id)) if account else ROOT_SCOPE,
        target_type="account" if account else None,
        target_id=account.id if account else None,
        detail=detail,
    )


async def _record_failure(account: Account | None, origin: Origin) -> None:
    rt = runtime.get()
    now = rt.clock.now()
    async with db.atomic():
        detail: dict[str, str | int] = {"reason": "unknown_login"}
        if account is not None:
            if account.locked_until is not None and account.locked_until > now:
                detail = {"reason": "locked"}
            elif not account.is_active:
                detail = {"reason": "deactivated"}
            else:
                await Account.filter(id=account.id).update(failed_logins=F("failed_logins") + 1)
                failures = (await Account.get(id=account.id)).failed_logins
                detail = {"reason": "bad_password", "failures": failures}
                if failures >= rt.settings.login_max_failures:
                    await Account.filter(id=account.id).update(
                        failed_logins=0, locked_until=now + timedelta(seconds=rt.settings.lockout_seconds)
                    )
                    detail["locked"] = 1
        await _audit_login_refused(account, origin, detail)


async def choose_unit(
    record: sessions.SessionRecord, account: Account, membership_id: int, *, origin: Origin
) -> Membership:
    """Put one of the account's units in the session; from now on it alone decides the scope."""
    membership = await Membership.get_or_none(id=membership_id, account_id=account.id).select_related("unit")
    if membership is None:
        raise NotFound(msg.NOT_YOUR_UNIT)
    await sessions.update(record, membership_id=membership.id)
    async with db.atomic():
        await audit.record(
            "auth.choose_unit",
            origin=origin,
            account_id=account.id,
            scope_path=membership.unit.path,
            target_type="unit",
            target_id=membership.unit.id,
        )
    return membership


async def change_password(
    record: sessions.SessionRecord, account: Account, *, old_password: str, new_password: str, origin: Origin
) -> tuple[str, sessions.SessionRecord]:
    """Change one's own password. Every session of the account ends; the caller gets a fresh one.

    Every WeChat identity bound to the account is released too, except the one the caller's session
    was started from: someone who knew the old password may have bound theirs, and a change made for
    that reason must lock them out (the owner's own phone, if it is not the caller, binds again with
    one password entry).

    The new password is checked first; then a try of the old one is counted: a stolen session gets
    five per quarter hour (the same counter as the password re-entry of backend.profile)."""
    rt = runtime.get()
    if not account.password_hash:  # made by a card login: no old one to try (it sets one instead)
        raise Conflict("password_not_set", msg.PASSWORD_NOT_SET)
    if old_password == new_password:
        raise ValidationFailed({"new_password": msg.SAME_PASSWORD}, msg.SAME_PASSWORD)
    phone = rt.vault.decrypt("account.phone", account.phone_enc) if account.phone_enc else ""
    problems = policy_problems(new_password, username=account.username, phone=phone)
    if problems:  # before the old password is tried: a new one refused uses up none of the tries
        raise ValidationFailed({"new_password": "；".join(problems)}, problems[0])
    await count_password_try(account.id)
    memberships = await _memberships(account.id)
    if not await rt.hasher.verify(old_password, account.password_hash):
        async with db.atomic():
            await audit.record(
                "auth.change_password",
                origin=origin,
                outcome="failure",
                account_id=account.id,
                scope_path=memberships_scope(memberships),
                target_type="account",
                target_id=account.id,
                detail={"reason": "old_password"},
            )
        raise AppError("old_password_wrong", msg.OLD_PASSWORD_WRONG, fields={"old_password": msg.OLD_PASSWORD_WRONG})
    password_hash = await rt.hasher.hash(new_password)
    now = rt.clock.now()
    async with db.atomic():
        await Account.filter(id=account.id).update(
            password_hash=password_hash,
            must_change_password=False,
            password_changed_at=now,
            sessions_revoked_at=now,
            updated_at=now,
        )
        wechat_released = await wechat_releases.release(
            account.id, wechat_releases.Reason.PASSWORD_CHANGED, except_identity_id=record.wechat_identity_id
        )
        await audit.record(
            "auth.change_password",
            origin=origin,
            account_id=account.id,
            scope_path=memberships_scope(memberships),
            target_type="account",
            target_id=account.id,
            detail={"wechat_released": wechat_released} if wechat_released else None,
        )
    await sessions.end_all(account.id)
    return await sessions.create(
        account.id,
        membership_id=record.membership_id,
        must_change=False,
        origin=origin,
        wechat_identity_id=record.wechat_identity_id,
        card_key=record.card_key,
    )


async def refresh(record: sessions.SessionRecord, origin: Origin) -> tuple[str, sessions.SessionRecord]:
    """Swap the session token for a new one (same account and unit, the same conversations in chat);
    the old token stops working, for good (its end is recorded: backend.core.sessions.end). The old
    one ends first: of two refreshes of one token only one gets a new session (the one whose drop
    from Redis took it), and one ended meanwhile (logout, an admin) is not refreshed. Dropped, then
    recorded: recorded first, another request's session check could see the end and drop the token
    itself, and both of two refreshes were refused."""
    if not await sessions.drop(record.account_id, record.key_hash):
        raise Unauthorized("session_invalid", messages.SESSION_EXPIRED)
    await sessions.record_end(record)  # durable: a Redis restored from before refuses it too
    token, fresh = await sessions.create(
        record.account_id,
        membership_id=record.membership_id,
        must_change=record.must_change,
        origin=origin,
        started_at=record.created_at,
        wechat_identity_id=record.wechat_identity_id,
        card_key=record.card_key,
    )
    memberships = await Membership.filter(account_id=record.account_id).values_list("id", flat=True)
    await move_conversations(record.public_id, fresh.public_id, memberships)
    return token, fresh


async def _audit_session_end(
    action: str, account_id: int, origin: Origin, *, outcome: str = "success", detail: dict[str, str]
) -> None:
    """The audit entry of a session ended on request (``auth.logout``, ``auth.end_session``: one
    ended from the list); inside a transaction."""
    await audit.record(
        action,
        origin=origin,
        outcome=outcome,
        account_id=account_id,
        scope_path=memberships_scope(await _memberships(account_id)),
        target_type="account",
        target_id=account_id,
        detail=detail,
    )


async def _end_on_request(record: sessions.SessionRecord, action: str, origin: Origin) -> None:
    """End a session for good, audited: its end recorded with the entry in one transaction, then
    dropped from Redis (ended by expiry, a session leaves no entry)."""
    async with db.atomic():
        await sessions.record_end(record)
        await _audit_session_end(action, record.account_id, origin, detail={"session": record.public_id})
    await sessions.drop(record.account_id, record.key_hash)


async def logout(record: sessions.SessionRecord, *, origin: Origin) -> None:
    """End the caller's own session."""
    await _end_on_request(record, "auth.logout", origin)


async def end_own_session(account: Account, public_id: str, *, origin: Origin) -> None:
    """End one of one's own sessions from the list (a lost phone). An id that names none of them
    answers 404, audited as a failure without the id (it is whatever was sent)."""
    revoked = account.sessions_revoked_at.timestamp() if account.sessions_revoked_at else None
    record = await sessions.find(account.id, public_id, revoked_before=revoked)
    if record is None:
        async with db.atomic():
            detail = {"reason": "not_found"}
            await _audit_session_end("auth.end_session", account.id, origin, outcome="failure", detail=detail)
        raise NotFound(msg.SESSION_NOT_FOUND)
    await _end_on_request(record, "auth.end_session", origin)
