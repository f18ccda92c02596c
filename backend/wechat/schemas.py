from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from backend.auth.schemas import LoginOut
from backend.core.validation import Body, Phone

# wx.login codes and phone-number codes: opaque, URL-safe, short-lived and single use.
WechatCode = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-]+$")]
BindTicket = Annotated[str, Field(min_length=1, max_length=100, description="微信登录给出的绑定凭证")]


class WechatLoginRequest(Body):
    code: WechatCode = Field(description="小程序 wx.login 得到的 code")


class WechatSessionOut(LoginOut):
    """The WeChat identity is bound: the same session as a password login."""

    status: Literal["logged_in"] = "logged_in"


class BindRequiredOut(BaseModel):
    """The WeChat identity is not bound: log in once with the ticket (password or SMS) to bind it."""

    status: Literal["bind_required"] = "bind_required"
    bind_ticket: str
    expires_in: int
    message: str


class WechatLoginOut(BaseModel):
    """``status`` says which: ``logged_in`` (the fields of a password login) or ``bind_required``."""

    status: Literal["logged_in", "bind_required"]
    token: str | None = None
    bind_ticket: str | None = None
    expires_in: int | None = None
    message: str | None = None


class SmsLoginSendCode(Body):
    phone: Phone
    captcha_id: str = Field(min_length=1, max_length=64)
    captcha_answer: str = Field(min_length=1, max_length=8)
    wechat_bind_ticket: BindTicket


class SmsLogin(Body):
    phone: Phone
    code: str = Field(pattern=r"^[0-9]{6}$")
    wechat_bind_ticket: BindTicket


class SentOut(BaseModel):
    phone: str  # masked
    resend_after: int
    expires_in: int


class PhoneCodeRequest(Body):
    code: WechatCode = Field(description="获取手机号按钮（getPhoneNumber）得到的 code")


class PhoneOut(BaseModel):
    phone: str  # the WeChat user's own number, for prefilling; not stored
    country_code: str


class BindingOut(BaseModel):
    bound: bool
    bound_at: datetime | None = None
