"""Co-op roll-ups and the answers read from them (W4, D1): a third review round."""

from __future__ import annotations

import pytest

from backend.core.roles import FinanceAccess, Role
from tests.coops_helpers import blocks, chat, login_at, make_world


def first_title(reply: dict) -> str | None:
    """The title of the answer's first card, table or map."""
    titled = [b for b in reply["blocks"] if b["type"] in ("card", "table", "map")]
    return titled[0]["title"] if titled else None


@pytest.mark.parametrize(
    ("text", "title", "period"),
    [
        ("2025年合作社地图", "白沙镇合作社分布", "2025年"),
        ("去年王家湾村的合作社分布", "王家湾村合作社分布", "去年"),
        ("本月地图", "白沙镇合作社分布", "本月"),
        ("去年社员最多的村", "白沙镇社员最多的村", "去年"),
        ("2024年哪个村合作社最多", "白沙镇合作社最多的村", "2024年"),
        ("去年哪些村没有合作社", "白沙镇还没有合作社信息卡的村", "去年"),
        ("去年资产最多的合作社", "白沙镇资产最多的合作社", "去年"),
        ("2024年的标杆社", "白沙镇的标杆社", "2024年"),
        ("去年村级社有哪些", "白沙镇的村级社", "去年"),
        ("今年白沙镇的合作社", "白沙镇的合作社", "今年"),
    ],
)
async def test_a_map_ranking_or_list_asked_for_a_year_answers_with_the_cards_as_they_are(client, text, title, period):
    """ "2025年合作社地图", "去年社员最多的村" answered that no unit was named "2025年" / "去年", while
    "2025年汇总" answers the summary with a word that figures are not kept by year: the map, the
    rankings and the lists read the same cards and roll-ups, as they are now."""
    w = await make_world()
    headers = await login_at(client, "town_all", w.town, Role.VIEWER, FinanceAccess.ALL)
    reply = await chat(client, headers, text)
    assert first_title(reply) == title, reply
    notice = blocks(reply, "notice")[0]["text"]
    assert f"“{period}”" in notice and "信息卡" in notice, reply


@pytest.mark.parametrize(
    ("text", "period"),
    [("今年各村汇总", "今年"), ("2025年各村合作社情况", "2025年"), ("白沙镇2025年各村汇总", "2025年")],
)
async def test_each_village_s_summary_asked_for_a_year_is_the_summary(client, text, period):
    """ "今年各村汇总" said the year was taken out and then that no unit was named "各村"."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, text)
    assert first_title(reply) == "白沙镇合作社汇总", reply
    assert f"“{period}”" in blocks(reply, "notice")[0]["text"]
