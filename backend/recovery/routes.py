"""Forgotten password, forgotten user name and unit account recovery (R2-R4)."""

from __future__ import annotations

from sanic import Blueprint

bp = Blueprint("recovery", url_prefix="/api/recovery")
