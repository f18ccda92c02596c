"""Words that name a unit by the conversation rather than by its name.

"这个村", "该单位", "这儿": the unit last shown in this conversation; "本乡", "我们村", "咱村",
"全乡", "村里": the actor's own unit. One grammar for every domain's intents, so "这个社区的汇总" and
"这个社区的下级单位" mean the same unit.
"""

from __future__ import annotations

import re

_PLACE = r"(?:村|镇|乡|乡镇|街道|社区|县|市|区|省|单位|合作社|社|地方)"
_LAST_SHOWN = re.compile(rf"^(?:(?:这个|这|该|此|那个|这一个){_PLACE}?|这里|这儿|此处|它)$")
_OWN = re.compile(rf"^(?:(?:本|我们|我们的|我的|咱|咱们){_PLACE}?|全{_PLACE}|{_PLACE}里)$")


def means_last_shown(name: str) -> bool:
    """ "这个村", "这里": the unit this conversation showed last."""
    return bool(_LAST_SHOWN.match(name))


def means_own(name: str) -> bool:
    """ "本乡", "我们村", "全乡": the actor's own unit."""
    return bool(_OWN.match(name))


def is_reference(name: str) -> bool:
    """Does this phrase name a unit by the conversation, not by its name?"""
    return means_last_shown(name) or means_own(name)
