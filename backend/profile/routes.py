"""Own profile, bound phone change and the first-login SMS check (P11, P4)."""

from __future__ import annotations

from sanic import Blueprint

bp = Blueprint("profile", url_prefix="/api")
