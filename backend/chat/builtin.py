"""Intents of the chat itself: help."""

from __future__ import annotations

from backend.chat import messages as msg
from backend.chat.protocol import ChatReply, TextBlock
from backend.chat.registry import Turn, intent
from backend.chat.service import suggestions


# Matched after normalising (parser.normalise): "？" has become "?", and phones capitalise "Help".
# A greeting gets the same answer (it was looked up as a name, and offered the nearest person's).
@intent(
    "chat.help", patterns=(r"(?i)^(?:帮助|help|\?|怎么用|能做什么|你能做什么|你好|您好|hello|hi|在吗)$",), priority=10
)
async def chat_help(turn: Turn) -> ChatReply:
    return ChatReply(blocks=[TextBlock(text=msg.HELP)], suggestions=suggestions())
