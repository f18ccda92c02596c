"""Round 3 of the database layer (backend/core/db.py): a task cancelled while tortoise starts its
transaction, or while a command's first query opens the SQLite connection, must give the connection
back (SQLite: its lock, with no transaction left open; PostgreSQL: to the pool) for every later query
of the process."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest
from tortoise.backends.asyncpg.client import TransactionWrapper as PooledTransactionWrapper
from tortoise.backends.sqlite.client import SqliteTransactionWrapper

from backend.core import db
from backend.core.config import Settings
from tests.factories import FIRST_SQLITE_OPEN_HELD, captcha, stopped_at_first_open
from tests.test_sms_delivery import _process_env

ROOT = Path(__file__).resolve().parent.parent


class HeldBegin:
    """While armed, the next transaction's start is held (a slow disk, a busy file, a slow network)
    until the task that started it is cancelled; ``ran``: its ``BEGIN`` reaches the database before
    the hold, or not."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, settings: Settings, *, ran: bool) -> None:
        self.armed = False
        self.entered = asyncio.Event()
        self.cancelled = asyncio.Event()
        wrapper = SqliteTransactionWrapper if settings.dialect == "sqlite" else PooledTransactionWrapper
        begin = wrapper.begin

        async def held(transaction: SqliteTransactionWrapper | PooledTransactionWrapper) -> None:
            if not self.armed:
                return await begin(transaction)
            self.armed = False
            if ran:
                await begin(transaction)
            self.entered.set()
            try:
                await asyncio.Event().wait()
            finally:
                self.cancelled.set()

        monkeypatch.setattr(wrapper, "begin", held)

    async def cut_off(self, server: str) -> None:
        """A login whose client (a phone on a weak signal) drops its connection while the login's
        transaction starts: Sanic cancels the request's task."""
        async with httpx.AsyncClient(base_url=server, timeout=30) as phone:
            captcha_id, answer = await captcha(phone)
            self.entered.clear()
            self.cancelled.clear()
            self.armed = True
            login = asyncio.create_task(_failed_login(phone, captcha_id, answer))
            await asyncio.wait_for(self.entered.wait(), 10)
            login.cancel()  # the phone's connection closes
            await asyncio.gather(login, return_exceptions=True)
        await asyncio.wait_for(self.cancelled.wait(), 10)  # the server cancelled the request's task


async def _failed_login(client: httpx.AsyncClient, captcha_id: str, answer: str) -> httpx.Response:
    return await client.post(
        "/api/auth/login",
        json={"login": "nobody", "password": "Wrong-pass-1", "captcha_id": captcha_id, "captcha_answer": answer},
        headers={"X-Forwarded-For": "10.0.0.1"},
    )


@pytest.mark.parametrize("ran", [False, True], ids=["before-begin-ran", "after-begin-ran"])
async def test_requests_cut_off_while_their_transaction_starts_leave_the_database_usable(
    settings: Settings, server: str, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, ran: bool
):
    """A phone that dropped its connection while its login's transaction was starting never gave the
    connection back. On SQLite its lock stayed taken for good: every later request of the server waited
    for the database (the health check said it was down, a login never answered), and a BEGIN that had
    run stayed open around everyone else's statements. On PostgreSQL each one kept a pooled
    connection: as many as the pool holds, and every request waited likewise."""
    hold = HeldBegin(monkeypatch, settings, ran=ran)
    for _ in range(1 if settings.dialect == "sqlite" else db.db().pool_maxsize):
        await hold.cut_off(server)

    health = await asyncio.wait_for(client.get("/healthz"), 10)
    assert health.status_code == 200, health.text
    if settings.dialect == "sqlite":
        connection = db.db()._connection
        assert connection is not None and not connection.in_transaction  # statements outside one commit
    refused = await asyncio.wait_for(_failed_login(client, *await captcha(client)), 10)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "login_failed", refused.text


# --- the command line --------------------------------------------------------------------------------

# ``python -m backend audit verify`` in a process of its own, with one hook: the first time it opens the
# SQLite database, it says so and waits there until Ctrl+C (SIGINT: asyncio.run cancels the command).
_FIRST_OPEN_HELD = (
    FIRST_SQLITE_OPEN_HELD
    + """from backend.__main__ import main
try:
    sys.exit(main(["audit", "verify"]))
except KeyboardInterrupt:
    print("stopped", flush=True)
    sys.exit(130)
"""
)


async def test_a_command_stopped_while_it_opens_the_database_stops(settings: Settings, tmp_path: Path):
    """Ctrl+C just as a command's first query opened the SQLite connection never ended the command:
    tortoise opens it under the connection's lock, the cancelled query kept the lock, and the closing
    ``PRAGMA optimize`` waited for it for good (a second Ctrl+C was needed, with a traceback)."""
    if settings.dialect != "sqlite":
        pytest.skip("SQLite's one connection; PostgreSQL's pool opens under a lock it gives back")
    script = tmp_path / "command.py"
    script.write_text(_FIRST_OPEN_HELD)
    env = _process_env(settings, "redis://127.0.0.1:1/0")  # the command touches only the database
    env["PYTHONPATH"] = str(ROOT)
    status, text = await stopped_at_first_open([str(script)], env, tmp_path / "command.log", signal.SIGINT)
    assert status == 130, text
    assert "stopped" in text and "Traceback" not in text, text
