"""After start-up the heap is frozen out of full collections, and start-up's garbage is not kept."""

from __future__ import annotations

import gc
import weakref

from backend.core import heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_settling_frees_start_up_garbage_and_freezes_what_lives():
    lives = _Node()
    garbage = _Node()
    garbage.other = _Node()
    garbage.other.other = garbage  # a cycle: only the collector frees it
    gone = weakref.ref(garbage)
    del garbage
    try:
        frozen = heap.settle()
        assert gone() is None  # collected first, not frozen for ever
        assert frozen >= 1 and frozen == gc.get_freeze_count()
        assert not any(obj is lives for obj in gc.get_objects())  # a full pass no longer walks it
    finally:
        gc.unfreeze()
    assert any(obj is lives for obj in gc.get_objects())
