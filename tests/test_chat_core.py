"""The chat endpoint itself: protocol shape, help, unknown input, paging with nothing to page."""

from __future__ import annotations

import pytest

from backend.chat import parser
from tests.factories import login, make_account, make_tree


async def _headers(client):
    tree = await make_tree()
    await make_account("chatter", tree.own, role="viewer")
    return await login(client, "chatter")


async def test_help_answers_text_and_quick_replies(client):
    headers = await _headers(client)
    reply = (await client.post("/api/chat", json={"text": "帮助"}, headers=headers)).json()
    assert reply["blocks"][0]["type"] == "text" and "拼音" in reply["blocks"][0]["text"]
    assert reply["suggestions"] and all("label" in s for s in reply["suggestions"])


async def test_unknown_action_answers_suggestions_not_an_error(client):
    headers = await _headers(client)
    response = await client.post("/api/chat", json={"action": {"intent": "no.such", "params": {}}}, headers=headers)
    assert response.status_code == 200 and response.json()["suggestions"]


async def test_more_without_a_table_says_there_is_nothing_more(client):
    headers = await _headers(client)
    reply = (await client.post("/api/chat", json={"text": "更多"}, headers=headers)).json()
    assert reply["blocks"][0]["type"] == "notice"


async def test_chat_needs_a_session_and_exactly_one_of_text_or_action(client):
    assert (await client.post("/api/chat", json={"text": "帮助"})).status_code == 401
    headers = await _headers(client)
    assert (await client.post("/api/chat", json={}, headers=headers)).status_code == 422
    both = {"text": "帮助", "action": {"intent": "chat.help"}}
    assert (await client.post("/api/chat", json=both, headers=headers)).status_code == 422
    assert (await client.post("/api/chat", json={"text": "x" * 201}, headers=headers)).status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "汇总 \u0000abc"}, "text"),
        ({"text": "查\u001b[31m王家湾"}, "text"),
        ({"action": {"intent": "summary", "params": {"name": "王家\u0000湾"}}}, "name"),
        ({"action": {"intent": "lookup.region_code", "params": {"region_code": "5301\u00000100100"}}}, "region_code"),
        ({"action": {"intent": "coop.list", "params": {"filter": {"deep": ["\u0007"]}}}}, "filter"),
        ({"action": {"intent": "summary", "params": {"na\u0000me": "王家湾"}}}, "action.params"),
    ],
)
async def test_control_characters_in_a_turn_are_refused_by_field_before_anything_runs(client, body, field):
    """PostgreSQL cannot hold a NUL in a query parameter: it reached the database and answered 500."""
    headers = await _headers(client)
    response = await client.post("/api/chat", json=body, headers=headers)
    assert response.status_code == 422 and response.json()["error"]["fields"] == {field: "不能包含控制字符"}


@pytest.mark.parametrize("intent", ["summary", "lookup.name", "unit.card", parser.FOLLOW_UP])
@pytest.mark.parametrize("name", [["王家湾"], {"x": "王家湾"}, 12])
async def test_a_button_name_that_is_not_text_is_refused_by_field(client, intent, name):
    """A forged button's list was looked up as its Python text ("['王家湾']") and echoed back."""
    headers = await _headers(client)
    body = {"action": {"intent": intent, "params": {"name": name}}}
    response = await client.post("/api/chat", json=body, headers=headers)
    assert response.status_code == 422 and response.json()["error"]["fields"] == {"action.params": "格式不正确"}


async def test_pasted_line_breaks_and_tabs_are_only_spaces(client):
    headers = await _headers(client)
    response = await client.post("/api/chat", json={"text": "帮\n助"}, headers=headers)
    pasted = await client.post("/api/chat", json={"text": "\t帮助\r\n"}, headers=headers)
    assert response.status_code == 200 and pasted.json()["blocks"][0]["type"] == "text"


@pytest.mark.parametrize(
    ("name", "rest", "period"),
    [
        ("2025年王家湾村", "王家湾村", "2025年"),
        ("王家湾村 2025 年度", "王家湾村", "2025年度"),
        ("去年的", "", "去年"),
        ("王家湾村", "王家湾村", None),
        ("530120011001", "530120011001", None),  # a region code holding 2001 is no year
        ("幸福小区B2栋", "幸福小区B2栋", None),
    ],
)
def test_a_time_named_in_a_question_is_split_from_the_name(name: str, rest: str, period: str | None):
    assert parser.split_period(name) == (rest, period)


@pytest.mark.parametrize(
    ("text", "number"),
    [("7", 7), ("两", 2), ("十", 10), ("十二", 12), ("二十", 20), ("九十九", 99), ("一百零五", 105), ("三百", 300)],
)
def test_page_numbers_are_read_in_digits_or_chinese(text: str, number: int):
    assert parser.chinese_number(text) == number


@pytest.mark.parametrize("text", ["五五", "十十", "百", "一零", "百十", "二十百", "x"])
def test_what_is_no_chinese_number_is_none(text: str):
    assert parser.chinese_number(text) is None


@pytest.mark.parametrize(
    ("text", "intent", "params"),
    [
        ("更多", parser.MORE, {}),
        ("下一页", parser.MORE, {}),
        ("查 11010519491231002X", parser.LOOKUP_ID_NUMBER, {"id_number": "11010519491231002X"}),
        ("１１０１０５１９４９１２３１００２ｘ", parser.LOOKUP_ID_NUMBER, {"id_number": "11010519491231002X"}),
        ("110105194912310021", parser.LOOKUP_ID_NUMBER, {"id_number": "110105194912310021"}),  # mistyped
        ("电话13912345678是谁", parser.LOOKUP_PHONE, {"phone": "13912345678"}),
        ("530101001001", parser.LOOKUP_REGION_CODE, {"region_code": "530101001001"}),
        ("91350100M000100Y43", parser.LOOKUP_CREDIT_CODE, {"credit_code": "91350100M000100Y43"}),
        ("查 王家湾", parser.LOOKUP_NAME, {"name": "王家湾"}),
        ("帮我查一下wangjiawan", parser.LOOKUP_NAME, {"name": "wangjiawan"}),
        ("查 王家\u200b湾", parser.LOOKUP_NAME, {"name": "王家湾"}),  # invisible characters go
        ("\u202e王家湾\u202c\x85", parser.LOOKUP_NAME, {"name": "王家湾"}),
        ("帮助", "chat.help", {}),
        ("Help", "chat.help", {}),
        ("你好！", "chat.help", {}),
        ("您好", "chat.help", {}),
        ("？", "chat.help", {}),
        ("谢谢！", "chat.thanks", {}),
        ("好的", "chat.thanks", {}),
        ("OK", "chat.thanks", {}),
        ("下级单位 王家湾", "unit.children", {"name": "王家湾"}),
        ("哪些账号被锁了", "accounts.locked", {}),
        ("王家湾村被锁的账号", "accounts.locked", {"name": "王家湾村"}),
        ("王建国的账号锁了吗", "account.status", {"name": "王建国"}),
        ("停用的账号", "accounts.deactivated", {}),
        ("王家湾村的管理员是谁", "unit.members", {"name": "王家湾村", "role": "管理员"}),
        ("李管理员", parser.LOOKUP_NAME, {"name": "李管理员"}),  # a surname, not a unit's admins
        ("资产规模最大的合作社", "coop.top", {"field": "资产规模"}),
        ("修改密码", "chat.own_account", {}),
        ("我要改密码", "chat.own_account", {}),
        ("退出登录", "chat.own_account", {}),
        ("我是谁？", "account.me", {}),  # one's role and unit, and where the rest is
        ("修改我的信息", "chat.own_account", {}),  # one's own details, not a co-op's card
        ("完善个人资料", "chat.own_account", {}),
        ("各市汇总", "summary", {}),  # 市 was no level of "各…"
        ("贫困县", "coop.poverty_county", {}),  # the list the word stands for here
        ("重置王建国的密码", "account.reset_password", {"name": "王建国"}),
        ("更多~", parser.MORE, {}),
        ("下一页 。", parser.MORE, {}),
        ("上一页", parser.PREVIOUS_PAGE, {}),
        ("往前翻", parser.PREVIOUS_PAGE, {}),
        ("第二页", parser.PAGE, {"number": 2}),
        ("翻到第 12 页", parser.PAGE, {"number": 12}),
        ("第一百零五页", parser.PAGE, {"number": 105}),
        ("首页", parser.PAGE, {"number": 1}),
        ("第0页", parser.PAGE, {"number": 0}),
        ("第五五页", parser.LOOKUP_NAME, {"name": "第五五页"}),  # no number: a name
        ("第三页村", parser.LOOKUP_NAME, {"name": "第三页村"}),
        ("。。。", parser.UNKNOWN, {"text": ""}),
        ("138 1234 5678", parser.LOOKUP_PHONE, {"phone": "13812345678"}),
        ("138-1234-5678", parser.LOOKUP_PHONE, {"phone": "13812345678"}),
        ("+8613812345678", parser.LOOKUP_PHONE, {"phone": "13812345678"}),
        ("2024-05-01 13812345678", parser.LOOKUP_PHONE, {"phone": "13812345678"}),
        ("110105 19491231 002X", parser.LOOKUP_ID_NUMBER, {"id_number": "11010519491231002X"}),
        ("1101 0519 4912 3100 21", parser.LOOKUP_ID_NUMBER, {"id_number": "110105194912310021"}),
        ("617487619712693284", parser.LOOKUP_CREDIT_CODE, {"credit_code": "617487619712693284"}),  # both shapes
        ("查家村汇总", "summary", {"name": "查家村"}),  # 查 begins names: it asks only before a keyword
        ("查汇总", "summary", {}),
        ("看地图", "coop.map", {}),
        ("查村级社", "coop.village_level", {}),
        ("查下级单位", "unit.children", {}),
        ("查统计", "coop.stats", {}),
    ],
)
def test_parser_recognises_identifiers_paging_and_names(text: str, intent: str, params: dict):
    from backend.chat import intents

    intents.load()
    parsed = parser.parse(text)
    assert (parsed.intent, parsed.params) == (intent, params)


@pytest.mark.parametrize(
    "text",
    [
        "再来10条",
        "再来十条",
        "再来一页",
        "再来 20 条。",
        "还有吗",
        "还有呢？",
        "翻页",
        "下一批",
        "后面的",
        "后面还有吗",
    ],
)
def test_the_ways_cadres_ask_for_the_next_page_continue_the_table(text: str):
    """ "再来10条", "还有吗", "翻页" were looked up as names and answered "没有找到"."""
    from backend.chat import intents

    intents.load()
    assert parser.parse(text) == parser.Parsed(parser.MORE)


@pytest.mark.parametrize("text", ["再来村", "后面村", "翻页岭"])
def test_a_name_that_begins_with_a_paging_word_is_still_a_name(text: str):
    from backend.chat import intents

    intents.load()
    assert parser.parse(text) == parser.Parsed(parser.LOOKUP_NAME, {"name": text})


@pytest.mark.parametrize(
    ("text", "intent", "params"),
    [
        ("李家坪村呢", parser.FOLLOW_UP, {"name": "李家坪村"}),
        ("那李家坪村的呢？", parser.FOLLOW_UP, {"name": "那李家坪村"}),
        ("汇总呢", parser.FOLLOW_UP, {"name": "汇总"}),
        ("还有呢", parser.MORE, {}),
        ("李呢村", parser.LOOKUP_NAME, {"name": "李呢村"}),  # 呢 inside a name: a name
        ("各村", parser.LOOKUP_NAME, {"name": "各村"}),
        ("罗各村汇总", "summary", {"name": "罗各村"}),  # 各 inside a name: the name whole
        ("各村汇总", "summary", {}),
        ("白沙镇各村情况", "summary", {"name": "白沙镇"}),
        ("王家村", parser.LOOKUP_NAME, {"name": "王家村"}),
        ("白沙镇的村", "unit.of_level", {"name": "白沙镇", "level": "村"}),
        ("530101001001汇总", "summary", {"name": "530101001001"}),
        ("530101001001 王家湾汇总", parser.LOOKUP_REGION_CODE, {"region_code": "530101001001"}),
    ],
)
def test_follow_ups_each_unit_s_figures_and_codes_with_a_question_are_told_from_names(text, intent, params):
    from backend.chat import intents

    intents.load()
    assert parser.parse(text) == parser.Parsed(intent, params)


@pytest.mark.parametrize(
    "text", ["修改密码", "怎么改密码", "退出", "退出登录", "我的账号", "我是谁", "换手机号", "解绑微信"]
)
async def test_questions_about_ones_own_account_point_to_the_mine_page(client, text):
    """ "修改密码", "退出登录", "我是谁" were looked up as names ("没有找到“修改密码”"): the chat does
    not change one's own account, the "我的" page does, and the answer says where it is."""
    headers = await _headers(client)
    reply = (await client.post("/api/chat", json={"text": text}, headers=headers)).json()
    assert reply["blocks"][0]["type"] == "text" and "“我的”" in reply["blocks"][0]["text"], text


@pytest.mark.parametrize("text", ["忘记密码", "忘记密码怎么办", "密码忘了怎么办", "我忘了密码咋办"])
async def test_a_forgotten_password_is_answered_with_the_way_back_not_a_lookup(client, text):
    """ "忘记密码怎么办" was looked up as a name; "忘记密码" pointed to "我的", where changing the
    password needs the one forgotten."""
    headers = await _headers(client)
    reply = (await client.post("/api/chat", json={"text": text}, headers=headers)).json()
    said = reply["blocks"][0]
    assert said["type"] == "text" and "登录页" in said["text"] and "忘记密码" in said["text"], text


@pytest.mark.parametrize("text", ["我能做什么", "你能干什么", "可以做什么", "有什么功能", "怎么使用", "使用说明"])
async def test_asking_what_the_chat_can_do_answers_the_help(client, text):
    """ "我能做什么" was looked up as a name ("没有找到“我能做什么”")."""
    headers = await _headers(client)
    reply = (await client.post("/api/chat", json={"text": text}, headers=headers)).json()
    assert reply["blocks"][0]["type"] == "text" and "可以这样问我" in reply["blocks"][0]["text"], text


@pytest.mark.parametrize(
    ("text", "intent", "params"),
    [
        ("给我看看本村的标杆社", "coop.benchmark", {"region": "本村"}),
        ("给我查一下王家湾村的人员", "unit.members", {"name": "王家湾村"}),
        ("我想看看白沙镇的汇总", "summary", {"name": "白沙镇"}),
        ("我要查王家湾", parser.LOOKUP_NAME, {"name": "王家湾"}),
    ],
)
def test_asking_for_oneself_in_words_before_the_question_is_no_part_of_a_name(text, intent, params):
    """ "给我看看本村的标杆社" looked for a unit named "给我看看本村"."""
    from backend.chat import intents

    intents.load()
    assert parser.parse(text) == parser.Parsed(intent, params)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("导出汇总表", "导出"),
        ("把这个表下载下来", "导出"),
        ("打印一下", "打印"),
        ("最新通知", "通知"),
        ("有什么公告", "通知"),
    ],
)
async def test_what_the_product_does_not_do_yet_is_said_so_not_looked_up_as_a_name(client, text, word):
    """ "导出汇总表" answered "没有找到名为“导出”的单位"."""
    headers = await _headers(client)
    said = (await client.post("/api/chat", json={"text": text}, headers=headers)).json()["blocks"][0]
    assert said["type"] == "text" and "还不能" in said["text"] and word in said["text"], text


async def test_an_over_long_form_field_is_named_by_the_field_as_the_form_shows_it(client):
    """A 600-character contact name was refused as "action.params": the form could not show it by the field."""
    headers = await _headers(client)
    body = {"action": {"intent": "coop.save", "params": {"contact_name": "长" * 600, "members": "12"}}}
    response = await client.post("/api/chat", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"] == {"contact_name": "不能超过 500 个字符"}
