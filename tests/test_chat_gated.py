"""Intent patterns test the words a match must hold before the expression (backend.chat.gated):
the test may only turn away texts the expression would not match."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend.chat import intents, registry
from backend.chat.gated import gated, needs
from backend.chat.parser import normalise

intents.load()


@pytest.mark.parametrize(
    ("pattern", "groups"),
    [
        (r"^王家湾村$", (("王家湾村",),)),
        (r"^(?P<name>.+?)的(?:上级|所属单位)$", (("的",), ("上级", "所属单位"))),
        (r"^(?:最近)?操作记录$", (("操作记录",),)),  # what is optional is not needed
        (r"^(?:合作社)*汇总$", (("汇总",),)),
        (r"^(?:合作社)+汇总$", (("汇总",), ("合作社",))),
        (r"^(?:成立于哪一?年|什么时候成立)$", (("成立于哪", "什么时候成立"),)),  # each branch's own
        (r"^(?:统计|.*平均)$", (("统计", "平均"),)),
        (r"^(?:统计|.*)$", ()),  # a branch that needs nothing: nothing is needed
        (r"(?i)^help$", ()),  # "HELP" holds no "help"
        (r"^(?i:help)我$", (("我",),)),
        (r"^(?!.*平均)社员$", (("社员",),)),  # what a lookahead refuses is no need
    ],
)
def test_the_words_a_match_must_hold_are_read_off_the_pattern(pattern, groups):
    assert sorted(needs(pattern)) == sorted(groups)


def _phrasings() -> list[str]:
    """Every phrasing quoted in the README and the chat tests: what cadres are known to type."""
    root = Path(__file__).resolve().parent.parent
    texts: set[str] = set()
    sources = [root / "README.md", *sorted((root / "tests").glob("test_*.py"))]
    for source in sources:
        for quoted in re.findall(r"[\"“]([^\"“”\n]{1,40})[\"”]", source.read_text(encoding="utf-8")):
            if re.search(r"[\u4e00-\u9fff]", quoted):
                texts.add(normalise(quoted))
    return sorted(texts)


def test_no_pattern_turns_away_a_phrasing_its_expression_matches():
    phrasings = _phrasings()
    assert len(phrasings) > 500
    specs = registry.by_priority()
    turned_away = [
        (spec.name, text)
        for spec in specs
        for pattern in spec.patterns
        for text in phrasings
        if pattern.regex.search(text) and not pattern.search(text)
    ]
    assert turned_away == []
    matched = sum(1 for spec in specs for p in spec.patterns for text in phrasings if p.regex.search(text))
    assert matched > 300  # the check saw many matches, not none


def test_a_gated_pattern_finds_what_its_expression_finds():
    pattern = gated(r"^(?P<name>.+?)的?(?:上级单位|上级)$")
    assert pattern.search("王家湾村的上级")["name"] == "王家湾村"
    assert pattern.search("王家湾村") is None and pattern.regex.search("王家湾村") is None
