"""R2-R4: forgotten password, forgotten user name, unit account recovery. Every step is carried by
a single-use ticket from the step before; every answer is the same whether or not the user name,
phone or unit exists (an unknown one gets a stand-in phone that no message ever reaches)."""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError

from backend.accounts import people
from backend.accounts.models import Account, Membership
from backend.accounts.queries import account_for_login, account_scope
from backend.core import (
    audit,
    captcha,
    db,
    identifiers,
    messages,
    runtime,
    sessions,
    sms,
    sms_codes,
    throttle,
    tickets,
)
from backend.core.actor import Origin
from backend.core.crypto import sha256_hex
from backend.core.errors import AppError, Conflict, TooManyRequests, ValidationFailed
from backend.core.passwords import policy_problems
from backend.core.roles import Role
from backend.recovery import messages as msg
from backend.units.models import Unit
from backend.wechat import releases as wechat_releases

STEP_TTL_SECONDS = 10 * 60
RESET_TTL_SECONDS = 15 * 60
MAX_IDENTITY_MISMATCHES = 3
# A reset sent again after a lost answer: how many times its password is compared with the one it set.
RESET_RETRY_CHECKS = 5
# R4: identity checks per unit per day (Beijing date), whatever the address and phones they come from.
UNIT_IDENTITY_TRIES_PER_DAY = 5
# A code step sent again after a lost answer: how many times its code (and ID number) are compared.
VERIFY_RETRY_CHECKS = 5


@dataclass(frozen=True)
class Step:
    ticket: str
    phone: str | None = None  # masked
    sent: sms_codes.SendResult | None = None


@dataclass(frozen=True)
class ResetTicket:
    ticket: str
    expires_in: int


_MOBILE_PREFIXES = tuple(f"1{second}{third}" for second in "3456789" for third in "0123456789")


def stand_in_phone(seed: str) -> str:
    """A fixed, plausible phone for an unknown name: the same answer every time, reaching nobody."""
    digest = int(
        hmac.new(runtime.get().settings.index_key, f"stand-in:{seed}".encode(), hashlib.sha256).hexdigest(), 16
    )
    # Any mobile prefix, as real phones have: always 13x gave real accounts away by their masked 15x, 18x...
    prefix = _MOBILE_PREFIXES[digest % len(_MOBILE_PREFIXES)]
    return prefix + str(digest // len(_MOBILE_PREFIXES))[-8:].zfill(8)


async def _require_captcha(captcha_id: str, answer: str) -> None:
    if not await captcha.check(captcha_id, answer):
        raise AppError("captcha_invalid", messages.CAPTCHA_INVALID, fields={"captcha_answer": messages.CAPTCHA_INVALID})


def _phone_of(account: Account) -> str | None:
    return runtime.get().vault.decrypt("account.phone", account.phone_enc) if account.phone_enc else None


async def _audit(
    action: str,
    *,
    account_id: int | None,
    origin: Origin,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
    scope_path: str | None = None,
) -> None:
    async with db.atomic():
        await audit.record(
            action,
            origin=origin,
            outcome=outcome,
            account_id=account_id,
            scope_path=scope_path or await account_scope(account_id),
            target_type="account" if account_id else None,
            target_id=account_id,
            detail=detail,
        )


def _mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1)


# R2: forgotten password -------------------------------------------------------------------------


async def password_start(username: str, *, captcha_id: str, captcha_answer: str, origin: Origin) -> Step:
    """User name (or the phone it logs in with) + captcha: the masked bound phone and a ticket for
    the code step. Audited whatever the name (an unknown one without an account)."""
    await _require_captcha(captcha_id, captcha_answer)
    username = username.strip()  # pasted with a space or a line break, as login forgives (never part of a name)
    # As login reads it (the user name, or the phone it spells); a deactivated one only for the audit.
    account, typed = await account_for_login(username)
    deactivated = account if account is not None and not account.is_active else None
    if deactivated is not None:
        account = None
    phone = _phone_of(account) if account else None
    # Unknown, a typed phone is the answer (a stand-in would show another one), and no code reaches it.
    shown = phone or typed or stand_in_phone(f"user:{username.lower()}")
    ticket = await tickets.issue(
        "recovery.password",
        {"account_id": account.id if account and phone else None, "phone": shown},
        ttl_seconds=STEP_TTL_SECONDS,
    )
    detail: dict[str, Any] = {"by": "phone" if typed else "username"}
    if account is None:
        detail["reason"] = "deactivated" if deactivated is not None else "unknown_login"
    elif phone is None:
        detail["reason"] = "no_phone"
    audited = account or deactivated
    await _audit(
        "recovery.password_start",
        account_id=audited.id if audited else None,
        origin=origin,
        outcome="failure" if "reason" in detail else "success",
        detail=detail,
    )
    return Step(ticket=ticket, phone=identifiers.mask_phone(shown))


async def password_send_code(ticket: str, *, captcha_id: str, captcha_answer: str, origin: Origin) -> Step:
    """A code to the phone the first step showed, delivered only while it is still the bound phone of
    the active account (a lost phone replaced, a deactivation meanwhile: its code could only fail);
    the answer is the same either way. The ticket then lives a step's time from this send, so the
    code can be used as long as the answer says (its ID number checks, counted per ticket, with it).
    Audited, sent or refused (a wrong captcha, the cooldown), never with the phone or the code."""
    data = await tickets.peek(ticket, "recovery.password")
    account = await Account.get_or_none(id=data["account_id"], is_active=True) if data["account_id"] else None
    deliver = account is not None and _phone_of(account) == data["phone"]
    account_id = account.id if account else None
    try:
        sent = await sms_codes.send_code(
            data["phone"],
            "password_reset",
            origin=origin,
            captcha_id=captcha_id,
            captcha_answer=captcha_answer,
            deliver=deliver,
            conceal_recipient=True,
        )
    except AppError as exc:
        detail = {"reason": exc.code}
        await _audit(
            "recovery.password_send_code", account_id=account_id, origin=origin, outcome="failure", detail=detail
        )
        raise
    if sent.delivered:
        await _audit("recovery.password_send_code", account_id=account_id, origin=origin)
    else:  # an unknown name, a phone no longer the account's, or a cap only the outbox knew: nothing went out
        reason = "sms_limit" if deliver else "unknown_login" if account is None else "phone_changed"
        await _audit(
            "recovery.password_send_code",
            account_id=account_id,
            origin=origin,
            outcome="failure",
            detail={"reason": reason},
        )
    await tickets.extend(ticket, "recovery.password", ttl_seconds=STEP_TTL_SECONDS)
    await runtime.get().redis.expire(_identity_tries_key(ticket), STEP_TTL_SECONDS + 30)
    return Step(ticket=ticket, phone=identifiers.mask_phone(data["phone"]), sent=sent)


async def password_verify(ticket: str, *, code: str, id_number: str, origin: Origin) -> ResetTicket:
    """SMS code + ID number: a reset ticket valid 15 minutes. Sent again after its answer was lost
    (the same ticket, code and ID number), the same reset ticket while it is unused and valid.

    The code first: until the phone is proven every answer is the code's, the same for an unknown
    user name, an account without an ID number on file and a wrong ID number (which would otherwise
    tell ID numbers apart without a single SMS, the owner never warned). The code stays usable for a
    mistyped ID number, but each ID number checked takes a try of the code (five void it) and one of
    the ticket's (three use it up), both before the check, so that requests sent together cannot
    compare more; the code is used up once everything holds.
    """
    try:
        data = await tickets.peek(ticket, "recovery.password")
    except AppError:
        again = await _verified_already(ticket, code=code, id_number=id_number)
        if again is None:
            raise
        return again
    try:
        await sms_codes.check_code(data["phone"], "password_reset", code, keep=True)  # takes one of its tries
    except AppError as exc:  # a wrong code, or one voided (by this try, or before): someone may be guessing
        # Its own action: a failed recovery.password_verify is an ID number compared (and counted as such).
        await _audit_wrong_code("recovery.password_code", ticket, exc, account_id=data["account_id"], origin=origin)
        raise
    await _take_identity_try(ticket)
    account = await Account.get_or_none(id=data["account_id"], is_active=True) if data["account_id"] else None
    if account is not None and _phone_of(account) != data["phone"]:
        # The bound phone changed since the code was sent (a lost phone replaced): the old one proves nothing.
        await tickets.consume(ticket, "recovery.password")
        await _audit(
            "recovery.password_verify",
            account_id=account.id,
            origin=origin,
            outcome="failure",
            detail={"reason": "phone_changed"},
        )
        raise AppError("ticket_invalid", tickets.TICKET_INVALID, status=410)
    if account is not None and account.id_number_index is None:
        await _audit(
            "recovery.password_verify",
            account_id=account.id,
            origin=origin,
            outcome="failure",
            detail={"reason": "no_identity_on_file"},
        )
        raise AppError("manual_review_needed", msg.NO_IDENTITY_ON_FILE, status=422)
    if account is None or account.id_number_index != runtime.get().vault.index("id_number", id_number):
        await _audit(
            "recovery.password_verify",
            account_id=account.id if account else None,
            origin=origin,
            outcome="failure",
            detail={"reason": "identity_mismatch"},
        )
        await _count_mismatch(ticket)
        raise AppError("identity_mismatch", msg.IDENTITY_MISMATCH, fields={"id_number": msg.IDENTITY_MISMATCH})
    await sms_codes.check_code(data["phone"], "password_reset", code)  # used up now (of two at once, one wins)
    await tickets.consume(ticket, "recovery.password")
    request = _code_request(code, id_number)
    # Kept as long as the reset ticket lives (it is a credential): for a resend after a lost answer.
    async with tickets.remembered(ticket, "recovery.password", request, ttl_seconds=RESET_TTL_SECONDS) as answer:
        await _audit("recovery.password_verify", account_id=account.id, origin=origin)
        phone_index = runtime.get().vault.index("phone", data["phone"])
        expires_at = runtime.get().clock.timestamp() + RESET_TTL_SECONDS
        answer["reset_ticket"] = await tickets.issue(
            "recovery.password_reset",
            {"account_id": account.id, "phone_index": phone_index},
            ttl_seconds=RESET_TTL_SECONDS,
        )
        answer["expires_at"] = expires_at
    return ResetTicket(answer["reset_ticket"], RESET_TTL_SECONDS)


def _code_request(code: str, id_number: str = "") -> str:
    """What makes a code step the same request again: its code (and ID number), keyed, so that the
    record of a done step tells neither (the mini-program sends these steps no Idempotency-Key)."""
    key = runtime.get().settings.index_key
    return hmac.new(key, f"recovery-code:{code}:{id_number.upper()}".encode(), hashlib.sha256).hexdigest()


async def _answered_already(ticket: str, purpose: str, request: str) -> dict[str, Any] | None:
    """The answer of the code step done with ``ticket``, to the same ``request`` sent again after that
    answer was lost; None otherwise (the ticket is invalid). Compared a few times only: a leaked used
    ticket is no way to guess the code and ID number it was verified with."""
    done = await tickets.done(ticket, purpose, request)
    if done is None:
        return None
    checks = await throttle.count(
        f"recovery-code-retries:{purpose}:{sha256_hex(ticket)}", ttl_seconds=tickets.DONE_TTL_SECONDS
    )
    return done.answer if checks <= VERIFY_RETRY_CHECKS and done.same_request else None


async def _verified_already(ticket: str, *, code: str, id_number: str) -> ResetTicket | None:
    """The reset ticket a verify with ``ticket`` answered, for the same code and ID number sent again
    while that reset ticket is unused and valid."""
    answer = await _answered_already(ticket, "recovery.password", _code_request(code, id_number))
    if answer is None:
        return None
    try:
        await tickets.peek(answer["reset_ticket"], "recovery.password_reset")
    except AppError:
        return None  # the password was reset with it already, or it expired
    left = math.ceil(answer["expires_at"] - runtime.get().clock.timestamp())
    return ResetTicket(answer["reset_ticket"], left)


def _wrong_codes_key(ticket: str) -> str:
    """Codes refused at verify with the ticket, for the audit (the code's own tries are the code's)."""
    return f"recovery-wrong-codes:{sha256_hex(ticket)}"


async def _audit_wrong_code(
    action: str,
    ticket: str,
    exc: AppError,
    *,
    account_id: int | None,
    origin: Origin,
    detail: dict[str, Any] | None = None,
    scope_path: str | None = None,
) -> None:
    """A code refused at a verify step (wrong, or void): audited with the count of wrong codes per
    ticket, never the code."""
    wrong = await throttle.count(_wrong_codes_key(ticket), ttl_seconds=STEP_TTL_SECONDS + 30)
    await _audit(
        action,
        account_id=account_id,
        origin=origin,
        outcome="failure",
        detail={**(detail or {}), "reason": exc.code, "wrong_codes": wrong},
        scope_path=scope_path,
    )


def _identity_tries_key(ticket: str) -> str:
    return f"recovery-id-tries:{sha256_hex(ticket)}"


async def _take_identity_try(ticket: str) -> None:
    """Count an ID number check against the ticket before it is made (atomically: requests sent
    together cannot all pass first); past the limit the ticket is used up."""
    if await throttle.count(_identity_tries_key(ticket), ttl_seconds=STEP_TTL_SECONDS + 30) > MAX_IDENTITY_MISMATCHES:
        await _use_up(ticket)


async def _count_mismatch(ticket: str) -> None:
    """A wrong ID number (its try taken already): the last one allowed uses the ticket up."""
    tries = int(await runtime.get().redis.get(_identity_tries_key(ticket)) or 0)
    if tries >= MAX_IDENTITY_MISMATCHES:
        await _use_up(ticket)


async def _use_up(ticket: str) -> None:
    try:
        await tickets.consume(ticket, "recovery.password")
    except AppError:
        pass  # a parallel request used it up first
    raise AppError("ticket_invalid", msg.TOO_MANY_MISMATCHES, status=410)


async def password_reset(
    reset_ticket: str, *, new_password: str, origin: Origin, idempotency_key: str | None = None
) -> None:
    """New password (P5 policy); every session of the account ends and its WeChat is released (it may
    have been bound by whoever knew the old password); a notice goes to the bound phone.

    Sent again after its answer was lost, with the same ``idempotency_key`` and password: done
    already, nothing more happens; without them, ``password_already_reset``."""
    try:
        data = await tickets.peek(reset_ticket, "recovery.password_reset")
    except AppError:
        if await _reset_already(reset_ticket, new_password=new_password, idempotency_key=idempotency_key):
            return
        raise
    account = await Account.get_or_none(id=data["account_id"], is_active=True)
    # Deactivated, or its bound phone changed (a lost phone replaced), since the code was checked.
    if account is None or account.phone_index != data.get("phone_index"):
        raise AppError("ticket_invalid", tickets.TICKET_INVALID, status=410)
    phone = _phone_of(account) or ""
    problems = policy_problems(new_password, username=account.username, phone=phone)
    if problems:
        raise ValidationFailed({"new_password": "；".join(problems)}, problems[0])
    rt = runtime.get()
    if await rt.hasher.verify(new_password, account.password_hash):
        # Whoever knew the old password (often the reason for the reset) would stay in.
        raise ValidationFailed({"new_password": msg.SAME_PASSWORD}, msg.SAME_PASSWORD)
    await tickets.consume(reset_ticket, "recovery.password_reset")
    async with tickets.remembered(reset_ticket, "recovery.password_reset", idempotency_key) as answer:
        password_hash = await rt.hasher.hash(new_password)
        now = rt.clock.now()
        scope = await account_scope(account.id)
        async with db.atomic():
            await Account.filter(id=account.id).update(
                password_hash=password_hash,
                needs_activation=False,  # a card-made account has its password now
                must_change_password=False,
                needs_sms_check=False,  # the code just proved the bound phone (P4's first-login check)
                failed_logins=0,
                locked_until=None,
                password_changed_at=now,
                sessions_revoked_at=now,
                updated_at=now,
            )
            wechat_released = await wechat_releases.release(account.id, wechat_releases.Reason.SELF_RESET)
            if phone:
                await sms.queue(phone, "password_reset_done", {"username": account.username})
            await audit.record(
                "recovery.password_reset",
                origin=origin,
                account_id=account.id,
                scope_path=scope,
                target_type="account",
                target_id=account.id,
                detail={"wechat_released": wechat_released},
            )
        answer["account_id"] = account.id
    await sessions.end_all(account.id)


async def _reset_already(reset_ticket: str, *, new_password: str, idempotency_key: str | None) -> bool:
    """True for a reset sent again after its answer was lost: the ticket set the password sent again,
    and the same key came with it; ``password_already_reset`` for the same password without that key.
    False (the ticket is invalid) when the ticket never reset a password, or set another one."""
    done = await tickets.done(reset_ticket, "recovery.password_reset", idempotency_key)
    if done is None:
        return False
    # The password is compared a few times only: a leaked used ticket is no oracle of the new password.
    checks = await throttle.count(
        f"recovery-reset-retries:{sha256_hex(reset_ticket)}", ttl_seconds=tickets.DONE_TTL_SECONDS
    )
    account = await Account.get_or_none(id=done.answer["account_id"])
    if checks > RESET_RETRY_CHECKS or account is None:
        return False
    if not await runtime.get().hasher.verify(new_password, account.password_hash):
        return False  # another password (or changed since): the used ticket changes nothing more
    if done.same_request:
        return True
    raise AppError("password_already_reset", msg.PASSWORD_ALREADY_RESET, status=409)


# R3: forgotten user name ------------------------------------------------------------------------


async def _first_on_phone(phone: str) -> int | None:
    """The oldest active account bound to ``phone`` (the one a look-up by phone is audited under)."""
    index = runtime.get().vault.index("phone", phone)
    account = await Account.filter(phone_index=index, is_active=True).order_by("id").only("id").first()
    return account.id if account else None


async def username_by_phone_start(phone: str, *, captcha_id: str, captcha_answer: str, origin: Origin) -> Step:
    """A code to the phone if an account is bound to it; the same answer otherwise. Audited, sent or
    refused (a wrong captcha, an SMS limit), under the phone's oldest account, never with the phone."""
    account_id = await _first_on_phone(phone)
    detail: dict[str, Any] = {"by": "phone"}
    try:
        sent = await sms_codes.send_code(
            phone,
            "username_lookup",
            origin=origin,
            captcha_id=captcha_id,
            captcha_answer=captcha_answer,
            deliver=account_id is not None,
            conceal_recipient=True,
        )
    except AppError as exc:
        await _audit(
            "recovery.username_send_code",
            account_id=account_id,
            origin=origin,
            outcome="failure",
            detail={**detail, "reason": exc.code},
        )
        raise
    if not sent.delivered:  # an unknown phone, or a cap only the outbox knew: nothing went out
        detail["reason"] = "unknown_phone" if account_id is None else "sms_limit"
    await _audit(
        "recovery.username_send_code",
        account_id=account_id,
        origin=origin,
        outcome="failure" if "reason" in detail else "success",
        detail=detail,
    )
    ticket = await tickets.issue("recovery.username_phone", {"phone": phone}, ttl_seconds=STEP_TTL_SECONDS)
    return Step(ticket=ticket, phone=identifiers.mask_phone(phone), sent=sent)


async def username_by_phone_verify(ticket: str, *, code: str, origin: Origin) -> list[dict[str, Any]]:
    """The accounts bound to the phone; the same list again for the same code sent again after the
    answer was lost (for the time the step ticket had)."""
    purpose = "recovery.username_phone"
    try:
        data = await tickets.peek(ticket, purpose)
    except AppError:
        return await _found_already(ticket, purpose, code)
    try:
        await sms_codes.check_code(data["phone"], "username_lookup", code)
    except AppError as exc:
        account_id = await _first_on_phone(data["phone"])
        await _audit_wrong_code(
            "recovery.username_code", ticket, exc, account_id=account_id, origin=origin, detail={"by": "phone"}
        )
        raise
    await tickets.consume(ticket, purpose)
    index = runtime.get().vault.index("phone", data["phone"])
    accounts = await Account.filter(phone_index=index, is_active=True).order_by("id")
    async with tickets.remembered(ticket, purpose, _code_request(code), ttl_seconds=STEP_TTL_SECONDS) as answer:
        answer["accounts"] = await _found(accounts, origin)
    return answer["accounts"]


async def _found_already(ticket: str, purpose: str, code: str) -> list[dict[str, Any]]:
    """The accounts a look-up with the used ``ticket`` listed, for the same code sent again after
    that answer was lost; raises ``ticket_invalid`` otherwise."""
    answer = await _answered_already(ticket, purpose, _code_request(code))
    if answer is None:
        raise AppError("ticket_invalid", tickets.TICKET_INVALID, status=410)
    return answer["accounts"]


async def username_by_unit_start(
    *,
    credit_code: str | None,
    org_code: str | None,
    name: str,
    id_number: str,
    phone: str,
    captcha_id: str,
    captcha_answer: str,
    origin: Origin,
) -> Step:
    """Own name, ID number and phone, compared with the members of the unit the code names: a code to
    the phone if they match, the same answer otherwise. The captcha first, so that every comparison
    is audited (in the unit's scope; matched or not, and an SMS refusal), never with what was typed."""
    if not credit_code and not org_code:
        raise ValidationFailed({"credit_code": msg.UNIT_CODE_REQUIRED}, msg.UNIT_CODE_REQUIRED)
    await sms_codes.require_captcha(captcha_id, captcha_answer)
    unit = await _unit_by_code(credit_code, org_code)
    vault = runtime.get().vault
    matches: list[int] = []
    if unit is not None:
        matches = list(
            await Account.filter(
                memberships__unit_id=unit.id,
                is_active=True,
                name=name,
                id_number_index=vault.index("id_number", id_number),
                phone_index=vault.index("phone", phone),
            ).values_list("id", flat=True)
        )
    detail: dict[str, Any] = {"by": "credit_code" if credit_code else "org_code"}
    if unit is not None:
        detail["unit_id"] = unit.id
    mismatch = "unknown_unit" if unit is None else None if matches else "identity_mismatch"

    async def record(reason: str | None) -> None:
        await _audit(
            "recovery.username_identify",
            account_id=matches[0] if matches else None,
            origin=origin,
            outcome="failure" if reason else "success",
            detail={**detail, "reason": reason} if reason else detail,
            scope_path=unit.path if unit else None,
        )

    try:
        sent = await sms_codes.send_code(
            phone,
            "username_lookup",
            origin=origin,
            captcha_id=None,
            captcha_answer=None,
            captcha_checked=True,
            deliver=bool(matches),
            conceal_recipient=True,
        )
    except AppError as exc:  # an SMS limit: a mismatch stays the reason worth reading
        await record(mismatch or exc.code)
        raise
    await record(mismatch or (None if sent.delivered else "sms_limit"))
    ticket = await tickets.issue(
        "recovery.username_unit",
        {"phone": phone, "account_ids": matches, "unit_id": unit.id if unit else None},
        ttl_seconds=STEP_TTL_SECONDS,
    )
    return Step(ticket=ticket, phone=identifiers.mask_phone(phone), sent=sent)


async def username_by_unit_verify(ticket: str, *, code: str, origin: Origin) -> list[dict[str, Any]]:
    purpose = "recovery.username_unit"
    try:
        data = await tickets.peek(ticket, purpose)
    except AppError:
        return await _found_already(ticket, purpose, code)
    try:
        await sms_codes.check_code(data["phone"], "username_lookup", code)
    except AppError as exc:
        unit = await Unit.get_or_none(id=data["unit_id"]) if data.get("unit_id") else None
        await _audit_wrong_code(
            "recovery.username_code",
            ticket,
            exc,
            account_id=data["account_ids"][0] if data["account_ids"] else None,
            origin=origin,
            detail={"by": "unit", "unit_id": unit.id} if unit else {"by": "unit"},
            scope_path=unit.path if unit else None,
        )
        raise
    await tickets.consume(ticket, purpose)
    accounts = await Account.filter(id__in=data["account_ids"], is_active=True).order_by("id")
    async with tickets.remembered(ticket, purpose, _code_request(code), ttl_seconds=STEP_TTL_SECONDS) as answer:
        answer["accounts"] = await _found(accounts, origin)
    return answer["accounts"]


async def _found(accounts: list[Account], origin: Origin) -> list[dict[str, Any]]:
    result = []
    for account in accounts:
        units = await Membership.filter(account_id=account.id).order_by("id").values_list("unit__name", flat=True)
        result.append({"username": account.username, "name": _mask_name(account.name), "units": list(units)})
        await _audit("recovery.username_lookup", account_id=account.id, origin=origin)
    return result


async def _unit_by_code(credit_code: str | None, org_code: str | None) -> Unit | None:
    if credit_code:
        return await Unit.get_or_none(credit_code=credit_code.upper())
    if org_code:
        return await Unit.filter(org_code=org_code.upper()).order_by("id").first()
    return None


# R4: unit account recovery by credit code -------------------------------------------------------


async def unit_start(credit_code: str, *, captcha_id: str, captcha_answer: str, origin: Origin) -> Step:
    """The credit code + captcha: a ticket for the identity step, the same for an unknown code.
    Audited, in the unit's scope when the code names one."""
    await _require_captcha(captcha_id, captcha_answer)
    credit_code = credit_code.upper()
    unit = await Unit.get_or_none(credit_code=credit_code)
    await _audit(
        "recovery.unit_start",
        account_id=None,
        origin=origin,
        outcome="success" if unit else "failure",
        detail={"unit_id": unit.id} if unit else {"reason": "unknown_unit"},
        scope_path=unit.path if unit else None,
    )
    ticket = await tickets.issue(
        "recovery.unit",
        {"unit_id": unit.id if unit else None, "credit_code": credit_code},
        ttl_seconds=STEP_TTL_SECONDS,
    )
    return Step(ticket=ticket)


async def unit_identify(
    ticket: str,
    *,
    identity: str,
    name: str,
    id_number: str,
    new_agent_name: str,
    new_agent_phone: str,
    captcha_id: str,
    captcha_answer: str,
    origin: Origin,
) -> Step:
    """The legal representative or an agent of the unit proves who they are; a code goes to the new agent.

    ``ticket`` is the first step's, or for a resend (the code did not arrive, a field was corrected) the
    one the previous send answered: the code button of the page holds no other.

    Each unit has UNIT_IDENTITY_TRIES_PER_DAY checks a day, taken before the comparison (requests sent
    together cannot compare more) and given back only when no answer went out (a wrong captcha, an SMS
    limit). A matching identity takes one too: were only mismatches counted, whether the next try is
    refused would tell a prober that their last guess was right, which only the code may tell."""
    unit_id, credit_code, purpose = await _identify_ticket(ticket)
    unit = await Unit.get_or_none(id=unit_id) if unit_id else None
    tries_key = _unit_tries_key(unit, credit_code)
    if not await _take_unit_try(tries_key):
        if unit is not None:
            await _audit(
                "recovery.unit_identify",
                account_id=None,
                origin=origin,
                outcome="failure",
                detail={"identity": identity, "unit_id": unit.id, "reason": "too_many_tries"},
                scope_path=unit.path,
            )
        raise TooManyRequests("unit_recovery_limit", msg.UNIT_TRIES_USED_UP)
    try:
        matched = await _identity_matches(unit, identity, name=name, id_number=id_number)
        sent = await sms_codes.send_code(
            new_agent_phone,
            "unit_recovery",
            origin=origin,
            captcha_id=captcha_id,
            captcha_answer=captcha_answer,
            deliver=matched,
            conceal_recipient=True,
        )
    except Exception:
        await runtime.get().redis.decr(tries_key)  # refused before any code went out: nothing was answered
        raise
    if unit is not None:
        await _audit(
            "recovery.unit_identify",
            account_id=None,
            origin=origin,
            outcome="success" if matched else "failure",
            detail={"identity": identity, "unit_id": unit.id},
            scope_path=unit.path,
        )
    await tickets.consume(ticket, purpose)
    next_ticket = await tickets.issue(
        "recovery.unit_code",
        {
            "unit_id": unit.id if unit and matched else None,
            "credit_unit_id": unit.id if unit else None,  # the unit the credit code named (for a resend)
            "credit_code": credit_code,
            "phone": new_agent_phone,
            "name": new_agent_name,
            "identity": identity,
        },
        ttl_seconds=STEP_TTL_SECONDS,
    )
    return Step(ticket=next_ticket, phone=identifiers.mask_phone(new_agent_phone), sent=sent)


async def _identify_ticket(ticket: str) -> tuple[int | None, str, str]:
    """The unit the credit code named, the credit code and the purpose of ``ticket``: the first step's,
    or a previous send's."""
    try:
        data = await tickets.peek(ticket, "recovery.unit")
        unit_id, purpose = data["unit_id"], "recovery.unit"
    except AppError:
        data = await tickets.peek(ticket, "recovery.unit_code")
        unit_id, purpose = data.get("credit_unit_id"), "recovery.unit_code"
    return unit_id, data.get("credit_code", ""), purpose


async def _identity_matches(unit: Unit | None, identity: str, *, name: str, id_number: str) -> bool:
    if unit is None:
        return False
    id_index = runtime.get().vault.index("id_number", id_number)
    if identity == "legal_rep":
        return unit.legal_rep_name == name and unit.legal_rep_id_index == id_index
    # An agent: a member of the unit; only an admin of it when the unit has one (a viewer would
    # otherwise take the admin account over), any member when it has none (one is created).
    agents = Account.filter(memberships__unit_id=unit.id, is_active=True, name=name, id_number_index=id_index)
    has_admin = await Membership.filter(unit_id=unit.id, role=Role.ADMIN, account__is_active=True).exists()
    return await (agents.filter(memberships__role=Role.ADMIN) if has_admin else agents).exists()


def _unit_tries_key(unit: Unit | None, credit_code: str) -> str:
    """Today's identity checks of the unit (the Beijing date, the day its refusal speaks of); a credit
    code no unit has counts under its own name, so that its answers stay those of a unit."""
    subject = f"unit:{unit.id}" if unit is not None else f"code:{credit_code}"
    return f"recovery-unit-tries:{subject}:{runtime.get().clock.china_now().date().isoformat()}"


async def _take_unit_try(key: str) -> bool:
    """Count one identity check of the unit (atomically); False, and not counted, past the day's limit."""
    if await throttle.count(key, ttl_seconds=2 * 86400) <= UNIT_IDENTITY_TRIES_PER_DAY:
        return True
    await runtime.get().redis.decr(key)
    return False


async def unit_verify(ticket: str, *, code: str, origin: Origin, idempotency_key: str | None = None) -> tuple[str, str]:
    """The code from the new agent's phone: the unit's admin account is handed to the new agent, with a
    random temporary password by SMS to that phone. Returns (user name, unit name).

    Sent again after its answer was lost: the same answer with the same ``idempotency_key`` (no
    second hand-over, no second password), ``unit_already_recovered`` without it."""
    try:
        data = await tickets.peek(ticket, "recovery.unit_code")
    except AppError:
        done = await tickets.done(ticket, "recovery.unit_code", idempotency_key)
        if done is None:
            raise
        if not done.same_request:
            raise AppError("unit_already_recovered", msg.UNIT_ALREADY_RECOVERED, status=409) from None
        return done.answer["username"], done.answer["unit_name"]
    try:
        await sms_codes.check_code(data["phone"], "unit_recovery", code)
    except AppError as exc:
        # In the scope of the unit the credit code named, whether or not the identity matched.
        unit = await Unit.get_or_none(id=data["credit_unit_id"]) if data.get("credit_unit_id") else None
        await _audit_wrong_code(
            "recovery.unit_code",
            ticket,
            exc,
            account_id=None,
            origin=origin,
            detail={"unit_id": unit.id} if unit else None,
            scope_path=unit.path if unit else None,
        )
        raise
    await tickets.consume(ticket, "recovery.unit_code")
    async with tickets.remembered(ticket, "recovery.unit_code", idempotency_key) as answer:
        answer["username"], answer["unit_name"] = await _hand_unit_over(data, origin=origin)
    return answer["username"], answer["unit_name"]


async def _hand_unit_over(data: dict[str, Any], *, origin: Origin) -> tuple[str, str]:
    """The unit's admin account (made if it has none) to the new agent the verified ticket names."""
    unit = await Unit.get_or_none(id=data["unit_id"]) if data["unit_id"] else None
    if unit is None:  # no code was ever sent for an unmatched identity: answer like a wrong code
        raise AppError("sms_code_wrong", sms_codes.CODE_WRONG, fields={"code": sms_codes.CODE_WRONG})
    phone = data["phone"]
    password = await people.temporary_password()
    found = await people.unit_admin_account(unit)
    found_id = found.id if found else None
    username = f"{unit.credit_code}_ADMIN"

    async def hand_to_new_agent() -> Account:
        async with db.atomic():
            # Verifies of one unit take turns (as card logins do): each sees the admin the one before made.
            try:
                admin = await people.locked_unit_admin(unit)
            except people.UnitGone:  # deleted since it was read
                raise AppError("unit_gone", msg.UNIT_GONE, status=410) from None
            if (admin.id if admin else None) != found_id:  # made, changed or deactivated meanwhile
                raise Conflict("unit_admin_changed", msg.UNIT_ADMIN_CHANGED)
            released: dict[str, int] = {}
            if admin is None:
                person = await people.create_person(
                    username=username,
                    password=password,
                    name=data["name"],
                    phone=phone,
                    id_number=None,
                    unit_id=unit.id,
                    role=Role.ADMIN,
                )
                admin = person.account
            else:
                released = await people.hand_over(
                    admin, name=data["name"], phone=phone, id_number=None, password=password
                )
            await sms.queue(
                phone, "unit_recovered", {"unit": unit.name, "username": admin.username, "password": password.plain}
            )
            await audit.record(
                "recovery.unit_account",
                origin=origin,
                account_id=admin.id,
                scope_path=unit.path,
                target_type="account",
                target_id=admin.id,
                detail={"unit_id": unit.id, "identity": data["identity"], **released},
            )
        return admin

    try:
        admin = await hand_to_new_agent()
    except IntegrityError:  # nothing changed; asked after the rollback (PostgreSQL reads nothing more in it)
        holders = Account.filter(login_phone_index=runtime.get().vault.index("phone", phone))
        login_taken = await (holders.exclude(id=found_id) if found_id else holders).exists()
        name_taken = found is None and await Account.exists(username_key=username.lower())
        if not (login_taken or name_taken):
            raise
        # Another request took the phone's login or the user name between their check and the write:
        # once more, now seeing them taken (the account without phone login, the name with a suffix).
        admin = await hand_to_new_agent()
    await sessions.end_all(admin.id)
    return admin.username, unit.name
