"""The job worker itself (jobs/worker.py): how it behaves when Redis fails under it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from backend.core.config import Settings
from backend.core.redis import REDIS_ERRORS
from jobs import worker as jobs_worker
from tests.conftest import free_port

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
