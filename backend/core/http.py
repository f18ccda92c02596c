"""Response helpers shared by every route module."""

from __future__ import annotations

import ipaddress
import json
from functools import partial
from typing import Any

from pydantic import BaseModel
from sanic import HTTPResponse, Request
from sanic.response import json as json_response

# Chinese text stays as UTF-8 (about a third of the size of \\u escapes): small responses for weak signals.
dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"), default=str)


def ok(
    payload: BaseModel | dict[str, Any] | list[Any], status: int = 200, *, exclude_none: bool = False
) -> HTTPResponse:
    """A JSON answer. A model is written by pydantic's own serializer (UTF-8, no spaces, as
    :data:`dumps` writes): a chat reply's dict and its ``json.dumps`` cost twice as much."""
    if isinstance(payload, BaseModel):
        body = payload.model_dump_json(exclude_none=exclude_none)
        return HTTPResponse(body, status=status, content_type="application/json")
    return json_response(payload, status=status, dumps=dumps)


def no_content() -> HTTPResponse:
    return HTTPResponse(status=204)


MAX_USER_AGENT = 200  # characters of a User-Agent kept (the session list shows it; a longer one is cut)


def ip_address_of(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``value`` as an IPv4 or IPv6 address (Sanic brackets a forwarded IPv6); None: it is none."""
    try:
        return ipaddress.ip_address(value.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


def _is_address(value: str) -> bool:
    """An IPv4 or IPv6 address without a zone: at most 47 characters."""
    address = ip_address_of(value)
    return address is not None and not getattr(address, "scope_id", None)


def client_ip(request: Request) -> str | None:
    """The client's address: the one the trusted proxies forwarded (``PROXIES_COUNT``), else the
    peer's. A forwarded value that is no address (a forged header's text, over-long, undecodable
    bytes) is not used: Redis refused it as a throttle key and the audit's 64-character column
    refused it, and each made-up value would be a throttle bucket of its own."""
    for candidate in (request.remote_addr, request.ip):
        if candidate and _is_address(candidate):
            return candidate
    return None


def user_agent(request: Request) -> str | None:
    """The User-Agent header, printable characters only (undecodable bytes arrive as surrogates
    that Redis cannot store), cut to :data:`MAX_USER_AGENT`."""
    value = request.headers.get("user-agent")
    if value is None:
        return None
    if not value.isprintable():
        value = "".join(char for char in value if char.isprintable())
    return value[:MAX_USER_AGENT]
