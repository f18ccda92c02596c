"""Database: tortoise-orm configuration, migrations, transactions with after-commit callbacks."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from functools import lru_cache
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.client import (
    BaseDBAsyncClient,
    TransactionalDBClient,
    TransactionContext,
    TransactionContextPooled,
)
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.sqlite.client import SqliteTransactionContext
from tortoise.connection import get_connections
from tortoise.migrations.api.migrate import migrate as run_migrations
from tortoise.transactions import in_transaction

from backend.core.config import Settings

log = logging.getLogger(__name__)

APP_LABEL = "cunwu"
MODEL_MODULES = [
    "backend.units.models",
    "backend.accounts.models",
    "backend.core.audit",
    "backend.core.sessions",
    "backend.core.idempotency",
    "backend.core.sms",
    "backend.reviews.models",
    "backend.registration.models",
    "backend.wechat.models",
    "backend.coops.models",
    "backend.devices.models",
    "backend.cards.models",
]


# Every PostgreSQL connection's settings, given when it opens (bench/bare_app.py uses the same).
PG_SERVER_SETTINGS = {
    # asyncpg prepares each query; after a few runs PostgreSQL may switch to a generic plan, and a
    # generic plan cannot use the ``text_pattern_ops`` index for ``path LIKE $1`` (the scope
    # filter), so it would scan. Custom plans see the prefix and use the index; planning costs
    # microseconds.
    "plan_cache_mode": "force_custom_plan",
    # The default 4.0 prices random reads as if from a spinning disk, so a scope walk (unit by
    # path, then its memberships by unit) looked dearer than reading all 100k memberships and
    # hashing them; with the data cached or on SSD, 1.1 is the usual value and the walk uses
    # idx_membership_unit (the county's people lookup: 15.4 -> 3.9 ms).
    "random_page_cost": "1.1",
}


async def keep_session(connection: Any) -> None:
    """asyncpg's pool reset, run when a connection goes back to the pool: nothing more to do.

    asyncpg always rolls back an open transaction and drops listener callbacks before this
    (``Connection._reset``). Its default reset then sends ``pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL`` on every release, a round trip that was about 16% of a chat summary.
    We never leave session state behind: no session-level SET (the settings above are given at
    connect, which RESET ALL would keep anyway), no advisory locks, no LISTEN, no cursors outside
    a transaction, and asyncpg's prepared statements are its own cache, which the default reset
    keeps too. Code that starts using any of these must go back to the default reset (drop
    ``reset`` from :func:`_connection`) or undo its state itself.
    """


def _connection(database_url: str) -> str | dict[str, Any]:
    """SQLite: the URL. PostgreSQL: the URL expanded, with :data:`PG_SERVER_SETTINGS` and :func:`keep_session`."""
    if not database_url.startswith(("postgres", "asyncpg")):
        return database_url
    config = expand_db_url(database_url)
    config["credentials"]["server_settings"] = dict(PG_SERVER_SETTINGS)
    config["credentials"]["reset"] = keep_session  # tortoise passes unknown credentials to create_pool
    return config


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "backend.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def init_db(settings: Settings) -> None:
    if settings.dialect == "sqlite":
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)
    if settings.dialect == "sqlite":
        # tortoise opens SQLite's one connection at the first query, under the connection's lock, and
        # a cancel there (a command's Ctrl+C, the worker stopped) kept the lock for good: the closing
        # query then waited for it forever. Opened here, outside that lock, a stop meanwhile leaves
        # nothing held. (PostgreSQL's pool opens under a lock of its own that it gives back.)
        await db().create_connection(with_db=True)


async def migrate(settings: Settings) -> None:
    """Apply the committed migrations (idempotent)."""
    if settings.dialect == "sqlite":
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    try:
        await run_migrations(config=tortoise_config(settings.database_url))
        await analyze()  # a new index has no statistics; nor has a database filled before this step
    finally:
        await Tortoise.close_connections()


async def close_db() -> None:
    if Tortoise.is_inited():
        try:
            await optimize()  # SQLite's advice for a connection that closes
        except Exception:  # statistics are an optimisation: never a reason not to close
            log.exception("PRAGMA optimize before closing the database failed")
    await Tortoise.close_connections()


# SQLite plans from the statistics ANALYZE stores in sqlite_stat1: each table's rows and, for each
# index, how many rows share a key. It gathers none by itself, and without them it guesses that an
# equality on any indexed column is selective: it walked an index on ``is_active`` (two values)
# for a county's lists (README, "REST lists of a province or county"). PostgreSQL gathers its own
# (autovacuum; the demo seed runs ANALYZE after its bulk load), so both steps below are SQLite's.
#
# ``PRAGMA optimize`` analyses again only the tables that need it: an index without statistics, or
# 25 times the rows (or a 25th) since the last analysis. Bit 0x02 is that analysis; 0x10000 (SQLite
# 3.46+; older versions ignore it) looks at every table, not only those this connection queried.
# The default mask's 0x10 is left out on purpose: on 3.46+ it analyses under a temporary
# ``analysis_limit``, which reads the first rows of each index only, and a two-valued column then
# looks selective (audit ``outcome``: 1,001 rows a key instead of 500,002 at 1M entries), the very
# guess the statistics are there to correct. A full ANALYZE of the bench's large database (424 MB,
# 1M audit entries) took 1 s, and optimize runs it only for the tables that changed that much.
SQLITE_OPTIMIZE = "PRAGMA optimize=0x10002"


def _sqlite(client: BaseDBAsyncClient) -> bool:
    return client.capabilities.dialect == "sqlite"


async def analyze() -> None:
    """SQLite: gather the planner's statistics of every table and index (``ANALYZE``), after the
    migrations and a bulk load. Empty tables get none (the next :func:`optimize` after they filled
    does it). PostgreSQL: nothing."""
    client = db()
    if _sqlite(client):
        await client.execute_query("ANALYZE")


async def optimize() -> None:
    """SQLite: analyse again the tables whose statistics are missing or out of date
    (:data:`SQLITE_OPTIMIZE`); usually a no-op. Run by the worker every night and before a
    connection closes. PostgreSQL: nothing."""
    client = db()
    if _sqlite(client):
        await client.execute_query(SQLITE_OPTIMIZE)


def db() -> BaseDBAsyncClient:
    return connections.get("default")


async def ping() -> None:
    await db().execute_query("SELECT 1")


def _dialect_sql(client: BaseDBAsyncClient, sql: str) -> str:
    """Queries are written with ``?`` placeholders; asyncpg wants ``$1, $2, ...``."""
    return numbered(sql) if client.capabilities.dialect == "postgres" else sql


@lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """``?`` -> ``$1, $2, ...``, once per statement text (the same few statements run all day)."""
    parts = sql.split("?")
    return "".join(part + (f"${i}" if i < len(parts) else "") for i, part in enumerate(parts, start=1))


# PostgreSQL aborts one of two transactions that wait for each other's locks (deadlock_detected),
# or one whose snapshot a concurrent write invalidated (serialization_failure): nothing it did
# stays, and the same request sent again may well pass.
_CONFLICT_STATES = frozenset({"40P01", "40001"})


def is_write_conflict(exc: BaseException) -> bool:
    """Was ``exc`` (or what caused it: tortoise wraps some of asyncpg's errors) the database aborting
    a transaction that collided with another one?"""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if getattr(current, "sqlstate", None) in _CONFLICT_STATES:
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class WriteRefused(RuntimeError):
    """A write was started where only reads may run (see :func:`reads_only`)."""


_reads_only: contextvars.ContextVar[bool] = contextvars.ContextVar("reads_only", default=False)


@contextmanager
def reads_only() -> Iterator[None]:
    """Code run in this block, and tasks created in it, may read but not write: :func:`atomic` and
    :func:`execute` raise :class:`WriteRefused` (a chat turn started before its session was checked
    again, backend.chat.service.handle_ahead, must not change anything)."""
    token = _reads_only.set(True)
    try:
        yield
    finally:
        _reads_only.reset(token)


def _writable() -> None:
    if _reads_only.get():
        raise WriteRefused("a write where only reads may run")


async def execute(sql: str, values: list[Any]) -> int:
    """Run one portable write statement; returns the number of rows it changed."""
    _writable()
    client = db()
    count, _ = await client.execute_query(_dialect_sql(client, sql), values)
    return count


async def fetch(sql: str, values: list[Any]) -> list[dict[str, Any]]:
    client = db()
    return await client.execute_query_dict(_dialect_sql(client, sql), values)


async def fetch_rows(sql: str, values: list[Any]) -> Sequence[Sequence[Any]]:
    """The rows as the driver gives them, by column position: no dict per row (for many rows)."""
    client = db()
    _, rows = await client.execute_query(_dialect_sql(client, sql), values)
    return rows


_after_commit: contextvars.ContextVar[list[Callable[[], Awaitable[None]]] | None] = contextvars.ContextVar(
    "after_commit", default=None
)
_commits: contextvars.ContextVar[list[None] | None] = contextvars.ContextVar("commits", default=None)
_before_commit: contextvars.ContextVar[Callable[[], Awaitable[None]] | None] = contextvars.ContextVar(
    "before_commit", default=None
)


def watch_commits() -> list[None]:
    """From here on in this context (a request, and the tasks it starts), every committed
    :func:`atomic` block appends to the list returned (backend.core.idempotency asks whether a
    request that failed had changed anything already)."""
    seen: list[None] = []
    _commits.set(seen)
    return seen


def before_each_commit(hook: Callable[[], Awaitable[None]] | None) -> None:
    """From here on in this context (a request, and the tasks it starts), every outermost
    :func:`atomic` block awaits ``hook`` last inside its transaction: what the hook writes commits
    with the block, or neither does (backend.core.idempotency records a keyed request's write).
    None: no hook. Requests on one keep-alive connection share a context: set it for each."""
    _before_commit.set(hook)


# tortoise's transaction takes the connection (SQLite: the one connection's lock; PostgreSQL: one of the
# pool's connections), then awaits the BEGIN before the ``async with`` body starts. A cancel there (Sanic
# cancels a request's task when its client disconnects: a phone on a weak signal), or an error, never
# reached the exit that gives the connection back: on SQLite every later query of the process waited
# for the lock forever; on PostgreSQL each such request kept one pooled connection, and once the pool
# (5 by default) was used up every request waited. The two starts below give it back.


class _SqliteTransaction(SqliteTransactionContext):
    """aiosqlite runs each statement in its thread even when the task awaiting it is cancelled, so the
    ``BEGIN`` may still run: the rollback queued after it undoes it (sqlite3 skips it when no
    transaction is open). The lock is released once the rollback is queued, so it runs ahead of
    anything the next holder sends, even if waiting for it is cancelled too."""

    async def __aenter__(self) -> TransactionalDBClient:
        await self._trxlock.acquire()  # a cancel while waiting for it leaves it as it was
        token = None
        try:
            await self.ensure_connection()
            token = self.token = get_connections().set(self.connection_name, self.connection)
            await self.connection.begin()
        except BaseException:
            get_connections().reset(token)
            try:
                if self.connection._connection is not None:
                    await self.connection._connection.rollback()
            except Exception:
                log.exception("rolling back a transaction that failed to start failed")
            finally:
                self._trxlock.release()
            raise
        return self.connection


class _PooledTransaction(TransactionContextPooled):
    """asyncpg's release rolls back what the connection has open (and closes one it cannot reset); it
    is shielded from a second cancel."""

    async def __aenter__(self) -> TransactionalDBClient:
        await self.ensure_connection()
        self.client._connection = await self.client._parent._pool.acquire()  # cancel-safe in asyncpg
        token = None
        try:
            token = self.token = get_connections().set(self.connection_name, self.client)
            await self.client.begin()
        except BaseException:
            get_connections().reset(token)
            await self.client._parent._pool.release(self.client._connection)
            raise
        return self.client


def _transaction() -> TransactionContext:
    """``in_transaction()``, with a start that gives the connection back when it fails (above)."""
    context = in_transaction()
    if type(context) is SqliteTransactionContext:
        return _SqliteTransaction(context.connection, context._trxlock)
    if type(context) is TransactionContextPooled:
        return _PooledTransaction(context.client, context._pool_init_lock)
    return context


@asynccontextmanager
async def atomic() -> AsyncIterator[BaseDBAsyncClient]:
    """One transaction; callbacks registered with :func:`after_commit` run only if it commits."""
    _writable()
    if _after_commit.get() is not None:  # nested: join the outer transaction
        async with in_transaction() as conn:
            yield conn
        return
    callbacks: list[Callable[[], Awaitable[None]]] = []
    token = _after_commit.set(callbacks)
    try:
        async with _transaction() as conn:
            yield conn
            if (hook := _before_commit.get()) is not None:
                await hook()
    finally:
        _after_commit.reset(token)
    committed = _commits.get()
    if committed is not None:
        committed.append(None)
    for callback in callbacks:
        try:
            await callback()
        except Exception:  # an after-commit effect must never undo or hide a committed change
            log.exception("after-commit callback failed")


def inside_atomic() -> bool:
    """Is the caller inside :func:`atomic` (its reads see its own uncommitted writes)?"""
    return _after_commit.get() is not None


def after_commit(callback: Callable[[], Awaitable[None]]) -> None:
    """Run ``callback`` once the current transaction has committed (at once if there is none)."""
    pending = _after_commit.get()
    if pending is None:
        raise RuntimeError("after_commit() outside atomic()")
    pending.append(callback)
