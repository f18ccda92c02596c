"""Request parsing: JSON bodies and query strings into pydantic models, errors into Chinese.

Bodies are strict (no "1" for 1), refuse unknown fields and over-long strings; every failure is one
``invalid_input`` error naming each bad field, and nothing is changed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Awaitable, Callable
from decimal import Decimal
from functools import cache, wraps
from typing import Annotated, Any, TypeVar, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError
from sanic import Request
from sanic_ext.extensions.openapi import openapi

from backend.core import identifiers, messages, names
from backend.core.errors import AppError, ValidationFailed

# One-line text: no control characters at all, line breaks and tabs included; text written over
# several lines (a text area) keeps its line breaks, as "\n". C1 controls count (U+0085 is a line
# break, U+009B the 8-bit ESC [), and so do the direction embeddings, overrides and isolates, which
# make a name show as another ("\u202e村湾家王" reads 王家湾村).
_UNTYPED = r"\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(rf"[\x00-\x1f{_UNTYPED}]")
_CONTROL_BUT_NEWLINE = re.compile(rf"[\x00-\x09\x0b-\x1f{_UNTYPED}]")
MAX_ID = 2**31 - 1  # ids are 32-bit integer columns; anything larger cannot exist
MAX_NAMED = 50  # fields named in one failure at most: no form has more

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


def _cleaned(value: str, control: re.Pattern[str], *, drop_invisible: bool) -> str:
    if control.search(value):
        raise PydanticCustomError("control_chars", messages.FIELD_CONTROL_CHARS)
    shown = names.visible(value)
    if not shown.strip() or all(char.isspace() or unicodedata.category(char) == "Cf" for char in shown):
        raise PydanticCustomError("blank", messages.FIELD_BLANK)  # nothing visible: zero-width characters
    return (shown if drop_invisible else value).strip()


def _clean_text(value: str) -> str:
    return _cleaned(value, _CONTROL, drop_invisible=True)


def _clean_lines(value: str) -> str:
    return _cleaned(value.replace("\r\n", "\n").replace("\r", "\n"), _CONTROL_BUT_NEWLINE, drop_invisible=False)


def text(max_length: int, min_length: int = 1, *, lines: bool = False) -> Any:
    """A trimmed text field with length limits and no control characters. One line (a name, a code,
    what is looked up): the characters that show as nothing go (backend.core.names.visible), as a
    name pasted from WeChat brings them, and the name stored is the one seen, found by it.
    ``lines``: written in a text area, its line breaks are kept (CR LF and CR as LF), and so are the
    joiners of its emoji. The limits count what is kept."""
    clean = _clean_lines if lines else _clean_text
    return Annotated[str, AfterValidator(clean), Field(min_length=min_length, max_length=max_length)]


def _check(kind: str, checker: Callable[[str], bool], message: str) -> Callable[[str], str]:
    def validate(value: str) -> str:
        if not checker(value):
            raise PydanticCustomError(kind, message)
        return value

    return validate


# Codes and numbers pasted with characters that show as nothing are read without them (as text is).
_SHOWN = AfterValidator(names.visible)
# Numbers as they are printed and pasted (identifiers.plain_number): full-width digits, spaces and
# dashes between the groups; a mobile also with the country's code (identifiers.plain_mobile).


def _plain_contact_phone(value: str) -> str:
    """A mobile as :func:`identifiers.plain_mobile` reads it; an office line keeps the dash after its area code."""
    mobile = identifiers.plain_mobile(value)
    return mobile if identifiers.valid_phone(mobile) else unicodedata.normalize("NFKC", value).strip()


_PLAIN = AfterValidator(identifiers.plain_number)

Phone = Annotated[
    str,
    _SHOWN,
    AfterValidator(identifiers.plain_mobile),
    Field(max_length=11),
    AfterValidator(_check("bad_phone", identifiers.valid_phone, messages.FIELD_BAD_PHONE)),
]
ContactPhone = Annotated[  # an office's line too (identifiers.valid_contact_phone)
    str,
    _SHOWN,
    AfterValidator(_plain_contact_phone),
    Field(max_length=20),
    AfterValidator(_check("bad_contact_phone", identifiers.valid_contact_phone, messages.FIELD_BAD_CONTACT_PHONE)),
]
IdNumber = Annotated[
    str,
    _SHOWN,
    _PLAIN,
    Field(max_length=18),
    AfterValidator(str.upper),
    AfterValidator(_check("bad_id_number", identifiers.valid_id_number, messages.FIELD_BAD_ID_NUMBER)),
]
RegionCode = Annotated[
    str,
    _SHOWN,
    _PLAIN,
    Field(max_length=12),
    AfterValidator(_check("bad_region_code", identifiers.valid_region_code, messages.FIELD_BAD_REGION_CODE)),
]
CreditCode = Annotated[
    str,
    _SHOWN,
    _PLAIN,
    Field(max_length=18),
    AfterValidator(str.upper),
    AfterValidator(_check("bad_credit_code", identifiers.valid_credit_code, messages.FIELD_BAD_CREDIT_CODE)),
]


OrgCode = Annotated[
    str,
    _SHOWN,
    _PLAIN,  # printed organisation codes often read 12345678-9: the dash is no part of the code
    Field(max_length=10),
    AfterValidator(str.upper),
    AfterValidator(_check("bad_org_code", identifiers.valid_org_code, messages.FIELD_BAD_ORG_CODE)),
]
Username = Annotated[
    str,
    _SHOWN,
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
    """The failure naming each bad field, the first :data:`MAX_NAMED` of them: a body of a megabyte of
    unknown keys was answered naming every one (2.4 MB, a second of the server's time)."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(part) for part in error["loc"]) or "_"
        fields.setdefault(loc, _field_message(error))
        if len(fields) == MAX_NAMED:
            break
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


def _holds_decimal(annotation: Any) -> bool:
    return annotation is Decimal or any(_holds_decimal(arg) for arg in get_args(annotation))


@cache
def _decimal_fields(model: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    """(field, JSON key) of each field of ``model`` that holds a Decimal (``Money | None`` too)."""
    return tuple(
        (name, info.alias or name) for name, info in model.model_fields.items() if _holds_decimal(info.annotation)
    )


def _read_exactly(model: type[M], parsed: M, sent: dict[str, Any]) -> None:
    """Each Decimal field sent as a JSON number with a fraction or an exponent, read again from its
    digits: pydantic reads one through a float (12.3400000000000000001 arrived as 12.34, 1e-400 as 0,
    a bound's 100.00000000000000001 as 100). Its checks run on the exact figure."""
    wrong: dict[str, str] = {}
    for name, key in _decimal_fields(model):
        if isinstance(sent.get(key), Decimal):
            try:
                model.__pydantic_validator__.validate_assignment(parsed, name, sent[key])
            except ValidationError as exc:
                wrong.update(to_failure(exc).fields)
    if wrong:
        raise ValidationFailed(wrong)


def _with_nul(value: Any, at: str = "") -> list[str]:
    """Where the parsed JSON ``value`` holds a NUL (U+0000), in a text or a key: no one types it and
    PostgreSQL cannot hold it, even as a query parameter (a login with one answered 500)."""
    if isinstance(value, str):
        return [at or "_"] if "\x00" in value else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    found: list[str] = []
    for key, item in items:
        where = f"{at}.{key}" if at else str(key)
        found += [where] if isinstance(key, str) and "\x00" in key else _with_nul(item, where)
    return found


def parse_body(request: Request, model: type[M]) -> M:
    """Parse and validate in one pass; a body that is not JSON, or not an object, has its own error,
    and so has one sent as another content type (415), naming a field twice or holding a NUL (422).
    Decimal fields read the numbers as written (:func:`_read_exactly`)."""
    body = request.body
    if body and (request.headers.get("content-type") or "").partition(";")[0].strip().lower() != "application/json":
        raise AppError("unsupported_media_type", messages.JSON_REQUIRED, status=415)
    try:
        # JSON-mode validation: strict about types, yet enum values arrive as their strings.
        parsed = model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        # A body that is no JSON, or no object, is one error of the whole (listing thousands costs).
        whole = [error["type"] for error in exc.errors() if not error["loc"]] if exc.error_count() == 1 else []
        if "json_invalid" in whole:
            raise AppError("malformed_json", messages.MALFORMED_JSON) from None
        if "model_type" in whole:
            raise ValidationFailed({"_": messages.BODY_NOT_OBJECT}, messages.BODY_NOT_OBJECT) from None
        raise to_failure(exc) from None
    decimals = _decimal_fields(model)
    # Read again only when it may tell more: two keys need two colons (a one-field body cannot repeat
    # one), a NUL is written \u0000, a float of a Decimal field has digits pydantic did not keep.
    if body and (decimals or body.count(b":") > 1 or b"\\u0000" in body):
        sent = json.loads(body, object_pairs_hook=_no_repeats, parse_float=Decimal)  # valid JSON by now
        nul = _with_nul(sent) if b"\\u0000" in body else []
        if nul:
            raise ValidationFailed(dict.fromkeys(nul, messages.FIELD_CONTROL_CHARS))
        if decimals:
            _read_exactly(model, parsed, sent)
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


# A route's marks (set by :func:`body`, :func:`query` and :func:`reads_input`; functools.wraps
# carries them to the decorators above): which input it reads. Any other is refused before it runs.
_TAKES_BODY = "_takes_body"
_TAKES_QUERY = "_takes_query"
_NOTHING = (b"", b"{}")  # a body that says nothing (a client may send "{}" with every POST)


def reads_input(*, body: bool = False, query: bool = False) -> Callable[[Handler], Handler]:
    """Route decorator for a route that reads its own body (the chat, a streamed form) or query
    string (the development inbox) rather than through :func:`body` or :func:`query`."""

    def mark(handler: Handler) -> Handler:
        if body:
            setattr(handler, _TAKES_BODY, True)
        if query:
            setattr(handler, _TAKES_QUERY, True)
        return handler

    return mark


async def refuse_undeclared_input(request: Request) -> None:
    """Request middleware: a body sent to an API route that takes none, or a query string to one that
    reads none, is refused before the route runs (an action called with {"dry_run": true} was done,
    and a write ignored parameters that the lists refuse)."""
    if not request.body and not request.query_string:
        return
    route = request.route
    if route is None or not request.path.startswith("/api/"):
        return
    handler = route.handler
    if request.body.strip() not in _NOTHING and not getattr(handler, _TAKES_BODY, False):
        raise AppError("body_not_accepted", messages.BODY_NOT_ACCEPTED, status=422)
    if request.query_string and not getattr(handler, _TAKES_QUERY, False):
        names = dict.fromkeys(name for name, _ in request.get_query_args(keep_blank_values=True))
        raise ValidationFailed({name: messages.FIELD_UNKNOWN for name in list(names)[:MAX_NAMED]})


def body(model: type[BaseModel]) -> Callable[[Handler], Handler]:
    """Route decorator: parse the JSON body into ``model`` and pass it as ``data``."""

    def decorator(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
            return await handler(request, *args, data=parse_body(request, model), **kwargs)

        setattr(wrapper, _TAKES_BODY, True)
        return openapi.body({"application/json": model}, required=True)(wrapper)

    return decorator


def query(model: type[BaseModel]) -> Callable[[Handler], Handler]:
    """Route decorator: parse the query string into ``model`` and pass it as ``params``."""

    def decorator(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
            return await handler(request, *args, params=parse_query(request, model), **kwargs)

        setattr(wrapper, _TAKES_QUERY, True)
        for name, info in model.model_fields.items():
            wrapper = openapi.parameter(name, str, "query", required=info.is_required())(wrapper)
        return wrapper

    return decorator
