"""Deterministic parsing of what a cadre types: no model, no guessing games.

1. Normalise: full-width letters and digits to half-width, spaces folded (and closed between two Chinese
   characters: "汇 总", "合 作 社"), polite prefixes dropped.
2. Paging words ("更多", "下一页", "还有吗", "再来10条") continue the last table; a text that ends
   in 呢 ("李家坪村呢", "汇总呢") follows up the last question (backend.chat.follow_up).
3. Identifiers recognised anywhere in the text: an 18-character resident ID number (with a wrong
   check character too: the lookup says so), an 11-digit mobile number (also with +86, or grouped "138 0013 8000" /
   "138-0013-8000"), a 12-digit region code, an 18-character unified social credit code.
4. The patterns domains registered with their intents, in priority order.
5. Otherwise short text is taken as a name to look up ("查 王家湾", "wangjiawan").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from backend.chat import registry
from backend.core import identifiers, names

MORE = "chat.more"
PREVIOUS_PAGE = "chat.previous_page"
PAGE = "chat.page"
FOLLOW_UP = "chat.follow_up"
LOOKUP_NAME = "lookup.name"
LOOKUP_ID_NUMBER = "lookup.id_number"
LOOKUP_PHONE = "lookup.phone"
LOOKUP_REGION_CODE = "lookup.region_code"
LOOKUP_CREDIT_CODE = "lookup.credit_code"
UNKNOWN = "chat.unknown"
_PERSON_CARD = "account.card"  # "…是谁", "…是哪个村的" (backend.accounts.chat)

# The next page, as cadres ask for it: "更多", "还有吗", "翻页", "再来10条" (a page is a page, whatever
# the number); a word that goes on ("再来村", "后面村") is a name.
_MORE = re.compile(
    r"(?i)^(?:看|再看)?(?:更多|下一页|下页|继续|more|next|翻页|下一批|还有吗|还有呢|还有没有?|后面的?|后面呢|后面还有吗"
    r"|接着看|继续看|往后翻|剩下的?|剩下的呢|其余的?|其他的呢"
    r"|(?:再来|再看|再给我?)\s*(?:[0-9]{1,3}|[一二两三四五六七八九十]{1,3})?\s*(?:条|个|页|行|些|批)?)$"
)
# Back to a page seen before: "上一页", "往前翻"; "第3页", "翻到第二页", "首页" (its ``number``).
_PREVIOUS = re.compile(r"^(?:返回|回到|退回)?(?:上一页|上页|前一页|前页|上一批|往前翻|向前翻|前面的?|前面呢)$")
_PAGE = re.compile(
    r"^(?:翻到|跳到|回到|返回|到|看|查看|给我看)?\s*(?:第\s*(?P<number>[0-9]{1,6}|[一二两三四五六七八九十百零]{1,5})\s*页"
    r"|(?P<first>首页|最前面|开头))$"
)
_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def chinese_number(text: str) -> int | None:
    """A whole number written in digits, or in Chinese up to 999 ("3", "十二", "二十", "一百零五", "零");
    None for anything else."""
    if text.isascii() and text.isdigit():
        return int(text)
    if text == "零":
        return 0
    total, digit, last_place = 0, None, 1000
    for char in text:
        if char in _DIGITS or char == "零":
            if digit is not None:
                return None
            digit = _DIGITS.get(char)
        elif char in "十百":
            place = 10 if char == "十" else 100
            if place >= last_place or (digit is None and place == 100):
                return None
            total, digit, last_place = total + (1 if digit is None else digit) * place, None, place
        else:
            return None
    return total + (digit or 0) if total or digit else None


# "李家坪村呢", "那李家坪村呢", "李家坪村的呢", "汇总呢": the last question again, about another unit
# (backend.chat.follow_up). Only 呢 at the very end: a name holding it elsewhere (李呢村) is a name.
_FOLLOW_UP = re.compile(r"^(?P<name>.+?)\s*的?\s*呢+$")
# One polite word or several ("麻烦帮我", "请问", "你好，帮我", "我想知道"), before the question.
_POLITE = (
    r"(?:(?:(?:请问|麻烦|请|帮忙|你帮我|帮我|给我|我想知道|想问一下|想问下|问一下|问下|我想|我要|能不能|可不可以|能否"
    r"|你好,?|您好,?)\s*)+)"
)
_ASKING = r"(?:查一下|查询|查看|查找|查查|搜索|搜一下|找一下|看看|看一下|介绍一下|介绍下|了解一下|列出|列一下)"
# "查下汇总": 查下 / 看下 ask too, but before a keyword only: 下 begins names (下坝村, 下庄村), and
# "查下王家湾" is tried as "下王家湾", then without the 下 (without_asking).
_ASKING_BEFORE_WORD = rf"(?:{_ASKING}|查下|看下|找下|搜下)"
# The asking words every intent's patterns may start with ("帮我查 王家湾村的人员"), one definition for
# every domain. 查, 看, 找 and 搜 alone only after a polite word or before a space: they also begin
# names (查家村).
ASK = rf"^(?:{_POLITE}?{_ASKING}\s*|{_POLITE}[查看找搜]?\s*|[查看找搜]\s+)?"
# Before a keyword that cannot begin a name ("查汇总", "看地图", "查村级社"): 查 or 看 alone asks too.
ASK_WORD = rf"^(?:{_POLITE}?{_ASKING_BEFORE_WORD}\s*|{_POLITE}?[查看找搜]\s*|{_POLITE})?"
# Before a bare name all of it goes: what is left is looked up, and the lookup forgives.
_PREFIX = re.compile(rf"^(?:{_POLITE}(?:{_ASKING}|搜|查|找)?|{_ASKING}|搜|查|找)\s*")
_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?(?P<phone>1[3-9][0-9]{9})(?![0-9])")
# A space or dash between digits, as numbers are read out and printed: "138 0013 8000".
_DIGIT_GAP = re.compile(r"(?<=[0-9])[ -](?=[0-9])")
# Trailing or leading punctuation and spaces, in any mix: "更多~", "下一页 。".
_EDGE_PUNCTUATION = " 。？！?!.,，~…、；;"
_REGION_CODE = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
_CREDIT_CODE = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{18}(?![0-9A-Z])")
MAX_NAME_LENGTH = 30
# A time named in a question ("2025年", "二〇二五年", "25年", "去年", "3月份", "一季度", "去年底",
# "年底", "截至目前"): intents whose figures are not kept by period take it out of the name and say
# so (split_period). A quarter needs its 度: "四季香合作社" is a name.
PERIOD = (
    r"(?:截至|截止)?\s*(?:(?<![0-9])(?:19|20)[0-9]{2}\s*(?:年度|年)?(?![0-9])|[〇零一二三四五六七八九]{4}\s*年度?"
    r"|(?<![0-9])[0-9]{2}\s*年度?|今年|去年|前年|本年度|本年|上半年|下半年|(?:第?[一二三四1-4]|本|上个?|这个?)季度"
    r"|(?:本|上|这个|上个)月|(?<![0-9])[0-9]{1,2}\s*月份?)(?:年?[底末初])?"
    r"|(?:截至|截止|到)\s*(?:目前|现在|今天|今日|当前|今)(?:为止)?|[年月][底末初](?![村社镇乡组])"
)  # also in patterns of intents that take a time apart from the name ("各村去年汇总")
_PERIOD = re.compile(PERIOD)


@dataclass(frozen=True)
class Parsed:
    intent: str
    params: dict[str, Any] = field(default_factory=dict)


# Characters with no glyph: controls and direction embeddings, overrides and isolates (which text
# fields refuse), and what shows as nothing (names.visible, as text fields drop it): typed to make one
# name show as another or pasted from another app, they go, so "王家\u200b湾" is 王家湾.
_UNSEEN_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# A unit's office after its name is the unit: "白沙镇政府", "王家湾村委会", "王家湾村村委会".
_OFFICE_OF_UNIT = re.compile(
    r"(?:(?<=[镇乡县市区道])(?:人民政府|政府|党委|办事处)|(?<=村)村?(?:委会|民委员会)|(?<=社区)居委会)$"
)
_CHANGE_TO = re.compile(r"(?:改成|改为|换成|更新为|修改为|变成|更改为)")
_PARTICLE = re.compile(r"(?<=\S)[啊吧呀嘛啦哦]+$")
# Words said while thinking, as voice input writes them down ("那个，就是王家湾那个村的合作社有哪些",
# "呃那个王家湾村汇总一下"): at the start, and 那个 inside a name before its place word. 这个 / 那个
# before a place word or 人 ("这个村", "那个人") point at something and stay; 额 / 唔 / 哎 begin
# names too (额济纳), so they go only before a pause.
_FILLERS = re.compile(
    r"^(?:(?:嗯+|呃+|就是|然后|那么)(?:\s*[,、]\s*|\s+|(?=\S\S)(?![村镇乡县市区省社单合地人它个]))"
    # 这个 / 那个 are the unit shown ("这个汇总", "这个的统计") or a time ("这个月", "这个季度"): they
    # go only before a pause or before a name with its place word ("那个王家湾村有几个合作社")
    r"|(?:这个|那个)(?:\s*[,、]\s*|\s+|(?=[^的,\s]{1,15}?[村镇乡县市区社])(?![村镇乡县市区省社单合地人它个月季星礼周年街标有的统汇下]))"
    r"|(?:额+|唔+|哎)\s*[,、]\s*)+"
)
_FILLER_IN_NAME = re.compile(r"(?<=\S)那个(?=[村镇乡社])")
# Keywords as they are often mistyped (an input method's first homophone): read as meant.
_MEANT = {
    "登陆": "登录",
    "操做": "操作",
    "合做社": "合作社",
    "合作设": "合作社",
    "汇宗": "汇总",
    "会总": "汇总",
    "下级单为": "下级单位",
    "重至": "重置",
    "从置": "重置",
}
# Not inside a place's name (登陆村, 汇宗镇, 会总村, 协会总社) nor a word (合作设施, 合作设立).
_SLIP = re.compile(
    r"(?:登陆|操做|合做社|汇宗|(?:^会总|会总$)|下级单为|重至|从置)(?![村镇乡县区社])|合作设(?![施立计备村镇乡])"
)
# A pause typed between a name and the keyword after it ("王家湾村，汇总"), or after a leading
# keyword ("汇总：王家湾村"), asks the same; a comma between names still compares them.
_PAUSE_BEFORE_WORD = re.compile(r"\s*[,:]\s*(?=(?:汇总|合作社|人员|下级单位|地图|统计|村级社|标杆社)$)")
_PAUSE_AFTER_WORD = re.compile(r"^(汇总|人员|下级单位|地图|统计|合作社)\s*:\s*")
_SPACE_BY_的 = re.compile(r"\s*的\s+|\s+的\s*")
# Words a space may set apart from a name ("王家湾村 合作社", "汇总 白沙镇", "王家湾村果蔬 合作社" is a
# co-op's own name): a space inside one ("合 作 社") closes, one at its edge stays.
_SET_APART = ("合作社", "汇总", "下级单位", "人员", "地图", "统计", "村级社", "标杆社", "信息卡")
_SPACED_WORD = re.compile("|".join(r" ?".join(word) for word in _SET_APART))
# A space between two Chinese characters, as voice input and fat fingers put them ("汇 总", "上 一 页").
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")
# Traditional characters, as a phone set to them types ("匯總", "上一頁", "王家灣村"): those of this
# chat's words, of place names and of common surnames, each with its one simplified form (names are
# kept simplified).
_SIMPLIFIED = str.maketrans(
    "匯總頁個員單級鄉鎮縣區標桿統計圖資產潤帳號碼錄記們這裡詢灣溝嶺壩莊車東門會農業專權設務變歲數種開關係導戶當應對點層書聯繫"
    "電話為麼還沒嗎誰幾隊張劉陳楊趙黃吳孫鄭馮蔣韓許鄧蕭馬羅謝盧葉閻譚龔錢湯賴國劃華偉紅麗軍興榮寶龍鳳雲蘭貴強傑義禮順紀藝後來條場"
    "請問幫衝綜負責營賬鎖貧從經辦轉換認證額審給讓處現歷滿發與於將況據學動見"
    "過億萬驗臨時間機註冊綁備財態狀誤錯啟線無進該樣範圍銷組實際頭帶體兩週簡絡網淨虧損長養藥漁魚園糧貿運輸廠買賣價裏訊選擇顯復閉優齡舊較筆傳寫稱項庫職說題曉陸蘇賈顧魯齊嚴橋廟崗灘澗窪峽漢蓮鐘鍾陽壯",
    "汇总页个员单级乡镇县区标杆统计图资产润账号码录记们这里询湾沟岭坝庄车东门会农业专权设务变岁数种开关系导户当应对点层书联系"
    "电话为么还没吗谁几队张刘陈杨赵黄吴孙郑冯蒋韩许邓萧马罗谢卢叶阎谭龚钱汤赖国划华伟红丽军兴荣宝龙凤云兰贵强杰义礼顺纪艺后来条场"
    "请问帮冲综负责营账锁贫从经办转换认证额审给让处现历满发与于将况据学动见"
    "过亿万验临时间机注册绑备财态状误错启线无进该样范围销组实际头带体两周简络网净亏损长养药渔鱼园粮贸运输厂买卖价里讯选择显复闭优龄旧较笔传写称项库职说题晓陆苏贾顾鲁齐严桥庙岗滩涧洼峡汉莲钟钟阳壮",
)
# A year written in Chinese digits ("二〇二〇年以后成立的"): read as its digits.
_CHINESE_YEAR = re.compile(r"[〇零一二三四五六七八九]{4}(?=\s*年)")
YEAR_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")  # also backend.chat.days


def normalise(text: str) -> str:
    # full-width ０-９ Ａ-Ｚ ？ and spaces to ASCII; traditional characters to simplified
    folded = unicodedata.normalize("NFKC", text).translate(_SIMPLIFIED)
    spaced = re.sub(r"\s+", " ", names.visible(_UNSEEN_CONTROLS.sub("", folded)))
    # Text that is only punctuation says nothing, except a question mark: that asks for help.
    clean = spaced.strip(_EDGE_PUNCTUATION)
    # A particle at the end asks nothing ("汇总吧", "有几个村啊"): the question is what comes before
    # (not after "改成": "…的联系人改成李啦" keeps the value typed).
    if _CHANGE_TO.search(clean):
        return clean or ("?" if "?" in spaced else "")
    clean = _spoken(clean)
    return _PARTICLE.sub("", clean).strip(_EDGE_PUNCTUATION) or clean or ("?" if "?" in spaced else "")


def _spoken(clean: str) -> str:
    """``clean`` without the fillers, gaps, slips and pauses of how it was said (see _FILLERS,
    _closed_gaps, _MEANT)."""
    clean = _FILLERS.sub("", clean) or clean  # first: a space after one is a pause ("这个 汇总")
    clean = _FILLER_IN_NAME.sub("", clean)
    clean = _closed_gaps(clean)
    clean = _SLIP.sub(lambda slip: _MEANT[slip.group()], clean)
    clean = _CHINESE_YEAR.sub(lambda year: year.group().translate(YEAR_DIGITS), clean)
    clean = _PAUSE_BEFORE_WORD.sub("", clean)
    clean = _PAUSE_AFTER_WORD.sub(r"\1 ", clean)
    return _SPACE_BY_的.sub("的", clean)


def _closed_gaps(clean: str) -> str:
    """``clean`` without the spaces between two Chinese characters ("汇 总", "王家 湾村"), except one
    that sets a name apart from a word of _SET_APART ("王家湾村 合 作 社" -> "王家湾村 合作社") or
    follows 查 / 看 / 找 / 搜 typed alone ("查 王家湾": 查 also begins names)."""
    if " " not in clean:
        return clean
    clean = _SPACED_WORD.sub(lambda word: word.group().replace(" ", ""), clean)

    def gap(space: re.Match[str]) -> str:
        before, after = clean[: space.start()], clean[space.end() :]
        apart = before.endswith(_SET_APART) or after.startswith(_SET_APART) or before in ("查", "看", "找", "搜")
        return " " if apart else ""

    return _CJK_GAP.sub(gap, clean)


def _identifier(clean: str) -> Parsed | None:
    """The first identifier in the text, by kind: ID number, credit code, what is written like an ID
    number, mobile, region code."""
    for match in _ID_NUMBER.finditer(clean):
        if identifiers.valid_id_number(match.group().upper()):
            return Parsed(LOOKUP_ID_NUMBER, {"id_number": match.group().upper()})
    for match in _CREDIT_CODE.finditer(clean.upper()):
        if identifiers.valid_credit_code(match.group()):
            return Parsed(LOOKUP_CREDIT_CODE, {"credit_code": match.group()})
    if mistyped := _ID_NUMBER.search(clean):  # its handler says the check character is wrong
        return Parsed(LOOKUP_ID_NUMBER, {"id_number": mistyped.group().upper()})
    if phone := _PHONE.search(clean):
        return Parsed(LOOKUP_PHONE, {"phone": phone.group("phone")})
    if code := _REGION_CODE.search(clean):
        return Parsed(LOOKUP_REGION_CODE, {"region_code": code.group()})
    return None


def _asked(clean: str) -> Parsed | None:
    """The intent whose pattern the text matches first (in priority order), with its parameters."""
    for spec in registry.by_priority():
        for pattern in spec.patterns:
            if found := pattern.search(clean):
                return Parsed(spec.name, {k: v for k, v in found.groupdict().items() if v})
    return None


def _about_code(clean: str, code: str) -> Parsed | None:
    """A question whose unit is named by its region code ("530101001001汇总", "统计 530101001001"):
    that question, its name parameter the code itself. None: the text is no such question (the code
    alone, "查530101001001"), and the code's unit card answers."""
    asked = _asked(clean)
    if asked is None or asked.intent in (LOOKUP_NAME, _PERSON_CARD):  # "…是哪个村": the code's unit
        return None
    names = [str(v) for v in asked.params.values()]
    return asked if [n.replace(" ", "").removesuffix("的") for n in names] == [code] else None


def parse(text: str) -> Parsed:
    clean = normalise(text)
    if _MORE.match(clean):
        return Parsed(MORE)
    if _PREVIOUS.match(clean):
        return Parsed(PREVIOUS_PAGE)
    if (page := _PAGE.match(clean)) and (
        (number := 1 if page.group("first") else chinese_number(page.group("number"))) is not None
    ):
        return Parsed(PAGE, {"number": number})
    if (follow := _FOLLOW_UP.match(clean)) and follow.group("name") not in ("那", "那么"):
        return Parsed(FOLLOW_UP, {"name": follow.group("name")})
    # As typed first; then with the gaps inside grouped digits closed, so that two numbers side by
    # side ("2024-05-01 13800138000") are not read as one.
    compact = _DIGIT_GAP.sub("", clean)
    # "把…的电话改成137…": the number is the new value, not what is asked about
    if _CHANGE_TO.search(clean) and (asked := _asked(clean)) is not None:
        return asked
    if found := _identifier(clean) or (_identifier(compact) if compact != clean else None):
        if found.intent == LOOKUP_REGION_CODE:
            return _about_code(clean, found.params["region_code"]) or found
        return found
    if asked := _asked(clean):
        return asked
    name = _PREFIX.sub("", clean).strip()
    name = _OFFICE_OF_UNIT.sub("", name) or name
    if name and len(name) <= MAX_NAME_LENGTH:
        return Parsed(LOOKUP_NAME, {"name": name})
    return Parsed(UNKNOWN, {"text": clean[:MAX_NAME_LENGTH]})


def without_asking(name: str) -> list[str]:
    """``name`` without the 查 / 看 / 找 / 搜 it begins with ("查白沙镇" -> "白沙镇"), then also without
    the 下 of "查下" ("查下王家湾" -> "下王家湾", "王家湾"): ASK leaves such words in a name (they
    begin names too: 查家村, 下坝村), so a name that matched nothing as typed is tried without them,
    nearest first. Empty: it begins with no such word."""
    tried: list[str] = []
    rest = name
    if len(rest) >= 2 and rest[0] in "查看找搜":
        rest = rest[1:].strip()
        tried.append(rest)
    if (len(rest) >= 3 and rest[0] == "下") or rest.startswith("一下"):
        tried.append(rest.removeprefix("一下").removeprefix("下").strip())
    return [bare for bare in tried if bare]


def split_period(name: str) -> tuple[str, str | None]:
    """``name`` without the time it names, and that time ("2025年王家湾村" -> "王家湾村", "2025年")."""
    found = _PERIOD.search(name)
    if found is None:
        return name, None
    rest = (name[: found.start()] + name[found.end() :]).strip(" 的")
    return rest, found.group().replace(" ", "")
