"""Unit self-registrations (P12) in chat, for the admins of the superior a unit asked to join or
above (the mini-program has no other screen for them): "注册审批" (also "待审批的注册", "单位注册申请")
lists the registrations awaiting a decision in scope, "更多" pages; a row (or "注册申请 12") opens its
card: the unit, its type and credit code, the legal representative and the admin with their ID
number and phone masked, the superior it asked to join. "通过" confirms first with what approval
creates, "驳回" asks for a reason. Every step is the API's own action or query
(backend.registration.actions): the same rights, scope, audit and refusals, each said as a notice.
"""

from __future__ import annotations

from backend.chat.parser import ASK_WORD
from backend.chat.protocol import (
    Action,
    CardBlock,
    ChatReply,
    FormBlock,
    FormField,
    KeyValue,
    NoticeBlock,
    TableBlock,
)
from backend.chat.registry import Turn, intent
from backend.chat.service import suggestions
from backend.core.clock import china_minute
from backend.core.errors import AppError
from backend.core.validation import text_values
from backend.registration import actions, queries
from backend.registration import messages as msg
from backend.registration.models import RegistrationStatus, UnitRegistration
from backend.registration.schemas import RegistrationOut, RejectRequest
from backend.registration.serializers import registration_out, registration_row
from backend.units.chat import int_param, required_id, type_label

PAGE_SIZE = 10
PERMISSION = "units.manage"  # the API's (backend.registration.routes)


@intent(
    "registration.list",
    patterns=(
        ASK_WORD + r"(?:有哪些|有没有|还有)?待审批的?(?:单位)?注册(?:申请)?(?:有哪些|列表)?$",
        ASK_WORD + r"(?:单位)?注册(?:申请)?的?审批(?:列表)?$",
        ASK_WORD + r"(?:有哪些|有没有|还有)?单位注册(?:的)?申请(?:有哪些|列表)?$",
    ),
    permission=PERMISSION,
    priority=40,
    pageable=True,
)
async def registration_list(turn: Turn) -> ChatReply:
    """The pending registrations asking to join a unit in scope, oldest first (the API's list)."""
    cursor = int_param(turn.params, "cursor")
    page = await queries.list_pending(turn.actor, cursor=cursor, limit=PAGE_SIZE)
    await turn.context.remember_page("registration.list", {}, page.next_cursor)
    if not page.items:
        text = msg.CHAT_NONE if cursor is None else msg.CHAT_NO_MORE
        return ChatReply(blocks=[NoticeBlock(text=text)], suggestions=suggestions())
    rows = [registration_row(registration) for registration in page.items]
    table = TableBlock(
        title=msg.CHAT_TITLE,
        columns=msg.CHAT_COLUMNS,
        rows=[
            [row.unit_name, type_label(row.unit_type), row.superior_name, row.admin_name, china_minute(row.created_at)]
            for row in rows
        ],
        row_actions=[
            Action(label=row.unit_name, intent="registration.card", params={"registration_id": row.id}) for row in rows
        ],
        total=page.total if cursor is None else None,
        more=Action(label=msg.CHAT_BUTTON_MORE, intent="registration.list", params={"cursor": page.next_cursor})
        if page.next_cursor is not None
        else None,
    )
    return ChatReply(blocks=[table], suggestions=suggestions())


def _fields(shown: RegistrationOut) -> list[KeyValue]:
    """The registration as the API's view shows it (ID numbers and the phone masked)."""
    admin_number = shown.admin_phone
    values = [
        (msg.CHAT_FIELD_STATUS, msg.CHAT_STATUS_LABELS[shown.status.value]),
        (msg.CHAT_FIELD_UNIT, shown.unit_name),
        (msg.CHAT_FIELD_TYPE, type_label(shown.unit_type)),
        (msg.CHAT_FIELD_CREDIT_CODE, shown.credit_code),
        (msg.CHAT_FIELD_REGION_CODE, shown.region_code),
        (msg.CHAT_FIELD_LEGAL_REP, msg.CHAT_PERSON.format(name=shown.legal_rep_name, number=shown.legal_rep_id_number)),
        (msg.CHAT_FIELD_ADMIN, msg.CHAT_PERSON.format(name=shown.admin_name, number=admin_number)),
        (msg.CHAT_FIELD_ADMIN_USERNAME, shown.admin_username),
        (msg.CHAT_FIELD_SUPERIOR, shown.superior_name),
        (msg.CHAT_FIELD_SUBMITTED, china_minute(shown.created_at)),
        (msg.CHAT_FIELD_DECIDED, china_minute(shown.decided_at) if shown.decided_at else None),
        (msg.CHAT_FIELD_REASON, shown.decision_reason),
    ]
    return [KeyValue(label=label, value=value) for label, value in values if value]


def _on_approve(shown: RegistrationOut) -> str:
    return msg.CHAT_ON_APPROVE.format(
        superior=shown.superior_name,
        type=type_label(shown.unit_type),
        unit=shown.unit_name,
        username=shown.admin_username,
    )


@intent(
    "registration.card",
    patterns=(ASK_WORD + r"(?:单位)?注册(?:申请|审批)\s*(?:第\s*)?(?P<registration_id>[0-9]{1,9})\s*号?$",),
    permission=PERMISSION,
    priority=40,
)
async def registration_card(turn: Turn) -> ChatReply:
    """One registration in scope (the API's view); a pending one with "通过" and "驳回"."""
    shown = registration_out(await queries.get_registration(turn.actor, required_id(turn.params, "registration_id")))
    pending = shown.status == RegistrationStatus.PENDING
    params = {"registration_id": shown.id}
    buttons = (
        [
            Action(
                label=msg.CHAT_BUTTON_APPROVE,
                intent="registration.approve",
                params=params,
                style="primary",
                confirm=_on_approve(shown),
            ),
            Action(label=msg.CHAT_BUTTON_REJECT, intent="registration.reject_form", params=params, style="danger"),
        ]
        if pending
        else []
    )
    card = CardBlock(
        title=msg.CHAT_CARD_TITLE.format(unit=shown.unit_name),
        subtitle=_on_approve(shown) if pending else None,
        fields=_fields(shown),
        actions=buttons,
    )
    return ChatReply(blocks=[card], suggestions=suggestions())


@intent("registration.reject_form", permission=PERMISSION)
async def registration_reject_form(turn: Turn) -> ChatReply:
    """The reason to reject with (a registration in scope); "驳回" sends ``registration.reject``."""
    registration = await queries.get_registration(turn.actor, required_id(turn.params, "registration_id"))
    form = FormBlock(
        title=msg.CHAT_REJECT_TITLE.format(unit=registration.unit_name),
        fields=[FormField(name="reason", label=msg.CHAT_FIELD_REASON, kind="textarea")],
        submit=Action(
            label=msg.CHAT_BUTTON_REJECT,
            intent="registration.reject",
            params={"registration_id": registration.id},
            style="danger",
        ),
    )
    return ChatReply(blocks=[NoticeBlock(text=msg.CHAT_REJECT_HINT), form], suggestions=suggestions())


async def _decided(turn: Turn, text: str) -> ChatReply:
    """The decision said, then what still awaits one."""
    reply = await registration_list(Turn(turn.actor, {}, turn.context, turn.text))
    return reply.model_copy(update={"blocks": [NoticeBlock(level="success", text=text), *reply.blocks]})


@intent("registration.approve", permission=PERMISSION, writes=True)
async def registration_approve(turn: Turn) -> ChatReply:
    """The "通过" button, once confirmed: the API's approval under the superior asked for (the unit, its admin
    account and membership; the registrant told by SMS)."""
    try:
        registration: UnitRegistration = await actions.approve(turn.actor, required_id(turn.params, "registration_id"))
    except AppError as exc:
        if not exc.fields:
            raise
        # A refusal naming a field (the admin's user name taken since): a button has no form to show
        # it under, so it is said as the others are (backend.chat.service: a notice).
        raise AppError(exc.code, exc.message, status=exc.status) from exc
    text = msg.CHAT_APPROVED.format(unit=registration.unit_name, username=registration.admin_username)
    return await _decided(turn, text)


@intent("registration.reject", permission=PERMISSION, writes=True)
async def registration_reject(turn: Turn) -> ChatReply:
    """The reason form sent back: checked as the API checks its body (422 naming it, so the form
    opens again), then the API's rejection (the reason to the registrant by SMS)."""
    registration_id = required_id(turn.params, "registration_id")
    reason = turn.params.get("reason")
    data = text_values(RejectRequest, {} if reason in (None, "") else {"reason": reason})
    registration = await actions.reject(turn.actor, registration_id, reason=data.reason)
    return await _decided(turn, msg.CHAT_REJECTED.format(unit=registration.unit_name))
