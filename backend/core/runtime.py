"""The process-wide services that actions need: settings, clock, vault, Redis, password hasher.

Routes, jobs and the CLI install one Runtime at start; actions read it with :func:`get`. Tests
swap the clock for a :class:`~backend.core.clock.FrozenClock`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from redis.asyncio import Redis

from backend.core.clock import Clock
from backend.core.config import Settings
from backend.core.crypto import Vault
from backend.core.passwords import PasswordHasher


@dataclass
class Runtime:
    settings: Settings
    redis: Redis
    clock: Clock = field(default_factory=Clock)
    vault: Vault = field(init=False)
    hasher: PasswordHasher = field(init=False)

    def __post_init__(self) -> None:
        self.vault = Vault(self.settings.data_key, self.settings.index_key)
        self.hasher = PasswordHasher(self.settings.hash_workers)

    @staticmethod
    def token(nbytes: int = 32) -> str:
        return secrets.token_urlsafe(nbytes)


_current: Runtime | None = None


def install(runtime: Runtime) -> Runtime:
    global _current
    _current = runtime
    return runtime


def get() -> Runtime:
    if _current is None:
        raise RuntimeError("runtime not installed")
    return _current


async def shutdown() -> None:
    global _current
    if _current is not None:
        _current.hasher.close()
        await _current.redis.aclose()
        _current = None
