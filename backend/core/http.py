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


def ok(payload: BaseModel | dict[str, Any] | list[Any], status: int = 200) -> HTTPResponse:
    body = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    return json_response(body, status=status, dumps=dumps)


def no_content() -> HTTPResponse:
    return HTTPResponse(status=204)
