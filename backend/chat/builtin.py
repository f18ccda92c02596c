"""Intents of the chat itself: help."""

from __future__ import annotations

from backend.chat import messages as msg
from backend.chat.protocol import ChatReply, TextBlock
from backend.chat.registry import Turn, intent
from backend.chat.service import suggestions


# Matched after normalising (parser.normalise): "？" has become "?", and phones capitalise "Help".
@intent("chat.help", patterns=(r"(?i)^(?:帮助|help|\?|怎么用|能做什么|你能做什么)$",), priority=10)
async def chat_help(turn: Turn) -> ChatReply:
    return ChatReply(blocks=[TextBlock(text=msg.HELP)], suggestions=suggestions())
