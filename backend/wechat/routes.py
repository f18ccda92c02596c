"""WeChat login (W1): code2session, binding, one-tap login, unbinding, the phone-number button."""

from __future__ import annotations

from sanic import Blueprint

bp = Blueprint("wechat", url_prefix="/api/wechat")
