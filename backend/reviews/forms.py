"""Reading a public review submission off the wire: multipart/form-data, size-capped while streaming.

The route is a streaming route, so Sanic does not buffer the body for it: a declared length over
the cap is refused before a byte of the body is read, and an undeclared (chunked) body is cut off
as soon as it passes the cap.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from pydantic import ValidationError
from sanic import Request
from sanic.headers import parse_content_header
from sanic.request.form import parse_multipart_form

from backend.core import messages as core_messages
from backend.core.errors import AppError, ValidationFailed
from backend.core.validation import to_failure
from backend.reviews import messages as msg
from backend.reviews.images import MAX_BODY_BYTES
from backend.reviews.schemas import ReviewSubmission

IMAGE_FIELD = "images"
_OPTIONAL = ("username", "credit_code")


@dataclass(frozen=True)
class Submission:
    form: ReviewSubmission
    images: list[bytes]

    def content(self) -> bytes:
        """What the form says, however it was framed (a resend picks another multipart boundary):
        its fields and each image's digest, for the Idempotency-Key's check of the body."""
        images = [hashlib.sha256(image).hexdigest() for image in self.images]
        return json.dumps({"fields": self.form.model_dump(), "images": images}, sort_keys=True).encode()


def _too_large() -> AppError:
    return AppError("body_too_large", msg.BODY_TOO_LARGE, status=413)


def boundary_of(request: Request) -> bytes:
    content_type, params = parse_content_header(request.headers.get("content-type", ""))
    boundary = params.get("boundary")
    if content_type != "multipart/form-data" or not isinstance(boundary, str) or not boundary:
        raise AppError("multipart_required", msg.MULTIPART_REQUIRED, status=415)
    return boundary.encode()


def refuse_declared_oversize(request: Request) -> None:
    """Before reading: a Content-Length over the cap is refused at once."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()


async def read_body(request: Request) -> bytes:
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream:
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def parse(raw: bytes, boundary: bytes) -> Submission:
    """Text fields into :class:`ReviewSubmission` (422 naming bad fields), files of ``images`` as bytes."""
    try:
        fields, files = parse_multipart_form(raw, boundary)
    except Exception as exc:  # broken framing or undecodable text: nothing usable
        raise AppError("form_unreadable", msg.FORM_UNREADABLE, status=422) from exc
    if not fields and not files:  # garbage, or framed with another boundary than the header names
        raise AppError("form_unreadable", msg.FORM_UNREADABLE, status=422)
    problems: dict[str, str] = {}
    for name in files:
        if name != IMAGE_FIELD:
            problems[name] = core_messages.FIELD_UNKNOWN
    values: dict[str, str] = {}
    for name, items in fields.items():
        if len(items) > 1:
            problems[name] = msg.FIELD_DUPLICATED
        elif not (name in _OPTIONAL and items[0] == ""):
            values[name] = items[0]
    if IMAGE_FIELD in fields:  # an "image" sent without a file name is not an image
        problems[IMAGE_FIELD] = msg.IMAGE_TYPE.format(index=1)
    if values.get("kind") == "password" and "username" not in values:
        problems["username"] = msg.USERNAME_REQUIRED
    if values.get("kind") == "unit" and "credit_code" not in values:
        problems["credit_code"] = msg.CREDIT_CODE_REQUIRED
    try:
        form = ReviewSubmission.model_validate(values)
    except ValidationError as exc:
        raise ValidationFailed({**to_failure(exc).fields, **problems}) from None
    if problems:
        raise ValidationFailed(problems)
    return Submission(form=form, images=[item.body for item in files.getlist(IMAGE_FIELD, [])])


async def read_submission(request: Request) -> Submission:
    boundary = boundary_of(request)
    return parse(await read_body(request), boundary)
