"""Numbers in a tapped button's parameters (or the paging context), which a client may have changed."""

from __future__ import annotations

from typing import Any

from backend.core.validation import MAX_ID


def whole_number(value: Any) -> int | None:
    """An id or cursor: a whole number 0..MAX_ID, as an integer or its digits in text; None for
    anything else (a bool, a float such as 1.5 or 1e400, other text, a list)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isascii() or not value.isdigit() or len(value) > len(str(MAX_ID)):
            return None
    number = int(value)
    return number if 0 <= number <= MAX_ID else None
