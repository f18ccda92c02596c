"""Chat intents of the units domain (registered on import by backend.chat.intents)."""

from __future__ import annotations
