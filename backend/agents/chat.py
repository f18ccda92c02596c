"""Agents (R6) in chat, for the mini-program: "经办人" lists a unit's agents, "添加经办人" answers a form
(phone, name, ID number for a new phone, role; a registered person then gets a code by SMS, and a
second form takes it), and a row's "解除绑定" shows what will happen with a button that confirms it.
Every step is the API's own action (backend.agents.actions): the same rights, scope, tickets and SMS.
"""

from __future__ import annotations

from typing import Any

from backend.accounts.actions import may_assign
from backend.accounts.chat import unit_meant
from backend.agents import actions
from backend.agents import messages as msg
from backend.agents.queries import list_agents
from backend.agents.schemas import AgentAdd, AgentConfirm, AgentOut
from backend.agents.serializers import agent_out, consent_asked, unbind_preview
from backend.chat.parser import ASK, ASK_WORD
from backend.chat.protocol import (
    Action,
    CardBlock,
    ChatReply,
    FormBlock,
    FormField,
    KeyValue,
    NoticeBlock,
    Suggestion,
    TableBlock,
)
from backend.chat.registry import Turn, intent
from backend.chat.service import suggestions
from backend.core.errors import AppError
from backend.core.roles import ROLE_LABELS, Role, allows
from backend.core.validation import text_values
from backend.units.chat import int_param
from backend.units.models import Unit

PAGE_SIZE = 10
_AGENT = r"(?:经办人|代办人)"


def _agents_suggestions(unit: Unit, *, manage: bool) -> list[Suggestion]:
    if not manage:
        return suggestions()
    add = Action(label=msg.CHAT_BUTTON_ADD, intent="agent.form", params={"unit_id": unit.id})
    return [Suggestion(label=msg.CHAT_BUTTON_ADD, action=add), *suggestions()]


@intent(
    "agent.list",
    patterns=(
        ASK_WORD + rf"(?:本单位的?)?{_AGENT}(?:有哪些|有谁|列表|名单)?$",
        ASK + rf"(?P<name>.{{1,20}}?)的{_AGENT}(?:有哪些|有谁|列表|名单)?$",
        ASK + rf"(?P<name>.{{1,20}}?)有(?:哪些|几个){_AGENT}$",
    ),
    permission="accounts.view",
    priority=40,
    pageable=True,
    subject="name",
)
async def agent_list(turn: Turn) -> ChatReply:
    """Everyone who works for a unit (named, else the one the last answer showed, else its own:
    backend.accounts.chat.unit_meant), phones masked; "更多" pages."""
    unit = await unit_meant(turn, "agent.list")
    if isinstance(unit, ChatReply):
        return unit
    cursor = int_param(turn.params, "cursor")
    page = await list_agents(turn.actor, unit.id, cursor=cursor, limit=PAGE_SIZE)
    params = {"unit_id": unit.id}
    await turn.context.remember_unit(unit.id, unit.name)
    await turn.context.remember_page("agent.list", params, page.next_cursor)
    manage = allows(turn.actor.role, "accounts.manage")
    if not page.items:
        text = msg.CHAT_NONE.format(unit=unit.name) if cursor is None else msg.CHAT_NO_MORE
        return ChatReply(blocks=[NoticeBlock(text=text)], suggestions=_agents_suggestions(unit, manage=manage))
    agents = [agent_out(m) for m in page.items]
    table = TableBlock(
        title=msg.CHAT_TITLE.format(unit=unit.name),
        columns=msg.CHAT_COLUMNS,
        rows=[[_shown_name(a), a.username, a.phone or msg.CHAT_NO_PHONE, a.role_label] for a in agents],
        row_actions=[_unbind_action(turn, unit, a) for a in agents] if manage else None,
        total=page.total if cursor is None else None,
        more=Action(label=msg.CHAT_BUTTON_MORE, intent="agent.list", params={**params, "cursor": page.next_cursor})
        if page.next_cursor is not None
        else None,
    )
    return ChatReply(blocks=[table], suggestions=_agents_suggestions(unit, manage=manage), context=unit.name)


def _shown_name(agent: AgentOut) -> str:
    return agent.name if agent.is_active else agent.name + msg.CHAT_DEACTIVATED


def _unbind_action(turn: Turn, unit: Unit, agent: AgentOut) -> Action | None:
    """A row's "解除绑定"; none where it is always refused: the admin's own row, a peer's or a
    superior's (backend.accounts.actions.may_assign), a deactivated agent's."""
    actor = turn.actor
    if agent.account_id == actor.account_id or not agent.is_active or not may_assign(actor, unit, agent.role):
        return None
    params = {"unit_id": agent.unit_id, "account_id": agent.account_id}
    return Action(label=msg.CHAT_BUTTON_UNBIND, intent="agent.unbind", params=params)


_ROLES = [KeyValue(label=ROLE_LABELS[role], value=role.value) for role in (Role.CLERK, Role.VIEWER)]


@intent(
    "agent.form",
    patterns=(
        ASK_WORD + rf"(?:添加|新增|增加|加一个|加个|登记)(?:一个|一名|一位)?{_AGENT}$",
        ASK + rf"(?:给|为)?(?P<name>.{{1,20}}?)(?:添加|新增|增加)(?:一个|一名|一位)?{_AGENT}$",
    ),
    permission="accounts.manage",
    priority=40,
    subject="name",
)
async def agent_form(turn: Turn) -> ChatReply:
    """The form to add an agent to a unit (as the list's: backend.accounts.chat.unit_meant):
    "保存" sends ``agent.add``."""
    unit = await unit_meant(turn, "agent.form")
    if isinstance(unit, ChatReply):
        return unit
    await turn.context.remember_unit(unit.id, unit.name)
    form = FormBlock(
        title=msg.CHAT_FORM_TITLE.format(unit=unit.name),
        fields=[
            FormField(name="phone", label=msg.CHAT_FIELD_PHONE, kind="phone"),
            FormField(name="name", label=msg.CHAT_FIELD_NAME),
            FormField(name="id_number", label=msg.CHAT_FIELD_ID_NUMBER, kind="id_number", required=False),
            FormField(name="role", label=msg.CHAT_FIELD_ROLE, kind="select", options=_ROLES, value=Role.CLERK.value),
        ],
        submit=Action(label=msg.CHAT_BUTTON_ADD, intent="agent.add", params={"unit_id": unit.id}, style="primary"),
    )
    return ChatReply(blocks=[NoticeBlock(text=msg.CHAT_FORM_HINT), form], suggestions=suggestions(), context=unit.name)


@intent("agent.add", permission="accounts.manage", writes=True)
async def agent_add(turn: Turn) -> ChatReply:
    """The form sent back: the API's add (a new phone gets an account and a temporary password by
    SMS; a registered person gets a code, asked for by the next form). A refused field answers 422
    naming it, so the form opens again with the message under it."""
    unit_id = int_param(turn.params, "unit_id")
    if unit_id is None:
        raise AppError("bad_param", msg.CHAT_BAD_PARAM)
    data = _form(turn.params)
    added = await actions.add_agent(
        turn.actor,
        unit_id,
        phone=data.phone,
        name=data.name,
        id_number=data.id_number,
        role=Role(data.role),
    )
    if isinstance(added, actions.ConsentAsked):
        return await _code_form(turn, unit_id, added)
    return await _added(turn, unit_id, added)


async def _code_form(turn: Turn, unit_id: int, asked: actions.ConsentAsked) -> ChatReply:
    """The code sent to a registered person: a form for it whose "确认添加" sends ``agent.confirm``."""
    unit = await Unit.get(id=unit_id)  # in scope: the add just read it
    form = FormBlock(
        title=msg.CHAT_CODE_TITLE.format(unit=unit.name),
        fields=[FormField(name="code", label=msg.CHAT_FIELD_CODE)],
        submit=Action(
            label=msg.CHAT_BUTTON_CONFIRM_ADD,
            intent="agent.confirm",
            params={"unit_id": unit_id, "ticket": asked.ticket},
            style="primary",
        ),
    )
    notice = NoticeBlock(text=consent_asked(asked).notice)
    return ChatReply(blocks=[notice, form], suggestions=suggestions(), context=unit.name)


@intent("agent.confirm", permission="accounts.manage", writes=True)
async def agent_confirm(turn: Turn) -> ChatReply:
    """The code form sent back: the API's confirmation (a wrong code answers 422 under the field)."""
    unit_id = int_param(turn.params, "unit_id")
    if unit_id is None:
        raise AppError("bad_param", msg.CHAT_BAD_PARAM)
    sent = {name: turn.params[name] for name in ("ticket", "code") if turn.params.get(name) not in (None, "")}
    data = text_values(AgentConfirm, sent)
    added = await actions.confirm_add(turn.actor, unit_id, ticket=data.ticket, code=data.code)
    return await _added(turn, unit_id, added)


async def _added(turn: Turn, unit_id: int, added: actions.AddedAgent) -> ChatReply:
    """Who joined, above the unit's list."""
    agent = agent_out(added.membership)
    done = msg.CHAT_ADDED_NEW if added.new_account else msg.CHAT_ADDED_EXISTING
    text = done.format(name=agent.name, username=agent.username, unit=agent.unit_name)
    reply = await agent_list(Turn(turn.actor, {"unit_id": unit_id}, turn.context, turn.text))
    return reply.model_copy(update={"blocks": [NoticeBlock(level="success", text=text), *reply.blocks]})


def _form(params: dict[str, Any]) -> AgentAdd:
    """The form's fields checked as the API checks its body (422 naming each one that is wrong)."""
    sent = {name: params[name] for name in ("phone", "name", "id_number", "role") if params.get(name) not in (None, "")}
    return text_values(AgentAdd, sent)


@intent("agent.unbind", permission="accounts.manage", writes=True)
async def agent_unbind(turn: Turn) -> ChatReply:
    """A row's "解除绑定": what will happen, and the button that confirms it (the ticket of step one,
    2 minutes, this session only); with ``ticket``, the confirmation itself."""
    unit_id, account_id = int_param(turn.params, "unit_id"), int_param(turn.params, "account_id")
    if unit_id is None or account_id is None:
        raise AppError("bad_param", msg.CHAT_BAD_PARAM)
    ticket = turn.params.get("ticket")
    if ticket is None:
        preview = unbind_preview(await actions.request_unbind(turn.actor, unit_id, account_id))
        confirm = Action(
            label=msg.CHAT_BUTTON_CONFIRM,
            intent="agent.unbind",
            params={"unit_id": unit_id, "account_id": account_id, "ticket": preview.ticket},
            style="danger",
        )
        card = CardBlock(title=msg.CHAT_CONFIRM_TITLE, subtitle=preview.notice, actions=[confirm])
        return ChatReply(blocks=[card], suggestions=suggestions())
    if not isinstance(ticket, str):
        raise AppError("bad_param", msg.CHAT_BAD_PARAM)
    await actions.confirm_unbind(turn.actor, unit_id, account_id, ticket=ticket)
    reply = await agent_list(Turn(turn.actor, {"unit_id": unit_id}, turn.context, turn.text))
    return reply.model_copy(update={"blocks": [NoticeBlock(level="success", text=msg.CHAT_UNBOUND), *reply.blocks]})
