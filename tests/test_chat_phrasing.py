"""Phrasings cadres type that were misread (a review of ~500 typed questions, 2026-12-07): a particle
at the end ("汇总吧"), more than one polite word ("麻烦帮我查一下"), 查下 / 看下 for 查一下, thanks in
two words, paging asked in other words, and account questions in the words of a support call. Each
is read as the question it asks, the same as its plain form."""

from __future__ import annotations

import pytest

from backend.chat import intents, parser
from backend.core.roles import Role

SAME_AS = [
    # a particle at the end
    ("汇总吧", "汇总"),
    ("汇总啊", "汇总"),
    ("地图吧", "地图"),
    ("统计一下吧", "统计一下"),
    ("白沙镇有几个村啊", "白沙镇有几个村"),
    ("王家湾村的管理员是谁啊", "王家湾村的管理员是谁"),
    ("社员最多的合作社是哪个啊", "社员最多的合作社是哪个"),
    ("本镇汇总呀", "本镇汇总"),
    ("下一页吧", "下一页"),
    # polite and asking words, one or several
    ("请问王家湾村有几个合作社", "王家湾村有几个合作社"),
    ("请问白沙镇有几个村", "白沙镇有几个村"),
    ("麻烦帮我查一下王家湾", "查一下王家湾"),
    ("请帮我查询王家湾", "查一下王家湾"),
    ("能不能帮我查一下王家湾", "查一下王家湾"),
    ("你好，帮我查一下王家湾", "查一下王家湾"),
    ("我想知道王家湾村有几个合作社", "王家湾村有几个合作社"),
    ("看下汇总", "看一下汇总"),
    ("给我看下汇总", "看一下汇总"),
    ("汇总下", "汇总"),
    # thanks in more than one word
    ("好的谢谢", "谢谢"),
    ("好的，谢谢啊", "谢谢"),
    ("知道了谢谢", "谢谢"),
    ("嗯嗯", "谢谢"),
    # paging
    ("看下一页", "下一页"),
    ("看更多", "下一页"),
    ("接着看", "下一页"),
    ("还有没", "下一页"),
    # accounts, as a support call asks
    ("侯国梅为什么登不上", "侯国梅被锁了吗"),
    ("侯国梅登不进去了", "侯国梅被锁了吗"),
    ("侯国梅登录不了", "侯国梅被锁了吗"),
    ("帮侯国梅重置下密码", "重置侯国梅的密码"),
    ("侯国梅密码重置", "重置侯国梅的密码"),
    ("给侯国梅重置一下密码", "重置侯国梅的密码"),
    ("帮侯国梅解锁一下", "解锁侯国梅"),
    ("把侯国梅的账号解锁", "解锁侯国梅"),
    # voice input's fillers, at the start and before a place word
    ("那个，就是王家湾那个村的合作社有哪些", "王家湾村的合作社有哪些"),
    ("嗯 王家湾村有几个合作社", "王家湾村有几个合作社"),
    ("那个王家湾村有几个合作社", "王家湾村有几个合作社"),
    ("呃那个王家湾村汇总一下", "王家湾村汇总一下"),
    ("就是王家湾村的汇总", "王家湾村的汇总"),
    ("那个那个李家坪村的人员", "李家坪村的人员"),
    ("额，王家湾村", "王家湾村"),
    ("然后汇总", "汇总"),
    # more asking words
    ("你帮我查查王家湾村", "查查王家湾村"),
    ("麻烦问一下白沙镇一共有多少个合作社", "白沙镇一共有多少个合作社"),
    ("王家湾村的合作社有哪几个", "王家湾村有哪些合作社"),
    ("王家湾村都有啥合作社", "王家湾村有哪些合作社"),
    # keywords as input methods mistype them
    ("侯国梅的登陆记录", "侯国梅的登录记录"),
    ("操做记录", "操作记录"),
    ("汇宗", "汇总"),
    ("会总", "汇总"),
    ("王家湾村的合做社", "王家湾村的合作社"),
    ("合作设", "合作社"),
    ("下级单为", "下级单位"),
    ("重至侯国梅的密码", "重置侯国梅的密码"),
    # a pause or a space between a name and its keyword
    ("王家湾村，汇总", "王家湾村汇总"),
    ("王家湾村,汇总", "王家湾村汇总"),
    ("汇总：王家湾村", "汇总 王家湾村"),
    ("王家湾村的 人员", "王家湾村的人员"),
    ("王家湾村 合作社", "王家湾村的合作社"),
    # traditional characters, years in Chinese digits, what is left of a list
    ("匯總", "汇总"),
    ("上一頁", "上一页"),
    ("王家灣村的合作社", "王家湾村的合作社"),
    ("侯國梅的登錄記錄", "侯国梅的登录记录"),
    ("2020年以後成立的合作社", "2020年以后成立的合作社"),
    ("再來10條", "再来10条"),
    # the traditional characters a typing review found missing
    ("請問王家灣村匯總", "请问王家湾村汇总"),
    ("營業收入多少", "营业收入多少"),
    ("哪些賬號被鎖了", "哪些账号被锁了"),
    ("貧困縣基層社", "贫困县基层社"),
    ("從業人員最多的合作社", "从业人员最多的合作社"),
    ("幫我查一下張家衝村", "帮我查一下张家冲村"),
    ("王家灣村綜合服務社的負責人", "王家湾村综合服务社的负责人"),
    ("添加經辦人", "添加经办人"),
    ("二〇二〇年以后成立的合作社", "2020年以后成立的合作社"),
    ("二零二零年以后成立的合作社", "2020年以后成立的合作社"),
    ("剩下的呢", "更多"),
    ("其余的", "更多"),
]


@pytest.mark.parametrize(("typed", "plain"), SAME_AS)
def test_a_question_typed_as_cadres_type_it_is_read_as_its_plain_form(typed: str, plain: str) -> None:
    intents.load()
    assert parser.parse(typed) == parser.parse(plain), typed


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("那个村的汇总", {"name": "那个村"}),  # 那个 before a place word points at one
        ("这个合作社的社员", {"name": "这个合作社"}),
        ("白沙镇，桃源乡的汇总", {"name": "白沙镇,桃源乡"}),  # a comma between names still compares
        ("养蜂协会总社", None),  # 会总 inside a name is no slip
        ("额济纳旗", None),  # 额 begins names: a filler only before a pause
        # 这个 / 那个 as the unit shown or a time (a regression hunt over the first version)
        ("这个汇总", {"name": "这个"}),
        ("那个统计", {"region": "那个"}),
        ("这个标杆社", {"region": "这个"}),
        ("这个有哪些合作社", {"region": "这个"}),
        ("这个的汇总", {"name": "这个"}),
        ("这个街道的汇总", {"name": "这个街道"}),
        ("这个季度汇总", {"name": "这个季度"}),
        ("这个月的操作记录", {"when": "这个月"}),
        # keyword slips inside a place's name or another word stay
        ("汇宗村", None),
        ("登陆村", None),
        ("合作设施", None),
        ("会总村的合作社", {"region": "会总村"}),
        ("王家湾村果蔬 合作社", None),  # a co-op's own name with a space: looked up, not a region
    ],
)
def test_what_looks_like_a_filler_or_a_pause_but_is_not_stays(text: str, kept: dict | None) -> None:
    intents.load()
    parsed = parser.parse(text)
    assert parsed.params == (kept if kept is not None else {"name": text}), parsed


@pytest.mark.parametrize("name", ["王家湾村", "哈达村", "吧台村", "达哈"])
def test_names_keep_their_own_characters(name: str) -> None:
    """A particle is dropped from the end only, and 哈 (which ends names) is none."""
    intents.load()
    assert parser.parse(name) == parser.Parsed(parser.LOOKUP_NAME, {"name": name})


@pytest.mark.parametrize(
    ("text", "intent", "params"),
    [
        # a co-op figure asked with 人 or in words after it: the summary, not a unit's accounts
        ("王家湾村社员多少人", "summary", {"name": "王家湾村"}),
        ("社员有多少人", "summary", {}),
        ("白沙镇合作社有多少人", "summary", {"name": "白沙镇"}),
        ("本乡社员总数是多少", "summary", {"name": "本乡"}),
        ("利润总共多少", "summary", {}),
        ("注册资本一共多少", "summary", {}),
        ("本镇的从业人员有多少人", "summary", {"name": "本镇"}),
        ("王家湾村有多少人", "unit.members", {"name": "王家湾村"}),  # people: still the accounts
        ("王家湾村的从业人员", "summary", {"name": "王家湾村"}),  # 从业人员 is a co-op figure
        ("从业人员", "summary", {}),
        # the units of a level, asked as counted or listed
        ("白沙镇一共几个村", "unit.of_level", {"name": "白沙镇", "level": "村"}),
        ("白沙镇管几个村", "unit.of_level", {"name": "白沙镇", "level": "村"}),
        ("青山县乡镇列表", "unit.of_level", {"name": "青山县", "level": "乡镇"}),
        ("白沙镇所有村", "unit.of_level", {"name": "白沙镇", "level": "村"}),
        # co-ops listed or ranked without a region or a figure
        ("全部合作社列表", "coop.list", {}),
        ("合作社", "coop.list", {}),  # the word alone: the co-ops (a picker of names missed one)
        ("查合作社", "coop.list", {}),
        ("列出所有合作社", "coop.list", {}),
        ("合作社排名", "coop.top", {}),
        # a region code asked about is that unit, not a person
        ("530101001001是哪个村", parser.LOOKUP_REGION_CODE, {"region_code": "530101001001"}),
        # a range of founding years
        ("2015年到2020年成立的合作社", "coop.founded", {"from_year": "2015", "to_year": "2020"}),
        ("白沙镇2015-2020年成立的合作社", "coop.founded", {"region": "白沙镇", "from_year": "2015", "to_year": "2020"}),
        # an office of a unit named after the unit: the unit
        ("白沙镇政府", parser.LOOKUP_NAME, {"name": "白沙镇"}),
        ("白沙镇人民政府", parser.LOOKUP_NAME, {"name": "白沙镇"}),
        ("王家湾村委会", parser.LOOKUP_NAME, {"name": "王家湾村"}),
        ("王家湾村村委会", parser.LOOKUP_NAME, {"name": "王家湾村"}),
    ],
)
def test_questions_in_other_words_find_their_intent(text: str, intent: str, params: dict) -> None:
    intents.load()
    assert parser.parse(text) == parser.Parsed(intent, params)


async def test_this_village_after_a_co_op_is_the_co_ops_village(client) -> None:
    """ "这个村的汇总" after a co-op's card answered the co-op's own figures: 村 was not heard."""
    from backend.units.models import UnitType
    from tests.factories import login, make_account, make_tree, make_unit
    from tests.test_chat_lookup import say

    tree = await make_tree()
    await make_unit("王家湾村茶叶合作社", UnitType.COOP, tree.child)
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    headers = await login(client, "town_admin")
    for question in ("这个村的汇总", "这个村有哪些人"):  # through the summary's and the units' resolving
        await say(client, headers, "王家湾村茶叶合作社")
        said = str((await say(client, headers, question))["blocks"][0])  # later blocks may name its co-ops
        assert "王家湾村" in said and "茶叶" not in said, (question, said)


async def test_the_own_units_log_is_asked_as_本镇(client) -> None:
    """ "本镇的操作记录" looked for a person named 本镇 ("没有找到这个人")."""
    from tests.factories import login, make_account, make_tree
    from tests.test_chat_lookup import say

    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    headers = await login(client, "town_admin")
    reply = await say(client, headers, "本镇的操作记录")
    said = str(reply)
    assert "没有找到" not in said and "白沙镇" in said, reply


MORE_SAME_AS = [
    # accounts
    ("删除侯国梅的账号", "停用侯国梅的账号"),
    ("把侯国梅的账号删了", "停用侯国梅的账号"),
    ("给王家湾村加个录入员", "在王家湾村添加录入员"),
    ("帮我开个账号", "新建账号"),
    ("有没有被锁的账号", "哪些账号被锁了"),
    ("被锁住的人", "哪些账号被锁了"),
    ("侯国梅的用户名", "侯国梅是谁"),
    ("侯国梅的信息", "侯国梅是谁"),
    ("王家湾村的录入员有谁", "王家湾村的录入员是谁"),
    ("王家湾村有哪些人员", "王家湾村的人员"),
    # co-op rankings and lists
    ("各村合作社数量排名", "各村合作社数量"),
    ("哪个村合作社多", "哪个村合作社最多"),
    ("哪些村还没成立合作社", "哪些村没有合作社"),
    ("亏钱的合作社", "亏损的合作社"),
    # a co-op's card asked in other words
    ("王家湾村综合服务社的详细信息", "王家湾村综合服务社的信息卡"),
    ("改下王家湾村综合服务社的联系人", "修改王家湾村综合服务社的联系人"),
    # the log
    ("侯国梅做了什么操作", "侯国梅的操作记录"),
    # agents, own account, help, masked numbers
    ("加个经办人", "添加经办人"),
    ("我想改下密码", "修改密码"),
    ("你都能查什么", "帮助"),
    ("138****0001是谁", "138****0001"),
]


@pytest.mark.parametrize(("typed", "plain"), MORE_SAME_AS)
def test_more_questions_typed_as_cadres_type_them_are_read_as_their_plain_form(typed: str, plain: str) -> None:
    intents.load()
    assert parser.parse(typed).intent != parser.LOOKUP_NAME, typed
    assert parser.parse(typed) == parser.parse(plain), typed


def test_who_runs_a_co_op_is_its_card() -> None:
    intents.load()
    asked = parser.parse("王家湾村综合服务社谁负责")
    assert asked.intent == "coop.card" and asked.params["name"] == "王家湾村综合服务社" and asked.params["contact"]


@pytest.mark.parametrize(
    ("text", "word"), [("哪个合作社最赚钱", "赚钱"), ("最赚钱的合作社", "赚钱"), ("人最多的合作社", "人")]
)
def test_the_most_profitable_or_biggest_co_op_is_a_ranking(text: str, word: str) -> None:
    """The handler reads the word as the figure (backend.coops.chat._RANK_WORDS: profit, members)."""
    intents.load()
    asked = parser.parse(text)
    assert asked.intent == "coop.top" and asked.params.get("field") == word, text


def test_whether_someone_logged_in_on_a_day_is_their_log_of_logins_that_day() -> None:
    intents.load()
    asked = parser.parse("侯国梅今天登录了吗")
    assert asked.intent == "audit.recent" and asked.params.get("name") == "侯国梅" and asked.params.get("login")


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("帮我查下王家湾", "王家湾村"),
        ("查下王家湾", "王家湾村"),
        ("搜下王家湾", "王家湾村"),
        ("查下坝村", "下坝村"),  # 下 begins names: "查下" is tried as 查 first
        ("查下坝村的汇总", "下坝村"),
        ("看下汇总", "白沙镇"),
    ],
)
async def test_查下_asks_and_a_name_beginning_with_下_is_still_found(client, text: str, title: str) -> None:
    """ "查下坝村" looked up "坝村" once 查下 was an asking word (review of the day's changes)."""
    from backend.units.models import UnitType
    from tests.factories import login, make_account, make_tree, make_unit
    from tests.test_chat_lookup import say

    tree = await make_tree()
    await make_unit("下坝村", UnitType.VILLAGE, tree.own)
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    headers = await login(client, "town_admin")
    reply = await say(client, headers, text)
    assert reply.get("context", "").startswith(title) or reply["blocks"][0].get("title", "").startswith(title), reply


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("王家湾村综合服务社做什么", parser.LOOKUP_NAME),  # what it does: not the log
        ("编辑下坝村综合服务社的信息卡", "coop.edit"),
        ("王家湾村名单", parser.LOOKUP_NAME),  # not "the villages of 王家湾"
        ("王开账号", "account.card"),  # 王开's account, not a form for a unit 王
        ("白沙镇供销合作社有哪些人", "unit.members"),  # a co-op's people
        ("王家湾村打印服务合作社", parser.LOOKUP_NAME),  # a name holding 打印
        ("13900000001改成13900000002", parser.LOOKUP_PHONE),  # no intent takes the change
    ],
)
def test_names_and_questions_the_days_new_words_must_not_take(text: str, intent: str) -> None:
    intents.load()
    assert parser.parse(text).intent == intent, text


def test_a_value_typed_after_改成_keeps_its_last_character() -> None:
    intents.load()
    assert parser.parse("把王家湾村综合服务社的联系人改成李啦").params["value"] == "李啦"


@pytest.mark.parametrize("name", ["年初村", "月底村"])
def test_a_village_named_after_a_time_of_year_is_no_period(name: str) -> None:
    assert parser.split_period(name) == (name, None)


async def test_a_summary_of_a_level_above_the_own_unit_says_the_scope_it_answers(client) -> None:
    """ "全县汇总" typed by a township's cadre answered the township's figures without a word that
    the county is outside their scope; their own level says nothing extra, a level below says what
    their unit is (tests/test_summaries.py)."""
    from tests.factories import login, make_account, make_tree
    from tests.test_chat_lookup import say

    tree = await make_tree()
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    headers = await login(client, "town_admin")
    for wider in ("全县汇总", "全市的汇总", "本省汇总"):
        said = str(await say(client, headers, wider))
        assert "查看范围是白沙镇" in said and "白沙镇" in said and "桃源乡" not in said, (wider, said)
    for own in ("全镇汇总", "本乡汇总", "汇总"):
        said = str(await say(client, headers, own))
        assert "查看范围" not in said and "您的单位" not in said, (own, said)
    said = str(await say(client, headers, "我们村的汇总"))
    assert "查看范围" not in said and "您的单位白沙镇是乡镇，不是村" in said, said


async def test_the_own_unit_named_by_a_level_below_it_says_its_level_on_its_card(client) -> None:
    """ "我们镇" typed by a county's cadre showed the county's card as if it were a township."""
    from backend.units import messages as units_msg
    from tests.factories import login, make_account, make_tree
    from tests.test_chat_lookup import say

    tree = await make_tree()
    await make_account("county_admin", tree.parent, role=Role.ADMIN)
    headers = await login(client, "county_admin")
    reply = await say(client, headers, "我们镇")
    said = units_msg.CHAT_OWN_LEVEL_BELOW.format(unit="青山县", type="县", level="乡镇", name="白沙镇")
    assert [b.get("text") or b.get("title") for b in reply["blocks"]] == [said, "青山县"], reply
    assert not [b for b in (await say(client, headers, "本县"))["blocks"] if b["type"] == "notice"]


async def test_a_name_not_found_offers_no_suggestion_that_only_sounds_a_little_alike(client) -> None:
    """ "乡镇" (nothing of that name) offered the person 熊春 (xiangzhen ~ xiongchun) as a quick reply:
    a suggestion for Chinese typed that shares none of its characters must sound closer."""
    from tests.factories import login, make_account, make_tree
    from tests.test_chat_accounts import person
    from tests.test_chat_lookup import say

    tree = await make_tree()
    await person("xc01", "熊春", tree.child)
    await person("hgm01", "侯国梅", tree.child)
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    headers = await login(client, "town_admin")
    far = await say(client, headers, "乡镇")
    assert "熊春" not in str(far.get("suggestions")), far
    near = await say(client, headers, "侯国美")  # a character shared: still offered
    assert "侯国梅" in str(near), near


async def test_this_village_after_a_townships_card_asks_which_village(client) -> None:
    """ "这个村的汇总" after 白沙镇's card answered 白沙镇's figures as if it were a village."""
    from tests.factories import login, make_account, make_tree
    from tests.test_chat_lookup import say

    tree = await make_tree()
    await make_account("county_admin", tree.parent, role=Role.ADMIN)
    headers = await login(client, "county_admin")
    await say(client, headers, "白沙镇")
    for question in ("这个村的汇总", "这个村有哪些人", "这个村的下级单位"):
        reply = await say(client, headers, question)
        said = str(reply)
        assert "不是一个村" in said and "合作社汇总" not in said, (question, reply)
    assert (await say(client, headers, "这个镇的汇总"))["context"] == "白沙镇"


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("汇 总", "汇总"),
        ("合 作 社", "合作社"),
        ("上 一 页", "上一页"),
        ("下 一 页", "下一页"),
        ("嗯 汇 总", "汇总"),
        ("白 沙 镇 汇 总", "白沙镇汇总"),
        ("王家 湾村的汇总", "王家湾村的汇总"),
        ("王家湾村 汇 总", "王家湾村汇总"),
        ("王家湾村的合 作 社", "王家湾村的合作社"),
        ("王家湾村 合 作 社", "王家湾村 合作社"),
        ("下 级 单 位 王家湾", "下级单位 王家湾"),
        ("各 村 汇 总", "各村汇总"),
    ],
)
def test_spaces_typed_inside_words_are_read_as_the_words(typed: str, plain: str) -> None:
    """ "汇 总", "合 作 社", "上 一 页" (voice input and fat fingers put spaces between characters)
    were looked up as names."""
    intents.load()
    assert parser.parse(typed) == parser.parse(plain) != parser.Parsed(parser.LOOKUP_NAME, {"name": typed}), typed


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("王家湾村 合作社", parser.Parsed("coop.list", {"region": "王家湾村"})),
        ("王家湾村 合 作 社", parser.Parsed("coop.list", {"region": "王家湾村"})),
        ("王家湾村果蔬 合作社", parser.Parsed(parser.LOOKUP_NAME, {"name": "王家湾村果蔬 合作社"})),
        ("汇 总 白沙镇", parser.Parsed("summary", {"name": "白沙镇"})),
        ("下级单位 王家湾", parser.Parsed("unit.children", {"name": "王家湾"})),
        ("查 王家湾村的人员", parser.Parsed("unit.members", {"name": "王家湾村"})),
        ("这个 汇总", parser.Parsed("summary")),  # 这个 before a pause is a filler, not "the unit shown"
    ],
)
def test_a_space_between_a_name_and_a_word_still_parts_them(typed: str, parsed: parser.Parsed) -> None:
    intents.load()
    assert parser.parse(typed) == parsed
