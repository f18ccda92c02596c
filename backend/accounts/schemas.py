from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from backend.core.roles import FinanceAccess, Role
from backend.core.validation import Body, Id, IdNumber, PageQuery, Phone, Username, text


class AccountCreate(Body):
    username: Username
    name: text(50)
    phone: Phone
    id_number: IdNumber | None = None
    unit_id: Id
    role: Role
    finance_access: FinanceAccess = FinanceAccess.NONE


class AccountUpdate(Body):
    """Only the fields sent are changed; the ID number may be cleared with null."""

    name: text(50) = None
    phone: Phone = None
    id_number: IdNumber | None = None


class MembershipSet(Body):
    """Not sending ``finance_access`` keeps the one the account has in the unit (none in a unit added)."""

    unit_id: Id
    role: Role
    finance_access: FinanceAccess = None


class RevealRequest(Body):
    field: Literal["phone", "id_number"]


class AccountListQuery(PageQuery):
    unit_id: Id | None = None
    q: text(32) | None = None
    status: Literal["active", "locked", "deactivated"] | None = None


class MembershipOut(BaseModel):
    id: int
    unit_id: int
    unit_name: str
    role: Role
    role_label: str
    finance_access: FinanceAccess


class AccountOut(BaseModel):
    id: int
    username: str
    name: str
    phone: str | None  # masked
    id_number: str | None  # masked
    is_active: bool
    locked: bool
    must_change_password: bool
    created_at: datetime
    memberships: list[MembershipOut]
    wechat_bound: bool  # a WeChat logs in as this account with one tap (W1)
    card_bound: bool  # a smart card is bound: only an admin with a card changes the account (C6)


class AccountRow(BaseModel):
    membership_id: int
    account_id: int
    username: str
    name: str
    phone: str | None
    unit_id: int
    unit_name: str
    role: Role
    role_label: str
    is_active: bool
    locked: bool


class AccountPage(BaseModel):
    items: list[AccountRow]
    total: int | None  # on the first page only
    next_cursor: int | None


class RevealOut(BaseModel):
    field: str
    value: str
