"""Password hashing (Argon2id, off the event loop), temporary passwords and the password policy."""

from __future__ import annotations

import asyncio
import secrets
import string
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib import resources

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from backend.core import password_messages as msg

# OWASP's recommended minimum for Argon2id: m = 19 MiB, t = 2, p = 1.
MEMORY_KIB = 19 * 1024
ITERATIONS = 2
LANES = 1
MIN_LENGTH = 8
MAX_LENGTH = 32
SYMBOLS = "!@#$%^&*()-_=+[]{};:,.?/~"


def _kdf(salt: bytes) -> Argon2id:
    return Argon2id(salt=salt, length=32, iterations=ITERATIONS, lanes=LANES, memory_cost=MEMORY_KIB)


def hash_password_sync(password: str) -> str:
    return _kdf(secrets.token_bytes(16)).derive_phc_encoded(password.encode())


def verify_password_sync(password: str, encoded: str) -> bool:
    try:
        Argon2id.verify_phc_encoded(password.encode(), encoded)
    except (InvalidKey, ValueError):
        return False
    return True


class PasswordHasher:
    """Runs Argon2id in a small dedicated thread pool so a login storm cannot starve other requests."""

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="argon2")
        self._dummy = hash_password_sync(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._pool, hash_password_sync, password)

    async def verify(self, password: str, encoded: str | None) -> bool:
        """Verify; with no stored hash, spend the same time on a dummy hash and answer False."""
        target = encoded or self._dummy
        ok = await asyncio.get_running_loop().run_in_executor(self._pool, verify_password_sync, password, target)
        return ok and encoded is not None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def generate_temporary_password(length: int = 12) -> str:
    """A random one-time password that itself satisfies the policy (all four character classes)."""
    alphabet = string.ascii_letters + string.digits + "@#%+=?"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if _classes(candidate) == 4 and not _is_common(candidate):
            return candidate


def _classes(password: str) -> int:
    return sum(
        (
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("backend.core").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _is_common(password: str) -> bool:
    return password.lower() in _common_passwords()


def policy_problems(password: str, *, username: str = "", phone: str = "") -> list[str]:
    """Everything wrong with a new password, in Chinese; an empty list means it is acceptable."""
    problems: list[str] = []
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        problems.append(msg.LENGTH.format(low=MIN_LENGTH, high=MAX_LENGTH))
    if any(ord(c) < 32 or ord(c) > 126 for c in password):
        problems.append(msg.CHARSET)
    if _classes(password) < 3:
        problems.append(msg.CLASSES)
    lowered = password.lower()
    if username and len(username) >= 3 and username.lower() in lowered:
        problems.append(msg.CONTAINS_USERNAME)
    if phone and phone in password:
        problems.append(msg.CONTAINS_PHONE)
    if _is_common(password):
        problems.append(msg.COMMON)
    return problems
