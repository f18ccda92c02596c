"""Request parsing: JSON bodies and query strings into pydantic models, errors into Chinese.

Bodies are strict (no "1" for 1), refuse unknown fields and over-long strings; every failure is one
``invalid_input`` error naming each bad field, and nothing is changed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError
from sanic import Request
from sanic_ext.extensions.openapi import openapi

from backend.core import identifiers, messages
from backend.core.errors import AppError, ValidationFailed

# One-line text: no control characters at all, line breaks and tabs included; text written over
# several lines (a text area) keeps its line breaks, as "\n". C1 controls count (U+0085 is a line
# break, U+009B the 8-bit ESC [), and so do the direction embeddings, overrides and isolates, which
# make a name show as another ("\u202e村湾家王" reads 王家湾村).
_UNTYPED = r"\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(rf"[\x00-\x1f{_UNTYPED}]")
_CONTROL_BUT_NEWLINE = re.compile(rf"[\x00-\x09\x0b-\x1f{_UNTYPED}]")
MAX_ID = 2**31 - 1  # ids are 32-bit integer columns; anything larger cannot exist

M = TypeVar("M", bound=BaseModel)


class Body(BaseModel):
    """Base of every JSON request body."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Base of every query string; values arrive as text, so numbers are converted."""

    model_config = ConfigDict(extra="forbid")


Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class PageQuery(Query):
    """Keyset paging: ``cursor`` is the last id of the previous page."""

    cursor: int | None = Field(None, ge=0, le=MAX_ID)
    limit: int = Field(50, ge=1, le=200)


def _cleaned(value: str, control: re.Pattern[str]) -> str:
    if control.search(value):
        raise PydanticCustomError("control_chars", messages.FIELD_CONTROL_CHARS)
    if not value.strip() or all(char.isspace() or unicodedata.category(char) == "Cf" for char in value):
        raise PydanticCustomError("blank", messages.FIELD_BLANK)  # nothing visible: zero-width characters
    return value.strip()


def _clean_text(value: str) -> str:
    return _cleaned(value, _CONTROL)


def _clean_lines(value: str) -> str:
    return _cleaned(value.replace("\r\n", "\n").replace("\r", "\n"), _CONTROL_BUT_NEWLINE)


def text(max_length: int, min_length: int = 1, *, lines: bool = False) -> Any:
    """A trimmed text field with length limits and no control characters; ``lines``: written in a
    text area, its line breaks are kept (CR LF and CR as LF)."""
    clean = _clean_lines if lines else _clean_text
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(clean)]


def _check(kind: str, checker: Callable[[str], bool], message: str) -> Callable[[str], str]:
    def validate(value: str) -> str:
        if not checker(value):
            raise PydanticCustomError(kind, message)
        return value

    return validate


Phone = Annotated[
    str, Field(max_length=11), AfterValidator(_check("bad_phone", identifiers.valid_phone, messages.FIELD_BAD_PHONE))
]
ContactPhone = Annotated[  # an office's line too (identifiers.valid_contact_phone)
    str,
    Field(max_length=20),
    AfterValidator(_check("bad_contact_phone", identifiers.valid_contact_phone, messages.FIELD_BAD_CONTACT_PHONE)),
]
IdNumber = Annotated[
    str,
    Field(max_length=18),
    AfterValidator(str.upper),
    AfterValidator(_check("bad_id_number", identifiers.valid_id_number, messages.FIELD_BAD_ID_NUMBER)),
]
RegionCode = Annotated[
    str,
    Field(max_length=12),
    AfterValidator(_check("bad_region_code", identifiers.valid_region_code, messages.FIELD_BAD_REGION_CODE)),
]
CreditCode = Annotated[
    str,
    Field(max_length=18),
    AfterValidator(str.upper),
    AfterValidator(_check("bad_credit_code", identifiers.valid_credit_code, messages.FIELD_BAD_CREDIT_CODE)),
]


def _plain_org_code(value: str) -> str:
    """Printed organisation codes often read ``12345678-9``: the hyphen is not part of the code."""
    return value.replace("-", "").upper()


OrgCode = Annotated[
    str,
    Field(max_length=10),
    AfterValidator(_plain_org_code),
    AfterValidator(_check("bad_org_code", identifiers.valid_org_code, messages.FIELD_BAD_ORG_CODE)),
]
Username = Annotated[
    str,
    Field(max_length=32),
    AfterValidator(_check("bad_username", identifiers.valid_username, messages.FIELD_BAD_USERNAME)),
]


def _field_message(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return messages.FIELD_REQUIRED
    if kind == "extra_forbidden":
        return messages.FIELD_UNKNOWN
    if kind in ("string_too_long", "too_long"):
        return messages.FIELD_TOO_LONG.format(limit=ctx.get("max_length", ""))
    if kind in ("string_too_short", "too_short"):
        return messages.FIELD_TOO_SHORT.format(limit=ctx.get("min_length", ""))
    if kind in ("literal_error", "enum"):
        return messages.FIELD_NOT_ALLOWED_VALUE
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return messages.FIELD_OUT_OF_RANGE
    if kind in identifiers.CUSTOM_ERROR_KINDS or kind in ("control_chars", "blank"):
        return str(error["msg"])
    return messages.FIELD_WRONG_TYPE


def to_failure(exc: ValidationError) -> ValidationFailed:
    fields: dict[str, str] = {}
    for error in exc.errors():
        loc = ".".join(str(part) for part in error["loc"]) or "_"
        fields.setdefault(loc, _field_message(error))
    return ValidationFailed(fields)


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different ({"name": "A", "name": "B"} took the last)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValidationFailed({key: messages.DUPLICATE_FIELD})
            seen.add(key)
    return found


def parse_body(request: Request, model: type[M]) -> M:
    """Parse and validate in one pass; a body that is not JSON, or not an object, has its own error,
    and so has one sent as another content type (415) or naming a field twice (422)."""
    body = request.body
    if body and (request.headers.get("content-type") or "").partition(";")[0].strip().lower() != "application/json":
        raise AppError("unsupported_media_type", messages.JSON_REQUIRED, status=415)
    try:
        # JSON-mode validation: strict about types, yet enum values arrive as their strings.
        parsed = model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        whole = [error["type"] for error in exc.errors() if not error["loc"]]
        if "json_invalid" in whole:
            raise AppError("malformed_json", messages.MALFORMED_JSON) from None
        if "model_type" in whole:
            raise ValidationFailed({"_": messages.BODY_NOT_OBJECT}, messages.BODY_NOT_OBJECT) from None
        raise to_failure(exc) from None
    if body and body.count(b":") > 1:  # two keys need two colons: a one-field body cannot repeat one
        json.loads(body, object_pairs_hook=_no_repeats)  # valid JSON by now: this read only looks for that
    return parsed


def text_values(model: type[M], values: dict[str, Any]) -> M:
    """Values that arrive as text (a query string, a chat form's fields) checked by ``model`` with
    numbers and booleans converted from their text; 422 naming each field that is wrong."""
    try:
        return model.model_validate(values, strict=False)
    except ValidationError as exc:
        raise to_failure(exc) from None


def parse_query(request: Request, model: type[M]) -> M:
    """A parameter given twice (?unit_id=5&unit_id=7) is refused, as a JSON field given twice is."""
    repeated = {key: messages.DUPLICATE_FIELD for key, items in request.args.items() if len(items) > 1}
    if repeated:
        raise ValidationFailed(repeated)
    return text_values(model, {key: request.args.get(key) for key in request.args})


Handler = Callable[..., Awaitable[Any]]


def body(model: type[BaseModel]) -> Callable[[Handler], Handler]:
    """Route decorator: parse the JSON body into ``model`` and pass it as ``data``."""

    def decorator(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
            return await handler(request, *args, data=parse_body(request, model), **kwargs)

        return openapi.body({"application/json": model}, required=True)(wrapper)

    return decorator


def query(model: type[BaseModel]) -> Callable[[Handler], Handler]:
    """Route decorator: parse the query string into ``model`` and pass it as ``params``."""

    def decorator(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
            return await handler(request, *args, params=parse_query(request, model), **kwargs)

        for name, info in model.model_fields.items():
            wrapper = openapi.parameter(name, str, "query", required=info.is_required())(wrapper)
        return wrapper

    return decorator
