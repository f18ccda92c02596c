"""The arq worker: its functions, its schedule, and how it starts (own process or inside the API).

``python -m jobs worker`` is the documented way; ``arq jobs.worker.WorkerSettings`` runs the same
functions, schedule, limits, start-up and shutdown (it reads ``REDIS_URL``), but on arq's own worker
class: see :class:`WorkerSettings` for what that one lacks.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import fields, replace
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import click
from arq import cron, func
from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.utils import poll
from arq.worker import Worker
from redis.asyncio import Redis
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.asyncio.retry import Retry
from redis.backoff import ConstantBackoff

from backend.core import db, log_privacy, runtime, sms_delivery
from backend.core.clock import CHINA_TIME
from backend.core.config import ConfigError, Settings
from backend.core.redis import REDIS_ERRORS, connect
from jobs.name_changes import PRUNE_MINUTE, name_changes_prune
from jobs.reviews import REMOVE_HOUR, REMOVE_MINUTE, review_images_remove
from jobs.rollups import CHECK_HOUR, CHECK_MINUTE, CHECK_TIMEOUT_SECONDS, coop_rollups_check
from jobs.sessions import FORGET_MINUTE, ended_sessions_prune
from jobs.sms import (
    CLEAR_MINUTE,
    DELIVER_TIMEOUT_SECONDS,
    SWEEP_EVERY_SECONDS,
    sms_deliver,
    sms_params_clear,
    sms_sweep,
)
from jobs.statistics import OPTIMIZE_HOUR, OPTIMIZE_MINUTE, OPTIMIZE_TIMEOUT_SECONDS, planner_statistics

log = logging.getLogger(__name__)

FUNCTIONS = [
    # keep_result=0: a finished job leaves no result behind, so the sweep may queue a later attempt.
    func(sms_deliver, name=sms_delivery.DELIVER_TASK, keep_result=0, timeout=DELIVER_TIMEOUT_SECONDS, max_tries=3),
    func(coop_rollups_check, name="coop_rollups_check", timeout=CHECK_TIMEOUT_SECONDS, max_tries=1),
]


class CatchUpOnce(CronJob):
    """arq's cron job, queued once after an outage however many of its runs were missed.

    arq plans each run from the previous planned one: a worker that did not poll for a while (Redis
    away, the machine asleep) queued every missed run, one per poll, once it polled again: after a
    night without Redis the SMS sweep ran thousands of times in a row, the hourly prunes once per
    hour missed, the nightly check (which locks card writers out on PostgreSQL when it repairs) once
    per night. Here the first missed run is queued (late) and the schedule goes on from now.
    """

    def calculate_next(self, prev_run: datetime) -> None:
        super().calculate_next(prev_run)
        now = runtime.get().clock.now().astimezone(prev_run.tzinfo)  # in the worker's zone (cron hours)
        if self.next_run is not None and self.next_run < now:  # missed too: skip to the next one to come
            super().calculate_next(now)


def _catch_up_once(job: CronJob) -> CatchUpOnce:
    return CatchUpOnce(**{f.name: getattr(job, f.name) for f in fields(job)})


def cron_jobs() -> list[CronJob]:
    """Fresh schedule objects for each worker (arq keeps the next run time in them)."""
    return [_catch_up_once(job) for job in _schedule()]


def _schedule() -> list[CronJob]:
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
        cron(
            planner_statistics,
            name="cron:planner_statistics",
            hour={OPTIMIZE_HOUR},
            minute={OPTIMIZE_MINUTE},
            second={0},
            timeout=OPTIMIZE_TIMEOUT_SECONDS,
            max_tries=1,
        ),
        cron(sms_params_clear, name="cron:sms_params_clear", minute={CLEAR_MINUTE}, second={0}, timeout=300),
        cron(ended_sessions_prune, name="cron:ended_sessions_prune", minute={FORGET_MINUTE}, second={0}, timeout=300),
        cron(
            review_images_remove,
            name="cron:review_images_remove",
            hour={REMOVE_HOUR},
            minute={REMOVE_MINUTE},
            second={0},
            timeout=300,
        ),
    ]


MAX_JOBS = 20
# Where a worker of its own finds the queue: the embedded Redis is only reachable inside the API process.
NEEDS_REDIS_URL = (
    "the embedded Redis lives in the API process: run `python -m backend serve --worker`, "
    "or set REDIS_URL to run the worker on its own"
)

# arq's margin over a job's timeout, for how long a started job's id stays taken (its in-progress key).
SMS_JOB_HOLD_SECONDS = DELIVER_TIMEOUT_SECONDS + 10


class JobWorker(Worker):
    """arq's worker, kept polling while Redis is away (a restart, a failover, a cut connection).

    arq lets a Redis error in its poll loop end the worker: the standalone process exited and the
    embedded one's task ended unnoticed, so nothing was delivered until someone restarted it. Here
    the poll is tried again until Redis answers, and a worker started while Redis is down waits for
    it; the SMS sweep then queues again what a restarted Redis lost, and a cron run missed meanwhile
    is queued once, late. Closing it while Redis is away logs and goes on.
    """

    redis_down = False

    async def main(self) -> None:
        # arq asks Redis about itself before its first poll: a Redis down at start-up ended the worker there.
        async for _ in poll(self.poll_delay_s):  # the pace of arq's own poll loop
            if await self._redis_answers():
                break
        await super().main()

    async def _redis_answers(self) -> bool:
        try:
            await self.pool.ping()
        except REDIS_ERRORS as exc:
            self._redis_failed(exc)
            return False
        self._redis_answered()
        return True

    def _redis_failed(self, exc: BaseException) -> None:
        if not self.redis_down:
            log.error("job worker: Redis unreachable (%r); trying again every poll", exc)
        self.redis_down = True

    def _redis_answered(self) -> None:
        if self.redis_down:
            log.warning("job worker: Redis reachable again")
            self.redis_down = False

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except REDIS_ERRORS as exc:
            self._redis_failed(exc)
            return
        self._redis_answered()

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        # arq takes a started job's id for the longest function's timeout (+10 s), the nightly check's
        # half hour, and never renews it: an SMS job abandoned before its claim (a worker killed, a cut
        # connection) kept its message from being delivered that long. Its id is taken for its own
        # timeout instead; a second start after that is harmless (the database claim is the lock).
        longest = self.in_progress_timeout_s
        try:
            for job_id in job_ids:
                sms_job = job_id.startswith(sms_delivery.JOB_ID_PREFIX.encode())
                self.in_progress_timeout_s = SMS_JOB_HOLD_SECONDS if sms_job else longest
                running = self.tasks.get(job_id.decode())
                try:
                    await super().start_jobs([job_id])
                except REDIS_ERRORS:
                    # arq takes a slot before asking Redis whether the job is free and gives it back only on
                    # its own answers: after a few cut connections no slot would be left to run a job.
                    if self.tasks.get(job_id.decode()) is running:
                        self._release_sem_dec_counter_on_complete()
                    raise
        finally:
            self.in_progress_timeout_s = longest

    async def close(self) -> None:
        try:
            await super().close()
        except REDIS_ERRORS as exc:
            # arq deletes its health key before it runs on_shutdown and closes its connections: a
            # Redis error there skipped both and reached the caller (the API's shutdown).
            log.warning("job worker: Redis unreachable at shutdown (%r); stopping without it", exc)
            if self._pool is not None:
                await asyncio.gather(*self.tasks.values(), return_exceptions=True)
                if self.on_shutdown:
                    await self.on_shutdown(self.ctx)
                await self._pool.aclose()
                self._pool = None


async def startup(ctx: dict[str, Any]) -> None:
    """Own process: connect the database and Redis. Inside the API they are already there."""
    log_privacy.install()  # also on arq's own handler when started as `arq jobs.worker.WorkerSettings`
    if ctx.get("embedded"):
        return
    retry = ctx["redis"].get_retry() if "redis" in ctx else None
    if isinstance(retry, WaitForRedis):  # arq's command: its queue connections wait for Redis from now on
        retry.wait_while(asyncio.current_task(), stop_without_redis=partial(shutdown, ctx))
    if "redis" in ctx:
        await give_read_timeout(ctx["redis"])
    if not logging.getLogger().handlers:  # arq's command configured its own logger only: ours were lost
        logging.getLogger("arq").propagate = False  # it has its handler; not each line twice
        log_privacy.configure()
    settings = Settings.from_env()
    if settings.redis_url is None:  # as `python -m jobs worker`: this Redis is not the API's
        raise ConfigError(NEEDS_REDIS_URL)
    await db.init_db(settings)  # on SQLite it opens the connection now, outside its lock (see there)
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
    options.setdefault("handle_signals", not embedded)
    return JobWorker(
        functions=FUNCTIONS,
        cron_jobs=cron_jobs() if schedule else None,
        redis_pool=sms_delivery.arq_redis(settings),
        on_startup=startup,
        on_shutdown=shutdown,
        burst=burst,
        ctx={"embedded": embedded},
        max_jobs=MAX_JOBS,
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


REDIS_WAIT_SECONDS = 1
# arq's RedisSettings has no read timeout to give its connections: a Redis that stopped answering held
# arq's command forever. Its worker's connections get this one at start-up (:func:`startup`), as
# ``sms_delivery.arq_redis`` gives the worker of ``python -m jobs``; its health check ends by then.
REDIS_READ_TIMEOUT_SECONDS = 5.0
HEALTH_CHECK_NO_REDIS = "health check failed: Redis does not answer ({}); is it running, and is REDIS_URL right?"
_T = TypeVar("_T")


def _in_health_check() -> bool:
    """Is this process ``arq jobs.worker.WorkerSettings --check``? (arq's command line is click's.)"""
    context = click.get_current_context(silent=True)
    return context is not None and context.command.name == "arq" and context.params.get("check") is True


def _health_check_failed(reason: str) -> None:
    # SystemExit leaves arq's connect loop (which catches Redis errors only) and the event loop: the
    # message on stderr, exit status 1, no traceback.
    raise SystemExit(HEALTH_CHECK_NO_REDIS.format(reason))


class _HelloInsideConnect:
    """A queue connection of arq's command that counts as made only once Redis has answered its hello
    (library name, database), which redis-py sends after the connect its retry policy wraps: a Redis
    that took the connection and answered nothing raised out of arq's poll loop, and the policy said
    "reachable again" on every connection it took. Inside the connect, it is waited for (and said
    so) as one that refuses connections."""

    async def _connect(self) -> None:
        await super()._connect()  # type: ignore[misc]
        await super().on_connect()  # type: ignore[misc]

    async def on_connect(self) -> None:
        """Done by :meth:`_connect`, inside the retry policy."""


class _TcpQueueConnection(_HelloInsideConnect, Connection):
    pass


class _UnixQueueConnection(_HelloInsideConnect, UnixDomainSocketConnection):
    pass


class _SslQueueConnection(_HelloInsideConnect, SSLConnection):
    pass


_QUEUE_CONNECTIONS: dict[type, type] = {
    Connection: _TcpQueueConnection,
    UnixDomainSocketConnection: _UnixQueueConnection,
    SSLConnection: _SslQueueConnection,
}


async def give_read_timeout(pool: Redis) -> None:
    """Give the connections arq opened without one (its own command's) the read timeout."""
    connections = pool.connection_pool
    if connections.connection_kwargs.get("socket_timeout") is not None:
        return  # ours (``python -m jobs``, the API's worker): it has one
    connections.connection_kwargs["socket_timeout"] = REDIS_READ_TIMEOUT_SECONDS
    connections.connection_class = _QUEUE_CONNECTIONS.get(connections.connection_class, connections.connection_class)
    await connections.disconnect()  # the one arq's start-up used: the next command opens a new one
    connections.reset()


class WaitForRedis(Retry):
    """redis-py's retry policy on the queue connections of ``arq jobs.worker.WorkerSettings``.

    arq's own worker class lets a Redis error in its poll loop end the worker (a restart, a
    failover, a cut connection), and with it the delivery of every SMS until someone restarted it.
    Once the worker has started (:func:`startup`), a command that finds Redis away is tried again
    every second until Redis answers, with one log line when it goes and one when it is back, as
    :class:`JobWorker` does. Before that (arq's own connect loop) a failure is raised at once, as
    without it.

    Once the worker's main task has ended (its shutdown) nothing is waited for either. arq's close()
    asks Redis before it runs the shutdown hook, and a failure there skipped the hook: the database
    stayed open, and on SQLite its connection's thread kept the process from ever exiting. The first
    failure then runs the hook; stopped (SIGTERM, SIGINT) the worker exits (status 0, as
    ``python -m jobs worker``), otherwise the error ends it.

    ``arq --check`` shares these settings, arq's million start-up tries included, and its
    connection has no read timeout: it waited for Redis forever. There a failure, or no answer
    within :data:`REDIS_READ_TIMEOUT_SECONDS`, ends it with a message and exit status 1.
    """

    __slots__ = ("_check_deadline", "_down", "_main", "_stop")

    def __init__(self) -> None:
        # OSError too: a refused connect reaches the policy as one (redis-py wraps it only afterwards).
        super().__init__(ConstantBackoff(REDIS_WAIT_SECONDS), 0, supported_errors=REDIS_ERRORS)
        self._main: asyncio.Task[Any] | None = None
        self._stop: Callable[[], Awaitable[None]] | None = None
        self._down = False
        self._check_deadline: asyncio.TimerHandle | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> WaitForRedis:
        return self  # redis-py copies it into every connection: one policy, one "Redis is away" state

    def wait_while(
        self, task: asyncio.Task[Any] | None, *, stop_without_redis: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Wait for Redis as long as ``task`` (the worker's main loop) runs; once it was stopped, a
        command that finds Redis away runs ``stop_without_redis`` (the shutdown hook) and exits."""
        self._main = task
        self._stop = stop_without_redis

    async def call_with_retry(self, do: Callable[[], Awaitable[_T]], fail: Callable[[Any], Awaitable[Any]]) -> _T:
        checking = self._main is None and _in_health_check()
        if checking and self._check_deadline is None:  # its first command: the whole check has this long
            no_answer = f"no answer in {REDIS_READ_TIMEOUT_SECONDS:g} s"
            self._check_deadline = asyncio.get_running_loop().call_later(
                REDIS_READ_TIMEOUT_SECONDS, _health_check_failed, no_answer
            )
        while True:
            try:
                result = await do()
            except self._supported_errors as exc:
                await fail(exc)  # drops the connection (a WATCH in progress raises WatchError here)
                if checking:
                    _health_check_failed(f"{type(exc).__name__}: {exc}")
                if self._main is None:
                    raise
                if self._main.done():
                    await self._stopped_without_redis(exc)
                    raise
                if not self._down:
                    log.error("job worker: Redis unreachable (%r); trying again every second", exc)
                    self._down = True
                await asyncio.sleep(REDIS_WAIT_SECONDS)
                continue
            if self._down:
                log.warning("job worker: Redis reachable again")
                self._down = False
            return result

    async def _stopped_without_redis(self, exc: BaseException) -> None:
        """The worker's main task has ended and Redis is away: run the shutdown hook arq's close() will
        skip; stopped (not failed: the error then ends the command), exit."""
        stop, self._stop = self._stop, None
        if stop is None or self._main is None:
            return
        log.warning("job worker: Redis unreachable at shutdown (%r); stopping without it", exc)
        await stop()
        if self._main.cancelled():  # a stop (SIGTERM, SIGINT)
            raise SystemExit(0)  # out of arq's close() and its command: nothing more to do without Redis


# arq's command connects before the start-up hook runs: it tries this often, a second apart, so that
# a worker started before Redis waits for it as :class:`JobWorker` does (arq gives up after five).
REDIS_CONNECT_TRIES = 1_000_000


def arq_redis_settings(url: str | None) -> RedisSettings:
    """Where ``arq jobs.worker.WorkerSettings`` finds the queue: ``REDIS_URL``, waited for. Without
    it, one try at arq's default address: :func:`startup` refuses to go on if anything answers there."""
    if not url:
        return RedisSettings(conn_retries=0)
    return replace(
        RedisSettings.from_dsn(url),
        conn_retries=REDIS_CONNECT_TRIES,
        conn_retry_delay=1,
        retry=WaitForRedis(),
        retry_on_error=list(REDIS_ERRORS),
    )


class WorkerSettings:
    """For ``arq jobs.worker.WorkerSettings`` (needs ``REDIS_URL``): the options of :func:`build`.

    arq's command builds its own worker class, not :class:`JobWorker`: it waits for Redis at start
    (:func:`arq_redis_settings`), once started whenever Redis goes away, and stopped meanwhile it
    exits without it (:class:`WaitForRedis`), but holds an abandoned SMS job's id for half an hour
    (``python -m jobs worker`` does not).
    """

    functions = FUNCTIONS
    cron_jobs = cron_jobs()
    on_startup = startup
    on_shutdown = shutdown
    ctx: dict[str, Any] = {"embedded": False}  # noqa: RUF012 (read by arq, never changed)
    max_jobs = MAX_JOBS  # as in build()
    keep_result = 0  # as in build()
    timezone = CHINA_TIME  # as in build()
    redis_settings = arq_redis_settings(os.environ.get("REDIS_URL"))
