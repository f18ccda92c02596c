"""The audit log asked in chat by an admin: "操作记录", "登录失败记录", "王建国的操作记录"."""

from __future__ import annotations

from backend.core.roles import Role
from tests.coops_helpers import blocks, chat
from tests.factories import login, login_response, make_account, make_tree


def _table(reply: dict) -> dict:
    [table] = blocks(reply, "table")
    return table


async def test_an_admin_reads_the_log_of_the_scope_newest_first_in_words(client):
    """ "操作记录" and "最近有人登录失败吗" were looked up as names ("没有找到")."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    await make_account("wjg01", tree.child, role=Role.CLERK)
    await make_account("taoyuan", tree.sibling, role=Role.CLERK)
    await login(client, "wjg01")
    await login_response(client, "wjg01", "Wrong#pass1")
    await login_response(client, "taoyuan", "Wrong#pass1")  # another township's: never shown
    headers = await login(client, "town_admin")
    table = _table(await chat(client, headers, "操作记录"))
    assert table["title"] == "操作记录" and table["columns"] == ["时间", "操作", "操作人", "结果"]
    assert [row[1:] for row in table["rows"]] == [
        ["登录", "测试town_admin", "成功"],
        ["登录", "测试wjg01", "失败"],
        ["登录", "测试wjg01", "成功"],
    ]
    assert all(len(row[0]) == len("01-05 16:00") for row in table["rows"])  # China time, month-day hour:minute
    for text in ("登录失败记录", "最近有人登录失败吗"):
        failed = _table(await chat(client, headers, text))
        assert failed["title"] == "登录失败记录" and [row[1:] for row in failed["rows"]] == [
            ["登录", "测试wjg01", "失败"]
        ]


async def test_one_persons_entries_and_paging_with_more(client):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    await make_account("wjg01", tree.child, role=Role.CLERK)
    for _ in range(11):
        await login(client, "wjg01")
    headers = await login(client, "town_admin")
    first = _table(await chat(client, headers, "wjg01的操作记录"))
    assert first["title"] == "测试wjg01的操作记录" and len(first["rows"]) == 10
    assert {row[2] for row in first["rows"]} == {"测试wjg01"} and first["more"]["intent"] == "audit.recent"
    second = _table(await chat(client, headers, "更多"))
    assert len(second["rows"]) == 1
    more = first["more"]
    tapped = _table(await chat(client, headers, intent=more["intent"], params=more["params"]))
    assert tapped["rows"] == second["rows"]


async def test_who_acted_from_above_is_not_named_and_other_roles_may_not_read_the_log(client):
    tree = await make_tree()
    await make_account("county_admin", tree.parent, role=Role.ADMIN)
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    clerk = await make_account("wjg01", tree.child, role=Role.CLERK, phone="13912345670")
    county = await login(client, "county_admin")
    reset = await client.post(f"/api/accounts/{clerk.id}/reset-password", headers=county)
    assert reset.status_code in (200, 204), reset.text
    headers = await login(client, "town_admin")
    rows = _table(await chat(client, headers, "操作记录"))["rows"]
    assert ["重置密码", "上级单位人员", "成功"] in [row[1:] for row in rows]
    assert "测试county_admin" not in str(rows)
    for role in (Role.CLERK, Role.VIEWER):
        await make_account(f"town_{role.value}", tree.own, role=role)
        other = await login(client, f"town_{role.value}")
        reply = await chat(client, other, "操作记录")
        assert not [b for b in reply["blocks"] if b["type"] == "table"]
        assert reply["blocks"][0]["text"].startswith("您的角色不能进行这项操作。")


async def test_a_units_entries_and_todays_are_asked_by_name_and_by_day(client):
    """ "王家湾村的操作记录" looked for a person named so, "今天的操作记录" showed every day's."""
    from backend.core import runtime

    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    await make_account("wjg01", tree.child, role=Role.CLERK)
    await login(client, "wjg01")  # an entry of the village
    headers = await login(client, "town_admin")  # one of the township itself
    village = _table(await chat(client, headers, "王家湾村的操作记录"))
    assert village["title"] == "王家湾村的操作记录"
    assert [row[1:] for row in village["rows"]] == [["登录", "测试wjg01", "成功"]]
    runtime.get().clock.advance(24 * 3600)  # the next day in China
    await login(client, "wjg01")
    headers = await login(client, "town_admin")
    today = _table(await chat(client, headers, "今天的操作记录"))
    assert today["title"] == "今天的操作记录" and len(today["rows"]) == 2
    assert len(_table(await chat(client, headers, "操作记录"))["rows"]) == 4
    logins = _table(await chat(client, headers, "王家湾村今天的登录记录"))
    assert logins["title"] == "王家湾村今天的登录记录" and len(logins["rows"]) == 1
    bad = await chat(client, headers, intent="audit.recent", params={"day": "yesterday"})
    assert not blocks(bad, "table") and blocks(bad, "notice")[0]["level"] == "warning"


async def test_entries_of_a_past_day_a_week_or_a_range_of_dates_are_asked_in_words(client):
    """Only "今天" was a day the audit question took: "昨天的操作记录" was looked up as a person."""
    from backend.core import runtime

    clock = runtime.get().clock
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    await make_account("wjg01", tree.child, role=Role.CLERK)
    first_day = clock.china_now().date()
    await login(client, "wjg01")  # day 1: one entry of the village
    clock.advance(24 * 3600)
    await login(client, "wjg01")  # day 2: two of the village
    await login(client, "wjg01")
    clock.advance(24 * 3600)
    headers = await login(client, "town_admin")  # day 3: one of the township
    day1 = f"{first_day.month}月{first_day.day}日"

    def rows(reply: dict) -> list[list[str]]:
        return [row[1:] for row in _table(reply)["rows"]]

    yesterday = _table(await chat(client, headers, "昨天的操作记录"))
    assert yesterday["title"] == "昨天的操作记录"
    assert [row[1:] for row in yesterday["rows"]] == [["登录", "测试wjg01", "成功"]] * 2
    assert len(rows(await chat(client, headers, "前天的登录记录"))) == 1
    named = _table(await chat(client, headers, f"{day1}的操作记录"))
    assert named["title"] == f"{day1}的操作记录" and len(named["rows"]) == 1
    assert len(rows(await chat(client, headers, first_day.isoformat() + "的操作记录"))) == 1
    assert len(rows(await chat(client, headers, "最近两天的操作记录"))) == 3
    assert len(rows(await chat(client, headers, "近3天的操作记录"))) == 4
    ranged = _table(await chat(client, headers, f"{day1}到昨天的操作记录"))
    assert ranged["title"].startswith(f"{day1}至") and len(ranged["rows"]) == 3
    failed = await chat(client, headers, "最近登录失败的")  # was looked up as a name
    assert blocks(failed, "notice")[0]["text"] == "没有登录失败记录。"
    for text in ("测试wjg01最近登录过吗", "测试wjg01上次登录是什么时候"):
        logins = _table(await chat(client, headers, text))
        assert logins["title"] == "测试wjg01的登录记录" and len(logins["rows"]) == 3, text
    nobody = await chat(client, headers, "测试town_admin昨天登录过吗")
    assert blocks(nobody, "notice")[0]["text"] == "没有测试town_admin昨天的登录记录。"
    person = _table(await chat(client, headers, "测试wjg01昨天的操作记录"))
    assert person["title"] == "测试wjg01昨天的操作记录" and len(person["rows"]) == 2
    assert len(rows(await chat(client, headers, "昨天测试wjg01的操作记录"))) == 2
    for text in ("2月30日的操作记录", "最近0天的操作记录", "昨天到前天的操作记录"):
        bad = await chat(client, headers, text)
        assert not blocks(bad, "table") and "日期" in blocks(bad, "notice")[0]["text"], text
    for params in ({"from_day": "2026-12-05", "to_day": "2026-12-01"}, {"from_day": "昨天", "to_day": "x"}):
        bad = await chat(client, headers, intent="audit.recent", params=params)
        assert not blocks(bad, "table") and blocks(bad, "notice")[0]["level"] == "warning", params


async def test_a_higher_role_of_the_readers_own_unit_is_not_named_in_the_log(client):
    """P2: the account pages hid the system admin of the admin's own unit; the log still named it."""
    tree = await make_tree()
    await make_account("town_sysadmin", tree.own, role=Role.SYSADMIN)
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    await login(client, "town_sysadmin")
    headers = await login(client, "town_admin")
    rows = [row[1:] for row in _table(await chat(client, headers, "操作记录"))["rows"]]
    assert ["登录", "上级单位人员", "成功"] in rows and "测试town_sysadmin" not in str(rows)
