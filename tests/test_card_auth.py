"""C4-C7: the card's answer is checked (issuer, dates, key usage, signature, nonce, action), then it
logs in (creating missing accounts), binds, or raises the real-name level; and the rules cards impose."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from datetime import timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID

from backend.accounts.models import Account, Membership, RealnameLevel
from backend.cards import actions as cards
from backend.cards.models import CardBinding
from backend.core import identifiers, runtime
from backend.core.audit import AuditEntry
from backend.core.clock import FrozenClock
from backend.core.roles import Role
from backend.pairing import store as pairing_store
from backend.units.models import Unit
from card_service import protocol
from card_service.fakes.card_ca import CardAuthority, CardIdentity
from tests.card_helpers import (
    SigningDevice,
    SoftwareCard,
    card_step,
    enrolled_device,
    issue_card,
    scan_and_confirm,
    start_pairing,
)
from tests.factories import (
    PASSWORD,
    Tree,
    bind_card,
    fail_once,
    login,
    login_response,
    make_account,
    make_tree,
    once_both_arrived,
)


def credit_code(n: int) -> str:
    org8 = f"MA{n:06d}"
    first17 = "93530101" + org8 + identifiers.org_code_check_char(org8)
    return first17 + identifiers.credit_code_check_char(first17)


def id_number(n: int) -> str:
    first17 = f"53010119800101{n:03d}"
    return first17 + identifiers.id_number_check_char(first17)


async def coop_with_code(parent: Unit, n: int = 1) -> Unit:
    from backend.units.models import UnitType
    from tests.factories import make_unit

    unit = await make_unit(f"合作社{n}", UnitType.COOP, parent)
    unit.credit_code = credit_code(n)
    await unit.save(update_fields=["credit_code"])
    return unit


async def become_card_holder(account_id: int) -> None:
    """The account now names the person on the test cards (李四, ``id_number(1)``)."""
    index = runtime.get().vault.index("id_number", id_number(1))
    await Account.filter(id=account_id).update(name="李四", id_number_index=index)


async def card_holder_account(username: str, unit: Unit) -> Account:
    account = await make_account(username, unit, Role.CLERK)
    await become_card_holder(account.id)
    return account


async def _coop_admin_and_clerk() -> tuple[Tree, Unit, Account, SigningDevice]:
    """A co-op with an admin and the clerk ``clerk1`` whom the test cards name, and a PC of the township."""
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    await make_account("coopadmin", coop, Role.ADMIN)
    clerk = await card_holder_account("clerk1", coop)
    return tree, coop, clerk, await enrolled_device(tree.own)


def identity(unit: Unit, *, kind: str = "operator", card: str = "88000001", holder: str = "李四", n: int = 1):
    return CardIdentity(
        card_number=card,
        holder_name=holder,
        id_number=id_number(n),
        unit_name=unit.name,
        unit_credit_code=unit.credit_code or "",
        kind=kind,  # type: ignore[arg-type]
    )


async def _clerk_and_card(card_authority: CardAuthority) -> tuple[SigningDevice, SoftwareCard]:
    """A co-op clerk ``clerk1`` with the card that names it, and a PC of the township."""
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    await card_holder_account("clerk1", coop)
    return await enrolled_device(tree.own), issue_card(card_authority, identity(coop))


async def card_login(client: httpx.AsyncClient, device: SigningDevice, card) -> tuple[httpx.Response, str, str]:
    pairing = await start_pairing(client, device, "login")
    phone_key = await scan_and_confirm(client, pairing)
    return await card_step(client, device, pairing["pairing_id"], card), pairing["pairing_id"], phone_key


async def test_card_login_end_to_end_gives_the_phone_a_session(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    card = issue_card(card_authority, identity(coop, kind="legal_rep", card="88001234"))

    done, pairing_id, phone_key = await card_login(client, device, card)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "done"
    assert done.json()["result"]["account"]["username"] == "88001234_ADMIN"
    assert done.json()["result"]["created"] == ["88001234_ADMIN"]

    claimed = await client.post(f"/api/pairings/{pairing_id}/claim", json={"phone_key": phone_key})
    assert claimed.status_code == 200, claimed.text
    session = claimed.json()
    assert session["username"] == "88001234_ADMIN" and session["unit"]["unit_id"] == coop.id
    me = await client.get("/api/session", headers={"Authorization": f"Bearer {session['token']}"})
    assert me.status_code == 200
    again = await client.post(f"/api/pairings/{pairing_id}/claim", json={"phone_key": phone_key})
    assert again.status_code == 410  # one session per pairing


async def test_a_claim_before_the_card_logins_account_is_in_waits_and_a_deactivated_one_says_so(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    """The "done" state is published just before the commit: a claim in between read no account (500), and a
    deactivated account was answered as an expired QR code."""
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    done, pairing_id, phone_key = await card_login(client, device, issue_card(card_authority, identity(coop)))
    account_id = done.json()["result"]["account"]["id"]
    claim = f"/api/pairings/{pairing_id}/claim"
    await pairing_store.transition(pairing_id, allowed=("done",), changes={"result_account_id": account_id + 1000})
    early = await client.post(claim, json={"phone_key": phone_key})
    assert early.status_code == 409 and early.json()["error"]["code"] == "pairing_not_done", early.text
    await pairing_store.transition(pairing_id, allowed=("done",), changes={"result_account_id": account_id})
    await Account.filter(id=account_id).update(is_active=False)
    inactive = await client.post(claim, json={"phone_key": phone_key})
    assert inactive.status_code == 403 and inactive.json()["error"]["code"] == "card_account_inactive", inactive.text


async def test_a_card_created_account_logs_in_by_password_only_after_activation(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    card = issue_card(card_authority, identity(coop, kind="legal_rep", card="88001234"))
    _, pairing_id, phone_key = await card_login(client, device, card)
    token = (await client.post(f"/api/pairings/{pairing_id}/claim", json={"phone_key": phone_key})).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/profile", headers=headers)).json()["needs_activation"] is True

    for password in ("", PASSWORD, "88888888"):
        refused = await login_response(client, "88001234_ADMIN", password or "x")
        assert refused.status_code in (401, 422)
    weak = await client.post("/api/profile/activate", json={"new_password": "12345678"}, headers=headers)
    assert weak.status_code == 422
    activated = await client.post("/api/profile/activate", json={"new_password": PASSWORD}, headers=headers)
    assert activated.status_code == 204
    assert (await login_response(client, "88001234_ADMIN", PASSWORD)).status_code == 200
    profile = (await client.get("/api/profile", headers=headers)).json()
    assert profile["needs_activation"] is False
    assert profile["card"]["kind"] == "legal_rep" and profile["card"]["card_number"] == "88**1234"


async def test_an_operator_card_creates_the_missing_admin_and_the_operator_once(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    card = issue_card(card_authority, identity(coop, kind="operator", card="66000001"))
    first, *_ = await card_login(client, device, card)
    assert first.json()["result"]["created"] == ["66000001_ADMIN", "66000001"]
    roles = {m.account.username: m.role for m in await Membership.filter(unit_id=coop.id).prefetch_related("account")}
    assert roles == {"66000001_ADMIN": Role.ADMIN, "66000001": Role.CLERK}
    admin = await Account.get(username="66000001_ADMIN")
    assert admin.password_hash is None and admin.needs_activation
    assert not await CardBinding.filter(account_id=admin.id).exists()  # the operator's card is not the admin's

    second, *_ = await card_login(client, device, card)
    assert second.json()["result"]["account"]["username"] == "66000001"
    assert second.json()["result"]["created"] is None
    assert await Account.filter(memberships__unit_id=coop.id).count() == 2


async def test_an_operator_card_binds_the_existing_account_of_its_holder(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    _tree, coop, clerk, device = await _coop_admin_and_clerk()
    done, *_ = await card_login(client, device, issue_card(card_authority, identity(coop, card="66000002")))
    assert done.json()["result"]["account"]["username"] == "clerk1"
    assert done.json()["result"]["created"] is None
    assert (await CardBinding.get(account_id=clerk.id)).card_number == "66000002"


async def test_a_legal_person_card_does_not_take_over_an_admin_of_someone_else(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    await make_account("coopadmin", coop, Role.ADMIN)
    device = await enrolled_device(tree.own)
    refused, pairing_id, phone_key = await card_login(
        client, device, issue_card(card_authority, identity(coop, kind="legal_rep"))
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "card_admin_taken")
    phone = await client.get(f"/api/pairings/{pairing_id}/phone-events", headers={"X-Pairing-Key": phone_key})
    assert phone.json()["state"] == "failed"
    assert phone.json()["error"]["code"] == "card_admin_taken"
    assert not await CardBinding.exists()


async def test_cards_from_an_untrusted_issuer_or_out_of_date_or_without_signing_use_are_refused(
    client: httpx.AsyncClient, card_authority: CardAuthority, clock: FrozenClock
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    stranger = CardAuthority.generate(name="陌生发卡机构", now=clock.now())
    cases = {
        "card_untrusted": issue_card(stranger, identity(coop)),
        "card_expired": issue_card(card_authority, identity(coop), now=clock.now() - timedelta(days=400)),
        "card_key_usage": issue_card(card_authority, identity(coop), digital_signature=False),
    }
    for code, card in cases.items():
        refused, *_ = await card_login(client, device, card)
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, code)
    assert await Account.filter(memberships__unit_id=coop.id).count() == 0


async def test_a_nonce_is_single_use(client: httpx.AsyncClient, card_authority: CardAuthority) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    card = issue_card(card_authority, identity(coop, kind="legal_rep"))
    pairing = await start_pairing(client, device, "login")
    await scan_and_confirm(client, pairing)
    path = f"/api/pairings/{pairing['pairing_id']}"
    answer = card.answer((await device.request(client, "POST", f"{path}/challenge")).json())
    assert (await device.request(client, "POST", f"{path}/card", answer)).status_code == 200
    replayed = await device.request(client, "POST", f"{path}/card", answer)
    assert (replayed.status_code, replayed.json()["error"]["code"]) == (403, "card_nonce_invalid")


async def test_a_nonce_expires_after_five_minutes(
    client: httpx.AsyncClient, card_authority: CardAuthority, clock: FrozenClock
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "login")
    await scan_and_confirm(client, pairing)
    path = f"/api/pairings/{pairing['pairing_id']}"
    challenge = (await device.request(client, "POST", f"{path}/challenge")).json()
    clock.advance(seconds=299)
    answer = issue_card(card_authority, identity(coop, kind="legal_rep")).answer(challenge)
    clock.advance(seconds=2)
    late = await device.request(client, "POST", f"{path}/card", answer)
    assert late.json()["error"]["code"] in ("card_nonce_invalid", "pairing_invalid")


async def test_a_login_signature_offered_for_a_binding_is_refused(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    device, card = await _clerk_and_card(card_authority)
    pairing = await start_pairing(client, device, "bind")
    await scan_and_confirm(client, pairing, await login(client, "clerk1"))
    path = f"/api/pairings/{pairing['pairing_id']}"
    challenge = (await device.request(client, "POST", f"{path}/challenge")).json()
    as_login = protocol.card_context(
        action="login", device=device.device_id, pairing=pairing["pairing_id"], nonce=challenge["nonce"]
    )
    refused = await device.request(client, "POST", f"{path}/card", card.answer(challenge, to_sign=as_login))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "card_signature_invalid")
    assert not await CardBinding.exists()


async def test_a_signature_from_another_device_or_pairing_does_not_verify(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    card = issue_card(card_authority, identity(coop, kind="legal_rep"))
    pairing = await start_pairing(client, device, "login")
    await scan_and_confirm(client, pairing)
    path = f"/api/pairings/{pairing['pairing_id']}"
    challenge = (await device.request(client, "POST", f"{path}/challenge")).json()
    other_pairing = protocol.card_context(
        action="login", device=device.device_id, pairing="another-pairing", nonce=challenge["nonce"]
    )
    refused = await device.request(client, "POST", f"{path}/card", card.answer(challenge, to_sign=other_pairing))
    assert refused.json()["error"]["code"] == "card_signature_invalid"


async def test_a_card_of_a_unit_outside_the_pcs_unit_is_refused(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.sibling)
    device = await enrolled_device(tree.own)
    refused, *_ = await card_login(client, device, issue_card(card_authority, identity(coop, kind="legal_rep")))
    assert refused.json()["error"]["code"] == "card_unit_outside_scope"
    unknown = CardIdentity("88009999", "王五", id_number(9), "未登记单位", credit_code(99), "legal_rep")
    refused, *_ = await card_login(client, device, issue_card(card_authority, unknown))
    assert refused.json()["error"]["code"] == "card_unit_unknown"


async def test_binding_checks_the_holder_and_one_card_per_account(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    await card_holder_account("clerk1", coop)
    other = await make_account("clerk2", coop, Role.CLERK)
    await Account.filter(id=other.id).update(id_number_index=runtime.get().vault.index("id_number", id_number(2)))
    device = await enrolled_device(tree.own)
    card = issue_card(card_authority, identity(coop))

    async def bind(username: str) -> httpx.Response:
        pairing = await start_pairing(client, device, "bind")
        await scan_and_confirm(client, pairing, await login(client, username))
        return await card_step(client, device, pairing["pairing_id"], card)

    mismatch = await bind("clerk2")
    assert mismatch.json()["error"]["code"] == "card_holder_mismatch"
    assert (await bind("clerk1")).json()["state"] == "done"
    headers = await login(client, "clerk1")
    assert (await client.get("/api/profile", headers=headers)).json()["card"]["kind_label"] == "操作员卡"
    await become_card_holder(other.id)
    assert (await bind("clerk2")).json()["error"]["code"] == "card_already_bound"

    assert (await client.delete("/api/profile/card", headers=headers)).status_code == 204
    assert (await client.get("/api/profile", headers=headers)).json()["card"] is None
    assert (await client.delete("/api/profile/card", headers=headers)).status_code == 409


async def test_realname_by_card_raises_the_level_to_high(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    await card_holder_account("clerk1", coop)
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "realname")
    headers = await login(client, "clerk1")
    await scan_and_confirm(client, pairing, headers)
    done = await card_step(client, device, pairing["pairing_id"], issue_card(card_authority, identity(coop)))
    assert done.json()["result"]["message"] == "实名认证成功，认证等级：高"
    assert (await client.get("/api/profile", headers=headers)).json()["realname_level"] == RealnameLevel.HIGH


async def test_a_new_name_unbinds_the_card_and_voids_the_realname_level(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    device, card = await _clerk_and_card(card_authority)
    headers = await login(client, "clerk1")
    for action in ("bind", "realname"):
        pairing = await start_pairing(client, device, action)
        await scan_and_confirm(client, pairing, headers)
        assert (await card_step(client, device, pairing["pairing_id"], card)).json()["state"] == "done"
    changed = await client.patch("/api/profile", json={"name": "李思"}, headers=headers)
    assert changed.json()["card"] is None and changed.json()["realname_level"] == "none"


async def test_an_admin_without_a_card_cannot_edit_or_delete_an_operator_with_one(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    await make_account("coopadmin", coop, Role.ADMIN)
    device = await enrolled_device(tree.own)
    await card_login(client, device, issue_card(card_authority, identity(coop, card="66000003")))
    operator = await Account.get(username="66000003")
    admin = await login(client, "coopadmin")
    edit = await client.patch(f"/api/accounts/{operator.id}", json={"name": "张三"}, headers=admin)
    assert (edit.status_code, edit.json()["error"]["code"]) == (403, "card_holder_protected")
    delete = await client.post(f"/api/accounts/{operator.id}/deactivate", headers=admin)
    assert delete.status_code == 403
    assert (await Account.get(id=operator.id)).is_active

    # once the admin has a card of their own, the edit goes through and unbinds the operator's card
    admin_account = await Account.get(username="coopadmin")
    await bind_card(admin_account.id, "77000001", kind="legal_rep")
    edited = await client.patch(f"/api/accounts/{operator.id}", json={"name": "张三"}, headers=admin)
    assert edited.status_code == 200, edited.text
    assert not await CardBinding.filter(account_id=operator.id).exists()


async def test_malformed_card_answers_change_nothing(client: httpx.AsyncClient, card_authority: CardAuthority) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "login")
    await scan_and_confirm(client, pairing)
    path = f"/api/pairings/{pairing['pairing_id']}"
    challenge = (await device.request(client, "POST", f"{path}/challenge")).json()
    garbage = {"nonce": challenge["nonce"], "certificate": "not base64!", "chain": [], "signature": "AAAA"}
    bad = await device.request(client, "POST", f"{path}/card", garbage)
    assert bad.status_code == 422
    not_a_cert = garbage | {"certificate": base64.b64encode(b"hello").decode()}
    refused = await device.request(client, "POST", f"{path}/card", not_a_cert)
    assert refused.json()["error"]["code"] in ("card_certificate_malformed", "card_nonce_invalid")
    assert await Account.all().count() == 0


async def test_a_card_cannot_be_bound_to_an_account_deactivated_after_it_scanned(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    clerk = await card_holder_account("clerk1", coop)
    await make_account("coopadmin", coop, Role.ADMIN)
    device = await enrolled_device(tree.own)
    card = issue_card(card_authority, identity(coop))
    phone = await login(client, "clerk1")
    pairings = [await start_pairing(client, device, action) for action in ("bind", "realname")]
    for pairing in pairings:
        await scan_and_confirm(client, pairing, phone)
    # the admin deactivates the clerk while the card is in the reader
    admin = await login(client, "coopadmin")
    assert (await client.post(f"/api/accounts/{clerk.id}/deactivate", headers=admin)).status_code == 204
    for pairing in pairings:
        refused = await card_step(client, device, pairing["pairing_id"], card)
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "card_account_inactive")
    assert not await CardBinding.exists()
    assert (await Account.get(id=clerk.id)).realname_level == RealnameLevel.NONE


async def test_a_pairing_performs_its_action_once_with_two_challenges_in_flight(
    client: httpx.AsyncClient, card_authority: CardAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    first = issue_card(card_authority, identity(coop, card="66000001", holder="李四", n=1))
    second = issue_card(card_authority, identity(coop, card="66000002", holder="王五", n=2))
    # The second answer is refused before it gets there (the fix): then the first waits a second.
    monkeypatch.setattr(cards, "login_by_card", once_both_arrived(cards.login_by_card))
    pairing = await start_pairing(client, device, "login")
    await scan_and_confirm(client, pairing)
    path = f"/api/pairings/{pairing['pairing_id']}"
    challenges = [(await device.request(client, "POST", f"{path}/challenge")).json() for _ in range(2)]
    answers = await asyncio.gather(
        device.request(client, "POST", f"{path}/card", first.answer(challenges[0])),
        device.request(client, "POST", f"{path}/card", second.answer(challenges[1])),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert await CardBinding.all().count() == 1
    assert await Account.filter(username__in=["66000001", "66000002"]).count() == 1


async def test_one_card_logging_in_at_two_pcs_at_once_makes_one_account_and_two_logins(
    client: httpx.AsyncClient, card_authority: CardAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both logins read "no binding, no such account" before either wrote (PostgreSQL): the second
    insert of the card's account failed with a server error."""
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    devices = [await enrolled_device(tree.own, name=f"电脑{i}") for i in range(2)]
    card = issue_card(card_authority, identity(coop, kind="legal_rep", card="88005678"))
    # The second login waits for the first to commit (the fix): then the first waits a second.
    monkeypatch.setattr(cards, "_unit_admins", once_both_arrived(cards._unit_admins))
    pairings = [await start_pairing(client, device, "login") for device in devices]
    for pairing in pairings:
        await scan_and_confirm(client, pairing)
    answers = await asyncio.gather(
        *(card_step(client, device, p["pairing_id"], card) for device, p in zip(devices, pairings, strict=True))
    )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert {a.json()["result"]["account"]["username"] for a in answers} == {"88005678_ADMIN"}
    assert await Account.filter(username="88005678_ADMIN").count() == 1 and await CardBinding.all().count() == 1


async def test_a_refused_card_login_is_audited_as_a_failed_login(
    client: httpx.AsyncClient, card_authority: CardAuthority, clock: FrozenClock
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    stranger = CardAuthority.generate(name="陌生发卡机构", now=clock.now())
    refused, *_ = await card_login(client, device, issue_card(stranger, identity(coop)))
    assert refused.json()["error"]["code"] == "card_untrusted"
    entry = await AuditEntry.get(action="auth.login")
    assert (entry.outcome, entry.scope_path) == ("failure", tree.own.path)
    assert entry.detail == {"method": "card", "reason": "card_untrusted", "device": device.device_id}


async def test_a_card_action_s_entries_name_the_pc_that_read_the_card(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    """They named only the address, which an office's PCs share behind its router."""
    _, coop, _, device = await _coop_admin_and_clerk()
    other_pc = await enrolled_device(coop)
    await card_login(client, device, issue_card(card_authority, identity(coop, card="66000002")))
    bound = await AuditEntry.get(action="card.bind")
    assert bound.detail["device"] == device.device_id and other_pc.device_id != device.device_id
    await login(client, "coopadmin")  # a login on the phone: no PC
    assert "device" not in (await AuditEntry.filter(action="auth.login").order_by("-id").first()).detail


async def test_a_chain_certificate_with_unreadable_extensions_is_refused_not_a_server_error(
    client: httpx.AsyncClient, card_authority: CardAuthority, clock: FrozenClock
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    stranger = CardAuthority.generate(name="陌生发卡机构", now=clock.now())
    card = issue_card(stranger, identity(coop))
    key = ec.generate_private_key(ec.SECP256R1())
    garbled = (  # names the card's issuer, so the server looks at it as a step towards a trusted root
        x509.CertificateBuilder()
        .subject_name(stranger.certificate.subject)
        .issuer_name(stranger.certificate.subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(clock.now() - timedelta(days=1))
        .not_valid_after(clock.now() + timedelta(days=1))
        .add_extension(x509.UnrecognizedExtension(ExtensionOID.BASIC_CONSTRAINTS, b"\x01\x02??"), critical=False)
        .sign(key, hashes.SHA256())
    )
    pairing = await start_pairing(client, device, "login")
    await scan_and_confirm(client, pairing)
    path = f"/api/pairings/{pairing['pairing_id']}"
    challenge = (await device.request(client, "POST", f"{path}/challenge")).json()
    chain = [base64.b64encode(garbled.public_bytes(serialization.Encoding.DER)).decode()]
    refused = await device.request(client, "POST", f"{path}/card", card.answer(challenge) | {"chain": chain})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "card_certificate_malformed")
    state = await device.request(client, "GET", f"{path}/events")
    assert state.json()["state"] == "failed"


async def test_a_card_login_gives_one_session_for_as_long_as_the_pairing_is_kept(
    client: httpx.AsyncClient, card_authority: CardAuthority
) -> None:
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    card = issue_card(card_authority, identity(coop, kind="legal_rep"))
    done, pairing_id, phone_key = await card_login(client, device, card)
    assert done.json()["state"] == "done"
    assert (await client.post(f"/api/pairings/{pairing_id}/claim", json={"phone_key": phone_key})).status_code == 200

    redis = runtime.get().redis  # ten minutes and a bit pass in Redis (its key lifetimes run on real time)
    async for key in redis.scan_iter():
        left = await redis.ttl(key)
        if left > 0:
            await (redis.expire(key, left - 601) if left > 601 else redis.delete(key))
    again = await client.post(f"/api/pairings/{pairing_id}/claim", json={"phone_key": phone_key})
    assert again.status_code == 410


async def test_a_binding_cancelled_on_the_phone_while_the_card_is_checked_binds_nothing(
    client: httpx.AsyncClient, card_authority: CardAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    device, card = await _clerk_and_card(card_authority)
    bind_card = cards.bind_card
    working, cancelled_meanwhile = asyncio.Event(), asyncio.Event()

    async def bind_after_the_cancel(*args, **kwargs):
        working.set()  # the phone's cancel arrives while the server works on the card
        await cancelled_meanwhile.wait()
        return await bind_card(*args, **kwargs)

    monkeypatch.setattr(cards, "bind_card", bind_after_the_cancel)
    pairing = await start_pairing(client, device, "bind")
    phone_key = await scan_and_confirm(client, pairing, await login(client, "clerk1"))
    path = f"/api/pairings/{pairing['pairing_id']}"
    challenge = (await device.request(client, "POST", f"{path}/challenge")).json()
    submitted = asyncio.create_task(device.request(client, "POST", f"{path}/card", card.answer(challenge)))
    await working.wait()
    cancelled = await client.post(f"{path}/cancel", json={"phone_key": phone_key})
    cancelled_meanwhile.set()
    answer = await submitted
    state = (await device.request(client, "GET", f"{path}/events")).json()["state"]
    assert (cancelled.status_code, state, answer.status_code) == (200, "cancelled", 410)
    assert not await CardBinding.exists()


async def test_a_binding_whose_save_fails_after_it_was_marked_done_ends_failed_not_done(
    client: httpx.AsyncClient, card_authority: CardAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    device, card = await _clerk_and_card(card_authority)
    transition = pairing_store.transition

    async def commit_fails_after_done(pairing_id, **kwargs):
        answer = await transition(pairing_id, **kwargs)
        if kwargs["changes"].get("state") == "done":
            raise ConnectionResetError("the database went away before the commit")
        return answer

    monkeypatch.setattr(pairing_store, "transition", commit_fails_after_done)
    pairing = await start_pairing(client, device, "bind")
    await scan_and_confirm(client, pairing, await login(client, "clerk1"))
    path = f"/api/pairings/{pairing['pairing_id']}"
    challenge = (await device.request(client, "POST", f"{path}/challenge")).json()
    answer = await device.request(client, "POST", f"{path}/card", card.answer(challenge))
    events = (await device.request(client, "GET", f"{path}/events")).json()
    assert answer.status_code == 503 and not await CardBinding.exists()
    assert events["state"] == "failed" and events["error"]["code"] == "pairing_failed", events


async def test_a_card_answer_whose_pc_hung_up_meanwhile_may_be_sent_again(
    client: httpx.AsyncClient, card_authority: CardAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PC's connection dropped (or the response timed out) while the server worked on the card:
    Sanic cancels the handler, and the "being worked on" mark stayed, so every new card answer of
    the still confirmed pairing was refused (409 pairing_state) until it expired."""
    device, card = await _clerk_and_card(card_authority)
    bind_card = cards.bind_card
    working, hung_up = asyncio.Event(), asyncio.Event()

    async def slow_first_bind(*args, **kwargs):
        if not hung_up.is_set():
            working.set()
            await asyncio.Event().wait()  # the first answer never finishes: its PC hangs up
        return await bind_card(*args, **kwargs)

    monkeypatch.setattr(cards, "bind_card", slow_first_bind)
    pairing = await start_pairing(client, device, "bind")
    await scan_and_confirm(client, pairing, await login(client, "clerk1"))
    path = f"/api/pairings/{pairing['pairing_id']}"
    challenge = (await device.request(client, "POST", f"{path}/challenge")).json()
    submitted = asyncio.create_task(device.request(client, "POST", f"{path}/card", card.answer(challenge)))
    await asyncio.wait_for(working.wait(), 10)
    hung_up.set()
    submitted.cancel()  # the connection closes: the server cancels the handler
    with contextlib.suppress(asyncio.CancelledError):
        await submitted
    for _ in range(100):  # until the server has seen the connection go
        if (await device.request(client, "GET", f"{path}/events")).json()["state"] == "confirmed":
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    again = await card_step(client, device, pairing["pairing_id"], card)
    assert again.status_code == 200, again.text
    assert await CardBinding.exists()


async def test_a_claim_whose_session_could_not_be_started_may_be_retried(
    client: httpx.AsyncClient, card_authority: CardAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim is marked taken before the session starts: a server error in between (the
    mini-program retries it) left the mark, and the retry was answered "QR code expired"."""
    from backend.auth import actions as auth_actions

    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    done, pairing_id, phone_key = await card_login(client, device, issue_card(card_authority, identity(coop)))
    assert done.status_code == 200, done.text
    fail_once(
        monkeypatch, auth_actions, "start_session", ConnectionResetError("Redis went away before the session was kept")
    )
    claim = f"/api/pairings/{pairing_id}/claim"
    failed = await client.post(claim, json={"phone_key": phone_key})
    assert failed.status_code == 503, failed.text
    retried = await client.post(claim, json={"phone_key": phone_key})
    assert retried.status_code == 200, retried.text
    assert (await client.post(claim, json={"phone_key": phone_key})).status_code == 410  # still once


async def test_a_replacement_card_takes_over_its_holders_account_and_the_old_card_is_refused(
    client: httpx.AsyncClient, card_authority: CardAuthority, clock: FrozenClock
) -> None:
    """A clerk's new card (the old one lost) made a second clerk account beside the first, which
    kept the old card; a legal representative's new card was refused as someone else's admin."""
    tree, coop, clerk, device = await _coop_admin_and_clerk()
    old_card = issue_card(card_authority, identity(coop, card="66000002"))
    await card_login(client, device, old_card)
    clock.advance(30 * 86400)
    new_card = issue_card(card_authority, identity(coop, card="66000003"))
    done, *_ = await card_login(client, device, new_card)
    assert done.json()["result"]["account"]["username"] == "clerk1" and done.json()["result"]["created"] is None
    assert (await CardBinding.get(account_id=clerk.id)).card_number == "66000003"
    assert await Account.filter(memberships__unit_id=coop.id).count() == 2  # no second clerk
    entry = await AuditEntry.filter(action="card.bind").order_by("-id").first()
    assert entry is not None and entry.detail == {
        "by": "card_login",
        "kind": "operator",
        "replaced": 1,
        "device": device.device_id,
    }
    unbound = await AuditEntry.get(action="card.unbind")  # the old card's binding, removed
    assert unbound.target_id == str(clerk.id) and unbound.detail["by"] == "card_replaced"
    refused, *_ = await card_login(client, device, old_card)  # the lost card does not take it back
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "card_replaced")
    assert "新卡" in refused.json()["error"]["message"]
    assert (await CardBinding.get(account_id=clerk.id)).card_number == "66000003"

    rep_coop = await coop_with_code(tree.child, 2)
    await card_login(client, device, issue_card(card_authority, identity(rep_coop, kind="legal_rep", card="88000010")))
    clock.advance(30 * 86400)
    renewed = issue_card(card_authority, identity(rep_coop, kind="legal_rep", card="88000011"))
    again, *_ = await card_login(client, device, renewed)
    assert again.status_code == 200, again.text
    assert again.json()["result"]["account"]["username"] == "88000010_ADMIN"
    assert await Account.filter(memberships__unit_id=rep_coop.id).count() == 1


async def test_a_card_bound_before_issue_dates_were_kept_is_not_replaced_by_another_of_the_holder(
    client: httpx.AsyncClient, card_authority: CardAuthority, clock: FrozenClock
) -> None:
    """A binding without its card's issue date cannot tell which card is newer: a lost older card must
    not take the account, so neither card replaces it."""
    _, coop, clerk, device = await _coop_admin_and_clerk()
    await card_login(client, device, issue_card(card_authority, identity(coop, card="66000002")))
    await CardBinding.filter(account_id=clerk.id).update(issued_at=None)  # bound before migration 0017
    clock.advance(30 * 86400)
    refused, *_ = await card_login(client, device, issue_card(card_authority, identity(coop, card="66000003")))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "card_other_bound")
    assert "解绑" in refused.json()["error"]["message"]
    assert (await CardBinding.get(account_id=clerk.id)).card_number == "66000002"
    assert not await AuditEntry.filter(action="card.unbind").exists()


async def test_another_holders_card_still_does_not_take_a_bound_account(
    client: httpx.AsyncClient, card_authority: CardAuthority, clock: FrozenClock
) -> None:
    _tree, coop, clerk, device = await _coop_admin_and_clerk()
    await card_login(client, device, issue_card(card_authority, identity(coop, card="66000002")))
    clock.advance(30 * 86400)
    other = identity(coop, card="66000004", holder="王五", n=2)
    done, *_ = await card_login(client, device, issue_card(card_authority, other))
    assert done.json()["result"]["created"] == ["66000004"]  # their own account, not clerk1's
    assert (await CardBinding.get(account_id=clerk.id)).card_number == "66000002"
