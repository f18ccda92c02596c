"""Follow-ups: "李家坪村呢", "那李家坪村呢", "李家坪村的呢", "汇总呢".

After an answer (a summary, statistics, a list, members, children, a map, a person's card) a name
followed by 呢 asks the same question about that unit or person: the intent the last answer was
remembered as (backend.chat.context, "asked") with its ``subject`` parameter (registry.intent) set
to the name. A question of its own before 呢 ("汇总呢", "王家湾村有多少社员呢") is that question;
without a unit it is about the unit last shown ("汇总呢" after a unit's card: its summary). A name
that is no unit (or person) the last question could be asked about, or no question before: the
name is looked up, as typed without 呢.
"""

from __future__ import annotations

from typing import Any

from backend.chat import lookup, parser, registry
from backend.chat.context import ChatContext
from backend.chat.references import is_reference
from backend.core.actor import Actor
from backend.core.identifiers import valid_region_code
from backend.core.roles import allows

_LAST_SHOWN = "这里"  # backend.chat.references: the unit this conversation showed last
_AND = ("那么", "那")  # "那李家坪村呢": "and 李家坪村?" (a name may begin so too: 那坡县)


async def _named(actor: Actor, name: str) -> lookup.Kind | None:
    """What ``name`` names in scope better than a near spelling: a unit or a person; None: neither."""
    if is_reference(name) or valid_region_code(name.replace(" ", "")):
        return lookup.Kind.UNIT
    people = allows(actor.role, "accounts.view")
    found = await lookup.find(actor, name, units=True, people=people, limit=1)
    if found.matches and found.matches[0].rank < lookup.Rank.FUZZY:
        return found.matches[0].kind
    return None


async def _subject(actor: Actor, name: str) -> tuple[str, lookup.Kind | None]:
    """The name as typed if it names something, else without a leading 那 ("那李家坪村")."""
    names = [name]
    if (lead := next((w for w in _AND if name.startswith(w)), None)) and len(name) > len(lead):
        names.append(name[len(lead) :].strip())
    for candidate in names:
        if (kind := await _named(actor, candidate)) is not None:
            return candidate, kind
    return names[-1], None


async def resolve(actor: Actor, context: ChatContext, text: str) -> tuple[str, dict[str, Any]]:
    """The intent and parameters a follow-up ``text`` (what came before 呢) asks."""
    parsed = parser.parse(text)
    asked, kept, last = await context.last_question()
    if parsed.intent not in (parser.LOOKUP_NAME, parser.LOOKUP_REGION_CODE, parser.UNKNOWN, parser.FOLLOW_UP):
        spec = registry.get(parsed.intent)
        params = dict(parsed.params)
        if spec is not None and spec.subject and spec.subject not in params and last is not None:
            params[spec.subject] = _LAST_SHOWN  # "汇总呢" after a unit's card: that unit's summary
        return parsed.intent, params
    if parsed.intent == parser.LOOKUP_REGION_CODE:
        name, kind = parsed.params["region_code"], lookup.Kind.UNIT
    else:
        name, kind = await _subject(actor, str(parsed.params.get("name") or text))
    spec = registry.get(asked) if asked else None
    if spec is not None and spec.subject and not spec.writes and kind is not None:
        if kind == (lookup.Kind.PERSON if spec.subject_people else lookup.Kind.UNIT):
            return spec.name, {**{k: v for k, v in kept.items() if k in spec.kept}, spec.subject: name}
    if parsed.intent == parser.LOOKUP_REGION_CODE:
        return parsed.intent, dict(parsed.params)
    return parser.LOOKUP_NAME, {"name": name}
