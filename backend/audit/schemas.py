from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from backend.core.validation import Id, PageQuery, text


class AuditQuery(PageQuery):
    cursor: int | None = Field(None, ge=0, le=2**63 - 1)  # audit ids are 64-bit
    action: text(48) | None = None
    account_id: Id | None = None
    outcome: text(16) | None = None
    unit_id: Id | None = None  # that unit's entries and those below it
    from_day: date | None = None  # days in China, both included
    to_day: date | None = None


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor_account_id: int | None
    actor_unit_id: int | None
    action: str
    outcome: str
    target_type: str | None
    target_id: str | None
    ip: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: int | None
