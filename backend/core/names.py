"""Pinyin keys of Chinese names, so lookups forgive input typed in pinyin, initials or homophones."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from pypinyin import lazy_pinyin

# Characters that show as nothing, which text pasted from WeChat or a web page brings along: the
# format characters (zero-width space, joiners, word joiner, byte order mark, soft hyphen, direction
# marks, invisible operators, shorthand format controls, musical formatting and tag characters) and the
# Hangul fillers, letters drawn blank. Not the direction embeddings, overrides and isolates, which text
# fields refuse (backend.core.validation), nor format characters that show (U+0600 ARABIC NUMBER SIGN,
# U+180E in Mongolian words). Written out: scanning Unicode at import takes a third of a second.
INVISIBLE = re.compile(
    "[\u00ad\u061c\u115f\u1160\u200b-\u200f\u2060-\u2064\u206a-\u206f\u3164\ufeff\uffa0"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def visible(text: str) -> str:
    """``text`` without the characters that show as nothing (:data:`INVISIBLE`): 王家\\u200b湾 -> 王家湾."""
    return INVISIBLE.sub("", text)


@lru_cache(maxsize=65536)
def pinyin_keys(name: str) -> tuple[str, str]:
    """(whole pinyin, initials), lower-case, toneless, no separators: 王家湾村 -> (wangjiawancun, wjwc).
    Characters that show as nothing are no part of either."""
    syllables = [s.lower() for s in lazy_pinyin(visible(name), errors=lambda chars: list(chars)) if s.strip()]
    whole = "".join(syllables)
    initials = "".join(s[0] for s in syllables if s[0].isalnum())
    return whole, initials


# Characters read two ways in place names and surnames, where pypinyin's one reading is often not
# the one a cadre types: 长岭村 is Changling, not Zhangling; 朝阳 Chaoyang; 曾 Zeng. Their other
# readings give a name more keys (alternate_keys). Kept short: every reading is one more entry in
# each process's name index.
POLYPHONES: dict[str, tuple[str, ...]] = {
    "长": ("chang", "zhang"),
    "朝": ("chao", "zhao"),
    "重": ("chong", "zhong"),
    "曾": ("zeng", "ceng"),
    "单": ("shan", "dan"),
    "解": ("xie", "jie"),
    "查": ("zha", "cha"),
    "仇": ("qiu", "chou"),
    "区": ("ou", "qu"),
    "盖": ("ge", "gai"),
    "乐": ("le", "yue"),
    "行": ("xing", "hang"),
    "藏": ("zang", "cang"),
    "都": ("du", "dou"),
    "厦": ("xia", "sha"),
    "会": ("hui", "kuai"),
    "六": ("liu", "lu"),
    "番": ("pan", "fan"),
    "堡": ("bao", "pu", "bu"),
    "大": ("da", "dai"),
    "柏": ("bai", "bo"),
    "莘": ("shen", "xin"),
    "涌": ("yong", "chong"),
    "尉": ("wei", "yu"),
    "覃": ("qin", "tan"),
    "缪": ("miao", "mou"),
    "召": ("zhao", "shao"),
    "翟": ("zhai", "di"),
    "车": ("che", "ju"),
    "圩": ("xu", "wei"),
    "埔": ("pu", "bu"),
    "泊": ("bo", "po"),
    "铅": ("qian", "yan"),
    "弄": ("nong", "long"),
    "术": ("shu", "zhu"),
}
_POLYPHONE_CHARS = frozenset(POLYPHONES)
MAX_ALTERNATES = 4  # other readings of one name at most (a name full of polyphones keeps the first)


@lru_cache(maxsize=16384)
def alternate_keys(name: str) -> tuple[tuple[str, str], ...]:
    """Other (whole pinyin, initials) of ``name`` than :func:`pinyin_keys`'s, from the other readings
    of its :data:`POLYPHONES`: 长岭村 -> ((changlingcun, clc),). Empty for most names."""
    if _POLYPHONE_CHARS.isdisjoint(name):
        return ()
    name = visible(name)
    syllables = [s.lower() for s in lazy_pinyin(name, errors=lambda chars: list(chars))]
    if len(syllables) != len(name):  # not one syllable per character: leave the name as it is
        return ()
    readings: list[list[str]] = [[]]
    for char, syllable in zip(name, syllables, strict=True):
        options = POLYPHONES.get(char, (syllable,))
        readings = [[*r, o] for r in readings for o in options][: MAX_ALTERNATES + 1]
    default = pinyin_keys(name)
    found: list[tuple[str, str]] = []
    for reading in readings:
        parts = [s for s in reading if s.strip()]
        keys = ("".join(parts), "".join(s[0] for s in parts if s[0].isalnum()))
        if keys != default and keys not in found:
            found.append(keys)
    return tuple(found[:MAX_ALTERNATES])


def match_key(name: str) -> str:
    """A name as lookups compare it: NFKC, as the chat folds what is typed (full-width （二组） and
    １组 match (二组) and 1组), lower-case (b2栋 matches 幸福小区B2栋), and without the characters that
    show as nothing (a name stored with a zero-width space matches the name as seen)."""
    return visible(unicodedata.normalize("NFKC", name)).lower()


# Middle dots written between the parts of a name (阿依古丽·买买提), as different keyboards type them.
_NAME_DOTS = re.compile("[\u00b7\u2022\u2027\u2219\u22c5\u30fb\uff65]")


def same_name_key(name: str) -> str:
    """A name as two names of one person or one place are compared: as lookups compare them
    (:func:`match_key`), also without spaces (王 小芳, 王家湾\u3000村) and with any middle dot."""
    return _NAME_DOTS.sub("\u00b7", "".join(match_key(name).split()))


def same_name(typed: str, registered: str) -> bool:
    """Is ``typed`` the name ``registered`` (:func:`same_name_key`)?"""
    return same_name_key(typed) == same_name_key(registered)


def _limits(model: type) -> tuple[int, int]:
    """The lengths of the model's pinyin columns: an account's are shorter than a unit's (fifty
    characters of a name read "zhuang" are 300 letters of pinyin)."""
    fields = model._meta.fields_map  # type: ignore[attr-defined]
    return fields["name_pinyin"].max_length, fields["name_initials"].max_length


def fill(obj: object) -> None:
    """Set ``name_pinyin`` and ``name_initials`` of a Unit or Account from its ``name``."""
    whole, initials = pinyin_keys(obj.name)  # type: ignore[attr-defined]
    pinyin_max, initials_max = _limits(type(obj))
    obj.name_pinyin = whole[:pinyin_max]  # type: ignore[attr-defined]
    obj.name_initials = initials[:initials_max]  # type: ignore[attr-defined]


class PinyinNamed:
    """Model mixin: every save keeps ``name_pinyin`` / ``name_initials`` in step with ``name``.

    Queryset ``.update(name=...)`` and ``bulk_create`` bypass ``save``: pass :func:`columns` there.
    """

    async def save(self, *args: Any, update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
        fill(self)
        if update_fields is not None and "name" in update_fields:
            update_fields = [*update_fields, "name_pinyin", "name_initials"]
        await super().save(*args, update_fields=update_fields, **kwargs)  # type: ignore[misc]


def columns(name: str, model: type) -> dict[str, str]:
    """``name`` with its pinyin columns, for ``model.filter(...).update(**columns(name, model))``
    (cut to the model's columns)."""
    whole, initials = pinyin_keys(name)
    pinyin_max, initials_max = _limits(model)
    return {"name": name, "name_pinyin": whole[:pinyin_max], "name_initials": initials[:initials_max]}
