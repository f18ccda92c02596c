"""Days named in a question: "今天", "昨天", "大前天", "上周", "周一", "上星期三", "最近7天", "近两周",
"最近一个月", "11月", "今年", "2025年", "12月1日", "十二月一日", "2026-12-01", "12/05", "20261205",
"12月1日到12月3日", "12月1日以来", "从12月1日到现在". ``DAYS`` is the expression for an intent's
pattern (no groups of its own); ``days_named`` turns what it matched into the first and last day,
both included, counted from the injected clock's day in China (the caller passes it)."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from backend.chat import messages as msg
from backend.chat.parser import YEAR_DIGITS, chinese_number

_COUNT = r"(?:[0-9]+|[一二两三四五六七八九十百]{1,4})"
_YEAR = r"(?:[0-9]{4}|[〇零一二三四五六七八九]{4})"  # any year: "9999年" is a day with no entries
_NUMBER = r"(?:[0-9]{1,2}|[一二三四五六七八九十]{1,3})"  # a month or a day of it: "12", "十二", "三十一"
_RECENT = r"(?:最近|近|前|过去)"  # "最近7天", "前三天", "过去一周": the last N days up to today
_WITHIN = r"(?:内|以内|之内)"  # "30天内"
_UNIT = r"(?:天|日|周|个?星期|个?礼拜|个?月|年)"
# "周一", "上星期三", "这周日". 周 is a surname too: a bare weekday is one only before what may
# follow a day in a question (周一鸣, 周天宇 are names).
_WEEKDAY = (
    r"(?:(?:本|这个?|上个?)(?:周|星期|礼拜)[一二三四五六日天]"
    r"|(?:周|星期|礼拜)[一二三四五六日天](?=[的到至~～以之起开登有谁操审日记都做干\s]|$))"
)
_ONE = (
    rf"(?:{_WEEKDAY}|今天|今日|昨天|昨日|大前天|前天|本周|这周|本星期|这个?星期|这个?礼拜|上周|上个?星期|上个?礼拜"
    rf"|本月|这个月|上个?月|今年|本年度?|去年|前年"
    rf"|{_RECENT}{_COUNT}{_UNIT}{_WITHIN}?|{_COUNT}(?:天|日|周|个?星期|个?礼拜|个月){_WITHIN}"
    rf"|(?:{_YEAR}年)?{_NUMBER}月(?:{_NUMBER}[日号]|份)?|{_YEAR}年度?"
    # digits only: not the end of a login name's ("zhang19900101")
    r"|(?<![0-9A-Za-z])(?:[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}|[0-9]{1,2}[-/.][0-9]{1,2}|[0-9]{8}))"
)
_TO = r"\s*(?:到|至|~|～)\s*"
_NOW = r"(?:现在|目前|今)(?:为止)?"  # "到现在", "至今": up to today
_SINCE = r"(?:以来|以后|之后|起|开始)"  # "12月1日以来": from that day up to today
# The first characters any of them may start with: a name's other characters fail at once (the
# audit's patterns try the days after each length of a name).
_START = r"(?=[今昨前大本这上去最近过从自周星礼0-9〇零一二两三四五六七八九十百])"
DAYS = rf"{_START}(?:从|自)?{_ONE}(?:{_TO}(?:{_ONE}|{_NOW})|{_SINCE})?"
_SPLIT = re.compile(_TO)
_FROM = re.compile(r"^(?:从|自)")
_SINCE_END = re.compile(rf"{_SINCE}$")
_COUNTED = re.compile(
    rf"^(?P<recent>{_RECENT})?(?P<count>{_COUNT})个?(?P<unit>天|日|周|星期|礼拜|月|年)(?P<within>{_WITHIN})?$"
)
_WEEKDAY_NAMED = re.compile(r"^(?P<week>本|这个?|上个?)?(?:周|星期|礼拜)(?P<day>[一二三四五六日天])$")
_MONTH_DAY = re.compile(rf"^(?:(?P<year>{_YEAR})年)?(?P<month>{_NUMBER})月(?:(?P<day>{_NUMBER})[日号]|份)?$")
_DATE = re.compile(r"^(?:(?P<year>[0-9]{4})[-/.])?(?P<month>[0-9]{1,2})[-/.](?P<day>[0-9]{1,2})$")
_PACKED_DATE = re.compile(r"^(?P<year>[0-9]{4})(?P<month>[0-9]{2})(?P<day>[0-9]{2})$")
_YEAR_NAMED = re.compile(rf"^(?P<year>{_YEAR})年度?$")
_WEEK_WORDS = {"本周", "这周", "本星期", "这星期", "这个星期", "这礼拜", "这个礼拜"}
_LAST_WEEK_WORDS = {"上周", "上星期", "上个星期", "上礼拜", "上个礼拜"}
_NAMED = {"今天": 0, "今日": 0, "现在": 0, "目前": 0, "今": 0, "昨天": 1, "昨日": 1, "前天": 2, "大前天": 3}
_YEARS_BACK = {"今年": 0, "本年": 0, "本年度": 0, "去年": 1, "前年": 2}
_WEEKDAYS = "一二三四五六日"
LONGEST = 366  # "最近N天", "最近N个月": at most a year and a day


def days_named(text: str, today: date) -> tuple[date, date] | None:
    """The first and last day ``text`` (what DAYS matched) names; None if it names no real day
    ("2月30日", "最近0天", a range that ends before it starts, "以来" a day still to come)."""
    text = text.strip()
    since = _FROM.match(text) is not None or _SINCE_END.search(text) is not None
    parts = _SPLIT.split(_SINCE_END.sub("", _FROM.sub("", text)))
    if len(parts) > 2:
        return None
    first = _one(parts[0], today)
    if len(parts) == 1 and since:  # "12月1日以来", "从12月1日": up to today
        return (first[0], today) if first is not None and first[0] <= today else None
    end = parts[-1].removesuffix("为止")
    last = _one(end, today)
    if first is not None and last is not None and first[0] > last[1]:
        # "1月1日到12月31日" asked in January: the end is this year's, still to come
        last = _one(end, today, back=False)
    if first is None or last is None or first[0] > last[1]:
        return None
    return first[0], last[1]


def _one(text: str, today: date, *, back: bool = True) -> tuple[date, date] | None:
    """The first and last day of one day or span; ``back``: a day named without its year (or week)
    that is still to come this year is last year's ("12月25日" asked on 12月7日)."""
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
    if text in _YEARS_BACK:
        year = today.year - _YEARS_BACK[text]
        return date(year, 1, 1), today if year == today.year else date(year, 12, 31)
    if weekday := _WEEKDAY_NAMED.match(text):
        day = monday + timedelta(days=_WEEKDAYS.index(weekday["day"].replace("天", "日")))
        if weekday["week"] and weekday["week"].startswith("上"):
            day -= timedelta(days=7)
        elif not weekday["week"] and back and day > today:  # "周日" asked on Monday: yesterday
            day -= timedelta(days=7)
        return day, day
    counted = _COUNTED.match(text)
    if counted and (counted["recent"] or counted["within"]):  # not "11月", "2025年"
        return _counted(counted, today)
    return _calendar(text, today, back=back)


def _counted(counted: re.Match[str], today: date) -> tuple[date, date] | None:
    """ "最近7天", "近两周", "最近一个月": the days up to today, at most LONGEST."""
    count = chinese_number(counted["count"])
    if count is None or not 1 <= count <= LONGEST:
        return None
    unit = counted["unit"]
    if unit in ("天", "日"):
        first = today - timedelta(days=count - 1)
    elif unit in ("周", "星期", "礼拜"):
        first = today - timedelta(days=7 * count - 1)
    else:  # the same day N months (a year: 12) before, and the day after it
        months = today.year * 12 + today.month - 1 - count * (12 if unit == "年" else 1)
        year, month = divmod(months, 12)
        if year < 1:
            return None
        day = min(today.day, calendar.monthrange(year, month + 1)[1])
        first = date(year, month + 1, day) + timedelta(days=1)
    return (first, today) if (today - first).days < LONGEST else None


def _calendar(text: str, today: date, *, back: bool) -> tuple[date, date] | None:
    """A day, a month or a year named by its number: "12月1日", "十一月份", "2025年", "12/05"."""
    if named := _YEAR_NAMED.match(text):
        return _span(_year(named["year"]), None, None)
    found = _MONTH_DAY.match(text) or _DATE.match(text) or _PACKED_DATE.match(text)
    if found is None:
        return None
    year = _year(found["year"]) if found["year"] else today.year
    month = chinese_number(found["month"])
    day = chinese_number(found["day"]) if found["day"] else None
    if month is None or (found["day"] and day is None):
        return None
    span = _span(year, month, day)
    if span is not None and not found["year"] and back and span[0] > today:  # "12月25日" on 12月7日
        return _span(year - 1, month, day)  # last year's; None: 2月29日 asked the year after a leap year
    return span


def _span(year: int, month: int | None, day: int | None) -> tuple[date, date] | None:
    """The first and last day of a year, of a month of it or the day; None: there is no such day."""
    try:
        if month is None:
            return date(year, 1, 1), date(year, 12, 31)
        if day is None:
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        return date(year, month, day), date(year, month, day)
    except ValueError:  # "2月30日", "13月", year 0
        return None


def _year(text: str) -> int:
    """A year in digits or in Chinese digits ("二〇二五")."""
    return int(text.translate(YEAR_DIGITS))


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
