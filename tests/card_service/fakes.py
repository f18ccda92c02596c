"""Stand-ins for the presenter's seams: a runner driven by the test, a clock, a scripted backend, a card.

The end-to-end tests use the real backend and the soft card through PC/SC instead; these exist so
the state machine can be driven step by step, including the moments a real system rarely offers
(a QR running out unscanned, a card pulled mid-signature, a PIN typed wrong).
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from card_service import presenter as presenter_module
from card_service import protocol
from card_service.api import BackendError, CardSubmission, Challenge, DeviceInfo, Enrolment, PairingState, Person
from card_service.card import CardInserted, InvalidPinError, PinBlockedError, ReaderAdded
from card_service.device_key import DeviceKey
from card_service.fakes.card_ca import CardAuthority, CardIdentity
from card_service.presenter import Presenter, Screen, Task, ViewModel

HOLDER = CardIdentity(
    card_number="310000000123",
    holder_name="李建国",
    id_number="11010519491231002X",
    unit_name="王家湾村民委员会",
    unit_credit_code="54530101MJ0000001X",
    kind="legal_rep",
)
READER = "Virtual PCD 00 00"
ATR = bytes.fromhex("3b8980018047504956000000")


class Hang(BaseException):
    """Raised by a fake call that has no answer yet (a long-poll still waiting): the task just ends."""


class ManualRunner:
    """Keeps tasks until the test runs them (on the test's thread).

    A task whose call hangs (a long-poll with nothing new) is parked and tried again on the next
    run, as if the long-poll had been waiting all along.
    """

    def __init__(self) -> None:
        self.tasks: list[Task] = []
        self.parked: list[Task] = []

    def __call__(self, task: Task) -> None:
        self.tasks.append(task)

    def run(self) -> int:
        """Run every pending and parked task once; returns how many finished."""
        finished = 0
        pending, self.parked = [*self.parked, *self.tasks], []
        self.tasks = []
        for task in pending:
            try:
                task()
            except Hang:
                self.parked.append(task)
                continue
            finished += 1
        return finished


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeApi:
    """The backend as the presenter sees it, scripted by the test."""

    key: DeviceKey
    self_answers: list[DeviceInfo | BackendError] = field(default_factory=list)
    events_script: dict[str, list[PairingState | BaseException]] = field(default_factory=dict)
    pairings: list[PairingState] = field(default_factory=list)
    submissions: list[tuple[str, CardSubmission]] = field(default_factory=list)
    challenges: list[Challenge] = field(default_factory=list)
    enrolments: int = 0
    calls: list[str] = field(default_factory=list)
    challenge_action: str | None = None  # set to make the server ask for another action's signature
    outcome: Callable[[PairingState], PairingState] | None = None
    cancel_error: BaseException | None = None  # set to make the PC's cancel fail
    cancel_timeouts: list[float | None] = field(default_factory=list)  # each cancel's own time limit
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def enrol(self, hostname: str) -> Enrolment:
        self.calls.append("enrol")
        self.enrolments += 1
        return Enrolment(
            token=f"tok{self.enrolments}",
            qr=f"cwt://enrol/tok{self.enrolments}",
            fingerprint=self.key.fingerprint,
            expires_in=600,
        )

    def device_self(self) -> DeviceInfo:
        self.calls.append("self")
        if not self.self_answers:
            raise BackendError("device_unknown", "设备未登记", status=401)
        answer = self.self_answers[0] if len(self.self_answers) == 1 else self.self_answers.pop(0)
        if isinstance(answer, BackendError):
            raise answer
        return answer

    def create_pairing(self, action: str) -> PairingState:
        self.calls.append(f"pair:{action}")
        number = next(self._ids)
        state = PairingState(
            pairing_id=f"p{number}",
            state="created",
            version=1,
            action=action,
            user_code=f"ABC{number}-2345",
            qr=f"cwt://pair/token{number}",
            expires_in=120,
        )
        self.pairings.append(state)
        self.events_script.setdefault(state.pairing_id, [])
        return state

    def events(self, pairing_id: str, since: int, wait: int = 25) -> PairingState:
        self.calls.append(f"events:{pairing_id}:{since}")
        script = self.events_script.get(pairing_id) or []
        if not script:
            raise Hang
        answer = script.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def cancel_pairing(self, pairing_id: str, *, timeout: float | None = None) -> PairingState:
        self.calls.append(f"cancel:{pairing_id}")
        self.cancel_timeouts.append(timeout)
        if self.cancel_error is not None:
            raise self.cancel_error
        base = next(p for p in self.pairings if p.pairing_id == pairing_id)
        return PairingState(pairing_id=pairing_id, state="cancelled", version=base.version + 1, action=base.action)

    def close(self) -> None:
        self.calls.append("close")

    def push(self, pairing_id: str, state: str, **extra: Any) -> None:
        """The next event of a pairing (version one past the last one scripted or created)."""
        base = next(p for p in self.pairings if p.pairing_id == pairing_id)
        scripted = [s for s in self.events_script[pairing_id] if isinstance(s, PairingState)]
        version = (scripted[-1].version if scripted else base.version) + 1
        self.events_script[pairing_id].append(
            PairingState(pairing_id=pairing_id, state=state, version=version, action=base.action, **extra)
        )

    def challenge(self, pairing_id: str) -> Challenge:
        self.calls.append(f"challenge:{pairing_id}")
        pairing = next(p for p in self.pairings if p.pairing_id == pairing_id)
        nonce = protocol.b64url(bytes([len(self.challenges)]) * 32)
        context = protocol.card_context(
            action=self.challenge_action or pairing.action, device=self.key.device_id, pairing=pairing_id, nonce=nonce
        )
        challenge = Challenge(nonce=nonce, to_sign=protocol.b64url(context), slot="9a", expires_at="")
        self.challenges.append(challenge)
        return challenge

    def deliver_card(self, pairing_id: str, submission: CardSubmission) -> PairingState:
        self.calls.append(f"card:{pairing_id}")
        self.submissions.append((pairing_id, submission))
        pairing = next(p for p in self.pairings if p.pairing_id == pairing_id)
        done = PairingState(
            pairing_id=pairing_id,
            state="done",
            version=9,
            action=pairing.action,
            confirmed_by=Person("测试管理员", "admin"),
            result={"message": "已登录", "account": {"id": 1, "username": "310000000123_ADMIN", "name": "李建国"}},
        )
        return self.outcome(done) if self.outcome else done


@dataclass
class FakeCard:
    """A PIV card in memory: a 9A key and certificate from a test CA, a PIN with retries."""

    authority: CardAuthority
    identity: CardIdentity = HOLDER
    pin: str = field(default="123456", repr=False)  # the card knows its PIN; the presenter must not
    retries: int = 3
    present: bool = True
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    signed: list[bytes] = field(default_factory=list)
    pins_seen: int = 0
    certificate: x509.Certificate | None = None

    def __post_init__(self) -> None:
        self.certificate = self.authority.issue(self.identity, self.key.public_key())

    # PivSession's shape
    def select(self) -> None:
        if not self.present:
            raise OSError("no card")

    def read_certificate(self, slot: str) -> x509.Certificate:
        assert slot == "9a" and self.certificate is not None
        return self.certificate

    def verify_pin(self, pin: str) -> None:
        self.pins_seen += 1
        if self.retries == 0:
            raise PinBlockedError()
        if pin != self.pin:
            self.retries -= 1
            if self.retries == 0:
                raise PinBlockedError()
            raise InvalidPinError(self.retries)
        self.retries = 3

    def sign(self, slot: str, digest: bytes) -> bytes:
        self.signed.append(digest)
        return self.key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))

    @contextmanager
    def open(self, reader: str) -> Iterator[FakeCard]:
        yield self


def certificate_b64(certificate: x509.Certificate) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return base64.b64encode(certificate.public_bytes(Encoding.DER)).decode()


@dataclass
class Rig:
    presenter: Presenter
    api: FakeApi
    card: FakeCard
    runner: ManualRunner
    clock: FakeClock

    def settle(self, rounds: int = 20) -> None:
        """Run tasks and apply their results until nothing moves."""
        for _ in range(rounds):
            ran = self.runner.run()
            applied = self.presenter.pump()
            if not ran and not applied:
                return

    def tick(self, seconds: float = 0) -> None:
        self.clock.advance(seconds)
        self.presenter.tick()
        self.settle()

    def insert(self, reader: str = READER, *, mute: bool = False) -> None:
        """A reader and a card in it (``mute``: one that answers nothing, pcsc-lite gives no ATR)."""
        self.presenter.on_card_event(ReaderAdded(reader))
        self.presenter.on_card_event(CardInserted(reader, b"" if mute else ATR, mute=mute))
        self.settle()

    def insert_unreadable(self, monkeypatch: pytest.MonkeyPatch, error: Exception) -> ViewModel:
        """A card whose every read raises ``error`` put in (read without the pause between tries):
        the window it leaves."""
        monkeypatch.setattr(presenter_module, "CARD_READ_PAUSE", 0)

        def fail() -> None:
            raise error

        monkeypatch.setattr(self.card, "select", fail)
        self.insert()
        return self.presenter.view()

    def start_pairing(self, action: str = "login") -> str:
        """A card in, ``action`` chosen: the QR's pairing id."""
        self.insert()
        self.presenter.choose_action(action)
        self.settle()
        return self.api.pairings[-1].pairing_id

    def to_pin(self) -> str:
        """A pairing scanned and confirmed on the phone: the PIN screen's pairing id."""
        pairing_id = self.start_pairing()
        self.api.push(pairing_id, "scanned")
        self.api.push(pairing_id, "confirmed")
        self.settle()
        assert self.presenter.view().screen is Screen.PIN
        return pairing_id


def make_rig(
    home: Path,
    *,
    enrolled: bool = True,
    authority: CardAuthority | None = None,
    preferred_reader: str | None = None,
) -> Rig:
    runner, clock = ManualRunner(), FakeClock()
    card = FakeCard(authority or CardAuthority.generate(now=dt.datetime.now(dt.UTC)))
    holder: dict[str, FakeApi] = {}

    def api_factory(key: DeviceKey) -> FakeApi:
        api = FakeApi(key)
        if enrolled:
            api.self_answers.append(
                DeviceInfo(
                    device_id=key.device_id,
                    name="党政办1号机",
                    unit_name="白沙镇",
                    status="active",
                    fingerprint=key.fingerprint,
                )
            )
        holder["api"] = api
        return api

    def open_card(reader: str) -> AbstractContextManager[FakeCard]:
        return rig.card.open(reader)  # whichever card is in the reader now (a test may swap it)

    presenter = Presenter(
        home=home,
        api_factory=api_factory,
        open_card=open_card,
        clock=clock,
        runner=runner,
        hostname="office-pc",
        preferred_reader=preferred_reader,
    )
    presenter.start()
    rig = Rig(presenter=presenter, api=holder["api"], card=card, runner=runner, clock=clock)
    rig.settle()
    return rig
