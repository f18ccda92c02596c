"""What a verified card does (C5-C7): log in (creating missing accounts), bind, real-name; and the
rules cards impose elsewhere (unbind on identity change, card holders protected from card-less admins).

Every function that changes data runs in one transaction with its audit entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError

from backend.accounts import actions as account_actions
from backend.accounts.models import Account, Membership, RealnameLevel
from backend.accounts.queries import account_scope
from backend.cards import messages as msg
from backend.cards.models import CardBinding, CardKind, card_key
from backend.cards.verify import CardHolder, CardRefused
from backend.core import audit, db, identifiers, names, runtime, sessions
from backend.core.actor import Actor, Origin
from backend.core.errors import AppError, Conflict, Forbidden, ValidationFailed
from backend.core.passwords import policy_problems
from backend.core.roles import Role
from backend.core.scope import path_prefix
from backend.units.models import Unit


@dataclass(frozen=True)
class CardLogin:
    account: Account
    created: list[str]  # user names of accounts this login created


def _holder_index(holder: CardHolder) -> str:
    return runtime.get().vault.index("id_number", holder.id_number)


def _holds(account: Account, holder: CardHolder) -> bool:
    return account.name == holder.holder_name and account.id_number_index == _holder_index(holder)


async def _phone_account(account_id: int, holder: CardHolder) -> Account:
    """The account that scanned a binding or real-name pairing, still active and the card's holder
    (it may have been deactivated, or its name or ID number changed, while the card was in the
    reader). First in the change's transaction: the row is locked (:func:`lock_account`) until the
    commit, so a change of the account's identity takes turns with the card's and the card proves
    the identity the account has when its binding or level is written."""
    account = await account_actions.lock_account(account_id)
    if account is None or not account.is_active:
        raise CardRefused("card_account_inactive", msg.OWN_ACCOUNT_INACTIVE)
    if account.id_number_index is None:  # nothing to compare the card with: the owner fills it in first
        raise CardRefused("card_account_no_id_number", msg.ACCOUNT_NO_ID_NUMBER)
    if not _holds(account, holder):
        raise CardRefused("card_holder_mismatch", msg.HOLDER_MISMATCH)
    return account


async def _bind(account: Account, holder: CardHolder) -> CardBinding:
    if await CardBinding.filter(account_id=account.id).exists():
        raise CardRefused("card_account_has_card", msg.ACCOUNT_HAS_CARD)
    if await CardBinding.filter(issuer=holder.issuer, card_number=holder.card_number).exists():
        raise CardRefused("card_already_bound", msg.ALREADY_BOUND)
    try:
        return await CardBinding.create(
            account_id=account.id,
            issuer=holder.issuer,
            card_number=holder.card_number,
            kind=CardKind(holder.kind),
            holder_id_index=_holder_index(holder),
            certificate_sha256=holder.certificate_sha256,
            issued_at=holder.issued_at,
            bound_at=runtime.get().clock.now(),
        )
    except IntegrityError as exc:  # a parallel binding of the same card or account won
        raise CardRefused("card_already_bound", msg.ALREADY_BOUND) from exc


def _card_username(holder: CardHolder, suffix: str = "") -> str:
    wanted = f"{holder.card_number}{suffix}"
    # A bare card number shaped like a mobile number would be read as a phone at login.
    return wanted if identifiers.valid_username(wanted) else f"K{wanted}"


async def _create_card_account(
    *, username: str, name: str, id_number: str | None, unit: Unit, role: Role, origin: Origin
) -> Account:
    """An account made by a card login: no password (no password login until activated)."""
    rt = runtime.get()
    if await Account.filter(username_key=username.lower()).exists():
        raise CardRefused("card_username_taken", msg.USERNAME_TAKEN)
    now = rt.clock.now()
    account = await Account.create(
        username=username,
        username_key=username.lower(),
        name=name,
        id_number_enc=rt.vault.encrypt("account.id_number", id_number) if id_number else None,
        id_number_index=rt.vault.index("id_number", id_number) if id_number else None,
        password_hash=None,
        must_change_password=False,
        needs_activation=True,
        created_at=now,
        updated_at=now,
    )
    await Membership.create(account_id=account.id, unit_id=unit.id, role=role, created_at=now)
    await _audit(
        "account.create", account.id, origin, scope_path=unit.path, detail={"by": "card_login", "role": role.value}
    )
    return account


async def _audit(
    action: str, account_id: int, origin: Origin, *, scope_path: str | None = None, detail: dict[str, Any] | None = None
) -> None:
    """The audit entry of a card change to one account (inside the change's transaction)."""
    await audit.record(
        action,
        origin=origin,
        account_id=account_id,
        scope_path=scope_path if scope_path is not None else await account_scope(account_id),
        target_type="account",
        target_id=account_id,
        detail=detail,
    )


async def _unit_admins(unit: Unit) -> list[Account]:
    return await Account.filter(is_active=True, memberships__unit_id=unit.id, memberships__role=Role.ADMIN).order_by(
        "id"
    )


async def _unbound(accounts: list[Account]) -> list[Account]:
    bound = set(await CardBinding.filter(account_id__in=[a.id for a in accounts]).values_list("account_id", flat=True))
    return [a for a in accounts if a.id not in bound]


async def _replaced_card(accounts: list[Account], holder: CardHolder, origin: Origin) -> Account | None:
    """The account among ``accounts`` bound to another card of this holder and kind (the same ID
    number: a card replaced, lost or renewed), its old binding removed (audited as an unbinding) so
    this card binds in its place, and the sessions the old card started end once this commits; None
    if none is. Only a card issued later replaces: the new card proves the same person as the old
    one did, and the old one, lost maybe, must not take the account back. A binding made before its
    issue date was kept (migration 0017) cannot tell which card is newer: refused, the holder unbinds
    it with the card they have, or an admin does."""
    old = (
        await CardBinding.filter(
            account_id__in=[a.id for a in accounts], holder_id_index=_holder_index(holder), kind=CardKind(holder.kind)
        )
        .order_by("account_id")
        .first()
    )
    if old is None:
        return None
    if old.issued_at is None:
        raise CardRefused("card_other_bound", msg.OTHER_CARD_BOUND)
    if holder.issued_at is None or holder.issued_at <= old.issued_at:
        raise CardRefused("card_replaced", msg.CARD_REPLACED)
    await old.delete()
    await _audit("card.unbind", old.account_id, origin, detail={"by": "card_replaced", "kind": holder.kind})
    _end_card_sessions_after_commit(old)
    return next(a for a in accounts if a.id == old.account_id)


def _end_card_sessions_after_commit(binding: CardBinding, *, keep: str | None = None) -> None:
    """Once the removal of ``binding`` commits, end for good the sessions its card's logins started
    (the card may be lost or stolen, or no longer name the person): all but ``keep``, the public id
    of the session that removed it; those started by password, SMS, WeChat or another card go on.
    Not audited on their own: the entry of the unbinding or the edit is the cause, as with a WeChat
    unbind."""
    key = card_key(binding.issuer, binding.card_number)

    async def end() -> None:
        await sessions.end_matching(
            binding.account_id, lambda record: record.card_key == key and record.public_id != keep
        )

    db.after_commit(end)


async def is_member(account_id: int, *, unit_id: int | None = None, within: str | None = None) -> bool:
    """The account holds a membership in the unit ``unit_id``, or in a unit of the subtree ``within``."""
    memberships = Membership.filter(account_id=account_id)
    if unit_id is not None:
        memberships = memberships.filter(unit_id=unit_id)
    if within is not None:
        memberships = memberships.filter(path_prefix("unit__path", within))
    return await memberships.exists()


def _refuse_other_accounts_of_the_holder(accounts: list[Account], holder: CardHolder) -> None:
    """Among ``accounts`` (none of them free for this card), one with the card's ID number: the
    holder's own, bound to another card (one person, one account in a unit), or one whose name
    differs from the card's (not the holder's until corrected; no second account for that ID either)."""
    same_id = [a for a in accounts if a.id_number_index == _holder_index(holder)]
    if any(_holds(a, holder) for a in same_id):
        raise CardRefused("card_other_bound", msg.OTHER_CARD_BOUND)
    if same_id:
        raise CardRefused("card_account_name_differs", msg.ACCOUNT_NAME_DIFFERS)


async def _card_unit(holder: CardHolder, device_unit_path: str) -> Unit:
    unit = await Unit.get_or_none(credit_code=holder.credit_code)
    if unit is None:
        raise CardRefused("card_unit_unknown", msg.UNIT_UNKNOWN)
    if not unit.path.startswith(device_unit_path):
        raise CardRefused("card_unit_outside_scope", msg.UNIT_OUTSIDE_SCOPE)
    return unit


async def login_by_card(holder: CardHolder, *, device_unit_path: str, origin: Origin) -> CardLogin:
    """The account a verified card logs into, binding or creating it by the rules of C5."""
    unit = await _card_unit(holder, device_unit_path)
    async with db.atomic():
        # Card logins into one unit take turns: each reads the bindings and admins the one before
        # it wrote (two at once made the card's account twice, or two admins).
        if await Unit.filter(id=unit.id).select_for_update(no_key=True).first() is None:
            raise CardRefused("card_unit_unknown", msg.UNIT_UNKNOWN)  # deleted since it was looked up
        holder_index = _holder_index(holder)
        binding = await CardBinding.get_or_none(issuer=holder.issuer, card_number=holder.card_number)
        if binding is not None:
            # The number names the card, the certificate its holder: a certificate of the same
            # number for another person (or kind) is not the card that was bound.
            if binding.holder_id_index != holder_index or binding.kind != holder.kind:
                raise CardRefused("card_holder_mismatch", msg.CARD_HOLDER_CHANGED)
            account = await Account.get(id=binding.account_id)
            if not account.is_active:
                raise CardRefused("card_account_inactive", msg.ACCOUNT_INACTIVE)
            if not await is_member(account.id, unit_id=unit.id):  # moved or removed by an admin (C3)
                raise CardRefused("card_account_outside_unit", msg.ACCOUNT_OUTSIDE_UNIT)
            return CardLogin(account=account, created=[])
        created: list[str] = []
        replaced: Account | None = None  # the holder's account, bound to their old card
        admins = await _unit_admins(unit)
        if holder.kind == CardKind.LEGAL_REP:
            if not admins:
                await _refuse_deactivated_holder(unit, holder_index)
                account = await _create_card_account(
                    username=_card_username(holder, "_ADMIN"),
                    name=holder.holder_name,
                    id_number=holder.id_number,
                    unit=unit,
                    role=Role.ADMIN,
                    origin=origin,
                )
                created.append(account.username)
            else:
                holders = [a for a in admins if _holds(a, holder)]
                matching = await _unbound(holders)
                if not matching:
                    replaced = await _replaced_card(holders, holder, origin)
                    if replaced is None:
                        stand_ins = await _stand_in_admins(admins, holder)
                        # The holder's own admin account under another name, or bound to their other
                        # card, says so (as for an operator card), rather than a stand-in being taken.
                        _refuse_other_accounts_of_the_holder([a for a in admins if a not in stand_ins], holder)
                        if not stand_ins:
                            raise CardRefused("card_admin_taken", msg.ADMIN_TAKEN)
                        matching = [await _take_stand_in(stand_ins[0], holder, origin)]
                account = matching[0] if matching else replaced
        else:
            if not admins:
                admin = await _create_admin_for_unit(holder, unit, origin)
                created.append(admin.username)
            colleagues = await Account.filter(
                is_active=True, memberships__unit_id=unit.id, id_number_index=holder_index
            ).order_by("id")
            holders = [a for a in colleagues if _holds(a, holder)]
            unbound = await _unbound(holders)
            if not unbound:
                replaced = await _replaced_card(holders, holder, origin)
            if unbound:
                account = unbound[0]
            elif replaced is not None:
                account = replaced
            else:
                _refuse_other_accounts_of_the_holder(colleagues, holder)
                await _refuse_deactivated_holder(unit, holder_index)
                account = await _create_card_account(
                    username=_card_username(holder),
                    name=holder.holder_name,
                    id_number=holder.id_number,
                    unit=unit,
                    role=Role.CLERK,
                    origin=origin,
                )
                created.append(account.username)
        await _bind(account, holder)
        detail = {"by": "card_login", "kind": holder.kind, **({"replaced": 1} if replaced is not None else {})}
        await _audit("card.bind", account.id, origin, scope_path=unit.path, detail=detail)
    return CardLogin(account=account, created=created)


async def _stand_in_admins(admins: list[Account], holder: CardHolder) -> list[Account]:
    """The admins an operator card's first login made for a unit without one
    (:func:`_create_admin_for_unit`: no password yet, no card, no ID number on file or the card's):
    stand-ins the legal representative's card takes (:func:`_take_stand_in`). Else the legal-person
    card found the unit's admin "taken" for good."""
    index = _holder_index(holder)
    return await _unbound([a for a in admins if a.needs_activation and a.id_number_index in (None, index)])


async def _take_stand_in(account: Account, holder: CardHolder, origin: Origin) -> Account:
    """The stand-in admin becomes the card holder's: their name and ID number (audited)."""
    vault = runtime.get().vault
    await Account.filter(id=account.id).update(
        **names.columns(holder.holder_name, Account),
        id_number_enc=vault.encrypt("account.id_number", holder.id_number),
        id_number_index=_holder_index(holder),
        updated_at=runtime.get().clock.now(),
    )
    await _audit("account.update", account.id, origin, detail={"by": "card_login", "fields": ["id_number", "name"]})
    return await Account.get(id=account.id)


async def _refuse_deactivated_holder(unit: Unit, holder_index: str) -> None:
    """A holder whose account in the unit was deactivated gets no new one there by card: the
    deactivation released the card, and whether the person comes back is an admin's decision."""
    if await Account.filter(is_active=False, memberships__unit_id=unit.id, id_number_index=holder_index).exists():
        raise CardRefused("card_account_inactive", msg.HOLDER_DEACTIVATED)


async def _create_admin_for_unit(holder: CardHolder, unit: Unit, origin: Origin) -> Account:
    """The admin an operator card's first login makes for a unit without one: named after the
    operator's card, in the legal representative's name where the unit has it on file (so the
    legal-person card later finds and binds it); unbound and without a password."""
    vault = runtime.get().vault
    rep_id = vault.decrypt("unit.legal_rep_id", unit.legal_rep_id_enc) if unit.legal_rep_id_enc else None
    return await _create_card_account(
        username=_card_username(holder, "_ADMIN"),
        name=unit.legal_rep_name or msg.AUTO_ADMIN_NAME,
        id_number=rep_id,
        unit=unit,
        role=Role.ADMIN,
        origin=origin,
    )


async def bind_card(account_id: int, holder: CardHolder, *, device_unit_path: str, origin: Origin) -> Account:
    """Bind the card to the account logged in on the phone; the holder must be its owner, and a
    member of the card's unit, which is in the PC's subtree (as for a card login)."""
    unit = await _card_unit(holder, device_unit_path)
    async with db.atomic():
        account = await _phone_account(account_id, holder)
        if not await is_member(account.id, unit_id=unit.id):  # its card login would be refused
            raise CardRefused("card_account_outside_unit", msg.OWN_ACCOUNT_OUTSIDE_UNIT)
        await _bind(account, holder)
        await _audit("card.bind", account.id, origin, detail={"kind": holder.kind})
    return account


async def realname_by_card(account_id: int, holder: CardHolder, *, origin: Origin) -> Account:
    """Real-name level "high" (C7): the card's holder is the account's owner."""
    async with db.atomic():
        account = await _phone_account(account_id, holder)
        await Account.filter(id=account.id).update(
            realname_level=RealnameLevel.HIGH, updated_at=runtime.get().clock.now()
        )
        await _audit("profile.realname", account.id, origin, detail={"level": RealnameLevel.HIGH.value, "by": "card"})
    return await Account.get(id=account.id)


async def unbind_own(account: Account, *, origin: Origin, session_id: str) -> None:
    """The owner unbinds their card (lost, maybe): the sessions it started end, but the owner's own
    (``session_id``, its public id) goes on."""
    binding = await CardBinding.get_or_none(account_id=account.id)
    if binding is None:
        raise Conflict("card_not_bound", msg.NOT_BOUND)
    async with db.atomic():
        if not await CardBinding.filter(id=binding.id).delete():  # a parallel unbind won
            raise Conflict("card_not_bound", msg.NOT_BOUND)
        await _audit("card.unbind", account.id, origin)
        _end_card_sessions_after_commit(binding, keep=session_id)


async def release_card(account_id: int, *, session_id: str | None) -> bool:
    """Unbind the account's card, if it has one, inside the caller's transaction (which records
    why): a new name or ID number it no longer names, or an admin's unbinding. The sessions the card
    started end once that commits, but the one making the change (``session_id``)."""
    binding = await CardBinding.get_or_none(account_id=account_id)
    if binding is None or not await CardBinding.filter(id=binding.id).delete():
        return False
    _end_card_sessions_after_commit(binding, keep=session_id)
    return True


async def require_card_peer(actor: Actor, account_id: int) -> None:
    """An admin without a bound card may not edit or delete an account that has one (C6)."""
    if account_id == actor.account_id:
        return
    if not await CardBinding.filter(account_id=account_id).exists():
        return
    if not await CardBinding.filter(account_id=actor.account_id).exists():
        raise Forbidden("card_holder_protected", msg.HOLDER_PROTECTED)


async def activate(account: Account, *, new_password: str, origin: Origin) -> None:
    """Set the first password of an account a card login created; password login works from now on."""
    if not account.needs_activation:
        raise AppError("not_awaiting_activation", msg.NOT_AWAITING_ACTIVATION, status=409)
    problems = policy_problems(new_password, username=account.username)
    if problems:
        raise ValidationFailed({"new_password": "；".join(problems)}, problems[0])
    rt = runtime.get()
    password_hash = await rt.hasher.hash(new_password)
    now = rt.clock.now()
    async with db.atomic():
        updated = await Account.filter(id=account.id, needs_activation=True).update(
            password_hash=password_hash, needs_activation=False, password_changed_at=now, updated_at=now
        )
        if not updated:  # a parallel activation won
            raise AppError("not_awaiting_activation", msg.NOT_AWAITING_ACTIVATION, status=409)
        await _audit("account.activate", account.id, origin)
