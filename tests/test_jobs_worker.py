"""The job worker itself (jobs/worker.py): how it behaves when Redis fails under it, and how long a
started job keeps its id taken."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import pytest
from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix

from backend.core import sms_delivery
from backend.core.config import Settings
from backend.core.redis import REDIS_ERRORS
from jobs import worker as jobs_worker
from jobs.rollups import CHECK_TIMEOUT_SECONDS
from jobs.sms import DELIVER_TIMEOUT_SECONDS
from tests.conftest import RedisProcess, free_port
from tests.test_sms_delivery import _answers, _process_env, _until

# arq's Worker.close() calls redis-py's deprecated close(); nothing of ours.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")


async def test_a_job_that_could_not_be_started_for_a_redis_error_gives_its_slot_back(settings: Settings):
    """arq counts a job as running before asking Redis whether it is free, and forgets to uncount it
    when Redis fails to answer: after max_jobs such failures the worker never started a job again."""
    gone = replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    worker = jobs_worker.build(gone, embedded=True, schedule=False)
    try:
        for _ in range(worker.max_jobs):
            with pytest.raises(REDIS_ERRORS):
                await worker.start_jobs([b"sms:1:0"])
        assert worker.job_counter == 0 and not worker.sem.locked() and worker.tasks == {}
    finally:
        await worker.pool.aclose()


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    process = RedisProcess(tmp_path)  # not started: each test says when Redis is there
    yield process
    process.stop()


def _lines(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in record.getMessage() for record in caplog.records if record.name == jobs_worker.__name__)


async def test_a_worker_started_while_redis_is_down_waits_for_it_and_says_so_once(
    settings: Settings, redis_process: RedisProcess, caplog: pytest.LogCaptureFixture
):
    """arq asks Redis about itself before its first poll: with Redis down at start-up the embedded
    worker's task ended there without a line in the log, and no SMS went out until a restart."""
    private = replace(settings, redis_url=f"redis://127.0.0.1:{redis_process.port}/0")
    worker = jobs_worker.build(private, embedded=True, schedule=False, poll_delay=0.05)
    commands = 0
    execute_command = worker.pool.execute_command

    async def counted(*args: Any, **options: Any) -> Any:
        nonlocal commands
        commands += 1
        return await execute_command(*args, **options)

    worker.pool.execute_command = counted  # type: ignore[method-assign]
    embedded = jobs_worker.EmbeddedWorker(worker).start()
    assert embedded.task is not None
    try:
        assert await _until(lambda: _true(commands >= 5 or embedded.task.done()))
        assert not embedded.task.done(), embedded.task
        assert _lines(caplog, "Redis unreachable") == 1  # not one per try
        redis_process.start()
        assert await _until(lambda: _true(worker.redis_down is False))
        assert await _until(lambda: worker.pool.exists(worker.health_check_key))  # it polls the queue
        assert _lines(caplog, "Redis reachable again") == 1
    finally:
        await embedded.stop()


async def test_stopping_the_embedded_worker_while_redis_is_down_does_not_raise(
    settings: Settings, redis_process: RedisProcess, caplog: pytest.LogCaptureFixture
):
    """arq's close() deletes its health key first: with Redis away it raised out of the API's
    shutdown, and neither closed the worker's connections nor ran its shutdown hook."""
    redis_process.start()
    private = replace(settings, redis_url=f"redis://127.0.0.1:{redis_process.port}/0")
    worker = jobs_worker.build(private, embedded=True, schedule=False, poll_delay=0.05)
    assert await _until(lambda: _answers(worker.pool))
    embedded = jobs_worker.EmbeddedWorker(worker).start()
    assert await _until(lambda: worker.pool.exists(worker.health_check_key))  # it polls the queue
    redis_process.stop()
    assert await _until(lambda: _true(getattr(worker, "redis_down", False)))
    await embedded.stop()
    assert embedded.task is not None and embedded.task.done()
    assert _lines(caplog, "Redis unreachable at shutdown") == 1


async def test_the_standalone_worker_waits_for_redis_at_start_up_and_stops_cleanly(settings: Settings, tmp_path: Path):
    """`python -m jobs worker` exited with a traceback when Redis did not answer at start-up."""
    env = _process_env(settings, f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log_file:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "jobs", "worker", env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            assert await _until(
                lambda: _true(proc.returncode is not None or "Redis unreachable" in log_path.read_text())
            )
            assert proc.returncode is None, log_path.read_text()
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 20) == 0, log_path.read_text()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    text = log_path.read_text()
    assert text.count("Redis unreachable (") == 1 and "Traceback" not in text, text


async def test_an_sms_job_abandoned_before_its_claim_holds_its_id_for_its_own_timeout(settings: Settings):
    """arq holds a started job's id for the longest function's timeout (+10 s), the nightly check's
    half hour: an SMS job whose worker died between the start and the claim kept its message (a
    verification code lives 5 minutes) from every later job of the same id that long."""
    worker = jobs_worker.build(settings, embedded=True, schedule=False)
    pool = worker.pool
    sms_job = sms_delivery.job_id(1, 0)

    async def dies_before_running(job_id: str, score: int) -> None:
        # The worker is gone before the job runs. (Cancelling arq's own run_job instead depended on
        # how far it had got: past its start, its clean-up gave the id back, and a loaded machine
        # got it there first.)
        await asyncio.Event().wait()

    worker.run_job = dies_before_running  # type: ignore[method-assign]
    try:
        assert await sms_delivery.enqueue(1, pool=pool)
        assert await pool.enqueue_job("coop_rollups_check", _job_id="nightly")
        await worker.start_jobs([sms_job.encode(), b"nightly"])
        assert set(worker.tasks) == {sms_job, "nightly"}
        for task in worker.tasks.values():
            task.cancel()  # the worker dies before either job runs
        assert 0 < await pool.pttl(in_progress_key_prefix + sms_job) <= (DELIVER_TIMEOUT_SECONDS + 10) * 1000
        # The nightly check, still running after 30 minutes at worst, is not started a second time meanwhile.
        assert await pool.pttl(in_progress_key_prefix + "nightly") > CHECK_TIMEOUT_SECONDS * 1000
    finally:
        await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
        await pool.aclose()


async def _true(value: bool) -> bool:
    return value


async def _start_arq(settings: Settings, redis_url: str, log_file: IO[str]) -> asyncio.subprocess.Process:
    """``arq jobs.worker.WorkerSettings``, as an operator starts it, logging into ``log_file``."""
    arq = Path(sys.executable).with_name("arq")
    env = _process_env(settings, redis_url)
    return await asyncio.create_subprocess_exec(
        str(arq), "jobs.worker.WorkerSettings", env=env, stdout=log_file, stderr=subprocess.STDOUT
    )


async def test_arqs_own_command_survives_a_redis_restart_and_runs_jobs_again(
    settings: Settings, redis_process: RedisProcess, tmp_path: Path
):
    """``arq jobs.worker.WorkerSettings`` runs arq's own worker class, whose poll loop lets a Redis
    error through: a Redis restart ended the process, and no SMS went out until someone restarted it
    (``python -m jobs worker`` waits for Redis and carries on)."""
    redis_process.start()
    url = f"redis://127.0.0.1:{redis_process.port}/0"
    log_path = tmp_path / "arq-worker.log"

    def log_text() -> str:
        return log_path.read_text()

    with log_path.open("w") as log_file:
        proc = await _start_arq(settings, url, log_file)
        pool = ArqRedis.from_url(url)
        try:
            assert await _until(lambda: _true("worker started: SMS channel" in log_text()), seconds=30), log_text()
            redis_process.stop()
            assert await _until(lambda: _true(proc.returncode is not None or "Redis unreachable" in log_text()))
            assert proc.returncode is None, log_text()
            redis_process.start()
            assert await _until(lambda: _true("Redis reachable again" in log_text())), log_text()
            assert await _until(lambda: _answers(pool))
            # It takes jobs again: the hourly name-log trim, queued by hand, runs.
            assert await pool.enqueue_job("cron:name_changes_prune", _job_id="after-restart")
            assert await _until(lambda: _true("name change log:" in log_text())), log_text()
            assert log_text().count("Redis unreachable (") == 1, log_text()  # not one per try
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 20) == 0, log_text()
        finally:
            await pool.aclose()
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert "Traceback" not in log_text()


async def test_arqs_own_command_stopped_while_redis_is_away_still_stops(
    settings: Settings, redis_process: RedisProcess, tmp_path: Path
):
    """Waiting for Redis must not keep arq's command from stopping: its shutdown asks Redis first,
    and a wait there would hold the process until the supervisor killed it."""
    redis_process.start()
    url = f"redis://127.0.0.1:{redis_process.port}/0"
    log_path = tmp_path / "arq-worker.log"
    with log_path.open("w") as log_file:
        proc = await _start_arq(settings, url, log_file)
        try:
            assert await _until(lambda: _true("worker started: SMS channel" in log_path.read_text()), seconds=30)
            redis_process.stop()
            assert await _until(lambda: _true("Redis unreachable" in log_path.read_text())), log_path.read_text()
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 20)  # it ends (status 0: tests/test_jobs_r3.py)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
