"""Entity tags and the ``If-Match`` precondition (RFC 9110 §8.8.3, §13.1.1): optimistic concurrency.

A client sends back the ``ETag`` it read as ``If-Match``; the write checks it against the current
tag *in the transaction that holds the row's lock* and refuses (412) when someone else wrote in
between, instead of silently overwriting their change. A request without ``If-Match`` is not
conditional. Only strong tags are issued, and ``If-Match`` compares strongly: a weak tag (``W/``)
could never match, so it is refused as malformed (a clearer answer than "changed by someone else",
which reloading would not cure).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sanic import Request

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text
_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"'
# "#entity-tag": a comma-separated list, empty elements allowed, at least one tag.
_TAG_LIST = re.compile(rf"[\s,]*{_TAG}(?:\s*,[\s,]*{_TAG})*[\s,]*")


class MalformedIfMatch(ValueError):
    """An ``If-Match`` that is neither ``*`` nor a list of strong entity tags."""

    def __init__(self, value: str, *, weak: bool = False) -> None:
        super().__init__(value)
        self.weak = weak


@dataclass(frozen=True)
class IfMatch:
    """A parsed ``If-Match``: ``*`` (any current representation) or the tags the client holds."""

    tags: frozenset[str]
    any: bool = False

    def matches(self, current: str) -> bool:
        """Does the current strong tag (quoted, as :func:`strong_etag` makes it) satisfy the condition?"""
        return self.any or current in self.tags


def strong_etag(*parts: object) -> str:
    """A strong entity tag (quoted) for a version identified by ``parts``: 128 bits of a SHA-256 of
    their ``repr``, so the tag names the version without showing what identifies it."""
    digest = hashlib.sha256("\x1f".join(map(repr, parts)).encode()).hexdigest()
    return f'"{digest[:32]}"'


def parse_if_match(value: str) -> IfMatch:
    """An ``If-Match`` field value (several header lines joined by commas); raises
    :class:`MalformedIfMatch` for anything else than ``*`` or a list of strong tags."""
    if value.strip() == "*":
        return IfMatch(tags=frozenset(), any=True)
    if not _TAG_LIST.fullmatch(value):
        raise MalformedIfMatch(value)
    tags = re.findall(_TAG, value)
    if any(tag.startswith("W/") for tag in tags):
        raise MalformedIfMatch(value, weak=True)
    return IfMatch(tags=frozenset(tags))


def if_match(request: Request) -> IfMatch | None:
    """The request's ``If-Match``; None when it has none (the write is unconditional)."""
    values = request.headers.getall("if-match", [])
    return parse_if_match(", ".join(values)) if values else None
