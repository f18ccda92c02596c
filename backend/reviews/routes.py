"""Manual review of recoveries (R5): submission and the superior admin's decision."""

from __future__ import annotations

from sanic import Blueprint

bp = Blueprint("reviews", url_prefix="/api/reviews")
