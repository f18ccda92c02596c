"""The floor for bench/chat.py: a tiny Sanic app that reads what a chat turn reads and nothing else.

No ORM, no session, no scope logic, no pydantic, no Redis, no gzip: ``POST /run/<key>`` repeats the
name index searches that bench/chat.py recorded for one chat turn (the same in-memory index,
backend/chat/name_index.py, built at start from this app's own connection, and the same candidate
call, without the ranking), then runs the statements recorded for it (the exact SQL and parameters
tortoise-orm sent, the guard's session and membership reads left out; a lookup's check of the name
change log is kept, though a served turn reads the log's version in the guard's statement, since the
floor's index must be current too) with asyncpg or aiosqlite,
one after the other, and answers their rows as JSON. The naive GROUP BY summaries are run the same
way under their own keys. Started and stopped by bench/chat.py::

    python bench/bare_app.py --port 18001 --database sqlite:///abs/path.sqlite3 --statements FILE

The statements file is JSON: ``{"statements": {key: [[sql, [params...]], ...]}, "searches": {key:
[[kind, scope path, text, stage], ...]}}``, the SQL in the driver's own placeholder style (``?`` for
SQLite, ``$1`` for PostgreSQL), as recorded.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sanic import HTTPResponse, Request, Sanic
from sanic.response import json as json_response

# The same JSON settings as the product (backend/core/http.py): UTF-8 Chinese, no spaces.
dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"), default=str)
PG_POOL_MAX = 5  # tortoise-orm's default asyncpg pool size (the product runs with it)
# The product's PostgreSQL connection settings (backend.core.db.PG_SERVER_SETTINGS; bench/chat.py
# checks they are equal): the same SQL must get the same plans here.
PG_SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan", "random_page_cost": "1.1"}


async def keep_session(connection: Any) -> None:
    """The product's pool reset (backend.core.db.keep_session): nothing beyond asyncpg's own rollback."""


async def build_index(fetch: Any) -> Any:
    """The chat's name index from this app's connection (``fetch(sql)`` gives the rows)."""
    from backend.chat import name_index as ni

    paths: dict[str, str] = {}
    tables = []
    for columns, source in ((ni.UNIT_COLUMNS, ni.UNITS_FROM), (ni.PERSON_COLUMNS, ni.PEOPLE_FROM)):
        tables.append(ni.Table(ni.entries_of(await fetch(f"SELECT {columns} FROM {source}"), paths)))
    return ni.NameIndex(0, ni.Names(tables[0]), ni.Names(tables[1]))


def search(index: Any, kind: str, path: str, text: str, stage: int) -> int:
    """One recorded search: the chat's own candidate call, scoped as recorded, without the ranking."""
    from backend.chat import lookup

    query = lookup.Query.of(text)
    scope = SimpleNamespace(unit_path=path)
    return len(lookup._candidates(index, lookup.Kind(kind), scope, query, lookup.Stage(stage)))  # type: ignore[arg-type]


def build_app(
    database: str, statements: dict[str, list[tuple[str, list[Any]]]], searches: dict[str, list[list[Any]]]
) -> Sanic:
    """The app: one route per recorded turn, one health route."""
    app = Sanic("bare_chat_floor", dumps=dumps)
    postgres = database.startswith(("postgres://", "postgresql://"))

    @app.before_server_start
    async def connect(app: Sanic) -> None:
        if postgres:
            import asyncpg

            app.ctx.pool = await asyncpg.create_pool(
                database, min_size=1, max_size=PG_POOL_MAX, server_settings=PG_SERVER_SETTINGS, reset=keep_session
            )
        else:
            import aiosqlite

            conn = await aiosqlite.connect(database.removeprefix("sqlite://"), isolation_level=None)
            conn._conn.row_factory = sqlite3.Row  # as tortoise-orm's SQLite client does
            for pragma in ("journal_mode=WAL", "foreign_keys=ON"):  # tortoise-orm's pragmas
                await (await conn.execute(f"PRAGMA {pragma}")).close()
            app.ctx.sqlite = conn
        app.ctx.index = None
        if any(searches.values()):
            if postgres:
                async with app.ctx.pool.acquire() as conn:
                    app.ctx.index = await build_index(conn.fetch)
            else:
                app.ctx.index = await build_index(app.ctx.sqlite.execute_fetchall)
        from backend.core import heap

        heap.settle()  # as the product does after its start-up (backend/app.py)

    @app.after_server_stop
    async def disconnect(app: Sanic) -> None:
        if postgres:
            await app.ctx.pool.close()
        else:
            await app.ctx.sqlite.close()

    async def run_pg(key: str) -> list[list[dict[str, Any]]]:
        async with app.ctx.pool.acquire() as conn:
            return [[dict(r) for r in await conn.fetch(sql, *params)] for sql, params in statements[key]]

    async def run_sqlite(key: str) -> list[list[dict[str, Any]]]:
        conn = app.ctx.sqlite
        return [[dict(r) for r in await conn.execute_fetchall(sql, params)] for sql, params in statements[key]]

    run = run_pg if postgres else run_sqlite

    @app.get("/healthz")
    async def healthz(request: Request) -> HTTPResponse:
        return json_response({"ok": True})

    @app.post("/run/<key:str>")
    async def run_statements(request: Request, key: str) -> HTTPResponse:
        if key not in statements:
            return json_response({"error": "unknown key"}, status=404)
        found = [search(app.ctx.index, *recorded) for recorded in searches.get(key, [])]
        return json_response({"found": found, "results": await run(key)}, dumps=dumps)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True, help="postgres://... or sqlite:///absolute/path")
    parser.add_argument("--statements", type=Path, required=True)
    args = parser.parse_args()
    work = json.loads(args.statements.read_text())
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project: its name index, its heap settling
    app = build_app(args.database, work["statements"], work.get("searches", {}))
    app.run(host="127.0.0.1", port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
