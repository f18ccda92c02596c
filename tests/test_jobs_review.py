"""Review of the job worker (jobs/): the schedule after an outage, arq's health check and read timeout
while Redis is down or hung, and the nightly roll-up check's log."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.constants import default_queue_name, health_check_key_suffix

from backend.core.clock import CHINA_TIME, FrozenClock
from backend.core.config import Settings
from jobs import worker as jobs_worker
from tests.conftest import RedisProcess, free_port
from tests.test_jobs_worker import _start_arq, _true
from tests.test_sms_delivery import _process_env, _until

# arq's Worker.close() calls redis-py's deprecated close(); nothing of ours.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

DAY = 24 * 3600


# --- the schedule after an outage -----------------------------------------------------------------


async def _queued_cron_runs(worker: Any) -> Counter[str]:
    """How many runs of each cron job are queued (arq's job id: ``<name>:<planned time in ms>``)."""
    ids = await worker.pool.zrange(worker.queue_name, 0, -1)
    return Counter(job_id.decode().rsplit(":", 1)[0] for job_id in ids)


async def test_after_an_outage_each_cron_job_is_queued_once_not_once_per_missed_run(
    settings: Settings, clock: FrozenClock
):
    """arq remembers each cron job's next run and, once Redis answers again, queues the missed runs one
    per poll: after three days away the nightly check ran three times in a row (each locking the card
    writers out on PostgreSQL), the hourly prunes 72 times, the 10 s SMS sweep for hours."""
    worker = jobs_worker.build(settings, embedded=True)
    try:
        await worker.run_cron(clock.now().astimezone(CHINA_TIME), 0.5)  # the first poll: the sweep, at start
        assert await _queued_cron_runs(worker) == Counter({"cron:sms_sweep": 1})
        clock.advance(3 * DAY)  # Redis away (or the machine asleep): no poll meanwhile
        for _ in range(5):  # the polls once it is back, half a second apart
            await worker.run_cron(clock.now().astimezone(CHINA_TIME), 0.5)
            clock.advance(0.5)
        assert await _queued_cron_runs(worker) == Counter(
            {
                "cron:sms_sweep": 2,  # the one at start, one late
                "cron:coop_rollups_check": 1,
                "cron:planner_statistics": 1,
                "cron:name_changes_prune": 1,
                "cron:sms_params_clear": 1,
                "cron:ended_sessions_prune": 1,
                "cron:review_images_remove": 1,
            }
        )
        # And the schedule goes on from now, as planned: the nightly check at 03:17 in China.
        nightly = next(job for job in worker.cron_jobs if job.name == "cron:coop_rollups_check")
        assert nightly.next_run is not None and nightly.next_run > clock.now()
        assert (nightly.next_run - clock.now()).total_seconds() <= DAY and nightly.next_run.astimezone(
            CHINA_TIME
        ).hour == 3
    finally:
        await worker.pool.aclose()


async def test_a_cron_job_on_time_is_neither_skipped_nor_doubled(settings: Settings, clock: FrozenClock):
    """Skipping the missed runs must not skip the one due now: a poll every half second queues each
    sweep of a minute once."""
    worker = jobs_worker.build(settings, embedded=True)
    try:
        for _ in range(120):
            await worker.run_cron(clock.now().astimezone(CHINA_TIME), 0.5)
            clock.advance(0.5)
        assert (await _queued_cron_runs(worker))["cron:sms_sweep"] == 1 + 6  # at start, then every 10 s
    finally:
        await worker.pool.aclose()


# --- arq's command: its health check and its read timeout -----------------------------------------


@pytest.fixture
async def hung_redis() -> AsyncIterator[str]:
    """A Redis that takes connections and never answers (stopped with SIGSTOP, a full disk, a
    half-open connection through a firewall): its URL."""
    held: list[asyncio.StreamWriter] = []

    async def take(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # read nothing, answer nothing

    server = await asyncio.start_server(take, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def _arq_check(settings: Settings, redis_url: str, seconds: float = 20) -> tuple[int | None, str, float]:
    """``arq jobs.worker.WorkerSettings --check`` as a supervisor runs it: exit status (None: still
    running after ``seconds``, then killed), what it printed, how long it took."""
    arq = Path(sys.executable).with_name("arq")
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        str(arq),
        "jobs.worker.WorkerSettings",
        "--check",
        env=_process_env(settings, redis_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), seconds)
        return proc.returncode, output.decode(), time.monotonic() - started
    except TimeoutError:
        proc.kill()
        output, _ = await proc.communicate()
        return None, output.decode(), time.monotonic() - started


async def test_arqs_health_check_fails_at_once_with_a_clear_message_while_redis_is_down(settings: Settings):
    """The command waits for Redis at start (a million tries, a second apart), and its health check
    shares those settings: with Redis down, ``--check`` never ended, and the supervisor or container
    probe that ran it hung instead of seeing the worker unhealthy."""
    status, output, took = await _arq_check(settings, f"redis://127.0.0.1:{free_port()}/0")  # nobody there
    assert status is not None and status != 0, output
    assert took < 15 and "health check failed: Redis does not answer" in output, output
    assert "Traceback" not in output and "retries remaining" not in output, output


async def test_arqs_health_check_gives_up_on_a_redis_that_never_answers(settings: Settings, hung_redis: str):
    """arq's connections have no read timeout: a Redis that took the connection and never answered
    held the health check (and the worker, silently) forever."""
    status, output, took = await _arq_check(settings, hung_redis)
    assert status is not None and status != 0, output
    assert took < 15 and "health check failed: Redis does not answer" in output, output


async def _has_key(url: str, key: str) -> bool:
    pool = ArqRedis.from_url(url)
    try:
        return bool(await pool.exists(key))
    finally:
        await pool.aclose()


async def test_arqs_health_check_still_answers_for_a_running_worker(
    settings: Settings, redis_process: RedisProcess, tmp_path: Path
):
    """Failing fast must not make a healthy worker look dead: with the worker up, the check passes
    (and, with Redis up but no worker, it fails: arq's own answer)."""
    url = f"redis://127.0.0.1:{redis_process.port}/0"  # conftest's: started
    status, output, _ = await _arq_check(settings, url)
    assert status == 1 and "no health check sentinel" in output, output
    log_path = tmp_path / "arq-worker.log"
    with log_path.open("w") as log_file:
        proc = await _start_arq(settings, url, log_file)
        try:
            assert await _until(lambda: _true("worker started: SMS channel" in log_path.read_text()), seconds=30)
            health_key = default_queue_name + health_check_key_suffix
            assert await _until(lambda: _has_key(url, health_key)), log_path.read_text()  # its first poll
            status, output, _ = await _arq_check(settings, url)
            assert status == 0, output
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 20) == 0, log_path.read_text()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def test_arqs_own_command_treats_a_redis_that_stops_answering_as_away(
    settings: Settings, redis_process: RedisProcess, tmp_path: Path
):
    """arq's connections have no read timeout: a Redis that stopped answering (stopped, swapping, a
    half-open connection) held the command's worker in its poll forever, without a line in the log,
    and went on holding it once Redis answered again only if the connection happened to survive."""
    url = f"redis://127.0.0.1:{redis_process.port}/0"  # conftest's: started
    log_path = tmp_path / "arq-worker.log"
    with log_path.open("w") as log_file:
        proc = await _start_arq(settings, url, log_file)
        assert redis_process.proc is not None
        try:
            assert await _until(lambda: _true("worker started: SMS channel" in log_path.read_text()), seconds=30)
            redis_process.proc.send_signal(signal.SIGSTOP)  # it keeps its connections and answers nothing
            assert await _until(lambda: _true("Redis unreachable" in log_path.read_text()), seconds=20), (
                log_path.read_text()
            )
            redis_process.proc.send_signal(signal.SIGCONT)
            assert await _until(lambda: _true("Redis reachable again" in log_path.read_text()), seconds=20), (
                log_path.read_text()
            )
            # It takes jobs again: the sweep missed meanwhile runs, late, and ends.
            # (the sweep due every 10 s, then its database work: a busy CI machine took more than 15 s)
            assert await _until(
                lambda: _true("← cron:sms_sweep" in log_path.read_text().split("reachable again")[1]), seconds=30
            ), log_path.read_text()
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 20) == 0, log_path.read_text()
        finally:
            redis_process.proc.send_signal(signal.SIGCONT)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    text = log_path.read_text()
    # One line when it went, one when it was back (a connection taken but not answered is not "back").
    assert text.count("Redis unreachable (") == 1 and text.count("Redis reachable again") == 1, text
    assert "Traceback" not in text, text
