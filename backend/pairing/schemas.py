"""Requests of the pairing endpoints (docs/card-protocol.md, C3-C4)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from backend.core.validation import Body, Query


class PairingCreate(Body):
    action: Literal["login", "bind", "realname"] = Field(description="login 卡登录 / bind 绑定IC卡 / realname 实名认证")


class EventsQuery(Query):
    since: int = Field(0, ge=0, le=10_000)
    wait: float = Field(0, ge=0, le=25)


class ScanRequest(Body):
    token: str = Field(min_length=16, max_length=64)


class PhoneKeyBody(Body):
    phone_key: str = Field(min_length=16, max_length=64)


class CardAnswer(Body):
    nonce: str = Field(min_length=43, max_length=43)
    certificate: str = Field(min_length=1, max_length=8000, description="卡证书（DER，base64）")
    chain: list[str] = Field(default_factory=list, max_length=3)
    signature: str = Field(min_length=1, max_length=200, description="ECDSA 签名（DER，base64）")
