"""Manual reviews (R5) in chat, for the admins above a request's unit (the mini-program has no other
screen for them): "待审核" (also "人工审核", "审核申请", "有哪些待审核的", "有待审核的吗", "待审批"
with a chip for the unit registrations waiting too, "找回密码的审核" or "待审核的找回密码申请" for
one kind) lists the pending requests in scope, "更多" pages; a row (or "审核 12") opens the request's
card, requester details masked, the identity checks, the statement, the images and what approval
will do, its opening audited as the API's view. "通过" confirms with that text first, "驳回" asks
for a reason; one button per image is the mini-program's own (``review.image``: it downloads the
image with the session and previews it). Every step is the API's own action
(backend.reviews.actions): the same rights, scope, audit and refusals, each said as a notice.
"""

from __future__ import annotations

from typing import Any

from backend.chat.parser import ASK_WORD
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
from backend.core import identifiers
from backend.core.clock import CHINA_TIME, china_minute
from backend.core.validation import text_values
from backend.reviews import actions, queries
from backend.reviews import messages as msg
from backend.reviews.models import ReviewKind, ReviewRequest, ReviewStatus
from backend.reviews.schemas import RejectRequest, ReviewDetail
from backend.reviews.serializers import review_detail, review_row
from backend.units.chat import int_param, required_id

PAGE_SIZE = 10
PERMISSION = "accounts.manage"  # the API's (backend.reviews.routes)
_KINDS = {label: kind for kind, label in msg.KIND_LABELS.items()}  # "找回密码" -> "password"
_KIND_WORD = "|".join(_KINDS)


def _kind(turn: Turn) -> ReviewKind | None:
    """The kind asked about: a typed "找回密码的审核" (its label), or a button's ``kind``."""
    word = turn.params.get("kind_word")
    kind = _KINDS.get(word) if isinstance(word, str) else turn.params.get("kind")
    return ReviewKind(kind) if isinstance(kind, str) and kind in msg.KIND_LABELS else None


_WHETHER = r"(?:有哪些|有没有|还有|有)?"  # "有待审核的吗"
_ASKED = r"(?:有哪些|列表)?的?(?:吗|么|没有|没)?$"


@intent(
    "review.list",
    patterns=(
        ASK_WORD + _WHETHER + r"(?:待审核|人工审核|待审)的?(?:申请)?" + _ASKED,
        ASK_WORD + r"审核申请(?:列表)?$",
        ASK_WORD + rf"(?P<kind_word>{_KIND_WORD})的?(?:人工)?(?:审核|申请)(?:申请)?$",
        ASK_WORD + _WHETHER + rf"(?:待审核|人工审核|待审)的?(?P<kind_word>{_KIND_WORD})的?(?:申请|审核)?" + _ASKED,
        # "待审批" alone: what waits for the actor, reviews first, the registrations one tap away
        ASK_WORD + _WHETHER + r"(?P<approvals>待审批)的?(?:申请|事项)?" + _ASKED,
    ),
    permission=PERMISSION,
    priority=40,
    pageable=True,
)
async def review_list(turn: Turn) -> ChatReply:
    """The pending requests about units below the actor's own, oldest first, masked (the API's list).
    Asked as "待审批", a chip opens the unit registrations waiting too (backend.registration.chat)."""
    chips = suggestions()
    if turn.params.get("approvals"):
        registrations = Action(label=msg.CHAT_SUGGEST_REGISTRATIONS, intent="registration.list")
        chips.insert(0, Suggestion(label=msg.CHAT_SUGGEST_REGISTRATIONS, action=registrations))
    kind = _kind(turn)
    cursor = int_param(turn.params, "cursor")
    page = await queries.list_reviews(
        turn.actor, status=ReviewStatus.PENDING, kind=kind, cursor=cursor, limit=PAGE_SIZE
    )
    params: dict[str, Any] = {"kind": kind.value} if kind else {}
    await turn.context.remember_page("review.list", params, page.next_cursor)
    label = msg.KIND_LABELS[kind.value] if kind else None
    if not page.items:
        if cursor is not None:
            text = msg.CHAT_NO_MORE
        else:
            text = msg.CHAT_NONE_KIND.format(kind=label) if label else msg.CHAT_NONE
        return ChatReply(blocks=[NoticeBlock(text=text)], suggestions=chips)
    rows = [review_row(review) for review in page.items]
    table = TableBlock(
        title=msg.CHAT_TITLE_KIND.format(kind=label) if label else msg.CHAT_TITLE,
        columns=msg.CHAT_COLUMNS,
        rows=[[row.kind_label, row.name, row.unit_name, china_minute(row.created_at)] for row in rows],
        row_actions=[Action(label=row.name, intent="review.card", params={"review_id": row.id}) for row in rows],
        total=page.total if cursor is None else None,
        more=Action(label=msg.CHAT_BUTTON_MORE, intent="review.list", params={**params, "cursor": page.next_cursor})
        if page.next_cursor is not None
        else None,
    )
    return ChatReply(blocks=[table], suggestions=chips)


def _check(value: bool | None) -> str:
    if value is None:
        return msg.CHAT_CHECK_NOTHING
    return msg.CHAT_CHECK_MATCH if value else msg.CHAT_CHECK_MISMATCH


def _images(detail: ReviewDetail) -> str:
    if detail.images_removed_at is not None:
        return msg.CHAT_IMAGES_REMOVED.format(at=detail.images_removed_at.astimezone(CHINA_TIME).strftime("%Y-%m-%d"))
    return msg.CHAT_IMAGES.format(count=len(detail.images))


def _fields(detail: ReviewDetail) -> list[KeyValue]:
    """The request as the card shows it: the requester's phone and ID number masked, as in the list."""
    shown = [
        (msg.CHAT_FIELD_KIND, detail.kind_label),
        (msg.CHAT_FIELD_STATUS, detail.status_label),
        (msg.CHAT_FIELD_NAME, detail.name),
        (msg.CHAT_FIELD_PHONE, identifiers.mask_phone(detail.phone)),
        (msg.CHAT_FIELD_ID_NUMBER, identifiers.mask_id_number(detail.id_number)),
        (msg.CHAT_FIELD_UNIT, detail.unit.name),
        (msg.CHAT_FIELD_ACCOUNT, detail.account.username if detail.account else None),
        *((msg.CHAT_CHECK_LABELS[name], _check(value)) for name, value in detail.checks.model_dump().items()),
        (msg.CHAT_FIELD_STATEMENT, detail.statement),
        (msg.CHAT_FIELD_IMAGES, _images(detail)),
        (msg.CHAT_FIELD_SUBMITTED, china_minute(detail.created_at)),
        (msg.CHAT_FIELD_DECIDED, china_minute(detail.decided_at) if detail.decided_at else None),
        (msg.CHAT_FIELD_REASON, detail.decision_reason),
    ]
    return [KeyValue(label=label, value=value) for label, value in shown if value]


def _buttons(detail: ReviewDetail, *, approvable: bool) -> list[Action]:
    """A pending request's: "通过" (confirming with what it will do; none when only rejection is
    possible), "驳回", and one per image for the mini-program to open. A decided one has none."""
    if detail.status != ReviewStatus.PENDING:
        return []
    params = {"review_id": detail.id}
    buttons = [Action(label=msg.CHAT_BUTTON_REJECT, intent="review.reject_form", params=params, style="danger")]
    if approvable:
        approve = Action(
            label=msg.CHAT_BUTTON_APPROVE,
            intent="review.approve",
            params=params,
            style="primary",
            confirm=detail.on_approve,
        )
        buttons.insert(0, approve)
    if detail.images_removed_at is None:
        buttons += [
            Action(
                label=msg.CHAT_BUTTON_IMAGE.format(index=image.index),
                intent="review.image",
                params={"review_id": detail.id, "index": image.index},
            )
            for image in detail.images
        ]
    return buttons


@intent(
    "review.card",
    patterns=(ASK_WORD + r"(?:审核|审核申请|人工审核)\s*(?:第\s*)?(?P<review_id>[0-9]{1,9})\s*号?$",),
    permission=PERMISSION,
    priority=40,
    writes=True,  # the opening's audit entry: never before the session is checked again
)
async def review_card(turn: Turn) -> ChatReply:
    """One request, opened by the API's action (audited as a reveal), shown masked."""
    opened = await actions.open_review(turn.actor, required_id(turn.params, "review_id"))
    detail = review_detail(opened, image_url=f"/api/reviews/{opened.review.id}/images/{{index}}")
    approvable = opened.plan is not None and opened.plan.mode != queries.ApprovalMode.UNAVAILABLE
    card = CardBlock(
        title=msg.CHAT_CARD_TITLE.format(kind=detail.kind_label, name=detail.name),
        subtitle=detail.on_approve,
        fields=_fields(detail),
        actions=_buttons(detail, approvable=approvable),
    )
    return ChatReply(blocks=[card], suggestions=suggestions())


@intent("review.reject_form", permission=PERMISSION)
async def review_reject_form(turn: Turn) -> ChatReply:
    """The reason to reject with (a request in scope); "驳回" sends ``review.reject``."""
    review = await queries.get_review(turn.actor, required_id(turn.params, "review_id"))
    form = FormBlock(
        title=msg.CHAT_REJECT_TITLE.format(kind=msg.KIND_LABELS[ReviewKind(review.kind).value], name=review.name),
        fields=[FormField(name="reason", label=msg.CHAT_FIELD_REASON, kind="textarea")],
        submit=Action(
            label=msg.CHAT_BUTTON_REJECT, intent="review.reject", params={"review_id": review.id}, style="danger"
        ),
    )
    return ChatReply(blocks=[NoticeBlock(text=msg.CHAT_REJECT_HINT), form], suggestions=suggestions())


async def _decided(turn: Turn, review: ReviewRequest, done: str) -> ChatReply:
    """The decision said, then what is still pending."""
    text = done.format(name=review.name, kind=msg.KIND_LABELS[ReviewKind(review.kind).value])
    reply = await review_list(Turn(turn.actor, {}, turn.context, turn.text))
    return reply.model_copy(update={"blocks": [NoticeBlock(level="success", text=text), *reply.blocks]})


@intent("review.approve", permission=PERMISSION, writes=True)
async def review_approve(turn: Turn) -> ChatReply:
    """The "通过" button, once confirmed: the API's approval (a new temporary password by SMS to the requester)."""
    review = await actions.approve_review(turn.actor, required_id(turn.params, "review_id"))
    return await _decided(turn, review, msg.CHAT_APPROVED)


@intent("review.reject", permission=PERMISSION, writes=True)
async def review_reject(turn: Turn) -> ChatReply:
    """The reason form sent back: checked as the API checks its body (422 naming it, so the form
    opens again), then the API's rejection (the reason to the requester by SMS)."""
    review_id = required_id(turn.params, "review_id")
    reason = turn.params.get("reason")
    data = text_values(RejectRequest, {} if reason in (None, "") else {"reason": reason})
    review = await actions.reject_review(turn.actor, review_id, reason=data.reason)
    return await _decided(turn, review, msg.CHAT_REJECTED)


@intent("review.image", permission=PERMISSION)
async def review_image(turn: Turn) -> ChatReply:
    """The mini-program opens an image itself (GET /api/reviews/{id}/images/{n}, audited there); the
    chat sends no image bytes."""
    return ChatReply(blocks=[NoticeBlock(text=msg.CHAT_IMAGE_IN_APP)], suggestions=suggestions())
