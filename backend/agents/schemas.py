"""Requests and answers of the agent endpoints (documented in OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from backend.core.roles import Role
from backend.core.validation import Body, IdNumber, PageQuery, Phone, text


class AgentAdd(Body):
    """Add a person to the unit by phone. The name checks a registered phone (a mistyped digit reaches
    someone else: refused, 409 ``agent_name_mismatch``) and names a new account; the ID number is
    used only when the phone is new."""

    phone: Phone
    name: text(50) = Field(description="经办人姓名：已注册的手机号须与登记的姓名一致")
    id_number: IdNumber | None = None
    role: Literal[Role.CLERK, Role.VIEWER] = Field(Role.CLERK, description="经办人的角色：录入员（默认）或查看员")


class AgentListQuery(PageQuery):
    pass


class AgentOut(BaseModel):
    membership_id: int
    account_id: int
    username: str
    name: str
    phone: str | None  # masked
    unit_id: int
    unit_name: str
    role: Role
    role_label: str
    is_active: bool
    must_change_password: bool
    since: datetime


class AgentAdded(AgentOut):
    new_account: bool = Field(description="true：为该手机号新开了账号；false：已注册的账号加入了本单位")


class AgentConsentAsked(BaseModel):
    """A registered account: a code went to its bound phone; its owner, if they agree, tells it to
    the admin, who confirms with ``POST /api/units/<id>/agents/confirm`` (same session)."""

    ticket: str
    phone: str = Field(description="绑定手机号（已脱敏）")
    expires_in: int
    resend_after: int
    notice: str


class AgentConfirm(Body):
    ticket: str = Field(min_length=1, max_length=100)
    code: str = Field(pattern=r"^[0-9]{6}$", description="此人收到的 6 位短信验证码")


class AgentPage(BaseModel):
    items: list[AgentOut]
    total: int
    next_cursor: int | None


class UnbindPreview(BaseModel):
    """What the confirmation will do, and the ticket that confirms it (2 minutes, single use)."""

    ticket: str
    expires_in: int
    agent: AgentOut
    last_unit: bool
    notice: str


class UnbindConfirm(Body):
    ticket: str = Field(min_length=1, max_length=100)
