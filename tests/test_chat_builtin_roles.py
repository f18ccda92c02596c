"""The chat's own answers by who asks: help lists what the role may do, and "切换单位" names the
account's units and where to switch (a viewer was shown 操作记录 and 新建账号; "切换单位" and
"换到张家冲村" were looked up as names)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from backend.accounts.models import Membership
from backend.core.roles import Role
from backend.units.models import UnitType
from tests.coops_helpers import blocks, chat
from tests.factories import login_response, make_account, make_tree, make_unit


async def _headers_in(client, username: str, unit_id: int) -> dict[str, str]:
    """Log in an account of several units and choose ``unit_id``."""
    body = (await login_response(client, username)).json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    chosen = next(u for u in body["units"] if u["unit_id"] == unit_id)
    response = await client.post("/api/session/unit", json={"membership_id": chosen["id"]}, headers=headers)
    assert response.status_code == 200, response.text
    return headers


ROOT = Path(__file__).resolve().parent.parent


async def _help(client, role: Role) -> str:
    tree = await make_tree()
    await make_account(f"help_{role.value}", tree.own, role=role)
    body = (await login_response(client, f"help_{role.value}")).json()
    reply = await chat(client, {"Authorization": f"Bearer {body['token']}"}, "帮助")
    [said] = blocks(reply, "text")
    return said["text"]


@pytest.mark.parametrize(
    ("role", "shown", "not_shown"),
    [
        (
            Role.VIEWER,
            ("王家湾", "汇总", "下级单位", "更多"),
            ("操作记录", "新建账号", "信息卡", "经办人", "身份证号", "有哪些人", "待审核", "注册审批"),
        ),
        (
            Role.CLERK,
            ("王家湾", "汇总", "信息卡"),
            ("操作记录", "新建账号", "经办人", "身份证号", "有哪些人", "待审核", "注册审批"),
        ),
        (
            Role.ADMIN,
            ("王家湾", "信息卡", "操作记录", "新建账号", "经办人", "身份证号", "有哪些人", "待审核", "注册审批"),
            ("录入员和管理员",),
        ),
    ],
)
async def test_help_shows_each_role_only_what_it_may_do(client, role, shown, not_shown):
    text = await _help(client, role)
    assert text.startswith("可以这样问我")
    for word in shown:
        assert word in text, (role, word)
    for word in not_shown:
        assert word not in text, (role, word)


async def _two_units(client) -> tuple[dict[str, str], int, int]:
    """demo_agent's case: a clerk of 李家坪村 and of 张家冲村, working for 李家坪村."""
    tree = await make_tree()
    lijiaping = await make_unit("李家坪村", UnitType.VILLAGE, tree.own, region_code="530101001002")
    zhangjiachong = await make_unit("张家冲村", UnitType.VILLAGE, tree.sibling, region_code="530101002001")
    account = await make_account("agent2", lijiaping, role=Role.CLERK)
    await Membership.create(
        account_id=account.id, unit_id=zhangjiachong.id, role=Role.CLERK, created_at=account.created_at
    )
    return await _headers_in(client, "agent2", lijiaping.id), lijiaping.id, zhangjiachong.id


@pytest.mark.parametrize("typed", ["切换单位", "我要切换单位", "怎么切换单位", "换个单位", "切换到别的单位"])
async def test_switching_unit_in_chat_names_the_units_held_and_where_to_switch(client, typed):
    headers, _, _ = await _two_units(client)
    reply = await chat(client, headers, typed)
    [said] = blocks(reply, "text")
    assert said["text"] == (
        "您有 2 个单位：李家坪村（现在的单位）、张家冲村。切换单位：点输入框旁的“我的”，再点“切换单位”选择。"
    ), typed


@pytest.mark.parametrize("typed", ["换到张家冲村", "切换到张家冲村", "切换到张家冲"])
async def test_switching_to_a_unit_held_says_how_to_get_there(client, typed):
    headers, _, _ = await _two_units(client)
    [said] = blocks(await chat(client, headers, typed), "text")
    assert said["text"] == "张家冲村是您的另一个单位。要换过去，请点输入框旁的“我的”，再点“切换单位”，选择张家冲村。"
    [here] = blocks(await chat(client, headers, "换到李家坪村"), "text")
    assert here["text"] == "您现在就在李家坪村。"


async def test_a_unit_held_but_not_chosen_typed_alone_says_it_is_another_unit_of_yours(client):
    """ "张家冲村" typed in 李家坪村 said only "没有找到", with no word that she holds it too."""
    headers, _, _ = await _two_units(client)
    reply = await chat(client, headers, "张家冲村")
    [said] = blocks(reply, "notice")
    assert said["text"] == (
        "张家冲村不在李家坪村的范围内，它是您的另一个单位：要查看它，请点输入框旁的“我的”，再点“切换单位”选择张家冲村。"
    )


async def test_switching_with_one_unit_says_there_is_none_to_switch_to(client):
    tree = await make_tree()
    await make_account("only_one", tree.own, role=Role.VIEWER)
    body = (await login_response(client, "only_one")).json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    [said] = blocks(await chat(client, headers, "切换单位"), "text")
    assert said["text"] == "您只在白沙镇一个单位任职，不需要切换单位。"
    # a unit in scope named after 换到: its card, as a lookup
    reply = await chat(client, headers, "换到王家湾村")
    assert blocks(reply, "card")[0]["title"] == "王家湾村"


async def test_a_summary_of_a_unit_held_but_not_chosen_says_it_is_another_unit_of_yours(client):
    """ "张家冲村汇总" typed in 李家坪村 said "不在管辖范围", with no word that she holds it too."""
    headers, _, _ = await _two_units(client)
    for text in ("张家冲村汇总", "张家冲村的合作社"):
        [said] = blocks(await chat(client, headers, text), "notice")
        assert said["text"].startswith("张家冲村不在李家坪村的范围内，它是您的另一个单位"), text


def test_a_long_murmur_ending_in_something_else_is_read_at_once():
    """ "好" + "嗯" * 40 + "x" held a server worker: the thanks pattern's 嗯+ inside a repeated group
    backtracked exponentially (24 of them took seconds, 40 would take days). Parsed in a process of
    its own, which must finish (it takes milliseconds; the old pattern never would)."""
    script = (
        "from backend.chat import intents, parser; intents.load(); "
        "print(parser.parse('好' + '嗯' * 40 + 'x').intent, parser.parse('嗯嗯嗯').intent)"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    murmur, thanks = done.stdout.split()
    assert murmur != "chat.thanks" and thanks == "chat.thanks"
