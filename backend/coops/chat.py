"""Chat intents of the coops domain (registered on import by backend.chat.intents)."""

from __future__ import annotations
