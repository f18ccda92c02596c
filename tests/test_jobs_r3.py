"""Round 3 of the job worker (jobs/): the nightly roll-up repair's lock on PostgreSQL and its log, a
worker stopped while its first SQLite query opens the connection, arq's command stopped while Redis
is away."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Any

import pytest

from backend.coops import rollups
from backend.coops.models import CoopRollup
from backend.core import db
from backend.core.config import Settings
from jobs import rollups as rollups_job
from jobs.rollups import coop_rollups_check
from tests.conftest import RedisProcess
from tests.coops_helpers import expected_rollups, make_world, stored_rollups
from tests.factories import FIRST_SQLITE_OPEN_HELD, stopped_at_first_open
from tests.test_jobs_worker import _start_arq, _true
from tests.test_sms_delivery import _process_env, _until

# arq's Worker.close() calls redis-py's deprecated close(); nothing of ours.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")


def _job_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == rollups_job.__name__]


# --- the nightly roll-up check ----------------------------------------------------------------------


async def test_drift_found_is_logged_even_when_its_repair_fails(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """The drift was logged only after a successful repair: a repair that failed (a lock it could not
    take, a lost connection) left no trace of which units had drifted, nor by how many."""
    w = await make_world()
    await CoopRollup.filter(unit_id=w.town.id).update(coops=99)
    await CoopRollup.filter(unit_id=w.village.id).delete()

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("connection lost")

    monkeypatch.setattr(rollups, "_repair", broken)
    caplog.set_level(logging.INFO, logger=rollups_job.__name__)
    with pytest.raises(RuntimeError, match="connection lost"):
        await coop_rollups_check({})
    [found] = [line for line in _job_lines(caplog) if "drifted" in line]
    assert "1 missing, 1 wrong" in found, found
    assert str(w.town.id) in found and str(w.village.id) in found, found


async def _not_granted(connection: Any, table: str) -> bool:
    """Does some transaction wait for a lock on ``table``?"""
    waiting = await connection.fetchval(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = $1::regclass", table
    )
    return bool(waiting)


async def test_the_repair_gives_up_on_a_busy_table_instead_of_holding_card_writers_back(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """The repair asked PostgreSQL for its table lock without a lock timeout: behind one card write
    still open (a slow request), it waited, and every card write after it queued behind its request,
    up to the job's half hour. It now waits a moment, tries again later, and gives up for the night."""
    if settings.dialect != "postgres":
        pytest.skip("PostgreSQL's table lock; SQLite writers take turns on the one database lock")
    import asyncpg

    w = await make_world()
    await CoopRollup.filter(unit_id=w.town.id).update(coops=99)  # drift: the check will repair
    monkeypatch.setattr(rollups_job, "REPAIR_LOCK_TIMEOUT_MS", 1000, raising=False)
    monkeypatch.setattr(rollups_job, "REPAIR_TRIES", 2, raising=False)
    monkeypatch.setattr(rollups_job, "REPAIR_RETRY_SECONDS", 0, raising=False)
    caplog.set_level(logging.INFO, logger=rollups_job.__name__)

    slow_writer = await asyncpg.connect(settings.database_url)
    next_writer = await asyncpg.connect(settings.database_url)
    watcher = await asyncpg.connect(settings.database_url)
    job: asyncio.Task[dict[str, object]] | None = None
    try:
        slow = slow_writer.transaction()
        await slow.start()
        await slow_writer.execute("UPDATE coop_card SET staff = staff WHERE unit_id = $1", w.tea.id)
        job = asyncio.create_task(coop_rollups_check({}))
        assert await _until(lambda: _not_granted(watcher, "coop_card"), seconds=10)  # the repair waits
        # Another cadre saves a card meanwhile: held back a moment at most, not until the job's timeout.
        await asyncio.wait_for(
            next_writer.execute("UPDATE coop_card SET staff = staff WHERE unit_id = $1", w.veg.id), 5
        )
        report = await asyncio.wait_for(job, 10)
        assert report["drifted"] == 1 and report["repaired"] is False
        assert any("gave up" in line for line in _job_lines(caplog)), _job_lines(caplog)
        await slow.rollback()
    finally:
        if job is not None and not job.done():
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)
        for connection in (slow_writer, next_writer, watcher):
            await connection.close()
    # The next night (nothing in its way) repairs it.
    report = await coop_rollups_check({})
    assert report["repaired"] is True and await stored_rollups() == await expected_rollups()


async def test_the_repair_lock_timeout_is_the_jobs_alone(settings: Settings):
    """The command line and the demo seed still wait for the lock (an operator who runs the repair
    by hand wants it done); only the nightly job gives up."""
    if settings.dialect != "postgres":
        pytest.skip("PostgreSQL's lock timeout")
    w = await make_world()
    await CoopRollup.filter(unit_id=w.town.id).update(coops=99)
    async with db.atomic():
        report = await rollups.check(repair=True)
        assert report.repaired
        [[setting]] = await db.fetch_rows("SHOW lock_timeout", [])
    assert setting == "0"


# --- stopping the worker ----------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent

# The worker's command in a process of its own, with one hook: the first time it opens the SQLite
# database, it says so and waits there until the stop cancels it (a slow disk, a busy file).
_FIRST_OPEN_HELD = (
    FIRST_SQLITE_OPEN_HELD
    + """if sys.argv[1] == "jobs":
    from jobs.__main__ import main
    sys.exit(main(["worker"]))
from arq.cli import cli
cli(["jobs.worker.WorkerSettings"], prog_name="arq")
"""
)


@pytest.mark.parametrize("command", ["jobs", "arq"])
async def test_a_worker_stopped_while_it_opens_the_database_stops(
    settings: Settings, redis_process: RedisProcess, tmp_path: Path, command: str
):
    """Stopped just as its first SQLite query opened the connection, the worker never ended:
    tortoise takes the connection's lock before opening it and gives it back only once opened, so the
    query cancelled there kept the lock, and the shutdown's last query waited for it for good."""
    if settings.dialect != "sqlite":
        pytest.skip("SQLite's one connection; PostgreSQL's pool opens under a lock it gives back")
    script = tmp_path / "worker.py"
    script.write_text(_FIRST_OPEN_HELD)
    env = _process_env(settings, f"redis://127.0.0.1:{redis_process.port}/0")
    env["PYTHONPATH"] = str(ROOT)
    status, text = await stopped_at_first_open([str(script), command], env, tmp_path / "worker.log", signal.SIGTERM)
    assert status == 0, text
    assert "Traceback" not in text, text


@pytest.mark.parametrize("outage", ["down", "silent"])
async def test_arqs_own_command_stopped_while_redis_is_away_exits_promptly_and_cleanly(
    settings: Settings, redis_process: RedisProcess, tmp_path: Path, outage: str
):
    """arq's close() asks Redis first and skips the shutdown hook when Redis fails: the database stayed
    open, and on SQLite its connection's thread kept the process from ever exiting (a supervisor's
    stop waited for its kill). Stopped while Redis is away, it now closes what it holds and exits,
    as ``python -m jobs worker`` does."""
    url = f"redis://127.0.0.1:{redis_process.port}/0"  # conftest's: started
    log_path = tmp_path / "arq-worker.log"
    assert redis_process.proc is not None
    with log_path.open("w") as log_file:
        proc = await _start_arq(settings, url, log_file)
        try:
            assert await _until(lambda: _true("← cron:sms_sweep" in log_path.read_text()), seconds=30), (
                log_path.read_text()
            )
            if outage == "down":
                redis_process.stop()
            else:
                redis_process.proc.send_signal(signal.SIGSTOP)  # takes connections, answers nothing
            assert await _until(lambda: _true("Redis unreachable" in log_path.read_text()), seconds=20), (
                log_path.read_text()
            )
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 20) == 0, log_path.read_text()
        finally:
            if redis_process.proc is not None:
                redis_process.proc.send_signal(signal.SIGCONT)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    text = log_path.read_text()
    assert "Redis unreachable at shutdown" in text and "Traceback" not in text, text
