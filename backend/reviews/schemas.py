"""Requests and answers of the manual review endpoints (documented in OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.core.validation import Body, CreditCode, IdNumber, PageQuery, Phone, Username, text

IMAGES_REMOVED_AT = Field(
    description="图片保留期满（决定后，或待审核超过 REVIEW_IMAGE_RETENTION_DAYS 天自动关闭时）被删除的时间；"
    "未删除时为空"
)

ReviewKindName = Literal["password", "username", "unit"]
ReviewStatusName = Literal["pending", "approved", "rejected"]


class ReviewSubmission(BaseModel):
    """The text fields of a public submission (sent as multipart/form-data, so every value is text)."""

    model_config = ConfigDict(extra="forbid")

    kind: ReviewKindName = Field(description="password 找回密码；username 找回用户名；unit 找回单位账号")
    name: text(50)
    id_number: IdNumber
    phone: Phone = Field(description="审核结果和临时密码发到这个手机号")
    username: Username | None = Field(None, description="找回密码时必填")
    credit_code: CreditCode | None = Field(None, description="找回单位账号时必填")
    statement: text(500, lines=True) = Field(description="情况说明（可分多行）")
    captcha_id: str = Field("", max_length=64)
    captcha_answer: str = Field("", max_length=8)


class ReviewSubmissionForm(ReviewSubmission):
    """What the form carries (for the documentation): the fields above and 1 to 3 images."""

    images: list[bytes] = Field(
        description="1 到 3 张 JPG 或 PNG 图片，每张不超过 4 MB（按文件内容识别类型）",
        json_schema_extra={"items": {"type": "string", "format": "binary"}},
    )


class ReviewAccepted(BaseModel):
    """The same answer whether or not the account or unit exists."""

    message: str


class ReviewListQuery(PageQuery):
    status: ReviewStatusName = "pending"
    kind: ReviewKindName | None = None


class ReviewRow(BaseModel):
    id: int
    kind: ReviewKindName
    kind_label: str
    status: ReviewStatusName
    status_label: str
    unit_id: int | None  # null: the unit was deleted after the request was decided
    unit_name: str
    name: str
    phone: str  # masked
    id_number: str  # masked
    username: str | None
    image_count: int
    images_removed_at: datetime | None = IMAGES_REMOVED_AT
    created_at: datetime
    decided_at: datetime | None


class ReviewPage(BaseModel):
    items: list[ReviewRow]
    total: int
    next_cursor: int | None


class ReviewUnit(BaseModel):
    id: int | None  # null: the unit was deleted after the request was decided (its name a dash)
    name: str
    credit_code: str | None


class ReviewAccount(BaseModel):
    id: int
    username: str
    name: str
    is_active: bool


class IdentityChecks(BaseModel):
    """Do the details in the request match what is on file (the account, or the unit's legal
    representative for a unit request)? null: nothing on file to compare with."""

    name: bool | None
    phone: bool | None
    id_number: bool | None


class ReviewImageOut(BaseModel):
    index: int
    type: str
    size: int
    url: str


class ReviewDetail(BaseModel):
    """One request with the requester's details unmasked (opening it is audited)."""

    id: int
    kind: ReviewKindName
    kind_label: str
    status: ReviewStatusName
    status_label: str
    unit: ReviewUnit
    name: str
    id_number: str
    phone: str
    statement: str
    images: list[ReviewImageOut]
    images_removed_at: datetime | None = IMAGES_REMOVED_AT
    account: ReviewAccount | None
    checks: IdentityChecks
    on_approve: str | None = Field(description="待审核时：通过后会发生什么")
    created_at: datetime
    decided_at: datetime | None
    decided_by_id: int | None
    decision_reason: str | None


class RejectRequest(Body):
    reason: text(200) = Field(description="驳回原因，会以短信发给申请人")


class DecisionOut(BaseModel):
    id: int
    status: ReviewStatusName
    status_label: str
    decided_at: datetime
