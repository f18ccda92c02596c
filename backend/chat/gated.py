"""Intent patterns with a cheap test first: the literals any match must contain.

A text that reaches the name lookup ("查 王家湾") has failed every intent's pattern first, and a
failed expression costs a few microseconds each (the asking words, a lazy name, tried at every
length). Most texts lack the words a pattern is built around ("最多", "操作记录", "的上级"), and a
substring test costs a fraction of that. :func:`needs` reads them off the parsed expression,
conservatively: only what stands at the top level, outside anything optional or repeated zero
times, counts, so a text the test turns away could never have matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from re import _constants as const  # type: ignore[attr-defined]
from re import _parser as parser  # type: ignore[attr-defined]
from typing import Any

Needs = tuple[tuple[str, ...], ...]  # each group: the text holds one of its strings


@dataclass(frozen=True)
class GatedPattern:
    regex: re.Pattern[str]
    needs: Needs
    # each group as its test: one word itself (``in``), several as one alternation (searched in C)
    tests: tuple[str | re.Pattern[str], ...]

    def search(self, text: str) -> re.Match[str] | None:
        for test in self.tests:
            if test.__class__ is str:
                if test not in text:
                    return None
            elif test.search(text) is None:  # type: ignore[union-attr]
                return None
        return self.regex.search(text)


def gated(pattern: str) -> GatedPattern:
    groups = needs(pattern)
    tests = tuple(group[0] if len(group) == 1 else re.compile("|".join(map(re.escape, group))) for group in groups)
    return GatedPattern(re.compile(pattern), groups, tests)


def needs(pattern: str) -> Needs:
    """The groups of literals a match of ``pattern`` must contain, one of each group (none for a
    pattern that ignores case: "HELP" holds no "help")."""
    parsed = parser.parse(pattern)
    if parsed.state.flags & re.IGNORECASE:
        return ()
    found: list[tuple[str, ...]] = []
    _required(parsed, found)
    return tuple(sorted(found, key=len))  # the fewest words first: the likeliest to turn a text away


def _required(items: Any, found: list[tuple[str, ...]]) -> None:
    """Add what the sequence ``items`` must contain: each run of literals, and what its groups,
    branches and repeats (at least once) must."""
    run: list[str] = []

    def end_run() -> None:
        if run:
            found.append(("".join(run),))
            run.clear()

    for op, value in items:
        if op is const.LITERAL:
            run.append(chr(value))
            continue
        end_run()
        if op is const.SUBPATTERN:
            if not value[1] & re.IGNORECASE:  # (?i:...) inside: its literals in any case
                _required(value[-1], found)
        elif op is const.BRANCH:  # whichever branch matches, what it needs is there: one of them
            options: list[str] = []
            for branch in value[1]:
                own: list[tuple[str, ...]] = []
                _required(branch, own)
                if not own:  # a branch that needs nothing: the branches together need nothing
                    break
                options.extend(min(own, key=len))
            else:
                found.append(tuple(dict.fromkeys(options)))
        elif op in (const.MAX_REPEAT, const.MIN_REPEAT, const.POSSESSIVE_REPEAT):
            low, _high, content = value
            if low >= 1:
                _required(content, found)
    end_run()
