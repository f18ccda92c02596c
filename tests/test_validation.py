"""The shared request parsing (backend.core.validation): what a field keeps of the text sent, and a
JSON body read exactly as it was written."""

from __future__ import annotations

import sys
import unicodedata
from decimal import Decimal
from types import SimpleNamespace
from typing import Annotated, Any

import httpx
import pytest
from pydantic import Field

from backend.accounts.models import Account
from backend.core import names
from backend.core.errors import ValidationFailed
from backend.core.validation import Body, parse_body
from backend.units.models import Unit
from tests.factories import captcha
from tests.test_bad_input import BODY_ENDPOINTS, VALID_ID_NUMBER, Env, _fill, assert_error, encode, env, send, snapshot

__all__ = ["env"]  # the fixture, shared with test_bad_input

# What WeChat and web pages bring along with pasted text: zero-width space, joiner and non-joiner,
# word joiner, byte order mark, soft hyphen, direction marks, a Hangul filler (shows as a blank).
PASTED = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u3164"


def request_of(body: bytes) -> Any:
    """What parse_body reads of a request: its body and its headers."""
    return SimpleNamespace(body=body, headers={"content-type": "application/json"})


# --- invisible characters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "field", "typed", "kept"),
    [
        ("create unit", "name", "新\u200b建\u2060村\ufeff", "新建村"),
        ("update unit", "name", f"王家{PASTED}湾村", "王家湾村"),
        ("create account", "name", "\u200b新录\u200d入员", "新录入员"),
        ("update account", "name", "李\u00ad四\u200b", "李四"),
        ("create account", "username", "new_clerk\u200b", "new_clerk"),
        ("create account", "phone", "\u2060139\u200b00000001", "13900000001"),
        ("update account", "id_number", VALID_ID_NUMBER + "\ufeff", VALID_ID_NUMBER),
        ("create unit", "credit_code", "\u200b91350100M000100Y43", "91350100M000100Y43"),
    ],
)
async def test_characters_pasted_unseen_are_dropped_from_names_and_codes(
    client: httpx.AsyncClient, env: Env, endpoint: str, field: str, typed: str, kept: str
) -> None:
    """A name pasted from WeChat with a zero-width space looks like the name without it, but was
    stored with it and then matched no lookup of the name (and its pinyin had the character in it)."""
    spec = BODY_ENDPOINTS[endpoint]
    response = await send(client, env, spec, encode({**_fill(spec.valid, env.ids()), field: typed}))
    assert response.status_code == spec.accepted[0], response.text
    if spec.path.startswith("/api/units"):
        unit = await Unit.get(id=response.json()["id"])
        assert getattr(unit, field) == kept
        if field == "name":
            assert unit.name_pinyin.isascii() and unit.name_pinyin.isalpha()
    elif field in ("name", "username"):
        account = await Account.get(id=response.json()["id"])
        assert getattr(account, field) == kept


async def test_a_name_pasted_with_a_zero_width_space_is_found_by_the_name_as_seen(
    client: httpx.AsyncClient, env: Env
) -> None:
    created = await client.post(
        "/api/units/",
        json={"parent_id": env.tree.own.id, "name": "李家\u200b坪村", "type": "village"},
        headers=env.headers,
    )
    assert created.status_code == 201, created.text
    found = await client.get("/api/units/", params={"q": "李家坪"}, headers=env.headers)
    assert [u["id"] for u in found.json()["items"]] == [created.json()["id"]]
    typed = await client.get("/api/units/", params={"q": "李家坪\u200b"}, headers=env.headers)
    assert [u["id"] for u in typed.json()["items"]] == [created.json()["id"]]


@pytest.mark.parametrize("pasted", ["\u200b", " ", "\u3000", "\ufeff\u200b"])
async def test_a_name_of_the_longest_length_pasted_with_unseen_characters_is_not_too_long(
    client: httpx.AsyncClient, env: Env, pasted: str
) -> None:
    """The limit counts the characters kept: 100 characters and a trailing space were refused as
    over 100, though the space is dropped anyway."""
    name = "湾" * 100
    body = {"parent_id": env.tree.own.id, "name": name + pasted, "type": "village"}
    response = await client.post("/api/units/", json=body, headers=env.headers)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name


async def test_a_name_still_too_long_without_its_unseen_characters_is_refused_with_the_limit(
    client: httpx.AsyncClient, env: Env
) -> None:
    before = await snapshot()
    body = {"parent_id": env.tree.own.id, "name": "湾" * 101 + "\u200b", "type": "village"}
    error = assert_error(
        await client.post("/api/units/", json=body, headers=env.headers), 422, "invalid_input", {"name"}
    )
    assert error["fields"]["name"] == "不能超过 100 个字符"
    assert await snapshot() == before


@pytest.mark.parametrize("value", ["\u3164", "\u200b\u3164 \ufeff", "\u00ad"])
async def test_a_name_of_nothing_but_unseen_characters_is_refused_as_blank(
    client: httpx.AsyncClient, env: Env, value: str
) -> None:
    """U+3164 (a Hangul filler) is a letter that shows as nothing: a name of it looked empty."""
    before = await snapshot()
    body = {"parent_id": env.tree.own.id, "name": value, "type": "village"}
    error = assert_error(
        await client.post("/api/units/", json=body, headers=env.headers), 422, "invalid_input", {"name"}
    )
    assert error["fields"]["name"] == "不能为空白"
    assert await snapshot() == before


def test_every_invisible_format_character_is_dropped_but_none_that_shows() -> None:
    """The list is written out (scanning Unicode at import takes a third of a second): it holds
    every format character but the direction controls (refused instead) and those that show."""
    shown = {0x180E, *range(0x600, 0x606), 0x6DD, 0x70F, 0x890, 0x891, 0x8E2, 0x110BD, 0x110CD}
    shown |= {*range(0xFFF9, 0xFFFC), *range(0x13430, 0x13440)}  # annotation marks, hieroglyph controls
    refused = {*range(0x202A, 0x202F), *range(0x2066, 0x206A)}
    fillers = {0x115F, 0x1160, 0x3164, 0xFFA0}
    dropped = {c for c in range(sys.maxunicode + 1) if names.INVISIBLE.fullmatch(chr(c))}
    formats = {c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"}
    assert dropped == (formats - shown - refused) | fillers


# --- numbers read exactly -------------------------------------------------------------------------


class Payment(Body):
    amount: Annotated[Decimal, Field(ge=0, le=100)]
    fee: Decimal | None = None
    rate: float = 0


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        (b'{"amount": 12.3400000000000000001}', Decimal("12.3400000000000000001")),
        (b'{"amount": 1e-400}', Decimal("1e-400")),
        (b'{"amount": 0.1}', Decimal("0.1")),
        (b'{"amount": 12}', Decimal(12)),
        (b'{"amount": "12.340"}', Decimal("12.340")),
    ],
)
def test_a_decimal_field_reads_the_number_as_written_not_through_a_float(sent: bytes, read: Decimal) -> None:
    """12.3400000000000000001 arrived as 12.34 and 1e-400 as 0: a figure one fen too fine was
    stored rounded, where the same figure sent as text was refused."""
    parsed = parse_body(request_of(sent), Payment)
    assert parsed.amount == read and str(parsed.amount) == str(read)


def test_decimal_fields_beyond_their_bounds_only_without_rounding_are_refused_by_name() -> None:
    """100.00000000000000001 was read as 100, within ``le=100``; the optional field is read exactly too."""
    with pytest.raises(ValidationFailed) as caught:
        parse_body(request_of(b'{"amount": 100.00000000000000001, "fee": -0.5, "rate": 0.5}'), Payment)
    assert caught.value.fields == {"amount": "数值超出范围"}
    parsed = parse_body(request_of(b'{"amount": 1, "fee": 0.30000000000000000001, "rate": 0.1}'), Payment)
    assert parsed.fee == Decimal("0.30000000000000000001") and parsed.rate == 0.1
    assert parse_body(request_of(b'{"amount": 1, "fee": null}'), Payment).fee is None


# --- NUL ------------------------------------------------------------------------------------------


async def test_a_nul_in_any_text_of_a_body_is_refused_by_name_before_the_database_sees_it(
    client: httpx.AsyncClient, env: Env
) -> None:
    """A login or a password is no text() field: "town_admin\\u0000" reached the account lookup, which
    PostgreSQL cannot run (500), and on SQLite counted as a failed login."""
    spec = BODY_ENDPOINTS["login"]
    captcha_id, answer = await captcha(client)
    body = {"login": "town_admin\u0000", "password": "\u0000", "captcha_id": captcha_id, "captcha_answer": answer}
    before = await snapshot()
    error = assert_error(await send(client, env, spec, encode(body)), 422, "invalid_input", {"login", "password"})
    assert set(error["fields"].values()) == {"不能包含控制字符"}
    assert await snapshot() == before


def test_a_nul_is_named_where_it_is_and_an_escaped_backslash_is_no_nul() -> None:
    class Nested(Body):
        items: list[dict[str, str]]

    with pytest.raises(ValidationFailed) as caught:
        parse_body(request_of(b'{"items": [{"a": "x"}, {"b": "y\\u0000"}]}'), Nested)
    assert caught.value.fields == {"items.1.b": "不能包含控制字符"}
    parsed = parse_body(request_of(b'{"items": [{"a": "\\\\u0000"}]}'), Nested)
    assert parsed.items == [{"a": "\\u0000"}]


# --- a body of junk -------------------------------------------------------------------------------


async def test_a_body_of_thousands_of_unknown_fields_gets_a_short_answer(client: httpx.AsyncClient, env: Env) -> None:
    """A megabyte of {"k0": 0, "k1": 0, ...} sent to the login (no session needed) was answered by
    naming each key: 2.4 MB back and a second of the server's time per request. No form has fifty
    fields: the answer names the first fifty."""
    spec = BODY_ENDPOINTS["login"]
    junk = {**spec.valid, **{f"k{i}": 0 for i in range(60_000)}}
    before = await snapshot()
    response = await send(client, env, spec, encode(junk))
    error = assert_error(response, 422, "invalid_input")
    assert len(error["fields"]) == 50 and set(error["fields"]) <= set(junk)
    assert len(response.content) < 5_000
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("field", "typed", "kept"),
    [
        ("phone", " 13900000001 ", "13900000001"),
        ("phone", "139 0000 0001", "13900000001"),
        ("phone", "139-0000-0001", "13900000001"),
        ("phone", "+86 139 0000 0001", "13900000001"),
        ("phone", "１３９００００００01", "13900000001"),
        ("id_number", " " + VALID_ID_NUMBER[:6] + " " + VALID_ID_NUMBER[6:14] + " " + VALID_ID_NUMBER[14:], None),
    ],
)
async def test_numbers_pasted_as_printed_are_read_without_their_spaces_and_dashes(
    client: httpx.AsyncClient, env: Env, field: str, typed: str, kept: str | None
) -> None:
    """A phone pasted with a space around it was refused as "不能超过 11 个字符" (as printed, "139 0000
    0001" or "+86 ..." the same), though it was the number typed right."""
    from backend.core import runtime

    spec = BODY_ENDPOINTS["create account"]
    response = await send(client, env, spec, encode({**_fill(spec.valid, env.ids()), field: typed}))
    assert response.status_code == spec.accepted[0], response.text
    account = await Account.get(id=response.json()["id"])
    if kept is not None:
        assert account.phone_index == runtime.get().vault.index("phone", kept)
    else:
        assert account.id_number_index == runtime.get().vault.index("id_number", VALID_ID_NUMBER)
