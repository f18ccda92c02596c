"""Entity tags and the ``If-Match`` precondition (RFC 9110 §8.8.3, §13.1.1): optimistic concurrency.

A client sends back the ``ETag`` it read as ``If-Match``; the write checks it against the current
version *in the transaction that holds the row's lock* and refuses (412) when someone else wrote in
between, instead of silently overwriting their change. A request without ``If-Match`` is not
conditional. Only strong tags are issued, and a weak tag (``W/``) in ``If-Match`` could never match,
so it is refused as malformed (a clearer answer than "changed by someone else", which reloading
would not cure).

A strong tag must differ between different representations of a resource (RFC 9110 §8.8.1), and one
resource may be sent in several: money shown or masked by the reader's finance access, gzipped or
not. So a tag names a version *and* a representation: ``"<version>.<representation>"`` from
:func:`representation_tag`, with ``-gzip`` appended inside the quotes when the answer is gzipped
(:func:`gzip_tag`, as Apache's mod_deflate does). ``If-Match`` guards against lost updates, so it
compares versions: a tag of any representation of the current version passes (the clerk who sees
money masked writes with the tag of the masked answer), a tag of an older version never does.
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
_REPRESENTATION = "."  # between the version and the representation part of a tag (neither holds one)
GZIP_SUFFIX = "-gzip"
_REPRESENTATION_HEX = 16  # 64 bits: it tells apart the few representations of one version


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
        """Does a listed tag name the current version ``current`` (quoted, as :func:`strong_etag`
        makes it), in whichever representation and content coding it was sent?"""
        return self.any or any(version_of(tag) == current for tag in self.tags)


def strong_etag(*parts: object) -> str:
    """A strong entity tag (quoted) for a version identified by ``parts``: 128 bits of a SHA-256 of
    their ``repr``, so the tag names the version without showing what identifies it."""
    digest = hashlib.sha256("\x1f".join(map(repr, parts)).encode()).hexdigest()
    return f'"{digest[:32]}"'


def representation_tag(version: str, body: bytes) -> str:
    """The strong tag of one representation of a version: the version's tag (:func:`strong_etag`)
    and 64 bits of a SHA-256 of the representation's bytes. Whatever tells two answers of one version
    apart (money masked, a unit's new name) is in the bytes, so their tags differ."""
    digest = hashlib.sha256(body).hexdigest()[:_REPRESENTATION_HEX]
    return f'{version[:-1]}{_REPRESENTATION}{digest}"'


def gzip_tag(tag: str) -> str:
    """The tag of the same representation sent gzipped: another representation, so a strong tag gets
    :data:`GZIP_SUFFIX` (RFC 9110 §8.8.3.3); a weak one stays as it is."""
    if tag.startswith("W/") or len(tag) < 2 or not tag.endswith('"'):
        return tag
    return f'{tag[:-1]}{GZIP_SUFFIX}"'


def version_of(tag: str) -> str:
    """The version a strong tag names: without the suffix of a content coding and the representation part."""
    opaque = tag[1:-1].removesuffix(GZIP_SUFFIX)
    return f'"{opaque.partition(_REPRESENTATION)[0]}"'


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
