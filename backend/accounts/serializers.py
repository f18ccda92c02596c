"""Accounts as they leave the server: personal data masked, roles labelled."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from backend.accounts.models import Account, Membership
from backend.accounts.queries import Bindings, is_locked
from backend.accounts.schemas import AccountOut, AccountRow, MembershipOut
from backend.core import identifiers, runtime
from backend.core.roles import ROLE_LABELS, FinanceAccess, Role


class WithPhone(Protocol):
    """What a masked phone is made from: the model, or a row of its columns."""

    @property
    def phone_enc(self) -> str | None: ...


def masked_phone(account: WithPhone) -> str | None:
    if not account.phone_enc:
        return None
    return identifiers.mask_phone(runtime.get().vault.decrypt("account.phone", account.phone_enc))


def masked_id_number(account: Account) -> str | None:
    if not account.id_number_enc:
        return None
    return identifiers.mask_id_number(runtime.get().vault.decrypt("account.id_number", account.id_number_enc))


def membership_out(membership: Membership) -> MembershipOut:
    return MembershipOut(
        id=membership.id,
        unit_id=membership.unit.id,
        unit_name=membership.unit.name,
        role=Role(membership.role),
        role_label=ROLE_LABELS[Role(membership.role)],
        finance_access=FinanceAccess(membership.finance_access),
    )


def account_out(account: Account, memberships: list[Membership], now: datetime, bindings: Bindings) -> AccountOut:
    return AccountOut(
        id=account.id,
        username=account.username,
        name=account.name,
        phone=masked_phone(account),
        id_number=masked_id_number(account),
        is_active=account.is_active,
        locked=is_locked(account, now),
        must_change_password=account.must_change_password,
        created_at=account.created_at,
        memberships=[membership_out(m) for m in memberships],
        wechat_bound=bindings.wechat,
        card_bound=bindings.card,
    )


def account_row(membership: Membership, now: datetime) -> AccountRow:
    account = membership.account
    return AccountRow(
        membership_id=membership.id,
        account_id=account.id,
        username=account.username,
        name=account.name,
        phone=masked_phone(account),
        unit_id=membership.unit.id,
        unit_name=membership.unit.name,
        role=Role(membership.role),
        role_label=ROLE_LABELS[Role(membership.role)],
        is_active=account.is_active,
        locked=is_locked(account, now),
    )
