"""``POST /api/chat``: text or a tapped action in, blocks and quick replies out."""

from __future__ import annotations

import asyncio

from sanic import Blueprint, Request
from sanic_ext.extensions.openapi import openapi

from backend.auth.guard import last_actor, session_actor
from backend.chat import intents, service
from backend.chat.protocol import ChatReply, ChatRequest, named_by_param
from backend.core.errors import AppError, ValidationFailed
from backend.core.http import ok
from backend.core.validation import parse_body, reads_input

bp = Blueprint("chat", url_prefix="/api/chat")
intents.load()


@bp.post("/")
@reads_input(body=True)  # parsed alongside the session check, not before it
@openapi.response(200, {"application/json": ChatReply})
@openapi.body({"application/json": ChatRequest}, required=True)
@openapi.secured("session")
async def chat(request: Request):
    """One turn of the conversation, within the actor's scope.

    The session is checked as every route checks it (backend.auth.guard); for a session this
    process has seen, the turn starts alongside that check with the actor found last time and
    answers only if the check finds the same (backend.chat.service.handle_ahead).
    """
    guess = last_actor(request)
    checking = asyncio.ensure_future(session_actor(request))
    # A refusal nobody awaits (the client went away mid-turn) is not logged as never retrieved.
    checking.add_done_callback(lambda task: task.cancelled() or task.exception())
    try:
        data = parse_body(request, ChatRequest)
    except AppError as exc:
        await checking  # a request without a valid session is refused as such first
        raise named_by_param(exc) if isinstance(exc, ValidationFailed) else exc from None
    action = data.action.model_dump() if data.action else None
    if guess is None:
        actor = await checking
        reply = await service.handle(actor, text=data.text, action=action)
    else:
        reply = await service.handle_ahead(guess, checking, text=data.text, action=action)
    return ok(reply, exclude_none=True)
