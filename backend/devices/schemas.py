"""Requests and answers of the device endpoints (docs/card-protocol.md, C2)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from backend.core.validation import Body, Id, PageQuery, text


class EnrolmentStart(Body):
    public_key: str = Field(min_length=43, max_length=43, description="Ed25519 公钥（32 字节，base64url 无填充）")
    hostname: text(64) = Field(description="电脑名称（读卡程序自动填写）")


class EnrolmentOut(BaseModel):
    token: str
    qr: str
    fingerprint: str
    expires_at: datetime
    expires_in: int


class EnrolmentPreview(BaseModel):
    hostname: str
    fingerprint: str
    expires_at: datetime


class EnrolmentApprove(Body):
    name: text(50) = Field(description="这台电脑的名称，如“王家湾村委会办公室”")
    unit_id: Id


class DeviceListQuery(PageQuery):
    unit_id: int | None = Field(None, ge=1, le=2**31 - 1)


class UnitRef(BaseModel):
    id: int
    name: str


class AccountRef(BaseModel):
    id: int
    name: str


class DeviceOut(BaseModel):
    id: int
    device_id: str
    name: str
    hostname: str
    unit: UnitRef
    status: str
    status_label: str
    fingerprint: str
    enrolled_at: datetime
    enrolled_by: AccountRef | None
    revoked_at: datetime | None
    last_seen_at: datetime | None


class DevicePage(BaseModel):
    items: list[DeviceOut]
    total: int | None
    next_cursor: int | None
