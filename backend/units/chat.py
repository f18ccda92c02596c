"""Chat intents of the units domain (registered on import by backend.chat.intents).

``unit.card`` (one unit), ``unit.children`` (its children, paged), ``lookup.region_code`` and
``lookup.credit_code`` (units in scope by code). Which unit a phrase means (:func:`resolve_unit`):
a button's ``unit_id``, else a name (or a region code: "530101001001的下级单位") in the text,
"这个村" (the unit last shown in this conversation), "本单位" (the actor's own), else the last unit
shown, else the actor's own unit.
Everything goes through the actor's scope: a unit outside it answers like a missing one.

``lookup.name`` (units and people by name) lives in backend/accounts/chat.py, which knows both.
"""

from __future__ import annotations

import re
from contextlib import suppress
from typing import Any, NamedTuple

from backend.chat import lookup
from backend.chat import lookup_messages as lmsg
from backend.chat.params import whole_number
from backend.chat.parser import ASK, ASK_WORD, without_asking
from backend.chat.protocol import (
    Action,
    CardBlock,
    ChatReply,
    KeyValue,
    NoticeBlock,
    Suggestion,
    TableBlock,
    TextBlock,
)
from backend.chat.references import means_last_shown, means_own
from backend.chat.registry import Turn, intent
from backend.chat.service import suggestions as default_suggestions
from backend.core import db, identifiers
from backend.core.actor import Actor
from backend.core.errors import AppError, NotFound
from backend.core.roles import allows
from backend.core.scope import scope_like
from backend.units import messages as msg
from backend.units.actions import REGION_LEVEL
from backend.units.models import REGION_TYPES, Unit, UnitType
from backend.units.queries import get_unit, in_scope, list_units, units_where

PAGE_SIZE = 10
MAX_CHOICES = 10
_CHILDREN_PATTERNS = (
    ASK_WORD + r"(?:下级单位|下级|下属单位|下辖单位)(?:有哪些|有什么|列表)?$",  # "查下级单位": 查 is no name
    ASK + r"(?P<name>.{0,20}?)的?(?:下级单位|下级|下属单位|下辖单位)(?:有哪些|有什么|有几个|有多少个?|列表)?$",
    ASK + r"(?P<name>.{0,20}?)(?:下面|下边|底下|下辖)?(?:有|都有)(?:哪些|什么|几个)(?:单位|下级)$",
    ASK_WORD + r"(?:下级单位|下属单位|下辖单位)\s+(?P<name>.{1,20})$",  # "下级单位 王家湾", as "汇总 青山县"
)
# A level of the region tree at any depth: "青山县有几个村", "这个乡有哪些村", "白沙镇的村" (的 before
# the level word, so that a name ending in 村 stays a name).
_VILLAGE_WORDS = r"行政村|村庄|村|社区"
_TOWNSHIP_WORDS = r"乡镇|镇|乡|街道"
_COUNTY_WORDS = r"县区|县|区"  # after the villages' 社区
_CITY_WORDS = r"地级市|市|州"
_LEVEL_WORDS = (
    (UnitType.VILLAGE, _VILLAGE_WORDS),
    (UnitType.TOWNSHIP, _TOWNSHIP_WORDS),
    (UnitType.COUNTY, _COUNTY_WORDS),
    (UnitType.CITY, _CITY_WORDS),
)
LEVEL = "(?P<level>" + "|".join(words for _, words in _LEVEL_WORDS) + ")"
_HOW_MANY = r"(?:有|都有|共有|一共有|总共有|一共|总共|共|管|管着|辖|管辖)(?:哪些|什么|几个|多少个?)"
_LEVEL_PATTERNS = (
    ASK + rf"(?P<name>.{{0,20}}?)(?:下面|下边|底下|下辖|里)?{_HOW_MANY}{LEVEL}$",
    ASK + rf"(?P<name>.{{1,20}}?)的{LEVEL}(?:有哪些|都有哪些|有什么|有几个|有多少个?|列表|名单)?$",
    # "青山县乡镇列表", "白沙镇所有村": a list word after, or 所有 / 全部 before (a name ends in 村 too)
    ASK + rf"(?P<name>.{{0,19}}?[村镇乡县区市州省])的?{LEVEL}(?:列表|名单)$",  # not "王家湾村名单"
    ASK + rf"(?P<name>.{{1,20}}?)的?(?:所有|全部)的?{LEVEL}(?:列表|名单|有哪些)?$",
)


def int_param(params: dict[str, Any], name: str) -> int | None:
    """An id or cursor from a button; anything else is treated as a missing row."""
    value = params.get(name)
    if value is None:
        return None
    number = whole_number(value)
    if number is None:
        raise NotFound()
    return number


def required_id(params: dict[str, Any], name: str) -> int:
    """The id a button must carry; missing or not an id, it names no row in scope (NotFound)."""
    number = int_param(params, name)
    if number is None:
        raise NotFound()
    return number


def type_label(unit_type: str | None) -> str:
    return msg.TYPE_LABELS.get(str(unit_type), "") if unit_type else ""


def unit_action(unit_id: int, label: str) -> Action:
    return Action(label=label, intent="unit.card", params={"unit_id": unit_id})


class CardUnit(NamedTuple):
    """The columns of a unit its card shows."""

    id: int
    name: str
    type: str
    region_code: str | None
    credit_code: str | None


# The unit and its ancestors within scope, by parent_id from the unit up (primary-key probes); the
# counts only on the unit's own row, both through the scope: children in scope, and memberships of
# the unit (in scope with it) when the actor may see people. The walk's step has no condition of its
# own: with one (the scope, as it had), SQLite with statistics (sqlite_stat1) put a Bloom filter on
# the unit table, built by scanning every unit on each card (5 ms at 51,635 units instead of 0.03).
# It walks to the root (a handful of probes) and the scope picks the rows, the same ones: the
# ancestors outside the scope are the top of the chain.
_CARD_SQL = """WITH RECURSIVE chain(id, name, type, region_code, credit_code, parent_id, depth, path) AS (
    SELECT u.id, u.name, u.type, u.region_code, u.credit_code, u.parent_id, u.depth, u.path
    FROM unit u WHERE u.id = ? AND {unit_scope}
  UNION ALL
    SELECT p.id, p.name, p.type, p.region_code, p.credit_code, p.parent_id, p.depth, p.path
    FROM unit p JOIN chain c ON p.id = c.parent_id
)
SELECT c.id, c.name, c.type, c.region_code, c.credit_code,
  CASE WHEN c.id = ? THEN (SELECT COUNT(*) FROM unit k WHERE k.parent_id = c.id AND {child_scope}) END,
  {members}
FROM chain c WHERE {chain_scope} ORDER BY c.depth"""
_MEMBERS_SQL = "CASE WHEN c.id = ? THEN (SELECT COUNT(*) FROM membership m WHERE m.unit_id = c.id) END"


def card_statement(actor: Actor, unit_id: int) -> tuple[str, list[Any]]:
    """The card's one statement for ``unit_id`` and its values."""
    people = allows(actor.role, "accounts.view")  # who holds a role here is account information: admins only
    unit_scope, prefix = scope_like("u.path", actor)
    child_scope, _ = scope_like("k.path", actor)
    chain_scope, _ = scope_like("c.path", actor)
    sql = _CARD_SQL.format(
        unit_scope=unit_scope,
        child_scope=child_scope,
        chain_scope=chain_scope,
        members=_MEMBERS_SQL if people else "NULL",
    )
    values: list[Any] = [unit_id, prefix, unit_id, prefix] + ([unit_id] if people else []) + [prefix]
    return sql, values


async def unit_card(actor: Actor, unit_id: int) -> tuple[CardUnit, CardBlock]:
    """Name, type, codes, the chain within scope, counts, and what can be done next (one statement).

    A unit outside the actor's scope raises NotFound, like :func:`backend.units.queries.get_unit`.
    """
    people = allows(actor.role, "accounts.view")
    sql, values = card_statement(actor, unit_id)
    rows = await db.fetch_rows(sql, values)
    if not rows or rows[-1][0] != unit_id:
        raise NotFound()
    *chain, own = rows
    unit = CardUnit(int(own[0]), own[1], own[2], own[3], own[4])
    children = int(own[5])
    fields = [KeyValue(label=msg.CHAT_FIELD_TYPE, value=type_label(unit.type))]
    if unit.region_code:
        fields.append(KeyValue(label=msg.CHAT_FIELD_REGION_CODE, value=unit.region_code))
    if unit.credit_code:
        fields.append(KeyValue(label=msg.CHAT_FIELD_CREDIT_CODE, value=unit.credit_code))
    if chain:
        fields.append(KeyValue(label=msg.CHAT_FIELD_PARENTS, value=" / ".join(row[1] for row in chain)))
    fields.append(KeyValue(label=msg.CHAT_FIELD_CHILDREN, value=msg.CHAT_COUNT.format(count=children)))
    if people:
        fields.append(KeyValue(label=msg.CHAT_FIELD_MEMBERS, value=msg.CHAT_PEOPLE_COUNT.format(count=int(own[6]))))
    params = {"unit_id": unit.id}
    actions = []
    if children:
        actions.append(Action(label=msg.CHAT_BUTTON_CHILDREN, intent="unit.children", params=params))
    if people:
        actions.append(Action(label=msg.CHAT_BUTTON_MEMBERS, intent="unit.members", params=params))
    actions.append(Action(label=msg.CHAT_BUTTON_SUMMARY, intent="summary", params=params))
    if unit.type == UnitType.COOP:
        actions.append(Action(label=msg.CHAT_BUTTON_COOP_CARD, intent="coop.card", params=params))
    card = CardBlock(title=unit.name, subtitle=type_label(unit.type), fields=fields, actions=actions)
    return unit, card


def unit_suggestions(actor: Actor, unit: Unit | None = None) -> list[Suggestion]:
    """Quick replies under an answer about ``unit``: its children and people (typed, those words
    follow the unit shown) and its summary (typed alone, 汇总 is the own unit's: the reply presses
    the summary of ``unit`` when it is another)."""
    chips = [Suggestion(label=msg.CHAT_SUGGEST_CHILDREN, text=msg.CHAT_SUGGEST_CHILDREN)]
    if allows(actor.role, "accounts.view"):
        chips.append(Suggestion(label=msg.CHAT_SUGGEST_MEMBERS, text=msg.CHAT_SUGGEST_MEMBERS))
    label = msg.CHAT_SUGGEST_SUMMARY
    if unit is None or unit.id == actor.unit_id:
        chips.append(Suggestion(label=label, text=label))
    else:
        chips.append(Suggestion(label=label, action=Action(label=label, intent="summary", params={"unit_id": unit.id})))
    return chips


async def unit_reply(turn: Turn, unit_id: int, *, lead: str | None = None) -> ChatReply:
    """The card of a unit in scope (outside it: NotFound); the conversation is about this unit from
    now on ("这个村")."""
    unit, card = await unit_card(turn.actor, unit_id)
    await turn.context.remember_unit(unit.id, unit.name, unit.type)
    blocks: list[Any] = [TextBlock(text=lead)] if lead else []
    blocks += await own_level_notices(turn, str(turn.params.get("name") or ""), unit.id)
    blocks.append(card)
    return ChatReply(blocks=blocks, suggestions=unit_suggestions(turn.actor, unit), context=unit.name)


async def choices_reply(
    actor: Actor, title: str, matches: list[lookup.Match], *, more: bool = False, first: int | None = None
) -> ChatReply:
    """Several matches: one button each, labelled so that namesakes can be told apart. ``first``:
    the list is paged ("更多" shows the next page) and this page starts at that match (1-based)."""
    labels = await lookup.labels(actor, matches)
    blocks: list[Any] = [
        CardBlock(title=title, actions=[lookup.action_for(m, label) for m, label in zip(matches, labels, strict=True)])
    ]
    suggestions = default_suggestions()
    if more and first is not None:
        text = lmsg.PAGED.format(first=first, last=first + len(matches) - 1)
        blocks.append(NoticeBlock(level="info", text=text))
        suggestions.insert(0, Suggestion(label=lmsg.SUGGEST_MORE, text=lmsg.SUGGEST_MORE))
    elif more:
        blocks.append(NoticeBlock(level="info", text=lmsg.TOO_MANY.format(count=len(matches))))
    return ChatReply(blocks=blocks, suggestions=suggestions)


def not_found_reply(text: str, near: list[lookup.Match] | None = None) -> ChatReply:
    """Nothing matches: say so kindly, offer the closest names in scope, never an error."""
    chips = [Suggestion(label=m.name, action=lookup.action_for(m, m.name)) for m in (near or [])[:3]]
    return ChatReply(blocks=[NoticeBlock(level="info", text=text)], suggestions=chips + default_suggestions())


async def above_scope(actor: Actor, name: str) -> str | None:
    """What to say of a name found nowhere in scope whose place word is a level above the actor's own
    unit ("云岭省" typed by a city's cadre): the scope, as the summary says it of "全省". Read from the
    words alone, never from the units outside the scope, so a unit above answers as one that exists
    nowhere. None: no such name, or the own unit is no region."""
    level = level_named(name)
    if level is None or len(name) < 2:
        return None
    own = await get_unit(actor, actor.unit_id)
    own_level = REGION_LEVEL.get(own.type)
    if own_level is None or REGION_LEVEL[level] >= own_level:
        return None
    return msg.CHAT_ABOVE_SCOPE.format(said=name, unit=own.name)


async def units_coded(actor: Actor, code: str) -> list[Unit]:
    """Units in scope with this region code, higher units first: at most MAX_CHOICES + 1 (more
    than MAX_CHOICES: there are more)."""
    return await in_scope(actor).filter(region_code=code).order_by("depth", "id").limit(MAX_CHOICES + 1)


def region_code_named(name: str) -> str | None:
    """The region code a question names its unit by ("530101001001的下级单位"), else None."""
    code = name.replace(" ", "")
    return code if identifiers.valid_region_code(code) else None


# The level a reference names ("这个村"): after a co-op's card it means the co-op's village.
_REFERENCE_LEVELS = (
    ("乡镇", UnitType.TOWNSHIP),
    ("村", UnitType.VILLAGE),
    ("社区", UnitType.VILLAGE),
    ("镇", UnitType.TOWNSHIP),
    ("乡", UnitType.TOWNSHIP),
    ("街道", UnitType.TOWNSHIP),
    ("县", UnitType.COUNTY),
    ("区", UnitType.COUNTY),
    ("市", UnitType.CITY),
    ("省", UnitType.PROVINCE),
)


def names_a_coop(reference: str) -> bool:
    """Does a reference to the unit shown name a co-op ("这个社", "该合作社")?"""
    return reference.endswith("社")


def level_named(reference: str) -> UnitType | None:
    """The region level a reference's place word names ("这个村", "全县"); None without one."""
    return next((t for word, t in _REFERENCE_LEVELS if reference.endswith(word)), None)


def above_own(reference: str, own: Unit) -> bool:
    """Does an own-unit reference name a region level above the actor's own unit ("全县" typed by a
    township's cadre)? Their scope stops at their unit: the answer is about it and should say so."""
    level = level_named(reference)
    if level is None or not means_own(reference):
        return False
    own_level = REGION_LEVEL.get(own.type)
    return own_level is None or REGION_LEVEL[level] < own_level


def below_own(reference: str, own: Unit) -> bool:
    """Does an own-unit reference name a region level below the actor's own unit ("本镇" typed by a
    county's cadre)? It is their unit all the same: the answer is about it and should say what it is
    and how to ask for one unit of that level."""
    level = level_named(reference)
    own_level = REGION_LEVEL.get(own.type)
    return level is not None and own_level is not None and means_own(reference) and REGION_LEVEL[level] > own_level


async def name_of_level(actor: Actor, level: UnitType) -> str | None:
    """The name of one unit of ``level`` in the actor's scope (the highest, first made), to show how
    to ask for one; None: there is none."""
    found = await units_where(actor, "type = ?", [level.value], "ORDER BY depth, id LIMIT 1")
    return found[0].name if found else None


async def own_level_notices(
    turn: Turn, said: str, target: Unit | int, what: str | None = None, ask: str | None = None
) -> list[NoticeBlock]:
    """A notice before an answer about the actor's own unit (``target``, or its id) when the name
    typed for it (``said``) is a level above it ("全县汇总" typed by a township's cadre: outside their
    scope) or below it ("本镇有几个村" typed by a county's: their unit is no township). ``what`` is
    what is answered and ``ask`` how to ask for it of one unit of that level (with {name}, one in
    scope, and {what}); without them, the unit's card ("我们镇": its information, asked by a name)."""
    said = re.sub(r"\s+", "", said).removesuffix("的")
    level = level_named(said)
    unit_id = target if isinstance(target, int) else target.id
    if level is None or not means_own(said) or unit_id != turn.actor.unit_id:
        return []
    own = target if isinstance(target, Unit) else await get_unit(turn.actor, target)
    if above_own(said, own):
        if what is None:
            return [NoticeBlock(text=msg.CHAT_OWN_SCOPE_ONLY.format(said=said, unit=own.name))]
        return [NoticeBlock(text=msg.OWN_SCOPE_ONLY.format(said=said, unit=own.name, what=what))]
    if not below_own(said, own):
        return []
    label = msg.TYPE_LABELS[level]
    name = await name_of_level(turn.actor, level) or msg.CHAT_NAME_OF_LEVEL.format(level=label)
    words = {"unit": own.name, "type": type_label(own.type), "level": label}
    if what is None or ask is None:
        return [NoticeBlock(text=msg.CHAT_OWN_LEVEL_BELOW.format(**words, name=name))]
    return [NoticeBlock(text=msg.OWN_LEVEL_BELOW.format(**words, what=what, ask=ask.format(name=name, what=what)))]


async def each_level_notices(turn: Turn, said: str, target: Unit, by_type: str | None, what: str) -> list[NoticeBlock]:
    """A notice before a breakdown of ``target`` by its children (of ``by_type``) when the level typed
    after 各 (``said``: "村" of "各村汇总") lies further below ("各村汇总" typed at a county: its rows
    are townships): what the rows are, and how to ask for the rows of that level (of one unit of the
    level above it, "白沙镇各村汇总"). Nothing when the rows are of that level or it is not a region's."""
    level = level_named(said)
    if level is None or by_type not in REGION_LEVEL or REGION_LEVEL[by_type] >= REGION_LEVEL[level]:
        return []
    above = REGION_TYPES[REGION_LEVEL[level] - 1]
    label = msg.TYPE_LABELS[level]
    name = await name_of_level(turn.actor, above) or msg.CHAT_NAME_OF_LEVEL.format(level=msg.TYPE_LABELS[above])
    words = {"unit": target.name, "by": msg.TYPE_LABELS[by_type], "level": label, "name": name, "what": what}
    return [NoticeBlock(text=msg.EACH_LEVEL_BELOW.format(**words))]


async def last_shown_unit(turn: Turn, reference: str) -> Unit | None:
    """The unit "这个村" / "这里" (``reference``) means: the one this conversation showed last (None:
    none yet; NotFound: no longer in scope), or the nearest unit above it in scope of the level the
    reference names when it is of another ("这个村" after a co-op's card: the co-op's village);
    AppError when the unit shown is a region above that level ("这个村" after a township's card) or
    is in no unit of that level ("这个村" after a co-op directly under a township). "这个社" after a
    unit that is no co-op: the co-op shown last, if one was and is still in scope (a village's
    summary after a co-op's card), else that unit (its caller says it is no co-op)."""
    last = await turn.context.last_unit()
    if last is None:
        return None
    actor = turn.actor
    unit = await get_unit(actor, last[0])
    if names_a_coop(reference) and unit.type != UnitType.COOP and (coop_id := await turn.context.last_coop()):
        with suppress(NotFound):  # moved out of scope or deleted since it was shown
            return await get_unit(actor, coop_id)
    level = level_named(reference)
    if level is not None and REGION_LEVEL.get(unit.type, len(REGION_LEVEL)) < REGION_LEVEL[level]:
        # "这个村" after a township's card: which of its villages is not known; say so, not the township
        said = msg.CHAT_SHOWN_ABOVE_LEVEL.format(
            name=unit.name, type=msg.TYPE_LABELS[unit.type], level=msg.TYPE_LABELS[level]
        )
        raise AppError("reference_level", said, status=422)
    above = [int(part) for part in unit.path.strip("/").split("/")[:-1]]
    if level is None or unit.type == level or not above:
        return unit
    marks = ", ".join("?" * len(above))
    found = await units_where(actor, f"id IN ({marks})", above, "ORDER BY depth DESC")  # nearest first
    of_level = [u for u in found if u.type == level]
    if of_level:
        return of_level[0]
    if not found or await Unit.filter(id__in=above, type=level).exists():
        return unit  # that level lies above the scope: what the actor sees of it is the unit shown
    # "这个村" after the card of a co-op directly under a township: it is in no village; say where it sits
    said = msg.CHAT_SHOWN_IN_NO_LEVEL.format(
        name=unit.name, type=msg.TYPE_LABELS[unit.type], parent=found[0].name, level=msg.TYPE_LABELS[level]
    )
    raise AppError("reference_level", said, status=422)


async def resolve_unit(turn: Turn, intent_name: str) -> Unit | ChatReply:
    """The unit a turn is about (see the module docstring), or the reply that asks or says why not."""
    actor = turn.actor
    unit_id = int_param(turn.params, "unit_id")
    if unit_id is not None:
        return await get_unit(actor, unit_id)
    name = str(turn.params.get("name") or "").strip()
    if name and means_own(name):
        return await get_unit(actor, actor.unit_id)
    if not name or means_last_shown(name):
        try:
            shown = await last_shown_unit(turn, name)
        except NotFound:  # moved out of scope or deleted since it was shown
            shown = None
        return shown or await get_unit(actor, actor.unit_id)
    if code := region_code_named(name):
        coded = await units_coded(actor, code)
        if not coded:
            return not_found_reply(msg.CHAT_CODE_NOT_FOUND)
        if len(coded) == 1:
            return coded[0]
        found = lookup.Found([lookup.unit_match(u) for u in coded[:MAX_CHOICES]], [], len(coded) > MAX_CHOICES)
        name = code
    else:
        found = await lookup.find(actor, name, units=True, people=False, limit=MAX_CHOICES)
    chosen = lookup.single(found)
    for bare in without_asking(name) if chosen is None else ():  # "查王家湾村的人员": 查 asked
        if chosen := lookup.single(await lookup.find(actor, bare, units=True, people=False, limit=MAX_CHOICES)):
            break
    if not found.matches and chosen is None:
        if above := await above_scope(actor, name):
            return not_found_reply(above)
        return not_found_reply(msg.CHAT_UNIT_NOT_FOUND.format(name=name), found.near)
    if chosen is not None:
        return await get_unit(actor, chosen.id)
    choices = [
        Action(label=label, intent=intent_name, params={"unit_id": m.id})
        for m, label in zip(found.matches, await lookup.labels(actor, found.matches), strict=True)
    ]
    title = msg.CHAT_CHOOSE_UNIT.format(count=len(choices), name=name)
    return ChatReply(blocks=[CardBlock(title=title, actions=choices)], suggestions=default_suggestions())


# Where a unit belongs, which its card shows: "王家湾村的上级", "王家湾村属于哪个乡镇".
_ABOVE_PATTERNS = (
    ASK + r"(?P<name>.{1,20}?)的?(?:上级单位|上级|所属单位|主管单位)(?:是哪个|是哪里|是什么|是谁)?$",
    ASK + r"(?P<name>.{1,20}?)(?:属于|归|隶属于?)(?:哪个|哪|什么)(?:乡镇|镇|乡|街道|县|区|市|单位)(?:管)?的?$",
)


@intent("unit.card", patterns=_ABOVE_PATTERNS, permission="units.view", subject="name")
async def unit_card_intent(turn: Turn) -> ChatReply:
    unit_id = int_param(turn.params, "unit_id")
    if unit_id is not None:  # a button: the card's one statement also keeps the scope
        return await unit_reply(turn, unit_id)
    unit = await resolve_unit(turn, "unit.card")
    return unit if isinstance(unit, ChatReply) else await unit_reply(turn, unit.id)


@intent(
    "unit.children", patterns=_CHILDREN_PATTERNS, permission="units.view", priority=40, pageable=True, subject="name"
)
async def unit_children(turn: Turn) -> ChatReply:
    """The children of a unit in scope, a page at a time ("更多" continues)."""
    unit = await resolve_unit(turn, "unit.children")
    if isinstance(unit, ChatReply):
        return unit
    cursor = int_param(turn.params, "cursor")
    page = await list_units(turn.actor, parent_id=unit.id, cursor=cursor, limit=PAGE_SIZE)
    await turn.context.remember_unit(unit.id, unit.name, unit.type)
    await turn.context.remember_page("unit.children", {"unit_id": unit.id}, page.next_cursor)
    if not page.items and cursor is None:
        notice = NoticeBlock(level="info", text=msg.CHAT_NO_CHILDREN.format(name=unit.name))
        return ChatReply(blocks=[notice], suggestions=unit_suggestions(turn.actor, unit), context=unit.name)
    more = None
    if page.next_cursor is not None:
        params = {"unit_id": unit.id, "cursor": page.next_cursor}
        more = Action(label=msg.CHAT_BUTTON_MORE, intent="unit.children", params=params)
    table = TableBlock(
        title=msg.CHAT_CHILDREN_TITLE.format(name=unit.name),
        columns=list(msg.CHAT_CHILDREN_COLUMNS),
        rows=[[u.name, type_label(u.type), u.region_code or ""] for u in page.items],
        row_actions=[unit_action(u.id, u.name) for u in page.items],
        total=page.total,
        more=more,
    )
    return ChatReply(blocks=[table], suggestions=unit_suggestions(turn.actor, unit), context=unit.name)


def level_param(params: dict[str, Any]) -> UnitType:
    """The level asked for: a word as typed ("村", "镇") or a button's value ("village"); anything
    else is treated as a missing row, like a bad id."""
    value = str(params.get("level") or "")
    if value in msg.LEVEL_LABELS:
        return UnitType(value)
    for level, words in _LEVEL_WORDS:
        if re.fullmatch(words, value):
            return level
    raise NotFound()


@intent(
    "unit.of_level",
    patterns=_LEVEL_PATTERNS,
    permission="units.view",
    priority=40,
    pageable=True,
    subject="name",
    kept=("level",),
)
async def units_of_level(turn: Turn) -> ChatReply:
    """The villages (or townships, counties, cities) at any depth below a unit in scope, a page at a
    time: "青山县有几个村" counts the county's villages, not its townships."""
    level = level_param(turn.params)
    unit = await resolve_unit(turn, "unit.of_level")
    if isinstance(unit, ChatReply):
        return unit
    cursor = int_param(turn.params, "cursor")
    page = await list_units(turn.actor, below=unit, unit_type=level, cursor=cursor, limit=PAGE_SIZE)
    params = {"unit_id": unit.id, "level": level.value}
    label = msg.LEVEL_LABELS[level.value]
    await turn.context.remember_unit(unit.id, unit.name, unit.type)
    await turn.context.remember_page("unit.of_level", params, page.next_cursor)
    # "本镇有几个村" typed by a county's cadre: say their unit is none (not for "本村有几个村": a level
    # that holds none of the level asked says nothing of how to ask for them)
    said = str(turn.params.get("name") or "")
    named = level_named(said)
    holds = named is not None and REGION_LEVEL[named] < REGION_LEVEL[level]
    lead = await own_level_notices(turn, said, unit, label, msg.ASK_LEVEL) if holds else []
    if not page.items and cursor is None:
        notice = NoticeBlock(level="info", text=msg.CHAT_NO_LEVEL.format(name=unit.name, level=label))
        return ChatReply(blocks=[*lead, notice], suggestions=unit_suggestions(turn.actor, unit), context=unit.name)
    parents = dict(
        await Unit.filter(id__in={u.parent_id for u in page.items}).values_list("id", "name")  # type: ignore[attr-defined]
    )
    more = None
    if page.next_cursor is not None:
        more = Action(label=msg.CHAT_BUTTON_MORE, intent="unit.of_level", params={**params, "cursor": page.next_cursor})
    table = TableBlock(
        title=msg.CHAT_LEVEL_TITLE.format(name=unit.name, level=label),
        columns=list(msg.CHAT_LEVEL_COLUMNS),
        rows=[[u.name, parents.get(u.parent_id, ""), u.region_code or ""] for u in page.items],  # type: ignore[attr-defined]
        row_actions=[unit_action(u.id, u.name) for u in page.items],
        total=page.total,
        more=more,
    )
    return ChatReply(blocks=[*lead, table], suggestions=unit_suggestions(turn.actor, unit), context=unit.name)


_CODE_CHECKS = {"region_code": identifiers.valid_region_code, "credit_code": identifiers.valid_credit_code}


async def _units_by(turn: Turn, field: str, value: str) -> ChatReply:
    """Units in scope with this code: one card, buttons for several, and the same notice for none
    (also for a value that is no such code: a button's parameters can be edited)."""
    if not _CODE_CHECKS[field](value):
        return not_found_reply(msg.CHAT_CODE_NOT_FOUND)
    if field == "region_code":
        units = await units_coded(turn.actor, value)
    else:
        units = await in_scope(turn.actor).filter(**{field: value}).order_by("depth", "id").limit(MAX_CHOICES + 1)
    if not units:
        # A mistyped ID number can be a valid credit code (about 1 in 300): say both.
        mistyped_id = field == "credit_code" and identifiers.id_number_shaped(value)
        return not_found_reply(msg.CHAT_CODE_NOT_FOUND_OR_ID if mistyped_id else msg.CHAT_CODE_NOT_FOUND)
    if len(units) == 1:
        return await unit_reply(turn, units[0].id)
    matches = [lookup.unit_match(u) for u in units[:MAX_CHOICES]]
    title = msg.CHAT_CHOOSE_UNIT.format(count=len(matches), name=value)
    return await choices_reply(turn.actor, title, matches, more=len(units) > MAX_CHOICES)


@intent("lookup.region_code", permission="units.view")
async def lookup_region_code(turn: Turn) -> ChatReply:
    return await _units_by(turn, "region_code", str(turn.params.get("region_code") or ""))


@intent("lookup.credit_code", permission="units.view")
async def lookup_credit_code(turn: Turn) -> ChatReply:
    return await _units_by(turn, "credit_code", str(turn.params.get("credit_code") or "").upper())
