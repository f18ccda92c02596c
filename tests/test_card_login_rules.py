"""C3, C5-C7: whose account a card may log into, bind or raise the real-name level of: the card's
holder (same ID number and kind as the binding, same name and ID number as the account), an account
that still belongs to the card's unit in the PC's subtree, and one account per holder in a unit."""

from __future__ import annotations

import httpx

from backend.accounts.models import Account, Membership, RealnameLevel
from backend.cards import messages as card_msg
from backend.cards.models import CardBinding
from backend.core import runtime
from backend.core.roles import Role
from backend.units.models import Unit
from card_service.fakes.card_ca import CardAuthority
from tests.card_helpers import (
    SigningDevice,
    SoftwareCard,
    card_step,
    enrolled_device,
    issue_card,
    scan_and_confirm,
    start_pairing,
)
from tests.factories import login, make_account, make_tree
from tests.test_card_auth import (
    _coop_admin_and_clerk,
    card_holder_account,
    card_login,
    coop_with_code,
    id_number,
    identity,
)


def _refusal(answer: httpx.Response) -> tuple[int, str, str]:
    error = answer.json().get("error") or {}
    return answer.status_code, error.get("code", ""), error.get("message", "")


async def _phone_card_step(
    client: httpx.AsyncClient, device: SigningDevice, action: str, username: str, card: SoftwareCard
) -> httpx.Response:
    """A bind or real-name pairing scanned by ``username``'s phone, answered by ``card``."""
    pairing = await start_pairing(client, device, action)
    await scan_and_confirm(client, pairing, await login(client, username))
    return await card_step(client, device, pairing["pairing_id"], card)


# 1: a binding is found by the card's issuer and number; the card must also name its holder -------


async def test_a_card_with_the_bound_number_but_another_holder_does_not_log_into_the_bound_account(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    _tree, coop, clerk, device = await _coop_admin_and_clerk()
    done, *_ = await card_login(client, device, issue_card(card_authority, identity(coop, card="66000002")))
    assert done.json()["result"]["account"]["username"] == "clerk1"
    forged = issue_card(card_authority, identity(coop, card="66000002", holder="王五", n=2))

    refused, *_ = await card_login(client, device, forged)

    assert _refusal(refused) == (403, "card_holder_mismatch", card_msg.CARD_HOLDER_CHANGED)
    binding = await CardBinding.get(account_id=clerk.id)
    assert binding.holder_id_index == runtime.get().vault.index("id_number", id_number(1))


async def test_a_card_with_the_bound_number_but_another_kind_does_not_log_into_the_bound_account(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    _tree, coop, clerk, device = await _coop_admin_and_clerk()
    await card_login(client, device, issue_card(card_authority, identity(coop, card="66000002")))
    as_legal_rep = issue_card(card_authority, identity(coop, kind="legal_rep", card="66000002"))

    refused, *_ = await card_login(client, device, as_legal_rep)

    assert _refusal(refused)[:2] == (403, "card_holder_mismatch")
    assert (await CardBinding.get(account_id=clerk.id)).kind == "operator"


# 3: the bound account must still belong to the card's unit, inside the PC's subtree ---------------


async def test_a_bound_account_moved_to_a_sibling_township_does_not_log_in_by_card(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree, coop, clerk, device = await _coop_admin_and_clerk()
    card = issue_card(card_authority, identity(coop, card="66000002"))
    await card_login(client, device, card)
    await Membership.filter(account_id=clerk.id).update(unit_id=tree.sibling.id)  # an admin moved the clerk

    refused, *_ = await card_login(client, device, card)

    assert _refusal(refused) == (403, "card_account_outside_unit", card_msg.ACCOUNT_OUTSIDE_UNIT)
    assert await CardBinding.filter(account_id=clerk.id).exists()  # the binding is an admin's to remove


async def test_a_bound_account_without_any_unit_does_not_log_in_by_card(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    _tree, coop, clerk, device = await _coop_admin_and_clerk()
    card = issue_card(card_authority, identity(coop, card="66000002"))
    await card_login(client, device, card)
    await Membership.filter(account_id=clerk.id).delete()

    refused, *_ = await card_login(client, device, card)

    assert _refusal(refused)[:2] == (403, "card_account_outside_unit")


async def test_a_card_login_claimed_after_the_account_left_the_pcs_subtree_starts_no_session(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree, coop, clerk, device = await _coop_admin_and_clerk()
    done, pairing_id, phone_key = await card_login(client, device, issue_card(card_authority, identity(coop)))
    assert done.json()["state"] == "done", done.text
    await Membership.filter(account_id=clerk.id).update(unit_id=tree.sibling.id)

    claimed = await client.post(f"/api/pairings/{pairing_id}/claim", json={"phone_key": phone_key})

    assert _refusal(claimed)[:2] == (403, "card_account_outside_unit")


async def test_a_card_of_a_unit_outside_the_pcs_subtree_or_unknown_is_not_bound(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree, coop, _clerk, device = await _coop_admin_and_clerk()
    elsewhere = await coop_with_code(tree.sibling, 2)
    outside = await _phone_card_step(client, device, "bind", "clerk1", issue_card(card_authority, identity(elsewhere)))
    assert _refusal(outside)[:2] == (403, "card_unit_outside_scope")
    unknown = await coop_with_code(tree.child, 3)
    card = issue_card(card_authority, identity(unknown))
    await Unit.filter(id=unknown.id).update(credit_code=None)  # the card's unit is not on file
    refused = await _phone_card_step(client, device, "bind", "clerk1", card)
    assert _refusal(refused)[:2] == (403, "card_unit_unknown")
    assert not await CardBinding.exists()
    assert (
        await _phone_card_step(client, device, "bind", "clerk1", issue_card(card_authority, identity(coop)))
    ).json()["state"] == "done"


async def test_a_card_is_not_bound_to_an_account_outside_its_unit_whose_card_login_would_be_refused(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    await card_holder_account("clerk1", tree.own)  # the township's clerk, not the co-op's
    device = await enrolled_device(tree.own)

    refused = await _phone_card_step(client, device, "bind", "clerk1", issue_card(card_authority, identity(coop)))

    assert _refusal(refused) == (403, "card_account_outside_unit", card_msg.OWN_ACCOUNT_OUTSIDE_UNIT)
    assert not await CardBinding.exists()


# 4: an existing account is the holder's only with the card's name and ID number -----------------


async def test_a_card_login_after_a_name_change_does_not_bind_the_card_again_to_the_renamed_account(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    _tree, coop, _clerk, device = await _coop_admin_and_clerk()
    card = issue_card(card_authority, identity(coop, card="66000002"))
    await card_login(client, device, card)
    renamed = await client.patch("/api/profile", json={"name": "李思"}, headers=await login(client, "clerk1"))
    assert renamed.status_code == 200 and renamed.json()["card"] is None, renamed.text

    refused, *_ = await card_login(client, device, card)

    assert _refusal(refused) == (403, "card_account_name_differs", card_msg.ACCOUNT_NAME_DIFFERS)
    assert not await CardBinding.exists()
    assert await Account.filter(memberships__unit_id=coop.id).count() == 2  # no second account either


async def test_a_legal_person_card_does_not_bind_an_admin_with_its_id_number_but_another_name(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    admin = await make_account("coopadmin", coop, Role.ADMIN)
    await Account.filter(id=admin.id).update(id_number_index=runtime.get().vault.index("id_number", id_number(1)))
    device = await enrolled_device(tree.own)

    refused, *_ = await card_login(client, device, issue_card(card_authority, identity(coop, kind="legal_rep")))

    assert _refusal(refused)[:2] == (403, "card_account_name_differs")
    assert not await CardBinding.exists()


# 6: one person with a legal-person card and an operator card has one account in the unit ---------


async def _coop_whose_legal_rep_is_li_si() -> tuple[Unit, SigningDevice]:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    rep_id = runtime.get().vault.encrypt("unit.legal_rep_id", id_number(1))
    await Unit.filter(id=coop.id).update(legal_rep_name="李四", legal_rep_id_enc=rep_id)
    return coop, await enrolled_device(tree.own)


async def test_a_legal_person_card_after_the_holders_operator_card_bound_the_admin_says_another_card_is_bound(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    coop, device = await _coop_whose_legal_rep_is_li_si()
    operator, *_ = await card_login(client, device, issue_card(card_authority, identity(coop, card="66000001")))
    assert operator.json()["result"]["account"]["username"] == "66000001_ADMIN", operator.text

    refused, *_ = await card_login(
        client, device, issue_card(card_authority, identity(coop, kind="legal_rep", card="88000001"))
    )

    assert _refusal(refused) == (403, "card_other_bound", card_msg.OTHER_CARD_BOUND)
    assert await CardBinding.all().count() == 1


async def test_an_operator_card_after_the_holders_legal_person_card_makes_no_second_account(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    coop, device = await _coop_whose_legal_rep_is_li_si()
    legal, *_ = await card_login(
        client, device, issue_card(card_authority, identity(coop, kind="legal_rep", card="88000001"))
    )
    assert legal.json()["result"]["created"] == ["88000001_ADMIN"], legal.text

    refused, *_ = await card_login(client, device, issue_card(card_authority, identity(coop, card="66000001")))

    assert _refusal(refused) == (403, "card_other_bound", card_msg.OTHER_CARD_BOUND)
    assert await Account.filter(memberships__unit_id=coop.id).count() == 1
    assert await CardBinding.all().count() == 1


# 7: an account with no ID number on file is told to fill it in ---------------------------------


async def test_binding_or_realname_for_an_account_without_an_id_number_asks_for_it_first(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    await make_account("clerk2", coop, Role.CLERK)  # no ID number on file
    device = await enrolled_device(tree.own)
    card = issue_card(card_authority, identity(coop))

    for action in ("bind", "realname"):
        refused = await _phone_card_step(client, device, action, "clerk2", card)
        assert _refusal(refused) == (403, "card_account_no_id_number", card_msg.ACCOUNT_NO_ID_NUMBER), action
    assert not await CardBinding.exists()
    assert (await Account.get(username="clerk2")).realname_level == RealnameLevel.NONE


async def test_the_holders_own_account_still_binds_and_logs_in_by_card(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    await make_account("coopadmin", coop, Role.ADMIN)
    clerk = await card_holder_account("clerk1", coop)
    device = await enrolled_device(tree.own)
    card = issue_card(card_authority, identity(coop, card="66000002"))

    assert (await _phone_card_step(client, device, "bind", "clerk1", card)).json()["state"] == "done"
    done, pairing_id, phone_key = await card_login(client, device, card)

    assert done.json()["result"]["account"]["id"] == clerk.id
    claimed = await client.post(f"/api/pairings/{pairing_id}/claim", json={"phone_key": phone_key})
    assert claimed.status_code == 200, claimed.text


# 5: the stand-in admin an operator card's first login made is the legal representative's to take ---


async def test_a_legal_person_card_takes_the_stand_in_admin_an_operator_cards_first_login_made(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    """No admin and no legal representative on file: 王五's operator card made "66000009_ADMIN"
    (单位管理员, no ID number, no password), and 李四's legal-person card was then refused for good
    ("本单位已有管理员账号"): nobody could ever become the unit's admin by card."""
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    operator = issue_card(card_authority, identity(coop, card="66000009", holder="王五", n=2))
    first, *_ = await card_login(client, device, operator)
    assert first.json()["result"]["created"] == ["66000009_ADMIN", "66000009"], first.text

    legal, *_ = await card_login(client, device, issue_card(card_authority, identity(coop, kind="legal_rep")))

    assert legal.status_code == 200, legal.text
    assert legal.json()["result"]["account"]["username"] == "66000009_ADMIN"
    admin = await Account.get(username="66000009_ADMIN")
    assert admin.name == "李四" and admin.name_pinyin == "lisi"
    assert admin.id_number_index == runtime.get().vault.index("id_number", id_number(1))
    assert (await CardBinding.get(account_id=admin.id)).kind == "legal_rep"


async def test_an_admin_someone_activated_is_no_stand_in_for_a_legal_person_card(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    await card_login(client, device, issue_card(card_authority, identity(coop, card="66000009", holder="王五", n=2)))
    await Account.filter(username="66000009_ADMIN").update(needs_activation=False)  # a password was set

    refused, *_ = await card_login(client, device, issue_card(card_authority, identity(coop, kind="legal_rep")))

    assert _refusal(refused)[:2] == (403, "card_admin_taken")


async def test_a_stand_in_admin_named_as_a_placeholder_but_with_the_representatives_id_is_taken_too(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    """The unit had its representative's ID number on file but no name: the stand-in was 单位管理员
    with 李四's ID number, and the card was refused as "another name"."""
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    await Unit.filter(id=coop.id).update(
        legal_rep_id_enc=runtime.get().vault.encrypt("unit.legal_rep_id", id_number(1))
    )
    device = await enrolled_device(tree.own)
    await card_login(client, device, issue_card(card_authority, identity(coop, card="66000009", holder="王五", n=2)))

    legal, *_ = await card_login(client, device, issue_card(card_authority, identity(coop, kind="legal_rep")))

    assert legal.status_code == 200 and legal.json()["result"]["account"]["username"] == "66000009_ADMIN", legal.text
    assert (await Account.get(username="66000009_ADMIN")).name == "李四"


async def test_a_holder_whose_own_admin_account_has_another_name_is_told_so_not_given_the_stand_in(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    """The representative's own admin account (name misspelled) and a stand-in: taking the stand-in
    made a second admin account for one person, where an operator card is told the name differs."""
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    await card_login(client, device, issue_card(card_authority, identity(coop, card="66000009", holder="王五", n=2)))
    own = await make_account("lisi_admin", coop, Role.ADMIN)
    await Account.filter(id=own.id).update(id_number_index=runtime.get().vault.index("id_number", id_number(1)))

    refused, *_ = await card_login(client, device, issue_card(card_authority, identity(coop, kind="legal_rep")))

    assert _refusal(refused)[:2] == (403, "card_account_name_differs")
    assert (await Account.get(username="66000009_ADMIN")).name != "李四"
