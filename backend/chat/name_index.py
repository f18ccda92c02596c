"""The names the chat looks up, held in each process's memory and kept exact by the database.

A name lookup used to walk the actor's scope in SQL with ``LIKE '%王家湾%'`` on every member's name
(5-6 ms of database CPU for a county, more on PostgreSQL). Here each source (units, which include the
co-ops, and people: one entry per membership) is a :class:`Table` sorted by unit path, so a scope is
one contiguous range found by bisection, and each text column (name, pinyin, initials, user name) is
one string with the values joined by a separator, so "starts with", "is" and "contains" over a whole
range are one ``str.find`` each, run in C. For the large demo (21,600 units, 100,000 people) the
tables take about 10 MB (``make bench-chat`` prints the figure).

Exactness: the triggers of migration 0009 append a ``name_change`` row for every write that can change
a lookup, in the writer's transaction. Before each lookup :func:`current` reads the rows after the
version it has applied (one indexed statement, nothing when nothing changed) and re-reads just the
accounts and units they name into a small overlay that hides their old entries; a moved subtree, a
gap in the log (pruned rows) or too many changes rebuild the tables instead. So a lookup sees every
write committed before it, made by any process, and a test reset calls :func:`forget`. The log only
moves forward: a database restored from a backup issues its version numbers again, so the servers
are restarted after a restore (README, Chat).
"""

from __future__ import annotations

import asyncio
import bisect
import contextvars
import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any, NamedTuple

from backend.core import db
from backend.core.names import alternate_keys, match_key

SEP = "\x00"  # between values in a column's string; never part of a name (bad input is refused before)
TOP = "\U0010ffff"  # the last character: every path of a subtree sorts before prefix + TOP
OVERLAY_MAX = 1000  # changed accounts and units held beside the tables before they are rebuilt
LOAD_BATCH = 20_000  # rows per statement when the tables are (re)built, to bound the memory it takes
NEIGHBOUR_STEPS = 20_000  # how far the walk for the nearest pinyin keys goes before it gives up
WIDE_RANGE = 8  # a scope holding at least 1/8 of a table walks the table's pinyin order
RANGE_ORDERS = 512  # pinyin orders of narrower scopes kept per table (4 bytes per entry in scope)


class Source(StrEnum):
    UNIT = "unit"
    PERSON = "person"


class Entry(NamedTuple):
    """One unit, or one person in one unit (a person with two memberships has two entries)."""

    id: int  # the unit's id, or the person's account id
    name: str
    pinyin: str
    initials: str
    depth: int  # the unit's depth (a person's: their unit's)
    within: int | None  # the unit's parent, or the person's unit
    extra: str  # the unit's type, or the person's user name (lower-case)
    path: str  # the unit's path (a person's: their unit's)
    key: str  # the name as lookups compare it (backend.core.names.match_key: NFKC, lower-case)


class Column(Enum):
    """A text column of the entries (the value: its :class:`Entry` field)."""

    NAME = "name"
    PINYIN = "pinyin"
    INITIALS = "initials"
    EXTRA = "extra"
    KEY = "key"


class Mode(Enum):
    IS = 1
    STARTS = 2
    CONTAINS = 3


@dataclass(frozen=True)
class Condition:
    column: Column
    mode: Mode
    text: str

    def needle(self) -> str:
        if self.mode == Mode.IS:
            return SEP + self.text + SEP
        return SEP + self.text if self.mode == Mode.STARTS else self.text

    def holds(self, entry: Entry) -> bool:
        value: str = getattr(entry, self.column.value)
        if self.mode == Mode.IS:
            return value == self.text
        return value.startswith(self.text) if self.mode == Mode.STARTS else self.text in value


class Strings:
    """Values as one string, ``SEP v0 SEP v1 SEP ... SEP``, with where each value starts."""

    def __init__(self, values: Iterable[str]) -> None:
        starts = array("I")
        at = 1
        parts: list[str] = []
        for value in values:
            starts.append(at)
            parts.append(value)
            at += len(value) + 1
        starts.append(at)  # where a value after the last would start
        self.text = SEP + SEP.join(parts) + SEP if parts else SEP
        self.starts = starts

    def __getitem__(self, i: int) -> str:
        return self.text[self.starts[i] : self.starts[i + 1] - 1]

    def search(self, pattern: re.Pattern[str], lo: int, hi: int, limit: int) -> Iterator[int]:
        """The rows in ``[lo, hi)`` whose value ``pattern`` matches (a pattern that cannot cross a
        :data:`SEP`), in order: one scan of the range in C, a row at most once."""
        text, starts = self.text, self.starts
        at, end = starts[lo] - 1, starts[hi]
        found = 0
        while found < limit:
            match = pattern.search(text, at, end)
            if match is None:
                return
            row = bisect.bisect_right(starts, match.start()) - 1
            yield row
            found += 1
            at = starts[row + 1] - 1

    def find(self, needle: str, lo: int, hi: int, limit: int) -> Iterator[int]:
        """The rows in ``[lo, hi)`` whose value holds ``needle`` (see :meth:`Condition.needle`), in order."""
        text, starts = self.text, self.starts
        at, end = starts[lo] - 1, starts[hi]
        found = 0
        while found < limit:
            pos = text.find(needle, at, end)
            if pos < 0:
                return
            row = bisect.bisect_right(starts, pos + len(needle) - 1) - 1
            yield row
            found += 1
            at = starts[row + 1] - 1


class Table:
    """One source's entries sorted by (path, id): a scope is the range of paths under its own."""

    def __init__(self, entries: list[Entry]) -> None:
        entries.sort(key=lambda e: (e.path, e.id))
        self.size = len(entries)
        self.paths = [e.path for e in entries]
        self.ids = array("q", (e.id for e in entries))
        self.depths = array("h", (e.depth for e in entries))
        self.within = array("q", (-1 if e.within is None else e.within for e in entries))
        self.columns = {column: Strings(getattr(e, column.value) for e in entries) for column in Column}
        self.pinyins = self.columns[Column.PINYIN]  # the pinyin order reads it on every step
        entry_columns = (Column.NAME, Column.PINYIN, Column.INITIALS, Column.EXTRA, Column.KEY)
        self._texts = tuple((self.columns[c].text, self.columns[c].starts) for c in entry_columns)
        pinyins = [e.pinyin for e in entries]
        self.by_pinyin = array("I", sorted(range(self.size), key=pinyins.__getitem__))
        self._orders: dict[tuple[int, int], array[int]] = {}  # pinyin orders of narrow ranges

    def entry(self, i: int) -> Entry:
        # Slices written out, the columns held in locals: a lookup's typo stage makes a few hundred
        # entries, and the method call and enum-keyed lookup per column were most of their cost.
        (names, name_at), (pinyins, pinyin_at), (initials, initial_at), (extras, extra_at), (keys, key_at) = self._texts
        within = self.within[i]
        return Entry(
            self.ids[i],
            names[name_at[i] : name_at[i + 1] - 1],
            pinyins[pinyin_at[i] : pinyin_at[i + 1] - 1],
            initials[initial_at[i] : initial_at[i + 1] - 1],
            self.depths[i],
            None if within < 0 else within,
            extras[extra_at[i] : extra_at[i + 1] - 1],
            self.paths[i],
            keys[key_at[i] : key_at[i + 1] - 1],
        )

    def range(self, path: str) -> tuple[int, int]:
        """The rows whose path starts with ``path``."""
        return bisect.bisect_left(self.paths, path), bisect.bisect_left(self.paths, path + TOP)

    def find(self, condition: Condition, lo: int, hi: int, limit: int) -> Iterator[int]:
        """The rows in ``[lo, hi)`` that meet ``condition``: pinyin prefixes by the pinyin order
        (a bisection, then only the rows that start so), anything else by one pass over the range."""
        if condition.column == Column.PINYIN and condition.mode == Mode.STARTS:
            return self._pinyin_starting(condition.text, lo, hi, limit)
        return self.columns[condition.column].find(condition.needle(), lo, hi, limit)

    def _order(self, lo: int, hi: int) -> tuple[array[int], tuple[int, int] | None]:
        """Rows in pinyin order for a range: the table's (then only ``(lo, hi)`` counts) or the range's own."""
        if (hi - lo) * WIDE_RANGE >= self.size:
            return self.by_pinyin, (lo, hi)
        return self._range_order(lo, hi), None

    def _pinyin_starting(self, prefix: str, lo: int, hi: int, limit: int) -> Iterator[int]:
        order, inside = self._order(lo, hi)
        pinyins = self.pinyins
        i = bisect.bisect_left(order, prefix, key=pinyins.__getitem__)
        found = 0
        while i < len(order) and found < limit:
            row = order[i]
            if not pinyins[row].startswith(prefix):
                return
            if inside is None or inside[0] <= row < inside[1]:
                yield row
                found += 1
            i += 1

    def neighbours(self, pinyin: str, lo: int, hi: int, count: int) -> list[int]:
        """Up to ``count`` rows in ``[lo, hi)`` on each side of ``pinyin`` in pinyin order (typos).

        A range of at least a :data:`WIDE_RANGE` share of the table walks the table's own pinyin
        order and skips the rows outside; a narrower one (a county in a province) has its own order,
        made once per table and kept (:data:`RANGE_ORDERS` of them).
        """
        pinyins = self.pinyins
        order, inside = self._order(lo, hi)
        at = bisect.bisect_left(order, pinyin, key=pinyins.__getitem__)
        rows: list[int] = []
        for step, stop in ((-1, -1), (1, len(order))):
            i, taken, walked = (at - 1 if step < 0 else at), 0, 0
            while i != stop and taken < count and walked < NEIGHBOUR_STEPS:
                row = order[i]
                if (inside is None or inside[0] <= row < inside[1]) and (step < 0 or pinyins[row] != pinyin):
                    rows.append(row)
                    taken += 1
                i += step
                walked += 1
        return rows

    def _range_order(self, lo: int, hi: int) -> array[int]:
        order = self._orders.get((lo, hi))
        if order is None:
            if len(self._orders) >= RANGE_ORDERS:
                self._orders.clear()
            order = array("I", sorted(range(lo, hi), key=self.pinyins.__getitem__))
            self._orders[(lo, hi)] = order
        return order


@dataclass
class Overlay:
    """Accounts or units changed since the table was built: their current entries (none: gone)."""

    entries: dict[int, list[Entry]] = field(default_factory=dict)

    def in_scope(self, path: str) -> Iterator[Entry]:
        for entries in self.entries.values():
            for entry in entries:
                if entry.path.startswith(path):
                    yield entry


@dataclass
class Names:
    """One source: the table and what changed since it was built."""

    table: Table
    overlay: Overlay = field(default_factory=Overlay)

    def size(self, path: str) -> int:
        """How many entries the table holds under ``path`` (the overlay aside)."""
        lo, hi = self.table.range(path)
        return hi - lo

    def whole(self, path: str) -> list[Entry]:
        """Every entry under ``path``."""
        table, changed = self.table, self.overlay.entries
        lo, hi = table.range(path)
        found = [table.entry(row) for row in range(lo, hi) if table.ids[row] not in changed]
        return found + list(self.overlay.in_scope(path))

    def searching(self, path: str, column: Column, pattern: re.Pattern[str], limit: int) -> list[Entry]:
        """Entries under ``path`` whose ``column`` ``pattern`` matches (it must not match across a
        :data:`SEP`), at most ``limit`` from the table, and the changed ones."""
        table, changed = self.table, self.overlay.entries
        lo, hi = table.range(path)
        rows = [row for row in table.columns[column].search(pattern, lo, hi, limit) if table.ids[row] not in changed]
        extra = [e for e in self.overlay.in_scope(path) if pattern.search(getattr(e, column.value))]
        return [table.entry(row) for row in rows] + extra

    def matching(
        self, path: str, conditions: Sequence[Condition], limit: int, near: tuple[str, int] | None = None
    ) -> list[Entry]:
        """Entries under ``path`` that meet any of ``conditions``, at most ``limit`` for each; with
        ``near`` (a pinyin key, a count), also up to that many on each side of the key in pinyin
        order (typos after the first letters) and the changed entries whose pinyin starts alike.
        Each entry once, however many ways it was found."""
        table, changed = self.table, self.overlay.entries
        lo, hi = table.range(path)
        picked: dict[int, None] = {}
        whole: set[tuple[Column, str]] = set()  # (column, text) whose every "contains" row is picked
        for condition in conditions:
            if condition.mode != Mode.CONTAINS and (condition.column, condition.text) in whole:
                continue  # "is" and "starts with" rows are among them
            taken = seen = 0
            for row in table.find(condition, lo, hi, limit * 2):
                seen += 1
                if table.ids[row] not in changed:
                    picked[row] = None
                    taken += 1
                    if taken >= limit:
                        break
            else:
                if condition.mode == Mode.CONTAINS and seen < limit * 2:
                    whole.add((condition.column, condition.text))
        if near is not None:
            pinyin, count = near
            picked.update(
                (row, None) for row in table.neighbours(pinyin, lo, hi, count) if table.ids[row] not in changed
            )
        extra = [
            e
            for e in self.overlay.in_scope(path)
            if any(c.holds(e) for c in conditions) or (near is not None and e.pinyin[:2] == near[0][:2])
        ]
        return [table.entry(row) for row in picked] + extra


@dataclass
class NameIndex:
    version: int  # the last change applied
    units: Names
    people: Names

    def of(self, source: Source) -> Names:
        return self.units if source == Source.UNIT else self.people

    def changed(self) -> int:
        return len(self.units.overlay.entries) + len(self.people.overlay.entries)


UNIT_COLUMNS = "u.id, u.name, u.name_pinyin, u.name_initials, u.depth, u.parent_id, u.type, u.path"
PERSON_COLUMNS = "m.account_id, a.name, a.name_pinyin, a.name_initials, u.depth, m.unit_id, a.username_key, u.path"
UNITS_FROM = "unit u"
PEOPLE_FROM = "membership m JOIN account a ON a.id = m.account_id JOIN unit u ON u.id = m.unit_id"
_KEY = {Source.UNIT: "u.id", Source.PERSON: "m.id"}  # the batches' order when the tables are built
_FILTER = {Source.UNIT: "u.id", Source.PERSON: "m.account_id"}  # what a change's ref names
_COLUMNS = {Source.UNIT: UNIT_COLUMNS, Source.PERSON: PERSON_COLUMNS}
_FROM = {Source.UNIT: UNITS_FROM, Source.PERSON: PEOPLE_FROM}


def entries_of(rows: Iterable[Sequence[Any]], paths: dict[str, str]) -> list[Entry]:
    """One entry per row, and one more for each other reading of its name (backend.core.names
    .alternate_keys: 长岭村 is found by changling as by zhangling); a lookup counts each once."""
    out = []
    for r in rows:
        path = paths.setdefault(r[7], r[7])  # one string per path, shared by its unit and its people
        name = r[1]
        entry = Entry(int(r[0]), name, r[2] or "", r[3] or "", int(r[4]), r[5], r[6] or "", path, match_key(name))
        out.append(entry)
        for pinyin, initials in alternate_keys(entry.name):
            out.append(entry._replace(pinyin=pinyin, initials=initials))
    return out


async def _read_all(source: Source, paths: dict[str, str]) -> list[Entry]:
    key, entries, after = _KEY[source], [], 0
    while True:
        rows = await db.fetch_rows(
            f"SELECT {_COLUMNS[source]}, {key} FROM {_FROM[source]} WHERE {key} > ? ORDER BY {key} LIMIT ?",
            [after, LOAD_BATCH],
        )
        entries += entries_of(rows, paths)
        if len(rows) < LOAD_BATCH:
            return entries
        after = rows[-1][8]


async def _read_some(source: Source, ids: list[int]) -> dict[int, list[Entry]]:
    found: dict[int, list[Entry]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = await db.fetch_rows(
            f"SELECT {_COLUMNS[source]} FROM {_FROM[source]} WHERE {_FILTER[source]} IN ({marks})", chunk
        )
        for entry in entries_of(rows, {}):
            found[entry.id].append(entry)
    return found


async def build() -> NameIndex:
    """Read every unit and membership: the version first, so nothing after it can be missed."""
    rows = await db.fetch_rows("SELECT version FROM name_index_state WHERE id = 1", [])
    version = int(rows[0][0]) if rows else 0
    paths: dict[str, str] = {}
    units = Table(await _read_all(Source.UNIT, paths))
    people = Table(await _read_all(Source.PERSON, paths))
    return NameIndex(version, Names(units), Names(people))


async def _changes_after(version: int) -> Sequence[Sequence[Any]]:
    return await db.fetch_rows(
        "SELECT version, kind, ref FROM name_change WHERE version > ? ORDER BY version LIMIT ?",
        [version, OVERLAY_MAX + 1],
    )


async def _apply(index: NameIndex, changes: Sequence[Sequence[Any]]) -> bool:
    """Re-read what ``changes`` name into the overlays; False when the index must be rebuilt instead."""
    if int(changes[0][0]) != index.version + 1 or len(changes) > OVERLAY_MAX:
        return False  # rows pruned before this process read them, or too many to patch
    refs: dict[Source, set[int]] = {Source.UNIT: set(), Source.PERSON: set()}
    for _, kind, ref in changes:
        if kind == "tree":
            return False
        refs[Source.UNIT if kind == "unit" else Source.PERSON].add(int(ref))
    for source, ids in refs.items():
        if ids:
            index.of(source).overlay.entries.update(await _read_some(source, sorted(ids)))
    index.version = int(changes[-1][0])
    return index.changed() <= OVERLAY_MAX


class _State:
    def __init__(self) -> None:
        self.index: NameIndex | None = None
        self.lock: asyncio.Lock | None = None


_STATE = _State()


def forget() -> None:
    """Drop this process's index (a test that emptied the tables without triggers calls this)."""
    _STATE.index = None
    _STATE.lock = None


# Where the versions of the indexes handed out are noted, in a context that asks for it (see noting).
_noted: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("names_versions_noted", default=None)


@contextmanager
def noting(versions: list[int]) -> Iterator[None]:
    """Code run in this block, and tasks created in it, append to ``versions`` the version of every
    index :func:`current` gives them, as it was then (backend.chat.service.handle_ahead checks a turn's
    lookups against the version its session check read)."""
    token = _noted.set(versions)
    try:
        yield
    finally:
        _noted.reset(token)


async def current(seen: int | None = None) -> NameIndex:
    """The index with every change committed so far applied: one statement when nothing changed, none
    when ``seen`` (the log's newest version, read since the request began: Actor.names_version) is
    one the index has applied. A turn started ahead of its session check passes the version read by
    an earlier request; backend.chat.service.handle_ahead compares what it got (:func:`noting`) with
    the version the check reads."""
    index = await _current(seen)
    versions = _noted.get()
    if versions is not None:
        versions.append(index.version)
    return index


async def _current(seen: int | None) -> NameIndex:
    state = _STATE
    index = state.index
    if db.inside_atomic():
        # Its reads would see the transaction's own log rows: applied here and then rolled back,
        # their version numbers would be taken again by other changes, which this process would
        # then skip for good. Such a caller gets the index as it is, or one made for it alone.
        return index if index is not None else await build()
    if index is not None and ((seen is not None and index.version >= seen) or not await _changes_after(index.version)):
        return index
    if state.lock is None:
        state.lock = asyncio.Lock()
    async with state.lock:  # one reader applies or rebuilds; the others wait and take its result
        index = state.index
        if index is not None:
            changes = await _changes_after(index.version)
            if not changes or await _apply(index, changes):
                return index
        state.index = await build()
        return state.index


async def prune(keep: int | None = None) -> int:
    """Delete change rows older than the newest ``keep`` (default: ten overlays' worth; a process
    further behind rebuilds anyway)."""
    keep = 10 * OVERLAY_MAX if keep is None else keep
    return await db.execute(
        "DELETE FROM name_change WHERE version <= (SELECT version FROM name_index_state WHERE id = 1) - ?", [keep]
    )
