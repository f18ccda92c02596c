"""Days named in a question (backend.chat.days), counted from a given day in China."""

from __future__ import annotations

import re
from datetime import date

import pytest

from backend.chat.days import DAYS, days_named, say_days

TODAY = date(2026, 12, 7)  # a Monday


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("今天", TODAY, TODAY),
        ("昨日", date(2026, 12, 6), date(2026, 12, 6)),
        ("前天", date(2026, 12, 5), date(2026, 12, 5)),
        ("本周", TODAY, TODAY),  # Monday: the week began today
        ("上周", date(2026, 11, 30), date(2026, 12, 6)),
        ("上个星期", date(2026, 11, 30), date(2026, 12, 6)),
        ("本月", date(2026, 12, 1), TODAY),
        ("上个月", date(2026, 11, 1), date(2026, 11, 30)),
        ("最近7天", date(2026, 12, 1), TODAY),
        ("近三天", date(2026, 12, 5), TODAY),
        ("30天内", date(2026, 11, 8), TODAY),
        ("最近一周", date(2026, 12, 1), TODAY),
        ("12月1日", date(2026, 12, 1), date(2026, 12, 1)),
        ("12月25号", date(2025, 12, 25), date(2025, 12, 25)),  # not yet this year: last year's
        ("2025年3月8日", date(2025, 3, 8), date(2025, 3, 8)),
        ("2026-11-02", date(2026, 11, 2), date(2026, 11, 2)),
        ("2026/11/2", date(2026, 11, 2), date(2026, 11, 2)),
        ("12月1日到12月3日", date(2026, 12, 1), date(2026, 12, 3)),
        ("上个月至今天", date(2026, 11, 1), TODAY),
    ],
)
def test_a_day_or_a_range_named_in_words_or_digits_gives_its_first_and_last_day(text, first, last):
    assert re.fullmatch(DAYS, text), text
    assert days_named(text, TODAY) == (first, last)


@pytest.mark.parametrize("text", ["2月30日", "13月1日", "最近0天", "最近999天", "12月3日到12月1日", "2026-02-29"])
def test_what_names_no_real_day_gives_none(text):
    assert re.fullmatch(DAYS, text), text
    assert days_named(text, TODAY) is None


def test_february_29th_asked_the_year_after_a_leap_year_names_no_day_rather_than_fail():
    assert days_named("2月29日", date(2028, 2, 28)) is None  # 2028's is still to come; 2027 had none
    assert days_named("2月29日", date(2028, 3, 1)) == (date(2028, 2, 29), date(2028, 2, 29))


def test_the_days_in_a_title_read_as_a_cadre_would_say_them():
    assert say_days(TODAY, TODAY, TODAY) == "今天"
    assert say_days(date(2026, 12, 6), date(2026, 12, 6), TODAY) == "昨天"
    assert say_days(date(2026, 12, 1), TODAY, TODAY) == "12月1日以来"
    assert say_days(date(2025, 12, 1), date(2025, 12, 3), TODAY) == "2025年12月1日至2025年12月3日"
