"""Request and response bodies of unit self-registration (documented in the OpenAPI description)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from backend.core.validation import (
    Body,
    CreditCode,
    Id,
    IdNumber,
    OrgCode,
    PageQuery,
    Phone,
    Query,
    RegionCode,
    Username,
    text,
)
from backend.registration.models import RegistrationStatus
from backend.units.models import UnitType

Ticket = Field(min_length=1, max_length=100)


# Unit types that register themselves; region governments and work teams are created by superiors.
SelfRegisteredType = Literal["coop", "school", "employer", "other"]


class SendCodeRequest(Body):
    phone: Phone
    captcha_id: str = Field(min_length=1, max_length=64)
    captcha_answer: str = Field(min_length=1, max_length=8)


class SendCodeOut(BaseModel):
    ticket: str = Field(description="随注册提交一起带回；一次有效")
    ticket_expires_in: int
    resend_after: int
    expires_in: int = Field(description="短信验证码的有效秒数")


class SuperiorQuery(Query):
    q: text(50, min_length=2) = Field(description="单位名称中的字，或区划代码的开头几位")


class SuperiorOut(BaseModel):
    id: int
    name: str


class UnitApplication(Body):
    name: text(100)
    type: SelfRegisteredType
    credit_code: CreditCode
    org_code: OrgCode
    legal_rep_name: text(50)
    legal_rep_id_number: IdNumber
    region_code: RegionCode | None = None


class AdminApplication(Body):
    username: Username
    name: text(50)
    phone: Phone = Field(description="必须是接收验证码的手机号")
    id_number: IdNumber
    password: str = Field(min_length=1, max_length=128)


class RegistrationSubmit(Body):
    """Exactly one of ``superior_id`` (from the superiors search) and ``superior_region_code``."""

    ticket: str = Ticket
    code: str = Field(pattern=r"^[0-9]{6}$", description="短信验证码")
    superior_id: Id | None = None
    superior_region_code: RegionCode | None = None
    unit: UnitApplication
    admin: AdminApplication


class SubmittedOut(BaseModel):
    status: RegistrationStatus
    unit_name: str
    superior_name: str


class RegistrationListQuery(PageQuery):
    pass


class ApproveRequest(Body):
    parent_id: Id | None = Field(None, description="新单位放在哪个单位之下；不填则为申请时选的上级单位")


class RejectRequest(Body):
    reason: text(100)


class RegistrationRow(BaseModel):
    id: int
    unit_name: str
    unit_type: UnitType
    credit_code: str
    superior_id: int | None  # null: that unit was deleted after the registration was decided
    superior_name: str
    admin_username: str
    admin_name: str
    created_at: datetime


class RegistrationOut(BaseModel):
    id: int
    status: RegistrationStatus
    unit_name: str
    unit_type: UnitType
    credit_code: str
    org_code: str
    region_code: str | None
    legal_rep_name: str
    legal_rep_id_number: str  # masked
    superior_id: int | None  # null: that unit was deleted after the registration was decided
    superior_name: str
    admin_username: str
    admin_name: str
    admin_phone: str  # masked
    admin_id_number: str | None  # masked
    created_at: datetime
    decided_at: datetime | None
    decision_reason: str | None
    created_unit_id: int | None


class RegistrationPage(BaseModel):
    items: list[RegistrationRow]
    total: int
    next_cursor: int | None
