"""Intents of the chat itself: help, and an answer to thanks."""

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


# "谢谢" or "好的" after an answer ends a question; looked up as a name it found the nearest person.
@intent(
    "chat.thanks",
    patterns=(
        r"(?i)^(?:谢谢|谢谢你|谢谢您|谢了|多谢|感谢|辛苦了|好的|好|收到|知道了|明白了|ok|okay|thanks|thank you)$",
    ),
    priority=10,
)
async def chat_thanks(turn: Turn) -> ChatReply:
    return ChatReply(blocks=[TextBlock(text=msg.THANKS)], suggestions=suggestions())
