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
        assert reply["blocks"][0]["text"] == "您的角色不能进行这项操作。"


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
