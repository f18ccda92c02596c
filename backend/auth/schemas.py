from __future__ import annotations

from pydantic import BaseModel, Field

from backend.accounts.schemas import MembershipOut
from backend.core.validation import Body, Id


class LoginRequest(Body):
    login: str = Field(min_length=1, max_length=64, description="用户名或已开通手机号登录的手机号")
    password: str = Field(min_length=1, max_length=128)
    captcha_id: str = Field(min_length=1, max_length=64)
    captcha_answer: str = Field(min_length=1, max_length=8)
    wechat_bind_ticket: str | None = Field(
        None, min_length=1, max_length=100, description="微信登录给出的绑定凭证：登录成功后绑定这个微信"
    )


class ChooseUnitRequest(Body):
    membership_id: Id


class ChangePasswordRequest(Body):
    old_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)


class CaptchaOut(BaseModel):
    captcha_id: str
    image: str  # data:image/png;base64,...
    expires_in: int


class SessionOut(BaseModel):
    account_id: int
    username: str
    name: str
    must_change_password: bool
    sms_check_required: bool
    unit: MembershipOut | None
    units: list[MembershipOut]
    expires_in: int


class LoginOut(SessionOut):
    token: str
    wechat_bound: bool = False  # a WeChat identity was bound by this login


class TokenOut(BaseModel):
    token: str


class SessionItem(BaseModel):
    id: str
    current: bool
    ip: str
    user_agent: str
    started_at: float
    last_seen: float
