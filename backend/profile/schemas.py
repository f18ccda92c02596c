from __future__ import annotations

from pydantic import BaseModel, Field

from backend.accounts.models import IdType, RealnameLevel
from backend.cards.schemas import CardOut
from backend.core.validation import Body, Phone, text


class ProfileOut(BaseModel):
    username: str
    name: str
    id_type: IdType
    id_number: str | None  # masked
    id_valid_until: str | None
    phone: str | None  # masked
    email: str | None
    realname_level: RealnameLevel
    phone_login: bool
    needs_activation: bool  # created by a card login; no password login until a password is set
    card: CardOut | None


class ProfileUpdate(Body):
    """Only the fields sent change; changing name or ID details voids the real-name level."""

    name: text(50) = None
    id_type: IdType = None
    id_number: str | None = Field(None, min_length=5, max_length=20)
    id_valid_until: str | None = Field(None, pattern=r"^[0-9]{8}$")
    email: text(100) | None = None  # trimmed, no control characters, none that show as nothing


class PhoneLoginSwitch(Body):
    enabled: bool


class CaptchaBody(Body):
    captcha_id: str = Field(min_length=1, max_length=64)
    captcha_answer: str = Field(min_length=1, max_length=8)


class CodeBody(Body):
    code: str = Field(pattern=r"^[0-9]{6}$")


class PhoneChangeStart(CaptchaBody):
    password: str = Field(min_length=1, max_length=128)
    new_phone: Phone


class PhoneChangeConfirm(Body):
    ticket: str = Field(min_length=1, max_length=100)
    code: str = Field(pattern=r"^[0-9]{6}$")


class SentOut(BaseModel):
    phone: str  # masked
    resend_after: int
    expires_in: int
    ticket: str | None = None
