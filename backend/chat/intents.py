"""Import every module that registers chat intents (domains keep their intents with them)."""

from __future__ import annotations

import importlib

INTENT_MODULES = (
    "backend.chat.builtin",
    "backend.units.chat",
    "backend.accounts.chat",
    "backend.coops.chat",
    "backend.audit.chat",
    "backend.agents.chat",
    "backend.reviews.chat",
    "backend.registration.chat",
)


def load() -> None:
    for module in INTENT_MODULES:
        importlib.import_module(module)
