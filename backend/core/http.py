"""Response helpers shared by every route module."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from pydantic import BaseModel
from sanic import HTTPResponse
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
