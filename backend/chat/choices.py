"""What was just shown, referred to by typing rather than tapping.

After a table whose rows open something (``row_actions``) or a card of choice buttons ("有 3 个单位符合…",
"您要找的是不是："), "第二个", "第2个", "第二个合作社", "打开第一个", "第一名是谁", "倒数第一", "最后一个"
choose that row or button; "是的", "对", "就是它", "嗯" choose the one button of a question that
offered one. The choice then runs as the button would, pressed (backend.chat.service): the same
permission and scope checks, nothing trusted beyond them. A button that writes or asks to confirm
first is never pressed by typing.

The choices are kept in the conversation (backend.chat.context, the ``choices`` field) as their intents
and parameters only, at most :data:`MAX_KEPT`, written with the turn's other fields; a turn that
remembers anything else without showing choices clears them, so an ordinal never reaches past the
answer on screen. "第二个" after "更多" is the second row of the page shown.

"她的操作记录", "重置她的密码", "这个人的电话": :func:`means_last_person` names the person whose card
was shown last (backend.accounts.chat resolves it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from backend.chat import messages as msg
from backend.chat import registry
from backend.chat.parser import chinese_number, normalise
from backend.chat.protocol import Action, CardBlock, ChatReply, NoticeBlock, TableBlock, TextBlock

CHOICE = "chat.choice"  # a typed ordinal or yes: resolved against the choices shown (service._turn)
MAX_KEPT = 30  # choices kept of one answer (a page is 10; a summary's breakdown may list 100)

_NUMBER = r"[0-9]{1,3}|[一二两三四五六七八九十]{1,3}"
_MEASURE = r"(?:个|名|行|条|项|位|家|处)"
# What may follow the measure word: "第二个合作社", "第一个人"
_NOUN = r"(?:合作社|专业合作社|社|村|社区|乡镇|镇|乡|街道|县|区|市|单位|人|人员|账号|结果|选项|记录)"
_DO = r"(?:我?(?:要|选|选择|点|点开|打开|查看|看看|看|进入|就要|就选|就是|是|要看))"
_ORDINAL = re.compile(
    rf"^{_DO}?\s*(?:第\s*(?P<number>{_NUMBER})\s*(?:{_MEASURE}{_NOUN}?)?"
    rf"|倒数\s*第\s*(?P<back>{_NUMBER})\s*(?:{_MEASURE}{_NOUN}?)?"
    rf"|(?P<last>最后|最末)\s*(?:一|那)?\s*{_MEASURE}{_NOUN}?)"
    r"\s*(?:是谁|是哪个|是哪家|是哪位|是什么|的详情|的情况|的信息|详情|吧)?$"
)
_YES = re.compile(
    # normalise drops a leading 就是 ("就是这个" -> "这个", "就是他吧" -> "他")
    r"(?i)^(?:是|是的|对|对的|没错|就是|就是它|就是他|就是她|就是这个|就这个|这个|就它|是它|是这个|它|他|她|嗯+|恩+|yes)$"
)
_MURMUR = re.compile(r"^[嗯恩]+$")  # also thanks (backend.chat.builtin): a yes only after a question

# The person whose card was shown last: "她的操作记录", "把他停用", "这个人的电话". Compared with the
# whole of a name parameter, so 他郎村 stays a name.
_LAST_PERSON = frozenset(
    ("他", "她", "这个人", "这人", "此人", "该人", "这位", "那个人", "那人", "他本人", "她本人", "这个人员")
)


def means_last_person(name: str) -> bool:
    """ "她", "这个人": the person whose card this conversation showed last."""
    return name.strip() in _LAST_PERSON


# A word every choice holds: a text without one (most turns) is not normalised twice.
_MAY_CHOOSE = re.compile(r"(?i)第|倒数|最后|最末|是|对|没错|就|嗯|恩|yes")


def typed(text: str) -> dict[str, Any] | None:
    """The parameters of :data:`CHOICE` if ``text`` chooses from what was shown, else None."""
    if not _MAY_CHOOSE.search(text):
        return None
    clean = normalise(text)
    if found := _ORDINAL.match(clean):
        if found.group("last"):
            return {"from_end": 1, "text": text}
        if found.group("back"):
            back = chinese_number(found.group("back"))
            return None if back is None else {"from_end": back, "text": text}
        number = chinese_number(found.group("number"))
        return None if number is None else {"number": number, "text": text}
    if _YES.match(clean):
        return {"yes": True, "text": text}
    return None


@dataclass(frozen=True)
class Choice:
    intent: str
    params: dict[str, Any]


def _pressable(intent: str) -> bool:
    """May typing press a button of ``intent``? Not one that writes (its button may, once tapped)."""
    spec = registry.get(intent)
    return spec is not None and not spec.writes


def _choice(action: Action | None) -> Choice | None:
    """The choice a typed word may press: not a button that writes, nor one that asks the user first."""
    if action is None or action.confirm is not None or not _pressable(action.intent):
        return None
    return Choice(action.intent, action.params)


@dataclass(frozen=True)
class Shown:
    """The choices of one answer: what each row or button opens (None: typing does not press it),
    the first :data:`MAX_KEPT`, how many there were, and whether they were buttons of a question;
    ``tap``: the label of the one button a write asked for showed, which only a tap presses."""

    choices: list[Choice | None]
    count: int
    question: bool
    tap: str | None = None


# The quick replies of a name not found that open a near name's card (backend.chat.lookup.action_for):
# "第一个" after "没有找到“孔家湾”" takes the first of them.
_NEAR_NAME_INTENTS = frozenset(("unit.card", "account.card"))


def shown(reply: ChatReply, asked: str | None = None) -> Shown | None:
    """The choices ``reply`` offers: its first table whose rows open something, else its first card
    of buttons alone (a question: "有 3 个…符合", "您要找的是不是："), else, an answer in words only,
    its quick replies that open a near name; else, with ``asked`` (the intent the reply answered),
    the one button of that intent on its cards that typing does not press ("确认停用" after "停用陶明强的
    账号"): a yes is told to tap it. None: it offers none."""
    for block in reply.blocks:
        if isinstance(block, TableBlock) and block.row_actions and any(block.row_actions):
            actions, question = block.row_actions, False
        elif isinstance(block, CardBlock) and block.actions and not block.fields:
            actions, question = list(block.actions), True
        else:
            continue
        return Shown([_choice(a) for a in actions[:MAX_KEPT]], len(actions), question)
    if all(isinstance(block, NoticeBlock | TextBlock) for block in reply.blocks):
        near = [s.action for s in reply.suggestions if s.action is not None and s.action.intent in _NEAR_NAME_INTENTS]
        return Shown([_choice(a) for a in near[:MAX_KEPT]], len(near), True) if near else None
    asked_for = [
        action
        for block in reply.blocks
        if isinstance(block, CardBlock)
        for action in block.actions
        if action.intent == asked and _choice(action) is None
    ]
    return Shown([None], 1, True, tap=asked_for[0].label) if len(asked_for) == 1 else None


def record_of(
    choices: list[Choice | None], *, count: int | None = None, question: bool = False, tap: str | None = None
) -> str:
    """The compact record of choices kept in the conversation (intents and parameters, no labels but
    the one of a button to tap)."""
    rows = [None if c is None else [c.intent, c.params] for c in choices[:MAX_KEPT]]
    data: dict[str, Any] = {"rows": rows, "count": max(count or 0, len(choices))}
    if question:
        data["question"] = True
    if tap is not None:
        data["tap"] = tap
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def record(found: Shown) -> str:
    return record_of(found.choices, count=found.count, question=found.question, tap=found.tap)


def read(raw: str | None) -> Shown | None:
    """The choices a record holds (None: none, or a record this release cannot read)."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
        rows = [None if row is None else Choice(str(row[0]), dict(row[1])) for row in data["rows"]]
        tap = data.get("tap")
        return Shown(
            rows, int(data.get("count", len(rows))), bool(data.get("question")), tap if isinstance(tap, str) else None
        )
    except (ValueError, KeyError, TypeError, IndexError):
        return None


@dataclass(frozen=True)
class Pick:
    """What a typed choice comes to: the button's intent and parameters (``choice``), or what to say
    (``notice``); neither: the text means what the parser makes of it."""

    choice: Choice | None = None
    notice: str | None = None


def pick(found: Shown | None, params: dict[str, Any]) -> Pick:
    yes = params.get("yes") is True
    if yes:
        if found is None or (not any(found.choices) and not found.question):
            return Pick()  # nothing asked: "嗯" thanks, "对" is looked up as today
        if found.question and found.count == 1:
            return _pressed(found.choices[0], found.tap)
        return Pick() if _MURMUR.match(normalise(str(params.get("text") or ""))) else Pick(notice=msg.CHOICE_WHICH)
    if found is None:
        return Pick(notice=msg.NO_CHOICES)
    number = params.get("number")
    if number is None:
        back = params.get("from_end")
        number = found.count + 1 - back if isinstance(back, int) and 0 < back <= found.count else 0
    if not isinstance(number, int) or not 0 < number <= found.count:
        return Pick(notice=msg.ONLY_CHOICES.format(count=found.count))
    if number > len(found.choices):
        return Pick(notice=msg.CHOICE_NOT_KEPT.format(number=number))
    return _pressed(found.choices[number - 1], found.tap)


def _pressed(chosen: Choice | None, tap: str | None = None) -> Pick:
    """The choice pressed (checked again: the record is read back from Redis), or a tap asked for
    (of the button labelled ``tap``, when known)."""
    if chosen is not None and _pressable(chosen.intent):
        return Pick(choice=chosen)
    return Pick(notice=msg.CHOICE_TAP_LABEL.format(label=tap) if tap else msg.CHOICE_TAP)
