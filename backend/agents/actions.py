"""Every change to the agents of a unit (R6): add by phone, unbind in two steps.

A new phone gets a new account in one step. A registered account joins only with its owner's consent:
a code goes to its bound phone and the admin confirms with it (the account is the person's, and its
admins manage it only while all its units are in their scope); a superior is refused outright.

The rights are those of account management (``may_assign``): an admin adds or unbinds agents in its
own unit (roles below its own) and in the units below it (roles up to its own). Unbinding removes
the membership only, never the account; the agent's sessions working for that unit end.

A write to an existing account locks its row first in its transaction, as every account action does
(:func:`backend.accounts.actions.lock_account`), and checks again under the lock: a deactivation,
a new phone, a role or a unit another admin changed meanwhile is seen, and a later change waits.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from backend.accounts import actions as account_actions
from backend.accounts import people
from backend.accounts.actions import may_assign
from backend.accounts.models import Account, Membership
from backend.agents import messages as msg
from backend.agents.queries import get_agent
from backend.cards import actions as cards
from backend.core import audit, db, identifiers, messages, names, runtime, sessions, sms, sms_codes, tickets
from backend.core.actor import Actor
from backend.core.errors import AppError, Conflict, Forbidden, NotFound
from backend.core.roles import Role, allows
from backend.units.models import Unit
from backend.units.queries import get_unit

USERNAME_PREFIX = "jb"  # 经办
UNBIND_PURPOSE = "agent.unbind"
UNBIND_TTL_SECONDS = 2 * 60
CONSENT_PURPOSE = "agent.consent"
CONSENT_CODE = "agent_consent"  # the SMS code's purpose (backend.core.sms_codes.PURPOSES)
CONSENT_TTL_SECONDS = 10 * 60


def _require(actor: Actor, permission: str) -> None:
    if not allows(actor.role, permission):
        raise Forbidden()


@dataclass(frozen=True)
class AddedAgent:
    membership: Membership  # with .account and .unit loaded
    new_account: bool


@dataclass(frozen=True)
class ConsentAsked:
    """A code went to the registered account's bound phone; :func:`confirm_add` binds with it."""

    ticket: str
    phone: str  # masked
    expires_in: int
    resend_after: int


async def add_agent(
    actor: Actor, unit_id: int, *, phone: str, name: str, id_number: str | None, role: Role
) -> AddedAgent | ConsentAsked:
    """Bind the person behind ``phone`` to the unit: a registered account is asked for its consent by
    an SMS code (:func:`confirm_add` binds); an unknown phone gets a new account whose temporary
    password goes out by SMS.

    ``name`` checks a registered phone: a digit typed wrong reaches someone else's account, which
    would get the unit. Refused unless an account on the phone bears that name, without saying whose
    the phone is (the admin typed it, maybe wrongly: it may be a stranger's)."""
    _require(actor, "accounts.manage")
    unit = await get_unit(actor, unit_id)
    if not may_assign(actor, unit, role):
        raise Forbidden("role_too_high", msg.ROLE_TOO_HIGH)
    existing = await _registered(phone, name)
    if existing is not None:
        return await _ask_consent(actor, existing, unit, phone=phone, name=name, role=role)
    if id_number is not None:
        await _require_not_in_unit(unit, id_number)
    password = await people.temporary_password()
    username = await people.generate_username(USERNAME_PREFIX)  # drawn here: a failed insert asks for it
    try:
        async with db.atomic():
            person = await people.create_person(
                username=username,
                password=password,
                name=name,
                phone=phone,
                id_number=id_number,
                unit_id=unit.id,
                role=role,
                needs_sms_check=True,  # P4: an operator an admin created proves the phone at first login
            )
            found = await people.find_by_phone(phone)
            if found is None or found.id != person.account.id:
                # A parallel request registered the phone since it was looked up (its account has the
                # phone's login, or is older): one person, one account. It binds on a retry.
                raise Conflict("agent_busy", msg.BUSY)
            await sms.queue(
                phone,
                "agent_added",
                {"unit": unit.name, "username": person.account.username, "password": password.plain},
            )
            await audit.record(
                "agent.add",
                actor=actor,
                scope_path=unit.path,
                target_type="account",
                target_id=person.account.id,
                detail={"unit_id": unit.id, "role": role.value, "new_account": True},
            )
    except IntegrityError as exc:  # asked after the rollback: a failed PostgreSQL transaction reads nothing
        if not await Unit.exists(id=unit.id):  # deleted since it was read: the key refused the membership
            raise NotFound() from exc
        if not await people.phone_login_free(phone):  # a parallel request registered the phone: it binds now
            raise Conflict("agent_busy", msg.BUSY) from exc
        if await Account.exists(username_key=username.lower()):  # a parallel request took the drawn name
            raise Conflict("write_conflict", messages.WRITE_CONFLICT) from exc
        raise
    person.membership.account = person.account
    person.membership.unit = unit
    return AddedAgent(membership=person.membership, new_account=True)


def _name_mismatch() -> Conflict:
    return Conflict("agent_name_mismatch", msg.NAME_MISMATCH, fields={"phone": msg.NAME_MISMATCH})


async def _registered(phone: str, name: str) -> Account | None:
    """The active account of ``name`` that ``phone`` reaches: the one it reaches
    (:func:`backend.accounts.people.find_by_phone`), else another on the phone of that name (a family
    sharing a phone); None when no active account has the phone. Refused when none has the name."""
    found = await people.find_by_phone(phone)
    if found is None or names.same_name(name, found.name):
        return found
    index = runtime.get().vault.index("phone", phone)
    for account in await Account.filter(phone_index=index, is_active=True).exclude(id=found.id).order_by("id"):
        if names.same_name(name, account.name):
            return account
    raise _name_mismatch()


async def _require_not_in_unit(unit: Unit, id_number: str) -> None:
    """A new phone with the ID number of someone working for the unit is that person again (another
    phone of theirs, or a new one): a second account beside theirs is refused. Only this unit's own
    people are asked, whom the admin sees anyway; elsewhere the ID number says nothing."""
    index = runtime.get().vault.index("id_number", id_number)
    same = await Account.filter(memberships__unit_id=unit.id, id_number_index=index, is_active=True).first()
    if same is not None:
        raise Conflict("agent_exists", msg.SAME_ID_NUMBER.format(username=same.username))


async def _require_not_superior(actor: Actor, account_id: int) -> None:
    """An admin takes no superior as its agent: a system admin, or an admin of its unit or above."""
    held = await Membership.filter(account_id=account_id, role__in=[Role.ADMIN, Role.SYSADMIN]).values_list(
        "role", "unit__path"
    )
    if any(Role(role) == Role.SYSADMIN or actor.unit_path.startswith(path) for role, path in held):
        raise Forbidden("agent_superior", msg.SUPERIOR)


async def _require_bindable(actor: Actor, account_id: int, unit: Unit) -> None:
    if account_id == actor.account_id:
        raise Forbidden("not_self", msg.NOT_SELF)
    await _require_not_superior(actor, account_id)
    if await Membership.filter(account_id=account_id, unit_id=unit.id).exists():
        raise Conflict("agent_exists", msg.AGENT_EXISTS)


async def _ask_consent(
    actor: Actor, account: Account, unit: Unit, *, phone: str, name: str, role: Role
) -> ConsentAsked:
    """A code to the account's bound phone (the limits of every SMS code: cooldown, daily cap) and a
    ticket for this session, unit and role; nothing is bound yet."""
    await _require_bindable(actor, account.id, unit)
    sent = await sms_codes.send_code(
        phone,
        CONSENT_CODE,
        origin=actor.origin,
        captcha_id=None,
        captcha_answer=None,
        captcha_checked=True,  # an admin's session, not an anonymous form
        deliver=True,
    )
    ticket = await tickets.issue(
        CONSENT_PURPOSE,
        {
            "unit_id": unit.id,
            "account_id": account.id,
            "phone": phone,
            "name": name,
            "role": role.value,
            "session": actor.session_id,
        },
        ttl_seconds=CONSENT_TTL_SECONDS,
    )
    async with db.atomic():
        await audit.record(
            "agent.add_asked",
            actor=actor,
            scope_path=unit.path,
            target_type="account",
            target_id=account.id,
            detail={"unit_id": unit.id, "role": role.value},
        )
    return ConsentAsked(
        ticket=ticket, phone=identifiers.mask_phone(phone), expires_in=sent.expires_in, resend_after=sent.resend_after
    )


async def confirm_add(actor: Actor, unit_id: int, *, ticket: str, code: str) -> AddedAgent:
    """Step two for a registered account: with the code its owner gave (the ticket of this session and
    unit), bind it, checking everything again. A wrong code keeps the ticket (five void the code)."""
    _require(actor, "accounts.manage")
    data = await tickets.peek(ticket, CONSENT_PURPOSE)
    if (data["unit_id"], data["session"]) != (unit_id, actor.session_id):
        raise AppError("ticket_invalid", tickets.TICKET_INVALID, status=410)
    await sms_codes.check_code(data["phone"], CONSENT_CODE, code)
    await tickets.consume(ticket, CONSENT_PURPOSE)
    unit = await get_unit(actor, unit_id)
    role = Role(data["role"])
    if not may_assign(actor, unit, role):
        raise Forbidden("role_too_high", msg.ROLE_TOO_HIGH)
    account = await Account.get_or_none(id=data["account_id"])
    if account is None:
        raise AppError("ticket_invalid", tickets.TICKET_INVALID, status=410)
    membership = await _bind_existing(actor, account, unit, phone=data["phone"], name=data["name"], role=role)
    return AddedAgent(membership=membership, new_account=False)


async def _bind_existing(
    actor: Actor, account: Account, unit: Unit, *, phone: str, name: str, role: Role
) -> Membership:
    await _require_bindable(actor, account.id, unit)
    # Agents log in by phone: switch it on if no other account has it (else the notice names the user name).
    switch_login = account.login_phone_index is None and await people.phone_login_free(phone)
    rt = runtime.get()
    phone_index = rt.vault.index("phone", phone)
    now = rt.clock.now()

    async def bind(login_phone_index: str | None) -> Membership:
        async with db.atomic():
            current = await account_actions.lock_account(account.id)
            if current is None or not current.is_active or current.phone_index != phone_index:
                # Deactivated, or given another phone, since it was found: the phone reaches someone else now.
                raise Conflict("write_conflict", messages.WRITE_CONFLICT)
            if not names.same_name(name, current.name):  # renamed since it was found: no longer the person meant
                raise _name_mismatch()
            await _require_not_superior(actor, account.id)  # made an admin above meanwhile
            if await Membership.filter(account_id=account.id, unit_id=unit.id).exists():
                raise Conflict("agent_exists", msg.AGENT_EXISTS)  # added by another admin meanwhile
            if current.login_phone_index is not None:  # the owner switched it on meanwhile
                login_phone_index = None
            membership = await Membership.create(account_id=account.id, unit_id=unit.id, role=role, created_at=now)
            if login_phone_index is not None:
                await Account.filter(id=account.id).update(login_phone_index=login_phone_index, updated_at=now)
            # The notice says how the person logs in: by phone only where that login is theirs.
            if login_phone_index is not None or current.login_phone_index == phone_index:
                await sms.queue(phone, "agent_unit_added", {"unit": unit.name})
            else:
                await sms.queue(phone, "agent_unit_added_username", {"unit": unit.name, "username": current.username})
            await audit.record(
                "agent.add",
                actor=actor,
                scope_path=unit.path,
                target_type="account",
                target_id=account.id,
                detail={
                    "unit_id": unit.id,
                    "role": role.value,
                    "new_account": False,
                    "phone_login_on": login_phone_index is not None,
                },
            )
        return membership

    try:
        # Another account switched phone login on for the phone meanwhile: the person is added without it.
        membership = await people.with_phone_login(bind, account.phone_index if switch_login else None)
    except IntegrityError as exc:  # asked after the rollback, as above
        if not await Unit.exists(id=unit.id):  # deleted since it was read: the key refused the membership
            raise NotFound() from exc
        if await Membership.filter(account_id=account.id, unit_id=unit.id).exists():  # added twice at once
            raise Conflict("agent_exists", msg.AGENT_EXISTS) from exc
        raise
    membership.account = account
    membership.unit = unit
    return membership


@dataclass(frozen=True)
class UnbindPlan:
    ticket: str
    expires_in: int
    membership: Membership  # with .account and .unit loaded
    last_unit: bool


async def _unbindable(actor: Actor, unit_id: int, account_id: int) -> Membership:
    _require(actor, "accounts.manage")
    membership = await get_agent(actor, unit_id, account_id)
    if account_id == actor.account_id:
        raise Forbidden("not_self", msg.NOT_SELF)
    if not may_assign(actor, membership.unit, membership.role):
        raise Forbidden("cannot_unbind", msg.CANNOT_UNBIND)
    if not membership.account.is_active:  # kept for the record, as backend.accounts and backend.units keep it
        raise Conflict("account_deactivated", msg.DEACTIVATED)
    await cards.require_card_peer(actor, account_id)  # C6: a card holder is changed only by a card holder
    return membership


async def request_unbind(actor: Actor, unit_id: int, account_id: int) -> UnbindPlan:
    """Step one: say who leaves which unit and hand out a confirmation ticket. Changes nothing."""
    membership = await _unbindable(actor, unit_id, account_id)
    others = await Membership.filter(account_id=account_id).exclude(id=membership.id).count()
    ticket = await tickets.issue(
        UNBIND_PURPOSE,
        {
            "membership_id": membership.id,
            "unit_id": unit_id,
            "account_id": account_id,
            "session": actor.session_id,
            "last_unit": others == 0,  # what the admin was told: the confirmation holds to it
        },
        ttl_seconds=UNBIND_TTL_SECONDS,
    )
    return UnbindPlan(ticket=ticket, expires_in=UNBIND_TTL_SECONDS, membership=membership, last_unit=others == 0)


async def confirm_unbind(actor: Actor, unit_id: int, account_id: int, *, ticket: str) -> None:
    """Step two: with the ticket of step one (same session, same agent), remove the membership."""
    _require(actor, "accounts.manage")
    data = await tickets.consume(ticket, UNBIND_PURPOSE)
    if (data["unit_id"], data["account_id"], data["session"]) != (unit_id, account_id, actor.session_id):
        raise AppError("ticket_invalid", tickets.TICKET_INVALID, status=410)
    async with db.atomic():
        await account_actions.lock_account(account_id)  # first, as every account action: they take turns
        membership = await _unbindable(actor, unit_id, account_id)  # as it is now, under the lock
        if membership.id != data["membership_id"]:  # removed and added again since step one
            raise AppError("ticket_invalid", tickets.TICKET_INVALID, status=410)
        remaining = await Membership.filter(account_id=account_id).exclude(id=membership.id).count()
        if remaining == 0 and not data.get("last_unit", False):
            # Step one said the person keeps another unit; it was taken away since: ask again, with the warning.
            raise Conflict("agent_changed", msg.AGENT_CHANGED)
        if not await Membership.filter(id=membership.id).delete():
            raise NotFound(msg.NOT_AN_AGENT)
        await audit.record(
            "agent.unbind",
            actor=actor,
            scope_path=membership.unit.path,
            target_type="account",
            target_id=account_id,
            detail={"unit_id": unit_id, "role": Role(membership.role).value, "last_unit": remaining == 0},
        )
        db.after_commit(lambda: _end_unit_sessions(account_id, membership.id))


async def _end_unit_sessions(account_id: int, membership_id: int) -> None:
    """End the sessions working for the removed unit (the guard refuses them anyway: no membership)."""
    await sessions.end_matching(account_id, lambda record: record.membership_id == membership_id)
