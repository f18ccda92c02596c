"""gzip for answers worth compressing: Chinese JSON shrinks to a third, which counts on a weak signal."""

from __future__ import annotations

import gzip

from sanic import HTTPResponse, Request

MIN_BYTES = 512
LEVEL = 6
_TYPES = ("application/json", "text/")


async def compress(request: Request, response: HTTPResponse) -> None:
    """Response middleware: gzip the body when the client accepts it and it is big enough."""
    body = response.body
    if (
        not body
        or len(body) < MIN_BYTES
        or "gzip" not in request.headers.get("accept-encoding", "")
        or "content-encoding" in response.headers
        or not (response.content_type or "").startswith(_TYPES)
    ):
        return
    response.body = gzip.compress(body, compresslevel=LEVEL, mtime=0)
    response.headers["content-encoding"] = "gzip"
    response.headers["vary"] = "Accept-Encoding"
    response.headers["content-length"] = str(len(response.body))
