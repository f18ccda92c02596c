"""Days named in a question (backend.chat.days), counted from a given day in China."""

from __future__ import annotations

import re
from datetime import date

import pytest

import backend.audit.chat  # noqa: F401  (registers the audit intent parsed below)
from backend.chat import parser
from backend.chat.days import DAYS, days_named, say_days
from backend.chat.parser import split_period
from backend.core.roles import Role
from tests.coops_helpers import blocks, chat, login_at, make_world
from tests.factories import login, make_account, make_tree

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


# ---- day forms cadres type that were read as a person's name ("没有找到这个人") ----------------


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("12/05", date(2026, 12, 5), date(2026, 12, 5)),
        ("12-05", date(2026, 12, 5), date(2026, 12, 5)),
        ("12.5", date(2026, 12, 5), date(2026, 12, 5)),
        ("12/25", date(2025, 12, 25), date(2025, 12, 25)),  # not yet this year: last year's
        ("20261205", date(2026, 12, 5), date(2026, 12, 5)),
        ("周一", TODAY, TODAY),  # Monday: this week's is today
        ("星期日", date(2026, 12, 6), date(2026, 12, 6)),  # this week's is still to come: last week's
        ("礼拜三", date(2026, 12, 2), date(2026, 12, 2)),
        ("上星期一", date(2026, 11, 30), date(2026, 11, 30)),
        ("上周日", date(2026, 12, 6), date(2026, 12, 6)),
        ("本周日", date(2026, 12, 13), date(2026, 12, 13)),  # asked for this week's: still to come
        ("大前天", date(2026, 12, 4), date(2026, 12, 4)),
        ("前三天", date(2026, 12, 5), TODAY),
        ("过去7天", date(2026, 12, 1), TODAY),
        ("11月", date(2026, 11, 1), date(2026, 11, 30)),
        ("十一月份", date(2026, 11, 1), date(2026, 11, 30)),
        ("2月份", date(2026, 2, 1), date(2026, 2, 28)),
        ("2024年2月", date(2024, 2, 1), date(2024, 2, 29)),
        ("今年", date(2026, 1, 1), TODAY),
        ("去年", date(2025, 1, 1), date(2025, 12, 31)),
        ("2025年", date(2025, 1, 1), date(2025, 12, 31)),
        ("最近一个月", date(2026, 11, 8), TODAY),
        ("近3个月", date(2026, 9, 8), TODAY),
        ("近两周", date(2026, 11, 24), TODAY),
        ("最近一年", date(2025, 12, 8), TODAY),
        ("12月1日以来", date(2026, 12, 1), TODAY),
        ("从12月1日到现在", date(2026, 12, 1), TODAY),
        ("12月1日至今", date(2026, 12, 1), TODAY),
        ("自12月1日起", date(2026, 12, 1), TODAY),
        ("十二月一日", date(2026, 12, 1), date(2026, 12, 1)),
        ("三月八号", date(2026, 3, 8), date(2026, 3, 8)),
        ("十二月三十一日", date(2025, 12, 31), date(2025, 12, 31)),
        ("二〇二五年十二月一日", date(2025, 12, 1), date(2025, 12, 1)),
        ("9999年12月31日", date(9999, 12, 31), date(9999, 12, 31)),  # far ahead: a day with no entries
        ("从11月到12月", date(2026, 11, 1), date(2026, 12, 31)),
    ],
)
def test_day_forms_typed_in_a_question_are_days(text, first, last):
    assert re.fullmatch(DAYS, text), text
    assert days_named(text, TODAY) == (first, last), text


@pytest.mark.parametrize(
    "text",
    [
        "最近100000天",  # refused as too long, not read as a person's name
        "最近13个月",
        "近两年",
        "12/32",
        "20261305",
        "十三月",
        "0000年1月1日",
        "9999年12月31日以来",  # "since" a day still to come
    ],
)
def test_day_forms_that_name_no_real_span_give_none(text):
    assert re.fullmatch(DAYS, text), text
    assert days_named(text, TODAY) is None


def test_a_range_whose_end_is_still_to_come_this_year_is_read_within_this_year():
    """ "1月1日到12月31日" typed on 1月5日 was refused as reversed: 12月31日 was taken as last year's."""
    early_january = date(2027, 1, 5)
    assert days_named("1月1日到12月31日", early_january) == (date(2027, 1, 1), date(2027, 12, 31))
    assert days_named("12月1日到1月10日", early_january) == (date(2026, 12, 1), date(2027, 1, 10))
    assert days_named("12月5日到12月10日", TODAY) == (date(2026, 12, 5), date(2026, 12, 10))
    assert days_named("12月25日到12月31日", TODAY) == (date(2025, 12, 25), date(2025, 12, 31))  # both last year's
    assert days_named("12月3日到12月1日", TODAY) is None  # still reversed either way


@pytest.mark.parametrize(
    ("name", "rest", "period"),
    [
        ("二〇二五年", "", "二〇二五年"),
        ("25年", "", "25年"),
        ("一季度", "", "一季度"),
        ("王家湾村第三季度的", "王家湾村", "第三季度"),
        ("上季度", "", "上季度"),
        ("年底", "", "年底"),
        ("截至目前", "", "截至目前"),
        ("截至目前王家湾村", "王家湾村", "截至目前"),
        ("去年底", "", "去年底"),
        ("2025年底王家湾村的", "王家湾村", "2025年底"),
        ("3月底", "", "3月底"),
        ("王家湾村", "王家湾村", None),
        ("万年村", "万年村", None),
    ],
)
def test_a_quarter_a_years_end_or_so_far_is_split_from_the_summarys_unit(name, rest, period):
    assert split_period(name) == (rest, period)


def test_day_forms_stay_quick_to_try_after_every_length_of_a_long_name():
    """DAYS is tried after each length of a name in the audit patterns: a long text that is no
    question must still fail at once."""
    pattern = re.compile(rf"^(?P<name>.{{1,20}}?)(?:最近|(?P<when>{DAYS}))?的操作记录$")
    text = "一二三四五六七八九十" * 3 + "1月2日3/4.5" * 20
    assert pattern.search(text) is None


@pytest.mark.parametrize(
    ("text", "params"),
    [
        ("周一鸣的操作记录", {"name": "周一鸣"}),  # 周 is a surname: no Monday of a person "鸣"
        ("周天宇的操作记录", {"name": "周天宇"}),
        ("zhang19900101的操作记录", {"name": "zhang19900101"}),  # digits in a login name are no day
        ("abc12.5的操作记录", {"name": "abc12.5"}),
        ("王建国周一的操作记录", {"name": "王建国", "when": "周一"}),
        ("周一的登录记录", {"when": "周一", "login": "登录"}),
        ("周一到周三的操作记录", {"when": "周一到周三"}),
        ("周日有人登录失败吗", {"when": "周日", "login": "登录", "failed": "失败"}),
        ("上周一王建国的操作记录", {"when_first": "上周一", "name": "王建国"}),
    ],
)
def test_a_weekday_or_digits_that_begin_a_name_stay_in_the_name(text, params):
    assert parser.parse(text) == parser.Parsed("audit.recent", params)


# ---- end to end: the audit question answers these days (the clock: Monday 2026-01-05, China) ------


def _table(reply: dict) -> dict:
    [table] = blocks(reply, "table")
    return table


async def test_day_forms_typed_to_the_audit_log_answer_its_entries_not_no_such_person(client):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    await make_account("wjg01", tree.child, role=Role.CLERK)
    await login(client, "wjg01")  # today, Monday 1月5日
    headers = await login(client, "town_admin")
    asked = [
        "1/5的操作记录",
        "01-05的操作记录",
        "1.5的操作记录",
        "20260105的操作记录",
        "周一的操作记录",
        "一月五日的操作记录",
        "一月份的登录记录",
        "前三天的操作记录",
        "今年的操作记录",
        "最近一个月的操作记录",
        "近两周的登录记录",
        "1月1日以来的操作记录",
        "从1月1日到现在的操作记录",
        "测试wjg01周一的操作记录",
        "1月1日到12月31日的操作记录",  # early January: this year's 12月31日
    ]
    for text in asked:
        table = _table(await chat(client, headers, text))
        assert ["登录", "测试wjg01", "成功"] in [row[1:] for row in table["rows"]], text
    assert _table(await chat(client, headers, "1月1日到12月31日的操作记录"))["title"] == "1月1日至12月31日的操作记录"
    for text, notice in [
        ("上星期一的操作记录", "没有2025年12月29日的操作记录。"),
        ("大前天的操作记录", "没有1月2日的操作记录。"),
        ("9999年12月31日的操作记录", "没有9999年12月31日的操作记录。"),
    ]:
        reply = await chat(client, headers, text)
        assert not blocks(reply, "table") and blocks(reply, "notice")[0]["text"] == notice, text
    too_long = await chat(client, headers, "最近100000天的操作记录")
    assert not blocks(too_long, "table") and "日期" in blocks(too_long, "notice")[0]["text"]


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("二〇二五年汇总", "2025年"),  # a year in Chinese digits is read as its digits
        ("25年汇总", "25年"),
        ("一季度汇总", "一季度"),
        ("年底汇总", "年底"),
        ("截至目前汇总", "截至目前"),
        ("去年底的汇总", "去年底"),
    ],
)
async def test_a_summary_asked_for_a_quarter_or_so_far_says_figures_are_not_kept_by_period(client, text, period):
    """These were taken as a unit's name ("二〇二五年", "去年底" -> unit "底")."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, text)
    assert [b["title"] for b in blocks(reply, "card")] == ["白沙镇合作社汇总"], reply
    assert f"“{period}”" in blocks(reply, "notice")[0]["text"]
