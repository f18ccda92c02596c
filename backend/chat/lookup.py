"""Name lookups: units (co-ops are units of type coop) and people in the actor's scope, found by
what a cadre types: the exact name, its beginning or a part of it, its pinyin (whole or initials,
which also forgives homophone typos such as 王家弯 for 王家湾), or a near spelling (rapidfuzz).

The candidates come from the in-memory name index (:mod:`backend.chat.name_index`), which is exact
at every lookup: a scope of at most :data:`CANDIDATES` entries is taken whole and ranked here, so
every kind of match is found there, typos of any character included. In a larger scope the index
finds the entries that meet any of :func:`conditions` (each at most :data:`CANDIDATES`) in two
stages: the strong conditions (the name contains, is or starts with the text; the pinyin starts
with the query's; letters typed: the initials, a user name); then, only when they left fewer than a
page of better-than-fuzzy matches, the weak ones for typos (the name without its first character,
the first syllable, the initials of typed characters) and the :data:`NEIGHBOURS` nearest pinyin
keys on either side (typos after the first letters).

Only when none of that found anything, a last stage takes a unit's name abbreviated as cadres say
it ("茶叶社", "茶叶合作社" for 王家湾村茶叶专业合作社): at least :data:`ABBREVIATED_MIN` characters
typed, all found in the name in order (one regular expression over the scope's names, in C), fewer
left-out stretches first (:func:`gaps`).

A region code of 6 digits, as cadres write a county's ("530101"), is the unit in scope whose 12-digit
code is it followed by zeros (530101000000), an exact match.

Rank: exact > prefix > contains > pinyin > fuzzy > abbreviation; within a rank the name the query covers but for
its place word first (王家湾 -> 王家湾村 before 王家湾村茶叶专业合作社), then higher units, then
by name. Near names (suggestions) are scored only when nothing matched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, NamedTuple

from rapidfuzz import fuzz, process

from backend.accounts.queries import above_level
from backend.chat import name_index
from backend.chat.name_index import Column, Condition, Entry, Mode, NameIndex, Source
from backend.chat.protocol import MAX_TEXT, Action
from backend.core import db
from backend.core.actor import Actor
from backend.core.names import match_key, pinyin_keys
from backend.core.scope import scope_like
from backend.units.models import Unit
from backend.units.queries import units_where

CANDIDATES = 200  # a scope this small is taken whole; in a larger one, at most this many per condition
NEIGHBOURS = 40  # nearest pinyin keys on each side of the query's, for typos
FUZZY_MIN = 82.0  # similarity (0-100) that counts as a match (kongjiawan vs wangjiawan: 80)
NEAR_MIN = 60.0  # similarity worth offering as a suggestion when nothing matches
# A suggestion for Chinese typed that shares none of its characters must sound closer than NEAR_MIN:
# "乡镇" offered the person 熊春 (xiangzhen ~ xiongchun), "返回" 范桂, "帐号" 张家冲村.
NEAR_SOUND_MIN = 75.0
ABBREVIATED_MIN = 3  # characters typed before an abbreviation is guessed at
ABBREVIATED_CANDIDATES = 500  # names an abbreviation stage takes from a scope (a scan's cap)
_SPACES = re.compile(r"\s+")
# A county's (a city's, a province's) code as written in 6 digits; stored, codes have 12.
_SHORT_REGION_CODE = re.compile(r"[0-9]{6}")
_SHORT_REGION_TAIL = "000000"
_LATIN = re.compile(r"[a-z0-9]+")
# Place words a name may be said without (longest first).
_PLACE_WORDS = (
    "村民委员会",
    "居民委员会",
    "村委会",
    "居委会",
    "社区",
    "街道",
    "村",
    "镇",
    "乡",
    "县",
    "市",
    "省",
    "区",
)
# A unit's near name, for Chinese typed, shares a distinctive part of the name with it, or sounds close
# in that part: the words that say what a unit is (村, 综合服务社) and the 家 of 王家湾 say nothing of
# which, and 吴家坝村 offered 王家湾村, 徐家沟村综合服务社 刘家岭村综合服务社.
_GENERIC = re.compile(
    "|".join(("专业合作社", "股份经济合作社", "经济合作社", "合作社", "综合服务社", "服务社", "联合社", *_PLACE_WORDS))
)
_INFIX = "家"  # 王家湾, 刘家岭: shared, it is no part that tells two names apart


class Kind(StrEnum):
    UNIT = "unit"
    PERSON = "person"


class Rank(IntEnum):
    EXACT = 0
    PREFIX = 1
    CONTAINS = 2
    PINYIN = 3
    FUZZY = 4
    ABBREVIATION = 5  # the query's characters in order, words left out (茶叶社: 王家湾村茶叶专业合作社)


class Match(NamedTuple):  # a tuple: a province's lookup ranks a hundred or more of them
    kind: Kind
    id: int  # unit id, or account id for a person
    name: str
    rank: Rank
    score: float  # similarity, 100 for anything better than fuzzy; an abbreviation's: 100 less its gaps
    depth: int  # the unit's depth; a person's: its highest unit in scope
    within: int | None  # the unit's parent, or the person's (highest) unit in scope
    unit_type: str | None = None  # units only
    whole: bool = False  # the query is the whole name but for a place word: 王家湾 for 王家湾村

    def key(self) -> tuple[Any, ...]:
        fuzzy = -self.score if self.rank >= Rank.FUZZY else 0
        return (self.rank, not self.whole, fuzzy, self.depth, self.name, self.kind, self.id)


@dataclass(frozen=True)
class Found:
    matches: list[Match]  # best first
    near: list[Match]  # when nothing matches: the closest names, to offer as suggestions
    more: bool  # more matches than returned


@dataclass(frozen=True)
class Query:
    text: str  # as typed without spaces (lower-case when typed in letters)
    pinyin: str
    initials: str
    latin: bool  # typed in letters and digits: the text is itself pinyin or initials

    @classmethod
    def of(cls, text: str) -> Query:
        clean = match_key(_SPACES.sub("", text)).replace(name_index.SEP, "")
        if _LATIN.fullmatch(clean.lower()):
            lower = clean.lower()
            return cls(text=lower, pinyin=lower, initials=lower, latin=True)
        whole, initials = pinyin_keys(clean)
        return cls(text=clean, pinyin=whole, initials=initials, latin=False)


_SOURCE = {Kind.UNIT: Source.UNIT, Kind.PERSON: Source.PERSON}


def conditions(kind: Kind, query: Query) -> tuple[list[Condition], list[Condition]]:
    """What a candidate in a large scope meets: strong conditions, and weak ones for typos."""
    strong: list[Condition] = []
    weak: list[Condition] = []
    if kind == Kind.PERSON and query.latin:
        strong.append(Condition(Column.EXTRA, Mode.IS, query.text))  # a user name
    if query.latin and not query.text.isalpha():
        # Letters with digits (b2) are no pinyin: they can only be part of a name (幸福小区B2栋).
        strong.append(Condition(Column.KEY, Mode.CONTAINS, query.text))
    if not query.latin:
        # "contains" first: when it takes every such row, "is" and "starts with" need no pass of their own.
        strong += [Condition(Column.KEY, mode, query.text) for mode in (Mode.CONTAINS, Mode.IS, Mode.STARTS)]
    strong.append(Condition(Column.PINYIN, Mode.STARTS, query.pinyin))
    # Initials typed in letters (wjw) are a match; the initials of characters (王家湾: wjw) only
    # bring names that sound different, which can at best be near spellings.
    (strong if query.latin else weak).append(Condition(Column.INITIALS, Mode.STARTS, query.initials))
    if not query.latin and len(query.text) >= 3:  # a wrong first character (黄家湾 for 王家湾)
        weak.append(Condition(Column.KEY, Mode.CONTAINS, query.text[1:]))
    if len(query.pinyin) >= 3:
        weak.append(Condition(Column.PINYIN, Mode.STARTS, query.pinyin[:3]))
    return [c for c in strong if c.text], [c for c in weak if c.text]


class Stage(IntEnum):
    STRONG = 0  # the whole of a small scope, or what meets a strong condition in a large one
    WEAK = 1  # in a large scope only: what meets a weak condition, and the nearest pinyin keys


def _candidates(index: NameIndex, kind: Kind, actor: Actor, query: Query, stage: Stage) -> list[Entry]:
    """Entries in scope that could match ``query`` at ``stage``."""
    names = index.of(_SOURCE[kind])
    path = actor.unit_path
    small = names.size(path) <= CANDIDATES
    strong, weak = conditions(kind, query)
    if stage == Stage.STRONG:
        return names.whole(path) if small else names.matching(path, strong, CANDIDATES)
    if small:
        return []
    return names.matching(path, weak, CANDIDATES, near=(query.pinyin, NEIGHBOURS) if query.pinyin else None)


def _head_pinyin(name: str, length: int) -> str:
    return pinyin_keys(name[:length])[0]


def similarities(query: Query, rows: Sequence[Entry], at_least: float = 0.0) -> list[float]:
    """0-100 per row: how close its name (with its whole pinyin) is to what was typed; 0 for anything
    below ``at_least``. Scored a list at a time (rapidfuzz's loop, not Python's): the typo stage
    scores a few hundred rows."""
    if query.latin:
        width = len(query.pinyin)
        compared = [
            (query.pinyin, [r.pinyin[:width] for r in rows]),
            (query.pinyin, [r.pinyin for r in rows]),
        ]
    else:
        width = len(query.text)
        compared = [
            (query.text, [r.key[:width] for r in rows]),
            (query.pinyin, [r.pinyin for r in rows]),
            # a wrong character that sounds alike
            (query.pinyin, [_head_pinyin(r.key, width) for r in rows]),
        ]
    scores = [0.0] * len(rows)
    for typed, choices in compared:
        for _, score, i in process.extract(typed, choices, scorer=fuzz.ratio, score_cutoff=at_least, limit=None):
            scores[i] = max(scores[i], score)
    return scores


def classify(query: Query, row: Entry, kind: Kind) -> Rank | None:
    """How ``row`` matches ``query`` better than a near spelling; None: not so (it may still be a
    near spelling: :func:`similarities`)."""
    name = row.key  # folded as typed text is, and lower-case already
    if query.latin:
        if name == query.text or (kind == Kind.PERSON and row.extra == query.text):
            return Rank.EXACT
        if name.startswith(query.text):
            return Rank.PREFIX
        if len(query.text) >= 2 and query.text in name:
            return Rank.CONTAINS
        if row.pinyin.startswith(query.pinyin) or row.initials.startswith(query.initials):
            return Rank.PINYIN
        return None
    if name == query.text:
        return Rank.EXACT
    if name.startswith(query.text):
        return Rank.PREFIX
    if query.text in name:
        return Rank.CONTAINS
    # Same sound, character by character (王家弯 for 王家湾村): a homophone typo.
    if query.pinyin and _head_pinyin(name, len(query.text)) == query.pinyin:
        return Rank.PINYIN
    return None


def fuzzy_allowed(query: Query) -> bool:
    """Is the query long enough for a near spelling to count as a match (4 letters, 2 characters)?"""
    return len(query.text) >= (4 if query.latin else 2)


def is_whole(query: Query, row: Entry, kind: Kind) -> bool:
    """Does the query name all of the row's name, or all but its place word (村, 镇, 社区...), as
    typed or as sounds?

    People say 王家湾 for 王家湾村: among the names that start so, that one is meant, not
    王家湾村茶叶专业合作社; and wangjiawancun or wjwc name 王家湾村 itself.
    """
    if query.latin and (row.pinyin == query.pinyin or row.initials == query.initials):
        return True
    name = row.key
    place = ""
    if kind == Kind.UNIT and name.endswith(_PLACE_WORDS):  # one test for all of them first
        place = next((w for w in _PLACE_WORDS if name.endswith(w) and len(name) > len(w)), "")
    if name[: len(name) - len(place)] == query.text:
        return True
    if row.pinyin == query.pinyin:  # the whole name as it sounds (王家弯村 for 王家湾村; initials: above)
        return True
    if not place:
        return False
    # The row's own keys (a polyphone's other reading has its own row), less the place word's.
    place_pinyin, place_initials = pinyin_keys(place)
    return row.pinyin == query.pinyin + place_pinyin or (
        query.latin and row.initials == query.initials + place_initials
    )


def distinctive(text: str) -> str:
    """``text`` without the words that say what a unit is (村, 镇, 合作社, 综合服务社): what tells it
    apart ("王家湾村茶叶专业合作社" -> "王家湾茶叶")."""
    return _GENERIC.sub("", text)


def alike(query: Query, row: Entry) -> bool:
    """Does the unit ``row`` share with ``query`` (Chinese typed) a distinctive character (not 家), or
    sound close to it there? Near names (a fuzzy match, a suggestion) must: what they share else is
    generic."""
    typed, name = distinctive(query.text), distinctive(row.key)
    if not typed or not name:
        return False
    if not (set(typed) - set(_INFIX)).isdisjoint(name):
        return True
    sound = pinyin_keys(typed)[0]
    return any(fuzz.ratio(sound, pinyin_keys(part)[0]) >= NEAR_SOUND_MIN for part in {name[: len(typed)], name})


def _telling(query: Query, kind: Kind, row: Entry) -> bool:
    """May ``row`` be a near name of ``query``? A unit's, typed in Chinese: :func:`alike`."""
    return query.latin or kind != Kind.UNIT or alike(query, row)


def _match(kind: Kind, row: Entry, rank: Rank, score: float, whole: bool = False) -> Match:
    unit_type = row.extra if kind == Kind.UNIT else None
    return Match(kind, row.id, row.name, rank, score, row.depth, row.within, unit_type, whole)


def _rank(query: Query, kind: Kind, rows: Iterable[Entry]) -> tuple[list[Match], list[Entry]]:
    """The rows that match ``query`` (a person once per unit: :func:`_best_of_each` keeps the best);
    and the rows that do not."""
    matches: list[Match] = []
    unranked: list[Entry] = []
    for row in rows:
        rank = classify(query, row, kind)
        if rank is None:
            unranked.append(row)
        else:
            matches.append(_match(kind, row, rank, 100.0, is_whole(query, row, kind)))
    if not fuzzy_allowed(query):
        return matches, unranked
    misses: list[Entry] = []
    for row, score in zip(unranked, similarities(query, unranked, at_least=FUZZY_MIN), strict=True):
        if score >= FUZZY_MIN and _telling(query, kind, row):
            matches.append(_match(kind, row, Rank.FUZZY, score))
        else:
            misses.append(row)
    return matches, misses


def gaps(text: str, name: str) -> int:
    """The fewest stretches of ``name`` left out between the characters of ``text`` taken in order
    (茶叶社 in 王家湾村茶叶专业合作社: 1, 专业合作); what comes before the first and after the last
    is not counted. ``text`` must be in ``name`` in order (:func:`_abbreviation`)."""
    best: dict[int, int] = {}  # where the last character so far was taken -> fewest gaps until then
    for i, char in enumerate(text):
        taken: dict[int, int] = {}
        at = name.find(char)
        while at >= 0:
            if i == 0:
                taken[at] = 0
            else:
                before = [g if p == at - 1 else g + 1 for p, g in best.items() if p < at]
                if before:
                    taken[at] = min(before)
            at = name.find(char, at + 1)
        best = taken
    return min(best.values())


def _abbreviation(text: str) -> re.Pattern[str]:
    """Each character of ``text`` in order within one name: the stretch between two takes neither
    the separator nor the next character (possessive: the first place each can be taken decides, so
    a name that does not match fails at once, without backtracking)."""
    chars = [re.escape(c) for c in text]
    parts = [chars[0]] + [f"[^{name_index.SEP}{c}]*+{c}" for c in chars[1:]]
    return re.compile("".join(parts))


def _abbreviated(index: NameIndex, actor: Actor, query: Query) -> list[Match]:
    """Units in scope whose name holds the query's characters in order (asked when nothing else matched)."""
    names = index.of(Source.UNIT)
    pattern = _abbreviation(query.text)
    path = actor.unit_path
    if names.size(path) <= CANDIDATES:
        rows = [e for e in names.whole(path) if pattern.search(e.key)]
    else:
        rows = names.searching(path, Column.KEY, pattern, ABBREVIATED_CANDIDATES)
    return [_match(Kind.UNIT, row, Rank.ABBREVIATION, 100.0 - gaps(query.text, row.key)) for row in rows]


def _near(query: Query, kind: Kind, rows: Sequence[Entry]) -> list[Match]:
    """Rows close enough to offer as suggestions (asked only when nothing matched)."""
    scores = similarities(query, rows, at_least=NEAR_MIN)
    typed = set(query.text)
    return [
        _match(kind, row, Rank.FUZZY, score)
        for row, score in zip(rows, scores, strict=True)
        if score >= NEAR_MIN
        and (query.latin or score >= NEAR_SOUND_MIN or not typed.isdisjoint(row.key))
        and _telling(query, kind, row)
    ]


async def find(
    actor: Actor, text: str, *, units: bool = True, people: bool = False, limit: int = 10, offset: int = 0
) -> Found:
    """Units and (if asked) people in the actor's scope whose name matches ``text``, best first;
    ``offset``: how many of them an earlier page showed."""
    query = Query.of(text)
    if not query.text or len(query.text) > MAX_TEXT:  # longer than a typed message: no name (a button's)
        return Found(matches=[], near=[], more=False)
    index = await name_index.current(actor.names_version)
    kinds = [kind for wanted, kind in ((units, Kind.UNIT), (people, Kind.PERSON)) if wanted]
    matches: list[Match] = []
    misses: list[tuple[Kind, list[Entry]]] = []
    for stage in Stage:
        # What the weak conditions find can only rank fuzzy: with more than a page of better matches
        # already, they cannot change the page.
        if stage == Stage.WEAK and len({(m.kind, m.id) for m in matches if m.rank < Rank.FUZZY}) > offset + limit:
            break
        for kind in kinds:
            found, missed = _rank(query, kind, _candidates(index, kind, actor, query, stage))
            matches += found
            misses.append((kind, missed))
    if not matches and units and not query.latin and len(query.text) >= ABBREVIATED_MIN:
        matches = _abbreviated(index, actor, query)  # the last stage: nothing else matched
    if units and _SHORT_REGION_CODE.fullmatch(query.text):
        matches += await _coded(actor, query.text + _SHORT_REGION_TAIL, offset + limit + 1)
    matches = await _not_above(actor, sorted(_best_of_each(matches), key=Match.key))
    if matches:
        return Found(matches=matches[offset : offset + limit], near=[], more=len(matches) > offset + limit)
    near = sorted(_best_of_each(m for kind, rows in misses for m in _near(query, kind, rows)), key=Match.key)
    return Found(matches=[], near=(await _not_above(actor, near))[:limit], more=False)


async def _not_above(actor: Actor, matches: list[Match]) -> list[Match]:
    """``matches`` without the people above the actor's level (P2: the index knows no roles); one
    read, and only when people are among them."""
    people = {m.id for m in matches if m.kind == Kind.PERSON}
    hidden = await above_level(actor, people) if people else set()
    return [m for m in matches if not (m.kind == Kind.PERSON and m.id in hidden)] if hidden else matches


async def _coded(actor: Actor, code: str, limit: int) -> list[Match]:
    """Units in scope with this region code (``limit`` at most), as exact matches."""
    return [unit_match(u) for u in await units_where(actor, "region_code = ?", [code], f"LIMIT {int(limit)}")]


def _best_of_each(matches: Iterable[Match]) -> list[Match]:
    """Each unit or person once, at its best (a person found in two units, or at two stages)."""
    best: dict[tuple[Kind, int], Match] = {}
    for match in matches:
        key = (match.kind, match.id)
        if key not in best or match.key() < best[key].key():
            best[key] = match
    return list(best.values())


def single(found: Found) -> Match | None:
    """The one match to show at once: alone in the best rank (or its only whole name), not a guess."""
    if not found.matches or found.matches[0].rank >= Rank.FUZZY:  # a guess, not a match
        return None
    best = [m for m in found.matches if m.rank == found.matches[0].rank]
    if len(best) == 1:
        return best[0]
    whole = [m for m in best if m.whole]
    return whole[0] if len(whole) == 1 else None


def unit_match(unit: Unit) -> Match:
    """A unit found some other way (by a code), to be listed like a name match."""
    return Match(Kind.UNIT, unit.id, unit.name, Rank.EXACT, 100.0, unit.depth, unit.parent_id, unit.type)  # type: ignore[attr-defined]


def person_match(account_id: int, name: str, depth: int, unit_id: int) -> Match:
    """A person found some other way (by a number), to be listed like a name match."""
    return Match(Kind.PERSON, account_id, name, Rank.EXACT, 100.0, depth, unit_id)


def action_for(match: Match, label: str) -> Action:
    """The button that opens a match: a unit's card or a person's card."""
    if match.kind == Kind.UNIT:
        return Action(label=label, intent="unit.card", params={"unit_id": match.id})
    return Action(label=label, intent="account.card", params={"account_id": match.id})


async def labels(actor: Actor, matches: list[Match]) -> list[str]:
    """Button labels that tell namesakes apart: 王家湾村（白沙镇）, 王建国（王家湾村）.

    The unit named in brackets is a unit's parent or a person's unit, and only if it is in scope.
    """
    ids = sorted({m.within for m in matches if m.within is not None})
    names: dict[int, str] = {}
    if ids:
        marks = ", ".join("?" for _ in ids)
        in_scope, prefix = scope_like("u.path", actor)
        rows = await db.fetch_rows(
            f"SELECT u.id, u.name FROM unit u WHERE u.id IN ({marks}) AND {in_scope}", [*ids, prefix]
        )
        names = {int(r[0]): r[1] for r in rows}
    return [f"{m.name}（{names[m.within]}）" if m.within in names else m.name for m in matches]
