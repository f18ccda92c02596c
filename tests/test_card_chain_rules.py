"""C4: the RFC 5280 rules of a card's certificate path: every CA in it may sign certificates
(keyUsage keyCertSign when the extension is there) and has no more sub-CAs below it than its
pathLen allows; a login takes the 9A authentication certificate, not the 9C signing one."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backend.accounts.models import Account
from backend.cards.verify import CardRefused, verify_card_answer
from backend.core.clock import FrozenClock
from backend.core.config import Settings
from card_service.fakes.card_ca import CardAuthority, CardIdentity, Slot
from tests.card_helpers import SoftwareCard, enrolled_device, scan_and_confirm, start_pairing
from tests.factories import make_tree
from tests.test_card_auth import coop_with_code, credit_code, id_number

NOW = datetime(2025, 6, 1, tzinfo=UTC)
CONTEXT = b"the context the backend asks the card to sign"
CERT_SIGN = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)
CRL_SIGN_ONLY = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)
DEFAULT = object()  # keyUsage keyCertSign + cRLSign


def make_ca(
    name: str,
    issuer: CardAuthority | None = None,
    *,
    path_length: int | None = None,
    key_usage: x509.KeyUsage | object | None = DEFAULT,
    now: datetime = NOW,
) -> CardAuthority:
    """A root (no ``issuer``) or a sub-CA; ``key_usage=None`` leaves the extension out."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
    )
    if key_usage is not None:
        usage = CERT_SIGN if key_usage is DEFAULT else key_usage
        assert isinstance(usage, x509.KeyUsage)
        builder = builder.add_extension(usage, critical=True)
    certificate = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    return CardAuthority(key=key, certificate=certificate)


HOLDER = CardIdentity("88000001", "李四", id_number(1), "合作社1", credit_code(1), "operator")  # coop_with_code's


def make_card(issuer: CardAuthority, *, slot: Slot = "9a", now: datetime = NOW) -> SoftwareCard:
    """An operator card of 合作社1 issued by ``issuer``, valid from a day before ``now``."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = now - timedelta(days=1)
    certificate = issuer.issue(
        HOLDER, key.public_key(), slot=slot, not_before=start, not_after=start + timedelta(days=365)
    )
    return SoftwareCard(identity=HOLDER, certificate=certificate.public_bytes(serialization.Encoding.DER), key=key)


def der(*authorities: CardAuthority) -> list[bytes]:
    return [a.certificate.public_bytes(serialization.Encoding.DER) for a in authorities]


def verify(card: SoftwareCard, chain: list[CardAuthority], root: CardAuthority) -> str:
    """The holder's card number, or the refusal's code."""
    signature = card.key.sign(CONTEXT, ec.ECDSA(hashes.SHA256()))
    try:
        holder = verify_card_answer(
            certificate=card.certificate,
            chain=der(*chain),
            signature=signature,
            context=CONTEXT,
            roots=[root.certificate],
            now=NOW,
        )
    except CardRefused as refused:
        return refused.code
    return holder.card_number


def test_a_card_through_a_sub_ca_under_a_root_that_allows_none_is_untrusted() -> None:
    root = make_ca("根CA", path_length=0)
    sub = make_ca("二级CA", root, path_length=0)
    assert verify(make_card(sub), [sub], root) == "card_untrusted"


def test_a_card_through_sub_cas_within_every_path_length_is_accepted() -> None:
    root = make_ca("根CA", path_length=1)
    sub = make_ca("二级CA", root, path_length=0)
    assert verify(make_card(sub), [sub], root) == "88000001"
    assert verify(make_card(root), [], root) == "88000001"  # pathLen 0 lets a CA issue cards itself
    open_root = make_ca("无限制根CA")
    middle = make_ca("二级CA", open_root)
    lowest = make_ca("三级CA", middle, path_length=0)
    assert verify(make_card(lowest), [lowest, middle], open_root) == "88000001"


def test_more_sub_cas_than_a_cas_path_length_allows_are_untrusted() -> None:
    root = make_ca("根CA", path_length=1)
    middle = make_ca("二级CA", root)
    lowest = make_ca("三级CA", middle)
    assert verify(make_card(lowest), [lowest, middle], root) == "card_untrusted"
    open_root = make_ca("无限制根CA")
    middle = make_ca("二级CA", open_root, path_length=0)  # the sub-CA's own limit counts too
    lowest = make_ca("三级CA", middle)
    assert verify(make_card(lowest), [lowest, middle], open_root) == "card_untrusted"


def test_a_self_issued_ca_certificate_does_not_count_against_the_path_length() -> None:
    """RFC 5280 6.1.4 (l): a key rollover certificate (same name, new key) is not another CA."""
    root = make_ca("根CA", path_length=0)
    rollover = make_ca("根CA", root, path_length=0)  # the root's name, a new key, signed by the old
    assert rollover.certificate.subject == root.certificate.subject
    assert verify(make_card(rollover), [rollover], root) == "88000001"


@pytest.mark.parametrize("where", ["sub-CA", "root"])
def test_a_ca_whose_key_usage_lacks_key_cert_sign_is_untrusted(where: str) -> None:
    root = make_ca("根CA", key_usage=CRL_SIGN_ONLY if where == "root" else DEFAULT)
    sub = make_ca("二级CA", root, path_length=0, key_usage=CRL_SIGN_ONLY if where == "sub-CA" else DEFAULT)
    assert verify(make_card(sub), [sub], root) == "card_untrusted"


def test_a_ca_without_a_key_usage_extension_may_still_issue() -> None:
    """RFC 5280 6.1.4 (n) checks keyCertSign only when the extension is present."""
    root = make_ca("根CA", key_usage=None)
    sub = make_ca("二级CA", root, path_length=0, key_usage=None)
    assert verify(make_card(sub), [sub], root) == "88000001"


def test_a_9c_signing_certificate_is_refused_for_authentication() -> None:
    """Logins, bindings and real-name checks ask for slot 9A; 9C (nonRepudiation) is for seals."""
    root = make_ca("根CA", path_length=0)
    assert verify(make_card(root, slot="9a"), [], root) == "88000001"
    assert verify(make_card(root, slot="9c"), [], root) == "card_key_usage"


async def card_login_through(
    client: httpx.AsyncClient, settings: Settings, root: CardAuthority, card: SoftwareCard, chain: list[CardAuthority]
) -> httpx.Response:
    """A card of 合作社1 logs in at a township PC, the backend trusting ``root`` only."""
    assert settings.card_issuer_ca is not None
    settings.card_issuer_ca.parent.mkdir(parents=True, exist_ok=True)
    settings.card_issuer_ca.write_bytes(root.certificate_pem())
    tree = await make_tree()
    await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    pairing = await start_pairing(client, device, "login")
    await scan_and_confirm(client, pairing)
    path = f"/api/pairings/{pairing['pairing_id']}"
    challenge = (await device.request(client, "POST", f"{path}/challenge")).json()
    answer = card.answer(challenge) | {"chain": [base64.b64encode(c).decode() for c in der(*chain)]}
    return await device.request(client, "POST", f"{path}/card", answer)


async def test_a_card_through_a_sub_ca_the_root_forbids_does_not_log_in(
    client: httpx.AsyncClient, settings: Settings, clock: FrozenClock
) -> None:
    root = make_ca("根CA", path_length=0, now=clock.now())
    sub = make_ca("二级CA", root, path_length=0, now=clock.now())
    refused = await card_login_through(client, settings, root, make_card(sub, now=clock.now()), [sub])
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "card_untrusted")
    assert await Account.all().count() == 0


async def test_a_card_through_a_sub_ca_the_root_allows_logs_in(
    client: httpx.AsyncClient, settings: Settings, clock: FrozenClock
) -> None:
    root = make_ca("根CA", path_length=1, now=clock.now())
    sub = make_ca("二级CA", root, path_length=0, now=clock.now())
    done = await card_login_through(client, settings, root, make_card(sub, now=clock.now()), [sub])
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "done"


async def test_a_cards_9c_signing_certificate_does_not_log_in(
    client: httpx.AsyncClient, settings: Settings, clock: FrozenClock
) -> None:
    root = make_ca("根CA", path_length=0, now=clock.now())
    refused = await card_login_through(client, settings, root, make_card(root, slot="9c", now=clock.now()), [])
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "card_key_usage")
    assert await Account.all().count() == 0
