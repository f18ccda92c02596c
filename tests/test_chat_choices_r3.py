"""What was just shown, referred to by typing: "第二个", "最后一个", "是的" after a list or a question
of buttons (the button's own path, checks and all); "她的操作记录", "重置她的密码" after a person's card."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backend.accounts.models import Account, Membership
from backend.chat import choices
from backend.core import runtime
from backend.core.roles import Role
from backend.units.models import Unit, UnitType
from tests.factories import login, make_account, make_tree, make_unit
from tests.test_chat_accounts import admin_of, person
from tests.test_chat_lookup import blocks, card, fields, notice, say, tap


async def villages(tree: Any, count: int) -> list[Unit]:
    return [await make_unit(f"村{n:02d}", UnitType.VILLAGE, tree.own) for n in range(1, count)]


def row_actions(reply: dict[str, Any]) -> tuple[list[list[str]], list[dict[str, Any]]]:
    [table] = blocks(reply, "table")
    return table["rows"], table["row_actions"]


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ("第二个", 1),
        ("第2个", 1),
        ("第二个村", 1),
        ("打开第一个", 0),
        ("第一名是谁", 0),
        ("倒数第一", -1),
        ("最后一个", -1),
        ("倒数第二个", -2),
        ("第三个。", 2),
    ],
)
async def test_an_ordinal_opens_that_row_of_the_table_just_shown(client, text, row):
    tree = await make_tree()
    await villages(tree, 4)
    headers = await admin_of(client, tree)
    rows, actions = row_actions(await say(client, headers, "下级单位"))
    assert len(rows) == 4
    opened = await say(client, headers, text)
    assert opened == await tap(client, headers, actions[row]), text
    assert card(opened)["title"] == rows[row][0]


async def test_a_number_beyond_the_list_says_how_many_were_listed(client):
    tree = await make_tree()
    await villages(tree, 3)
    headers = await admin_of(client, tree)
    await say(client, headers, "下级单位")
    for text in ("第五个", "第0个", "倒数第四个"):
        said = notice(await say(client, headers, text))
        assert "只列出了 3 个" in said, (text, said)


async def test_an_ordinal_after_more_is_the_row_of_the_page_on_screen(client):
    tree = await make_tree()
    await villages(tree, 14)  # 14 children: 10 on the first page, 4 on the second
    headers = await admin_of(client, tree)
    await say(client, headers, "下级单位")
    rows, actions = row_actions(await say(client, headers, "更多"))
    assert len(rows) == 4
    opened = await say(client, headers, "第二个")
    assert card(opened)["title"] == rows[1][0] and opened == await tap(client, headers, actions[1])
    await say(client, headers, "白沙镇的下级单位")  # (after a village's card "下级单位" is the village's)
    await say(client, headers, "更多")
    assert "只列出了 4 个" in notice(await say(client, headers, "第六个"))


async def test_an_ordinal_picks_from_a_list_of_choice_buttons(client):
    tree = await make_tree()
    first = await person("wjg01", "王建国", tree.child)
    second = await person("wjg02", "王建国", tree.own)
    headers = await admin_of(client, tree)
    choices = card(await say(client, headers, "王建国"))
    assert [a["params"]["account_id"] for a in choices["actions"]] == [second.id, first.id]
    opened = card(await say(client, headers, "第二个"))
    assert opened["title"] == "王建国" and fields(opened)["用户名"] == "wjg01"


@pytest.mark.parametrize("yes", ["是的", "对", "对的", "就是它", "嗯", "嗯嗯", "对啊", "是的。"])
async def test_yes_after_a_single_choice_question_presses_that_button(client, yes):
    tree = await make_tree()
    headers = await admin_of(client, tree)
    question = await say(client, headers, "黄家湾")  # a typo: "您要找的是不是：王家湾村"
    [picker] = blocks(question, "card")
    assert picker["title"].startswith("没有与“黄家湾”完全相符的结果") and len(picker["actions"]) == 1
    opened = await say(client, headers, yes)
    assert card(opened)["title"] == "王家湾村", yes


async def test_yes_without_a_single_choice_question_is_not_a_button(client):
    tree = await make_tree()
    await villages(tree, 3)
    headers = await admin_of(client, tree)
    assert blocks(await say(client, headers, "嗯嗯"), "text")[0]["text"] == "好的。还要查什么，直接输入就行。"
    await say(client, headers, "下级单位")  # three rows: a yes does not say which
    assert "第几个" in notice(await say(client, headers, "是的"))
    assert blocks(await say(client, headers, "嗯"), "text")[0]["text"] == "好的。还要查什么，直接输入就行。"


async def test_an_ordinal_with_nothing_listed_says_so(client):
    tree = await make_tree()
    headers = await admin_of(client, tree)
    said = notice(await say(client, headers, "第二个"))
    assert "没有可以选的" in said
    await say(client, headers, "王家湾村")  # a card, not a list: what was shown before it is not meant
    assert "没有可以选的" in notice(await say(client, headers, "第一个"))


async def test_a_remembered_row_is_checked_as_a_pressed_button_is(client):
    """The role taken away since the list: the row's account.card refuses, as the button does."""
    tree = await make_tree()
    await person("wjg01", "王建国", tree.child)
    admin = await make_account("town_admin", tree.own, role=Role.ADMIN)
    headers = await login(client, "town_admin")
    _, actions = row_actions(await say(client, headers, "王家湾村的人员"))
    await Membership.filter(account_id=admin.id).update(role=Role.VIEWER)
    refused = await say(client, headers, "第一个")
    assert refused == await tap(client, headers, actions[0])
    assert notice(refused).startswith("您的角色不能进行这项操作。") and "wjg01" not in json.dumps(refused)


async def test_a_row_moved_out_of_scope_answers_as_its_button_does(client):
    tree = await make_tree()
    headers = await admin_of(client, tree)
    _, actions = row_actions(await say(client, headers, "下级单位"))
    moved = f"{tree.sibling.path}{tree.child.id}/"
    await Unit.filter(id=tree.child.id).update(path=moved, parent_id=tree.sibling.id)
    typed = await say(client, headers, "第一个")
    assert "王家湾村" not in json.dumps(typed, ensure_ascii=False)
    assert typed == await tap(client, headers, actions[0])


async def test_a_button_that_writes_or_asks_first_is_never_pressed_by_typing(client):
    """The agents' rows unbind (a write); its confirmation card has one button: "是的" must not press it."""
    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    clerk = await make_account("wjg01", tree.own, role=Role.CLERK)
    headers = await login(client, "town_admin")
    await say(client, headers, "经办人")
    typed = await say(client, headers, "第二个")
    assert not blocks(typed, "card") and "点" in notice(typed)
    table = blocks(await say(client, headers, "经办人"), "table")[0]
    [row_action] = [a for row, a in zip(table["rows"], table["row_actions"], strict=True) if row[1] == "wjg01"]
    await tap(client, headers, row_action)  # the confirmation card, one button
    for yes in ("是的", "对", "嗯"):
        said = await say(client, headers, yes)
        assert not any(b.get("level") == "success" for b in said["blocks"]), said
    assert await Membership.exists(account_id=clerk.id, unit_id=tree.own.id)


async def test_choices_are_kept_small_in_the_same_write_and_read_only_when_used(client, monkeypatch):
    tree = await make_tree()
    await villages(tree, 4)
    headers = await admin_of(client, tree)
    redis = runtime.get().redis
    written: list[dict[str, str]] = []
    read: list[Any] = []
    run, hget, hmget = redis.eval, redis.hget, redis.hmget

    def recording(script: str, numkeys: int, *args: Any) -> Any:
        pairs = args[numkeys + 1 :]
        written.append(dict(zip(pairs[::2], pairs[1::2], strict=True)))
        return run(script, numkeys, *args)

    def reading_one(key: str, field: str) -> Any:
        read.append(field)
        return hget(key, field)

    def reading(key: str, keys: list[str]) -> Any:
        read.extend(keys)
        return hmget(key, keys)

    monkeypatch.setattr(redis, "eval", recording)
    monkeypatch.setattr(redis, "hget", reading_one)
    monkeypatch.setattr(redis, "hmget", reading)
    await say(client, headers, "下级单位")
    assert len(written) == 1 and "choices" in written[0]  # one write with the page and the unit
    stored = written[0]["choices"]
    assert "村01" not in stored and len(stored) < 200  # intents and parameters, no labels
    assert not {"choices", "person_id"} & set(read)
    read.clear()
    await say(client, headers, "汇总")
    assert not {"choices", "person_id"} & set(read)  # a turn that uses neither reads neither
    await say(client, headers, "第一个")
    assert "choices" in read


async def test_a_long_list_keeps_a_capped_record_and_says_so_beyond_it(client):
    tree = await make_tree()
    headers = await admin_of(client, tree)
    await say(client, headers, "下级单位")
    keys = [key async for key in runtime.get().redis.scan_iter("chat:*")]
    assert len(keys) == 1
    many = [choices.Choice("unit.card", {"unit_id": tree.child.id})] * 80
    record = choices.record_of(many)
    assert len(json.loads(record)["rows"]) == choices.MAX_KEPT < 80 and json.loads(record)["count"] == 80
    for text, said in (
        ("第五十个", "第 50 个请直接点"),
        ("最后一个", "第 80 个请直接点"),
        ("第八十一个", "只列出了 80 个"),
    ):
        await runtime.get().redis.hset(keys[0], "choices", record)
        assert said in notice(await say(client, headers, text)), text
    await runtime.get().redis.hset(keys[0], "choices", record)
    assert card(await say(client, headers, "第三十个"))["title"] == "王家湾村"


# ---- pronouns for the person last shown ------------------------------------------------------


async def test_pronouns_mean_the_person_last_shown(client):
    tree = await make_tree()
    hou = await person("hgm01", "侯国梅", tree.child, phone="13912340001")
    headers = await admin_of(client, tree)
    assert card(await say(client, headers, "侯国梅是谁"))["title"] == "侯国梅"
    records = await say(client, headers, "她的操作记录")
    assert "侯国梅的操作记录" in json.dumps(records, ensure_ascii=False), records
    reset = card(await say(client, headers, "重置她的密码"))  # the card with the button, nothing done
    assert reset["title"] == "侯国梅" and any(a["intent"] == "account.reset_password" for a in reset["actions"])
    assert (await client.get("/api/dev/sms", params={"phone": "13912340001"})).json()["messages"] == []
    assert notice(await say(client, headers, "她被锁了吗")) == "侯国梅的账号没有锁定。"
    assert card(await say(client, headers, "解锁她"))["title"] == "侯国梅"
    preview = card(await say(client, headers, "把他停用"))
    assert preview["title"] == "停用侯国梅的账号"
    assert (await Account.get(id=hou.id)).is_active  # only the preview
    phone = card(await say(client, headers, "这个人的电话"))
    assert phone["title"] == "侯国梅" and fields(phone)["手机"] == "139****0001"
    assert card(await say(client, headers, "他的账号"))["title"] == "侯国梅"


async def test_a_pronoun_after_one_of_namesakes_means_the_one_chosen(client):
    tree = await make_tree()
    await person("wjg01", "王建国", tree.child)
    await person("wjg02", "王建国", tree.own)
    headers = await admin_of(client, tree)
    await say(client, headers, "王建国")
    await say(client, headers, "第二个")
    said = notice(await say(client, headers, "他被锁了吗"))
    assert said == "王建国的账号没有锁定。"
    assert fields(card(await say(client, headers, "他是谁")))["用户名"] == "wjg01"


async def test_a_pronoun_with_no_person_shown_says_so_and_names_holding_it_are_names(client):
    tree = await make_tree()
    await make_unit("他郎村", UnitType.VILLAGE, tree.own)
    headers = await admin_of(client, tree)
    said = notice(await say(client, headers, "她被锁了吗"))
    assert "还没有" in said and "姓名" in said
    assert card(await say(client, headers, "他郎村"))["title"] == "他郎村"
    assert blocks(await say(client, headers, "他郎村的下级单位"), "notice")[0]["text"].startswith("他郎村")


async def test_an_ordinal_after_a_summary_opens_that_row_of_its_breakdown_and_the_summary_writes_once(
    client, monkeypatch
):
    """A summary remembers its page before its rows are read (its write overlaps the reads): its rows
    were then recorded by a second write. The page's mark, in the one write, stands for them now,
    and "第二个" runs the page again (writing nothing) to press the row's button."""
    from tests.coops_helpers import coop_card, login_at, make_world

    w = await make_world()
    await coop_card(w.bare, members=5)
    headers = await login_at(client, "town_viewer", w.town)
    redis = runtime.get().redis
    sent: list[str] = []
    run = redis.eval

    def counting(*args: Any, **kwargs: Any) -> Any:
        sent.append("eval")
        return run(*args, **kwargs)

    monkeypatch.setattr(redis, "eval", counting)
    summary = await say(client, headers, "汇总")
    assert sent == ["eval"], sent
    rows, actions = row_actions(summary)
    assert f"只列出了 {len(rows)} 个" in notice(await say(client, headers, "第九个"))
    opened = await say(client, headers, "第二个")
    assert opened == await tap(client, headers, actions[1]) and rows[1][0] in json.dumps(opened, ensure_ascii=False)
