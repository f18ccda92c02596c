"""Agents of a unit (R6): add by phone, list, unbind with confirmation."""

from __future__ import annotations

from sanic import Blueprint

bp = Blueprint("agents", url_prefix="/api/units")
