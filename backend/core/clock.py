"""Injectable time, so tests of expiry and lockout move a clock instead of sleeping."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta, timezone

# Beijing time, all of China (no daylight saving): for what a user means by "today" or "this year".
CHINA_TIME = timezone(timedelta(hours=8), "UTC+8")


def china_minute(at: datetime) -> str:
    """A moment as a cadre reads it: the date and minute in China ("2026-12-07 14:05")."""
    return at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def minutes_until(moment: datetime, now: datetime) -> int:
    """Whole minutes from ``now`` to ``moment``, rounded up and at least 1 ("约 3 分钟后自动解锁")."""
    return max(1, math.ceil((moment - now).total_seconds() / 60))


class Clock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self) -> float:
        return time.time()

    def china_now(self) -> datetime:
        """The same moment in Beijing time (the year turns at 00:00 there, 16:00 UTC)."""
        return self.now().astimezone(CHINA_TIME)


class FrozenClock(Clock):
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def timestamp(self) -> float:
        return self._now.timestamp()

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
