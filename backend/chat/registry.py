"""Intents: each domain registers its handlers (and the phrases that reach them) with :func:`intent`.

A handler gets a :class:`Turn` (the actor, the parameters, the conversation context) and answers a
:class:`~backend.chat.protocol.ChatReply`. Text reaches an intent through its ``patterns``: regular
expressions tried in ``priority`` order (lower first) against the normalised text; named groups
become parameters. Buttons reach it directly by name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from backend.chat.context import ChatContext
from backend.chat.gated import GatedPattern, gated
from backend.chat.protocol import ChatReply
from backend.core.actor import Actor


@dataclass
class Turn:
    actor: Actor
    params: dict[str, Any]
    context: ChatContext
    text: str | None = None


Handler = Callable[[Turn], Awaitable[ChatReply]]


@dataclass(frozen=True)
class IntentSpec:
    name: str
    handler: Handler
    permission: str | None
    patterns: tuple[GatedPattern, ...] = field(default_factory=tuple)
    priority: int = 100
    pageable: bool = False  # answers a table that "更多" can continue (takes a ``cursor`` param)
    writes: bool = False  # may change data: never started before the session is checked again
    # The parameter that names what the question is about, by name: a unit, or a person when
    # ``subject_people``. A follow-up ("李家坪村呢") asks the same question about another (chat.follow_up).
    subject: str | None = None
    subject_people: bool = False
    # Parameters that narrow the question ("管理员" of "王家湾村的管理员是谁"): a follow-up about
    # another unit keeps them.
    kept: tuple[str, ...] = ()


_INTENTS: dict[str, IntentSpec] = {}


def intent(
    name: str,
    *,
    patterns: tuple[str, ...] = (),
    permission: str | None = None,
    priority: int = 100,
    pageable: bool = False,
    writes: bool = False,
    subject: str | None = None,
    subject_people: bool = False,
    kept: tuple[str, ...] = (),
) -> Callable[[Handler], Handler]:
    """Register ``handler`` as intent ``name``; a permission from backend.core.roles gates it.

    ``writes``: the handler calls an action that changes data (backend.chat.service.handle_ahead
    runs it only once the session is checked; a write it missed is refused there all the same).
    ``subject``: the parameter that names the unit (a person: ``subject_people``) it is asked about;
    ``kept``: the parameters a follow-up about another subject asks again."""

    def register(handler: Handler) -> Handler:
        if name in _INTENTS and _INTENTS[name].handler is not handler:
            raise ValueError(f"intent {name} registered twice")
        compiled = tuple(gated(p) for p in patterns)
        _INTENTS[name] = IntentSpec(
            name, handler, permission, compiled, priority, pageable, writes, subject, subject_people, kept
        )
        _ORDER.clear()
        return handler

    return register


def get(name: str) -> IntentSpec | None:
    return _INTENTS.get(name)


def kept_of(spec: IntentSpec, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters of a question that a follow-up about another subject keeps (``spec.kept``)."""
    return {key: params[key] for key in spec.kept if params.get(key) is not None}


async def answer_as(turn: Turn, name: str, params: dict[str, Any]) -> ChatReply:
    """The turn answered as intent ``name`` with ``params`` (a question asked again in other words:
    "前5名" is the ranking shown, by five): it is remembered as that question, as the chat service
    remembers every intent it runs, so a follow-up asks it again."""
    spec = get(name)
    if spec is None:
        raise KeyError(name)
    turn.context.asking(name, kept_of(spec, params))
    return await spec.handler(Turn(turn.actor, params, turn.context, turn.text))


_ORDER: list[IntentSpec] = []  # by_priority's, made again after a registration


def by_priority() -> list[IntentSpec]:
    if not _ORDER:
        _ORDER.extend(sorted((s for s in _INTENTS.values() if s.patterns), key=lambda s: (s.priority, s.name)))
    return _ORDER


# Answers to a bare name that is no unit's and no person's in scope, tried in order by the name
# lookup before it says "not found": a domain registers its own (backend.coops.chat: the contact
# person of a co-op's card, "范雪丽"). Each checks what the actor may see and answers None otherwise.
NameAnswer = Callable[[Turn, str], Awaitable[ChatReply | None]]
_OTHER_NAMES: list[NameAnswer] = []


def answers_names(answer: NameAnswer) -> NameAnswer:
    _OTHER_NAMES.append(answer)
    return answer


async def answer_other_name(turn: Turn, name: str) -> ChatReply | None:
    for answer in _OTHER_NAMES:
        if (reply := await answer(turn, name)) is not None:
            return reply
    return None
