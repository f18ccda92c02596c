"""The info card as a chat form (D1 on the phone): its fields filled with the card's values, and a
sent form read back into the fields the card actions take (backend.coops.actions).

A form sends only the fields that hold a value (the mini-program leaves empty ones out), so an
optional field missing from a sent form was emptied and is cleared, except the contact phone: the
card shows it masked, so the form never holds it and an empty one keeps it; a card with one has a
"清空联系电话" choice beside it that clears it, as the API's ``null`` does. Money fields are in
the form only for whoever may see the card's money (the actions refuse them from anyone else), and
money is filled in exactly (whole fen, in 万元), so saving a form changes nothing it did not show;
money left empty on a new card, or never entered, stays "not entered" (not zero).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from backend.chat.protocol import FormField, KeyValue
from backend.coops import messages as msg
from backend.coops.actions import MONEY_FIELDS
from backend.coops.models import CoopCard
from backend.coops.schemas import CardCreate, CardUpdate
from backend.core.errors import ValidationFailed
from backend.core.validation import text_values

_YES, _NO = "true", "false"
_YES_NO = [KeyValue(label=msg.YES, value=_YES), KeyValue(label=msg.NO, value=_NO)]
FLAG_FIELDS = ("is_village_level", "is_benchmark", "in_poverty_county")
CLEAR_PHONE = "clear_contact_phone"  # a choice beside a card's (masked, never shown) contact phone
# The fields that may be emptied (cleared when a sent form leaves them out).
_OPTIONAL = ("contact_name", "address", "business_scope", "founded_year", "report_year", "latitude", "longitude")
# Full-width forms (U+FF01-U+FF5E: "１", "－", "．") as the ASCII characters they are the wide forms of.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_NUMBERS = ("members", "staff", *MONEY_FIELDS, "founded_year", "report_year", "latitude", "longitude")


def field_names(*, money: bool) -> tuple[str, ...]:
    """The fields of the form, in the order shown."""
    return (
        "contact_name",
        "contact_phone",
        "address",
        "members",
        "staff",
        *(MONEY_FIELDS if money else ()),
        "founded_year",
        "report_year",
        *FLAG_FIELDS,
        "business_scope",
        "latitude",
        "longitude",
    )


def _exact_wan(fen: int) -> str:
    """Whole fen as 万元 with every digit it has ("123.456789", "20", "-1.5"): no rounding."""
    return format(Decimal(fen).scaleb(-6).normalize(), "f")


def _value(card: CoopCard | None, name: str) -> str | None:
    if card is None:  # a new card: counts start at zero, flags at no, money not entered
        return "0" if name in ("members", "staff") else _NO if name in FLAG_FIELDS else None
    if name in MONEY_FIELDS:
        fen = getattr(card, f"{name}_fen")
        return None if fen is None else _exact_wan(fen)
    if name in FLAG_FIELDS:
        return _YES if getattr(card, name) else _NO
    if name == "contact_phone":
        return None  # shown masked on the card; left empty, it stays as it is
    value = getattr(card, name)
    return None if value is None or value == "" else str(value)


def _unchanged(card: CoopCard, name: str, value: Any) -> bool:
    """Is ``value`` (as sent) the field as the form showed it for ``card``? A number may arrive as one."""
    shown = _value(card, name)
    if value is None or value == "":
        return shown is None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    return str(value) == shown


def _field(card: CoopCard | None, name: str) -> FormField:
    label = msg.FORM_LABELS[name]
    if name == "contact_phone" and card is not None and card.contact_phone_enc:
        label = msg.FORM_PHONE_KEPT
    if name in FLAG_FIELDS:
        return FormField(name=name, label=label, kind="select", options=_YES_NO, value=_value(card, name))
    # A number field brings up the phone's digit keyboard, which has no minus sign: a loss is typed
    # as text (the server reads it as a number all the same).
    if name in _NUMBERS:
        kind = "text" if name == "profit" else "number"
    else:
        kind = {"contact_phone": "phone", "business_scope": "textarea"}.get(name, "text")
    # Money may be left for later: not entered is no zero (it stays out of averages and rankings).
    required = name not in (*_OPTIONAL, "contact_phone", *MONEY_FIELDS)
    landline = True if name == "contact_phone" else None  # a co-op's office line is a contact too
    return FormField(name=name, label=label, kind=kind, required=required, value=_value(card, name), landline=landline)


def _number(value: Any) -> Any:
    """A number field's value as sent: typed in full width ("１５０", "－２．５", as a Chinese keyboard in
    full-width mode types them) read as the digits it shows; a yes or no is no number (it would be
    taken as 1 or 0), so it is passed on as text, to be refused."""
    if isinstance(value, bool):
        return str(value)
    return value.translate(_HALF_WIDTH) if isinstance(value, str) else value


# The words for a field in a sentence ("…的电话改成…"), as backend.coops.chat's _CARD_WORDS has them.
_FIELD_WORDS = (
    ("联系人电话", "contact_phone"),
    ("联系人手机", "contact_phone"),
    ("联系电话", "contact_phone"),
    ("电话", "contact_phone"),
    ("手机", "contact_phone"),
    ("联系人", "contact_name"),
    ("地址", "address"),
    ("位置", "address"),
    ("经营范围", "business_scope"),
    ("社员数", "members"),
    ("从业人员", "staff"),
    ("成立", "founded_year"),
)


def field_named(word: str) -> str | None:
    """The form field a word names ("联系电话" -> contact_phone), None for none."""
    return next((name for key, name in _FIELD_WORDS if key in word), None)


def form_fields(card: CoopCard | None, *, money: bool) -> list[FormField]:
    """The form's fields with the card's values (``card`` None: a card not yet written); a card with a
    contact phone gets the choice that clears it after the phone's field."""
    fields: list[FormField] = []
    for name in field_names(money=money):
        fields.append(_field(card, name))
        if name == "contact_phone" and card is not None and card.contact_phone_enc:
            fields.append(
                FormField(name=CLEAR_PHONE, label=msg.FORM_CLEAR_PHONE, kind="select", options=_YES_NO, value=_NO)
            )
    return fields


def _cleared_phone(params: dict[str, Any], sent: dict[str, Any]) -> bool:
    """Does the sent form clear the contact phone ("清空联系电话" chosen, and no new phone typed)?"""
    chosen = params.get(CLEAR_PHONE)
    if chosen in (None, "", _NO):
        return False
    if chosen != _YES:
        raise ValidationFailed({CLEAR_PHONE: msg.FORM_CLEAR_PHONE_BAD})
    if sent.get("contact_phone"):
        raise ValidationFailed({CLEAR_PHONE: msg.FORM_CLEAR_PHONE_WITH_NEW})
    return True


def read_form(
    params: dict[str, Any], *, money: bool, new_card_of: int | None = None, card: CoopCard | None = None
) -> dict[str, Any]:
    """The fields a sent form sets, checked as the API checks them (422 ``invalid_input`` naming
    each field that is wrong); ``new_card_of``: the unit whose card the form creates. Money fields
    are read only when ``money`` (a form that had them). With ``card``, a field sent back as the
    form showed it is left out, so only what was changed is checked (a card written before a
    check was added, with a pin at 0, 0, is still saved when its members change), as the API's
    update checks only the fields sent."""
    sent: dict[str, Any] = {}
    for name in field_names(money=money):
        value = params.get(name)
        if card is not None and _unchanged(card, name, value):
            continue  # as the form showed it
        if value is None or value == "":
            if name in _OPTIONAL and new_card_of is None:
                sent[name] = None  # emptied in the form
            continue
        sent[name] = _number(value) if name in _NUMBERS else value
    if card is not None and _cleared_phone(params, sent):
        sent["contact_phone"] = None
    if new_card_of is None:
        checked: CardCreate | CardUpdate = text_values(CardUpdate, sent)
    else:
        checked = text_values(CardCreate, {**sent, "unit_id": new_card_of})
    return checked.model_dump(exclude={"unit_id"}, exclude_unset=True)
