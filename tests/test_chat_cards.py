"""The unit card of chat read in one statement: the chain of units above it stops at the actor's own
unit, the counts stay inside the scope, and a unit outside the scope is not found."""

from __future__ import annotations

import pytest

from backend.core.errors import NotFound
from backend.core.roles import Role
from backend.units import chat as unit_chat
from backend.units.models import UnitType
from tests.factories import login, make_account, make_tree, make_unit
from tests.test_chat_lookup import actor_at, button, card, fields, say, tap, town_admin


async def test_the_chain_above_a_unit_stops_at_the_actors_own_unit(client):
    tree = await make_tree()
    team = await make_unit("一组", UnitType.WORK_TEAM, tree.child)
    await make_unit("二组", UnitType.WORK_TEAM, tree.child)
    await make_account("team_clerk", team, role=Role.CLERK)
    await make_account("county_admin", tree.parent, role=Role.ADMIN)
    town = await town_admin(client, tree)
    shown = card(await say(client, town, "一组"))
    assert shown["title"] == "一组" and fields(shown)["所属"] == "白沙镇 / 王家湾村"
    assert fields(shown)["下级单位"] == "0 个" and fields(shown)["本单位人员"] == "1 人"
    assert [a["label"] for a in shown["actions"]] == ["人员", "汇总"]
    village = card(await say(client, town, "王家湾村"))
    assert fields(village)["所属"] == "白沙镇" and fields(village)["下级单位"] == "2 个"
    assert button(village, "下级单位")["params"] == {"unit_id": tree.child.id}
    county = await login(client, "county_admin")
    assert fields(card(await say(client, county, "一组")))["所属"] == "青山县 / 白沙镇 / 王家湾村"


async def test_a_card_is_one_statement_and_nothing_outside_the_scope(client):
    tree = await make_tree()
    await make_unit("李家坪村", UnitType.VILLAGE, tree.sibling)
    await make_account("sibling_clerk", tree.sibling, role=Role.CLERK)
    unit, block = await unit_chat.unit_card(actor_at(tree.own), tree.own.id)
    assert (unit.id, unit.name, unit.type) == (tree.own.id, "白沙镇", "township")
    assert fields(block.model_dump()) == {
        "类型": "乡镇",
        "区划代码": "530101001000",
        "下级单位": "1 个",
        "本单位人员": "0 人",
    }
    _, county = await unit_chat.unit_card(actor_at(tree.parent, Role.CLERK), tree.parent.id)
    assert "本单位人员" not in fields(county.model_dump()) and fields(county.model_dump())["下级单位"] == "2 个"
    for outside in (tree.sibling.id, tree.parent.id, 999_999):
        with pytest.raises(NotFound):
            await unit_chat.unit_card(actor_at(tree.own), outside)


async def test_a_card_opened_by_a_button_reads_the_unit_once(client, statements):
    tree = await make_tree()
    town = await town_admin(client, tree)
    action = {"intent": "unit.card", "params": {"unit_id": tree.child.id}}
    await tap(client, town, action)  # the session is known: the guard's reads go out together
    statements.clear()
    assert card(await tap(client, town, action))["title"] == "王家湾村"
    assert len([sql for sql in statements if "FROM membership m JOIN unit u" not in sql]) == 1  # the guard's aside
