"""``POST /api/chat``: text or a tapped action in, blocks and quick replies out."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic_ext.extensions.openapi import openapi

from backend.auth.guard import authenticated
from backend.chat import intents, service
from backend.chat.protocol import ChatReply, ChatRequest
from backend.core.actor import Actor
from backend.core.http import ok
from backend.core.validation import body

bp = Blueprint("chat", url_prefix="/api/chat")
intents.load()


@bp.post("/")
@openapi.response(200, {"application/json": ChatReply})
@authenticated()
@body(ChatRequest)
async def chat(request: Request, actor: Actor, data: ChatRequest):
    """One turn of the conversation, within the actor's scope."""
    reply = await service.handle(
        actor,
        actor.session_id,
        text=data.text,
        action=data.action.model_dump() if data.action else None,
    )
    return ok(reply, exclude_none=True)
