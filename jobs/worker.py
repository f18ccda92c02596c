"""The arq worker: its functions, its schedule, and how it starts (own process or inside the API).

``arq jobs.worker.WorkerSettings`` works too (it reads ``REDIS_URL``); ``python -m jobs worker``
is the documented way.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.worker import Worker

from backend.core import db, log_privacy, runtime, sms_delivery
from backend.core.clock import CHINA_TIME
from backend.core.config import Settings
from backend.core.redis import connect
from jobs.name_changes import PRUNE_MINUTE, name_changes_prune
from jobs.rollups import CHECK_HOUR, CHECK_MINUTE, CHECK_TIMEOUT_SECONDS, coop_rollups_check
from jobs.sms import (
    CLEAR_MINUTE,
    DELIVER_TIMEOUT_SECONDS,
    SWEEP_EVERY_SECONDS,
    sms_deliver,
    sms_params_clear,
    sms_sweep,
)

log = logging.getLogger(__name__)

FUNCTIONS = [
    # keep_result=0: a finished job leaves no result behind, so the sweep may queue a later attempt.
    func(sms_deliver, name=sms_delivery.DELIVER_TASK, keep_result=0, timeout=DELIVER_TIMEOUT_SECONDS, max_tries=3),
    func(coop_rollups_check, name="coop_rollups_check", timeout=CHECK_TIMEOUT_SECONDS, max_tries=1),
]


def cron_jobs() -> list[CronJob]:
    """Fresh schedule objects for each worker (arq keeps the next run time in them)."""
    return [
        cron(
            sms_sweep,
            name="cron:sms_sweep",
            second=set(range(0, 60, SWEEP_EVERY_SECONDS)),
            run_at_startup=True,
            timeout=60,
        ),
        cron(
            coop_rollups_check,
            name="cron:coop_rollups_check",
            hour={CHECK_HOUR},
            minute={CHECK_MINUTE},
            second={0},
            timeout=CHECK_TIMEOUT_SECONDS,
            max_tries=1,
        ),
        cron(name_changes_prune, name="cron:name_changes_prune", minute={PRUNE_MINUTE}, second={0}, timeout=300),
        cron(sms_params_clear, name="cron:sms_params_clear", minute={CLEAR_MINUTE}, second={0}, timeout=300),
    ]


async def startup(ctx: dict[str, Any]) -> None:
    """Own process: connect the database and Redis. Inside the API they are already there."""
    log_privacy.install()  # also on arq's own handler when started as `arq jobs.worker.WorkerSettings`
    if ctx.get("embedded"):
        return
    settings = Settings.from_env()
    await db.init_db(settings)
    runtime.install(runtime.Runtime(settings=settings, redis=connect(settings)))
    log.info("worker started: SMS channel %s", settings.sms_channel)


async def shutdown(ctx: dict[str, Any]) -> None:
    await sms_delivery.close_queue()
    if ctx.get("embedded"):
        return
    await runtime.shutdown()
    await db.close_db()


def build(
    settings: Settings, *, embedded: bool = False, burst: bool = False, schedule: bool = True, **options: Any
) -> Worker:
    """A worker on the backend's Redis.

    ``embedded``: it runs inside a process that already has its services (the API, tests);
    ``schedule=False``: no periodic sweep (tests that run one burst of queued jobs).
    """
    return Worker(
        functions=FUNCTIONS,
        cron_jobs=cron_jobs() if schedule else None,
        redis_pool=sms_delivery.arq_redis(settings),
        on_startup=startup,
        on_shutdown=shutdown,
        handle_signals=not embedded,
        burst=burst,
        ctx={"embedded": embedded},
        max_jobs=20,
        keep_result=0,  # also for jobs arq fails itself (expired, out of tries): the sweep may queue again
        timezone=CHINA_TIME,  # cron hours (the nightly check) are China's, whatever the server's zone
        **options,
    )


class EmbeddedWorker:
    """The worker as a task of a running event loop (the API server's, with the embedded Redis)."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.task: asyncio.Task[None] | None = None

    def start(self) -> EmbeddedWorker:
        self.task = asyncio.get_running_loop().create_task(self.worker.main(), name="arq-worker")
        return self

    async def stop(self) -> None:
        try:
            await self.worker.close()  # cancels the running jobs; their leases expire, the sweep resumes them
        except asyncio.CancelledError:
            pass
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):  # the worker has logged its own errors
                pass


def start_embedded(settings: Settings) -> EmbeddedWorker:
    # Our own log lines say what happened to each message; arq's would add two per sweep.
    logging.getLogger("arq.worker").setLevel(logging.WARNING)
    log.info("job worker running inside this process (SMS channel %s)", settings.sms_channel)
    return EmbeddedWorker(build(settings, embedded=True)).start()


class WorkerSettings:
    """For ``arq jobs.worker.WorkerSettings`` (needs ``REDIS_URL``)."""

    functions = FUNCTIONS
    cron_jobs = cron_jobs()
    on_startup = startup
    on_shutdown = shutdown
    ctx: dict[str, Any] = {"embedded": False}  # noqa: RUF012 (read by arq, never changed)
    keep_result = 0  # as in build()
    timezone = CHINA_TIME  # as in build()
    redis_settings = RedisSettings.from_dsn(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
