"""Review 6 of the chat's co-op figures: the figures were right, some answers were wrong or unclear.
Loss thresholds, negative amounts, short threshold phrasings, co-op units without a card, the
difference of a comparison, the own_region help text, 各村汇总 above a township, tiny losses, and
the admin's person card (WeChat binding; one word for a deactivated account)."""

from __future__ import annotations

import json

import pytest

from backend.core.audit import AuditEntry
from backend.core.roles import FinanceAccess
from backend.units.models import UnitType
from backend.wechat.models import WechatIdentity
from tests.coops_helpers import blocks, chat, coop_card, login_at, make_world
from tests.factories import bind_wechat, login, make_tree, make_unit


def _notices(reply: dict) -> list[str]:
    return [b["text"] for b in blocks(reply, "notice")]


def _names(reply: dict) -> list[str]:
    [table] = blocks(reply, "table")
    return [row[0] for row in table["rows"]]


# ---- 1. loss thresholds and negative amounts --------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["亏损超过10万的合作社", "亏损10万以上的合作社", "亏损超过10万元的社", "亏损超过十万的合作社"]
)
async def test_a_loss_over_an_amount_lists_the_co_ops_losing_more(client, text):
    """ "亏损超过10万的合作社" answered "参数不正确，请重新选择。" (a tampered button's message)."""
    w = await make_world()  # 茶叶社: -1.5
    await coop_card(await make_unit("李家坪村亏损社", UnitType.COOP, w.village2), profit=-30)
    headers = await login_at(client, "county_all", w.county, finance=FinanceAccess.ALL)
    reply = await chat(client, headers, text)
    [table] = blocks(reply, "table")
    assert [row[0] for row in table["rows"]] == ["李家坪村亏损社"], reply
    assert table["rows"][0][2] == "-30.00"
    assert "亏损" in table["title"], table["title"]


async def test_a_loss_over_a_small_amount_lists_the_biggest_loss_first(client):
    w = await make_world()
    await coop_card(await make_unit("李家坪村亏损社", UnitType.COOP, w.village2), profit=-30)
    headers = await login_at(client, "county_all", w.county, finance=FinanceAccess.ALL)
    reply = await chat(client, headers, "亏损超过1万的合作社")
    assert _names(reply) == ["李家坪村亏损社", w.tea.name], reply
    under = await chat(client, headers, "亏损不到10万的合作社")  # in the red, by less than 10万
    assert _names(under) == [w.tea.name], under


async def test_a_loss_threshold_is_refused_without_all_finance_access(client):
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    reply = await chat(client, headers, "亏损超过10万的合作社")
    assert _notices(reply) == ["按金额筛选合作社会透露您看不到的金额，需要“全部”财务权限；可以按社员数或从业人员筛选。"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("利润低于-3.5万的合作社", ["李家坪村亏损社"]),
        ("利润-3.5万以下的合作社", ["李家坪村亏损社"]),
        ("利润低于-1.5万的合作社", ["李家坪村亏损社"]),
        ("利润-1.5万以下的合作社", ["李家坪村亏损社", "王家湾村茶叶专业合作社"]),
        ("利润高于-2万的合作社", ["白沙镇供销社", "王家湾村果蔬合作社", "王家湾村茶叶专业合作社"]),
    ],
)
async def test_a_negative_profit_threshold_is_read_as_the_amount(client, text, names):
    """ "利润低于-3.5万的合作社" answered "没有找到名为“利润低于-3.5万”的单位"."""
    w = await make_world()
    await coop_card(await make_unit("李家坪村亏损社", UnitType.COOP, w.village2), profit=-30)
    headers = await login_at(client, "town_all", w.town, finance=FinanceAccess.ALL)
    reply = await chat(client, headers, text)
    assert _names(reply) == names, reply


# ---- 2. short threshold phrasings ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "longer"),
    [
        ("资产超过4千万的", "资产超过4千万的合作社"),
        ("资产超过4000万的", "资产超过4000万的合作社"),
        ("资产超过100万的", "资产超过100万的合作社"),
        ("社员超过100人的", "社员超过100人的合作社"),
        ("社员100人以上的", "社员100人以上的合作社"),
    ],
)
async def test_a_threshold_ending_in_de_lists_as_its_longer_form(client, text, longer):
    """ "资产超过4千万的" (quoted in the README) answered "没有找到“资产超过4千万的”…"."""
    w = await make_world()
    headers = await login_at(client, "county_all", w.county, finance=FinanceAccess.ALL)
    reply = await chat(client, headers, text)
    expected = await chat(client, headers, longer)
    assert blocks(reply, "table") and blocks(reply, "table") == blocks(expected, "table"), reply


@pytest.mark.parametrize("text", ["贫困县的社", "贫困县社"])
async def test_the_co_ops_of_poverty_counties_as_she(client, text):
    """ "贫困县的社" answered "没有找到“贫困县的社”…"."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    reply = await chat(client, headers, text)
    assert _names(reply) == [w.sibling_coop.name], reply


# ---- 8. the admin's person card: the WeChat binding, and releasing it --------------------------------


async def test_the_person_card_says_whether_a_wechat_is_bound(client):
    from tests.test_chat_accounts import admin_of, person
    from tests.test_chat_lookup import card, fields

    tree = await make_tree()
    hou = await person("hgm01", "侯国梅", tree.child)
    await person("sxp01", "宋晓平", tree.child)
    await bind_wechat(hou.id, "openid-hou")
    headers = await admin_of(client, tree)
    assert fields(card(await chat(client, headers, "侯国梅的账号")))["微信"] == "已绑定"
    assert fields(card(await chat(client, headers, "宋晓平的账号")))["微信"] == "未绑定"


@pytest.mark.parametrize("text", ["解绑侯国梅的微信", "解除侯国梅的微信绑定", "把侯国梅的微信解绑", "侯国梅的微信"])
async def test_an_admin_releases_a_wechat_from_a_confirm_first_button(client, text):
    """ "解绑侯国梅的微信" answered "没有找到…"; the only release was DELETE /api/accounts/<id>/wechat."""
    from tests.test_chat_accounts import admin_of, person
    from tests.test_chat_lookup import button, card, fields

    tree = await make_tree()
    hou = await person("hgm01", "侯国梅", tree.child)
    await bind_wechat(hou.id, "openid-hou")
    hou_session = await login(client, "hgm01")
    headers = await admin_of(client, tree)
    shown = await chat(client, headers, text)
    release = button(card(shown), "解绑微信")
    assert release["intent"] == "account.unbind_wechat" and release["confirm"], shown
    assert await WechatIdentity.exists(account_id=hou.id)  # typing changes nothing
    done = await chat(client, headers, intent=release["intent"], params=release["params"])
    [lead] = blocks(done, "notice")
    assert lead["level"] == "success" and "侯国梅" in lead["text"], done
    assert fields(card(done))["微信"] == "未绑定"
    assert not await WechatIdentity.exists(account_id=hou.id)
    assert (await client.get("/api/profile", headers=hou_session)).status_code == 401  # sessions ended
    entry = await AuditEntry.get(action="wechat.unbind")
    assert entry.target_id == str(hou.id)
    again = await chat(client, headers, intent=release["intent"], params=release["params"])
    assert _notices(again) == ["该账号没有绑定微信"], again


async def test_releasing_a_wechat_typed_for_one_with_none_says_so(client):
    from tests.test_chat_accounts import admin_of, person
    from tests.test_chat_lookup import card

    tree = await make_tree()
    await person("sxp01", "宋晓平", tree.child)
    headers = await admin_of(client, tree)
    shown = await chat(client, headers, "解绑宋晓平的微信")
    assert _notices(shown) == ["宋晓平没有绑定微信。"], shown
    assert "解绑微信" not in [a["label"] for a in card(shown)["actions"]]


async def test_releasing_a_wechat_is_refused_outside_the_scope_like_the_api(client):
    from tests.test_chat_accounts import admin_of, person

    tree = await make_tree()
    other = await person("ttx01", "陶天行", tree.sibling)
    await bind_wechat(other.id, "openid-tao")
    headers = await admin_of(client, tree)
    api = await client.delete(f"/api/accounts/{other.id}/wechat", headers=headers)
    missing = await chat(client, headers, intent="account.unbind_wechat", params={"account_id": 999999})
    pressed = await chat(client, headers, intent="account.unbind_wechat", params={"account_id": other.id})
    assert api.status_code == 404 and pressed == missing and blocks(pressed, "notice")[0]["level"] == "warning"
    assert await WechatIdentity.exists(account_id=other.id)
    viewer = await login_at(client, "town_viewer6", tree.own)
    refused = await chat(client, viewer, intent="account.unbind_wechat", params={"account_id": other.id})
    assert await WechatIdentity.exists(account_id=other.id) and blocks(refused, "notice")[0]["level"] == "warning"


# ---- 9. one word for a deactivated account: 停用 --------------------------------------------------------


async def test_a_deactivated_account_is_said_stopped_everywhere(client):
    """The admin typed "停用…" and saw "已停用", then the card said "已注销" and the list's rows too."""
    from tests.test_chat_accounts import admin_of, person
    from tests.test_chat_lookup import button, card, fields

    tree = await make_tree()
    await person("wjg01", "王建国", tree.child)
    headers = await admin_of(client, tree)
    confirm = button(card(await chat(client, headers, "停用王建国的账号")), "确认停用")
    done = await chat(client, headers, intent=confirm["intent"], params=confirm["params"])
    assert fields(card(done))["账号状态"] == "已停用"
    again = await chat(client, headers, intent=confirm["intent"], params=confirm["params"])
    assert _notices(again) == ["该账号已停用"]
    for text in ("停用的账号", "已注销的账号有哪些", "禁用的账号"):
        [table] = blocks(await chat(client, headers, text), "table")
        assert table["title"] == "白沙镇范围内已停用的账号", text
        assert [row[-1] for row in table["rows"]] == ["已停用"], text
    assert _notices(await chat(client, headers, "王建国的账号锁了吗"))[0] == "王建国的账号已停用。"
    said = json.dumps(await chat(client, headers, "王建国的账号"), ensure_ascii=False)
    assert "注销" not in said


# ---- 3. a co-op unit without a card is no co-op that does not exist --------------------------------


async def _world_with_bare_coops():
    w = await make_world()  # 李家坪村: 李家坪综合社, no card
    await make_unit("王家湾村新社", UnitType.COOP, w.village)  # no card either
    return w


async def test_villages_without_cards_say_which_co_ops_have_none_yet(client):
    """ "哪些村没有合作社" listed 李家坪村, which has a co-op (with no card yet). The co-ops without a
    card are named in a township or a village; a county's answer has no such notice (it would read
    every unit of the county's subtree per answer)."""
    w = await _world_with_bare_coops()
    town = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, town, "哪些村没有合作社")
    [table] = blocks(reply, "table")
    assert table["title"] == "白沙镇还没有合作社信息卡的村" and table["rows"][0][0] == "李家坪村"
    assert _notices(reply) == ["另有 2 个合作社还没有建立信息卡，没有计入：李家坪综合社、王家湾村新社。"]
    county = await chat(client, await login_at(client, "county_viewer", w.county), "哪些村没有合作社")
    [table] = blocks(county, "table")
    assert table["title"] == "青山县还没有合作社信息卡的村" and table["rows"] == [["李家坪村", "白沙镇"]]
    assert _notices(county) == []


async def test_the_co_ops_of_a_village_with_only_a_bare_one_say_it_has_no_card_yet(client):
    """ "李家坪村的合作社" said "李家坪村暂无合作社。"; "李家坪村有几个合作社" said nothing of its co-op."""
    w = await _world_with_bare_coops()
    headers = await login_at(client, "town_viewer", w.town)
    for text in ("李家坪村的合作社", "李家坪村有几个合作社", "汇总 李家坪村"):
        reply = await chat(client, headers, text)
        assert _notices(reply) == [
            "李家坪村暂无合作社信息卡。",
            "李家坪村有 1 个合作社还没有建立信息卡：李家坪综合社。",
        ], text


async def test_a_count_of_co_ops_says_those_with_no_card_yet(client):
    w = await _world_with_bare_coops()
    headers = await login_at(client, "town_viewer", w.town)
    for text in ("王家湾村有几个合作社", "王家湾村的合作社"):
        reply = await chat(client, headers, text)
        assert blocks(reply, "card") or blocks(reply, "table"), text
        assert _notices(reply)[-1] == "另有 1 个合作社还没有建立信息卡，没有计入：王家湾村新社。", text
    clean = await chat(client, headers, "汇总 刘家岭村")  # out of scope: nothing said of its units
    assert "信息卡" not in json.dumps(clean, ensure_ascii=False).replace("暂无合作社信息卡", "")


async def test_the_fewest_co_ops_says_the_others_have_no_card_yet(client):
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    reply = await chat(client, headers, "哪个村合作社最少")
    assert _notices(reply) == ["另有 1 个村还没有合作社信息卡，问“哪些村没有合作社”可以看到。"], reply


# ---- 4. a comparison of counts says the difference ---------------------------------------------------


async def test_more_co_ops_than_another_unit_is_said_as_a_difference(client):
    """ "白沙镇比桃源乡多几个合作社" showed only the table (3 against 1)."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    reply = await chat(client, headers, "白沙镇比桃源乡多几个合作社")
    texts = [b["text"] for b in blocks(reply, "text")]
    assert texts == ["白沙镇的合作社比桃源乡多 2 个（3 个对 1 个）。"], reply
    assert blocks(reply, "table")
    fewer = await chat(client, headers, "桃源乡比白沙镇少几个合作社")
    assert [b["text"] for b in blocks(fewer, "text")] == ["桃源乡的合作社比白沙镇少 2 个（1 个对 3 个）。"], fewer


async def test_which_of_two_has_more_co_ops_says_when_they_are_equal(client):
    """ "张家冲村和陈家寨村哪个合作社多" (2 and 2) showed only the table."""
    w = await make_world()
    await coop_card(await make_unit("李家坪村一社", UnitType.COOP, w.village2))
    await coop_card(await make_unit("李家坪村二社", UnitType.COOP, w.village2))
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, "王家湾村和李家坪村哪个合作社多")
    assert [b["text"] for b in blocks(reply, "text")] == ["王家湾村和李家坪村的合作社一样多，都是 2 个。"], reply
    more = await chat(client, headers, "白沙镇和王家湾村哪个合作社多")
    assert [b["text"] for b in blocks(more, "text")] == ["白沙镇的合作社比王家湾村多 3 个（5 个对 2 个）。"], more
    fewer = await chat(client, headers, "白沙镇和王家湾村哪个合作社少")
    assert [b["text"] for b in blocks(fewer, "text")] == ["王家湾村的合作社比白沙镇少 3 个（2 个对 5 个）。"], fewer
    members = await chat(client, headers, "白沙镇社员比王家湾村多多少")
    assert [b["text"] for b in blocks(members, "text")] == ["白沙镇的社员比王家湾村多 300 人（480 人对 180 人）。"]


# ---- 5. the own_region help says what the summaries show ---------------------------------------------


async def test_the_own_region_help_says_summary_rows_stay_masked_as_they_are(client):
    """ "为什么看不到利润" said only "直属本单位的合作社显示金额", while the summary's rows of those very
    co-ops showed 无权限."""
    w = await make_world()
    headers = await login_at(client, "village_own", w.village, finance=FinanceAccess.OWN_REGION)
    [help_text] = _notices(await chat(client, headers, "为什么看不到利润"))
    assert "汇总" in help_text and "行都显示“无权限”" in help_text and "下级村镇都没有合作社时" in help_text
    summary = await chat(client, headers, "汇总")
    [card] = blocks(summary, "card")
    assert {f["label"]: f["value"] for f in card["fields"]}["资产总额"] != "无权限"  # no region below has co-ops
    [table] = blocks(summary, "table")
    assert {row[-1] for row in table["rows"]} == {"无权限"}  # the rows of its own co-ops too


# ---- 6. "各村汇总" above a township says what its rows are -------------------------------------------


async def test_each_village_typed_at_a_county_says_the_rows_are_townships(client):
    """ "各村汇总" at a county gave rows of townships with no word of it."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    reply = await chat(client, headers, "各村汇总")
    assert _notices(reply)[0] == "青山县的汇总按下一级的乡镇列出，不是按村。要看各村的汇总，请说“白沙镇各村汇总”。"
    town = await login_at(client, "town_viewer", w.town)
    assert not [n for n in _notices(await chat(client, town, "各村汇总")) if "不是按" in n]  # rows of villages


# ---- 7. a tiny loss in a list of losses is still a loss ---------------------------------------------


async def test_a_tiny_loss_reads_as_a_loss_in_loss_lists_and_rankings(client):
    """A profit of -1 fen showed "0.00" in "亏损的合作社" and "哪个合作社亏损最少"."""
    w = await make_world()
    await coop_card(await make_unit("李家坪村小亏社", UnitType.COOP, w.village2), profit=-0.000001)
    headers = await login_at(client, "town_all", w.town, finance=FinanceAccess.ALL)
    losses = blocks(await chat(client, headers, "亏损的合作社"), "table")[0]
    assert [row[0::2] for row in losses["rows"]] == [[w.tea.name, "-1.50"], ["李家坪村小亏社", "-<0.01"]]
    least = await chat(client, headers, "哪个合作社亏损最少")
    assert blocks(least, "table")[0]["rows"][0][2] == "-<0.01"
    assert "-<0.01 万元" in blocks(least, "text")[0]["text"]
    card = blocks(await chat(client, headers, "李家坪村小亏社的信息卡"), "card")[0]
    profit = [f["value"] for f in card["fields"] if f["label"].startswith("利润")]
    assert profit and profit[0].startswith("0.00"), card  # finance.wan's rule elsewhere


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("资产超过-5万的合作社", "资产总额不会是负数"),
        ("社员超过-3人的合作社", "社员数不会是负数"),
        ("亏损超过-5万的合作社", "亏损不会是负数"),
    ],
)
async def test_a_typed_negative_figure_that_cannot_be_negative_says_so_not_a_button_error(client, text, said):
    """ "资产超过-5万的合作社" answered "参数不正确，请重新选择。": the cadre typed it, nothing was chosen."""
    w = await make_world()
    headers = await login_at(client, "town_all", w.town, finance=FinanceAccess.ALL)
    notices = _notices(await chat(client, headers, text))
    assert len(notices) == 1 and notices[0].startswith(said) and "请重新选择" not in notices[0], notices
