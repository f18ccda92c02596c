"""Co-op info cards (D1): the cards, their queries, statistics and map, and summaries (W4)."""

from __future__ import annotations

from sanic import Blueprint

bp = Blueprint("coops", url_prefix="/api/coops")
