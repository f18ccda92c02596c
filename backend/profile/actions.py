"""One's own account: the first-login SMS check (P4), the profile and the bound phone (P11)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from backend.accounts import people
from backend.accounts.actions import lock_account
from backend.accounts.models import LONG_TERM, Account, IdType, RealnameLevel
from backend.accounts.queries import account_scope
from backend.auth import actions as auth_actions
from backend.cards import actions as cards
from backend.core import audit, db, identifiers, names, runtime, sms, sms_codes, tickets
from backend.core.actor import Origin
from backend.core.errors import AppError, Conflict, ValidationFailed
from backend.profile import messages as msg

PHONE_CHANGE_TTL_SECONDS = 10 * 60
_OTHER_ID = re.compile(r"[A-Z0-9]{5,20}")
MAX_ID_VALIDITY_YEARS = 20  # the longest an ID runs (a resident ID issued at 26 to 45); longer: long-term
# Labels of any script (例子.中国 too) between ASCII dots; no full-width dot, which an input method
# types for "." and no mail server reads as one; the top label letters or punycode (xn--fiqs8s).
_EMAIL = re.compile(
    r"[^@\s\x00-\x1f\x7f]+@(?:[^@\s\x00-\x1f\x7f.\u3002\uff0e\uff61]+\.)+(?:[^\W\d_]{2,}|xn--[A-Za-z0-9-]{2,})"
)


def phone_of(account: Account) -> str | None:
    return runtime.get().vault.decrypt("account.phone", account.phone_enc) if account.phone_enc else None


async def _record(
    action: str, account: Account, origin: Origin, *, outcome: str = "success", detail: dict[str, Any] | None = None
) -> None:
    await audit.record(
        action,
        origin=origin,
        account_id=account.id,
        scope_path=await account_scope(account.id),
        target_type="account",
        target_id=account.id,
        outcome=outcome,
        detail=detail,
    )


# P4: first login of an operator created by an admin --------------------------------------------


async def first_login_send_code(
    account: Account, *, captcha_id: str, captcha_answer: str, origin: Origin
) -> tuple[str, sms_codes.SendResult]:
    if not account.needs_sms_check:
        raise Conflict("sms_check_not_needed", msg.NOT_NEEDED)
    phone = phone_of(account)
    if phone is None:
        raise AppError("no_phone", msg.NO_PHONE, status=422)
    sent = await sms_codes.send_code(
        phone, "first_login", origin=origin, captcha_id=captcha_id, captcha_answer=captcha_answer, deliver=True
    )
    return identifiers.mask_phone(phone), sent


async def first_login_verify(account: Account, *, code: str, origin: Origin) -> None:
    if not account.needs_sms_check:
        raise Conflict("sms_check_not_needed", msg.NOT_NEEDED)
    phone = phone_of(account)
    if phone is None:
        raise AppError("no_phone", msg.NO_PHONE, status=422)
    try:
        await sms_codes.check_code(phone, "first_login", code)
    except AppError:
        async with db.atomic():
            await _record("auth.first_login_sms", account, origin, outcome="failure")
        raise
    await first_login_checked(account, origin)


async def first_login_checked(account: Account, origin: Origin, *, method: str | None = None) -> None:
    """The first-login SMS check is passed: by its own code, or (``method``) by another code that the
    bound phone received (the WeChat SMS login's)."""
    async with db.atomic():
        await Account.filter(id=account.id).update(needs_sms_check=False)
        await _record("auth.first_login_sms", account, origin, detail={"method": method} if method else None)
    account.needs_sms_check = False


# P11: profile ----------------------------------------------------------------------------------


def _valid_until_problem(value: str) -> str | None:
    """What is wrong with an ID's last valid day (None: nothing): a real date, today or later (an
    expired ID names nobody), and at most 20 years ahead (further is long-term, written 00000000)."""
    if value == LONG_TERM:
        return None
    try:
        day = datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return msg.BAD_VALID_UNTIL
    today = runtime.get().clock.china_now().date()
    if day < today:
        return msg.ID_EXPIRED
    if (day.year, day.month, day.day) > (today.year + MAX_ID_VALIDITY_YEARS, today.month, today.day):
        return msg.VALID_UNTIL_TOO_LATE
    return None


def _check_profile(changes: dict[str, Any], id_type: IdType) -> dict[str, str]:
    problems: dict[str, str] = {}
    number = changes.get("id_number")
    if number is not None:
        number = number.strip().upper()
        changes["id_number"] = number
        ok = identifiers.valid_id_number(number) if id_type == IdType.RESIDENT_ID else bool(_OTHER_ID.fullmatch(number))
        if not ok:
            problems["id_number"] = msg.BAD_ID_FOR_TYPE
    if changes.get("id_valid_until") is not None and (problem := _valid_until_problem(changes["id_valid_until"])):
        problems["id_valid_until"] = problem
    if changes.get("email") is not None and not _EMAIL.fullmatch(changes["email"]):
        problems["email"] = msg.BAD_EMAIL
    return problems


async def update_profile(
    account: Account, changes: dict[str, Any], *, origin: Origin, session_id: str | None
) -> Account:
    """Edit one's own profile. A new name, ID type or ID number voids the real-name level and
    unbinds the card (it no longer names this person; the sessions it started end, but
    ``session_id``'s, the editing one). Compared with the account as it is under
    its lock (:func:`lock_account`): an admin's edit or a card's real-name check takes turns with it."""
    async with db.atomic():
        current = await lock_account(account.id) or account
        updates, identity_changed = _profile_updates(current, changes)
        if not updates:
            return current
        updates["updated_at"] = runtime.get().clock.now()
        await Account.filter(id=account.id).update(**updates)
        card_unbound = identity_changed and await cards.release_card(account.id, session_id=session_id)
        await _record(
            "profile.update",
            account,
            origin,
            detail={
                "fields": sorted(k for k in changes),
                "realname_voided": int(identity_changed),
                "card_unbound": int(card_unbound),
            },
        )
    return await Account.get(id=account.id)


def _profile_updates(account: Account, changes: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The columns ``changes`` sets on ``account`` (checked first: ValidationFailed) and whether the
    identity changed."""
    id_type = IdType(changes.get("id_type") or account.id_type)
    problems = _check_profile(changes, id_type)
    if "id_type" in changes and "id_number" not in changes and account.id_number_enc:
        current = runtime.get().vault.decrypt("account.id_number", account.id_number_enc)
        problems.update(_check_profile({"id_number": current}, id_type))
    if problems:
        raise ValidationFailed(problems)
    vault = runtime.get().vault
    updates: dict[str, Any] = {}
    identity_changed = False
    if "name" in changes and changes["name"] != account.name:
        updates.update(names.columns(changes["name"], Account))
        identity_changed = True
    if "id_type" in changes and changes["id_type"] != account.id_type:
        updates["id_type"] = changes["id_type"]
        identity_changed = True
    if "id_number" in changes:
        number = changes["id_number"]
        new_index = vault.index("id_number", number) if number else None
        if new_index != account.id_number_index:
            updates["id_number_enc"] = vault.encrypt("account.id_number", number) if number else None
            updates["id_number_index"] = new_index
            identity_changed = True
    if "id_valid_until" in changes:
        updates["id_valid_until"] = changes["id_valid_until"]
    if "email" in changes:
        updates["email"] = changes["email"]
    if identity_changed:
        updates["realname_level"] = RealnameLevel.NONE
    return updates, identity_changed


# P11: bound phone change -----------------------------------------------------------------------


async def phone_change_start(
    account: Account, *, password: str, new_phone: str, captcha_id: str, captcha_answer: str, origin: Origin
) -> tuple[str, sms_codes.SendResult]:
    """Re-enter the password, then a code goes to the new phone; returns a ticket for the confirm step.

    An account without a password (made by a card login, not activated yet) has none to re-enter:
    409 ``password_not_set``, and none of its password tries is used up. The captcha comes before the
    password: a wrong one uses up no try (nor lets a password be tried without a captcha solved)."""
    rt = runtime.get()
    if not account.password_hash:
        raise Conflict("password_not_set", msg.PASSWORD_NOT_SET)
    await sms_codes.require_captcha(captcha_id, captcha_answer)
    await auth_actions.count_password_try(account.id)
    if not await rt.hasher.verify(password, account.password_hash):
        async with db.atomic():
            await _record("profile.phone_change", account, origin, outcome="failure", detail={"reason": "password"})
        raise AppError("password_wrong", msg.PASSWORD_WRONG, fields={"password": msg.PASSWORD_WRONG})
    if account.phone_index == rt.vault.index("phone", new_phone):
        raise ValidationFailed({"new_phone": msg.SAME_PHONE}, msg.SAME_PHONE)
    sent = await sms_codes.send_code(
        new_phone,
        "phone_change",
        origin=origin,
        captcha_id=None,
        captcha_answer=None,
        deliver=True,
        captcha_checked=True,
    )
    ticket = await tickets.issue(
        "profile.phone_change", {"account_id": account.id, "phone": new_phone}, ttl_seconds=PHONE_CHANGE_TTL_SECONDS
    )
    return ticket, sent


async def phone_change_confirm(account: Account, *, ticket: str, code: str, origin: Origin) -> Account:
    data = await tickets.peek(ticket, "profile.phone_change")
    if data["account_id"] != account.id:  # a ticket of another account is no ticket at all
        raise AppError("ticket_invalid", tickets.TICKET_INVALID, status=410)
    new_phone = data["phone"]
    await sms_codes.check_code(new_phone, "phone_change", code)
    await tickets.consume(ticket, "profile.phone_change")
    vault = runtime.get().vault
    new_index = vault.index("phone", new_phone)
    keeps_login = account.login_phone_index is not None
    free = keeps_login and await people.phone_login_free(new_phone, except_account_id=account.id)

    async def write(login_index: str | None) -> None:
        async with db.atomic():
            # Takes turns with the phone-login switch (and an admin's change): phone login switched
            # off meanwhile stays off, and the notice goes to the phone bound until now.
            current = await lock_account(account.id) or account
            if current.login_phone_index is None:
                login_index = None
            old_phone = phone_of(current)
            await Account.filter(id=account.id).update(
                phone_enc=vault.encrypt("account.phone", new_phone),
                phone_index=new_index,
                login_phone_index=login_index,
                updated_at=runtime.get().clock.now(),
            )
            if old_phone:
                masked = identifiers.mask_phone(new_phone)
                await sms.queue(old_phone, "phone_changed", {"username": account.username, "phone": masked})
            await _record("profile.phone_change", account, origin, detail={"phone_login": int(login_index is not None)})

    await people.with_phone_login(write, new_index if free else None)
    return await Account.get(id=account.id)


# P16: logging in by phone, switched per account ----------------------------------------------------


async def set_phone_login(account: Account, *, enabled: bool, origin: Origin) -> Account:
    """Log in by the bound phone (with the password), or no longer. One phone logs in to one account
    only: switched on while another account logs in by it, 409 ``phone_login_taken`` (that account
    switches it off first, or its admin changes its phone). Already so: nothing changes."""
    if (account.login_phone_index is not None) == enabled:
        return account
    if enabled and account.phone_index is None:
        raise Conflict("no_phone", msg.NO_PHONE_FOR_LOGIN)
    index = account.phone_index if enabled else None
    if index is not None and await Account.filter(login_phone_index=index).exclude(id=account.id).exists():
        raise Conflict("phone_login_taken", msg.PHONE_LOGIN_TAKEN)
    try:
        async with db.atomic():
            now = await lock_account(account.id)  # takes turns with an admin's change of the account
            if now is None or now.phone_index != account.phone_index or not now.is_active:
                return now or account  # changed meanwhile: nothing to switch as asked
            changed = await Account.filter(id=account.id).update(
                login_phone_index=index, updated_at=runtime.get().clock.now()
            )
            if changed:
                await _record("profile.phone_login", account, origin, detail={"enabled": int(enabled)})
    except IntegrityError as exc:  # another account switched it on meanwhile (the unique index)
        raise Conflict("phone_login_taken", msg.PHONE_LOGIN_TAKEN) from exc
    return await Account.get(id=account.id)
