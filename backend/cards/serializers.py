from __future__ import annotations

from backend.cards import messages as msg
from backend.cards.models import CardBinding
from backend.cards.schemas import CardOut


def mask_card_number(card_number: str) -> str:
    """First two and last four digits: enough to tell one's cards apart, not to copy one."""
    return card_number[:2] + "*" * (len(card_number) - 6) + card_number[-4:]


def card_out(binding: CardBinding) -> CardOut:
    return CardOut(
        card_number=mask_card_number(binding.card_number),
        kind=binding.kind,
        kind_label=msg.KIND_LABELS[binding.kind],
        bound_at=binding.bound_at,
    )
