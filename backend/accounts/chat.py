"""Chat intents of the accounts domain (registered on import by backend.chat.intents)."""

from __future__ import annotations
