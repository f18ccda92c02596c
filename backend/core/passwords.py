"""Password hashing (Argon2id, off the event loop), temporary passwords and the password policy."""

from __future__ import annotations

import asyncio
import re
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


# Digits and symbols added at either end ("Password1!", "@Admin888"), the usual way a common word is
# made to pass a character-class rule.
_ENDS = re.compile(r"^[^a-z]+|[^a-z]+$")
# Look-alike swaps ("P@ssw0rd"); "1" and "!" stand for "i" or "l".
_LOOK_ALIKES = (str.maketrans("@40$53!71", "aaosseitl"), str.maketrans("@40$53!71", "aaosseiti"))
# Keyboard rows and columns, the alphabet and the zig-zags typed on them; a run of 3 or more along
# one, either way, is a walk ("qaz" + "wsx", "zaq1" + "2wsx", "asdfgh").
_WALKS = (
    "1234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "abcdefghijklmnopqrstuvwxyz",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "qawsedrftgyhujikolp",
    "a1b2c3d4e5f6g7h8i9",
)
_WALK_CHUNKS = frozenset(
    run[start : start + size]
    for walk in _WALKS
    for run in (walk, walk[::-1])
    for size in range(3, len(walk) + 1)
    for start in range(len(run) - size + 1)
)


def _is_walk(text: str) -> bool:
    """Is ``text`` made only of keyboard walks and runs of one repeated character ("qazwsx",
    "qq123456", "aa111111")? A lone character is not."""
    done = [True] + [False] * len(text)  # done[i]: text[:i] splits into walks and runs
    for end in range(2, len(text) + 1):
        done[end] = any(
            done[start] and (text[start:end] in _WALK_CHUNKS or len(set(text[start:end])) == 1)
            for start in range(end - 1)
        )
    return done[-1]


def _is_common(password: str) -> bool:
    """Listed as it is, or its base listed: lower case, digits and symbols off both ends, look-alikes
    swapped back ("Password1!", "@Adm1n888"); or nothing but keyboard walks and repeated characters,
    symbols aside ("QAZwsx123", "1qaz@WSX", "Aa111111"). A base of one or two letters is judged with
    what surrounds it: "Li@82736451" passes, "Qq123456" and "5201314Aa!" do not."""
    listed = _common_passwords()
    lowered = password.lower()
    if lowered in listed:
        return True
    core = _ENDS.sub("", lowered)
    if len(core) >= 3:
        forms = {core, *(core.translate(swaps) for swaps in _LOOK_ALIKES)}
        if any(form in listed or _is_walk(form) for form in forms):
            return True
    else:  # one or two letters added to a number: the number decides ("5201314Aa!")
        number = "".join(c for c in lowered.replace(core, "", 1) if c.isalnum())
        if number in listed:
            return True
    bare = "".join(c for c in lowered if c.isalnum())
    bare_core = _ENDS.sub("", bare)
    return _is_walk(bare) or (len(bare_core) >= 3 and _is_walk(bare_core))


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
