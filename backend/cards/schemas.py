"""Requests and answers about cards bound to accounts (C5-C7)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from backend.core.validation import Body


class CardOut(BaseModel):
    card_number: str  # masked
    kind: str
    kind_label: str
    bound_at: datetime


class ActivateRequest(Body):
    new_password: str = Field(min_length=1, max_length=128)
