"""A card proves the identity the account has when the card's change is written: binding and
real-name by card take the account's lock (as every account change does) and check the holder
against the row as it is then, not as it was when the card was read."""

from __future__ import annotations

from typing import Any

import pytest

from backend.accounts.models import Account, RealnameLevel
from backend.cards import actions as cards
from backend.cards import messages as card_msg
from backend.cards.models import CardBinding
from backend.cards.verify import CardHolder, CardRefused
from backend.core.actor import Origin
from backend.core.audit import AuditEntry
from backend.profile import actions as profile
from tests.factories import commits_just_before_the_next_transaction, make_tree
from tests.test_card_auth import card_holder_account, coop_with_code, credit_code, id_number

PC_UNIT_PATH = "/"  # a PC of the root unit: every card's unit is in its subtree


def holder(card_number: str = "88000001") -> CardHolder:
    """What a verified operator card of 李四 (``id_number(1)``) says."""
    return CardHolder(
        card_number=card_number,
        holder_name="李四",
        id_number=id_number(1),
        unit_name="合作社1",
        credit_code=credit_code(1),  # the co-op of card_holder_account below
        kind="operator",
        issuer="a" * 64,
        certificate_sha256="b" * 64,
    )


async def _clerk_changing_identity(monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any]) -> Account:
    """The card holder's account, whose own profile change (``changes``) commits after the card's
    checks and before its write."""
    tree = await make_tree()
    clerk = await card_holder_account("clerk1", await coop_with_code(tree.child))

    async def change_profile() -> None:
        await profile.update_profile(await Account.get(id=clerk.id), dict(changes), origin=Origin(), session_id=None)

    commits_just_before_the_next_transaction(monkeypatch, change_profile)
    return clerk


@pytest.mark.parametrize("changes", [{"name": "李思"}, {"id_number": id_number(2)}])
async def test_realname_by_card_is_refused_when_the_name_or_id_changed_while_the_card_was_read(
    monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any]
) -> None:
    clerk = await _clerk_changing_identity(monkeypatch, changes)

    with pytest.raises(CardRefused) as refused:
        await cards.realname_by_card(clerk.id, holder(), origin=Origin())

    assert (refused.value.code, refused.value.message) == ("card_holder_mismatch", card_msg.HOLDER_MISMATCH)
    assert (await Account.get(id=clerk.id)).realname_level == RealnameLevel.NONE
    assert not await AuditEntry.filter(action="profile.realname").exists()


@pytest.mark.parametrize("changes", [{"name": "李思"}, {"id_number": id_number(2)}])
async def test_binding_a_card_is_refused_when_the_name_or_id_changed_while_the_card_was_read(
    monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any]
) -> None:
    clerk = await _clerk_changing_identity(monkeypatch, changes)

    with pytest.raises(CardRefused) as refused:
        await cards.bind_card(clerk.id, holder(), device_unit_path=PC_UNIT_PATH, origin=Origin())

    assert refused.value.code == "card_holder_mismatch"
    assert not await CardBinding.filter(account_id=clerk.id).exists()
    assert not await AuditEntry.filter(action="card.bind").exists()


async def test_realname_by_card_is_refused_when_the_account_was_deactivated_while_the_card_was_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tree = await make_tree()
    clerk = await card_holder_account("clerk1", await coop_with_code(tree.child))

    async def deactivate() -> None:
        await Account.filter(id=clerk.id).update(is_active=False)

    commits_just_before_the_next_transaction(monkeypatch, deactivate)
    with pytest.raises(CardRefused) as refused:
        await cards.realname_by_card(clerk.id, holder(), origin=Origin())

    assert refused.value.code == "card_account_inactive"
    assert (await Account.get(id=clerk.id)).realname_level == RealnameLevel.NONE


async def test_realname_and_binding_by_card_still_succeed_for_the_unchanged_holder() -> None:
    tree = await make_tree()
    clerk = await card_holder_account("clerk1", await coop_with_code(tree.child))

    await cards.bind_card(clerk.id, holder(), device_unit_path=PC_UNIT_PATH, origin=Origin())
    account = await cards.realname_by_card(clerk.id, holder(), origin=Origin())

    assert account.realname_level == RealnameLevel.HIGH
    assert await CardBinding.filter(account_id=clerk.id).exists()
