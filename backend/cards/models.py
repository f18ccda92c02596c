from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from backend.core.crypto import sha256_hex


def card_key(issuer: str, card_number: str) -> str:
    """One card as a session remembers it: its issuer and number (a renewed certificate is the same
    card; its fingerprint is not), hashed, so Redis keeps no card number."""
    return sha256_hex(f"{issuer}:{card_number}")


class CardKind(StrEnum):
    LEGAL_REP = "legal_rep"  # the legal representative's card of a unit (法人卡)
    OPERATOR = "operator"  # an operator's card (操作员卡)


class CardBinding(Model):
    # A smart card bound to one account (C6): one card per account, one account per card. The card
    # is known by its issuer and card number; the holder's ID number is kept only as the keyed index.
    id = fields.IntField(primary_key=True)
    account: fields.OneToOneRelation = fields.OneToOneField(
        "cunwu.Account", related_name="card_binding", on_delete=fields.CASCADE
    )
    issuer = fields.CharField(max_length=64)  # SHA-256 hex of the issuer CA's subject public key
    card_number = fields.CharField(max_length=20)
    kind = fields.CharEnumField(CardKind, max_length=12)
    holder_id_index = fields.CharField(max_length=64)
    certificate_sha256 = fields.CharField(max_length=64)
    # The card certificate's start of validity (None: bound before migration 0017): a card of the
    # same holder issued later replaces this one at a card login; an earlier one is refused.
    issued_at = fields.DatetimeField(null=True)
    bound_at = fields.DatetimeField()

    class Meta:
        table = "card_binding"
        unique_together = (("issuer", "card_number"),)
