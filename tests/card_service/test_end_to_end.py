"""The presenter against the real backend test server and the soft PIV card through real PC/SC
(pcscd + vpcd, the card monitor, pyscard): enrolment by an admin, a card login from the QR to the
phone's session, a wrong PIN, and a lost answer that must not repeat the login.

The presenter's tasks run on real worker threads (as in the program) while the server runs in the
test's event loop; the test turns the presenter's crank the way the window does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from backend.accounts.models import Account
from backend.core.audit import AuditEntry
from backend.core.clock import FrozenClock
from backend.core.roles import Role
from backend.units.models import Unit
from card_service import messages, protocol
from card_service.api import BackendClient
from card_service.card import CardMonitor, Slot, open_piv
from card_service.device_key import DeviceKey
from card_service.fakes.card_ca import CardAuthority, CardIdentity
from card_service.fakes.soft_piv import VPCD_PORT, SoftPivCard
from card_service.presenter import Piv, Presenter, Screen, ViewModel, thread_runner
from tests.card.conftest import PcscStack
from tests.factories import login, make_account, make_tree

ROOT = Path(__file__).resolve().parents[2]
CREDIT_CODE = "91350100M000100Y43"
# vpcd's second slot, so the card layer's own tests on the first one are not in the way
READER = "Virtual PCD 00 01"
PORT = VPCD_PORT + 1


class LosingTransport(httpx.BaseTransport):
    """The real network, except that the answer to the first card submission is lost on the way back."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.card_posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # Counted as it leaves: on a busy machine the real network may lose the answer first (a read
        # timeout), and a submission counted only on its answer went uncounted (a CI run).
        card = request.method == "POST" and request.url.path.endswith("/card")
        self.card_posts += card
        response = self.inner.handle_request(request)
        if card and self.card_posts == 1:
            response.read()  # the server has acted; its answer never reaches us
            response.close()
            raise httpx.ReadError("connection reset", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


@dataclass
class Desk:
    """An office PC: the presenter, and what the test plugs into it."""

    presenter: Presenter
    clients: list[BackendClient]
    monitor: CardMonitor

    async def until(self, predicate: Callable[[ViewModel], bool], seconds: float = 20) -> ViewModel:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            self.presenter.tick()
            self.presenter.pump()
            view = self.presenter.view()
            if predicate(view):
                return view
            if loop.time() > deadline:
                raise AssertionError(f"timed out on the screen {view.screen}: {view.status}")
            await asyncio.sleep(0.05)


@pytest.fixture
def make_desk(server: str, clock: FrozenClock, tmp_path: Path, pcsc: PcscStack) -> Iterator[Callable[..., Desk]]:
    desks: list[Desk] = []

    def make(
        open_card: Callable[[str], AbstractContextManager[Piv]] = open_piv,
        *,
        transport: httpx.BaseTransport | None = None,
        home: Path | None = None,
    ) -> Desk:
        clients: list[BackendClient] = []

        def api_factory(key: DeviceKey) -> BackendClient:
            # device requests carry the backend's (frozen) time, as a PC with a synchronised clock would
            client = BackendClient(server, key, now=clock.timestamp, timeout=10, backoff=0.05, transport=transport)
            clients.append(client)
            return client

        presenter = Presenter(
            home=home or tmp_path / "card-service",
            api_factory=api_factory,
            open_card=open_card,
            runner=thread_runner,
            hostname="BANGONG-PC",
            preferred_reader=READER,
        )
        desk = Desk(presenter, clients, CardMonitor(presenter.on_card_event))
        desk.monitor.start()
        desks.append(desk)
        return desk

    yield make
    for desk in desks:
        desk.monitor.stop()
        desk.presenter.close()


@pytest.fixture
async def village(card_authority: CardAuthority) -> AsyncIterator[Unit]:
    tree = await make_tree()
    await make_account("admin1", tree.own, Role.ADMIN)
    await Unit.filter(id=tree.child.id).update(credit_code=CREDIT_CODE)
    yield tree.child


@pytest.fixture
def soft_card(card_authority: CardAuthority, clock: FrozenClock) -> Iterator[SoftPivCard]:
    """A legal-person card of the village, certificates valid at the backend's (frozen) clock."""
    identity = CardIdentity(
        card_number="350100000001",
        holder_name="林海燕",
        id_number="11010519491231002X",
        unit_name="王家湾村民委员会",
        unit_credit_code=CREDIT_CODE,
        kind="legal_rep",
    )
    keys = {slot: ec.generate_private_key(ec.SECP256R1()) for slot in Slot}
    start = clock.now() - dt.timedelta(days=1)
    certificates = {
        slot: card_authority.issue(
            identity, keys[slot].public_key(), slot="9a" if slot is Slot.AUTHENTICATION else "9c", not_before=start
        )
        for slot in Slot
    }
    card = SoftPivCard(keys=keys, certificates=certificates)
    yield card
    card.remove()


async def _enrol(desk: Desk, client: httpx.AsyncClient, unit: Unit) -> None:
    """The PC shows its QR; the admin scans it, checks the fingerprint and puts the PC in a unit."""
    desk.presenter.start()
    view = await desk.until(lambda v: v.screen is Screen.ENROLLING)
    assert view.qr_text and view.qr_text.startswith(protocol.ENROL_QR_PREFIX)
    token = view.qr_text.removeprefix(protocol.ENROL_QR_PREFIX)
    admin = await login(client, "admin1")
    preview = await client.get(f"/api/devices/enrolments/{token}", headers=admin)
    assert preview.status_code == 200, preview.text
    assert preview.json()["fingerprint"] in (view.fingerprint or "")
    assert preview.json()["hostname"] == "BANGONG-PC"
    approved = await client.post(
        f"/api/devices/enrolments/{token}/approve", json={"name": "白沙镇党政办电脑", "unit_id": unit.id}, headers=admin
    )
    assert approved.status_code == 201, approved.text
    view = await desk.until(lambda v: v.screen is Screen.IDLE, seconds=15)
    assert view.device_line == f"本机已登记：白沙镇党政办电脑（{unit.name}）"


async def _insert_card(desk: Desk, card: SoftPivCard) -> ViewModel:
    """The card goes into the virtual reader; the monitor sees it, the presenter reads its certificate."""
    await desk.until(lambda v: READER in v.reader_line)
    await asyncio.to_thread(card.insert, port=PORT)
    return await desk.until(lambda v: v.card_line.startswith("持卡人"))


async def _phone_confirms(desk: Desk, client: httpx.AsyncClient) -> tuple[str, str]:
    """The phone scans the QR on screen (anonymously: a login) and confirms; returns (pairing id, phone key)."""
    view = await desk.until(lambda v: v.screen is Screen.PAIRING and bool(v.qr_text))
    assert view.qr_text and view.user_code and view.countdown == "二维码剩余 2:00"
    scanned = await client.post(
        "/api/pairings/scan", json={"token": view.qr_text.removeprefix(protocol.PAIR_QR_PREFIX)}
    )
    assert scanned.status_code == 200, scanned.text
    phone = scanned.json()
    assert phone["user_code"] == view.user_code
    assert phone["device"]["name"] == "白沙镇党政办电脑"
    await desk.until(lambda v: v.status == messages.PAIRING_SCANNED)
    pairing_id, phone_key = phone["pairing_id"], phone["phone_key"]
    confirmed = await client.post(f"/api/pairings/{pairing_id}/confirm", json={"phone_key": phone_key})
    assert confirmed.status_code == 200, confirmed.text
    view = await desk.until(lambda v: v.screen is Screen.PIN)
    assert view.confirmed_by == messages.PAIRING_CONFIRMED_ANONYMOUS
    return pairing_id, phone_key


async def test_enrolment_and_card_login_end_to_end(
    make_desk: Callable[..., Desk],
    client: httpx.AsyncClient,
    village: Unit,
    soft_card: SoftPivCard,
) -> None:
    desk = make_desk()
    township = await Unit.get(id=village.parent_id)
    await _enrol(desk, client, township)

    view = await _insert_card(desk, soft_card)
    assert view.card_line == "持卡人：林海燕　卡号：350100000001"

    desk.presenter.choose_action("login")
    pairing_id, phone_key = await _phone_confirms(desk, client)

    desk.presenter.submit_pin("654321")
    view = await desk.until(lambda v: v.screen is Screen.PIN and v.pin_error is not None)
    assert view.pin_error == "PIN码错误，还可尝试 2 次。"
    assert soft_card.pin_retries_left == 2

    desk.presenter.submit_pin("123456")
    view = await desk.until(lambda v: v.screen is Screen.RESULT)
    assert view.result_ok is True, view.result

    claimed = await client.post(f"/api/pairings/{pairing_id}/claim", json={"phone_key": phone_key})
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["username"] == "350100000001_ADMIN"
    profile = await client.get("/api/profile", headers={"Authorization": f"Bearer {claimed.json()['token']}"})
    assert profile.status_code == 200


async def test_a_lost_answer_never_repeats_the_card_login(
    make_desk: Callable[..., Desk],
    client: httpx.AsyncClient,
    village: Unit,
    soft_card: SoftPivCard,
) -> None:
    transport = LosingTransport()
    signatures: list[bytes] = []

    @contextmanager
    def counting_piv(reader: str) -> Iterator[Piv]:
        with open_piv(reader) as piv:
            sign = piv.sign

            def counted(slot: Slot | int | str, digest: bytes) -> bytes:
                signatures.append(digest)
                return sign(slot, digest)

            piv.sign = counted  # type: ignore[method-assign]
            yield piv

    desk = make_desk(counting_piv, transport=transport)
    await _enrol(desk, client, await Unit.get(id=village.parent_id))
    await _insert_card(desk, soft_card)
    desk.presenter.choose_action("login")
    pairing_id, phone_key = await _phone_confirms(desk, client)

    desk.presenter.submit_pin("123456")
    view = await desk.until(lambda v: v.screen is Screen.RESULT)
    assert view.result_ok is True, view.result
    assert transport.card_posts == 1  # the state said done: nothing was sent again
    assert len(signatures) == 1
    assert await Account.filter(username="350100000001_ADMIN").count() == 1
    logins = await AuditEntry.filter(action__startswith="card.").values_list("action", flat=True)
    assert len([a for a in logins if "login" in a]) <= 1
    claimed = await client.post(f"/api/pairings/{pairing_id}/claim", json={"phone_key": phone_key})
    assert claimed.status_code == 200


async def test_closing_the_window_tells_the_phone_at_once(
    make_desk: Callable[..., Desk],
    client: httpx.AsyncClient,
    village: Unit,
    soft_card: SoftPivCard,
) -> None:
    desk = make_desk()
    await _enrol(desk, client, await Unit.get(id=village.parent_id))
    await _insert_card(desk, soft_card)
    desk.presenter.choose_action("login")
    view = await desk.until(lambda v: v.screen is Screen.PAIRING and bool(v.qr_text))
    assert view.qr_text
    token = view.qr_text.removeprefix(protocol.PAIR_QR_PREFIX)
    scanned = await client.post("/api/pairings/scan", json={"token": token})
    assert scanned.status_code == 200, scanned.text
    pairing_id, phone_key = scanned.json()["pairing_id"], scanned.json()["phone_key"]
    await desk.until(lambda v: v.status == messages.PAIRING_SCANNED)

    await asyncio.to_thread(desk.presenter.close)  # the window closes (the server answers meanwhile)

    events = await client.get(
        f"/api/pairings/{pairing_id}/phone-events?since=0&wait=0", headers={"X-Pairing-Key": phone_key}
    )
    assert events.status_code == 200, events.text
    assert events.json()["state"] == "cancelled"
    assert events.json()["error"]["code"] == "pairing_cancelled_by_device"
    again = await client.post("/api/pairings/scan", json={"token": token})
    assert again.status_code == 410
