"""Pinyin keys of Chinese names, so lookups forgive input typed in pinyin, initials or homophones."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from pypinyin import lazy_pinyin


@lru_cache(maxsize=65536)
def pinyin_keys(name: str) -> tuple[str, str]:
    """(whole pinyin, initials), lower-case, toneless, no separators: 王家湾村 -> (wangjiawancun, wjwc)."""
    syllables = [s.lower() for s in lazy_pinyin(name, errors=lambda chars: list(chars)) if s.strip()]
    whole = "".join(syllables)
    initials = "".join(s[0] for s in syllables if s[0].isalnum())
    return whole, initials


def fill(obj: object) -> None:
    """Set ``name_pinyin`` and ``name_initials`` of a Unit or Account from its ``name``."""
    whole, initials = pinyin_keys(obj.name)  # type: ignore[attr-defined]
    obj.name_pinyin = whole[:400]  # type: ignore[attr-defined]
    obj.name_initials = initials[:100]  # type: ignore[attr-defined]


class PinyinNamed:
    """Model mixin: every save keeps ``name_pinyin`` / ``name_initials`` in step with ``name``.

    Queryset ``.update(name=...)`` and ``bulk_create`` bypass ``save``: pass :func:`columns` there.
    """

    async def save(self, *args: Any, update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
        fill(self)
        if update_fields is not None and "name" in update_fields:
            update_fields = [*update_fields, "name_pinyin", "name_initials"]
        await super().save(*args, update_fields=update_fields, **kwargs)  # type: ignore[misc]


def columns(name: str) -> dict[str, str]:
    """``name`` with its pinyin columns, for ``.update(**columns(name))``."""
    whole, initials = pinyin_keys(name)
    return {"name": name, "name_pinyin": whole[:400], "name_initials": initials[:100]}
