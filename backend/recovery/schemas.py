from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from backend.core.validation import Body, CreditCode, IdNumber, OrgCode, Phone, text

Captcha = Field(min_length=1, max_length=64)
CaptchaAnswer = Field(min_length=1, max_length=8)
Ticket = Field(min_length=1, max_length=100)
Code = Field(pattern=r"^[0-9]{6}$")


class PasswordStart(Body):
    username: text(32)  # or the phone it logs in with; trimmed, no control characters (PostgreSQL refuses NUL)
    captcha_id: str = Captcha
    captcha_answer: str = CaptchaAnswer


class TicketWithCaptcha(Body):
    ticket: str = Ticket
    captcha_id: str = Captcha
    captcha_answer: str = CaptchaAnswer


class PasswordVerify(Body):
    ticket: str = Ticket
    code: str = Code
    id_number: IdNumber


class PasswordReset(Body):
    reset_ticket: str = Ticket
    new_password: str = Field(min_length=1, max_length=128)


class UsernameByPhoneStart(Body):
    phone: Phone
    captcha_id: str = Captcha
    captcha_answer: str = CaptchaAnswer


class TicketWithCode(Body):
    ticket: str = Ticket
    code: str = Code


class UsernameByUnitStart(Body):
    credit_code: CreditCode | None = None
    org_code: OrgCode | None = None
    name: text(50)
    id_number: IdNumber
    phone: Phone
    captcha_id: str = Captcha
    captcha_answer: str = CaptchaAnswer


class UnitStart(Body):
    credit_code: CreditCode
    captcha_id: str = Captcha
    captcha_answer: str = CaptchaAnswer


class UnitIdentify(Body):
    ticket: str = Ticket
    identity: Literal["legal_rep", "agent"]
    name: text(50)
    id_number: IdNumber
    new_agent_name: text(50)
    new_agent_phone: Phone
    captcha_id: str = Captcha
    captcha_answer: str = CaptchaAnswer


class StepOut(BaseModel):
    ticket: str
    phone: str | None = None  # masked
    resend_after: int | None = None
    expires_in: int | None = None


class ResetTicketOut(BaseModel):
    reset_ticket: str
    expires_in: int


class FoundAccount(BaseModel):
    username: str
    name: str  # masked
    units: list[str]


class FoundAccounts(BaseModel):
    accounts: list[FoundAccount]


class UnitRecovered(BaseModel):
    username: str
    unit_name: str
