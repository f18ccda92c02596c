"""The chat protocol: what ``POST /api/chat`` takes and answers (see ARCHITECTURE.md).

Answers are lists of blocks the mini-program renders; every block is small and self-contained.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from backend.core import messages
from backend.core.errors import ValidationFailed
from backend.core.validation import Body

# Control characters but the whitespace of pasted text (tab, line feed, carriage return).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_TEXT = 200  # characters of a typed message
# A tapped button's parameters are the server's own (ids, a name, a cursor) or a form's fields, but a
# client may send any: each text in them is held to the longest a form field takes (a co-op's
# business scope; a 300,000-character unit name kept the lookup busy for 11 seconds, and the lookup
# takes no name longer than a typed message: backend.chat.lookup), and a button carries a handful.
MAX_PARAM_TEXT = 500
MAX_PARAMS = 20


class Action(BaseModel):
    """A button: tapping it sends ``{"action": {"intent", "params"}}`` back."""

    label: str
    intent: str
    params: dict[str, Any] = Field(default_factory=dict)
    style: Literal["primary", "default", "danger"] = "default"
    confirm: str | None = None  # ask this question before sending


class KeyValue(BaseModel):
    label: str
    value: str


class TextBlock(BaseModel):
    type: Literal["text"] = "text"
    text: str


class CardBlock(BaseModel):
    type: Literal["card"] = "card"
    title: str
    subtitle: str | None = None
    fields: list[KeyValue] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)


class TableBlock(BaseModel):
    type: Literal["table"] = "table"
    title: str
    columns: list[str]
    rows: list[list[str]]
    row_actions: list[Action | None] | None = None  # one per row: tapping the row
    total: int | None = None
    more: Action | None = None  # the next page ("更多" does the same through the context)


class Series(BaseModel):
    name: str
    values: list[float]


class ChartBlock(BaseModel):
    type: Literal["chart"] = "chart"
    title: str
    kind: Literal["bar", "line", "pie"] = "bar"
    labels: list[str]
    series: list[Series]
    unit: str | None = None


class Pin(BaseModel):
    latitude: float
    longitude: float
    title: str
    subtitle: str | None = None
    action: Action | None = None


class MapBlock(BaseModel):
    type: Literal["map"] = "map"
    title: str
    pins: list[Pin]


class FormField(BaseModel):
    name: str
    label: str
    kind: Literal["text", "number", "phone", "id_number", "date", "select", "textarea"] = "text"
    required: bool = True
    options: list[KeyValue] | None = None  # for select: label shown, value sent
    value: str | None = None
    landline: bool | None = None  # a phone field that takes an office line too (a mobile only without)


class FormBlock(BaseModel):
    type: Literal["form"] = "form"
    title: str
    fields: list[FormField]
    submit: Action  # the form values are merged into its params


class QrBlock(BaseModel):
    type: Literal["qr"] = "qr"
    title: str
    payload: str
    image: str | None = None  # data:image/png;base64,...


class NoticeBlock(BaseModel):
    type: Literal["notice"] = "notice"
    level: Literal["info", "success", "warning", "error"] = "info"
    text: str


Block = Annotated[
    TextBlock | CardBlock | TableBlock | ChartBlock | MapBlock | FormBlock | QrBlock | NoticeBlock,
    Field(discriminator="type"),
]


class Suggestion(BaseModel):
    """A quick reply chip: sends ``text`` as if typed, or ``action``."""

    label: str
    text: str | None = None
    action: Action | None = None


class ChatReply(BaseModel):
    blocks: list[Block]
    suggestions: list[Suggestion] = Field(default_factory=list)
    context: str | None = None  # what the conversation is about now, e.g. "白沙镇"


def _no_control_chars(value: Any) -> Any:
    """Refuse control characters in every text of a turn (keys and values of the parameters too):
    no one types them, and PostgreSQL cannot even hold a NUL in a query parameter. Line breaks and
    tabs of pasted text are fine; the parser folds them into spaces. No text is longer than
    :data:`MAX_PARAM_TEXT`."""
    if isinstance(value, str):
        if _CONTROL.search(value):
            raise PydanticCustomError("control_chars", messages.FIELD_CONTROL_CHARS)
        if len(value) > MAX_PARAM_TEXT:
            raise PydanticCustomError(
                "string_too_long", messages.FIELD_TOO_LONG.format(limit=MAX_PARAM_TEXT), {"max_length": MAX_PARAM_TEXT}
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_control_chars(key)
            _no_control_chars(item)
    elif isinstance(value, list):
        for item in value:
            _no_control_chars(item)
    return value


def _name_is_text(params: dict[str, Any]) -> dict[str, Any]:
    """A button's ``name`` is what a lookup searches: text or nothing (a list was searched, and
    echoed, as its Python text)."""
    if not isinstance(params.get("name"), str | None):
        raise PydanticCustomError("string_type", messages.FIELD_WRONG_TYPE)
    return params


# Each parameter checked on its own, so a failure names it (a form's parameters are its fields).
_ParamKey = Annotated[str, AfterValidator(_no_control_chars)]
_ParamValue = Annotated[Any, AfterValidator(_no_control_chars)]
_PARAMS_AT = "action.params"


class ActionIn(Body):
    intent: str = Field(min_length=1, max_length=64)
    params: Annotated[dict[_ParamKey, _ParamValue], AfterValidator(_name_is_text)] = Field(
        default_factory=dict, max_length=MAX_PARAMS
    )


def named_by_param(failure: ValidationFailed) -> ValidationFailed:
    """A refused turn's fields as its form names them: a parameter by its own name
    ("contact_name", not "action.params.contact_name"); a refused name of a parameter, or too many,
    as the parameters."""
    fields: dict[str, str] = {}
    for field, message in failure.fields.items():
        if field.startswith(_PARAMS_AT + "."):
            name, _, rest = field.removeprefix(_PARAMS_AT + ".").partition(".")
            field = _PARAMS_AT if rest.startswith("[key]") else name
        fields.setdefault(field, message)
    return ValidationFailed(fields, failure.message)


class ChatRequest(Body):
    text: Annotated[str | None, AfterValidator(_no_control_chars)] = Field(None, min_length=1, max_length=MAX_TEXT)
    action: ActionIn | None = None

    @model_validator(mode="after")
    def one_of(self) -> ChatRequest:
        if (self.text is None) == (self.action is None):
            raise ValueError("text or action, exactly one")
        return self
