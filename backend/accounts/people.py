"""People reached by phone: find the registered account behind a phone, or open a new one.

Shared by agents (R6), approved manual reviews (R5) and unit account recovery (R4). A new account
gets a generated user name, a random temporary password that must be changed, and phone login when
no other account has it. The caller runs these inside its own transaction and sends the SMS with
the password; the notice to a previous bound phone that the password does not reach is queued here.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tortoise.exceptions import IntegrityError

from backend.accounts.models import Account, Membership, RealnameLevel
from backend.cards.models import CardBinding
from backend.core import names, runtime, sms
from backend.core.passwords import generate_temporary_password
from backend.core.roles import FinanceAccess, Role
from backend.units.models import Unit
from backend.wechat import releases as wechat_releases

USERNAME_DIGITS = 8
T = TypeVar("T")


async def find_by_phone(phone: str) -> Account | None:
    """The active account a phone reaches: the one logging in by it, else the oldest one bound to it."""
    index = runtime.get().vault.index("phone", phone)
    holder = await Account.get_or_none(login_phone_index=index, is_active=True)
    if holder is not None:
        return holder
    return await Account.filter(phone_index=index, is_active=True).order_by("id").first()


async def phone_login_free(phone: str, *, except_account_id: int | None = None) -> bool:
    index = runtime.get().vault.index("phone", phone)
    query = Account.filter(login_phone_index=index)
    if except_account_id is not None:
        query = query.exclude(id=except_account_id)
    return not await query.exists()


async def with_phone_login(write: Callable[[str | None], Awaitable[T]], index: str | None) -> T:
    """Run ``write`` (its own transaction) with ``index`` as the login phone, the caller having found
    it free (:func:`phone_login_free`); when a parallel request switched it on for another account
    meanwhile (the unique index refuses the write), again without: one phone, one such account."""
    if index is None:
        return await write(None)
    try:
        return await write(index)
    except IntegrityError:
        if not await Account.filter(login_phone_index=index).exists():
            raise  # another unique value (a user name): the caller's to explain
        return await write(None)


async def unit_admin_account(unit: Unit) -> Account | None:
    """The unit's own admin account: active, admin of this unit, and of no other unit (the oldest)."""
    candidates = await Account.filter(
        is_active=True, memberships__unit_id=unit.id, memberships__role=Role.ADMIN
    ).order_by("id")
    for account in candidates:
        if await Membership.filter(account_id=account.id).count() == 1:
            return account
    return None


class UnitGone(LookupError):
    """The unit was deleted since it was read."""


async def locked_unit_admin(unit: Unit) -> Account | None:
    """Inside a transaction: the unit's own admin account as it is now, the unit and the account
    locked. Handing a unit's admin account over (recovery, review) takes turns on the unit's lock, and
    a deactivation on the account's: each sees what the one before did. Raises :class:`UnitGone`."""
    if await Unit.filter(id=unit.id).select_for_update(no_key=True).first() is None:
        raise UnitGone(unit.id)
    admin = await unit_admin_account(unit)
    if admin is None:
        return None
    return await Account.filter(id=admin.id, is_active=True).select_for_update(no_key=True).first()


async def free_username(wanted: str) -> str:
    """``wanted`` if nobody ever had it, else ``wanted_2``, ``wanted_3`` ... (names are never reused)."""
    candidate = wanted[:32]
    suffix = 1
    while await Account.filter(username_key=candidate.lower()).exists():
        suffix += 1
        candidate = f"{wanted[:28]}_{suffix}"
    return candidate


async def generate_username(prefix: str) -> str:
    """A free user name such as ``jb40813377``: random digits, so it says nothing about the person."""
    while True:
        candidate = f"{prefix}{secrets.randbelow(10**USERNAME_DIGITS):0{USERNAME_DIGITS}d}"
        if not await Account.filter(username_key=candidate.lower()).exists():
            return candidate


@dataclass(frozen=True)
class TemporaryPassword:
    plain: str  # for the SMS only
    hashed: str


async def temporary_password() -> TemporaryPassword:
    """A random temporary password and its hash (hash it before the transaction: Argon2 takes a while)."""
    plain = generate_temporary_password()
    return TemporaryPassword(plain=plain, hashed=await runtime.get().hasher.hash(plain))


@dataclass(frozen=True)
class NewPerson:
    account: Account
    membership: Membership


async def create_person(
    *,
    prefix: str = "u",
    username: str | None = None,
    password: TemporaryPassword,
    name: str,
    phone: str,
    id_number: str | None,
    unit_id: int,
    role: Role,
    finance_access: FinanceAccess = FinanceAccess.NONE,
    needs_sms_check: bool = False,
) -> NewPerson:
    """A new account with one membership (call inside a transaction; the caller queues the SMS).

    The user name is ``username`` (made free with a suffix if taken) or ``prefix`` + random digits.
    ``needs_sms_check``: the first login proves the bound phone by SMS first (P4: an operator an
    admin created).
    """
    rt = runtime.get()
    vault = rt.vault
    username = await free_username(username) if username else await generate_username(prefix)
    phone_index = vault.index("phone", phone)
    now = rt.clock.now()
    account = await Account.create(
        username=username,
        username_key=username.lower(),
        name=name,
        phone_enc=vault.encrypt("account.phone", phone),
        phone_index=phone_index,
        login_phone_index=phone_index if await phone_login_free(phone) else None,
        id_number_enc=vault.encrypt("account.id_number", id_number) if id_number else None,
        id_number_index=vault.index("id_number", id_number) if id_number else None,
        password_hash=password.hashed,
        must_change_password=True,
        needs_sms_check=needs_sms_check,
        created_at=now,
        updated_at=now,
    )
    membership = await Membership.create(
        account_id=account.id, unit_id=unit_id, role=role, finance_access=finance_access, created_at=now
    )
    return NewPerson(account=account, membership=membership)


async def _username_and_phone(account_id: int) -> tuple[str, str | None]:
    """The account's user name and bound phone (None without one), as the caller's transaction sees them."""
    row = await Account.filter(id=account_id).values("username", "phone_enc")
    username, phone_enc = row[0]["username"], row[0]["phone_enc"]
    return username, runtime.get().vault.decrypt("account.phone", phone_enc) if phone_enc else None


# The notice to the bound phone when a temporary password goes to another phone, per reason. An
# admin's reset sends the password itself to the bound phone, so it needs none.
_RESET_NOTICES = {wechat_releases.Reason.REVIEW_RESET: "password_reset_by_review"}


async def set_temporary_password(
    account_id: int, password_hash: str, *, reason: wechat_releases.Reason, sent_to: str | None = None
) -> int:
    """Give the account a temporary password (to change at the next login), unlock it, end its
    sessions and release its WeChat: whoever knew the old password may have bound theirs (its next
    login is told ``reason``). Inside the caller's transaction; answers how many WeChat identities
    were released, for the audit entry.

    A password that may go to another phone than the bound one (a manual review's: the phone in the
    request) is told to the bound phone, unless ``sent_to`` (where the password goes) is that phone:
    whoever talked a reviewer into it is not to take the account unnoticed."""
    notice = _RESET_NOTICES.get(reason)
    if notice is not None:
        username, bound = await _username_and_phone(account_id)
        if bound is not None and bound != sent_to:
            await sms.queue(bound, notice, {"username": username})
    now = runtime.get().clock.now()
    await Account.filter(id=account_id).update(
        password_hash=password_hash,
        needs_activation=False,  # a card-made account has its password now
        must_change_password=True,
        failed_logins=0,
        locked_until=None,
        sessions_revoked_at=now,
        updated_at=now,
    )
    return await wechat_releases.release(account_id, reason)


async def hand_over(
    account: Account, *, name: str, phone: str, id_number: str | None, password: TemporaryPassword
) -> dict[str, int]:
    """Give an existing account to another person (call inside a transaction): their name, phone and
    ID, a new temporary password, no real-name level, every older session void, and the WeChat and
    the card of the person before released (they would still log in or sign as this account).
    Answers how many of each were released, for the audit entry.

    The previous bound phone, when it is another, is told (R4, R5): whoever knew the legal
    representative's name and ID number is not to take the account unnoticed."""
    rt = runtime.get()
    vault = rt.vault
    now = rt.clock.now()
    username, previous = await _username_and_phone(account.id)
    if previous is not None and previous != phone:
        await sms.queue(previous, "account_handed_over", {"username": username})
    phone_index = vault.index("phone", phone)
    await Account.filter(id=account.id).update(
        **names.columns(name, Account),
        phone_enc=vault.encrypt("account.phone", phone),
        phone_index=phone_index,
        login_phone_index=phone_index if await phone_login_free(phone, except_account_id=account.id) else None,
        id_number_enc=vault.encrypt("account.id_number", id_number) if id_number else None,
        id_number_index=vault.index("id_number", id_number) if id_number else None,
        realname_level=RealnameLevel.NONE,
        password_hash=password.hashed,
        needs_activation=False,  # a card-made account has its password now
        must_change_password=True,
        needs_sms_check=False,
        failed_logins=0,
        locked_until=None,
        sessions_revoked_at=now,
        updated_at=now,
    )
    wechat_released = await wechat_releases.release(account.id, wechat_releases.Reason.HANDED_OVER)
    card_released = await CardBinding.filter(account_id=account.id).delete()
    return {"wechat_released": wechat_released, "card_released": card_released}
