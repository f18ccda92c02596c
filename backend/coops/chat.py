"""Chat intents of the coops domain (registered on import by backend.chat.intents).

- ``summary``: 汇总 of a unit from the roll-ups: the actor's own unit ("汇总", "本乡汇总"), a named
  unit in scope ("汇总 青山县", "青山县汇总"), or the last unit shown ("这个村的汇总", "这里的汇总");
  buttons elsewhere send ``{"intent": "summary", "params": {"unit_id": id}}``; "各村汇总" is the summary
  (its breakdown is by child). A unit may be named by its region code ("530101001001汇总").
- ``coop.card``: one co-op's info card (``unit_id``, or "王家湾村茶叶合作社的信息卡").
- ``coop.list`` / ``coop.village_level`` / ``coop.benchmark`` / ``coop.poverty_county``: the lists,
  in a region ("村级社", "青山县的标杆社", "贫困县基层社 白沙镇"), paged by "更多".
- ``coop.stats`` ("统计", "青山县统计指标", "村级社占比") and ``coop.map`` ("地图", "地图 白沙镇",
  "合作社分布").
- ``coop.top``: the co-ops of a region with the most members, staff or money ("社员最多的合作社");
  ``coop.units_most`` / ``coop.units_without``: its villages, townships, counties or cities with the
  most co-ops (or members, staff...), or with none ("哪个村合作社最多", "哪些村没有合作社").

Money follows the finance rule of backend.coops.finance (the serializers apply it).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, Literal, cast

from backend.accounts.chat import person_just_shown, person_named
from backend.chat import lookup, registry
from backend.chat.builtin import held_elsewhere
from backend.chat.params import whole_number
from backend.chat.parser import (
    ASK,
    ASK_WORD,
    PERIOD,
    chinese_number,
    normalise,
    split_period,
    without_asking,
)
from backend.chat.protocol import (
    Action,
    CardBlock,
    ChartBlock,
    ChatReply,
    FormBlock,
    KeyValue,
    MapBlock,
    NoticeBlock,
    Pin,
    Series,
    Suggestion,
    TableBlock,
    TextBlock,
)
from backend.chat.references import means_last_shown, means_own
from backend.chat.registry import Turn, answers_names, intent
from backend.coops import actions, card_form, queries
from backend.coops import messages as msg
from backend.coops.finance import FEN_PER_WAN, card_visible, divide_halves_up, load_ancestors, shown, total_shown
from backend.coops.queries import CardView, Kind, UnitRef
from backend.coops.schemas import MAX_WAN, CardOut, FiguresOut
from backend.coops.serializers import card_out, card_row, card_version, figures_out, stats_out
from backend.core import db, runtime
from backend.core.actor import Actor
from backend.core.errors import AppError, NotFound
from backend.core.etags import IfMatch
from backend.core.roles import FinanceAccess, allows
from backend.core.scope import path_prefix_sql
from backend.units import messages as units_msg
from backend.units.chat import (
    LEVEL,
    above_scope,
    each_level_notices,
    last_shown_unit,
    level_named,
    level_param,
    names_a_coop,
    own_level_notices,
    region_code_named,
    type_label,
    unit_action,
    unit_reply,
    units_coded,
)
from backend.units.models import Unit, UnitType
from backend.units.queries import get_unit

PERMISSION = "coops.view"
WRITE = "coops.write"
PAGE_SIZE = 10
CHART_BARS = 15

_NAME_CLEAN = re.compile(r"\s+")
MAX_LIKE = 8  # buttons offered for a name that matches no unit exactly
MAX_NEAR = 3  # quick replies offered for a name that matches nothing
# "汇总一下", "汇总情况 青山县": words after 汇总 that ask for it, not name a unit (a whole word only).
_SUMMARY_FILLER = r"(?:(?:一下|下|情况|数据|表)(?=\s|$))?"
_SUMMARY_FIGURES = r"(?:资产总额|总资产|资产|营业收入|收入|利润|社员数|社员人数|社员|从业人员|注册资本)"


def _int_param(value: Any) -> int:
    """A positive id or cursor from a button or the paging context (numbers may arrive as text)."""
    number = whole_number(value)
    if number is None:
        raise AppError("bad_param", msg.BAD_PARAM)
    return number


def _cursor(params: dict[str, Any]) -> int | None:
    """Where a page starts: a button's or the paging context's ``cursor`` (None: the first page)."""
    return _int_param(params["cursor"]) if params.get("cursor") is not None else None


def _notice(text: str, level: Literal["info", "warning"] = "info") -> ChatReply:
    return ChatReply(blocks=[NoticeBlock(level=level, text=text)], suggestions=_suggestions())


_QUICK_REPLIES = (  # label, text typed, and the intent and parameter a region's quick reply presses
    ("汇总", "汇总", "summary", "unit_id"),
    ("村级社", "村级社", "coop.village_level", "region_id"),
    ("标杆社", "标杆社", "coop.benchmark", "region_id"),
    ("统计指标", "统计", "coop.stats", "region_id"),
    ("地图", "地图", "coop.map", "region_id"),
)


def _suggestions(turn: Turn | None = None, region: Unit | None = None) -> list[Suggestion]:
    """The quick replies under an answer. Under one about a region other than the own unit (a
    village's summary, list or map) they ask about that region: typed alone, those words are the
    own unit's, and a cadre tapping 汇总 under 李家坪村's figures read the township's."""
    if turn is None or region is None or region.id == turn.actor.unit_id or region.type == UnitType.COOP:
        return [Suggestion(label=label, text=text) for label, text, _, _ in _QUICK_REPLIES]
    return [
        Suggestion(label=label, action=Action(label=label, intent=intent_name, params={key: region.id}))
        for label, _, intent_name, key in _QUICK_REPLIES
    ]


async def _pick(actor: Actor, subtitle: str, found: list[lookup.Match], intent_name: str, key: str) -> ChatReply:
    """Several units may be meant: one button per unit, labelled with the unit above it if that is
    in scope (lookup.labels, as every other list of namesakes)."""
    names = await lookup.labels(actor, found)
    actions = [
        Action(label=label, intent=intent_name, params={key: m.id}) for m, label in zip(found, names, strict=True)
    ]
    card = CardBlock(title=msg.PICK_TITLE, subtitle=subtitle, actions=actions)
    return ChatReply(blocks=[card], suggestions=_suggestions())


def _name_param(turn: Turn, name_key: str) -> str:
    return _NAME_CLEAN.sub("", str(turn.params.get(name_key) or "")).removesuffix("的")


def _known_unit_id(turn: Turn, *, key: str, name_key: str, follows: bool = False) -> int | None:
    """The id of the unit a turn is about when the turn itself says it (a button's id, or the
    actor's own unit: "本乡", or no name unless it ``follows`` the conversation), before anything is
    read; None for a name or "这里"."""
    if turn.params.get(key) is not None:
        return _int_param(turn.params[key])
    name = _name_param(turn, name_key)
    if name:
        return turn.actor.unit_id if means_own(name) else None
    return None if follows else turn.actor.unit_id


def _typed(turn: Turn) -> str:
    """The text of the turn as the parser read it (parser.normalise: "匯總", "汇 总" and "汇宗" are
    "汇总"); "" for a button's."""
    return normalise(turn.text) if turn.text else ""


def _asks_a_figure(turn: Turn) -> bool:
    """A figure typed with no unit ("社员多少", "资产有多少") asks about the unit just shown, as a
    follow-up does; "汇总" typed alone, in any spelling, is the own unit's (a standing question, as
    "本乡汇总")."""
    return turn.params.get("unit_id") is None and "汇总" not in _typed(turn)


async def _target(
    turn: Turn,
    *,
    key: str,
    name_key: str,
    intent_name: str,
    instead: Callable[[Turn, str], Awaitable[ChatReply | None]] | None = None,
    follows: bool = False,
) -> Unit | ChatReply:
    """The unit a turn is about: an id from a button, "这里" (the last unit shown), "本乡" or nothing
    (the actor's own unit; nothing, when the turn ``follows`` the conversation: the unit shown last,
    else the own unit), or a name in scope: exact (several: buttons to choose), else as the chat's
    lookup forgives it (part of the name, pinyin, a typo: the one sure match, or buttons).
    ``instead``: asked for its answer when the name matches no unit better than a near spelling."""
    if turn.params.get(key) is None and (talked_of := await _place_talked_of(turn, _name_param(turn, name_key))):
        return talked_of
    known = _known_unit_id(turn, key=key, name_key=name_key, follows=follows)
    if known is not None:
        return await get_unit(turn.actor, known)
    name = _name_param(turn, name_key)
    if not name:  # follows: the unit shown last; none, or no longer in scope: the own unit
        with suppress(NotFound):
            if (shown := await last_shown_unit(turn, name)) is not None:
                return shown
        return await get_unit(turn.actor, turn.actor.unit_id)
    if means_last_shown(name):
        shown = await _last_shown(turn, name)
        return shown if shown is not None else _notice(msg.NO_LAST_UNIT)
    code = region_code_named(name)  # "530101001001汇总": the unit so coded
    found = await (units_coded(turn.actor, code) if code else queries.units_named(turn.actor, name))
    if len(found) == 1:
        return found[0]
    if found:
        subtitle = msg.PICK_ONE.format(count=len(found), name=name)
        if len(found) > queries.MAX_NAME_MATCHES:  # more namesakes than buttons: say how to narrow
            found = found[: queries.MAX_NAME_MATCHES]
            subtitle = msg.PICK_MANY.format(count=len(found), name=name)
        return await _pick(turn.actor, subtitle, [lookup.unit_match(u) for u in found], intent_name, key)
    if code:
        return _notice(units_msg.CHAT_CODE_NOT_FOUND, "warning")
    like = await lookup.find(turn.actor, name, units=True, limit=MAX_LIKE)
    sure = lookup.single(like)
    for bare in without_asking(name) if sure is None else ():  # "查白沙镇汇总": 查 asked
        if sure := lookup.single(await lookup.find(turn.actor, bare, units=True, limit=MAX_LIKE)):
            break
    if sure is not None:
        return await get_unit(turn.actor, sure.id)
    if instead is not None and not (like.matches and like.matches[0].rank < lookup.Rank.FUZZY):
        answer = await instead(turn, name)
        if answer is not None:
            return answer
    if like.matches:
        return await _pick(turn.actor, msg.PICK_LIKE.format(name=name), like.matches, intent_name, key)
    if (held := await held_elsewhere(turn.actor, name)) is not None:  # theirs, another unit they chose not
        return _notice(held, "info")
    if (above := await above_scope(turn.actor, name)) is not None:  # "云岭省汇总" typed by a county's cadre
        return _notice(above, "info")  # the scope, as the name lookup says it
    not_found = _notice(msg.NAME_NOT_FOUND.format(name=name), "warning")
    near = like.near[:MAX_NEAR]  # nothing like it either: the closest names, as quick replies
    names = await lookup.labels(turn.actor, near)
    chips = [
        Suggestion(label=n, action=Action(label=n, intent=intent_name, params={key: m.id}))
        for m, n in zip(near, names, strict=True)
    ]
    return ChatReply(blocks=not_found.blocks, suggestions=chips + not_found.suggestions)


async def _last_shown(turn: Turn, reference: str) -> Unit | None:
    """The unit a reference to the last unit shown means (units.chat.last_shown_unit: "这个合作社",
    "该社" are the co-op shown last); "这个社" when no co-op was shown: AppError saying the unit shown
    is none (which co-op is not known), as "这个村" after a township's card does."""
    shown = await last_shown_unit(turn, reference)
    if shown is not None and names_a_coop(reference) and shown.type != UnitType.COOP:
        said = msg.SHOWN_NOT_A_COOP.format(name=shown.name, type=type_label(shown.type))
        raise AppError("reference_level", said, status=422)
    return shown


async def _place_talked_of(turn: Turn, name: str) -> Unit | None:
    """ "村里" (an own-unit word: references.means_own) typed right after a unit in a village was shown
    (a co-op's card, a village's summary): that village. A township's cadre means the village they
    are looking at, not their township; a village's cadre gets their own village either way. None:
    the name is no such word, or nothing at or below that level was just shown (the own unit's)."""
    place = name.removesuffix("里")
    level = level_named(place) if place != name and means_own(name) else None
    if level is None or await turn.context.unit_just_shown() is None:
        return None
    with suppress(NotFound, AppError):  # shown out of scope since, or a region above the level
        shown = await last_shown_unit(turn, place)
        if shown is not None and shown.type == level:
            return shown
    return None


async def _unit_just_shown(turn: Turn) -> Unit | None:
    """The unit the last answer showed (ChatContext.unit_just_shown); None: it showed none, or that
    unit is no longer in scope."""
    just = await turn.context.unit_just_shown()
    if just is None:
        return None
    with suppress(NotFound):
        return await get_unit(turn.actor, just[0])
    return None


def _money(value: str) -> str:
    return value if value == msg.NO_FINANCE else f"{value} {msg.MONEY_UNIT}"


# ---- summary (W4) ----------------------------------------------------------------------------


_CHART_SERIES = (
    (msg.SERIES_COOPS, "coops"),
    (msg.SERIES_VILLAGE_LEVEL, "village_level"),
    (msg.SERIES_BENCHMARK, "benchmark"),
)


def _breakdown_row(child: queries.Figures) -> list[str]:
    """A child unit's row of a summary's breakdown (the columns of msg.SUMMARY_COLUMNS)."""
    t = child.totals
    counts = (t["coops"], t["village_level"], t["benchmark"], t["members"])
    return [child.unit.name, *map(str, counts), total_shown(t, "assets", child.money_visible)]


def _counts_chart(title: str, rows: list[queries.Figures]) -> ChartBlock:
    """A bar chart of the co-op counts (_CHART_SERIES) of ``rows``' units."""
    return ChartBlock(
        title=title,
        kind="bar",
        labels=[row.unit.name for row in rows],
        series=[
            Series(name=label, values=[float(row.totals[counter]) for row in rows]) for label, counter in _CHART_SERIES
        ],
        unit=msg.COUNT_UNIT,
    )


def _money_unit(amount: str) -> str | None:
    """The unit of the amounts a card shows; none when they are masked (无权限)."""
    return msg.SUMMARY_SUBTITLE if amount != msg.NO_FINANCE else None


def _figure_fields(f: FiguresOut) -> list[KeyValue]:
    return [
        KeyValue(label="合作社", value=f"{f.coops} 个"),
        KeyValue(label=msg.FLAG_VILLAGE_LEVEL, value=f"{f.village_level} 个"),
        KeyValue(label=msg.FLAG_BENCHMARK, value=f"{f.benchmark} 个"),
        KeyValue(label=msg.FLAG_POVERTY_COUNTY, value=f"{f.poverty_county} 个"),
        KeyValue(label=msg.LABEL_MEMBERS, value=str(f.members)),
        KeyValue(label=msg.LABEL_STAFF, value=str(f.staff)),
        KeyValue(label=msg.LABEL_CAPITAL, value=_money(f.registered_capital)),
        KeyValue(label=msg.LABEL_ASSETS, value=_money(f.assets)),
        KeyValue(label=msg.LABEL_REVENUE, value=_money(f.revenue)),
        KeyValue(label=msg.LABEL_PROFIT, value=_money(f.profit)),
    ]


# Between the units of "白沙镇和桃源乡的汇总", "白沙镇、桃源乡汇总", "对比白沙镇与桃源乡". A name may
# hold one of these words (和平村, 太和镇): the whole name is tried first, and every part must be a
# name of two characters or more.
_BETWEEN = r"(?:以及|和|与|跟|及|比|、|，|,)"
_BETWEEN_UNITS = re.compile(rf"\s*{_BETWEEN}\s*")
_COMPARE = r"(?:对比一下|比较一下|比一比|比一下|对比|比较)"
_COMPARE_FIRST = re.compile(rf"^{_COMPARE}\s*")
_MORE_OR_LESS = re.compile(r"(?:多|少)了?$")
# What stands against a unit in "社员比去年多了多少" and is none: a figure (the time goes with the period).
_NO_UNIT = re.compile(rf"(?:合作社|社|{_SUMMARY_FIGURES})(?:数|数量|总数|总额)?")
_FIGURE_AFTER = re.compile(rf"\s*(?:的|按照?)?\s*{_SUMMARY_FIGURES}(?:数|数量|总数|总额)?$")
# The figures a comparison shows in its usual columns (msg.SUMMARY_COLUMNS): compared by another, it
# shows that one too
_COMPARED_ALWAYS = frozenset({"members", "assets"})

# "王家湾村合作社汇总", "本镇信息卡汇总": the summary's own title typed back names the unit and then
# what is summed (as 统计 and 地图 take "合作社" after the name): the word goes unless it ends a unit's name.
_SUMMARY_WORDS = ("合作社", "信息卡")


async def _without_summary_word(turn: Turn) -> Turn:
    """The turn with "合作社" / "信息卡" taken off the end of the named unit, unless a unit in scope
    is named exactly so (a co-op's own name often ends in 合作社); nothing left: the own unit."""
    if turn.params.get("unit_id") is not None:
        return turn
    name = _name_param(turn, "name")
    word = next((w for w in _SUMMARY_WORDS if name.endswith(w)), None)
    # "这个合作社汇总" names the co-op shown, not the unit shown ("这个")
    if word is None or means_last_shown(name) or await queries.units_named(turn.actor, name):
        return turn
    return replace(turn, params={**turn.params, "name": name.removesuffix(word).removesuffix("的")})


# "各村汇总", "各乡镇情况": the figures of each unit below, which is the summary's breakdown by child.
# Without a unit named it is the actor's own unit's, as for "汇总": "各村" says how the answer is
# broken down, not which unit it is about, and a unit shown earlier is named when meant ("这个镇各村
# 汇总", "白沙镇的各村情况"). A name before 各 must end in a place word, so that a village whose name
# holds 各 (罗各村) is still named whole.
# A time before 各 ("今年各村汇总", "白沙镇2025年各村情况") ends the name too: the summary takes it out
# (split_period) and says figures are not kept by it; so does a time after 各村 ("各村去年汇总"), its
# ``period``.
_EACH_PERIOD_END = r"年|年度|季度|月|月份|[年月][底末初]|目前|现在|为止"
_EACH = (
    ASK + rf"(?P<name>(?:.*?(?:镇|乡|县|市|区|街道|这里|这儿|{_EACH_PERIOD_END}))?)\s*的?\s*各\s*"
    r"(?:行政村|村|乡镇|镇|乡|社区|街道|县|区|市|州|单位|下级单位)\s*的?\s*"
    rf"(?:(?P<period>{PERIOD})\s*的?\s*)?(?:合作社)?"
    rf"(?:汇总|情况|数据|统计|{_SUMMARY_FIGURES}(?:数|数量|总数|总额)?)$"
)

_EACH_LEVEL = re.compile(r"各\s*(?P<level>行政村|村|乡镇|镇|乡|社区|街道|县|区)")

_NOT_POVERTY = r"(?!.*贫困县)"  # no unit is named 贫困县: the word asks for coop.poverty_county's list


@intent(
    "summary",
    patterns=(
        _EACH,
        ASK_WORD + r"(?:信息卡)?汇总" + _SUMMARY_FILLER + r"(?:\s*(?P<name>.+))?$",
        ASK + r"(?P<name>.+?)\s*的?\s*汇总" + _SUMMARY_FILLER + r"$",
        # "王家湾有几个合作社", "咱镇有多少家合作社", "白沙镇合作社有多少个", "王家湾村的资产",
        # "本镇营业收入是多少", "王家湾村有多少社员": what the summary card holds
        # (not "贫困县有几个合作社": the list of co-ops in poverty counties, coop.poverty_county)
        ASK + rf"{_NOT_POVERTY}(?P<name>.*?)\s*(?:一共|总共)?(?:有|共有)?(?:几|多少)(?:个|家)?(?:合作社|社)$",
        ASK + rf"{_NOT_POVERTY}(?P<name>.*?)\s*的?\s*合作社(?:一共|总共)?(?:有|共有)?(?:几|多少)(?:个|家)?人?$",
        ASK + rf"{_NOT_POVERTY}(?P<name>.*?)\s*的?\s*合作社(?:总数|数量|个数|总量)(?:是多少|有多少|多少)?$",
        ASK + rf"{_NOT_POVERTY}(?P<name>.*?)\s*(?:有没有|有无)(?:合作社|社)$",
        ASK + rf"{_NOT_POVERTY}(?P<name>.*?)\s*(?:还)?有(?:合作社|社)(?:吗|么|没有|没)$",
        ASK + r"(?P<name>.*?)\s*的?\s*合作社(?:的)?(?:基本情况|发展情况|情况|概况|怎么样)$",
        # no name: the own unit's ("社员总数", "资产总额是多少"); an average is the statistics'
        ASK
        + r"(?!.*平均)(?P<name>.*?)\s*的?\s*(?:一共|总共)?(?:有|共有)?(?:几|多少)?(?:个|名)?"
        + rf"{_SUMMARY_FIGURES}(?:总额|总数|合计)?(?:一共|总共)?(?:是|有|共有)?(?:多少|几)?(?:个|名)?(?:人|钱|万元?)?$",
        # "对比白沙镇和桃源乡", "白沙镇和桃源乡比较一下": units side by side (_compared)
        ASK + rf"{_COMPARE}\s*(?P<name>.+?{_BETWEEN}.+?)\s*的?\s*(?:合作社)?(?:汇总|情况)?$",
        ASK + rf"(?P<name>.+?{_BETWEEN}.+?)\s*的?\s*(?:合作社)?(?:汇总)?{_COMPARE}$",
        # "张家冲村和陈家寨村哪个合作社多", "白沙镇与桃源乡谁的社员多": side by side
        ASK
        + rf"(?P<name>.+?{_BETWEEN}.+?)\s*(?:哪个|哪家|哪一个|谁)(?:的)?"
        + rf"(?:合作社|社|{_SUMMARY_FIGURES})?(?:更)?(?:多|少|大|高)$",
        # "白沙镇比桃源乡多几个合作社": the two side by side say how many more
        # (not 占比 / 比例 / 比重 / 比率: "村级社占比是多少" is the statistics)
        ASK
        + r"(?P<name>.+?(?<!占)比(?![例重率]).+?)(?:多|少)(?:了)?(?:几个|几家|多少个?|多少)?(?:合作社|社员|人|社)?$",
    ),
    permission=PERMISSION,
    priority=50,  # before broader patterns of other domains: anything ending in 汇总 is a summary
    subject="name",
)
async def summary(turn: Turn) -> ChatReply:
    turn, period = _without_period(turn, "name")
    return _say_period(period or _period_after_each(turn), await _summary(turn))


# "这个社多少人", "该合作社一共几个人": the people of the co-op just shown are its members (its card's
# figure), as "这个合作社有多少人" is; the unit's accounts ("这个村多少人") are unit.members', tried
# before the summary, so these go before it.
_THIS_COOP = r"(?:这个|这一个|这|该|此|那个)(?:合作社|社)"


@intent(
    "coop.headcount",
    patterns=(ASK + rf"(?P<name>{_THIS_COOP})\s*(?:一共|总共|共)?(?:有)?(?:多少个?人|几个人|几人)$",),
    permission=PERMISSION,
    priority=35,  # before unit.members ("这个村多少人": its accounts)
    subject="name",
)
async def headcount(turn: Turn) -> ChatReply:
    """The members of the co-op just shown: its summary, which for one co-op is its card."""
    return await summary(turn)


def _period_after_each(turn: Turn) -> str | None:
    """The time typed after 各村 ("各村去年汇总": _EACH's ``period``), None for none (or a parameter
    that is no time)."""
    rest, period = split_period(str(turn.params.get("period") or ""))
    return None if rest else period


def _without_period(turn: Turn, name_key: str) -> tuple[Turn, str | None]:
    """The turn with a time taken out of the unit's name ("2025年汇总", "去年王家湾村的资产"), and that
    time: the roll-ups hold the cards as they are now, not by year."""
    name, period = split_period(str(turn.params.get(name_key) or ""))
    if period is None:
        return turn, None
    return replace(turn, params={**turn.params, name_key: name}), period


def _say_period(period: str | None, reply: ChatReply, said: str = msg.PERIOD_NOT_KEPT) -> ChatReply:
    """``reply`` led by a notice (``said``) that figures are not kept by ``period`` (when the text
    named one)."""
    if period is None:
        return reply
    notice = NoticeBlock(level="info", text=said.format(period=period))
    return reply.model_copy(update={"blocks": [notice, *reply.blocks]})


async def _as_the_cards_are(turn: Turn, answer: Callable[[Turn], Awaitable[ChatReply]]) -> ChatReply:
    """``answer`` to the turn with a time taken out of its region ("2025年合作社地图", "去年社员最多的
    村"), led by a word that the lists, rankings and map, like the summary, show the cards as they are."""
    turn, period = _without_period(turn, "region")
    return _say_period(period, await answer(turn), msg.PERIOD_NOT_KEPT_CARDS)


async def _summary(turn: Turn) -> ChatReply:
    """汇总: counts and totals of a unit's subtree with the breakdown by child unit, from roll-ups only.

    When the turn names the unit by id (its own, a button's) or names none (most likely the own
    unit), the roll-up reads go out with the unit's read instead of after it; they are used only
    once the unit is found in scope, and only if it is the unit the turn is about. A figure asked
    with no unit ("社员多少") is about the unit shown last (:func:`_asks_a_figure`).
    Several units named ("白沙镇和桃源乡的汇总") are compared side by side (:func:`_compared`).
    """
    turn = await _without_summary_word(turn)
    typed_figure = _asks_a_figure(turn)
    known = _known_unit_id(turn, key="unit_id", name_key="name", follows=typed_figure)
    # a figure with no unit is most often asked of the own unit too: its reads go out at once
    likely = known if known is not None or _name_param(turn, "name") else turn.actor.unit_id
    reads = queries.SummaryReads(likely) if likely else None
    target: Unit | ChatReply | None = None
    try:
        target = await _target(turn, key="unit_id", name_key="name", intent_name="summary", follows=typed_figure)
    finally:
        if reads is not None and not isinstance(target, Unit):  # refused, or no such unit in scope
            await reads.drop()
    if isinstance(target, ChatReply) and known is None:
        target = await _compared(turn, target)
    if isinstance(target, ChatReply):
        return target
    # "全县汇总" typed by a township's cadre, "本镇汇总" by a county's: theirs, and say so
    lead = await own_level_notices(turn, _name_param(turn, "name"), target, msg.WHAT_SUMMARY, msg.ASK_SUMMARY)
    # Remembered before the roll-ups are read: the context's write goes out alongside those reads.
    await turn.context.remember_unit(target.id, target.name, target.type)
    await turn.context.remember_page("summary", {"unit_id": target.id}, None)
    result = await queries.summary(turn.actor, target, reads)
    own = figures_out(result.figures)
    if own.coops == 1 and target.type == UnitType.COOP and typed_figure:
        # a figure typed of one co-op ("…的利润", "…有多少社员"): its card holds it ("合作社 1 个" says
        # nothing); "…汇总" and its card's 汇总 button still show the summary
        with suppress(NotFound):
            return await _card_reply(turn, await queries.get_card(turn.actor, target.id), *lead)
    bare = [] if target.type == UnitType.COOP else await _bare_coops_notices(target, counted=own.coops > 0)
    if own.coops == 0:
        return ChatReply(
            blocks=[*lead, NoticeBlock(text=msg.SUMMARY_EMPTY.format(unit=target.name)), *bare],
            suggestions=_suggestions(turn, target),
            context=target.name,
        )
    card = CardBlock(
        title=(msg.COOP_SUMMARY_TITLE if target.type == UnitType.COOP else msg.SUMMARY_TITLE).format(unit=target.name),
        subtitle=_money_unit(own.assets),
        fields=_figure_fields(own),
        actions=[
            Action(label=msg.BUTTON_STATS, intent="coop.stats", params={"region_id": target.id}),
            Action(label=msg.BUTTON_MAP, intent="coop.map", params={"region_id": target.id}),
        ],
    )
    children = result.children
    if children and (each := _EACH_LEVEL.search(_typed(turn))):  # "各村汇总" at a county: rows of townships
        by_type = next((c.unit.type for c in children if c.unit.type != UnitType.COOP), None)
        lead += await each_level_notices(turn, each.group("level"), target, by_type, msg.WHAT_SUMMARY)
    blocks: list[Any] = [*lead, card]
    if children:
        # The rows straight from the roll-up totals: a validated model per child, for the six figures
        # a row shows, took 90 µs for 20 children against 24.
        blocks.append(
            TableBlock(
                title=msg.SUMMARY_BREAKDOWN,
                columns=msg.SUMMARY_COLUMNS,
                rows=[_breakdown_row(child) for child in children],
                row_actions=[
                    Action(label=msg.BUTTON_CARD, intent="coop.card", params={"unit_id": child.unit.id})
                    if isinstance(child.unit, UnitRef) and child.unit.has_card and child.totals["coops"] == 1
                    else Action(label=msg.BUTTON_SUMMARY, intent="summary", params={"unit_id": child.unit.id})
                    for child in children
                ],
                total=None if result.more_children else len(children),  # cut: how many in all is unknown
            )
        )
        top = children[:CHART_BARS]
        # children come most co-ops first: a cut chart says which it shows
        title = msg.SUMMARY_CHART if len(children) <= CHART_BARS else msg.SUMMARY_CHART_TOP.format(count=len(top))
        blocks.append(_counts_chart(title, top))
        if result.more_children:
            blocks.append(NoticeBlock(text=msg.SUMMARY_MORE_CHILDREN.format(shown=len(children))))
    blocks += bare
    return ChatReply(blocks=blocks, suggestions=_suggestions(turn, target), context=target.name)


# ---- co-op units with no card yet ----------------------------------------------------------------

# Counts and lists are of cards; a co-op unit whose card is not made yet is said apart, by name.
_WITHOUT_CARD_SQL = (
    "SELECT u.name FROM unit u WHERE {below} AND u.type = ? "
    "AND NOT EXISTS (SELECT 1 FROM coop_card c WHERE c.unit_id = u.id) ORDER BY u.id LIMIT ?"
)
_WITHOUT_CARD_COUNT_SQL = (
    "SELECT COUNT(*) FROM unit u WHERE {below} AND u.type = ? "
    "AND NOT EXISTS (SELECT 1 FROM coop_card c WHERE c.unit_id = u.id)"
)
_BARE_NAMES_SHOWN = 5
_BARE_COOPS_LEVELS = frozenset({UnitType.TOWNSHIP.value, UnitType.VILLAGE.value})


async def _bare_coops_notices(region: Unit, *, counted: bool) -> list[NoticeBlock]:
    """The co-op units in ``region``'s subtree (in scope, as the region is) with no card yet, said
    by name (the first few): "另有…没有计入" after figures of cards (``counted``), else "…有…". None: [].

    Only for a township or a village: there the subtree is a few hundred units at most. Above, this
    would read every unit of a county's or a province's subtree per answer, which summaries must
    not do (they read roll-up rows, which count cards, not co-op units)."""
    if region.type not in _BARE_COOPS_LEVELS:
        return []
    below, values = path_prefix_sql("u.path", region.path)
    rows = await db.fetch_rows(
        _WITHOUT_CARD_SQL.format(below=below), [*values, UnitType.COOP.value, _BARE_NAMES_SHOWN + 1]
    )
    if not rows:
        return []
    count = len(rows)
    if count > _BARE_NAMES_SHOWN:
        count_sql = _WITHOUT_CARD_COUNT_SQL.format(below=below)
        count = int((await db.fetch_rows(count_sql, [*values, UnitType.COOP.value]))[0][0])
    names = msg.NAMES_SEPARATOR.join(r[0] for r in rows[:_BARE_NAMES_SHOWN])
    if count > _BARE_NAMES_SHOWN:
        names += msg.NAMES_AND_MORE
    text = msg.BARE_COOPS_ALSO if counted else msg.BARE_COOPS
    return [NoticeBlock(text=text.format(region=region.name, count=count, names=names))]


# ---- several units side by side ----------------------------------------------------------------

MAX_COMPARED = 10


def _compared_names(name: str) -> list[str]:
    """The names of the units ``name`` lists, in order without repeats ([]: it lists no units; [""]:
    the own unit, compared with a time)."""
    names = _COMPARE_FIRST.sub("", name)  # "比较一下白沙镇与桃源乡的汇总"
    versus = "比" in names
    if versus:  # "白沙镇比桃源乡多(几个合作社)": the summary's pattern leaves 多 on the name
        names = _MORE_OR_LESS.sub("", names)
    # "白沙镇社员比桃源乡多多少", "白沙镇比桃源乡资产少多少": the figure compared goes with the comparison
    parts = list(dict.fromkeys(_without_figure(part.strip()) for part in _BETWEEN_UNITS.split(names)))
    if versus:  # "王家湾村比去年多了几个合作社", "社员比去年多了多少": a time or a figure is no unit (the
        # summary took the first time out and says figures are not kept by year): the one unit named
        units = [part for part in parts if part and split_period(part)[0] and not _NO_UNIT.fullmatch(part)]
        if len(units) < len(parts):
            if len(units) <= 1:
                return units or [""]  # "": the own unit
            parts = units  # "白沙镇和桃源乡比去年多": those two
    if len(parts) < 2 or any(len(part) < 2 for part in parts):
        return []
    return parts


def _figure_asked(turn: Turn) -> str | None:
    """The figure units are compared by, as typed ("白沙镇和桃源乡哪个利润高", "对比白沙镇和桃源乡的营业收入",
    "…按利润比一比": the last one named), as a ranking's field; None: none typed (a button's)."""
    said = re.findall(_SUMMARY_FIGURES, _typed(turn))
    if not said:
        return None
    return _RANK_WORDS.get(said[-1]) or _RANK_WORDS.get(said[-1].removesuffix("人数"))


def _without_figure(part: str) -> str:
    """A compared unit's name without the figure typed after it ("白沙镇的社员" -> "白沙镇"); a part
    that is only a figure stays (it names no unit: see _compared_names)."""
    return _FIGURE_AFTER.sub("", part) or part


async def _compared(turn: Turn, whole: ChatReply) -> Unit | ChatReply:
    """The units a summary's name lists, each found as one unit is, compared by their roll-ups; or
    ``whole`` (the answer to the name taken whole) when it lists none of them. A part that is not
    one unit in scope answers for itself (not found, or the namesakes to choose from) unless the
    whole name offered units to choose from; names that all find one unit ("白沙镇和baishazhen") are
    that unit's summary."""
    names = _compared_names(_name_param(turn, "name"))
    if not names:
        return whole
    if len(names) > MAX_COMPARED:
        return _notice(msg.COMPARE_TOO_MANY.format(count=MAX_COMPARED), "warning")
    found = [
        await _target(replace(turn, params={"name": name}), key="unit_id", name_key="name", intent_name="summary")
        for name in names
    ]
    units = list({unit.id: unit for unit in found if isinstance(unit, Unit)}.values())
    if not units:
        return whole
    missing = next((reply for reply in found if isinstance(reply, ChatReply)), None)
    if missing is not None:  # "白沙镇和平村": units like the whole name come first
        return whole if any(isinstance(block, CardBlock) for block in whole.blocks) else missing
    if len(units) == 1:
        return units[0]
    rows = [await queries.figures(turn.actor, unit) for unit in units]
    await turn.context.remember_question()  # "李家坪村呢": that one's summary
    field = _figure_asked(turn)
    columns, cells = msg.SUMMARY_COLUMNS, [_breakdown_row(row) for row in rows]
    if field is not None and field not in _COMPARED_ALWAYS:  # "…哪个利润高": the profit, masked as elsewhere
        counter = queries.RANKS[field].column
        columns = [*columns, msg.RANK_COLUMNS[field]]
        money = field in queries.MONEY_RANKS
        cells = [
            [
                *cell,
                total_shown(row.totals, counter.removesuffix("_fen"), row.money_visible)
                if money
                else str(row.totals[counter]),
            ]
            for cell, row in zip(cells, rows, strict=True)
        ]
    table = TableBlock(
        title=msg.COMPARE_TITLE,
        columns=columns,
        rows=cells,
        row_actions=[Action(label=msg.BUTTON_SUMMARY, intent="summary", params={"unit_id": u.id}) for u in units],
        total=len(rows),
    )
    said = _difference_said(turn, field or "coops", rows) if len(rows) == 2 else []
    return ChatReply(blocks=[*said, table, _counts_chart(msg.COMPARE_CHART, rows)], suggestions=_suggestions())


_ASKS_FEWER = re.compile(r"少了?(?:几个|几家|多少个?|多少)?(?:合作社|社员|人|社)?$")


def _difference_said(turn: Turn, field: str, rows: list[queries.Figures]) -> list[TextBlock]:
    """ "白沙镇比桃源乡多几个合作社", "王家湾村和李家坪村哪个合作社多": the difference of two units'
    count (of co-ops, members or staff) in a sentence, or that they are equal; typed "A比B…" keeps
    A first, "哪个…少" puts the smaller first, else the larger. Money is left to the table."""
    if field not in msg.COMPARE_COUNTS:
        return []
    what, unit = msg.COMPARE_COUNTS[field]
    counter = "coops" if field == "coops" else queries.RANKS[field].column
    first, second = rows
    x, y = first.totals[counter], second.totals[counter]
    if x == y:
        text = msg.COMPARE_EQUAL.format(a=first.unit.name, b=second.unit.name, what=what, count=x, unit=unit)
        return [TextBlock(text=text)]
    versus = re.search(r"(?<!占)比(?![例重率])", _typed(turn)) is not None
    fewer = _ASKS_FEWER.search(_typed(turn)) is not None
    if not versus and (x < y) != fewer:
        first, second, x, y = second, first, y, x
    words = msg.COMPARE_MORE if x > y else msg.COMPARE_FEWER
    text = words.format(a=first.unit.name, b=second.unit.name, what=what, diff=abs(x - y), x=x, y=y, unit=unit)
    return [TextBlock(text=text)]


# ---- one card ----------------------------------------------------------------------------------


def _flags(card: CardOut) -> str:
    flags = [
        label
        for label, on in (
            (msg.FLAG_VILLAGE_LEVEL, card.is_village_level),
            (msg.FLAG_BENCHMARK, card.is_benchmark),
            (msg.FLAG_POVERTY_COUNTY, card.in_poverty_county),
        )
        if on
    ]
    return "、".join(flags) or msg.FLAG_NONE


def _card_fields(card: CardOut) -> list[KeyValue]:
    def text(value: object) -> str:
        return msg.EMPTY if value in (None, "") else str(value)

    return [
        KeyValue(label=msg.LABEL_CREDIT_CODE, value=text(card.credit_code)),
        KeyValue(label=msg.LABEL_UNIT_CODE, value=text(card.unit_code)),
        KeyValue(label=msg.LABEL_REGION, value=text(card.region_name)),
        KeyValue(label=msg.LABEL_FLAGS, value=_flags(card)),
        KeyValue(label=msg.LABEL_ADDRESS, value=text(card.address)),
        KeyValue(label=msg.LABEL_CONTACT, value=text(card.contact_name)),
        KeyValue(label=msg.LABEL_CONTACT_PHONE, value=text(card.contact_phone)),
        KeyValue(label=msg.LABEL_MEMBERS, value=str(card.members)),
        KeyValue(label=msg.LABEL_STAFF, value=str(card.staff)),
        KeyValue(label=msg.LABEL_CAPITAL, value=_money(card.registered_capital)),
        KeyValue(label=msg.LABEL_ASSETS, value=_money(card.assets)),
        KeyValue(label=msg.LABEL_REVENUE, value=_money(card.revenue)),
        KeyValue(label=msg.LABEL_PROFIT, value=_money(card.profit)),
        KeyValue(label=msg.LABEL_SCOPE, value=text(card.business_scope)),
        KeyValue(label=msg.LABEL_FOUNDED, value=text(card.founded_year)),
        KeyValue(label=msg.LABEL_REPORT_YEAR, value=text(card.report_year)),
    ]


# A phone asked for ("电话多少", "联系方式"): right after a person's card, the person's (a person has
# no address or business scope: those stay the co-op card's).
_PHONE_ASKED = re.compile(r"联系人电话|联系人手机|联系电话|联系方式|电话号码|电话|手机号码|手机号|手机")
# What only a co-op's card tells, asked after its name: "...的电话", "...的位置", "...哪年成立的".
_CARD_ASKED = (
    r"(?:联系电话|联系人电话|联系人手机|联系人|联系方式|电话号码|电话|手机号码|手机号|手机"
    r"|详细地址|地址|所在位置|位置|坐标|经纬度|经营范围|负责人"
    r"|成立时间|成立年份|成立日期|成立于哪一?年|哪一?年成立的?|什么时候成立的?|成立(?:多久|几年)了?)"
)


@intent(
    "coop.card",
    # No name ("信息卡", or the button label "查看信息卡" typed; "联系电话"): the unit just shown (a
    # co-op's card: that co-op), else the own unit's, as for a co-op's account.
    patterns=(
        ASK_WORD + r"(?:查看)?信息卡$",
        # what only the card tells, with no name ("联系电话", "负责人是谁"): the co-op just shown
        ASK_WORD + rf"(?P<contact>{_CARD_ASKED})(?:是什么|是谁|是多少|多少|在哪里|在哪儿|在哪)?$",
        ASK + r"(?P<name>.+?)\s*的?\s*(?:信息卡|详细信息|详细情况|详情)$",
        # "…谁负责", "…由谁负责": who runs it, on its card
        ASK + r"(?P<name>.+?)\s*(?:是)?(?:由)?谁(?P<contact>负责|管)(?:的)?$",
        # what only the card tells: "王家湾村综合服务社的联系电话", "...的电话", "...地址在哪里"; asked
        # of a person ("侯国梅的联系方式"), the person's card answers (person_named)
        ASK + r"(?:谁是|哪位是)(?P<name>.+?)\s*的?\s*(?P<contact>联系人|负责人)$",
        ASK
        + rf"(?P<name>.+?)\s*的?\s*(?:是)?(?P<contact>{_CARD_ASKED})"
        + r"(?:是什么|是谁|是多少|多少|在哪里|在哪儿|在哪)?$",
        ASK_WORD + r"信息卡\s+(?P<name>.+)$",
        # "...在哪": a co-op's card holds its address; another unit's card says where it belongs
        ASK + r"(?P<name>.+?)(?P<where>在哪里|在哪儿|在哪|在什么地方)$",
    ),
    permission=PERMISSION,
    subject="name",
    kept=("where", "contact"),  # "王家湾村在哪" then "李家坪村呢": where that one is
)
async def coop_card(turn: Turn) -> ChatReply:
    """一社一卡: the info card of one co-op in scope. No name ("信息卡", "联系电话"): the unit the last
    answer showed (a co-op's card: that co-op's), else the own unit; a unit that is no co-op but
    holds one (a village): that co-op's. "联系电话" right after a person's card: that person's."""
    target: Unit | ChatReply | None = None
    if turn.params.get("unit_id") is None and not _name_param(turn, "name"):
        if _PHONE_ASKED.fullmatch(str(turn.params.get("contact") or "")):
            if (person := await person_just_shown(turn)) is not None:
                return person
        target = await _unit_just_shown(turn)
    if target is None:
        target = await _target(
            turn, key="unit_id", name_key="name", intent_name="coop.card", instead=_person_or_contact
        )
    if isinstance(target, ChatReply):
        return target
    if not _names_a_unit(turn):  # "信息卡", "联系电话" in a village with one co-op: that co-op's
        target = await _the_coop_of(target)
    try:
        view = await queries.get_card(turn.actor, target.id)
    except NotFound:
        # no card (a co-op without one too): the unit's says where it is; asked who runs a unit that
        # is no co-op ("王家湾村的负责人", "白沙镇的电话"), its card is what there is to say
        if turn.params.get("where") or (turn.params.get("contact") and target.type != UnitType.COOP):
            return await unit_reply(turn, target.id)
        if target.type == UnitType.COOP:
            if not allows(turn.actor.role, WRITE):
                raise
            create = Action(label=msg.BUTTON_CREATE, intent="coop.edit", params={"unit_id": target.id})
            return ChatReply(
                blocks=[NoticeBlock(text=msg.NO_CARD_YET.format(name=target.name))],
                suggestions=[Suggestion(label=msg.BUTTON_CREATE, action=create), *_suggestions()],
                context=target.name,
            )
        # "白沙镇的信息卡": not a co-op; its co-ops are probably what is meant
        await turn.context.remember_unit(target.id, target.name, target.type)
        label = msg.SEE_ITS_COOPS.format(name=target.name)
        its_coops = Action(label=label, intent="coop.list", params={"region_id": target.id})
        return ChatReply(
            blocks=[NoticeBlock(level="warning", text=msg.NOT_A_COOP_CARD_SAID.format(name=target.name))],
            suggestions=[Suggestion(label=label, action=its_coops), *_suggestions()],
            context=target.name,
        )
    return await _card_reply(turn, view)


def _names_a_unit(turn: Turn) -> bool:
    """Does the turn name the unit it is about (a button's id, a name typed)?"""
    return turn.params.get("unit_id") is not None or bool(_name_param(turn, "name"))


async def _the_coop_of(unit: Unit) -> Unit:
    """``unit`` itself, or for a unit that is no co-op but holds exactly one (a village clerk's
    "信息卡"), that co-op: which card is meant needs no asking."""
    if unit.type == UnitType.COOP:
        return unit
    return await queries.only_coop_below(unit) or unit


async def _person_or_contact(turn: Turn, name: str, *, edit: bool = False) -> ChatReply | None:
    """For a name that is no unit's: the person's card (backend.accounts.chat.person_named), else the
    card of the co-op whose contact is so named ("范雪丽的电话"; its form when editing: "修改范雪丽的
    电话"), or buttons for several."""
    answer = await person_named(turn, name)
    if answer is not None:
        return answer
    return await _contact_cards(turn, name, edit=edit)


@answers_names
async def _contact_named(turn: Turn, name: str) -> ChatReply | None:
    """A bare name that is no unit's or person's: the card of the co-op whose contact it is."""
    return await _contact_cards(turn, name) if allows(turn.actor.role, PERMISSION) else None


async def _contact_cards(turn: Turn, name: str, *, edit: bool = False) -> ChatReply | None:
    """The card (form, when editing) of the co-op in scope whose contact ``name`` is, buttons for
    several, None for none."""
    views = await queries.cards_with_contact(turn.actor, name, limit=MAX_LIKE)
    if len(views) == 1:
        if edit:
            await turn.context.remember_unit(views[0].unit.id, views[0].unit.name, views[0].unit.type)
            return _card_form(views[0].unit, views[0], views[0].money_visible)
        return await _card_reply(turn, views[0])
    if not views:
        return None
    intent_name = "coop.edit" if edit else "coop.card"
    buttons = [Action(label=v.unit.name, intent=intent_name, params={"unit_id": v.unit.id}) for v in views]
    card = CardBlock(title=msg.PICK_CONTACT.format(name=name), subtitle="", fields=[], actions=buttons)
    return ChatReply(blocks=[card], suggestions=_suggestions())


async def _card_reply(turn: Turn, view: CardView, lead: NoticeBlock | None = None) -> ChatReply:
    """One co-op's card (led by ``lead``), with the button to edit it for whoever may write it."""
    card = card_out(view)
    await turn.context.remember_unit(card.unit_id, card.name, UnitType.COOP)
    buttons = [Action(label=msg.BUTTON_SUMMARY, intent="summary", params={"unit_id": card.unit_id})]
    if allows(turn.actor.role, WRITE):
        buttons.append(Action(label=msg.BUTTON_EDIT, intent="coop.edit", params={"unit_id": card.unit_id}))
    block = CardBlock(title=card.name, subtitle=msg.CARD_TITLE, fields=_card_fields(card), actions=buttons)
    return ChatReply(blocks=[*([lead] if lead else []), block], suggestions=_suggestions(), context=card.name)


# ---- editing a card ----------------------------------------------------------------------------

_EDIT = r"(?:修改|编辑|更新|完善|录入|填写|填报|维护|改下|改)(?:一下)?"  # not 编辑+下: 下坝村 is a name
_CARD_WORDS = rf"(?:{_CARD_ASKED}|社员数|从业人员|成立年份)"
# One's own information ("修改我的信息", "完善个人资料") is the "我的" page's, not a co-op's card.
_SELF = rf"(?!(?:我|我自己|本人|自己|个人)\s*的?\s*(?:个人)?(?:信息|资料|{_CARD_WORDS})$)"


@intent(
    "coop.edit",
    patterns=(
        # no name ("修改联系电话"): the own co-op's card, or which co-op is asked
        ASK_WORD + rf"{_EDIT}\s*(?:本社的?|我们社的?|合作社的?)?(?:信息卡|{_CARD_WORDS})$",
        ASK + rf"{_EDIT}\s*{_SELF}(?P<name>.+?)\s*的?\s*(?:信息卡|信息|资料|{_CARD_WORDS})$",
        ASK + r"(?P<name>.+?)\s*的?\s*信息卡\s*(?:要)?(?:修改|编辑|更新)(?:一下)?$",
        # "把…的电话改成137…": the form, holding the value typed
        ASK
        + rf"(?:把|将)?{_SELF}(?P<name>.+?)\s*的\s*(?P<field>{_CARD_WORDS})\s*"
        + r"(?:改成|改为|换成|更新为|修改为|变成|更改为)\s*(?P<value>.{1,100})$",
    ),
    permission=WRITE,
    priority=40,  # before coop.card: "修改王家湾村综合服务社的电话" names no co-op 修改王家湾村综合服务社
    subject="name",
)
async def edit_card(turn: Turn) -> ChatReply:
    """The card of a co-op in scope as a form to edit (or to fill in, for a co-op with none yet);
    "保存" sends it to ``coop.save``. No name: the own unit's, if it is a co-op."""
    named = _names_a_unit(turn)
    target = await _target(
        turn, key="unit_id", name_key="name", intent_name="coop.edit", instead=partial(_person_or_contact, edit=True)
    )
    if isinstance(target, ChatReply):
        return target
    if not named:  # no name: the own unit, or its one co-op
        target = await _the_coop_of(target)
    if target.type != UnitType.COOP:  # no name: the own unit, which is no co-op
        if not named:
            return _notice(msg.EDIT_WHICH)
        return _notice(msg.NOT_A_COOP_CARD_SAID.format(name=target.name), "warning")
    await turn.context.remember_unit(target.id, target.name, target.type)
    try:
        view: CardView | None = await queries.get_card(turn.actor, target.id)
    except NotFound:
        view = None
    reply = _card_form(target, view, await _money_writable(turn.actor, target, view))
    typed = card_form.field_named(str(turn.params.get("field") or ""))
    if typed is not None and turn.params.get("value"):  # "…的电话改成…": shown in its field, saved on 保存
        [form] = [b for b in reply.blocks if isinstance(b, FormBlock)]
        value = str(turn.params["value"]).strip()
        form.fields = [f.model_copy(update={"value": value}) if f.name == typed else f for f in form.fields]
    return reply


async def _money_writable(actor: Actor, unit: Unit, view: CardView | None) -> bool:
    """May the actor write this card's money (see and write go together: backend.coops.actions)?"""
    return view.money_visible if view is not None else card_visible(actor, unit, await load_ancestors([unit]))


def _card_form(unit: Unit, view: CardView | None, money: bool) -> ChatReply:
    """The form of ``unit``'s card (``view`` None: none yet), its fields holding the card's values."""
    fields = card_form.form_fields(view.card if view else None, money=money)
    params: dict[str, Any] = {"unit_id": unit.id}
    if view is not None:
        params["version"] = card_version(view.card)
    form = FormBlock(
        title=(msg.FORM_EDIT_TITLE if view else msg.FORM_CREATE_TITLE).format(name=unit.name),
        fields=fields,
        submit=Action(label=msg.BUTTON_SAVE, intent="coop.save", params=params, style="primary"),
    )
    return ChatReply(blocks=[form], suggestions=_suggestions(), context=unit.name)


@intent("coop.save", permission=WRITE, writes=True)
async def save_card(turn: Turn) -> ChatReply:
    """A card form sent back: the card written by the same actions as the API's (backend.coops.actions),
    only if it is still the version the form showed; a refused field answers 422 naming it (the
    form opens again with the message under it), a card changed meanwhile the form again, with the
    newest card and what was filled in."""
    unit_id = _int_param(turn.params.get("unit_id"))
    version = turn.params.get("version")
    if version is not None and not isinstance(version, str):
        raise AppError("bad_param", msg.BAD_PARAM)
    unit = await get_unit(turn.actor, unit_id)
    try:
        view: CardView | None = await queries.get_card(turn.actor, unit_id)
    except NotFound:
        if unit.type != UnitType.COOP:
            raise
        view = None
    money = await _money_writable(turn.actor, unit, view)
    put_in = [name for name in actions.MONEY_FIELDS if turn.params.get(name) not in (None, "")]
    if put_in and not money:  # refused first, as the actions do: no form (nor "no change") tells the figures
        raise AppError(
            "finance_required",
            msg.MONEY_NEEDS_FINANCE,
            status=403,
            fields=dict.fromkeys(put_in, msg.MONEY_NEEDS_FINANCE),
        )
    if view is None:
        fields = card_form.read_form(turn.params, money=money, new_card_of=unit.id)
        try:
            await actions.create_card(turn.actor, unit_id=unit.id, fields=fields)
        except AppError as exc:  # another clerk's card was written since the form was read
            if exc.code != "card_exists":
                raise
            return _changed_while_editing(unit, await queries.get_card(turn.actor, unit.id), money, turn.params)
        done = msg.CARD_CREATED
    else:
        if version is None:  # a form for a new card, sent after someone else wrote one
            return _changed_while_editing(unit, view, money, turn.params)
        changes = actions.changed_fields(view.card, card_form.read_form(turn.params, money=money, card=view.card))
        if not changes:
            return await _card_reply(turn, view, NoticeBlock(text=msg.NOTHING_CHANGED))
        try:
            await actions.update_card(turn.actor, unit.id, changes, if_match=IfMatch(frozenset({version})))
        except AppError as exc:
            if exc.code != "card_changed":
                raise
            return _changed_while_editing(unit, await queries.get_card(turn.actor, unit.id), money, turn.params)
        done = msg.CARD_SAVED
    saved = await queries.get_card(turn.actor, unit.id)
    return await _card_reply(turn, saved, NoticeBlock(level="success", text=done.format(name=unit.name)))


def _changed_while_editing(unit: Unit, view: CardView, money: bool, typed: dict[str, Any]) -> ChatReply:
    """The form again, holding the newest card (what someone else wrote is not overwritten unseen),
    led by what the sender filled in that differs from it (nothing typed is lost)."""
    reply = _card_form(unit, view, money)
    [form] = reply.blocks
    assert isinstance(form, FormBlock)
    differing = [
        msg.TYPED_VALUE.format(label=f.label, value=typed[f.name])
        for f in form.fields
        if typed.get(f.name) not in (None, "") and str(typed[f.name]) != (f.value or "")
    ]
    text = msg.CHANGED_WHILE_EDITING + (msg.TYPED_DIFFERS.format(values="；".join(differing)) if differing else "")
    return reply.model_copy(update={"blocks": [NoticeBlock(level="warning", text=text), form]})


# ---- lists ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """A list narrowed by the cards' own fields: its conditions (queries.list_cards' ``where``), the
    parameters that say so again (a button's, the next page's), the words of its title ("2020年以后
    成立的") and the column that shows why each card is in it."""

    where: dict[str, Any]
    params: dict[str, Any]
    words: str
    column: str
    value: Callable[[CardView], str]
    order: str | None = None  # listed by the figure asked for (queries.list_cards' ``order``), else by card


async def _list(turn: Turn, intent_name: str, kind: Kind | None, narrowed: Filter | None = None) -> ChatReply:
    return await _as_the_cards_are(turn, partial(_listed, intent_name=intent_name, kind=kind, narrowed=narrowed))


async def _listed(turn: Turn, *, intent_name: str, kind: Kind | None, narrowed: Filter | None) -> ChatReply:
    target = await _target(turn, key="region_id", name_key="region", intent_name=intent_name)
    if isinstance(target, ChatReply):
        return target
    await turn.context.remember_unit(target.id, target.name, target.type)  # "这里" is the region listed now
    cursor = _cursor(turn.params)
    where, order = (narrowed.where, narrowed.order) if narrowed else (None, None)
    # a list in the order of a figure pages by place: "前3名" asks for pages of three (top_count)
    size = _top_count(turn.params) if order is not None and turn.params.get("count") is not None else PAGE_SIZE
    page = await queries.list_cards(turn.actor, target, kind=kind, where=where, order=order, cursor=cursor, limit=size)
    params = {
        "region_id": target.id,
        **(narrowed.params if narrowed else {}),
        **({"count": size} if size != PAGE_SIZE else {}),
    }
    await turn.context.remember_page(intent_name, params, page.next_cursor)
    kind_title = (narrowed.words if narrowed else "") + msg.KIND_TITLES[kind]
    lead = await own_level_notices(
        turn, _name_param(turn, "region"), target, kind_title, msg.ASK_NARROWED if narrowed else msg.ASK_LIST
    )
    # every card listed (no kind, no filter): the co-ops with none yet are said apart, on the first page
    every = kind is None and narrowed is None and cursor is None and target.type != UnitType.COOP
    bare = await _bare_coops_notices(target, counted=bool(page.items)) if every else []
    if not page.items:
        if cursor is not None:
            text = msg.NO_MORE
        elif every:
            text = msg.SUMMARY_EMPTY.format(unit=target.name)
        else:
            text = msg.LIST_EMPTY.format(region=target.name, kind=kind_title)
        blocks = [*lead, NoticeBlock(text=text), *bare]
        return ChatReply(blocks=blocks, suggestions=_suggestions(turn, target), context=target.name)
    rows = [card_row(view) for view in page.items]
    if narrowed is None:
        columns = msg.LIST_COLUMNS
        cells = [[r.name, *(v or msg.EMPTY for v in (r.region_name, r.contact_name, r.contact_phone))] for r in rows]
    else:
        columns = [*msg.LIST_COLUMNS[:2], narrowed.column]
        cells = [[r.name, r.region_name or msg.EMPTY, narrowed.value(v)] for r, v in zip(rows, page.items, strict=True)]
    table = TableBlock(
        title=(msg.NARROWED_TITLE if narrowed else msg.LIST_TITLE).format(region=target.name, kind=kind_title),
        columns=columns,
        rows=cells,
        row_actions=[Action(label=msg.BUTTON_CARD, intent="coop.card", params={"unit_id": r.unit_id}) for r in rows],
        total=page.total,
        more=Action(label=msg.BUTTON_MORE, intent=intent_name, params={**params, "cursor": page.next_cursor})
        if page.next_cursor is not None
        else None,
    )
    return ChatReply(blocks=[*lead, table, *bare], suggestions=_suggestions(turn, target), context=target.name)


# Words that ask for a list around its name: "有哪些村级社", "村级社有哪些", "王家湾村有几个村级社".
_WHICH = r"(?:有哪些|都有哪些|有哪几个|有哪几家|有什么|都有什么|有些什么|有啥|都有啥|有些啥|有几个|有多少个?|有没有)"
_LIST_TAIL = rf"(?:查询|列表|名单|是哪个|是哪些|是哪家|{_WHICH})?"


# After a list's word, what asks for the statistics' share ("标杆社占比", "标杆社比例是多少"), not a region.
_NOT_A_REGION = r"(?!的?(?:占比|比例|比重|所占|占多|占几))"


# The region before a list's words; "村里" whole ("村里有没有村级社": not a unit named 村).
_REGION = r"(?P<region>(?:村|镇|乡|乡镇|社区|街道|县|区|市)里|.+?)"


def _list_patterns(words: str) -> tuple[str, ...]:
    """ "<words>", "<words> 青山县", "青山县<words>", "青山县的<words>" (with 查询 / 列表 / 有哪些
    after, 有哪些 / 有几个 before)."""
    return (
        ASK_WORD + rf"(?:{_WHICH}|哪些)?(?:{words}){_LIST_TAIL}(?:\s*{_NOT_A_REGION}(?P<region>.+))?$",
        ASK + rf"{_REGION}\s*(?:的|(?:下面|下边|里)?还?{_WHICH})?\s*(?:{words}){_LIST_TAIL}$",
        # "刘家岭村有村级社吗", "王家湾村还有标杆社没有" (as the summary takes "…有合作社吗")
        ASK + rf"{_REGION}\s*(?:下面|下边|里)?还?有(?:{words})(?:吗|么|没有|没)$",
    )


@intent(
    "coop.village_level",
    patterns=_list_patterns("村级社|村级合作社"),
    permission=PERMISSION,
    pageable=True,
    subject="region",
)
async def village_level(turn: Turn) -> ChatReply:
    """村级社查询."""
    return await _list(turn, "coop.village_level", "village_level")


@intent(
    "coop.benchmark",
    patterns=_list_patterns("标杆社|标杆合作社"),
    permission=PERMISSION,
    pageable=True,
    subject="region",
)
async def benchmark(turn: Turn) -> ChatReply:
    """标杆社查询."""
    return await _list(turn, "coop.benchmark", "benchmark")


@intent(
    "coop.poverty_county",
    # "贫困县的合作社" is this list, not the co-ops of a unit named 贫困县 (coop.list, tried after).
    patterns=(
        *_list_patterns("贫困县(?:里面?)?的?(?:基层社|基层合作社|合作社|社)"),
        ASK_WORD + r"贫困县$",  # the list this word stands for here (no unit is named so)
        # "贫困县有几个合作社", "贫困县有哪些合作社": the list (it says how many), not a unit 贫困县
        ASK
        + rf"(?:{_REGION}\s*的?)?贫困县(?:里面?|的)?"
        + rf"(?:还?{_WHICH}|(?:一共|总共|共)?(?:有|共有)?(?:几|多少)(?:个|家)?|还?有)"
        + r"(?:基层社|基层合作社|合作社|社)(?:吗|么|没有|没)?$",
    ),
    permission=PERMISSION,
    priority=90,
    pageable=True,
    subject="region",
)
async def poverty_county(turn: Turn) -> ChatReply:
    """贫困县基层社查询."""
    return await _list(turn, "coop.poverty_county", "poverty_county")


# ---- rankings ----------------------------------------------------------------------------------

# The words for what a ranking is by: "社员最多的合作社", "合作社按利润排名", "哪个合作社资产最多".
_RANK_WORDS = {
    "社员": "members",
    "社员数": "members",
    "成员": "members",
    "人数": "members",
    "人": "members",
    "赚钱": "profit",
    "从业人员": "staff",
    "员工": "staff",
    "职工": "staff",
    "资产": "assets",
    "总资产": "assets",
    "资产总额": "assets",
    "资产规模": "assets",
    "营业收入": "revenue",
    "营收": "revenue",
    "收入": "revenue",
    "利润": "profit",
    "盈利": "profit",
    "注册资本": "registered_capital",
    "亏损": "loss",
    "亏损额": "loss",
    "亏得": "loss",
}
# Rankings by age: "新成立的合作社", "成立最早的合作社", "最老的合作社".
_AGE_WORDS = {
    "最新": "newest",
    "最近": "newest",
    "最近新": "newest",
    "新近": "newest",
    "新": "newest",
    "最晚": "newest",
    "最早": "oldest",
    "最先": "oldest",
    "最老": "oldest",
    "历史最久": "oldest",
    "历史最长": "oldest",
}
# Units ranked by their co-ops of a kind: "标杆社最多的县", "各乡镇村级社数量".
_KIND_WORDS = {"标杆社": "benchmark", "村级社": "village_level", "贫困县基层社": "poverty_county"}
_KIND_FIELD = "(?P<field>" + "|".join(_KIND_WORDS) + ")"
_AGE_FIRST = "(?P<field>" + "|".join(w for w in sorted(_AGE_WORDS, key=len, reverse=True) if w != "最晚") + ")"
_AGE_AFTER = "(?P<field>最早|最晚)"
_AGE_ALONE = "(?P<field>最新|最老|历史最久|历史最长)"  # not "最近的合作社": that may mean the nearest
_RANK_FIELD = "(?P<field>" + "|".join(sorted(_RANK_WORDS, key=len, reverse=True)) + ")"
_MOST = r"(?:最多|最高|最大|最严重)"
# Or the other way round ("社员最少的合作社", "哪个乡镇合作社最少"): the ``least`` parameter.
_EXTREME = rf"(?:{_MOST}|(?P<least>最少|最低|最小))"
_FEWEST = r"(?:最多|多|(?P<least>最少|少))"
_RANK_REGION = r"(?:(?P<region>.+?)\s*的?)??"
TOP = 10
MAX_TOP = 50
# How many places were asked for: "前5个", "前三名", "排名前十的", "5家"
_COUNT = r"(?P<count>\d{1,3}|[一二两三四五六七八九十]{1,3})"
_FIRST_N = rf"(?:排名|排行|排)?前{_COUNT}(?:个|家|名|位)?"
_N_OF = rf"(?:(?:排名|排行|排)?前)?{_COUNT}(?:个|家|名|位)"
# Asking for a ranking as cadres say it: "排名", "排个名", "排一下", "排个序"
_SORT = r"(?:排名|排行榜|排行|排序|排个名|排个序|排一下名?|排一下序|排下名?|排下序|排一排|排排)(?:一下|看看)?"


def _rank_field(params: dict[str, Any], ranks: Mapping[str, queries.Rank] = queries.RANKS) -> str:
    """What a ranking is by: a word as typed or a button's value (none: members, "最大的合作社");
    anything not in ``ranks`` is a bad parameter."""
    value = str(params.get("field") or "members")
    field = _RANK_WORDS.get(value) or _AGE_WORDS.get(value) or _KIND_WORDS.get(value, value)
    if field not in ranks:
        raise AppError("bad_param", msg.BAD_PARAM)
    return field


def _top_count(params: dict[str, Any]) -> int:
    """How many places a ranking's page shows: as asked ("前5个", "三家"; up to MAX_TOP), else TOP.
    Zero or an unreadable count is a bad parameter."""
    value = params.get("count")
    if value is None:
        return TOP
    count = chinese_number(value) if isinstance(value, str) else whole_number(value)
    if not count:
        raise AppError("bad_param", msg.BAD_PARAM)
    return min(count, MAX_TOP)


def _place(params: dict[str, Any]) -> int:
    """Where a ranking's page starts: its ``cursor``, how many places come before it (0: the top)."""
    return _cursor(params) or 0


def _money_order_refused(turn: Turn, field: str) -> ChatReply | None:
    """The refusal of a ranking by money for whoever does not see all of it (the order of masked
    figures would tell something of each); None when it may be ranked."""
    if field in queries.MONEY_RANKS and turn.actor.finance_access != FinanceAccess.ALL:
        return _notice(msg.RANK_MONEY_NOT_ALLOWED, "warning")
    return None


async def _ranking_more(
    turn: Turn, intent_name: str, params: dict[str, Any], more_after: int | None, size: int = TOP
) -> Action | None:
    """Remember the ranking's page shown (``more_after``: where it started, when more follow) and
    give the button to the next ``size`` places."""
    next_place = more_after + size if more_after is not None else None
    await turn.context.remember_page(intent_name, params, next_place)
    if next_place is None:
        return None
    return Action(label=msg.BUTTON_MORE, intent=intent_name, params={**params, "cursor": next_place})


@intent(
    "coop.top",
    patterns=(
        ASK + rf"{_RANK_REGION}{_RANK_FIELD}{_EXTREME}的(?:合作社|社)(?:是哪个|是哪家|是哪些|有哪些)?$",
        # "社员最多的前5个合作社", "利润最高的三家合作社", "资产排名前十的合作社", "合作社社员排名前五"
        ASK + rf"{_RANK_REGION}{_RANK_FIELD}{_EXTREME}的{_N_OF}(?:合作社|社)(?:是哪些|有哪些)?$",
        ASK + rf"{_RANK_REGION}(?:合作社)?(?:按照|按)?{_RANK_FIELD}{_FIRST_N}的(?:合作社|社)(?:是哪些|有哪些)?$",
        ASK + rf"{_RANK_REGION}(?:合作社)?(?:按照|按)?{_RANK_FIELD}{_FIRST_N}$",  # "利润前三"
        ASK + rf"{_RANK_REGION}(?:合作社)?{_FIRST_N}的?(?:合作社|社)$",  # "前十名合作社": by members
        ASK + rf"{_RANK_REGION}哪(?:个|家|些)(?:合作社|社)的?{_RANK_FIELD}{_EXTREME}$",
        # "按社员排一下" (typed under a list: that list's region, see _top_coops), "合作社按资产排序"
        ASK + rf"{_RANK_REGION}(?:合作社)?(?:(?P<by>按照|按))?{_RANK_FIELD}{_SORT}$",
        ASK + rf"{_RANK_REGION}合作社{_SORT}$",  # by members, as "最大的合作社"; "我们村的合作社排个名"
        # "按利润比一比": the co-ops compared by that figure, which is its ranking
        ASK + rf"{_RANK_REGION}(?:合作社)?(?P<by>按照|按){_RANK_FIELD}{_COMPARE}$",
        # "最大的合作社": by members, which every role may see (the title says so)
        ASK + rf"{_RANK_REGION}(?:规模)?最大的(?:合作社|社)(?:是哪个|是哪家|是哪些|有哪些)?$",
        # "哪个合作社最赚钱", "最赚钱的合作社": by profit
        ASK + rf"{_RANK_REGION}哪(?:个|家)(?:合作社|社)最(?P<field>赚钱)$",
        ASK + rf"{_RANK_REGION}最(?P<field>赚钱)的(?:合作社|社)(?:是哪个|是哪家|是哪些|有哪些)?$",
        # by the founding year: "新成立的合作社", "成立最早的合作社", "最老的社"
        ASK + rf"{_RANK_REGION}{_AGE_FIRST}(?:成立|注册|组建)的(?:合作社|社){_LIST_TAIL}$",
        ASK + rf"{_RANK_REGION}(?:成立|注册|组建)(?:得|的)?{_AGE_AFTER}的(?:合作社|社){_LIST_TAIL}$",
        ASK + rf"{_RANK_REGION}{_AGE_ALONE}的(?:合作社|社){_LIST_TAIL}$",
    ),
    permission=PERMISSION,
    priority=90,  # before coop.list: "社员最多的合作社" names no unit 社员最多
    pageable=True,
    subject="region",
    kept=("field", "least", "count"),
)
async def top_coops(turn: Turn) -> ChatReply:
    """The co-ops of a region with the most members, staff, assets...; money only for who sees all of
    it (the order of masked cards would tell something of each)."""
    return await _as_the_cards_are(turn, _top_coops)


async def _top_coops(turn: Turn) -> ChatReply:
    field = _rank_field(turn.params)
    if refused := _money_order_refused(turn, field):
        return refused
    if turn.params.get("by") and turn.params.get("region_id") is None and not _name_param(turn, "region"):
        turn = await _of_the_list_shown(turn)
    target = await _target(turn, key="region_id", name_key="region", intent_name="coop.top")
    if isinstance(target, ChatReply):
        return target
    await turn.context.remember_unit(target.id, target.name, target.type)
    offset = _place(turn.params)
    least = bool(turn.params.get("least"))
    size = _top_count(turn.params)
    views, more = await queries.top_cards(turn.actor, target, field, least=least, offset=offset, limit=size)
    params = {
        "region_id": target.id,
        "field": field,
        **({"least": True} if least else {}),
        **({"count": size} if size != TOP else {}),
    }
    more_action = await _ranking_more(turn, "coop.top", params, offset if more else None, size)
    if not views:
        return _notice(msg.NO_MORE if offset else msg.LIST_EMPTY.format(region=target.name, kind=msg.KIND_TITLES[None]))
    money = field in queries.MONEY_RANKS
    column = queries.RANKS[field].column
    rows = [
        [
            view.unit.name,
            view.region.name if view.region else msg.EMPTY,
            (_loss_shown if field == "loss" else shown)(getattr(view.card, column), view.money_visible)
            if money
            else str(getattr(view.card, column)),
        ]
        for view in views
    ]
    title = (msg.RANK_TITLES_LEAST if least else msg.RANK_TITLES)[field]
    table = TableBlock(
        title=title.format(region=target.name),
        columns=[*msg.LIST_COLUMNS[:2], msg.RANK_COLUMNS[field]],
        rows=rows,
        row_actions=[Action(label=msg.BUTTON_CARD, intent="coop.card", params={"unit_id": v.unit.id}) for v in views],
        more=more_action,
    )
    # "本镇社员最多的合作社" typed by a county's cadre: theirs, and say so (as the summary does)
    lead = await own_level_notices(turn, _name_param(turn, "region"), target, title.format(region=""), msg.ASK_NARROWED)
    return ChatReply(
        blocks=[*lead, *_first_said(turn, table, offset), table],
        suggestions=_suggestions(turn, target),
        context=target.name,
    )


async def _of_the_list_shown(turn: Turn) -> Turn:
    """ "按社员排一下" names no region: it asks to sort what is on screen, so the region of the
    co-op list or ranking shown last (none: the turn as it is, the own unit's)."""
    table = await turn.context.table()
    if table is None or not table.intent.startswith("coop.") or table.params.get("region_id") is None:
        return turn
    return replace(turn, params={**turn.params, "region_id": table.params["region_id"]})


# "前5名", "只看前三", "前两个就行": the ranking shown last, its first places as many as asked
_RANKINGS = ("coop.top", "coop.units_most")
# Lists in the order of the figure they are narrowed by ("社员超过500人的合作社": the most first; "亏损的
# 合作社": the biggest loss first): their first places are as a ranking's
_BY_FIGURE = ("coop.over", "coop.loss")


@intent(
    "coop.top_count",
    patterns=(
        ASK_WORD + rf"(?:只看|只要|只列出?|只显示|只留|只)?(?:看|要|列出?|显示)?{_FIRST_N}(?:就行了?|就好|就可以了?)?$",
    ),
    permission=PERMISSION,
    priority=90,
)
async def top_count(turn: Turn) -> ChatReply:
    """The last ranking shown (co-ops or units), from its first place, with as many places as asked;
    no ranking shown: how to ask for one."""
    table = await turn.context.table()
    if table is None or table.intent not in (*_RANKINGS, *_BY_FIGURE):
        return _notice(msg.FIRST_PLACES_NEED_RANKING)
    params = {**{k: v for k, v in table.params.items() if k != "cursor"}, "count": turn.params.get("count")}
    # what a follow-up ("李家坪村呢") asks again: that ranking, by as many places
    return await registry.answer_as(turn, table.intent, params)


@intent("coop.sort", patterns=(ASK_WORD + rf"{_SORT}$",), permission=PERMISSION, priority=90)
async def sort_shown(turn: Turn) -> ChatReply:
    """ "排个名" typed alone: the ranking shown last again from its first place; after another co-op
    list, its region's co-ops by members (as "合作社排个名"); nothing shown: the own unit's."""
    table = await turn.context.table()
    if table is not None and table.intent in _RANKINGS:
        return await registry.answer_as(turn, table.intent, {k: v for k, v in table.params.items() if k != "cursor"})
    shown = await _of_the_list_shown(replace(turn, params={}))
    return await registry.answer_as(turn, "coop.top", shown.params)


_ASKS_WHICH = re.compile(r"哪(?:个|家|一个|一家)|是谁")


def _first_said(turn: Turn, table: TableBlock, offset: int) -> list[TextBlock]:
    """ "…是哪个" asks for one: the first place said in a sentence before the ranking (none on later
    pages or for a list asked for)."""
    typed = _typed(turn)
    if offset or not table.rows or not _ASKS_WHICH.search(typed) or "哪些" in typed:
        return []
    first, column = table.rows[0], table.columns[2]
    label, _, unit = column.partition("（")  # "资产总额（万元）": the amount with its unit
    value = f"{first[2]} {unit.rstrip('）')}" if unit and first[2] != msg.NO_FINANCE else first[2]
    tied = [row[0] for row in table.rows if row[2] == first[2]]  # a tie is not one first place
    if len(tied) == 1:
        return [TextBlock(text=msg.RANK_FIRST.format(title=table.title, name=first[0], column=label, value=value))]
    names = msg.NAMES_SEPARATOR.join(tied[:-1]) + msg.NAMES_LAST + tied[-1]
    if len(tied) == len(table.rows) and table.more is not None:  # tied beyond this page too
        names += msg.NAMES_AND_MORE
    return [TextBlock(text=msg.RANK_FIRST_TIED.format(title=table.title, names=names, column=label, value=value))]


# ---- lists narrowed by a card's own fields ------------------------------------------------------

# "...成立的合作社(有哪些)", "...新成立了多少(家)合作社" (the list says how many)
_FOUNDED = (
    r"(?:新)?(?:成立|注册|组建)"
    + rf"(?:的(?:合作社|社){_LIST_TAIL}|了(?:多少|几)(?:个|家)?(?:合作社|社)|了哪些(?:合作社|社))$"
)
_AFTER = ("以后", "以来", "之后", "后")  # the year named is in: "2020年以后成立的" counts 2020's
_YEARS_AGO = {"今年": 0, "去年": 1, "前年": 2}


def _year_param(params: dict[str, Any], key: str) -> int | None:
    if params.get(key) is None:
        return None
    year = whole_number(params[key])
    if year is None or not 1 <= year <= 9999:
        raise AppError("bad_param", msg.BAD_PARAM)
    return year


def _founded_years(params: dict[str, Any], this_year: int) -> tuple[int | None, int | None]:
    """The first and last founding year asked for (either None: open), as typed ("2020年以后",
    "去年", "近三年") or as a button's ``from_year`` / ``to_year``."""
    if params.get("recent") is not None:
        count = chinese_number(str(params["recent"])) or 0
        if not 1 <= count <= 100:
            raise AppError("bad_param", msg.BAD_PARAM)
        return this_year - count + 1, None
    typed = params.get("year")
    if typed is None:
        first, last = _year_param(params, "from_year"), _year_param(params, "to_year")
        if (first is None and last is None) or (first is not None and last is not None and first > last):
            raise AppError("bad_param", msg.BAD_PARAM)
        return first, last
    if isinstance(typed, str) and typed in _YEARS_AGO:  # a button's may be anything: a list is no key
        year: int | None = this_year - _YEARS_AGO[typed]
    else:
        year = _year_param(params, "year")
    assert year is not None
    side = params.get("side")
    if side in _AFTER:
        return year, None
    if side:
        return None, year - 1
    return year, year


def _years_words(first: int | None, last: int | None) -> str:
    if first is not None and last is not None:
        return (
            msg.FOUNDED_IN.format(year=first) if first == last else msg.FOUNDED_BETWEEN.format(first=first, last=last)
        )
    return msg.FOUNDED_FROM.format(year=first) if first is not None else msg.FOUNDED_UNTIL.format(year=last)


@intent(
    "coop.founded",
    patterns=(
        # "2015年到2020年成立的合作社", "2015-2020年成立的": both years in
        ASK
        + rf"{_RANK_REGION}(?P<from_year>\d{{4}})年?\s*(?:到|至|-|~)\s*(?P<to_year>\d{{4}})年?(?:之间|期间)?{_FOUNDED}",
        ASK + rf"{_RANK_REGION}(?P<year>今年|去年|前年|\d{{4}})年?(?P<side>以后|以来|之后|后|以前|之前|前)?{_FOUNDED}",
        ASK + rf"{_RANK_REGION}(?:近|最近)(?P<recent>[一二两三四五六七八九十]+|\d{{1,3}})年(?:来|内|以来)?{_FOUNDED}",
    ),
    permission=PERMISSION,
    priority=45,  # before the summary ("...的合作社有几个") and coop.list: it names no unit 2020年以后成立
    pageable=True,
    subject="region",
    kept=("year", "side", "recent", "from_year", "to_year"),
)
async def founded(turn: Turn) -> ChatReply:
    """The co-ops of a region founded in, after or before a year (the card's founding year)."""
    first, last = _founded_years(turn.params, runtime.get().clock.china_now().year)
    where = {key: year for key, year in (("founded_year__gte", first), ("founded_year__lte", last)) if year is not None}
    narrowed = Filter(
        where=where,
        params={"from_year": first, "to_year": last},
        words=_years_words(first, last),
        column=msg.LABEL_FOUNDED,
        value=lambda view: str(view.card.founded_year),
        order="founded_year",  # by the year, the earliest first
    )
    return await _list(turn, "coop.founded", None, narrowed)


@intent(
    "coop.loss",
    patterns=(
        ASK
        + rf"{_RANK_REGION}(?:亏损|亏钱|亏本|赔钱|利润为负|利润是负的|负利润|利润为负数)的(?:合作社|社){_LIST_TAIL}$",
        ASK + rf"{_RANK_REGION}哪(?:些|个|家)(?:合作社|社)(?:在)?亏损(?:了)?$",
    ),
    permission=PERMISSION,
    priority=45,  # before the summary ("...的合作社有几个") and coop.list: it names no unit 亏损
    pageable=True,
    subject="region",
)
async def loss(turn: Turn) -> ChatReply:
    """The co-ops of a region whose profit is below zero: only for who sees all money (which cards
    are listed tells something of each)."""
    if turn.actor.finance_access != FinanceAccess.ALL:
        return _notice(msg.LOSS_NOT_ALLOWED, "warning")
    narrowed = Filter(
        where={"profit_fen__lt": 0},
        params={},
        words=msg.LOSS_WORDS,
        column=msg.RANK_COLUMNS["profit"],
        value=lambda view: _loss_shown(view.card.profit_fen, view.money_visible),
        order="profit_fen",  # the biggest loss first
    )
    return await _list(turn, "coop.loss", None, narrowed)


def _loss_shown(fen: int | None, visible: bool) -> str:
    """A profit in a list of losses: as :func:`shown`, but a loss that rounds to 0.00 万元 reads as
    one ("-<0.01"), not as no loss (finance.wan keeps "0.00" elsewhere, never "-0.00")."""
    said = shown(fen, visible)
    return msg.TINY_LOSS if visible and fen is not None and fen < 0 and said == shown(0, True) else said


# ---- why an amount shows 无权限 ---------------------------------------------------------------

_MONEY_WORDS = r"(?:利润|金额|资产|收入|营业收入|营收|注册资本|钱|财务数据|财务|数据)"


@intent(
    "coop.finance_access",
    patterns=(
        # "为什么看不到利润", "我怎么看不了金额", "谁能看利润", "怎样才能看到资产", "无权限是什么意思"
        ASK_WORD + rf"我?(?:为什么|为啥|怎么)我?(?:看不到|看不见|看不了|不能看|没法看){_MONEY_WORDS}$",
        ASK_WORD
        + rf"(?:谁能看|谁可以看|哪些人能看|谁有权限看|怎样才能看到?|怎么才能看到?|如何才能看到?){_MONEY_WORDS}$",
        ASK_WORD + r"(?:无权限|没有权限)(?:是什么意思|是啥意思|什么意思|怎么回事)$",
        ASK_WORD + rf"{_MONEY_WORDS}(?:为什么|怎么)?(?:显示|是)?无权限$",
    ),
    priority=40,
)
async def finance_access(turn: Turn) -> ChatReply:
    """Why amounts show 无权限: the actor's finance access, what it shows, and who changes it."""
    return _notice(msg.FINANCE_ACCESS_SAYS[turn.actor.finance_access])


# ---- co-ops over or under a figure ("社员超过500人的合作社") ------------------------------------

# How a figure is compared: the words typed before the amount, or after it ("500人以上")
_OVER_BEFORE = {
    "超过": "gt", "多于": "gt", "大于": "gt", "高于": "gt", "在": "gte", "不少于": "gte", "不低于": "gte",
    "至少": "gte", "少于": "lt", "低于": "lt", "小于": "lt", "不足": "lt", "不到": "lt", "不超过": "lte",
    "不高于": "lte", "不多于": "lte", "最多": "lte", "过": "gt", "超": "gt", "上": "gte", "达到": "gte",
}  # fmt: skip
_OVER_AFTER = {"以上": "gte", "及以上": "gte", "或以上": "gte", "以下": "lte", "及以下": "lte", "或以下": "lte"}
_OVER_FIELDS = ("members", "staff", "assets", "revenue", "profit", "registered_capital", "loss")
# "亏损超过10万": a loss over 10万 is a profit under -10万 (and "亏损不到10万" one in the red above it)
_LOSS_OPS = {"gt": "lt", "gte": "lte", "lt": "gt", "lte": "gte"}
# A minus sign only before digits: "利润低于-3.5万" (a profit's threshold may be below zero)
_AMOUNT = r"(?P<amount>(?:-|负)?\d{1,12}(?:\.\d{1,6})?|[零一二两三四五六七八九十百]{1,6})"
# How much one of what follows a number stands for ("4千万", "1.5亿元"), in ones (yuan, people)
_SCALES = {
    "亿": 100_000_000,
    "千万": 10_000_000,
    "百万": 1_000_000,
    "十万": 100_000,
    "万": 10_000,
    "千": 1_000,
    "百": 100,
}
_SCALE_WORDS = "|".join(_SCALES)  # longest first where one begins another (千万 before 千)
_AMOUNT_UNIT = rf"(?P<unit>(?:{_SCALE_WORDS})?元|{_SCALE_WORDS})?(?:人|个|名|位)?"
# The amount as typed: a number with its unit, or a unit alone ("过亿", "上千万", "社员过千")
_AMOUNT_SAID = rf"(?:(?P<scale>{_SCALE_WORDS})(?:元|人|个|名|位)?|{_AMOUNT}{_AMOUNT_UNIT})"
_THRESHOLD_FIELD = (
    "(?P<field>" + "|".join(w for w in sorted(_RANK_WORDS, key=len, reverse=True) if w not in ("人", "赚钱")) + ")"
)
_OVER_BEFORE_WORDS = "|".join(sorted(_OVER_BEFORE, key=len, reverse=True))
_OVER_AFTER_WORDS = "|".join(sorted(_OVER_AFTER, key=len, reverse=True))


def _in_units(unit: str, *, money: bool) -> Decimal:
    """What one ``unit`` typed after an amount ("亿", "千万元", "元", "人"; "" for none) is in the
    units a threshold counts: 万元 for money (a bare number too, as the cards show it), people one by
    one."""
    scale = _SCALES.get(unit.removesuffix("元"))
    if not money:
        return Decimal(scale or 1)
    if scale is not None:
        return Decimal(scale) / _SCALES["万"]  # yuan to 万元
    return Decimal("0.0001") if unit == "元" else Decimal(1)


def _threshold(params: dict[str, Any]) -> tuple[str, str, Decimal]:
    """The figure, comparison and amount of a threshold list (money in 万元), typed or a button's;
    anything else is a bad parameter."""
    field = _RANK_WORDS.get(str(params.get("field") or ""), str(params.get("field") or ""))
    said = str(params.get("op") or "")
    op = _OVER_BEFORE.get(said) or _OVER_AFTER.get(said) or (said if said in ("gt", "gte", "lt", "lte") else None)
    scale = params.get("scale")
    raw = params.get("amount", "1" if scale else None)  # "过亿": one of it
    if isinstance(raw, str) and raw.startswith("负"):
        raw = "-" + raw.removeprefix("负")
    digits = raw.removeprefix("-").replace(".", "", 1) if isinstance(raw, str) else ""
    number = chinese_number(raw) if isinstance(raw, str) and not digits.isdigit() else raw
    try:
        amount = Decimal(str(number)) if number is not None and not isinstance(number, bool) else None
    except InvalidOperation:
        amount = None
    if field not in _OVER_FIELDS or op is None or amount is None or not amount.is_finite():
        raise AppError("bad_param", msg.BAD_PARAM)
    if amount < 0 and field != "profit":  # only a profit is below zero ("亏损-5万" means nothing)
        example = (
            msg.NEGATIVE_MONEY_EXAMPLE
            if field in queries.MONEY_RANKS or field == "loss"
            else msg.NEGATIVE_COUNT_EXAMPLE
        )
        figure = _figure_word(field)
        raise AppError(
            "negative_figure", msg.NEGATIVE_FIGURE.format(figure=figure, example=example.format(figure=figure))
        )
    money = field in queries.MONEY_RANKS
    amount *= _in_units(str(params.get("unit") or scale or ""), money=money)
    if abs(amount) > MAX_WAN or (not money and amount != amount.to_integral_value()):
        raise AppError("bad_param", msg.BAD_PARAM)
    return field, op, amount


def _amount_said(wan: Decimal) -> str:
    """An amount in 万元 as a title says it: "1亿元", "1.5亿元" from 10000 and 15000, else "4000万元"."""
    wan_per_yi = _SCALES["亿"] // _SCALES["万"]
    if wan >= wan_per_yi:
        return f"{(wan / wan_per_yi).normalize():f}{msg.YI_UNIT}"
    return f"{wan.normalize():f}{msg.MONEY_UNIT}"


def _figure_word(field: str) -> str:
    """The figure a threshold is on, as its title says it: "社员数", "资产总额", "亏损"."""
    return msg.LOSS_FIGURE if field == "loss" else msg.RANK_COLUMNS[field].partition("（")[0]


# "社员在100人", "资产在1000万" with neither 以上 nor 以下: which side is meant is asked, not guessed
_EITHER_SIDE = "在"


def _which_side(turn: Turn, field: str, amount: Decimal) -> ChatReply:
    """The question "以上 or 以下?" for a threshold typed with a bare 在, its two answers as buttons
    ("100人以上", "100人以下"; "第一个" presses one), each the list of that side."""
    said = _amount_said(amount) if field in queries.MONEY_RANKS else msg.PEOPLE_AMOUNT.format(count=int(amount))
    region = {"region": turn.params["region"]} if turn.params.get("region") else {}
    buttons = [
        Action(
            label=msg.OVER_SIDES[op].format(amount=said),
            intent="coop.over",
            params={"field": field, "op": op, "amount": str(amount), **region},
        )
        for op in ("gte", "lte")
    ]
    question = CardBlock(title=msg.OVER_WHICH_SIDE.format(figure=_figure_word(field), amount=said), actions=buttons)
    return ChatReply(blocks=[question], suggestions=_suggestions())


@intent(
    "coop.over",
    patterns=(
        # "社员超过500人的合作社", "资产不少于1000万的合作社", "从业人员少于十人的社"
        # (the co-ops are what is listed: "资产超过4千万" names them no less)
        ASK
        + rf"{_RANK_REGION}{_THRESHOLD_FIELD}(?:数|总额)?(?P<op>{_OVER_BEFORE_WORDS})"
        + rf"{_AMOUNT_SAID}(?:的(?:(?:合作社|社){_LIST_TAIL})?)?$",
        # "社员500人以上的合作社", "资产在1000万以上的合作社"
        ASK
        + rf"{_RANK_REGION}{_THRESHOLD_FIELD}(?:数|总额)?在?{_AMOUNT}{_AMOUNT_UNIT}"
        + rf"(?P<op>{_OVER_AFTER_WORDS})(?:的(?:(?:合作社|社){_LIST_TAIL})?)?$",
    ),
    permission=PERMISSION,
    priority=45,  # before the summary and coop.list: it names no unit 社员超过500人
    pageable=True,
    subject="region",
)
async def over(turn: Turn) -> ChatReply:
    """The co-ops of a region over or under a figure; by money only for who sees all of it (which
    cards are listed tells something of each, as a ranking's order does)."""
    field, op, amount = _threshold(turn.params)
    money = field in queries.MONEY_RANKS
    if money and turn.actor.finance_access != FinanceAccess.ALL:
        return _notice(msg.OVER_MONEY_NOT_ALLOWED, "warning")
    if turn.params.get("op") == _EITHER_SIDE:
        return _which_side(turn, field, amount)
    column = queries.RANKS[field].column
    bound = int(amount * FEN_PER_WAN) if money else int(amount)
    shown_amount = _amount_said(amount) if money else f"{int(amount)}"
    where = {f"{column}__{op}": bound}
    if field == "loss":  # a loss of more than 10万 is a profit below -10万; of less, one in the red still
        where = {f"{column}__{_LOSS_OPS[op]}": -bound}
        if _LOSS_OPS[op] in ("gt", "gte"):
            where[f"{column}__lt"] = 0
    narrowed = Filter(
        where=where,
        params={"field": field, "op": op, "amount": str(amount)},
        words=msg.OVER_WORDS.format(figure=_figure_word(field), op=msg.OVER_OPS[op], amount=shown_amount),
        column=msg.RANK_COLUMNS[field],
        value=lambda view: (
            (_loss_shown if field == "loss" else shown)(getattr(view.card, column), view.money_visible)
            if money
            else str(getattr(view.card, column))
        ),
        # "超过": the largest first; "少于": the smallest; a loss: the biggest first
        order=column if field == "loss" or op in ("lt", "lte") else f"-{column}",
    )
    return await _list(turn, "coop.over", None, narrowed)


# ---- villages, townships, counties or cities by their co-ops ------------------------------------


async def _level_in_region(turn: Turn, intent_name: str) -> tuple[UnitType, Unit, str] | ChatReply:
    """The level asked for (villages, townships, counties or cities), the region (remembered as the
    last unit shown) and the level's word; or the reply that asks which region or says why not."""
    level = level_param(turn.params)
    target = await _target(turn, key="region_id", name_key="region", intent_name=intent_name)
    if isinstance(target, ChatReply):
        return target
    await turn.context.remember_unit(target.id, target.name, target.type)
    return level, target, units_msg.LEVEL_LABELS[level.value]


async def _none_of_level(region: Unit, level: UnitType, label: str, text: str, **words: str) -> ChatReply:
    """An empty answer about a level: ``text`` (with ``words``) if the region has units of it, else
    that it has none."""
    if not await queries.has_units_below(region, level):
        return _notice(units_msg.CHAT_NO_LEVEL.format(name=region.name, level=label))
    return _notice(text.format(region=region.name, level=label, **words))


@intent(
    "coop.units_most",
    patterns=(
        ASK + rf"{_RANK_REGION}哪(?:个|些){LEVEL}(?:的)?合作社{_FEWEST}$",
        ASK + rf"{_RANK_REGION}合作社{_FEWEST}的{LEVEL}(?:是哪个|是哪些|有哪些)?$",
        ASK + rf"{_RANK_REGION}各{LEVEL}(?:的)?合作社(?:(?:数量|个数|数)(?:排名|排行)?|排名|排行)$",
        # by a figure of their co-ops: "哪个乡镇社员最多", "资产最多的村", "各村社员排名"
        ASK + rf"{_RANK_REGION}哪(?:个|些){LEVEL}(?:的)?(?:合作社)?{_RANK_FIELD}{_EXTREME}$",
        ASK + rf"{_RANK_REGION}(?:合作社)?{_RANK_FIELD}{_EXTREME}的{LEVEL}(?:是哪个|是哪些|有哪些)?$",
        ASK + rf"{_RANK_REGION}各{LEVEL}(?:的)?(?:合作社)?{_RANK_FIELD}(?:排名|排行)$",
        # by their co-ops of a kind: "标杆社最多的县", "哪个乡镇村级社最多", "各县标杆社数量"
        ASK + rf"{_RANK_REGION}{_KIND_FIELD}{_FEWEST}的{LEVEL}(?:是哪个|是哪些|有哪些)?$",
        ASK + rf"{_RANK_REGION}哪(?:个|些){LEVEL}(?:的)?{_KIND_FIELD}{_FEWEST}$",
        ASK + rf"{_RANK_REGION}各{LEVEL}(?:的)?{_KIND_FIELD}(?:数量|个数|数|排名|排行)$",
        # the first places: "社员最多的前三个村", "合作社最多的5个乡镇", "标杆社最多的前两个县"
        ASK + rf"{_RANK_REGION}(?:合作社)?{_RANK_FIELD}{_EXTREME}的{_N_OF}{LEVEL}(?:是哪些|有哪些)?$",
        ASK + rf"{_RANK_REGION}合作社{_FEWEST}的{_N_OF}{LEVEL}(?:是哪些|有哪些)?$",
        ASK + rf"{_RANK_REGION}{_KIND_FIELD}{_FEWEST}的{_N_OF}{LEVEL}(?:是哪些|有哪些)?$",
    ),
    permission=PERMISSION,
    priority=35,  # before unit.of_level ("...的村") and the summary ("...合作社数量")
    pageable=True,
    subject="region",
    kept=("level", "field", "least", "count"),
)
async def units_most(turn: Turn) -> ChatReply:
    """The units of a level (villages, townships...) of a region with the most co-ops, or members,
    staff, money (for who sees all money) of their co-ops, by their roll-ups."""
    return await _as_the_cards_are(turn, _units_most)


# Unit rankings by a count of co-ops (of a kind), in which units with no co-op at all rank lowest.
_COUNTED = frozenset({"coops", "village_level", "benchmark", "poverty_county"})


async def _units_most(turn: Turn) -> ChatReply:
    field = _rank_field(turn.params, queries.UNIT_RANKS) if turn.params.get("field") is not None else "coops"
    if refused := _money_order_refused(turn, field):
        return refused
    asked = await _level_in_region(turn, "coop.units_most")
    if isinstance(asked, ChatReply):
        return asked
    level, target, label = asked
    offset = _place(turn.params)
    least = bool(turn.params.get("least"))
    size = _top_count(turn.params)
    units, more = await queries.units_ranked(target, level, field, least=least, offset=offset, limit=size)
    params = {
        "region_id": target.id,
        "level": level.value,
        "field": field,
        **({"least": True} if least else {}),
        **({"count": size} if size != TOP else {}),
    }
    more_action = await _ranking_more(turn, "coop.units_most", params, offset if more else None, size)
    if not units:
        return await _none_ranked(target, level, label, field) if not offset else _notice(msg.NO_MORE)
    money = field in queries.MONEY_RANKS
    title = partial(
        (msg.UNITS_RANK_TITLE_LEAST if least else msg.UNITS_RANK_TITLE).format,
        what=msg.UNITS_RANK_WORDS[field],
        level=label,
    )
    table = TableBlock(
        title=title(region=target.name),
        columns=[
            *msg.MOST_COOPS_COLUMNS[:2],
            msg.RANK_COLUMNS.get(field, msg.UNITS_RANK_WORDS[field]),
        ],
        rows=[[u.name, u.parent_name, shown(u.figure, True) if money else str(u.figure)] for u in units],
        row_actions=[unit_action(u.id, u.name) for u in units],
        more=more_action,
    )
    # "本镇哪个村合作社最多" typed by a county's cadre: theirs, and say so (as the summary does)
    lead = await own_level_notices(turn, _name_param(turn, "region"), target, title(region=""), msg.ASK_NARROWED)
    reply: list[Any] = [*lead, *_first_said(turn, table, offset), table]
    if least and not offset and field in _COUNTED:  # fewer than the fewest shown: those with no co-op
        _, without, _ = await queries.units_without_coops(target, level, cursor=None, limit=1)
        if without:
            reply.append(NoticeBlock(level="info", text=msg.FEWEST_ALSO_NONE.format(count=without, level=label)))
    return ChatReply(blocks=reply, suggestions=_suggestions(turn, target), context=target.name)


async def _none_ranked(region: Unit, level: UnitType, label: str, field: str) -> ChatReply:
    """Why a ranking of ``region``'s units of ``level`` by ``field`` is empty: when units of it have
    co-ops, none is in the red (a loss) or has one of the kind ("标杆社最多"); else that they have none."""
    rank = queries.UNIT_RANKS[field]
    if rank.below_zero or rank.above_zero:
        with_coops, _ = await queries.units_ranked(region, level, limit=1)
        if with_coops:
            text = msg.MOST_LOSS_NONE if rank.below_zero else msg.MOST_KIND_NONE
            return _notice(text.format(region=region.name, level=label, kind=msg.KIND_TITLES.get(field)))
    return await _none_of_level(region, level, label, msg.MOST_COOPS_NONE)


@intent(
    "coop.units_without",
    patterns=(
        ASK + rf"{_RANK_REGION}哪(?:个|些){LEVEL}(?:还)?(?:没有|没|未)(?:成立|建立|组建)?合作社$",
        ASK + rf"{_RANK_REGION}(?:还)?(?:没有|无)合作社的{LEVEL}(?:有哪些|是哪些|有几个|名单)?$",
        # none of a kind: "哪些乡镇没有标杆社", "没有村级社的村"
        ASK + rf"{_RANK_REGION}哪(?:个|些){LEVEL}(?:还)?(?:没有|没|未)(?:评上|评出|认定)?{_KIND_FIELD}$",
        ASK + rf"{_RANK_REGION}(?:还)?(?:没有|无){_KIND_FIELD}的{LEVEL}(?:有哪些|是哪些|有几个|名单)?$",
    ),
    permission=PERMISSION,
    priority=35,  # before unit.of_level ("...的村") and the summary ("...合作社数量")
    pageable=True,
    subject="region",
    kept=("level", "field"),
)
async def units_without(turn: Turn) -> ChatReply:
    """The units of a level (villages, townships...) of a region with no co-op card under them, a page
    at a time."""
    return await _as_the_cards_are(turn, _units_without)


def _kind_param(params: dict[str, Any]) -> Kind | None:
    """The kind of co-op asked for: a word as typed ("标杆社") or a button's value; none: any co-op;
    anything else is a bad parameter."""
    value = params.get("field")
    if value is None:
        return None
    kind = _KIND_WORDS.get(str(value), str(value))
    if kind not in queries.KIND_FLAGS:
        raise AppError("bad_param", msg.BAD_PARAM)
    return cast(Kind, kind)


async def _units_without(turn: Turn) -> ChatReply:
    kind = _kind_param(turn.params)
    asked = await _level_in_region(turn, "coop.units_without")
    if isinstance(asked, ChatReply):
        return asked
    level, target, label = asked
    cursor = _cursor(turn.params)
    units, total, next_cursor = await queries.units_without_coops(
        target, level, kind=kind, cursor=cursor, limit=PAGE_SIZE
    )
    params = {"region_id": target.id, "level": level.value, **({"field": kind} if kind else {})}
    await turn.context.remember_page("coop.units_without", params, next_cursor)
    what = msg.KIND_TITLES[kind]
    if not units:
        if cursor is not None:
            return _notice(msg.NO_MORE)
        return await _none_of_level(target, level, label, msg.NO_KIND_NONE if kind else msg.NO_COOPS_NONE, kind=what)
    more = None
    if next_cursor is not None:
        more = Action(label=msg.BUTTON_MORE, intent="coop.units_without", params={**params, "cursor": next_cursor})
    bare = [] if kind or cursor is not None else await _bare_coops_notices(target, counted=True)
    table = TableBlock(
        title=msg.NO_COOPS_TITLE.format(region=target.name, kind=what if kind else msg.CARDS_WORD, level=label),
        columns=msg.NO_COOPS_COLUMNS,
        rows=[[u.name, u.parent_name] for u in units],
        row_actions=[unit_action(u.id, u.name) for u in units],
        total=total,
        more=more,
    )
    return ChatReply(blocks=[table, *bare], suggestions=_suggestions(turn, target), context=target.name)


@intent(
    "coop.list",
    # Only with words that ask for a list: a co-op's own name often ends in 合作社 and belongs to
    # name lookups ("王家湾村合作社" is a name; "王家湾村的合作社", "王家湾村有哪些合作社" a list).
    patterns=(
        ASK_WORD
        + rf"(?:{_WHICH}合作社|合作社(?:列表|名单|{_WHICH}|(?=\s|$))|(?:所有|全部)合作社(?:列表|名单)?|信息卡管理)"
        + r"(?:\s*(?P<region>.+))?$",
        ASK
        + rf"{_REGION}\s*(?:的\s*(?:所有|全部)?|所有|全部|(?:下面|下边|里)?还?{_WHICH})\s*合作社"
        + rf"(?:列表|名单|{_WHICH})?$",
        ASK + rf"(?P<region>.+?)\s*合作社(?:列表|名单|{_WHICH})$",
        # "王家湾村 合作社": a place, a space, 合作社 (a co-op's own name holds no space: "…果蔬 合作社")
        ASK + r"(?P<region>\S+?[村镇乡县市区])\s+合作社$",
    ),
    permission=PERMISSION,
    pageable=True,
    subject="region",
)
async def all_coops(turn: Turn) -> ChatReply:
    """Every co-op with a card in a region."""
    return await _list(turn, "coop.list", None)


# ---- statistics and map ------------------------------------------------------------------------


def _share(count: int, total: int) -> str:
    """``count`` of ``total`` as a percentage with one decimal, halves up (四舍五入, in integers)."""
    if not total:
        return msg.STATS_SHARE.format(count=count, share="0%")
    tenths = divide_halves_up(1000 * count, total)
    return msg.STATS_SHARE.format(count=count, share=f"{tenths // 10}.{tenths % 10}%")


@intent(
    "coop.stats",
    patterns=(
        ASK_WORD + r"(?:统计指标|统计)(?:一下|数据|情况)?(?:\s*(?P<region>.+))?$",
        ASK + r"(?P<region>.+?)\s*的?\s*(?:合作社)?(?:统计指标|统计)(?:一下|数据|情况)?$",
        # "平均每个合作社多少社员", "合作社平均资产": the averages the statistics card shows
        ASK
        + r"(?:(?P<region>.+?)\s*的?)??\s*(?:合作社)?平均(?:每个|每家|每)?(?:合作社|社)?(?:有)?(?:多少|几)?(?:个|名)?"
        + rf"{_SUMMARY_FIGURES}(?:数)?(?:是多少|有多少|多少)?$",
        # "村级社占比", "王家湾村标杆社比例": the shares the statistics card shows
        ASK
        + r"(?:(?P<region>.+?)\s*的?)??\s*(?:村级社|标杆社|贫困县基层社)(?:的)?"
        + r"(?:占比|比例|比重|所占比例|占多少|占多大比例|占几成)(?:是多少|多少)?$",
    ),
    permission=PERMISSION,
    subject="region",
)
async def stats(turn: Turn) -> ChatReply:
    turn, period = _without_period(turn, "region")
    return _say_period(period, await _stats(turn))


async def _stats(turn: Turn) -> ChatReply:
    """统计指标: counts by kind with their shares, totals and averages per co-op (one roll-up row)."""
    target = await _target(turn, key="region_id", name_key="region", intent_name="coop.stats")
    if isinstance(target, ChatReply):
        return target
    out = stats_out(await queries.figures(turn.actor, target))
    await turn.context.remember_unit(target.id, target.name, target.type)
    t = out.totals
    fields = [
        KeyValue(label=msg.STATS_COOPS, value=f"{t.coops} 个"),
        KeyValue(label=msg.FLAG_VILLAGE_LEVEL, value=_share(t.village_level, t.coops)),
        KeyValue(label=msg.FLAG_BENCHMARK, value=_share(t.benchmark, t.coops)),
        KeyValue(label=msg.FLAG_POVERTY_COUNTY, value=_share(t.poverty_county, t.coops)),
        KeyValue(label=f"{msg.LABEL_MEMBERS}{msg.STATS_TOTAL}", value=str(t.members)),
        KeyValue(label=msg.STATS_AVG_MEMBERS, value=str(out.avg_members)),
        KeyValue(label=f"{msg.LABEL_STAFF}{msg.STATS_TOTAL}", value=str(t.staff)),
        KeyValue(label=msg.STATS_AVG_STAFF, value=str(out.avg_staff)),
        KeyValue(label=msg.LABEL_CAPITAL, value=_money(t.registered_capital)),
        KeyValue(label=msg.LABEL_ASSETS, value=_money(t.assets)),
        KeyValue(label=msg.STATS_AVG_ASSETS, value=_money(out.avg_assets)),
        KeyValue(label=msg.LABEL_REVENUE, value=_money(t.revenue)),
        KeyValue(label=msg.STATS_AVG_REVENUE, value=_money(out.avg_revenue)),
        KeyValue(label=msg.LABEL_PROFIT, value=_money(t.profit)),
        KeyValue(label=msg.STATS_AVG_PROFIT, value=_money(out.avg_profit)),
    ]
    title = (msg.COOP_STATS_TITLE if target.type == UnitType.COOP else msg.STATS_TITLE).format(region=target.name)
    card = CardBlock(
        title=title,
        subtitle=_money_unit(t.assets),
        fields=fields,
        actions=[Action(label=msg.BUTTON_SUMMARY, intent="summary", params={"unit_id": target.id})],
    )
    chart = ChartBlock(
        title=title,
        kind="bar",
        labels=[msg.FLAG_VILLAGE_LEVEL, msg.FLAG_BENCHMARK, msg.FLAG_POVERTY_COUNTY],
        series=[Series(name=msg.SERIES_COOPS, values=[t.village_level, t.benchmark, t.poverty_county])],
        unit=msg.COUNT_UNIT,
    )
    lead = await own_level_notices(turn, _name_param(turn, "region"), target, msg.WHAT_STATS, msg.ASK_STATS)
    return ChatReply(blocks=[*lead, card, chart], suggestions=_suggestions(turn, target), context=target.name)


# After 地图: "地图查询", "在地图上看看", "地图上标一下"
_ON_MAP = r"上?(?:查询|看看|看一下|看下|显示一下|显示出来|显示|标一下|标出来)?"


@intent(
    "coop.map",
    patterns=(
        ASK_WORD + rf"(?:在)?(?:合作社)?地图{_ON_MAP}(?:\s*(?P<region>.+))?$",
        ASK + rf"(?P<region>.+?)\s*的?\s*(?:合作社)?(?:在)?地图{_ON_MAP}$",  # "我们村的合作社在地图上看看"
        # "合作社分布", "王家湾村的合作社分布图": the map's own title
        ASK + r"(?:(?P<region>.+?)\s*的?)??\s*合作社(?:的)?分布(?:图|情况)?$",
    ),
    permission=PERMISSION,
    subject="region",
)
async def coop_map(turn: Turn) -> ChatReply:
    """地图查询: pins of the co-ops with coordinates in a region (at most 200, and it says so), and how
    many have none (no pin shows them)."""
    return await _as_the_cards_are(turn, _map)


async def _map(turn: Turn) -> ChatReply:
    target = await _target(turn, key="region_id", name_key="region", intent_name="coop.map")
    if isinstance(target, ChatReply):
        return target
    result = await queries.map_pins(turn.actor, target)
    await turn.context.remember_unit(target.id, target.name, target.type)
    lead = await own_level_notices(turn, _name_param(turn, "region"), target, msg.WHAT_MAP, msg.ASK_MAP)
    if not result.pins:
        empty = (
            msg.MAP_NONE_LOCATED.format(region=target.name, count=result.not_located)
            if result.not_located
            else msg.MAP_EMPTY.format(region=target.name)
        )
        return ChatReply(
            blocks=[*lead, NoticeBlock(text=empty)], suggestions=_suggestions(turn, target), context=target.name
        )
    pins = [
        Pin(
            latitude=view.card.latitude or 0.0,
            longitude=view.card.longitude or 0.0,
            title=view.unit.name,
            subtitle=view.region.name if view.region else None,
            action=Action(label=msg.BUTTON_CARD, intent="coop.card", params={"unit_id": view.unit.id}),
        )
        for view in result.pins
    ]
    title = (msg.COOP_MAP_TITLE if target.type == UnitType.COOP else msg.MAP_TITLE).format(region=target.name)
    blocks: list[Any] = [*lead, MapBlock(title=title, pins=pins)]
    if result.capped:
        blocks.append(NoticeBlock(level="info", text=msg.MAP_CAPPED.format(total=result.total, shown=len(pins))))
    if result.not_located:  # a card without coordinates has no pin: say so, not leave it out unseen
        blocks.append(NoticeBlock(level="info", text=msg.MAP_NOT_LOCATED.format(count=result.not_located)))
    return ChatReply(blocks=blocks, suggestions=_suggestions(turn, target), context=target.name)
