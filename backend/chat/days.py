"""Days named in a question: "今天", "昨天", "上周", "最近7天", "12月1日", "2026-12-01",
"12月1日到12月3日". ``DAYS`` is the expression for an intent's pattern (no groups of its own);
``days_named`` turns what it matched into the first and last day, both included, counted from the
injected clock's day in China (the caller passes it)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from backend.chat import messages as msg
from backend.chat.parser import chinese_number

_COUNT = r"(?:[0-9]{1,3}|[一二两三四五六七八九十百]{1,4})"
_YEAR = r"(?:19|20)[0-9]{2}"
_ONE = (
    r"(?:今天|今日|昨天|昨日|前天|本周|这周|本星期|这个?星期|这个?礼拜|上周|上个?星期|上个?礼拜|本月|这个月|上个?月"
    rf"|(?:最近|近){_COUNT}天|{_COUNT}天(?:内|以内|之内)|(?:最近|近)一(?:周|个?星期)"
    rf"|(?:{_YEAR}年)?[0-9]{{1,2}}月[0-9]{{1,2}}[日号]|{_YEAR}[-/.][0-9]{{1,2}}[-/.][0-9]{{1,2}})"
)
_TO = r"\s*(?:到|至|~|～)\s*"
# The first characters any of them may start with: a name's other characters fail at once (the
# audit's patterns try the days after each length of a name).
_START = r"(?=[今昨前本这上最近0-9一二两三四五六七八九十百])"
DAYS = rf"{_START}{_ONE}(?:{_TO}{_ONE})?"
_SPLIT = re.compile(_TO)
_COUNTED = re.compile(rf"^(?:最近|近)?(?P<count>{_COUNT})天(?:内|以内|之内)?$")
_MONTH_DAY = re.compile(r"^(?:(?P<year>[0-9]{4})年)?(?P<month>[0-9]{1,2})月(?P<day>[0-9]{1,2})[日号]$")
_DATE = re.compile(r"^(?P<year>[0-9]{4})[-/.](?P<month>[0-9]{1,2})[-/.](?P<day>[0-9]{1,2})$")
_WEEK_WORDS = {"本周", "这周", "本星期", "这星期", "这个星期", "这礼拜", "这个礼拜"}
_LAST_WEEK_WORDS = {"上周", "上星期", "上个星期", "上礼拜", "上个礼拜"}
_NAMED = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}
LONGEST = 366  # "最近N天": at most a year and a day


def days_named(text: str, today: date) -> tuple[date, date] | None:
    """The first and last day ``text`` (what DAYS matched) names; None if it names no real day
    ("2月30日", "最近0天", a range that ends before it starts)."""
    parts = _SPLIT.split(text.strip())
    if len(parts) > 2:
        return None
    first = _one(parts[0], today)
    last = _one(parts[-1], today)
    if first is None or last is None or first[0] > last[1]:
        return None
    return first[0], last[1]


def _one(text: str, today: date) -> tuple[date, date] | None:
    if text in _NAMED:
        day = today - timedelta(days=_NAMED[text])
        return day, day
    monday = today - timedelta(days=today.weekday())
    if text in _WEEK_WORDS:
        return monday, today
    if text in _LAST_WEEK_WORDS:
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if text in ("本月", "这个月"):
        return today.replace(day=1), today
    if text in ("上月", "上个月"):
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if text in ("近一周", "最近一周", "近一星期", "最近一星期", "近一个星期", "最近一个星期"):
        return today - timedelta(days=6), today
    if counted := _COUNTED.match(text):
        count = chinese_number(counted["count"])
        if count is None or not 1 <= count <= LONGEST:
            return None
        return today - timedelta(days=count - 1), today
    found = _MONTH_DAY.match(text) or _DATE.match(text)
    if found is None:
        return None
    year = int(found["year"]) if found["year"] else today.year
    try:
        day = date(year, int(found["month"]), int(found["day"]))
    except ValueError:
        return None
    if not found["year"] and day > today:  # "12月25日" asked on 12月7日: last year's
        try:
            day = day.replace(year=year - 1)
        except ValueError:  # 2月29日 of a leap year, asked the year after
            return None
    return day, day


def say_days(first: date, last: date, today: date) -> str:
    """The days in words for a title: "今天", "昨天", "12月1日", "12月1日以来", "12月1日至12月3日"."""
    if first == last:
        return {today: msg.DAY_TODAY, today - timedelta(days=1): msg.DAY_YESTERDAY}.get(first) or _say(first, today)
    if last == today:
        return msg.DAYS_SINCE.format(first=_say(first, today))
    return msg.DAYS_BETWEEN.format(first=_say(first, today), last=_say(last, today))


def _say(day: date, today: date) -> str:
    if day.year == today.year:
        return msg.DAY_THIS_YEAR.format(month=day.month, day=day.day)
    return msg.DAY_OTHER_YEAR.format(year=day.year, month=day.month, day=day.day)
