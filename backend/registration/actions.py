"""Unit self-registration without a card (P12): the public steps and the superior's decision.

Public steps, no login:

1. ``send_code``: picture captcha, then an SMS code to the phone the admin account will use. The
   answer is the same for every phone; it carries a ticket (15 minutes, bound to that phone).
2. ``submit``: unit details, the superior it asks to join and the admin account, with the ticket
   and the code. The superior is named either by its id from the public search (region units from
   province to township: ids and names only) or by its 12-digit region code; exactly one of them.
   Checks that reveal nothing (formats, org code against credit code, password policy, the
   superior) come first; whether a credit code or user name is taken is told only once the SMS
   code has proven the phone, so the form cannot be used to probe names. A proven ticket stays
   proven for later tries, so fixing a taken user name does not need a new code; at most ten
   submissions per ticket. A successful submission takes the ticket; one whose write failed (a
   database outage) gives it back, proven, for the same form sent again. The same form sent again with
   the used ticket (its answer lost, then another Idempotency-Key or a Redis restart) is answered
   as stored while the registration waits: every detail, the password included, must match.

The decision: an admin of the requested superior or above (``units.manage``, scope covering it)
approves, placing the unit under any unit of their scope, or rejects with a reason. Approval
creates, in one transaction, the unit (through :func:`backend.units.actions.create_unit`, so the
path, region-code and uniqueness rules are the tree's own), the admin account with the password
the registrant chose, and its admin membership; the registrant learns the outcome by SMS.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from backend.accounts.models import Account, Membership
from backend.core import audit, db, identifiers, runtime, sms, sms_codes, throttle, tickets
from backend.core.actor import Actor, Origin
from backend.core.crypto import sha256_hex
from backend.core.errors import AppError, Conflict, Forbidden, TooManyRequests, ValidationFailed
from backend.core.passwords import policy_problems
from backend.core.redis import forget
from backend.core.roles import FinanceAccess, Role, allows
from backend.registration import messages as msg
from backend.registration import queries
from backend.registration.models import RegistrationStatus, UnitRegistration
from backend.registration.schemas import RegistrationSubmit
from backend.units import actions as unit_actions
from backend.units.actions import region_within
from backend.units.models import Unit, UnitType

SMS_PURPOSE = "registration"
TICKET_PURPOSE = "registration"
TICKET_TTL_SECONDS = 15 * 60
MAX_SUBMITS_PER_TICKET = 10
RESERVATION_SECONDS = 30


@dataclass(frozen=True)
class CodeSent:
    ticket: str
    ticket_expires_in: int
    sent: sms_codes.SendResult


@dataclass(frozen=True)
class Submitted:
    registration: UnitRegistration
    superior: Unit


def _ticket_key(kind: str, ticket: str) -> str:
    return f"registration-{kind}:{sha256_hex(ticket)}"


async def send_code(phone: str, *, captcha_id: str, captcha_answer: str, origin: Origin) -> CodeSent:
    """Step 1: an SMS code to the admin's phone (captcha first) and the ticket for step 2."""
    sent = await sms_codes.send_code(
        phone, SMS_PURPOSE, origin=origin, captcha_id=captcha_id, captcha_answer=captcha_answer, deliver=True
    )
    ticket = await tickets.issue(TICKET_PURPOSE, {"phone": phone}, ttl_seconds=TICKET_TTL_SECONDS)
    return CodeSent(ticket=ticket, ticket_expires_in=TICKET_TTL_SECONDS, sent=sent)


async def _count_submission(ticket: str) -> None:
    if await throttle.count(_ticket_key("tries", ticket), ttl_seconds=TICKET_TTL_SECONDS + 30) > MAX_SUBMITS_PER_TICKET:
        raise TooManyRequests("registration_too_many_tries", msg.TOO_MANY_TRIES)


async def _prove_phone(ticket: str, phone: str, code: str) -> None:
    """Check the SMS code once per ticket; later tries with the same ticket need not repeat it."""
    redis = runtime.get().redis
    key = _ticket_key("proven", ticket)
    if await redis.get(key) == phone:
        return
    await sms_codes.check_code(phone, SMS_PURPOSE, code)
    await redis.set(key, phone, ex=TICKET_TTL_SECONDS + 30)


async def _find_superior(superior_id: int | None, region_code: str | None) -> Unit:
    if (superior_id is None) == (region_code is None):
        raise ValidationFailed({"superior_id": msg.SUPERIOR_REQUIRED}, msg.SUPERIOR_REQUIRED)
    if superior_id is not None:
        superior = await queries.superior_by_id(superior_id)
        if superior is None:
            raise ValidationFailed({"superior_id": msg.SUPERIOR_NOT_FOUND}, msg.SUPERIOR_NOT_FOUND)
        return superior
    assert region_code is not None
    found = await queries.superiors_by_region_code(region_code)
    if not found:
        raise ValidationFailed({"superior_region_code": msg.SUPERIOR_REGION_NOT_FOUND})
    if len(found) > 1:
        raise ValidationFailed({"superior_region_code": msg.SUPERIOR_REGION_AMBIGUOUS})
    return found[0]


async def _check_free(credit_code: str, username: str) -> None:
    """409 naming each field already used by a unit, an account or a pending registration."""
    pending = UnitRegistration.filter(status=RegistrationStatus.PENDING)
    fields: dict[str, str] = {}
    if await Unit.filter(credit_code=credit_code).exists() or await pending.filter(credit_code=credit_code).exists():
        fields["unit.credit_code"] = msg.CREDIT_CODE_TAKEN
    if (
        await Account.filter(username_key=username.lower()).exists()
        or await pending.filter(admin_username__iexact=username).exists()
    ):
        fields["admin.username"] = msg.USERNAME_TAKEN
    if "unit.credit_code" in fields:
        raise Conflict("duplicate_credit_code", msg.CREDIT_CODE_TAKEN, fields)
    if fields:
        raise Conflict("username_taken", msg.USERNAME_TAKEN, fields)


@asynccontextmanager
async def _reserved(credit_code: str, username: str) -> AsyncIterator[None]:
    """Hold the credit code and the user name while one submission checks and stores them.

    Pending registrations have no unique index on these columns, so two parallel submissions with
    the same code would both pass the check; a short Redis reservation lets only one through.
    """
    redis = runtime.get().redis
    keys = [f"registration-hold:credit:{credit_code}", f"registration-hold:user:{sha256_hex(username.lower())}"]
    held: list[str] = []
    try:
        for key in keys:
            if not await redis.set(key, "1", nx=True, ex=RESERVATION_SECONDS):
                raise Conflict("registration_busy", msg.SUBMIT_CONFLICT)
            held.append(key)
        yield
    finally:
        if held:
            await forget(redis, *held)


async def _stored_already(data: RegistrationSubmit) -> Submitted | None:
    """The pending registration this very form made (sent again with its used ticket), or None."""
    vault = runtime.get().vault
    unit, admin = data.unit, data.admin
    registration = (
        await UnitRegistration.filter(
            status=RegistrationStatus.PENDING,
            credit_code=unit.credit_code,
            admin_username=admin.username,
            admin_phone_index=vault.index("phone", admin.phone),
            admin_id_number_index=vault.index("id_number", admin.id_number),
            legal_rep_id_index=vault.index("id_number", unit.legal_rep_id_number),
        )
        .select_related("parent")
        .first()
    )
    if registration is None:
        return None
    superior: Unit = registration.parent
    same = (
        (registration.unit_name, registration.unit_type.value, registration.org_code, registration.region_code)
        == (unit.name, unit.type, unit.org_code, unit.region_code)
        and (registration.legal_rep_name, registration.admin_name) == (unit.legal_rep_name, admin.name)
        and (data.superior_id, data.superior_region_code) in ((superior.id, None), (None, superior.region_code or "-"))
    )
    if not same or not await runtime.get().hasher.verify(admin.password, registration.admin_password_hash):
        return None
    return Submitted(registration=registration, superior=superior)


async def submit(data: RegistrationSubmit, *, origin: Origin) -> Submitted:
    """Step 2: check everything, prove the phone, and store a pending registration (audited)."""
    rt = runtime.get()
    try:
        phone = (await tickets.peek(data.ticket, TICKET_PURPOSE))["phone"]
    except AppError:
        stored = await _stored_already(data)
        if stored is None:
            raise
        return stored
    await _count_submission(data.ticket)
    unit, admin = data.unit, data.admin
    problems: dict[str, str] = {}
    if admin.phone != phone:
        problems["admin.phone"] = msg.PHONE_NOT_VERIFIED
    if not identifiers.valid_org_code(unit.org_code):
        problems["unit.org_code"] = msg.BAD_ORG_CODE
    elif unit.org_code != identifiers.org_code_of(unit.credit_code):
        problems["unit.org_code"] = msg.ORG_CODE_MISMATCH
    if identifiers.valid_phone(admin.username):
        problems["admin.username"] = msg.USERNAME_LOOKS_LIKE_PHONE
    password_problems = policy_problems(admin.password, username=admin.username, phone=admin.phone)
    if password_problems:
        problems["admin.password"] = "；".join(password_problems)
    superior: Unit | None = None
    try:
        superior = await _find_superior(data.superior_id, data.superior_region_code)
    except ValidationFailed as exc:
        problems.update(exc.fields)
    if superior is not None and unit.region_code and not region_within(superior, unit.region_code):
        problems["unit.region_code"] = msg.REGION_OUTSIDE_SUPERIOR
    if problems:
        raise ValidationFailed(problems)
    assert superior is not None

    await _prove_phone(data.ticket, phone, data.code)
    await _check_free(unit.credit_code, admin.username)
    password_hash = await rt.hasher.hash(admin.password)
    async with _reserved(unit.credit_code, admin.username):
        await _check_free(unit.credit_code, admin.username)
        await tickets.consume(data.ticket, TICKET_PURPOSE)
        try:
            registration = await _store(data, superior, phone, password_hash, origin)
        except Exception:
            await tickets.give_back(data.ticket, TICKET_PURPOSE, {"phone": phone}, ttl_seconds=TICKET_TTL_SECONDS)
            raise
    await forget(rt.redis, _ticket_key("proven", data.ticket), _ticket_key("tries", data.ticket))
    return Submitted(registration=registration, superior=superior)


async def _store(
    data: RegistrationSubmit, superior: Unit, phone: str, password_hash: str, origin: Origin
) -> UnitRegistration:
    """The pending registration and its audit entry, in one transaction."""
    rt = runtime.get()
    unit, admin = data.unit, data.admin
    vault = rt.vault
    async with db.atomic():
        registration = await UnitRegistration.create(
            status=RegistrationStatus.PENDING,
            parent_id=superior.id,
            unit_name=unit.name,
            unit_type=UnitType(unit.type),
            credit_code=unit.credit_code,
            org_code=unit.org_code,
            region_code=unit.region_code,
            legal_rep_name=unit.legal_rep_name,
            legal_rep_id_enc=vault.encrypt("registration.legal_rep_id", unit.legal_rep_id_number),
            legal_rep_id_index=vault.index("id_number", unit.legal_rep_id_number),
            admin_username=admin.username,
            admin_name=admin.name,
            admin_phone_enc=vault.encrypt("registration.admin_phone", phone),
            admin_phone_index=vault.index("phone", phone),
            admin_id_number_enc=vault.encrypt("registration.admin_id_number", admin.id_number),
            admin_id_number_index=vault.index("id_number", admin.id_number),
            admin_password_hash=password_hash,
            created_at=rt.clock.now(),
        )
        await audit.record(
            "registration.submit",
            origin=origin,
            scope_path=superior.path,
            target_type="unit_registration",
            target_id=registration.id,
            detail={"parent_id": superior.id, "unit_type": registration.unit_type.value},
        )
    return registration


def _require_manage(actor: Actor) -> None:
    if not allows(actor.role, "units.manage"):
        raise Forbidden()


async def _mark_decided(registration: UnitRegistration, actor: Actor, **changes: object) -> None:
    """Move a pending registration to its decision; a second decision (even a parallel one) is a 409."""
    now = runtime.get().clock.now()
    updated = await UnitRegistration.filter(id=registration.id, status=RegistrationStatus.PENDING).update(
        decided_at=now, decided_by_id=actor.account_id, **changes
    )
    if not updated:
        raise Conflict("already_decided", msg.ALREADY_DECIDED)


async def _named_twice(parent_id: int, name: str) -> Conflict:
    """A unit of the same name already under the parent is most likely this one, created by an admin
    without its credit code: approving would put it in the tree twice; the approver is told what to do."""
    parent = await Unit.get(id=parent_id)
    said = msg.SAME_NAME_UNDER_PARENT.format(parent=parent.name, name=name)
    return Conflict("duplicate_unit_name", said, {"unit_name": said})


async def approve(actor: Actor, registration_id: int, *, parent_id: int | None = None) -> UnitRegistration:
    """Create the unit under ``parent_id`` (default: the requested superior), its admin account and membership.

    What only the registrant can change (a user name or credit code taken since, the unit already in
    the tree under that name) is refused with a message telling the approver to reject it."""
    _require_manage(actor)
    registration = await queries.get_registration(actor, registration_id)
    if registration.status != RegistrationStatus.PENDING:
        raise Conflict("already_decided", msg.ALREADY_DECIDED)
    if await Account.filter(username_key=registration.admin_username.lower()).exists():
        raise Conflict("username_taken", msg.ADMIN_USERNAME_TAKEN, {"admin_username": msg.ADMIN_USERNAME_TAKEN})
    rt = runtime.get()
    vault = rt.vault
    phone = vault.decrypt("registration.admin_phone", registration.admin_phone_enc)
    legal_rep_id = vault.decrypt("registration.legal_rep_id", registration.legal_rep_id_enc)
    id_number = (
        vault.decrypt("registration.admin_id_number", registration.admin_id_number_enc)
        if registration.admin_id_number_enc
        else None
    )
    now = rt.clock.now()
    try:
        async with db.atomic():
            await _mark_decided(registration, actor, status=RegistrationStatus.APPROVED)
            try:
                unit = await unit_actions.create_unit(
                    actor,
                    parent_id=parent_id or registration.parent_id,
                    name=registration.unit_name,
                    unit_type=UnitType(registration.unit_type),
                    region_code=registration.region_code,
                    credit_code=registration.credit_code,
                )
            except Conflict as exc:  # only the registrant can change the code: by registering again
                if exc.code == "duplicate_unit_name":  # the tree's rule (refuse_same_name_sibling)
                    raise await _named_twice(parent_id or registration.parent_id, registration.unit_name) from exc
                if exc.code != "duplicate_code":
                    raise
                said = msg.CREDIT_CODE_TAKEN_REJECT
                raise Conflict("duplicate_credit_code", said, {"credit_code": said}) from exc
            await Unit.filter(id=unit.id).update(
                org_code=registration.org_code,
                legal_rep_name=registration.legal_rep_name,
                legal_rep_id_enc=vault.encrypt("unit.legal_rep_id", legal_rep_id),
                legal_rep_id_index=registration.legal_rep_id_index,
            )
            phone_login_free = not await Account.filter(login_phone_index=registration.admin_phone_index).exists()
            account = await Account.create(
                username=registration.admin_username,
                username_key=registration.admin_username.lower(),
                name=registration.admin_name,
                phone_enc=vault.encrypt("account.phone", phone),
                phone_index=registration.admin_phone_index,
                login_phone_index=registration.admin_phone_index if phone_login_free else None,
                id_number_enc=vault.encrypt("account.id_number", id_number) if id_number else None,
                id_number_index=registration.admin_id_number_index,
                password_hash=registration.admin_password_hash,
                must_change_password=False,  # the registrant chose it under the policy; no one else knows it
                password_changed_at=registration.created_at,
                created_at=now,
                updated_at=now,
            )
            await Membership.create(
                account_id=account.id,
                unit_id=unit.id,
                role=Role.ADMIN,
                finance_access=FinanceAccess.NONE,
                created_at=now,
            )
            await UnitRegistration.filter(id=registration.id).update(created_unit_id=unit.id)
            await sms.queue(
                phone, "registration_approved", {"unit": registration.unit_name, "username": account.username}
            )
            await audit.record(
                "account.create",
                actor=actor,
                scope_path=unit.path,
                target_type="account",
                target_id=account.id,
                detail={"unit_id": unit.id, "role": Role.ADMIN.value, "registration_id": registration.id},
            )
            await audit.record(
                "registration.approve",
                actor=actor,
                scope_path=unit.path,
                target_type="unit_registration",
                target_id=registration.id,
                detail={"unit_id": unit.id, "account_id": account.id, "parent_id": unit.parent_id},
            )
    except IntegrityError as exc:  # a parallel change took the user name, credit code or login phone
        raise Conflict("registration_conflict", msg.SUBMIT_CONFLICT) from exc
    return await queries.get_registration(actor, registration.id)


async def reject(actor: Actor, registration_id: int, *, reason: str) -> UnitRegistration:
    """Refuse a pending registration with a reason the registrant receives by SMS."""
    _require_manage(actor)
    registration = await queries.get_registration(actor, registration_id)
    if registration.status != RegistrationStatus.PENDING:
        raise Conflict("already_decided", msg.ALREADY_DECIDED)
    phone = runtime.get().vault.decrypt("registration.admin_phone", registration.admin_phone_enc)
    async with db.atomic():
        await _mark_decided(registration, actor, status=RegistrationStatus.REJECTED, decision_reason=reason)
        await sms.queue(phone, "registration_rejected", {"unit": registration.unit_name, "reason": reason})
        await audit.record(
            "registration.reject",
            actor=actor,
            scope_path=registration.parent.path,
            target_type="unit_registration",
            target_id=registration.id,
        )
    return await queries.get_registration(actor, registration.id)
