"""One chat turn: parse or take the action, check the permission, run the handler, keep context.

Unknown input and refusals come back as blocks with suggestions, never as HTTP errors: a cadre
typing in a village with a weak signal should always get something to tap next.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any

from backend.chat import choices, follow_up, name_index, parser, registry
from backend.chat import messages as msg
from backend.chat.context import CHOICES_ON_PAGE, ChatContext
from backend.chat.params import whole_number
from backend.chat.protocol import ChatReply, NoticeBlock, Suggestion, TextBlock
from backend.core import db
from backend.core.actor import Actor
from backend.core.errors import AppError
from backend.core.roles import allows
from backend.core.tasks import finish_unused

DEFAULT_SUGGESTIONS = (
    Suggestion(label="本单位汇总", text="汇总"),
    Suggestion(label="下级单位", text="下级单位"),
    Suggestion(label="帮助", text="帮助"),
)


def suggestions() -> list[Suggestion]:
    return list(DEFAULT_SUGGESTIONS)


def not_allowed_reply(permission: str | None = None) -> ChatReply:
    """The answer to a question the actor's role may not ask, saying who may (by ``permission``)."""
    text = msg.NOT_ALLOWED + msg.WHO_MAY.get(permission or "", "")
    return ChatReply(blocks=[NoticeBlock(level="warning", text=text)], suggestions=suggestions())


def said(text: str) -> ChatReply:
    """A short answer in words, with the usual quick replies."""
    return ChatReply(blocks=[TextBlock(text=text)], suggestions=suggestions())


def unknown_reply(text: str | None = None) -> ChatReply:
    return said(msg.UNKNOWN)


def _intent_of(text: str | None, action: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    if action is not None:
        return action["intent"], dict(action.get("params") or {})
    if text and (chosen := choices.typed(text)) is not None:  # "第二个", "是的": resolved in _turn
        return choices.CHOICE, chosen
    parsed = parser.parse(text or "")
    return parsed.intent, parsed.params


async def _choices_shown(actor: Actor, context: ChatContext) -> choices.Shown | None:
    """The choices of the answer on screen: its recorded buttons, or the rows of its table page,
    seen by running that page again (in a scratch context: it writes nothing)."""
    raw = await context.choices()
    if raw != CHOICES_ON_PAGE:
        return choices.read(raw)
    table = await context.table()
    if table is None:
        return None
    again = await _turn(actor, context.scratch(), table.intent, table.page(table.start), None)
    return choices.shown(again)


async def _chosen(
    actor: Actor, context: ChatContext, params: dict[str, Any], text: str | None
) -> tuple[str, dict[str, Any], str | None] | str:
    """The intent, parameters and text of the turn a typed choice ("第二个", "是的") makes: the button
    it presses (no text: as pressed), or what the parser makes of a yes that chooses nothing; or what
    to say instead (a notice's text)."""
    picked = choices.pick(await _choices_shown(actor, context), params)
    if picked.notice is not None:
        return picked.notice
    if picked.choice is not None:
        return picked.choice.intent, dict(picked.choice.params), None
    if text is None:  # a client's own chat.choice button: nothing typed to parse
        return msg.UNKNOWN
    parsed = parser.parse(text)
    return parsed.intent, parsed.params, text


async def _paged(context: ChatContext, name: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]] | str:
    """The intent and parameters of the page of the last table asked for ("更多", "上一页", "第3页"),
    or why there is none (a notice's text)."""
    table = await context.table()
    if table is None:
        return msg.NO_MORE if name == parser.MORE else msg.NO_TABLE
    if table.starts is None or table.shown is None:  # reached by an older button: only forward
        if name == parser.MORE:
            return msg.NO_MORE if table.cursor is None else (table.intent, table.page(table.cursor))
        return msg.EARLIER_PAGES_ABOVE if name == parser.PREVIOUS_PAGE else msg.PAGES_NOT_KNOWN
    starts, shown = table.starts, table.shown
    if name == parser.MORE:
        wanted = shown + 1
    elif name == parser.PREVIOUS_PAGE:
        if shown == 1:
            return msg.FIRST_PAGE_ALREADY
        wanted = shown - 1
    else:
        wanted = whole_number(params.get("number")) or 0  # typed, or a button's (a client may change it)
        if wanted < 1:
            return msg.NO_PAGE_ZERO
    if wanted <= len(starts):
        return table.intent, table.page(starts[wanted - 1])
    if table.after is None:  # the furthest page seen is the table's last
        return msg.NO_MORE if name == parser.MORE else msg.ONLY_PAGES.format(pages=len(starts))
    if wanted == len(starts) + 1:
        return table.intent, table.page(table.after)
    return msg.PAGE_BY_MORE.format(wanted=wanted)


async def _turn(
    actor: Actor, context: ChatContext, name: str, params: dict[str, Any], text: str | None, *, ahead: bool = False
) -> ChatReply:
    """``ahead``: run before the session is checked (:func:`handle_ahead`); an intent that writes,
    known only now (what a follow-up or "更多" asks), is not started: WriteRefused runs it checked."""
    if name == choices.CHOICE:
        chosen = await _chosen(actor, context, params, text)
        if isinstance(chosen, str):
            return ChatReply(blocks=[NoticeBlock(level="info", text=chosen)], suggestions=suggestions())
        name, params, text = chosen
    if name == parser.FOLLOW_UP:
        name, params = await follow_up.resolve(actor, context, str(params.get("name") or ""))
    if name in (parser.MORE, parser.PREVIOUS_PAGE, parser.PAGE):
        paged = await _paged(context, name, params)
        if isinstance(paged, str):
            return ChatReply(blocks=[NoticeBlock(level="info", text=paged)], suggestions=suggestions())
        name, params = paged
    spec = registry.get(name)
    if spec is None:
        return unknown_reply(text)
    if spec.permission is not None and not allows(actor.role, spec.permission):
        return not_allowed_reply(spec.permission)
    if ahead and spec.writes:
        raise db.WriteRefused(f"{name} waits for the session check")
    context.asking(name, registry.kept_of(spec, params))
    context.showing_page(params.get("cursor"))
    turn = registry.Turn(actor=actor, params=params, context=context, text=text)
    try:
        reply = await spec.handler(turn)
    except AppError as exc:  # a refusal or bad parameter from an action: say it, in the conversation
        if spec.writes and exc.fields:  # a sent form's: answered as an error naming its fields, so the
            raise  # form opens again with each message under its field and what was filled in
        level = "warning" if exc.status < 500 else "error"
        return ChatReply(blocks=[NoticeBlock(level=level, text=exc.message)], suggestions=suggestions())
    offered = choices.shown(reply, asked=name)
    if offered is not None:
        context.offer(choices.record(offered), rows_of_page=not offered.question)
    return reply


async def handle(actor: Actor, *, text: str | None, action: dict[str, Any] | None) -> ChatReply:
    name, params = _intent_of(text, action)
    return await _checked_turn(actor, name, params, text)


async def _checked_turn(actor: Actor, name: str, params: dict[str, Any], text: str | None) -> ChatReply:
    context = ChatContext.of(actor)
    try:
        return await _turn(actor, context, name, params, text)
    finally:
        await context.save()  # what the handler remembered, in one round trip


def _names_current(versions: list[int], seen: int | None, guessed: int | None) -> bool:
    """Did every name index a turn searched (``versions``) hold every change the session check saw
    (``seen``: the log's version it read)? A turn run with the guessed version searched indexes at
    that version or newer."""
    if seen is None:
        return guessed is None  # the check read no version: only a turn that read the log itself
    return all(version >= seen for version in versions)


async def handle_ahead(
    guess: Actor, checking: Awaitable[Actor], *, text: str | None, action: dict[str, Any] | None
) -> ChatReply:
    """The turn of a session whose check (``checking``: the session and its actor read again) is
    still under way, started with ``guess``, the actor this process found for it last time
    (backend.auth.guard.last_actor): the turn's reads and the check's go out together.

    Its answer (or its failure) is given only when the check finds the same actor, and every name
    index the turn searched held the changes the check saw; otherwise the turn runs again with the
    actor found (or the check's refusal is raised) and nothing the first run did is kept. It may only
    read: its context's writes wait until it is known to count, database writes are refused
    (db.reads_only), and intents marked ``writes`` wait for the check before they start (those a
    follow-up asks too, known only once it is resolved: :func:`_turn`).
    """
    name, params = _intent_of(text, action)
    spec = registry.get(name)
    if spec is not None and spec.writes:
        actor = await checking
        return await _checked_turn(actor, name, params, text)
    context = ChatContext.of(guess, held=True)
    versions: list[int] = []
    with db.reads_only(), name_index.noting(versions):
        # its own copy of the parameters: a run again starts from them as parsed
        ahead = asyncio.ensure_future(_turn(guess, context, name, dict(params), text, ahead=True))
    try:
        actor = await checking
    except BaseException:
        await finish_unused(ahead)  # it only reads
        raise
    if replace(actor, names_version=guess.names_version) != guess:  # another role, unit or scope since
        await finish_unused(ahead)  # it only reads
        return await _checked_turn(actor, name, params, text)
    seen = actor.names_version
    if seen is not None and guess.names_version is not None and seen <= guess.names_version:
        context.release()  # no name changed since the guess: the turn counts, its writes may go now
    try:
        reply: ChatReply | None = await ahead
    except db.WriteRefused:  # an intent that writes without saying so: run it again, checked
        reply = None
    except Exception:
        if _names_current(versions, seen, guess.names_version):
            await context.save()  # as a checked turn does: what it remembered is in before the error answers
            raise
        reply = None  # it failed on a name changed since the guess: no answer, it runs again
    except BaseException:
        await context.save()  # as a checked turn does: what it remembered is in before the error answers
        raise
    if reply is not None and not _names_current(versions, seen, guess.names_version):
        reply = None  # a name changed since the guess and a lookup missed it
    if reply is None:
        await context.save()  # what went out before the run was known not to count (never a change)
        return await _checked_turn(actor, name, params, text)
    context.release()
    await context.save()
    return reply
