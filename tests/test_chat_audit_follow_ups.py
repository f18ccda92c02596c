"""A day typed alone after the audit list ("昨天", "前天的呢", "本月") narrows that list; "今天有几个人登录"
counts the day's logins. Both were looked up as names ("没有找到“昨天”")."""

from __future__ import annotations

import pytest

from backend.core import runtime
from backend.core.roles import Role
from tests.coops_helpers import blocks, chat
from tests.factories import login, login_response, make_account, make_tree


def _table(reply: dict) -> dict:
    [table] = blocks(reply, "table")
    return table


async def _three_days(client) -> tuple[dict[str, str], object]:
    """Day 1: one login of wjg01; day 2: two of wjg01 and one failure; day 3 (today): the admin's."""
    clock = runtime.get().clock
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    await make_account("wjg01", tree.child, role=Role.CLERK)
    await make_account("bs02", tree.own, role=Role.CLERK)
    await login(client, "wjg01")
    clock.advance(24 * 3600)
    await login(client, "wjg01")
    await login(client, "wjg01")
    await login_response(client, "bs02", "Wrong#pass1")
    clock.advance(24 * 3600)
    return await login(client, "town_admin"), tree


@pytest.mark.parametrize("typed", ["昨天", "昨天呢", "昨天的", "那昨天呢"])
async def test_a_day_typed_alone_after_the_log_narrows_the_list_shown(client, typed):
    headers, _ = await _three_days(client)
    assert len(_table(await chat(client, headers, "操作记录"))["rows"]) == 5
    yesterday = _table(await chat(client, headers, typed))
    assert yesterday["title"] == "昨天的操作记录", typed
    assert len(yesterday["rows"]) == 3


async def test_days_typed_one_after_another_keep_the_subject_of_the_list(client):
    """The person or the logins of the list stay; only the days change ("前天的呢" after "昨天")."""
    headers, _ = await _three_days(client)
    first = _table(await chat(client, headers, "测试wjg01的操作记录"))
    assert len(first["rows"]) == 3
    yesterday = _table(await chat(client, headers, "昨天"))
    assert yesterday["title"] == "测试wjg01昨天的操作记录" and len(yesterday["rows"]) == 2
    before = _table(await chat(client, headers, "前天的呢"))
    assert before["title"] == "测试wjg011月5日的操作记录" and len(before["rows"]) == 1
    failed = _table(await chat(client, headers, "登录失败记录"))
    assert len(failed["rows"]) == 1
    none_today = await chat(client, headers, "今天")
    assert blocks(none_today, "notice")[0]["text"] == "没有今天的登录失败记录。"
    month = _table(await chat(client, headers, "本月"))  # the clock's days are 1月5日 to 1月7日
    assert month["title"] == "1月1日以来的登录失败记录" and len(month["rows"]) == 1


@pytest.mark.parametrize(
    ("typed", "said"),
    [("上个月", "没有2025年12月1日至2025年12月31日的操作记录。"), ("12月1日", "没有2025年12月1日的操作记录。")],
)
async def test_a_month_or_a_date_typed_alone_after_the_log_is_its_entries(client, typed, said):
    headers, _ = await _three_days(client)
    await chat(client, headers, "操作记录")
    assert blocks(await chat(client, headers, typed), "notice")[0]["text"] == said


async def test_a_day_typed_alone_without_the_log_shown_is_still_a_name(client):
    headers, _ = await _three_days(client)
    await chat(client, headers, "王家湾村")
    reply = await chat(client, headers, "昨天")
    assert not blocks(reply, "table") and blocks(reply, "notice")[0]["text"].startswith("没有找到“昨天”")


async def test_todays_successful_logins_are_counted_by_person_in_scope(client):
    headers, tree = await _three_days(client)
    runtime.get().clock.advance(60)
    await login(client, "wjg01")
    await login(client, "wjg01")
    await login_response(client, "bs02", "Wrong#pass1")  # a failure: not a login
    await make_account("taoyuan", tree.sibling, role=Role.CLERK)
    await login(client, "taoyuan")  # another township's: out of scope
    headers = await login(client, "town_admin")
    for typed in ("今天有几个人登录", "今天有多少人登录了", "今天登录了几个人", "今天登录人数"):
        reply = await chat(client, headers, typed)
        [said] = blocks(reply, "notice")
        assert said["text"] == "今天有 2 人登录（共 4 次）。", typed
    yesterday = blocks(await chat(client, headers, "昨天有几个人登录"), "notice")[0]
    assert yesterday["text"] == "昨天有 1 人登录（共 2 次）。"
    reply = await chat(client, headers, "今天有几个人登录")
    button = reply["suggestions"][0]["action"]  # the day's logins, a tap away
    listed = _table(await chat(client, headers, intent=button["intent"], params=button["params"]))
    assert listed["title"] == "今天的登录记录" and len(listed["rows"]) == 5  # the failure too
    await make_account("bs_viewer", tree.own, role=Role.VIEWER)
    refused = await chat(client, await login(client, "bs_viewer"), "今天有几个人登录")
    assert blocks(refused, "notice")[0]["text"].startswith("您的角色不能进行这项操作。")
