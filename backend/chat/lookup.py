"""The name index: units (co-ops are units of type coop) and people in the actor's scope, found by
what a cadre types: the exact name, its beginning or a part of it, its pinyin (whole or initials,
which also forgives homophone typos such as 王家弯 for 王家湾), or a near spelling (rapidfuzz).

Nothing here reads a whole table. Candidates come from small, bounded queries inside the scope:

- a scope of at most :data:`CANDIDATES` rows is read whole and ranked in Python, so every kind
  of match is found there, typos of any character included;
- a scope of up to :data:`SCAN_LIMIT` rows is walked by its path index, filtered by the pinyin and
  initials prefixes, parts of the name and the first syllable;
- a larger scope is searched through the indexed pinyin keys (migration 0006): prefixes of the
  whole pinyin and of the initials, and the nearest keys on either side of the query's pinyin
  (typos after the first letters), the scope filtering what they find.

Each query is limited and carries the scope filter. Rank: exact > prefix > contains > pinyin >
fuzzy; within a rank the name the query covers but for its place word first (王家湾 -> 王家湾村
before 王家湾村茶叶专业合作社), then higher units, then by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

from rapidfuzz import fuzz
from tortoise.expressions import Q
from tortoise.models import Model

from backend.accounts.models import Membership
from backend.chat.protocol import Action
from backend.core import db
from backend.core.actor import Actor
from backend.core.names import pinyin_keys
from backend.units.models import Unit

CANDIDATES = 200  # at most this many rows per candidate query; a scope this small is read whole
SCAN_LIMIT = 2000  # a scope up to this size is walked by its path index, a larger one by the name keys
NEIGHBOURS = 40  # nearest pinyin keys on each side of the query's, for typos
FUZZY_MIN = 82.0  # similarity (0-100) that counts as a match (kongjiawan vs wangjiawan: 80)
NEAR_MIN = 60.0  # similarity worth offering as a suggestion when nothing matches
_SPACES = re.compile(r"\s+")
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
_TOP = "\U0010ffff"  # the last character: nothing follows it


class Kind(StrEnum):
    UNIT = "unit"
    PERSON = "person"


class Rank(IntEnum):
    EXACT = 0
    PREFIX = 1
    CONTAINS = 2
    PINYIN = 3
    FUZZY = 4


@dataclass(frozen=True)
class Match:
    kind: Kind
    id: int  # unit id, or account id for a person
    name: str
    rank: Rank
    score: float  # similarity, 100 for anything better than fuzzy
    depth: int  # the unit's depth; a person's: its highest unit in scope
    within: int | None  # the unit's parent, or the person's (highest) unit in scope
    unit_type: str | None = None  # units only
    whole: bool = False  # the query is the whole name but for a place word: 王家湾 for 王家湾村

    def key(self) -> tuple[Any, ...]:
        fuzzy = -self.score if self.rank == Rank.FUZZY else 0
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
        clean = _SPACES.sub("", text)
        if _LATIN.fullmatch(clean.lower()):
            lower = clean.lower()
            return cls(text=lower, pinyin=lower, initials=lower, latin=True)
        whole, initials = pinyin_keys(clean)
        return cls(text=clean, pinyin=whole, initials=initials, latin=False)


@dataclass(frozen=True)
class _Row:
    id: int
    name: str
    pinyin: str
    initials: str
    depth: int
    within: int | None
    extra: str | None  # unit type, or a person's user name


@dataclass(frozen=True)
class _Source:
    """Where one kind of name lives: the model queried, its scope path and the columns read."""

    kind: Kind
    model: type[Model]
    path: str
    id: str
    name: str
    pinyin: str
    initials: str
    depth: str
    within: str
    extra: str

    @property
    def best_first(self) -> str:
        """The order of ties in the ranking: higher units first, then by name."""
        return f"{self.depth},{self.name}"

    def columns(self) -> tuple[str, ...]:
        return (self.id, self.name, self.pinyin, self.initials, self.depth, self.within, self.extra)


UNITS = _Source(Kind.UNIT, Unit, "path", "id", "name", "name_pinyin", "name_initials", "depth", "parent_id", "type")
# People are accounts seen through their memberships in scope (one row per membership).
PEOPLE = _Source(
    Kind.PERSON,
    Membership,
    "unit__path",
    "account_id",
    "account__name",
    "account__name_pinyin",
    "account__name_initials",
    "unit__depth",
    "unit_id",
    "account__username_key",
)


def _after(prefix: str) -> str | None:
    """A string after every string that starts with ``prefix`` (None: no such bound).

    Letters and digits step to the next letter (``z`` carries, ``9`` becomes ``a``), never to
    punctuation, which some collations ignore; the bound may take in more rows than the prefix, and
    :func:`_prefix` keeps the ``LIKE`` beside it for the exact set.
    """
    for i in range(len(prefix) - 1, -1, -1):
        char = prefix[i]
        if char == "z" or char == _TOP:
            continue
        return prefix[:i] + ("a" if char == "9" else chr(ord(char) + 1))
    return None


def _prefix(field: str, prefix: str, *, indexed: bool) -> Q:
    """``field`` starts with ``prefix``; ``indexed``: written so the field's B-tree index serves it.

    SQLite cannot serve ``LIKE 'prefix%'`` from an index (its LIKE ignores ASCII case), but it can
    serve a range (bytewise there); the LIKE beside it keeps the set exact. PostgreSQL serves the
    LIKE from its ``text_pattern_ops`` index, since every statement gets a custom plan. Without
    ``indexed`` the LIKE alone stays a filter, so the planner walks another index.
    """
    like = Q(**{f"{field}__startswith": prefix})
    if not indexed or db.db().capabilities.dialect == "postgres":
        # PostgreSQL plans every statement with its values (backend.core.db), so the index serves
        # the LIKE; a range there would follow the database's collation, which may not be bytewise.
        return like
    upper = _after(prefix)
    bounds = Q(**{f"{field}__gte": prefix}) if upper is None else Q(**{f"{field}__gte": prefix, f"{field}__lt": upper})
    return bounds & like


def _scope(source: _Source, actor: Actor, *, by_name: bool) -> Q:
    """The actor's scope on ``source`` (the rows of :func:`backend.core.scope.path_prefix`).

    ``by_name``: the scope is a filter on the few rows a name key finds; otherwise the path index
    walks the scope and the name conditions filter it.
    """
    return _prefix(source.path, actor.unit_path, indexed=not by_name)


async def _rows(source: _Source, scope: Q, condition: Q | None, order: str | None, limit: int) -> list[_Row]:
    query = source.model.filter(scope)
    if condition is not None:
        query = query.filter(condition)
    if order is not None:
        query = query.order_by(*order.split(","), source.id)
    values = await query.limit(limit).values_list(*source.columns())
    return [_Row(int(v[0]), v[1], v[2] or "", v[3] or "", int(v[4]), v[5], v[6]) for v in values]


def _probes(source: _Source, query: Query, *, by_name: bool) -> list[tuple[Q, str | None, int]]:
    """The candidate queries: (condition, order, limit), each one bounded."""
    probes: list[tuple[Q, str | None, int]] = []
    if source.kind == Kind.PERSON and query.latin:
        probes.append((Q(**{source.extra: query.text}), None, CANDIDATES))  # a user name (unique index)
    # More matches than fit: keep the best ranked (highest units first), unless a single character
    # or letter matches so many that sorting them all costs more than it tells: then index order.
    sort_best = len(query.text) > 1 or not by_name
    for key, value in ((source.pinyin, query.pinyin), (source.initials, query.initials)):
        order = source.best_first if sort_best else key
        probes.append((_prefix(key, value, indexed=by_name), order, CANDIDATES))
    if by_name:
        # Typos after the first letters: the nearest keys on either side of the query's pinyin.
        probes += [
            (Q(**{f"{source.pinyin}__lt": query.pinyin}), f"-{source.pinyin}", NEIGHBOURS),
            (Q(**{f"{source.pinyin}__gt": query.pinyin}), source.pinyin, NEIGHBOURS),
        ]
        return probes
    # A scope the path index can walk: parts of the name, and the same first syllable.
    if not query.latin:
        probes.append((Q(**{f"{source.name}__contains": query.text}), None, CANDIDATES))
        if len(query.text) >= 3:  # a wrong first character (黄家湾 for 王家湾)
            probes.append((Q(**{f"{source.name}__contains": query.text[1:]}), None, CANDIDATES))
    if len(query.pinyin) >= 3:
        probes.append((_prefix(source.pinyin, query.pinyin[:3], indexed=False), source.best_first, CANDIDATES))
    return probes


async def _holds_more_than(source: _Source, scope: Q, count: int) -> bool:
    """Does the scope hold more than ``count`` rows? (Skips them on the path index, reads one.)"""
    return bool(await source.model.filter(scope).offset(count).limit(1).values_list(source.path))


async def _candidates(source: _Source, actor: Actor, query: Query) -> list[_Row]:
    """Rows of ``source`` in scope that could match ``query``: all of them if the scope is small."""
    path_scope = _scope(source, actor, by_name=False)
    if not await _holds_more_than(source, path_scope, CANDIDATES):
        return await _rows(source, path_scope, None, None, CANDIDATES)
    by_name = await _holds_more_than(source, path_scope, SCAN_LIMIT)
    scope = _scope(source, actor, by_name=by_name)
    found: dict[tuple[int, int], _Row] = {}
    for condition, order, limit in _probes(source, query, by_name=by_name):
        for row in await _rows(source, scope, condition, order, limit):
            found.setdefault((row.id, row.depth), row)
    return list(found.values())


def _head_pinyin(name: str, length: int) -> str:
    return pinyin_keys(name[:length])[0]


def similarity(query: Query, name: str, pinyin: str) -> float:
    """0-100: how close ``name`` (with its whole ``pinyin``) is to what was typed."""
    if query.latin:
        return max(fuzz.ratio(query.pinyin, pinyin[: len(query.pinyin)]), fuzz.ratio(query.pinyin, pinyin))
    head = name[: len(query.text)]
    return max(
        fuzz.ratio(query.pinyin, _head_pinyin(name, len(query.text))),  # a wrong character that sounds alike
        fuzz.ratio(query.text, head),
        fuzz.ratio(query.pinyin, pinyin),
    )


def classify(query: Query, row: _Row, kind: Kind) -> tuple[Rank, float] | None:
    """How ``row`` matches ``query`` (None: not at all), with its similarity for fuzzy matches."""
    name = row.name
    if query.latin:
        lower = name.lower()
        if lower == query.text or (kind == Kind.PERSON and row.extra == query.text):
            return Rank.EXACT, 100.0
        if lower.startswith(query.text):
            return Rank.PREFIX, 100.0
        if len(query.text) >= 2 and query.text in lower:
            return Rank.CONTAINS, 100.0
        if row.pinyin.startswith(query.pinyin) or row.initials.startswith(query.initials):
            return Rank.PINYIN, 100.0
        enough = len(query.text) >= 4
    else:
        if name == query.text:
            return Rank.EXACT, 100.0
        if name.startswith(query.text):
            return Rank.PREFIX, 100.0
        if query.text in name:
            return Rank.CONTAINS, 100.0
        # Same sound, character by character (王家弯 for 王家湾村): a homophone typo.
        if query.pinyin and _head_pinyin(name, len(query.text)) == query.pinyin:
            return Rank.PINYIN, 100.0
        enough = len(query.text) >= 2
    score = similarity(query, name, row.pinyin)
    if enough and score >= FUZZY_MIN:
        return Rank.FUZZY, score
    return None


def is_whole(query: Query, name: str, kind: Kind) -> bool:
    """Does the query name all of ``name`` but its place word (村, 镇, 社区...), as typed or as sounds?

    People say 王家湾 for 王家湾村: among the names that start so, that one is meant, not
    王家湾村茶叶专业合作社.
    """
    core = name
    if kind == Kind.UNIT:
        core = next((name[: -len(w)] for w in _PLACE_WORDS if name.endswith(w) and len(name) > len(w)), name)
    if core == query.text:
        return True
    whole, initials = pinyin_keys(core)
    return whole == query.pinyin or (query.latin and initials == query.initials)


def _rank(query: Query, source: _Source, rows: Iterable[_Row]) -> tuple[list[Match], list[Match]]:
    matches: dict[int, Match] = {}
    near: dict[int, Match] = {}
    for row in rows:
        ranked = classify(query, row, source.kind)
        unit_type = row.extra if source.kind == Kind.UNIT else None
        if ranked is None:
            score = similarity(query, row.name, row.pinyin)
            if score >= NEAR_MIN:
                candidate = Match(source.kind, row.id, row.name, Rank.FUZZY, score, row.depth, row.within, unit_type)
                if row.id not in near or candidate.key() < near[row.id].key():
                    near[row.id] = candidate
            continue
        whole = ranked[0] != Rank.FUZZY and is_whole(query, row.name, source.kind)
        match = Match(source.kind, row.id, row.name, ranked[0], ranked[1], row.depth, row.within, unit_type, whole)
        if row.id not in matches or match.key() < matches[row.id].key():  # a person: its highest unit
            matches[row.id] = match
    return list(matches.values()), list(near.values())


async def find(actor: Actor, text: str, *, units: bool = True, people: bool = False, limit: int = 10) -> Found:
    """Units and (if asked) people in the actor's scope whose name matches ``text``, best first."""
    query = Query.of(text)
    if not query.text:
        return Found(matches=[], near=[], more=False)
    matches: list[Match] = []
    near: list[Match] = []
    for wanted, source in ((units, UNITS), (people, PEOPLE)):
        if wanted:
            found, close = _rank(query, source, await _candidates(source, actor, query))
            matches += found
            near += close
    matches.sort(key=Match.key)
    near.sort(key=Match.key)
    return Found(matches=matches[:limit], near=[] if matches else near[:limit], more=len(matches) > limit)


def single(found: Found) -> Match | None:
    """The one match to show at once: alone in the best rank (or its only whole name), not a guess."""
    if not found.matches or found.matches[0].rank == Rank.FUZZY:
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
    ids = {m.within for m in matches if m.within is not None}
    names = dict(await Unit.filter(_scope(UNITS, actor, by_name=False), id__in=ids).values_list("id", "name"))
    return [f"{m.name}（{names[m.within]}）" if m.within in names else m.name for m in matches]
