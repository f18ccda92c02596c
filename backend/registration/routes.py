"""Unit self-registration without a card (P12) and its approval."""

from __future__ import annotations

from sanic import Blueprint

bp = Blueprint("registration", url_prefix="/api/registration")
