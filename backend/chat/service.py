"""One chat turn: parse or take the action, check the permission, run the handler, keep context.

Unknown input and refusals come back as blocks with suggestions, never as HTTP errors: a cadre
typing in a village with a weak signal should always get something to tap next.
"""

from __future__ import annotations

from typing import Any

from backend.chat import messages as msg
from backend.chat import parser, registry
from backend.chat.context import ChatContext
from backend.chat.protocol import ChatReply, NoticeBlock, Suggestion, TextBlock
from backend.core.actor import Actor
from backend.core.errors import AppError
from backend.core.roles import allows

DEFAULT_SUGGESTIONS = (
    Suggestion(label="本单位汇总", text="汇总"),
    Suggestion(label="下级单位", text="下级单位"),
    Suggestion(label="帮助", text="帮助"),
)


def suggestions() -> list[Suggestion]:
    return list(DEFAULT_SUGGESTIONS)


def unknown_reply(text: str | None = None) -> ChatReply:
    return ChatReply(blocks=[TextBlock(text=msg.UNKNOWN)], suggestions=suggestions())


async def handle(actor: Actor, session_key: str, *, text: str | None, action: dict[str, Any] | None) -> ChatReply:
    context = ChatContext(session_key)
    if action is not None:
        name, params = action["intent"], dict(action.get("params") or {})
    else:
        parsed = parser.parse(text or "")
        name, params = parsed.intent, parsed.params
    if name == parser.MORE:
        following = await context.next_page()
        if following is None:
            return ChatReply(blocks=[NoticeBlock(level="info", text=msg.NO_MORE)], suggestions=suggestions())
        name, params = following
    spec = registry.get(name)
    if spec is None:
        return unknown_reply(text)
    if spec.permission is not None and not allows(actor.role, spec.permission):
        return ChatReply(blocks=[NoticeBlock(level="warning", text=msg.NOT_ALLOWED)], suggestions=suggestions())
    turn = registry.Turn(actor=actor, params=params, context=context, text=text)
    try:
        return await spec.handler(turn)
    except AppError as exc:  # a refusal or bad parameter from an action: say it, in the conversation
        level = "warning" if exc.status < 500 else "error"
        return ChatReply(blocks=[NoticeBlock(level=level, text=exc.message)], suggestions=suggestions())
    finally:
        await context.save()  # what the handler remembered, in one round trip
