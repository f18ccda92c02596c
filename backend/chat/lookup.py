"""The name index: units (co-ops are units of type coop) and people in the actor's scope, found by
what a cadre types: the exact name, its beginning or a part of it, its pinyin (whole or initials,
which also forgives homophone typos such as 王家弯 for 王家湾), or a near spelling (rapidfuzz).

Nothing here reads a whole table. Candidates come from one bounded statement per source (units,
which include the co-ops, and people), inside the scope, chosen by the scope's size class:

- a scope of at most :data:`CANDIDATES` rows is read whole and ranked in Python, so every kind
  of match is found there, typos of any character included;
- a scope of up to :data:`SCAN_LIMIT` rows is walked once by its path index, filtered by the
  pinyin and initials prefixes, parts of the name and the first syllable, OR-ed together;
- a larger scope is searched through the indexed pinyin keys (migration 0006): prefixes of the
  whole pinyin and of the initials, and the nearest keys on either side of the query's pinyin
  (typos after the first letters), the scope filtering what they find; the probes are joined by
  ``UNION`` in one statement, each keeping its own index, order and limit.

The size class of a (source, scope) is measured by one statement and kept in process memory for
:data:`SIZE_SECONDS` of the injected clock, so a warm lookup sends one statement per source.
The SQL is written here (``?`` placeholders, backend.core.db adapts them), not built by the ORM:
building and running five or more ORM queries per source was most of a lookup's cost.

Rank: exact > prefix > contains > pinyin > fuzzy; within a rank the name the query covers but for
its place word first (王家湾 -> 王家湾村 before 王家湾村茶叶专业合作社), then higher units, then
by name. Near names (suggestions) are scored only when nothing matched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, NamedTuple

from rapidfuzz import fuzz

from backend.chat.protocol import Action
from backend.core import db, runtime
from backend.core.actor import Actor
from backend.core.clock import Clock
from backend.core.names import pinyin_keys
from backend.units.models import Unit

CANDIDATES = 200  # at most this many rows per candidate query; a scope this small is read whole
SCAN_LIMIT = 2000  # a scope up to this size is walked by its path index, a larger one by the name keys
NEIGHBOURS = 40  # nearest pinyin keys on each side of the query's, for typos
SIZE_SECONDS = 60.0  # how long a scope's measured size class is trusted (the injected clock's seconds)
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


class _Row(NamedTuple):  # a tuple: hundreds are made per lookup, a frozen dataclass costs more
    id: int
    name: str
    pinyin: str
    initials: str
    depth: int
    within: int | None
    extra: str | None  # unit type, or a person's user name


@dataclass(frozen=True)
class _Sql:
    """A piece of SQL with ``?`` placeholders and their values, in the order they appear."""

    text: str
    values: tuple[Any, ...] = ()

    def __add__(self, other: _Sql | str) -> _Sql:
        if isinstance(other, str):
            return _Sql(self.text + other, self.values)
        return _Sql(self.text + other.text, self.values + other.values)

    def __radd__(self, other: str) -> _Sql:
        return _Sql(other + self.text, self.values)

    @staticmethod
    def join(separator: str, parts: Iterable[_Sql]) -> _Sql:
        pieces = list(parts)
        return _Sql(separator.join(p.text for p in pieces), tuple(v for p in pieces for v in p.values))


def _value(value: Any) -> _Sql:
    return _Sql("?", (value,))


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(column: str, pattern: str) -> _Sql:
    return f"{column} LIKE " + _value(pattern) + " ESCAPE '\\'"


def _postgres() -> bool:
    return db.db().capabilities.dialect == "postgres"


@dataclass(frozen=True)
class _Source:
    """Where one kind of name lives: the tables read, the scope path and the columns (SQL)."""

    kind: Kind
    tables: str  # FROM ... of the candidates
    scope_tables: str  # FROM ... enough to count the rows in scope
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
        return f"{self.depth}, {self.name}, {self.id}"

    def select(self) -> str:
        columns = (
            f"{self.id} AS id, {self.name} AS name, {self.pinyin} AS pinyin, {self.initials} AS initials, "
            f'{self.depth} AS depth, {self.within} AS "within", {self.extra} AS extra'
        )
        return f"SELECT {columns} FROM {self.tables} WHERE "


UNITS = _Source(
    Kind.UNIT,
    "unit u",
    "unit u",
    "u.path",
    "u.id",
    "u.name",
    "u.name_pinyin",
    "u.name_initials",
    "u.depth",
    "u.parent_id",
    "u.type",
)
# People are accounts seen through their memberships in scope (one row per membership).
PEOPLE = _Source(
    Kind.PERSON,
    "membership m JOIN unit u ON u.id = m.unit_id JOIN account a ON a.id = m.account_id",
    "membership m JOIN unit u ON u.id = m.unit_id",
    "u.path",
    "m.account_id",
    "a.name",
    "a.name_pinyin",
    "a.name_initials",
    "u.depth",
    "m.unit_id",
    "a.username_key",
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


def _prefix(column: str, prefix: str, *, indexed: bool) -> _Sql:
    """``column`` starts with ``prefix``; ``indexed``: written so the column's B-tree index serves it.

    SQLite cannot serve ``LIKE 'prefix%'`` from an index (its LIKE ignores ASCII case), but it can
    serve a range (bytewise there); the LIKE beside it keeps the set exact. PostgreSQL serves the
    LIKE from its ``text_pattern_ops`` index, since every statement gets a custom plan. Without
    ``indexed`` the LIKE alone stays a filter, so the planner walks another index.
    """
    like = _like(column, _like_escaped(prefix) + "%")
    if not indexed or _postgres():
        # PostgreSQL plans every statement with its values (backend.core.db), so the index serves
        # the LIKE; a range there would follow the database's collation, which may not be bytewise.
        return like
    upper = _after(prefix)
    bounds = f"{column} >= " + _value(prefix)
    if upper is not None:
        bounds = bounds + f" AND {column} < " + _value(upper)
    return bounds + " AND " + like


def _scope(source: _Source, actor: Actor, *, by_name: bool) -> _Sql:
    """The actor's scope on ``source`` (the rows of :func:`backend.core.scope.path_prefix`).

    ``by_name``: the scope is a filter on the few rows a name key finds; otherwise the path index
    walks the scope and the name conditions filter it.
    """
    return _prefix(source.path, actor.unit_path, indexed=not by_name)


async def _fetch(statement: _Sql) -> list[_Row]:
    """The candidate rows (columns in the order of :meth:`_Source.select`)."""
    rows = await db.fetch_rows(statement.text, list(statement.values))
    return [_Row(r[0], r[1], r[2] or "", r[3] or "", r[4], r[5], r[6]) for r in rows]


class Size(IntEnum):
    """How a scope is searched, by how many rows of a source it holds."""

    WHOLE = 0  # at most CANDIDATES: read whole, ranked in Python
    BY_PATH = 1  # at most SCAN_LIMIT: the path index walks it, the name conditions filter
    BY_NAME = 2  # larger: the name-key indexes find candidates, the scope filters them


class _Sizes:
    """The size class of each (source, scope) for :data:`SIZE_SECONDS` of the injected clock.

    Scopes grow and shrink slowly, and measuring one costs a statement per source and lookup. The
    cache lives in process memory; it starts afresh when the runtime's clock is replaced (a new
    runtime, or each test). The thresholds are part of the key, so changing them never reads a
    class measured against others.
    """

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._clock: Clock | None = None
        self._entries: dict[tuple[Kind, str, int, int], tuple[float, Size]] = {}

    def _now(self) -> float:
        clock = runtime.get().clock
        if clock is not self._clock:
            self._clock = clock
            self._entries.clear()
        return clock.timestamp()

    @staticmethod
    def _key(source: _Source, path: str) -> tuple[Kind, str, int, int]:
        return source.kind, path, CANDIDATES, SCAN_LIMIT

    def get(self, source: _Source, path: str) -> Size | None:
        now = self._now()  # first: a new clock empties the cache
        entry = self._entries.get(self._key(source, path))
        if entry is None or entry[0] <= now:
            return None
        return entry[1]

    def put(self, source: _Source, path: str, size: Size) -> None:
        now = self._now()
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
        self._entries[self._key(source, path)] = (now + SIZE_SECONDS, size)

    def forget(self, source: _Source, path: str) -> None:
        self._entries.pop(self._key(source, path), None)


_SIZES = _Sizes()


async def _measure(source: _Source, actor: Actor) -> Size:
    """Count the scope's rows up to one past :data:`SCAN_LIMIT` (one statement on the path index)."""
    scope = _scope(source, actor, by_name=False)
    inner = f"SELECT 1 FROM {source.scope_tables} WHERE " + scope + " LIMIT " + _value(SCAN_LIMIT + 1)
    statement = "SELECT COUNT(*) AS n FROM (" + inner + ") AS s"
    rows = await db.fetch(statement.text, list(statement.values))
    count = int(rows[0]["n"])
    size = Size.WHOLE if count <= CANDIDATES else Size.BY_PATH if count <= SCAN_LIMIT else Size.BY_NAME
    _SIZES.put(source, actor.unit_path, size)
    return size


async def _size(source: _Source, actor: Actor) -> Size:
    cached = _SIZES.get(source, actor.unit_path)
    return cached if cached is not None else await _measure(source, actor)


def _whole(source: _Source, actor: Actor) -> _Sql:
    """Every row of a small scope, and one more if it has grown past :data:`CANDIDATES` since measured."""
    return source.select() + _scope(source, actor, by_name=False) + " LIMIT " + _value(CANDIDATES + 1)


def _by_path(source: _Source, actor: Actor, query: Query) -> _Sql:
    """One walk of a medium scope on the path index, filtered by every name condition at once.

    Strong conditions (the pinyin and initials prefixes, the name containing the text, a user name)
    sort before weak ones (the name without its first character, the first syllable), so a common
    syllable never crowds out a real match; then the best ranked first, as the ranking breaks ties.
    """
    strong: list[_Sql] = []
    weak: list[_Sql] = []
    if source.kind == Kind.PERSON and query.latin:
        strong.append(f"{source.extra} = " + _value(query.text))
    strong.append(_prefix(source.pinyin, query.pinyin, indexed=False))
    strong.append(_prefix(source.initials, query.initials, indexed=False))
    if not query.latin:
        strong.append(_like(source.name, "%" + _like_escaped(query.text) + "%"))
        if len(query.text) >= 3:  # a wrong first character (黄家湾 for 王家湾)
            weak.append(_like(source.name, "%" + _like_escaped(query.text[1:]) + "%"))
    if len(query.pinyin) >= 3:
        weak.append(_prefix(source.pinyin, query.pinyin[:3], indexed=False))
    conditions = "(" + _Sql.join(" OR ", strong + weak) + ")"
    order = _Sql(source.best_first)
    if weak:
        order = "CASE WHEN " + _Sql.join(" OR ", strong) + " THEN 0 ELSE 1 END, " + order
    limit = CANDIDATES * (len(strong) + len(weak))
    scope = _scope(source, actor, by_name=False)
    return source.select() + scope + " AND " + conditions + " ORDER BY " + order + " LIMIT " + _value(limit)


def _by_name(source: _Source, actor: Actor, query: Query) -> _Sql:
    """The name-key probes of a large scope as one statement: each keeps its own index, order and limit."""
    probes: list[tuple[_Sql, str | None, int]] = []
    if source.kind == Kind.PERSON and query.latin:
        probes.append((f"{source.extra} = " + _value(query.text), None, CANDIDATES))  # a user name (unique index)
    # More matches than fit: keep the best ranked (highest units first), unless a single character
    # or letter matches so many that sorting them all costs more than it tells: then index order.
    sort_best = len(query.text) > 1
    for key, value in ((source.pinyin, query.pinyin), (source.initials, query.initials)):
        order = source.best_first if sort_best else f"{key}, {source.id}"
        probes.append((_prefix(key, value, indexed=True), order, CANDIDATES))
    # Typos after the first letters: the nearest keys on either side of the query's pinyin.
    probes.append((f"{source.pinyin} < " + _value(query.pinyin), f"{source.pinyin} DESC, {source.id}", NEIGHBOURS))
    probes.append((f"{source.pinyin} > " + _value(query.pinyin), f"{source.pinyin}, {source.id}", NEIGHBOURS))
    parts: list[_Sql] = []
    for i, (condition, order, limit) in enumerate(probes):
        ordered = "" if order is None else f" ORDER BY {order}"
        inner = source.select() + _scope(source, actor, by_name=True) + " AND " + condition + ordered
        parts.append("SELECT * FROM (" + inner + " LIMIT " + _value(limit) + f") AS p{i}")
    return _Sql.join(" UNION ", parts)  # not ALL: a row that several probes find comes once


async def _candidates(source: _Source, actor: Actor, query: Query) -> list[_Row]:
    """Rows of ``source`` in scope that could match ``query`` (all of them if the scope is small).

    One statement per source once the scope's size class is known (:class:`_Sizes`).
    """
    size = await _size(source, actor)
    if size == Size.WHOLE:
        rows = await _fetch(_whole(source, actor))
        if len(rows) <= CANDIDATES:
            return rows
        _SIZES.forget(source, actor.unit_path)  # it grew past the class measured: measure again
        size = max(await _measure(source, actor), Size.BY_PATH)
    statement = _by_path(source, actor, query) if size == Size.BY_PATH else _by_name(source, actor, query)
    found: dict[tuple[int, int], _Row] = {}
    for row in await _fetch(statement):
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


def _rank(query: Query, source: _Source, rows: Iterable[_Row]) -> tuple[list[Match], list[_Row]]:
    """The rows that match ``query``, each id at its best; and the rows that do not."""
    matches: dict[int, Match] = {}
    misses: list[_Row] = []
    for row in rows:
        ranked = classify(query, row, source.kind)
        if ranked is None:
            misses.append(row)
            continue
        unit_type = row.extra if source.kind == Kind.UNIT else None
        whole = ranked[0] != Rank.FUZZY and is_whole(query, row.name, source.kind)
        match = Match(source.kind, row.id, row.name, ranked[0], ranked[1], row.depth, row.within, unit_type, whole)
        if row.id not in matches or match.key() < matches[row.id].key():  # a person: its highest unit
            matches[row.id] = match
    return list(matches.values()), misses


def _near(query: Query, source: _Source, rows: Iterable[_Row]) -> list[Match]:
    """Rows close enough to offer as suggestions (asked only when nothing matched)."""
    near: dict[int, Match] = {}
    for row in rows:
        score = similarity(query, row.name, row.pinyin)
        if score >= NEAR_MIN:
            unit_type = row.extra if source.kind == Kind.UNIT else None
            candidate = Match(source.kind, row.id, row.name, Rank.FUZZY, score, row.depth, row.within, unit_type)
            if row.id not in near or candidate.key() < near[row.id].key():
                near[row.id] = candidate
    return list(near.values())


async def find(actor: Actor, text: str, *, units: bool = True, people: bool = False, limit: int = 10) -> Found:
    """Units and (if asked) people in the actor's scope whose name matches ``text``, best first."""
    query = Query.of(text)
    if not query.text:
        return Found(matches=[], near=[], more=False)
    matches: list[Match] = []
    misses: list[tuple[_Source, list[_Row]]] = []
    for wanted, source in ((units, UNITS), (people, PEOPLE)):
        if wanted:
            found, missed = _rank(query, source, await _candidates(source, actor, query))
            matches += found
            misses.append((source, missed))
    matches.sort(key=Match.key)
    if matches:
        return Found(matches=matches[:limit], near=[], more=len(matches) > limit)
    near = sorted((m for source, rows in misses for m in _near(query, source, rows)), key=Match.key)
    return Found(matches=[], near=near[:limit], more=False)


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
    ids = sorted({m.within for m in matches if m.within is not None})
    names: dict[int, str] = {}
    if ids:
        listed = _Sql.join(", ", (_value(i) for i in ids))
        statement = "SELECT u.id AS id, u.name AS name FROM unit u WHERE " + _scope(UNITS, actor, by_name=False)
        statement = statement + " AND u.id IN (" + listed + ")"
        names = {int(r["id"]): r["name"] for r in await db.fetch(statement.text, list(statement.values))}
    return [f"{m.name}（{names[m.within]}）" if m.within in names else m.name for m in matches]
