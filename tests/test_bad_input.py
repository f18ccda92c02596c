"""Rule 4: bad input gets one error shape, a Chinese message, the names of the bad fields, and
changes nothing. Injection strings are data: stored and read back verbatim, never executed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from backend.accounts.models import Account, Membership
from backend.core import identifiers
from backend.core.audit import AuditEntry
from backend.core.roles import Role
from backend.core.sms import SmsMessage
from backend.units.models import Unit, UnitType
from tests.factories import PASSWORD, Tree, captcha, login, make_account, make_tree, make_unit

CJK = re.compile(r"[\u4e00-\u9fff]")
VALID_ID_NUMBER = "11010519491231002X"
BAD_CHECK_ID_NUMBER = "110105194912310021"
# Check characters right, dates of birth impossible: 30 February, before 1900, a year to come.
BAD_BIRTH_ID_NUMBERS = [
    first17 + identifiers.id_number_check_char(first17)
    for first17 in ("11010519800230002", "11010518991231002", "11010529800101002")
]
VALID_CREDIT_CODE = "91350100M000100Y43"
HUGE_ID = 2**63  # beyond every integer column of SQLite and PostgreSQL
INT4_OVERFLOW = 2**31  # beyond PostgreSQL's integer columns (the ids of unit, account, membership)
INJECTIONS = [
    "王家湾'; DROP TABLE unit; --",
    "<script>alert(1)</script>",
    "%' OR '1'='1",
    'x" OR 1=1; DELETE FROM account; --',
    "张三\\'); SELECT pg_sleep(1); --",
]


def fullwidth(digits: str) -> str:
    """The same digits as full-width characters (which Python's \\d also matches)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isdigit() else c for c in digits)


@dataclass
class Env:
    tree: Tree
    admin: Account
    clerk: Account  # a clerk in the child village, the target of account endpoints
    headers: dict[str, str]

    def ids(self) -> dict[str, int]:
        return {"own": self.tree.own.id, "child": self.tree.child.id, "clerk": self.clerk.id}


@pytest.fixture
async def env(client: httpx.AsyncClient) -> Env:
    tree = await make_tree()
    admin = await make_account("town_admin", tree.own, Role.ADMIN)
    clerk = await make_account("child_clerk", tree.child, Role.CLERK)
    return Env(tree=tree, admin=admin, clerk=clerk, headers=await login(client, "town_admin"))


async def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Row counts and contents of every table a rejected request could have touched."""
    return {
        "unit": await Unit.all()
        .order_by("id")
        .values_list("id", "parent_id", "name", "type", "region_code", "unit_code", "credit_code", "path"),
        "account": await Account.all()
        .order_by("id")
        .values_list(
            "id", "username", "name", "phone_index", "id_number_index", "password_hash", "is_active", "failed_logins"
        ),
        "membership": await Membership.all().order_by("id").values_list("id", "account_id", "unit_id", "role"),
        "audit_entry": await AuditEntry.all().order_by("id").values_list("id", "action"),
        "sms_message": await SmsMessage.all().order_by("id").values_list("id"),
    }


def assert_error(
    response: httpx.Response, status: int, code: str | set[str], fields: set[str] | None = None
) -> dict[str, Any]:
    """The single error shape, with a Chinese message; ``fields`` are exactly the fields named."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert error["code"] in ({code} if isinstance(code, str) else code), error
    assert isinstance(error["message"], str) and CJK.search(error["message"]), error
    assert isinstance(error["fields"], dict)
    if fields is not None:
        assert set(error["fields"]) == fields, error
        for text in error["fields"].values():
            assert CJK.search(text), error
    return error


@dataclass(frozen=True)
class BodyEndpoint:
    name: str
    method: str
    path: str
    valid: dict[str, Any]  # a body this endpoint accepts; "{own}", "{child}", "{clerk}" are ids
    required: frozenset[str]
    accepted: tuple[int, str | None]  # what the valid body gets: status, and the error code if any


BODY_ENDPOINTS = {
    e.name: e
    for e in [
        BodyEndpoint(
            "login",
            "POST",
            "/api/auth/login",
            {"login": "town_admin", "password": PASSWORD, "captcha_id": "c" * 16, "captcha_answer": "ABCD"},
            frozenset({"login", "password", "captcha_id", "captcha_answer"}),
            (400, "captcha_invalid"),
        ),
        BodyEndpoint(
            "create unit",
            "POST",
            "/api/units/",
            {
                "parent_id": "{own}",
                "name": "新建村",
                "type": "village",
                "region_code": "530101001009",
                "unit_code": "U-0009",
                "credit_code": VALID_CREDIT_CODE,
            },
            frozenset({"parent_id", "name", "type"}),
            (201, None),
        ),
        BodyEndpoint(
            "update unit",
            "PATCH",
            "/api/units/{child}",
            {
                "name": "王家湾村",
                "type": "village",
                "region_code": "530101001001",
                "unit_code": "U-0001",
                "credit_code": VALID_CREDIT_CODE,
            },
            frozenset(),
            (200, None),
        ),
        BodyEndpoint(
            "create account",
            "POST",
            "/api/accounts/",
            {
                "username": "new_clerk",
                "name": "新录入员",
                "phone": "13900000001",
                "id_number": VALID_ID_NUMBER,
                "unit_id": "{child}",
                "role": "clerk",
                "finance_access": "none",
            },
            frozenset({"username", "name", "phone", "unit_id", "role"}),
            (201, None),
        ),
        BodyEndpoint(
            "update account",
            "PATCH",
            "/api/accounts/{clerk}",
            {"name": "李四", "phone": "13900000002", "id_number": VALID_ID_NUMBER},
            frozenset(),
            (200, None),
        ),
        BodyEndpoint(
            "set membership",
            "PUT",
            "/api/accounts/{clerk}/memberships",
            {"unit_id": "{child}", "role": "viewer", "finance_access": "none"},
            frozenset({"unit_id", "role"}),
            (200, None),
        ),
        BodyEndpoint(
            "reveal",
            "POST",
            "/api/accounts/{clerk}/reveal",
            {"field": "phone"},
            frozenset({"field"}),
            (200, None),
        ),
        BodyEndpoint(
            "change password",
            "POST",
            "/api/account/password",
            {"old_password": PASSWORD, "new_password": "Another#2026ok"},
            frozenset({"old_password", "new_password"}),
            (200, None),
        ),
    ]
}


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, str) and re.fullmatch(r"\{[a-z_]+\}", value):
        return ids[value[1:-1]]
    return value


async def send(client: httpx.AsyncClient, env: Env, endpoint: BodyEndpoint, content: bytes) -> httpx.Response:
    path = endpoint.path.format(**env.ids())
    headers = {**env.headers, "Content-Type": "application/json"}
    return await client.request(endpoint.method, path, content=content, headers=headers)


def encode(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


# --- every JSON endpoint: the body as a whole ------------------------------------------------------

MALFORMED_BODIES = {
    "truncated": b'{"name": "x",',
    "single quotes": b"{'name': 'x'}",
    "trailing garbage": b"{} x",
    "not utf-8": b'{"name": "\xff\xfe"}',
    "deeply nested": b"[" * 200_000,
}


@pytest.mark.parametrize("kind", MALFORMED_BODIES)
@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS)
async def test_malformed_json_answers_400_and_changes_nothing(
    client: httpx.AsyncClient, env: Env, endpoint: str, kind: str
) -> None:
    before = await snapshot()
    response = await send(client, env, BODY_ENDPOINTS[endpoint], MALFORMED_BODIES[kind])
    assert_error(response, 400, "malformed_json", set())
    assert await snapshot() == before


NOT_OBJECTS = {"array": [], "array of the body": ["{valid}"], "string": "名称", "number": 1, "null": None, "bool": True}


@pytest.mark.parametrize("kind", NOT_OBJECTS)
@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS)
async def test_json_that_is_not_an_object_answers_422_and_changes_nothing(
    client: httpx.AsyncClient, env: Env, endpoint: str, kind: str
) -> None:
    spec = BODY_ENDPOINTS[endpoint]
    payload = NOT_OBJECTS[kind]
    if payload == ["{valid}"]:
        payload = [_fill(spec.valid, env.ids())]
    before = await snapshot()
    response = await send(client, env, spec, encode(payload))
    assert_error(response, 422, "invalid_input", {"_"})
    assert await snapshot() == before


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS)
async def test_unknown_fields_are_refused_by_name(client: httpx.AsyncClient, env: Env, endpoint: str) -> None:
    spec = BODY_ENDPOINTS[endpoint]
    before = await snapshot()
    body = {**_fill(spec.valid, env.ids()), "is_admin": True, "path": "/"}
    response = await send(client, env, spec, encode(body))
    assert_error(response, 422, "invalid_input", {"is_admin", "path"})
    assert await snapshot() == before


@pytest.mark.parametrize("empty", [b"", b"{}"], ids=["no body", "empty object"])
@pytest.mark.parametrize("endpoint", [name for name, e in BODY_ENDPOINTS.items() if e.required])
async def test_missing_required_fields_are_each_named(
    client: httpx.AsyncClient, env: Env, endpoint: str, empty: bytes
) -> None:
    spec = BODY_ENDPOINTS[endpoint]
    before = await snapshot()
    error = assert_error(await send(client, env, spec, empty), 422, "invalid_input", set(spec.required))
    assert set(error["fields"].values()) == {"必填"}
    assert await snapshot() == before


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS)
async def test_the_valid_bodies_used_here_are_accepted(client: httpx.AsyncClient, env: Env, endpoint: str) -> None:
    """The control case: each refusal below is caused by the one field it spoils, nothing else."""
    spec = BODY_ENDPOINTS[endpoint]
    response = await send(client, env, spec, encode(_fill(spec.valid, env.ids())))
    status, code = spec.accepted
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["error"]["code"] == code


# --- one bad field at a time ----------------------------------------------------------------------

LONG = "长"
FIELD_CASES: list[tuple[str, str, Any]] = [
    # login
    ("login", "login", 13800138000),
    ("login", "login", ""),
    ("login", "login", "a" * 65),
    ("login", "login", None),
    ("login", "password", True),
    ("login", "password", "x" * 129),
    ("login", "captcha_id", ["c"]),
    ("login", "captcha_answer", 1234),
    ("login", "captcha_answer", "ABCDEFGHI"),
    # create unit
    ("create unit", "parent_id", "1"),
    ("create unit", "parent_id", True),
    ("create unit", "parent_id", 1.5),
    ("create unit", "parent_id", None),
    ("create unit", "parent_id", [1]),
    ("create unit", "name", 123),
    ("create unit", "name", None),
    ("create unit", "name", ""),
    ("create unit", "name", "   "),
    ("create unit", "name", "\u3000"),
    ("create unit", "name", LONG * 101),
    ("create unit", "name", "王家\x00湾"),
    ("create unit", "name", "王家\x1b[31m湾"),
    ("create unit", "name", "王家\x7f湾"),
    ("create unit", "name", "王家\n湾"),
    ("create unit", "name", "王家\t湾"),
    ("create unit", "name", "王家\r湾"),
    ("create unit", "type", "town"),
    ("create unit", "type", "VILLAGE"),
    ("create unit", "type", 5),
    ("create unit", "region_code", "53010100100"),
    ("create unit", "region_code", "53010100100X"),
    ("create unit", "region_code", 530101001009),
    ("create unit", "region_code", "5301010010090"),
    ("create unit", "region_code", "110101001009"),  # not inside the parent township's code
    ("create unit", "credit_code", VALID_CREDIT_CODE[:-1] + "4"),
    ("create unit", "credit_code", "913501"),
    ("create unit", "credit_code", 913501001),
    ("create unit", "unit_code", "U" * 33),
    ("create unit", "unit_code", "  "),
    # update unit
    ("update unit", "name", None),
    ("update unit", "type", None),
    ("update unit", "name", ""),
    ("update unit", "name", LONG * 101),
    ("update unit", "name", "村\x00"),
    ("update unit", "type", "county_town"),
    ("update unit", "region_code", "abc"),
    ("update unit", "credit_code", "123"),
    ("update unit", "unit_code", 5),
    ("update unit", "parent_id", 1),
    ("update unit", "id", 5),
    # create account
    ("create account", "username", "ab"),
    ("create account", "username", "王五"),
    ("create account", "username", "a b c"),
    ("create account", "username", "a" * 33),
    ("create account", "username", 12345),
    ("create account", "username", "abc\x00"),
    ("create account", "username", "admin'--"),
    ("create account", "name", ""),
    ("create account", "name", "   "),
    ("create account", "name", LONG * 51),
    ("create account", "name", 1),
    ("create account", "name", "张\x00三"),
    ("create account", "name", "张\n三"),
    ("create account", "phone", "12345678901"),
    ("create account", "phone", "1390000000"),
    ("create account", "phone", 13900000001),
    ("create account", "id_number", BAD_CHECK_ID_NUMBER),
    ("create account", "id_number", VALID_ID_NUMBER[:-1]),
    ("create account", "id_number", 110105194912310021),
    *[("create account", "id_number", number) for number in BAD_BIRTH_ID_NUMBERS],
    ("create account", "unit_id", "1"),
    ("create account", "unit_id", True),
    ("create account", "unit_id", None),
    ("create account", "role", "superuser"),
    ("create account", "role", "ADMIN"),
    ("create account", "role", 1),
    ("create account", "finance_access", "some"),
    ("create account", "finance_access", None),
    # update account
    ("update account", "name", None),
    ("update account", "name", LONG * 51),
    ("update account", "name", "  "),
    ("update account", "phone", None),
    ("update account", "phone", "1234"),
    ("update account", "phone", 13900000002),
    ("update account", "id_number", "123"),
    ("update account", "id_number", BAD_CHECK_ID_NUMBER),
    ("update account", "id_number", BAD_BIRTH_ID_NUMBERS[0]),
    ("update account", "username", "renamed"),
    ("update account", "is_active", True),
    ("update account", "password_hash", "x"),
    # set membership
    ("set membership", "unit_id", "1"),
    ("set membership", "unit_id", False),
    ("set membership", "role", "root"),
    ("set membership", "role", None),
    ("set membership", "finance_access", "everything"),
    ("set membership", "finance_access", None),  # not sent keeps it; null is no value
    ("set membership", "finance_access", 0),
    # reveal
    ("reveal", "field", "password_hash"),
    ("reveal", "field", "PHONE"),
    ("reveal", "field", ["phone"]),
    ("reveal", "field", None),
    ("reveal", "field", 1),
    # change password
    ("change password", "old_password", 123),
    ("change password", "old_password", ""),
    ("change password", "new_password", "x" * 129),
    ("change password", "new_password", ""),
    ("change password", "new_password", None),
    ("change password", "new_password", "12345678"),  # fails the password policy
]


@pytest.mark.parametrize(
    ("endpoint", "field", "value"), FIELD_CASES, ids=[f"{e}-{f}-{v!r:.40}" for e, f, v in FIELD_CASES]
)
async def test_a_bad_field_is_named_in_chinese_and_changes_nothing(
    client: httpx.AsyncClient, env: Env, endpoint: str, field: str, value: Any
) -> None:
    spec = BODY_ENDPOINTS[endpoint]
    body = {**_fill(spec.valid, env.ids()), field: value}
    before = await snapshot()
    response = await send(client, env, spec, encode(body))
    assert_error(response, 422, "invalid_input", {field})
    assert await snapshot() == before


# Characters no one types into a name, which the control-character rule missed: C1 controls (U+0085
# is a line break, U+009B the 8-bit form of ESC [), direction overrides and isolates (U+202E shows
# "\u202e村湾家王" as 王家湾村), and text with nothing visible in it (a name that shows as empty).
UNSEEN_TEXT = {
    "next line": "王家\x85湾",
    "8-bit escape": "王家\x9b31m湾",
    "direction override": "\u202e村湾家王",
    "direction isolate": "王家\u2066湾\u2069",
    "zero-width space only": "\u200b\u200b",
    "byte order mark only": "\ufeff",
}


@pytest.mark.parametrize("value", UNSEEN_TEXT.values(), ids=list(UNSEEN_TEXT))
@pytest.mark.parametrize(
    ("endpoint", "field"), [("create unit", "name"), ("update unit", "unit_code"), ("create account", "name")]
)
async def test_text_with_c1_controls_direction_overrides_or_nothing_visible_is_refused(
    client: httpx.AsyncClient, env: Env, endpoint: str, field: str, value: str
) -> None:
    spec = BODY_ENDPOINTS[endpoint]
    body = {**_fill(spec.valid, env.ids()), field: value}
    before = await snapshot()
    assert_error(await send(client, env, spec, encode(body)), 422, "invalid_input", {field})
    assert await snapshot() == before


async def test_a_statement_over_several_lines_with_a_direction_override_is_refused() -> None:
    """Text written over several lines keeps its line breaks, not the characters that reorder it."""
    from pydantic import BaseModel, ValidationError

    from backend.core.validation import text

    class Form(BaseModel):
        statement: text(500, lines=True)

    assert Form(statement="第一行\n第二行").statement == "第一行\n第二行"
    for value in ("第一行\x85第二行", "第一行\n\u202e行二第", "\u200b\n\u200b"):
        with pytest.raises(ValidationError):
            Form(statement=value)


async def test_a_person_s_name_of_fifty_long_syllables_is_accepted_not_a_server_error(
    client: httpx.AsyncClient, env: Env
) -> None:
    """50 characters is the limit of a person's name, but 庄 reads "zhuang": fifty of them gave 300
    letters of pinyin for the account's 200-letter pinyin column, and creating, renaming (by an
    admin or oneself) and adding an agent with that name answered 500."""
    name = "庄" * 50
    renamed = await client.patch(f"/api/accounts/{env.clerk.id}", json={"name": name}, headers=env.headers)
    assert renamed.status_code == 200 and renamed.json()["name"] == name, renamed.text
    own = await client.patch("/api/profile", json={"name": name}, headers=env.headers)
    assert own.status_code == 200, own.text
    account = {"username": "long_name", "name": name, "phone": "13900000077", "role": "clerk"}
    created = await client.post("/api/accounts/", json={**account, "unit_id": env.tree.child.id}, headers=env.headers)
    assert created.status_code == 201, created.text
    agent = await client.post(
        f"/api/units/{env.tree.child.id}/agents", json={"phone": "13900000078", "name": name}, headers=env.headers
    )
    assert agent.status_code == 201, agent.text
    stored = await Account.get(id=env.clerk.id)
    assert stored.name == name and stored.name_pinyin == ("zhuang" * 50)[:200]


# --- query strings --------------------------------------------------------------------------------

QUERY_CASES: list[tuple[str, str, str]] = [
    ("/api/accounts/", "limit=0", "limit"),
    ("/api/accounts/", "limit=201", "limit"),
    ("/api/accounts/", "limit=abc", "limit"),
    ("/api/accounts/", "limit=1.5", "limit"),
    ("/api/accounts/", f"limit={HUGE_ID}", "limit"),
    ("/api/accounts/", "cursor=-1", "cursor"),
    ("/api/accounts/", "cursor=x", "cursor"),
    ("/api/accounts/", "unit_id=abc", "unit_id"),
    ("/api/accounts/", "status=frozen", "status"),
    ("/api/accounts/", "q=" + "a" * 33, "q"),
    ("/api/accounts/", "q=a%00b", "q"),
    ("/api/accounts/", "q=%20%20%20", "q"),
    ("/api/accounts/", "foo=1", "foo"),
    ("/api/units/", "parent_id=x", "parent_id"),
    ("/api/units/", "parent_id=1e3", "parent_id"),
    ("/api/units/", "type=town", "type"),
    ("/api/units/", "q=" + "村" * 51, "q"),
    ("/api/units/", "q=%1b%5B31m", "q"),
    ("/api/units/", "limit=1000", "limit"),
    ("/api/units/", "limit=-5", "limit"),
    ("/api/units/", "cursor=abc", "cursor"),
    ("/api/units/", "is_admin=1", "is_admin"),
]


@pytest.mark.parametrize(("path", "query", "field"), QUERY_CASES, ids=[f"{p}?{q:.30}" for p, q, _ in QUERY_CASES])
async def test_a_bad_query_parameter_is_named_in_chinese(
    client: httpx.AsyncClient, env: Env, path: str, query: str, field: str
) -> None:
    before = await snapshot()
    response = await client.get(f"{path}?{query}", headers=env.headers)
    assert_error(response, 422, "invalid_input", {field})
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/api/accounts/", "unit_id={child}&unit_id={own}", "unit_id"),
        ("/api/units/", "limit=1&limit=500", "limit"),
        ("/api/audit/", "action=unit.create&action=auth.login", "action"),
    ],
)
async def test_a_query_parameter_given_twice_is_refused_by_name(
    client: httpx.AsyncClient, env: Env, path: str, query: str, field: str
) -> None:
    """?unit_id=5&unit_id=7 listed unit 5 alone, silently: the second value was dropped, where a JSON
    field given twice is refused."""
    response = await client.get(f"{path}?{query.format(**env.ids())}", headers=env.headers)
    error = assert_error(response, 422, "invalid_input", {field})
    assert error["fields"][field] == "同一项填写了不止一次"


HUGE_ID_REQUESTS = [
    ("GET", "/api/units/{id}", None),
    ("PATCH", "/api/units/{id}", {"name": "新名称"}),
    ("DELETE", "/api/units/{id}", None),
    ("GET", "/api/accounts/{id}", None),
    ("POST", "/api/accounts/{id}/unlock", None),
    ("GET", "/api/units/?parent_id={id}", None),
    ("GET", "/api/accounts/?unit_id={id}", None),
    ("POST", "/api/units/", {"parent_id": "{id}", "name": "新建村", "type": "village"}),
    ("POST", "/api/session/unit", {"membership_id": "{id}"}),
]


@pytest.mark.parametrize("huge", [INT4_OVERFLOW, HUGE_ID], ids=["2**31", "2**63"])
@pytest.mark.parametrize(("method", "path", "body"), HUGE_ID_REQUESTS, ids=[f"{m} {p}" for m, p, _ in HUGE_ID_REQUESTS])
async def test_ids_beyond_the_integer_columns_answer_404_or_422_not_500(
    client: httpx.AsyncClient, env: Env, method: str, path: str, body: dict[str, Any] | None, huge: int
) -> None:
    before = await snapshot()
    filled = _fill(body, {"id": huge}) if body is not None else None
    response = await client.request(method, path.format(id=huge), json=filled, headers=env.headers)
    assert response.status_code in (404, 422), response.text
    assert_error(response, response.status_code, {"not_found", "invalid_input"})
    assert await snapshot() == before


async def test_a_region_code_of_full_width_digits_is_stored_in_ascii_digits(
    client: httpx.AsyncClient, env: Env
) -> None:
    """Python's \\d matches "５": a code typed in full width (a Chinese keyboard's) is read as the
    ASCII digits it shows, never stored as typed (the parent here has no code)."""
    coop = await make_unit("白沙镇茶叶合作社", UnitType.COOP, env.tree.own)
    body = {"parent_id": coop.id, "name": "第一分社", "type": "other", "region_code": fullwidth("530101001009")}
    response = await client.post("/api/units/", json=body, headers=env.headers)
    assert response.status_code == 201, response.text
    assert (await Unit.get(id=response.json()["id"])).region_code == "530101001009"


# --- injection strings are data ---------------------------------------------------------------------


@pytest.mark.parametrize("name", INJECTIONS)
async def test_injection_strings_in_unit_names_are_stored_and_read_back_verbatim(
    client: httpx.AsyncClient, env: Env, name: str
) -> None:
    units_before = await Unit.all().count()
    accounts_before = await Account.all().count()
    created = await client.post(
        "/api/units/", json={"parent_id": env.tree.own.id, "name": name, "type": "village"}, headers=env.headers
    )
    assert created.status_code == 201, created.text
    unit_id = created.json()["id"]
    assert created.json()["name"] == name
    assert (await client.get(f"/api/units/{unit_id}", headers=env.headers)).json()["name"] == name
    assert (await Unit.get(id=unit_id)).name == name
    found = (await client.get("/api/units/", params={"q": name}, headers=env.headers)).json()
    assert [item["id"] for item in found["items"]] == [unit_id] and found["total"] == 1
    renamed = await client.patch(f"/api/units/{env.tree.child.id}", json={"name": name + "二"}, headers=env.headers)
    assert renamed.status_code == 200 and renamed.json()["name"] == name + "二"
    # the tables are all still there and hold what they held, plus the one new unit
    assert await Unit.all().count() == units_before + 1
    assert await Account.all().count() == accounts_before
    assert await Membership.all().count() == 2
    assert await AuditEntry.filter(action="unit.create").count() == 1


@pytest.mark.parametrize("name", INJECTIONS)
async def test_injection_strings_in_account_names_are_stored_and_read_back_verbatim(
    client: httpx.AsyncClient, env: Env, name: str
) -> None:
    person = name[:50]
    created = await client.post(
        "/api/accounts/",
        json={
            "username": "inj.user",
            "name": person,
            "phone": "13900000009",
            "unit_id": env.tree.child.id,
            "role": "viewer",
        },
        headers=env.headers,
    )
    assert created.status_code == 201, created.text
    account_id = created.json()["id"]
    assert (await client.get(f"/api/accounts/{account_id}", headers=env.headers)).json()["name"] == person
    assert (await Account.get(id=account_id)).name == person
    updated = await client.patch(f"/api/accounts/{env.clerk.id}", json={"name": person}, headers=env.headers)
    assert updated.status_code == 200 and updated.json()["name"] == person
    found = (await client.get("/api/accounts/", params={"q": person[:32]}, headers=env.headers)).json()
    assert {row["account_id"] for row in found["items"]} == {account_id, env.clerk.id}
    assert await Account.all().count() == 3 and await Unit.all().count() == 4


async def test_injection_strings_in_login_and_search_match_nothing(client: httpx.AsyncClient, env: Env) -> None:
    for text in ("' OR '1'='1", "town_admin' --", "%", "_" * 10):
        for path in ("/api/units/", "/api/accounts/"):
            page = (await client.get(path, params={"q": text}, headers=env.headers)).json()
            assert page["items"] == [] and page["total"] == 0, (path, text)
    refused = await client.post(
        "/api/auth/login",
        json={"login": "' OR '1'='1", "password": "' OR '1'='1", "captcha_id": "x", "captcha_answer": "x"},
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "captcha_invalid"


@pytest.mark.parametrize("wildcard", ["%", "_", "\\", "%%", "_%_"])
async def test_like_wildcards_in_the_unit_search_match_only_themselves(
    client: httpx.AsyncClient, env: Env, wildcard: str
) -> None:
    search = await client.get("/api/units/", params={"q": wildcard}, headers=env.headers)
    assert search.status_code == 200, search.text
    assert search.json()["total"] == 0  # four units in the tree, none with the character in its name
    literal = await make_unit(f"百分{wildcard}村", UnitType.VILLAGE, env.tree.own)
    await make_unit("百分百村", UnitType.VILLAGE, env.tree.own)
    found = (await client.get("/api/units/", params={"q": wildcard}, headers=env.headers)).json()
    assert [item["id"] for item in found["items"]] == [literal.id]
    assert found["total"] == 1


# --- routes, methods, size and tokens -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/nope", "/api/units/abc", "/api/accounts/1/nothing", "/nowhere"])
async def test_unknown_route_answers_404_not_found(client: httpx.AsyncClient, env: Env, path: str) -> None:
    assert_error(await client.get(path, headers=env.headers), 404, "not_found", set())


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/api/units/"), ("DELETE", "/api/auth/login"), ("GET", "/api/account/password"), ("POST", "/api/audit/")],
)
async def test_wrong_method_answers_405_method_not_allowed(
    client: httpx.AsyncClient, env: Env, method: str, path: str
) -> None:
    before = await snapshot()
    assert_error(await client.request(method, path, headers=env.headers), 405, "method_not_allowed", set())
    assert await snapshot() == before


@pytest.mark.parametrize(("method", "path"), [("POST", "/api/units/"), ("PATCH", "/api/units/{child}")])
async def test_a_body_over_one_mebibyte_answers_413_and_changes_nothing(
    client: httpx.AsyncClient, env: Env, method: str, path: str
) -> None:
    payload = {"parent_id": env.tree.own.id, "name": "大", "type": "village", "unit_code": "x" * (1024 * 1024)}
    content = encode(payload)
    assert len(content) > 1024 * 1024
    before = await snapshot()
    response = await client.request(
        method,
        path.format(**env.ids()),
        content=content,
        headers={**env.headers, "Content-Type": "application/json"},
    )
    assert_error(response, 413, "body_too_large", set())
    assert await snapshot() == before


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer not-a-token", "Basic dG93bl9hZG1pbjpwdw==", "bearer " + "A" * 200],
)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/units/", None),
        ("POST", "/api/units/", {"parent_id": 1, "name": "新建村", "type": "village"}),
        ("GET", "/api/accounts/", None),
        ("POST", "/api/accounts/1/deactivate", None),
        ("GET", "/api/audit/", None),
        ("GET", "/api/session", None),
        ("POST", "/api/account/password", {"old_password": PASSWORD, "new_password": "Another#2026ok"}),
    ],
)
async def test_a_request_without_a_valid_token_answers_401(
    client: httpx.AsyncClient, env: Env, method: str, path: str, body: dict[str, Any] | None, authorization: str | None
) -> None:
    before = await snapshot()
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.request(method, path, json=body, headers=headers)
    assert_error(response, 401, {"session_invalid", "unauthenticated"}, set())
    assert await snapshot() == before


async def test_a_field_given_twice_or_a_body_that_is_not_json_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, env: Env
) -> None:
    """{"name": "A", "name": "B"} created a unit named B; JSON sent as text/plain or as a form was taken."""
    before = await snapshot()
    twice = b'{"parent_id": %d, "name": "A", "name": "B", "type": "village"}' % env.tree.own.id
    json_headers = {**env.headers, "Content-Type": "application/json"}
    assert_error(await client.post("/api/units/", content=twice, headers=json_headers), 422, "invalid_input", {"name"})
    good = b'{"parent_id": %d, "name": "B", "type": "village"}' % env.tree.own.id
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = await client.post("/api/units/", content=good, headers={**env.headers, "Content-Type": content_type})
        assert_error(response, 415, "unsupported_media_type", set())
    assert await snapshot() == before
    charset = {**env.headers, "Content-Type": "Application/JSON; charset=utf-8"}
    assert (await client.post("/api/units/", content=good, headers=charset)).status_code == 201


async def test_a_token_with_undecodable_bytes_is_refused_as_no_session(client: httpx.AsyncClient, env: Env) -> None:
    for extra in ({}, {"Idempotency-Key": "key-utf8-0001"}):
        headers = {"Authorization": b"Bearer \xff\xfe", **extra}
        assert_error(await client.post("/api/units/", json={}, headers=headers), 401, "session_invalid", set())


async def test_sanic_s_own_timeouts_answer_in_chinese_with_their_own_codes() -> None:
    from sanic.exceptions import RequestTimeout, ServiceUnavailable

    from backend.app import handle_error

    class FakeRequest:
        method, path = "POST", "/api/chat"

    slow_request = await handle_error(FakeRequest(), RequestTimeout("Request Timeout"))  # type: ignore[arg-type]
    assert slow_request.status == 408 and json.loads(slow_request.body)["error"]["code"] == "request_timeout"
    slow_answer = await handle_error(FakeRequest(), ServiceUnavailable("Response Timeout"))  # type: ignore[arg-type]
    assert slow_answer.status == 503 and json.loads(slow_answer.body)["error"]["code"] == "service_unavailable"


async def test_a_body_that_arrives_too_slowly_answers_request_timeout_not_service_unavailable(server: str) -> None:
    """A chat message or a review's images trickling in on a weak signal past the timeout answered
    503 "服务暂时不可用" (Sanic reads the body under its response timeout), as if the server were down."""
    import asyncio

    from sanic import Sanic

    app = Sanic.get_app("cunwu_test")
    saved = app.config.RESPONSE_TIMEOUT
    app.config.RESPONSE_TIMEOUT = 0.5  # read by each new connection
    host, port = server.removeprefix("http://").split(":")
    try:
        reader, writer = await asyncio.open_connection(host, int(port))
        request = b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        writer.write(request + b'{"te')  # and the rest never comes
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        length = int(re.search(rb"content-length: *([0-9]+)", head, re.IGNORECASE).group(1))  # type: ignore[union-attr]
        body = await asyncio.wait_for(reader.readexactly(length), timeout=10)
        writer.close()
    finally:
        app.config.RESPONSE_TIMEOUT = saved
    assert head.split()[1] == b"408", head + body
    assert json.loads(body)["error"]["code"] == "request_timeout"


# --- headers a client controls --------------------------------------------------------------------

GARBAGE_FORWARDED_FOR: dict[str, bytes] = {
    "over-long": b"x" * 300,
    "not an address": b"not-an-address",
    "undecodable bytes": b"\xff\xfe\xfd",
    "long last hop": b"203.0.113.9, " + b"y" * 100,
    "scoped ipv6": b"fe80::1%" + b"z" * 80,
}


@pytest.mark.parametrize("forwarded", GARBAGE_FORWARDED_FOR.values(), ids=list(GARBAGE_FORWARDED_FOR))
async def test_a_forwarded_for_that_is_no_address_neither_fails_nor_is_recorded(
    client: httpx.AsyncClient, env: Env, forwarded: bytes
) -> None:
    """X-Forwarded-For of undecodable bytes answered 500 on every throttled endpoint (Redis refused
    the key), one over 64 characters 500 on every audited change (the audit's ip column)."""
    assert (await client.get("/api/auth/captcha", headers={"X-Forwarded-For": forwarded})).status_code == 200
    body = {"parent_id": env.tree.own.id, "name": "新建村", "type": "village"}
    created = await client.post("/api/units/", json=body, headers={**env.headers, "X-Forwarded-For": forwarded})
    assert created.status_code == 201, created.text
    entry = await AuditEntry.get(action="unit.create")
    assert entry.ip == "127.0.0.1"  # the peer's own address stands in for what is no address


async def test_a_user_agent_with_undecodable_bytes_does_not_break_login(client: httpx.AsyncClient, env: Env) -> None:
    """A User-Agent of non-UTF-8 bytes answered 500 on login (the session's record in Redis)."""
    captcha_id, answer = await captcha(client, "10.0.0.2")
    response = await client.post(
        "/api/auth/login",
        json={"login": "town_admin", "password": PASSWORD, "captcha_id": captcha_id, "captcha_answer": answer},
        headers={"X-Forwarded-For": "10.0.0.2", "User-Agent": b"Mozilla\xff\xfe/5.0\x01 " + b"a" * 500},
    )
    assert response.status_code == 200, response.text
    listed = await client.get("/api/sessions", headers={"Authorization": f"Bearer {response.json()['token']}"})
    agents = [item["user_agent"] for item in listed.json() if item["current"]]
    assert len(agents) == 1 and agents[0].startswith("Mozilla/5.0 aaa") and len(agents[0]) == 200


async def test_every_answer_forbids_caching_and_content_sniffing(client: httpx.AsyncClient, env: Env) -> None:
    """Answers carried personal data (a profile, a revealed phone, the account list) with no
    Cache-Control: a browser, the mini-program's web view or a proxy was free to keep them."""
    clerk = f"/api/accounts/{env.clerk.id}"
    keyed = {**env.headers, "Idempotency-Key": "key-headers-0001"}
    unit = {"parent_id": env.tree.own.id, "name": "新建村", "type": "village"}
    answers = [
        await client.get("/api/session", headers=env.headers),
        await client.get("/api/profile", headers=env.headers),
        await client.get("/api/accounts/", headers={**env.headers, "Accept-Encoding": "gzip"}),
        await client.get(clerk, headers=env.headers),
        await client.post(f"{clerk}/reveal", json={"field": "phone"}, headers=env.headers),
        await client.post(f"{clerk}/unlock", headers=env.headers),  # 204
        await client.post("/api/units/", json=unit, headers=keyed),
        await client.post("/api/units/", json=unit, headers=keyed),  # the stored answer, replayed
        await client.get("/api/accounts/999999", headers=env.headers),  # an error
        await client.get("/api/nowhere"),  # no route
        await client.get("/api/auth/captcha"),
        await client.get("/healthz"),
    ]
    assert answers[7].headers.get("Idempotent-Replayed") == "true"
    for answer in answers:
        assert answer.headers.get("Cache-Control") == "no-store", (answer.request.url, answer.headers)
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", (answer.request.url, answer.headers)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"name": "王家湾" * 2000}, "name"),  # 6,000 characters: 0.4 s of lookup, 300,000 took 11 s
        ({"name": "王家湾村", "extra": ["长" * 501]}, "extra"),
        ({f"p{i}": i for i in range(21)}, "action.params"),
    ],
    ids=["long name", "long text inside a list", "too many parameters"],
)
async def test_a_tapped_action_s_parameters_are_bounded_like_typed_text(
    client: httpx.AsyncClient, env: Env, params: dict[str, Any], field: str
) -> None:
    """A button's parameters had no length limit while typed text has 200 characters: one request
    with a 300,000-character unit name held the server's only event loop for 11 seconds."""
    response = await client.post(
        "/api/chat/", json={"action": {"intent": "coop.card", "params": params}}, headers=env.headers
    )
    assert_error(response, 422, "invalid_input", {field})
    for longest in ({"name": "王" * 200}, {"name": "王" * 500}):  # a form's business scope takes 500
        accepted = await client.post(
            "/api/chat/", json={"action": {"intent": "coop.card", "params": longest}}, headers=env.headers
        )
        assert accepted.status_code == 200, accepted.text


async def test_a_per_address_throttle_counts_an_ipv6_client_by_its_64_bit_prefix(client: httpx.AsyncClient) -> None:
    """Every IPv6 subscriber (a phone on a mobile network, a home line) holds a whole /64: taking a
    new address for each request walked past every per-address throttle."""
    search = {"q": "白沙"}
    for host in range(1, 31):
        forwarded = {"X-Forwarded-For": f"2001:db8:1:2::{host:x}"}
        assert (await client.get("/api/registration/superiors", params=search, headers=forwarded)).status_code == 200
    same_prefix = await client.get(
        "/api/registration/superiors", params=search, headers={"X-Forwarded-For": "2001:db8:1:2:ffff:1:2:3"}
    )
    assert_error(same_prefix, 429, "too_many_requests", set())
    other_prefix = {"X-Forwarded-For": "2001:db8:1:3::1"}
    assert (await client.get("/api/registration/superiors", params=search, headers=other_prefix)).status_code == 200
    mapped = {"X-Forwarded-For": "::ffff:203.0.113.7"}  # an IPv4 client seen through IPv6: its own address
    assert (await client.get("/api/registration/superiors", params=search, headers=mapped)).status_code == 200
