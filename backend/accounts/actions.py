"""Every change to accounts and memberships. One function per change: permission, transaction,
audit entry inside it, and effects (SMS delivery, ending sessions) after commit.

Who may manage whom: an admin manages an account only when every membership of that account is in
the admin's scope, and each of them is either in a unit strictly below the admin's own with a role
no higher than the admin's, or in the admin's own unit with a lower role. So nobody manages a peer,
a superior, or a person who also works somewhere the admin does not oversee. Each change to an
existing account checks this again first in its transaction, the account's row locked
(:func:`_manageable_now`, by :func:`lock_account`), so two admins changing one account at once take turns.
"""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError

from backend.accounts import messages as msg
from backend.accounts import people
from backend.accounts.models import Account, Membership, RealnameLevel
from backend.accounts.queries import get_account, is_locked, memberships_scope
from backend.cards import actions as cards
from backend.cards import messages as cards_msg
from backend.cards.models import CardBinding
from backend.core import audit, db, identifiers, runtime, sessions, sms
from backend.core.actor import Actor
from backend.core.errors import AppError, Conflict, Forbidden, NotFound
from backend.core.passwords import generate_temporary_password
from backend.core.roles import FinanceAccess, Role, allows, rank
from backend.units.models import Unit
from backend.units.queries import get_unit
from backend.wechat import releases as wechat_releases


def _require(actor: Actor, permission: str) -> None:
    if not allows(actor.role, permission):
        raise Forbidden()


def may_assign(actor: Actor, unit: Unit, role: Role | str) -> bool:
    """May the actor give ``role`` in ``unit`` (a unit in its scope)?"""
    return may_assign_at(actor, unit.id, unit.path, role)


def may_assign_at(actor: Actor, unit_id: int, unit_path: str, role: Role | str) -> bool:
    """:func:`may_assign` for a unit known by its id and path (no model needed)."""
    if unit_id == actor.unit_id:
        return rank(role) < rank(actor.role)
    return actor.covers(unit_path) and rank(role) <= rank(actor.role)


def may_grant_finance(actor: Actor, unit_id: int, wanted: FinanceAccess) -> bool:
    """May the actor give ``wanted`` finance access in unit ``unit_id``? Never more than it sees:
    ``all`` only by whoever has all; ``own_region`` also by an own_region actor in its own unit (the
    same region; in a unit below, it would show co-ops the actor's own_region does not)."""
    if wanted == FinanceAccess.NONE or actor.finance_access == FinanceAccess.ALL:
        return True
    return wanted == FinanceAccess.OWN_REGION == actor.finance_access and unit_id == actor.unit_id


def _require_finance_grant(actor: Actor, unit_id: int, wanted: FinanceAccess) -> None:
    if not may_grant_finance(actor, unit_id, wanted):
        raise Forbidden("finance_too_high", msg.FINANCE_TOO_HIGH)


def _finance_after(
    actor: Actor, unit_id: int, current: Membership | None, wanted: FinanceAccess | None
) -> FinanceAccess:
    """The finance access a membership set leaves in unit ``unit_id``: ``wanted``, or when it was not
    sent the one the membership has (none in a unit added). Only a change is a grant: an access the
    membership already has stays, whoever changes its role."""
    if wanted is None:
        return FinanceAccess(current.finance_access) if current is not None else FinanceAccess.NONE
    if current is None or wanted != current.finance_access:
        _require_finance_grant(actor, unit_id, wanted)
    return wanted


async def _require_manageable(actor: Actor, account: Account) -> list[Membership]:
    if account.id == actor.account_id:
        raise Forbidden("not_self", msg.NOT_SELF)
    memberships = await Membership.filter(account_id=account.id).select_related("unit")
    if not memberships or not all(may_assign(actor, m.unit, m.role) for m in memberships):
        raise Forbidden("cannot_manage", msg.CANNOT_MANAGE)
    return memberships


async def lock_account(account_id: int) -> Account | None:
    """First in a change's transaction: the account as it is now (None: gone), its row locked until
    the commit. Every change to an account or its memberships takes it (here and in backend.agents),
    so two of them take turns and the later one sees what the earlier did."""
    return await Account.filter(id=account_id).select_for_update(no_key=True).first()


async def _manageable_now(actor: Actor, account_id: int, *, active: bool = False) -> tuple[Account, list[Membership]]:
    """First in the change's transaction: the account as it is now, its row locked, checked again. A
    change another admin committed since the first checks (a role or unit the actor does not oversee,
    a removed unit, a deactivation, a new phone) is seen, and one that comes later waits for this one
    (every change here takes this lock). ``active``: a deactivated account answers 409."""
    account = await lock_account(account_id)
    if account is None:
        raise NotFound()
    memberships = await _require_manageable(actor, account)
    if active:
        _require_active(account)
    return account, memberships


def _require_active(account: Account) -> None:
    if not account.is_active:
        raise Conflict("account_deactivated", msg.ALREADY_DEACTIVATED)


def _require_phone_move(actor: Actor, memberships: list[Membership]) -> None:
    """The bound phone receives the password resets: moving it would hand the account, and finance
    access the actor could not grant, to whoever holds the new phone."""
    if not all(may_grant_finance(actor, m.unit.id, m.finance_access) for m in memberships):
        raise Forbidden("finance_too_high", msg.PHONE_OF_HIGHER_FINANCE)


def _require_phone(account: Account) -> None:
    """A temporary password goes by SMS: an account without a bound phone (made by a card login)
    cannot get one."""
    if not account.phone_enc:
        raise Conflict("no_phone", msg.NO_PHONE_FOR_RESET)


def _require_locked(account: Account) -> None:
    if not is_locked(account, runtime.get().clock.now()) and account.failed_logins == 0:
        raise Conflict("not_locked", msg.NOT_LOCKED)


async def _audit_account(
    action: str, actor: Actor, account_id: int, memberships: list[Membership], detail: dict[str, Any] | None = None
) -> None:
    """The audit entry of a change to one account (call inside the change's transaction)."""
    await audit.record(
        action,
        actor=actor,
        scope_path=memberships_scope(memberships),
        target_type="account",
        target_id=account_id,
        detail=detail,
    )


async def _end_all(account_id: int) -> None:
    await sessions.end_all(account_id)


async def _end_unit_sessions(account_id: int, membership_id: int) -> None:
    """End, for good, the sessions working for a unit taken away; those of its other units go on."""
    await sessions.end_matching(account_id, lambda record: record.membership_id == membership_id)


async def create_account(
    actor: Actor,
    *,
    username: str,
    name: str,
    phone: str,
    unit_id: int,
    role: Role,
    finance_access: FinanceAccess = FinanceAccess.NONE,
    id_number: str | None = None,
) -> Account:
    """Create an account in a unit of the actor's scope; a random temporary password goes out by SMS."""
    _require(actor, "accounts.manage")
    unit = await get_unit(actor, unit_id)
    if not may_assign(actor, unit, role):
        raise Forbidden("role_too_high", msg.ROLE_TOO_HIGH)
    _require_finance_grant(actor, unit.id, finance_access)
    rt = runtime.get()
    if await Account.filter(username_key=username.lower()).exists():
        raise Conflict("username_taken", msg.USERNAME_TAKEN, {"username": msg.USERNAME_TAKEN})
    phone_index = rt.vault.index("phone", phone)
    phone_login_free = await people.phone_login_free(phone)
    password = generate_temporary_password()
    password_hash = await rt.hasher.hash(password)
    now = rt.clock.now()

    async def insert(login_phone_index: str | None) -> Account:
        async with db.atomic():
            account = await Account.create(
                username=username,
                username_key=username.lower(),
                name=name,
                phone_enc=rt.vault.encrypt("account.phone", phone),
                phone_index=phone_index,
                login_phone_index=login_phone_index,
                id_number_enc=rt.vault.encrypt("account.id_number", id_number) if id_number else None,
                id_number_index=rt.vault.index("id_number", id_number) if id_number else None,
                password_hash=password_hash,
                must_change_password=True,
                needs_sms_check=True,  # P4: first login proves the bound phone by SMS
                created_at=now,
                updated_at=now,
            )
            await Membership.create(
                account_id=account.id, unit_id=unit.id, role=role, finance_access=finance_access, created_at=now
            )
            await sms.queue(phone, "account_created", {"username": username, "password": password})
            await audit.record(
                "account.create",
                actor=actor,
                scope_path=unit.path,
                target_type="account",
                target_id=account.id,
                detail={"unit_id": unit.id, "role": role.value, "finance_access": finance_access.value},
            )
        return account

    try:
        account = await people.with_phone_login(insert, phone_index if phone_login_free else None)
    except IntegrityError as exc:  # asked after the rollback: a failed PostgreSQL transaction reads nothing
        if not await Unit.exists(id=unit.id):  # deleted since it was read: the key refused the membership
            raise NotFound() from exc
        if await Account.exists(username_key=username.lower()):  # a parallel request took the name
            raise Conflict("username_taken", msg.USERNAME_TAKEN, {"username": msg.USERNAME_TAKEN}) from exc
        raise
    return account


async def update_account(actor: Actor, account_id: int, changes: dict[str, Any]) -> Account:
    """Edit name, phone or ID number of a manageable account; a phone moved is told to the old one."""
    _require(actor, "accounts.manage")
    account = await get_account(actor, account_id)
    memberships = await _require_manageable(actor, account)
    if not changes:
        return account
    _require_active(account)
    await cards.require_card_peer(actor, account.id)
    rt = runtime.get()
    new_phone_index = rt.vault.index("phone", changes["phone"]) if "phone" in changes else None
    moves_phone = new_phone_index is not None and new_phone_index != account.phone_index
    if moves_phone:
        _require_phone_move(actor, memberships)
    old_name = account.name
    update_fields = ["updated_at"]
    if "name" in changes:
        account.name = changes["name"]
        update_fields.append("name")
    if "phone" in changes:
        account.phone_enc = rt.vault.encrypt("account.phone", changes["phone"])
        account.phone_index = new_phone_index
        update_fields += ["phone_enc", "phone_index"]
    moves_login = "phone" in changes and account.login_phone_index is not None
    login_index = None
    if moves_login:
        free = await people.phone_login_free(changes["phone"], except_account_id=account.id)
        login_index = new_phone_index if free else None
        update_fields.append("login_phone_index")
    identity_changed = False
    if "name" in changes and changes["name"] != old_name:
        identity_changed = True
    if "id_number" in changes:
        value = changes["id_number"]
        new_index = rt.vault.index("id_number", value) if value else None
        identity_changed = identity_changed or new_index != account.id_number_index
        account.id_number_enc = rt.vault.encrypt("account.id_number", value) if value else None
        account.id_number_index = new_index
        update_fields += ["id_number_enc", "id_number_index"]
    if identity_changed:  # the card and the real-name check named the person as they were
        account.realname_level = RealnameLevel.NONE
        update_fields.append("realname_level")
    account.updated_at = rt.clock.now()

    async def write(login: str | None) -> None:
        async with db.atomic():
            current, memberships_now = await _manageable_now(actor, account.id, active=True)
            # Against the phone as it is now (another admin may have replaced it meanwhile: resending the
            # old one moves it back), and the finance access granted meanwhile counts too.
            if new_phone_index is not None and new_phone_index != current.phone_index:
                _require_phone_move(actor, memberships_now)
            if moves_login:  # unless the owner switched phone login off meanwhile
                account.login_phone_index = login if current.login_phone_index is not None else None
            await account.save(update_fields=update_fields)
            if new_phone_index is not None and new_phone_index != current.phone_index and current.phone_enc:
                # The phone it moves away from hears of it (a reset would next go to the new one), as
                # after a change by the owner (backend.profile.actions).
                old_phone = rt.vault.decrypt("account.phone", current.phone_enc)
                notice = {"username": current.username, "phone": identifiers.mask_phone(changes["phone"])}
                await sms.queue(old_phone, "phone_changed", notice)
            card_unbound = identity_changed and await cards.release_card(account.id, session_id=actor.session_id)
            detail = {
                "fields": sorted(changes),
                "realname_voided": int(identity_changed),
                "card_unbound": int(card_unbound),
            }
            await _audit_account("account.update", actor, account.id, memberships_now, detail=detail)

    # A parallel phone login switched on for the new phone meanwhile: the edit lands without it.
    await people.with_phone_login(write, login_index)
    return account


async def set_membership(
    actor: Actor, account_id: int, *, unit_id: int, role: Role, finance_access: FinanceAccess | None = None
) -> Membership:
    """Give a manageable account a role in a unit of the actor's scope (add, or change the role).
    ``finance_access`` None: the one it has there (none in a unit added), see :func:`_finance_after`."""
    _require(actor, "accounts.manage")
    account = await get_account(actor, account_id)
    seen = await _require_manageable(actor, account)
    _require_active(account)
    await cards.require_card_peer(actor, account.id)
    unit = await get_unit(actor, unit_id)
    if not may_assign(actor, unit, role):
        raise Forbidden("role_too_high", msg.ROLE_TOO_HIGH)
    _finance_after(actor, unit.id, next((m for m in seen if m.unit.id == unit.id), None), finance_access)
    now = runtime.get().clock.now()
    try:
        async with db.atomic():
            _, memberships = await _manageable_now(actor, account.id, active=True)
            existing = next((m for m in memberships if m.unit.id == unit.id), None)
            had = any(m.unit.id == unit.id for m in seen)
            if existing is not None and not had:
                raise Conflict("membership_exists", msg.MEMBERSHIP_EXISTS)  # another admin added it meanwhile
            if existing is None and had:  # another admin took it away meanwhile: a role change adds nothing back
                raise Conflict("membership_removed", msg.MEMBERSHIP_REMOVED)
            # As it is now: an access another admin took away meanwhile would be granted again.
            finance = _finance_after(actor, unit.id, existing, finance_access)
            before: dict[str, str | None] = {"from_role": None, "from_finance_access": None}
            if existing is None:
                membership = await Membership.create(
                    account_id=account.id, unit_id=unit.id, role=role, finance_access=finance, created_at=now
                )
            else:
                before = {
                    "from_role": Role(existing.role).value,
                    "from_finance_access": FinanceAccess(existing.finance_access).value,
                }
                existing.role = role
                existing.finance_access = finance
                await existing.save(update_fields=["role", "finance_access"])
                membership = existing
            await audit.record(
                "membership.set",
                actor=actor,
                scope_path=unit.path,
                target_type="account",
                target_id=account.id,
                detail={"unit_id": unit.id, "role": role.value, "finance_access": finance.value, **before},
            )
    except IntegrityError as exc:  # nothing changed; asked after the rollback (PostgreSQL reads nothing more in it)
        if not await Unit.exists(id=unit.id) or not await Account.exists(id=account.id):
            raise NotFound() from exc  # deleted since it was read (a unit delete): the key refused the row
        if await Membership.exists(account_id=account.id, unit_id=unit.id):  # a parallel add of this unit won
            raise Conflict("membership_exists", msg.MEMBERSHIP_EXISTS) from exc
        raise
    return membership


async def remove_membership(actor: Actor, account_id: int, *, unit_id: int) -> None:
    """Take a manageable live account out of one unit; its last unit cannot be removed (deactivate
    instead), and a deactivated account keeps its units (for the record, as backend.units keeps them)."""
    _require(actor, "accounts.manage")
    account = await get_account(actor, account_id)
    await _require_manageable(actor, account)
    _require_active(account)
    await cards.require_card_peer(actor, account.id)
    async with db.atomic():
        _, memberships = await _manageable_now(actor, account.id, active=True)
        target = next((m for m in memberships if m.unit.id == unit_id), None)
        if target is None:
            raise NotFound(msg.NOT_A_MEMBER)  # every unit of a manageable account is in scope: this says nothing more
        if len(memberships) == 1:
            raise Conflict("last_membership", msg.LAST_MEMBERSHIP)
        await target.delete()
        await audit.record(
            "membership.remove",
            actor=actor,
            scope_path=target.unit.path,
            target_type="account",
            target_id=account.id,
            detail={
                "unit_id": unit_id,
                "role": Role(target.role).value,
                "finance_access": FinanceAccess(target.finance_access).value,
            },
        )
        db.after_commit(lambda: _end_unit_sessions(account.id, target.id))


async def reset_password(actor: Actor, account_id: int) -> None:
    """New random temporary password by SMS, must be changed; all sessions of the account end, and
    its WeChat is released (whoever knew the old password may have bound theirs; the owner's next
    WeChat login binds again with the new password)."""
    _require(actor, "accounts.manage")
    account = await get_account(actor, account_id)
    await _require_manageable(actor, account)
    await cards.require_card_peer(actor, account.id)
    _require_active(account)
    _require_phone(account)
    rt = runtime.get()
    password = generate_temporary_password()
    password_hash = await rt.hasher.hash(password)
    async with db.atomic():
        account, memberships = await _manageable_now(actor, account.id, active=True)
        _require_phone(account)  # the phone as it is now: another admin may have just replaced a lost one
        phone = rt.vault.decrypt("account.phone", account.phone_enc)
        wechat_released = await people.set_temporary_password(
            account.id, password_hash, reason=wechat_releases.Reason.ADMIN_RESET
        )
        await sms.queue(phone, "password_reset", {"username": account.username, "password": password})
        await _audit_account(
            "account.reset_password", actor, account.id, memberships, detail={"wechat_released": wechat_released}
        )
        db.after_commit(lambda: _end_all(account.id))


async def unlock_account(actor: Actor, account_id: int) -> None:
    """Clear a lock (or the count of wrong passwords towards one) of a manageable live account."""
    _require(actor, "accounts.manage")
    account = await get_account(actor, account_id)
    await _require_manageable(actor, account)
    _require_active(account)
    _require_locked(account)
    async with db.atomic():
        account, memberships = await _manageable_now(actor, account.id, active=True)
        _require_locked(account)  # not unlocked by another admin meanwhile
        await Account.filter(id=account.id).update(failed_logins=0, locked_until=None)
        await _audit_account("account.unlock", actor, account.id, memberships)


async def deactivate_account(actor: Actor, account_id: int) -> None:
    """Deactivate for good: the user name stays taken, every session ends, and the WeChat identity
    and the card it had are released (so the same person can bind them to a new account)."""
    _require(actor, "accounts.manage")
    account = await get_account(actor, account_id)
    await _require_manageable(actor, account)
    await cards.require_card_peer(actor, account.id)
    _require_active(account)
    now = runtime.get().clock.now()
    async with db.atomic():
        _, memberships = await _manageable_now(actor, account.id, active=True)
        await Account.filter(id=account.id).update(
            is_active=False, deactivated_at=now, login_phone_index=None, sessions_revoked_at=now, updated_at=now
        )
        wechat_released = await wechat_releases.release(account.id, wechat_releases.Reason.DEACTIVATED)
        card_released = await CardBinding.filter(account_id=account.id).delete()
        detail = {"wechat_released": wechat_released, "card_released": card_released}
        await _audit_account("account.deactivate", actor, account.id, memberships, detail=detail)
        db.after_commit(lambda: _end_all(account.id))


async def unbind_wechat(actor: Actor, account_id: int) -> None:
    """An admin removes the WeChat identity of an account they manage (a lost or handed-on phone):
    every session of the account ends too, or the phone would stay logged in until it idled out."""
    _require(actor, "accounts.manage")
    account = await get_account(actor, account_id)
    await _require_manageable(actor, account)
    now = runtime.get().clock.now()
    async with db.atomic():
        _, memberships = await _manageable_now(actor, account.id)
        removed = await wechat_releases.release(account.id, wechat_releases.Reason.ADMIN_UNBOUND)
        if not removed:
            raise NotFound(msg.WECHAT_NOT_BOUND)
        await Account.filter(id=account.id).update(sessions_revoked_at=now, updated_at=now)
        await _audit_account("wechat.unbind", actor, account.id, memberships, detail={"by": "admin"})
        db.after_commit(lambda: _end_all(account.id))


async def unbind_card(actor: Actor, account_id: int) -> None:
    """An admin with a card of their own (C6) removes the card of an account they manage: lost, or
    bound before issue dates were kept (no replacement takes it over), by a holder who may have no
    password to log in and unbind it. The sessions that card started end."""
    _require(actor, "accounts.manage")
    account = await get_account(actor, account_id)
    await _require_manageable(actor, account)
    await cards.require_card_peer(actor, account.id)
    async with db.atomic():
        _, memberships = await _manageable_now(actor, account.id)
        if not await cards.release_card(account.id, session_id=None):
            raise NotFound(cards_msg.ACCOUNT_HAS_NO_CARD)
        await _audit_account("card.unbind", actor, account.id, memberships, detail={"by": "admin"})


async def reveal(actor: Actor, account_id: int, *, field: str) -> str:
    """The unmasked phone or ID number of an account in scope, for roles allowed to see it; audited.
    Not of one that also works in a unit outside the scope (above the actor, or beside it): its row
    in scope shows, its personal data does not. Nor of one with a role above the actor's anywhere
    (P2; one above in the actor's unit or above it is not found at all). A peer's is revealed."""
    _require(actor, "accounts.reveal")
    account = await get_account(actor, account_id)
    memberships = await Membership.filter(account_id=account.id).select_related("unit")
    if not all(actor.covers(m.unit.path) for m in memberships):
        raise Forbidden("beyond_scope", msg.REVEAL_BEYOND_SCOPE)
    if any(rank(m.role) > rank(actor.role) for m in memberships):
        raise Forbidden("above_level", msg.REVEAL_ABOVE_LEVEL)
    sealed = account.phone_enc if field == "phone" else account.id_number_enc
    if not sealed:
        raise AppError("no_value", msg.NO_SUCH_FIELD_VALUE, status=404)
    async with db.atomic():
        await _audit_account("account.reveal", actor, account.id, memberships, detail={"field": field})
    return runtime.get().vault.decrypt(f"account.{field}", sealed)


async def end_sessions(actor: Actor, account_id: int) -> int:
    """An admin ends every session of a manageable account."""
    _require(actor, "accounts.manage")
    account = await get_account(actor, account_id)
    await _require_manageable(actor, account)
    now = runtime.get().clock.now()
    async with db.atomic():
        _, memberships = await _manageable_now(actor, account.id)
        # Also in the database: a refresh or a login already past its checks cannot outlive this.
        await Account.filter(id=account.id).update(sessions_revoked_at=now, updated_at=now)
        await _audit_account("account.end_sessions", actor, account.id, memberships)
    return await sessions.end_all(account.id)
