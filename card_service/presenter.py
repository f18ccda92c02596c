"""All of the card service's UI logic, with no Tk: a state machine that renders to a plain view-model.

The window calls ``tick()`` and ``pump()`` from its event loop and draws ``view()``; clicks come in
as ``choose_action``, ``submit_pin``, ``cancel`` and ``back``. Backend calls and card I/O run as
tasks on the injected runner (worker threads in the program); their results come back through a
queue that ``pump()`` drains on the UI thread, so every state change happens on one thread. Tests
inject a runner that runs tasks when told, a clock, a fake monitor feed and fakes of the backend.

The PIN goes from ``submit_pin`` straight into the signing task's arguments: it is never kept on
the presenter, never in the view-model, and never logged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import queue
import socket
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from card_service import messages, protocol
from card_service.api import (
    BackendError,
    CardSubmission,
    Challenge,
    DeviceInfo,
    Enrolment,
    NetworkError,
    PairingState,
)
from card_service.card import (
    ApduError,
    BadResponseError,
    CardError,
    CardEvent,
    CardInserted,
    CardMuteError,
    CardRemoved,
    CardRemovedError,
    InvalidPinError,
    NoCardError,
    PinBlockedError,
    PinFormatError,
    ReaderAdded,
    ReaderRemoved,
    ReaderUnavailableError,
    ServiceLost,
    ServiceRestored,
)
from card_service.device_key import DeviceKey, DeviceKeyError, key_path, load_or_create

log = logging.getLogger(__name__)

T = TypeVar("T")
Task = Callable[[], None]
Runner = Callable[[Task], None]

ACTIONS = ("login", "bind", "realname")
AUTH_SLOT = "9a"
ENROL_POLL_SECONDS = 3.0
RETRY_SECONDS = 5.0
START_RETRY_MAX_SECONDS = 30.0  # the start's retries grow from RETRY_SECONDS to this (a PC up before its network)
CARD_READ_ATTEMPTS = 3
CARD_READ_PAUSE = 0.3
RESULT_SECONDS = 60.0  # a shared PC: a result (a name, an account) does not wait for the next person
PAIRING_QRS = 3  # an unscanned QR is renewed twice (six minutes in all), then taken down
SERVER_WAIT_SECONDS = 60.0  # a pairing screen waits this long for a server that does not answer, then gives up
CLOSE_CANCEL_SECONDS = 3.0  # the cancel sent as the window closes: a dead server holds the exit no longer


class Api(Protocol):
    """What the presenter asks of the backend (``card_service.api.BackendClient``)."""

    def enrol(self, hostname: str) -> Enrolment: ...
    def device_self(self) -> DeviceInfo: ...
    def create_pairing(self, action: str) -> PairingState: ...
    def events(self, pairing_id: str, since: int, wait: int = ...) -> PairingState: ...
    def cancel_pairing(self, pairing_id: str, *, timeout: float | None = ...) -> PairingState: ...
    def challenge(self, pairing_id: str) -> Challenge: ...
    def deliver_card(self, pairing_id: str, submission: CardSubmission) -> PairingState: ...


class Piv(Protocol):
    """The PIV operations the presenter needs (``card_service.card.PivSession``)."""

    def select(self) -> object: ...
    def read_certificate(self, slot: str) -> x509.Certificate: ...
    def verify_pin(self, pin: str) -> None: ...
    def sign(self, slot: str, digest: bytes) -> bytes: ...


CardOpener = Callable[[str], AbstractContextManager[Piv]]


def thread_runner(task: Task) -> None:
    """The program's runner: each task on its own daemon thread (long-polls block for up to 25 s)."""
    threading.Thread(target=task, daemon=True, name="card-service-task").start()


class Screen(StrEnum):
    STARTING = "starting"
    KEY_ERROR = "key_error"
    ENROLLING = "enrolling"
    REVOKED = "revoked"
    IDLE = "idle"
    PAIRING = "pairing"
    PIN = "pin"
    SIGNING = "signing"
    RESULT = "result"


@dataclass(frozen=True)
class ActionButton:
    action: str
    label: str
    enabled: bool


@dataclass(frozen=True)
class ViewModel:
    """Everything the window shows; texts are ready to display."""

    screen: Screen
    title: str = ""
    status: str = ""
    device_line: str = ""
    reader_line: str = ""
    card_line: str = ""
    qr_text: str | None = None
    fingerprint: str | None = None
    user_code: str | None = None
    countdown: str | None = None
    confirmed_by: str | None = None
    pin_visible: bool = False
    pin_error: str | None = None
    actions: tuple[ActionButton, ...] = ()
    can_cancel: bool = False
    can_go_back: bool = False
    can_retry: bool = False  # 重试: the same action again (after a server that did not answer)
    result: str | None = None
    result_ok: bool | None = None


@dataclass(frozen=True)
class CardHolder:
    """Whose card is in the reader (shown), and which card exactly (its certificate's SHA-256)."""

    name: str
    card_number: str
    certificate_sha256: bytes


def card_holder(certificate: x509.Certificate) -> CardHolder:
    """The holder's name and card number from a card certificate (subject CN and serialNumber)."""

    def first(oid: x509.ObjectIdentifier) -> str:
        values = certificate.subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else ""

    return CardHolder(
        name=first(NameOID.COMMON_NAME),
        card_number=first(NameOID.SERIAL_NUMBER),
        certificate_sha256=hashlib.sha256(certificate.public_bytes(Encoding.DER)).digest(),
    )


@dataclass(frozen=True)
class _Pairing:
    """The pairing on screen: what the server said, and when it runs out on our own clock."""

    state: PairingState
    expires_at: float
    qr: str
    user_code: str


class ChallengeMismatch(Exception):
    """The server asked the card to sign a context that is not the one on screen."""


class CardChanged(Exception):
    """The card in the reader is not the one the PIN was typed for (it was swapped meanwhile)."""


class ChallengeUnavailable(Exception):
    """The server gave no challenge (no answer, or a 5xx): nothing was signed, no PIN try spent."""


class OutcomeUnknown(Exception):
    """The card's answer was sent but no word of what the server did with it came back."""


class Presenter:
    def __init__(
        self,
        *,
        home: Path,
        api_factory: Callable[[DeviceKey], Api],
        open_card: CardOpener,
        clock: Callable[[], float] = time.monotonic,
        runner: Runner = thread_runner,
        hostname: str | None = None,
        preferred_reader: str | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._home = home
        self._api_factory = api_factory
        self._open_card = open_card
        self._clock = clock
        self._runner = runner
        self._hostname = hostname or socket.gethostname()
        self._preferred_reader = preferred_reader
        self._on_change = on_change
        self._inbox: queue.SimpleQueue[Task] = queue.SimpleQueue()
        self._closed = False

        self.key: DeviceKey | None = None
        self.api: Api | None = None
        self._screen = Screen.STARTING
        self._status = messages.STARTING
        self._device: DeviceInfo | None = None
        self._enrolment: Enrolment | None = None
        self._enrolment_expires = 0.0
        self._next_check = 0.0
        self._checking = False
        self._start_failures = 0  # the start's (and enrolment's) looks at the server failing in a row
        self._start_failing_since: float | None = None  # the first of them
        self._start_error: str | None = None  # the server's refusal; None when it did not answer at all
        # readers and the card
        self._readers: list[str] = []
        self._readers_with_card: set[str] = set()
        self._mute_readers: set[str] = set()  # of those, the ones whose card does not answer
        self._reader: str | None = None
        self._card_present = False
        self._holder: CardHolder | None = None
        self._card_problem: tuple[str, str] | None = None  # (card line, what to do) of a card that cannot be used
        self._card_generation = 0
        self._signing_card: int | None = None  # the card generation a PIN was sent to (to tell if it was pulled)
        self._service_lost = False
        self._reader_logged: tuple[str | None, tuple[str, ...]] | None = None
        self._notice: str | None = None
        # the action under way; _op changes whenever it is abandoned, so late answers are dropped
        self._op = 0
        self._action: str | None = None
        self._pairing: _Pairing | None = None
        self._qrs_shown = 0
        self._poll_again_at: float | None = None
        self._confirmed_by: str | None = None
        self._pin_error: str | None = None
        self._result: tuple[bool, str] | None = None
        self._result_until = 0.0
        self._retry_action: str | None = None  # the action 重试 starts again on the result screen
        self._create_deadline: float | None = None  # when a pairing asked for and not yet made is given up
        self._failing_since: float | None = None  # the first of the long-polls failing in a row

    # Called by the window (UI thread)

    def start(self) -> None:
        """Load the device key (making one on first start) and ask the backend who this device is."""
        try:
            self.key, created = load_or_create(self._home)
        except DeviceKeyError as error:
            log.error("the device key cannot be used: %s", error)
            self._screen = Screen.KEY_ERROR
            self._status = _key_error_text(error)
            return
        if created:
            log.info("device key created, device id %s", self.key.device_id)
        self.api = self._api_factory(self.key)
        if self._preferred_reader is not None:
            log.info("waiting for reader %r (--reader); no other reader is used", self._preferred_reader)
        self._check_self()

    def tick(self) -> None:
        """Time-driven steps: enrolment polling, retries after network errors, QR countdown and refresh."""
        now = self._clock()
        if self._screen is Screen.ENROLLING and self._enrolment and now >= self._enrolment_expires:
            self._enrolment = None  # its QR no longer works: taken down until a new one is made
            self._status = messages.ENROL_REFRESHING
        if self._screen in (Screen.STARTING, Screen.ENROLLING) and not self._checking and now >= self._next_check:
            self._look_at_server()
        if self._pairing and self._screen is Screen.PAIRING:
            if self._pairing.state.state == "created" and now >= self._pairing.expires_at:
                self._refresh_pairing()
        elif self._screen is Screen.PAIRING and self._create_deadline is not None and now >= self._create_deadline:
            self._give_up()  # the request for a QR got no answer at all
        if self._poll_again_at is not None and now >= self._poll_again_at:
            self._poll_again_at = None
            self._poll(self._op)
        if self._screen is Screen.RESULT and now >= self._result_until:
            self._to_idle()

    def pump(self) -> bool:
        """Apply the results the tasks handed back; True when anything was applied."""
        applied = False
        while True:
            try:
                step = self._inbox.get_nowait()
            except queue.Empty:
                return applied
            step()
            applied = True

    def on_card_event(self, event: CardEvent) -> None:
        """The monitor's callback (any thread): the event is applied on the UI thread by ``pump``."""
        self._post(lambda: self._apply_card_event(event))

    def choose_action(self, action: str) -> None:
        if action not in ACTIONS or self._screen is not Screen.IDLE:
            return
        if not self._card_usable():
            self._notice = None if self._card_present else messages.INSERT_CARD_FIRST
            return
        self._action = action
        self._notice = None
        self._qrs_shown = 0
        self._start_pairing()

    def submit_pin(self, pin: str) -> None:
        """Hand the PIN to a signing task; nothing here keeps it."""
        if self._screen is not Screen.PIN or self._pairing is None or self._reader is None:
            return
        if not pin:
            self._pin_error = messages.PIN_EMPTY
            return
        if not (6 <= len(pin) <= 8 and pin.isascii() and pin.isalnum()):  # the card would refuse it, so no try is spent
            self._pin_error = messages.PIN_FORMAT
            return
        self._screen = Screen.SIGNING
        self._status = messages.SIGNING
        self._pin_error = None
        self._signing_card = self._card_generation
        op, pairing, reader, holder = self._op, self._pairing.state, self._reader, self._holder
        self._spawn(
            op,
            lambda: self._sign_and_submit(pairing, reader, holder, pin),
            self._signed,
            self._signing_failed,
        )

    def cancel(self) -> None:
        if self._screen in (Screen.PAIRING, Screen.PIN, Screen.SIGNING):
            self._cancel_on_server()
            self._to_idle()

    def back(self) -> None:
        if self._screen is Screen.RESULT:
            self._to_idle()

    def retry(self) -> None:
        """重试 on a result that offers it: the same action again, with a new QR; on the start and
        enrolment screens, after the server could not be reached: another look at once."""
        if self._start_retry_offered():
            self._look_at_server()
            return
        if self._screen is not Screen.RESULT or self._retry_action is None:
            return
        action = self._retry_action
        self._to_idle()
        self.choose_action(action)

    def close(self) -> None:
        """Drop whatever is under way (late answers are ignored) and close the backend client.

        A pairing still open is cancelled on the server first, so the phone is told at once. The
        program is closing, so this is not left to a task: it is sent here, once, and waited for at
        most ``CLOSE_CANCEL_SECONDS`` (a server that does not answer, or a name that does not
        resolve, holds the exit no longer); a failure is only logged. Closing again does nothing.
        """
        if self._closed:
            return
        self._closed = True
        pairing_id = self._open_pairing_id()
        self._op += 1
        self._poll_again_at = None
        if self.api is not None and pairing_id is not None:
            api = self.api

            def send() -> None:
                try:
                    api.cancel_pairing(pairing_id, timeout=CLOSE_CANCEL_SECONDS)
                except Exception as error:
                    _log_cancel_failed(error)

            sender = threading.Thread(target=send, daemon=True, name="card-service-close-cancel")
            sender.start()
            sender.join(CLOSE_CANCEL_SECONDS)
        close = getattr(self.api, "close", None)
        if callable(close):
            close()

    def view(self) -> ViewModel:
        """The view-model of the current state (the countdown is read from the clock)."""
        common = ViewModel(
            screen=self._screen,
            title=messages.WINDOW_TITLE,
            status=self._status,
            device_line=self._device_line(),
            reader_line=self._reader_line(),
            card_line=self._card_line(),
        )
        if self._screen in (Screen.STARTING, Screen.ENROLLING) and self._start_failures:
            common = replace(common, status=self._start_failure_text(), can_retry=self._start_retry_offered())
        if self._screen is Screen.ENROLLING and self._enrolment:
            return replace(
                common,
                qr_text=self._enrolment.qr,
                fingerprint=messages.ENROL_FINGERPRINT.format(fingerprint=self._enrolment.fingerprint),
            )
        if self._screen is Screen.IDLE:
            ready = self._card_usable()
            hint = messages.CHOOSE_ACTION if ready else messages.INSERT_CARD_FIRST
            if self._card_present and self._card_problem:
                hint = self._card_problem[1]
            return replace(
                common,
                status=self._notice or hint,
                actions=tuple(ActionButton(a, messages.ACTION_LABELS[a], ready) for a in ACTIONS),
            )
        if self._screen is Screen.PAIRING:
            pairing = self._pairing
            showing_code = pairing is not None and pairing.state.state in ("created", "scanned")
            return replace(
                common,
                qr_text=pairing.qr if pairing and pairing.state.state == "created" else None,
                user_code=pairing.user_code if pairing and showing_code else None,
                countdown=self._countdown() if pairing and pairing.state.state == "created" else None,
                can_cancel=True,
            )
        if self._screen in (Screen.PIN, Screen.SIGNING):
            return replace(
                common,
                confirmed_by=self._confirmed_by,
                pin_visible=self._screen is Screen.PIN,
                pin_error=self._pin_error,
                status=messages.PIN_PROMPT if self._screen is Screen.PIN else self._status,
                can_cancel=self._screen is Screen.PIN,
            )
        if self._screen is Screen.RESULT and self._result:
            ok, text = self._result
            left = max(0, int(self._result_until - self._clock() + 0.999))
            return replace(
                common,
                confirmed_by=self._confirmed_by if ok else None,  # no green line above a red failure
                result=text,
                result_ok=ok,
                status=text,
                countdown=messages.RESULT_COUNTDOWN.format(seconds=left),
                can_go_back=True,
                can_retry=self._retry_action is not None,
            )
        return common

    # Enrolment

    def _look_at_server(self) -> None:
        """The start's next step: ask who this device is, or for a new enrolment QR."""
        if self._screen is Screen.ENROLLING and self._enrolment is None:
            self._begin_enrolment()
        else:
            self._check_self()

    def _start_retry_offered(self) -> bool:
        return self._screen in (Screen.STARTING, Screen.ENROLLING) and self._start_failures > 0 and not self._checking

    def _start_failure_text(self) -> str:
        """What the start or enrolment screen says while the server cannot be reached."""
        now = self._clock()
        since = _duration(now - (self._start_failing_since or now))
        if self._checking:
            return messages.START_RECONNECTING.format(since=since)
        seconds = max(1, math.ceil(self._next_check - now))
        if self._start_error is not None:
            return messages.START_FAILED.format(message=self._start_error.rstrip("。"), seconds=seconds)
        return messages.START_UNREACHABLE.format(since=since, seconds=seconds)

    def _start_answered(self) -> None:
        self._start_failures = 0
        self._start_failing_since = None
        self._start_error = None

    def _check_self(self) -> None:
        assert self.api is not None
        api = self.api
        self._checking = True
        self._spawn(self._op, api.device_self, self._enrolled, self._self_failed, any_op=True)

    def _enrolled(self, device: DeviceInfo) -> None:
        self._checking = False
        self._start_answered()
        self._device = device
        self._enrolment = None
        if self._screen in (Screen.STARTING, Screen.ENROLLING, Screen.REVOKED):
            self._to_idle()

    def _self_failed(self, error: Exception) -> None:
        self._checking = False
        now = self._clock()
        if isinstance(error, BackendError) and error.code == "device_unknown":
            self._start_answered()
            self._next_check = now + ENROL_POLL_SECONDS
            if self._enrolment is None:
                self._begin_enrolment()
            else:
                self._status = messages.ENROL_HINT
            return
        if isinstance(error, BackendError) and error.code == "device_revoked":
            self._start_answered()
            self._revoked()
            return
        # no network yet, a server restarting, a clock out of step: tried again, less and less often
        self._start_failures += 1
        if self._start_failing_since is None:
            self._start_failing_since = now
        self._start_error = None if _unreachable(error) else _error_text(error)
        delay = RETRY_SECONDS * 2 ** min(self._start_failures - 1, 16)
        self._next_check = now + min(delay, START_RETRY_MAX_SECONDS)

    def _begin_enrolment(self) -> None:
        assert self.api is not None
        api, hostname = self.api, self._hostname
        self._checking = True
        asked_at = self._clock()  # the server's time runs from when it made the token, not from its answer
        self._spawn(
            self._op,
            lambda: api.enrol(hostname),
            lambda enrolment: self._enrolment_made(enrolment, asked_at),
            self._enrol_failed,
            any_op=True,
        )

    def _enrolment_made(self, enrolment: Enrolment, asked_at: float) -> None:
        self._checking = False
        self._start_answered()
        self._enrolment = enrolment
        self._enrolment_expires = asked_at + enrolment.expires_in
        self._next_check = self._clock() + ENROL_POLL_SECONDS
        self._screen = Screen.ENROLLING
        self._status = messages.ENROL_HINT
        # for an operator without a phone: `python -m backend devices approve <qr> --unit-id N`
        log.info("waiting for enrolment; QR %s, fingerprint %s", enrolment.qr, enrolment.fingerprint)

    def _enrol_failed(self, error: Exception) -> None:
        self._checking = False
        if isinstance(error, BackendError) and error.code == "device_already_enrolled":
            self._check_self()  # approved meanwhile: ask who this device is now
            return
        self._self_failed(error)

    def _revoked(self) -> None:
        self._to_idle()
        self._device = None  # no longer "enrolled" on screen
        self._screen = Screen.REVOKED
        self._status = messages.REVOKED_HINT.format(path=key_path(self._home))

    # Readers and cards

    def _apply_card_event(self, event: CardEvent) -> None:
        self._follow_card_event(event)
        self._log_reader_choice()

    def _follow_card_event(self, event: CardEvent) -> None:
        """Keep track of the readers and of the one in use.

        With ``--reader``, only a reader whose name holds that text is used: when it is missing no
        other reader takes its place, whatever card it holds. Without it, the first reader is used,
        or one given a card while the reader in use has none.
        """
        if isinstance(event, ServiceLost):
            self._service_lost = True
            self._reader_logged = None  # say again which reader is used once PC/SC is back
            self._readers = []
            self._readers_with_card.clear()
            self._mute_readers.clear()
            self._lose_reader()
            return
        if isinstance(event, ServiceRestored):
            self._service_lost = False
            return
        reader = event.reader
        if isinstance(event, ReaderAdded):
            if reader not in self._readers:
                self._readers.append(reader)
            if self._reader is None and self._wanted(reader):
                self._reader = reader
            return
        if isinstance(event, ReaderRemoved):
            if reader in self._readers:
                self._readers.remove(reader)
            self._readers_with_card.discard(reader)
            self._mute_readers.discard(reader)
            if reader == self._reader:
                self._lose_reader()
                wanted = [r for r in self._readers if self._wanted(r)]
                self._reader = self._reader_with_card() or next(iter(wanted), None)
                if self._reader in self._readers_with_card:
                    self._card_inserted(self._reader)
            return
        if isinstance(event, CardInserted):
            if reader not in self._readers:
                self._readers.append(reader)
            self._readers_with_card.add(reader)
            if event.mute:
                self._mute_readers.add(reader)
            else:
                self._mute_readers.discard(reader)
            if self._wanted(reader) and (self._reader is None or not self._card_present):
                self._reader = reader
            if reader == self._reader:
                self._card_inserted(reader)
            return
        if isinstance(event, CardRemoved):
            self._readers_with_card.discard(reader)
            self._mute_readers.discard(reader)
            if reader == self._reader:
                self._lose_reader()
                other = self._reader_with_card()  # another (wanted) reader's card is not ignored
                if other is not None:
                    self._reader = other
                    self._card_inserted(other)

    def _reader_with_card(self) -> str | None:
        return next((r for r in self._readers if self._wanted(r) and r in self._readers_with_card), None)

    def _wanted(self, reader: str) -> bool:
        return self._preferred_reader is None or self._preferred_reader.lower() in reader.lower()

    def _log_reader_choice(self) -> None:
        """Say in the log which reader is used, or that the named one is missing, when that changes."""
        choice = (self._reader, tuple(self._readers))
        if self._service_lost or choice == self._reader_logged:
            return
        self._reader_logged = choice
        connected = ", ".join(repr(r) for r in self._readers)
        if self._reader is not None:
            log.info("using reader %r (readers connected: %s)", self._reader, connected)
        elif self._preferred_reader is None:
            log.info("no reader connected")
        elif connected:
            log.warning("reader %r (--reader) is not connected; not using %s", self._preferred_reader, connected)
        else:
            log.warning("reader %r (--reader) is not connected; no reader is", self._preferred_reader)

    def _card_inserted(self, reader: str) -> None:
        self._card_present = True
        self._holder = None
        self._card_problem = None
        self._card_generation += 1
        generation = self._card_generation
        if self._notice == messages.INSERT_CARD_FIRST or self._notice == messages.CARD_REMOVED_DURING_ACTION:
            self._notice = None
        if reader in self._mute_readers:  # nothing to read: it answered not even the power-up
            self._card_problem = (messages.CARD_MUTE, messages.CARD_MUTE_HINT)
            return

        def read() -> CardHolder:
            # a card that has just gone in can refuse the first connection (PC/SC "protocol
            # mismatch" while it powers up): try again briefly before calling it unreadable
            for attempt in range(CARD_READ_ATTEMPTS):
                try:
                    with self._open_card(reader) as piv:
                        piv.select()
                        return card_holder(piv.read_certificate(AUTH_SLOT))
                except CardError:
                    if attempt + 1 == CARD_READ_ATTEMPTS or generation != self._card_generation:
                        raise
                    time.sleep(CARD_READ_PAUSE)
            raise AssertionError("unreachable")

        def done(holder: CardHolder) -> None:
            if generation == self._card_generation:
                self._holder = holder

        def failed(error: Exception) -> None:
            if generation == self._card_generation:
                log.warning("could not read the card certificate: %s: %s", type(error).__name__, error)
                self._card_problem = _card_problem(error)
                if self._screen in (Screen.PAIRING, Screen.PIN):  # chosen while it was read: nothing to sign with
                    self._cancel_on_server()
                    self._to_idle()

        self._spawn(self._op, read, done, failed, any_op=True)

    def _lose_reader(self) -> None:
        """The card (or its reader, or PC/SC) went away: an action waiting for the card ends.

        One being signed is left to its task: a card pulled mid-I/O fails it, and a card pulled
        once it has signed does not undo what the server then does with the signature.
        """
        self._card_present = False
        self._holder = None
        self._card_generation += 1
        if self._service_lost:
            self._reader = None
        if self._screen in (Screen.PAIRING, Screen.PIN):
            self._cancel_on_server()
            self._to_idle()
            self._notice = messages.CARD_REMOVED_DURING_ACTION
        elif self._screen is Screen.RESULT:
            self._to_idle()  # its owner has gone: who it was does not wait for the next person

    # Pairing

    def _start_pairing(self) -> None:
        assert self.api is not None and self._action is not None
        self._op += 1
        self._poll_again_at = None  # a retry of the previous pairing's long-poll would poll this one twice
        self._screen = Screen.PAIRING
        self._status = messages.PAIRING_CREATING
        self._pairing = None
        self._failing_since = None
        self._qrs_shown += 1
        self._confirmed_by = None
        self._result = None
        api, action = self.api, self._action
        asked_at = self._clock()  # the token's time runs from when the server made it, not from its answer
        self._create_deadline = asked_at + SERVER_WAIT_SECONDS
        self._spawn(
            self._op,
            lambda: api.create_pairing(action),
            lambda state: self._pairing_made(state, asked_at),
            self._create_failed,
        )

    def _create_failed(self, error: Exception) -> None:
        if _unreachable(error):
            self._give_up()
            return
        self._failed(error)

    def _refresh_pairing(self) -> None:
        if self._qrs_shown >= PAIRING_QRS:  # nobody is scanning: no QR is left up for whoever walks by
            self._cancel_on_server()
            self._to_idle()
            self._notice = messages.PAIRING_UNATTENDED
            return
        self._cancel_on_server()  # the QR going off the screen no longer scans (a photo of it neither)
        self._start_pairing()
        self._status = messages.PAIRING_REFRESHING

    def _open_pairing_id(self) -> str | None:
        """The pairing on screen, if the server still has it open."""
        if self._screen not in (Screen.PAIRING, Screen.PIN, Screen.SIGNING):
            return None
        if self._pairing is None or self._pairing.state.final:
            return None
        return self._pairing.state.pairing_id

    def _cancel_on_server(self) -> None:
        """The PC drops the pairing on screen: the server is told in the background, so the phone stops
        waiting and the QR no longer scans. Nothing waits for the answer; a failure is only logged
        (the pairing then runs out on the server by itself)."""
        pairing_id = self._open_pairing_id()
        if self.api is None or pairing_id is None:
            return
        api = self.api
        self._spawn(
            self._op, lambda: api.cancel_pairing(pairing_id), lambda _state: None, _log_cancel_failed, any_op=True
        )

    def _give_up(self) -> None:
        """The server has not answered for too long: stop waiting, say so and offer 重试."""
        action = self._action
        log.warning("no answer from the server for %.0f s: the pairing screen gives up", SERVER_WAIT_SECONDS)
        self._cancel_on_server()  # best effort: the phone may be waiting on a server that hears it
        self._finish(False, messages.SERVER_UNREACHABLE)
        self._retry_action = action

    def _pairing_made(self, state: PairingState, asked_at: float) -> None:
        self._create_deadline = None
        self._failing_since = None
        self._pairing = _Pairing(
            state=state,
            expires_at=asked_at + (state.expires_in or 120),
            qr=state.qr or "",
            user_code=state.user_code,
        )
        self._status = messages.PAIRING_SCAN
        self._poll(self._op)

    def _poll(self, op: int) -> None:
        assert self.api is not None
        if self._pairing is None or op != self._op:
            return
        api, pairing_id, since = self.api, self._pairing.state.pairing_id, self._pairing.state.version
        self._spawn(op, lambda: api.events(pairing_id, since), self._pairing_changed, self._poll_failed)

    def _poll_failed(self, error: Exception) -> None:
        if isinstance(error, BackendError) and error.code == "device_revoked":
            self._revoked()
            return
        if isinstance(error, BackendError) and error.code == "pairing_invalid":
            self._finish(False, self._ended_text())
            return
        if isinstance(error, BackendError) and error.status and error.status < 500:
            self._finish(False, error.message)
            return
        # no answer after the client's own retries: keep the screen and try again shortly, until the
        # polls have failed for too long (a card being signed is left to its task: its answer decides)
        now = self._clock()
        if self._failing_since is None:
            self._failing_since = now
        elif self._screen is not Screen.SIGNING and now - self._failing_since >= SERVER_WAIT_SECONDS:
            self._give_up()
            return
        if self._screen is Screen.PAIRING:
            self._status = messages.SERVER_RECONNECTING
        self._poll_again_at = self._clock() + RETRY_SECONDS

    def _pairing_changed(self, state: PairingState) -> None:
        pairing = self._pairing
        if pairing is None or state.pairing_id != pairing.state.pairing_id:
            return
        self._failing_since = None
        if self._status == messages.SERVER_RECONNECTING:
            self._status = messages.PAIRING_SCAN if pairing.state.state == "created" else messages.PAIRING_SCANNED
        if state.version < pairing.state.version:
            self._poll(self._op)
            return
        self._pairing = replace(pairing, state=state)
        if state.confirmed_by is not None:
            self._confirmed_by = messages.PAIRING_CONFIRMED_BY.format(
                name=state.confirmed_by.name, username=state.confirmed_by.username
            )
        if state.state == "created":
            pass
        elif state.state == "scanned":
            self._status = messages.PAIRING_SCANNED
        elif state.state == "confirmed":
            if self._confirmed_by is None:
                self._confirmed_by = messages.PAIRING_CONFIRMED_ANONYMOUS
            if self._screen is Screen.PAIRING:
                self._screen = Screen.PIN
                self._pin_error = None
        elif state.state == "expired" and pairing.state.state == "created" and self._screen is Screen.PAIRING:
            self._refresh_pairing()
            return
        else:
            self._settle(state)
            return
        self._poll(self._op)

    # Signing (the task runs on a worker thread)

    def _sign_and_submit(self, pairing: PairingState, reader: str, holder: CardHolder | None, pin: str) -> PairingState:
        assert self.api is not None and self.key is not None
        try:
            challenge = self.api.challenge(pairing.pairing_id)
        except BackendError as error:
            if _unreachable(error):
                raise ChallengeUnavailable() from None
            raise
        digest = hashlib.sha256(self._checked_context(challenge, pairing)).digest()
        with self._open_card(reader) as piv:
            piv.select()
            certificate = piv.read_certificate(challenge.slot)
            if holder is not None and card_holder(certificate) != holder:
                raise CardChanged()  # another card (even of the same holder): no PIN try of it is spent
            piv.verify_pin(pin)
            signature = piv.sign(challenge.slot, digest)
        self._post(self._submitting)
        submission = CardSubmission(
            nonce=challenge.nonce,
            certificate=base64.b64encode(certificate.public_bytes(Encoding.DER)).decode(),
            signature=base64.b64encode(signature).decode(),
        )
        try:
            return self.api.deliver_card(pairing.pairing_id, submission)
        except BackendError as error:
            if isinstance(error, NetworkError) or error.status >= 500:  # it may have been done all the same
                raise OutcomeUnknown() from None
            raise

    def _checked_context(self, challenge: Challenge, pairing: PairingState) -> bytes:
        """The bytes to sign, after checking they name this action, device, pairing and nonce."""
        assert self.key is not None
        to_sign = protocol.b64url_decode(challenge.to_sign)
        expected = protocol.card_context(
            action=pairing.action, device=self.key.device_id, pairing=pairing.pairing_id, nonce=challenge.nonce
        )
        if to_sign != expected:
            raise ChallengeMismatch(json.loads(to_sign) if to_sign.startswith(b"{") else None)
        return to_sign

    def _submitting(self) -> None:
        if self._screen is Screen.SIGNING:
            self._status = messages.SUBMITTING

    def _signed(self, state: PairingState) -> None:
        self._settle(state)

    def _signing_failed(self, error: Exception) -> None:
        if isinstance(error, InvalidPinError):
            self._back_to_pin(messages.PIN_WRONG.format(retries=error.retries_left))
            return
        if isinstance(error, PinFormatError):
            self._back_to_pin(messages.PIN_FORMAT)
            return
        if isinstance(error, ChallengeUnavailable):  # the pairing still waits for the card: try again
            self._back_to_pin(messages.PIN_NOT_SENT)
            return
        if isinstance(error, OutcomeUnknown):  # the server may have acted: no cancel races its answer
            self._finish(False, messages.OUTCOME_UNKNOWN)
            return
        text = _dropped_before_submission(error)
        if text is not None:  # nothing was sent: the phone, told to wait for the card, is told it ended
            self._cancel_on_server()
            self._finish(False, text)
            return
        self._failed(error)

    def _back_to_pin(self, error: str) -> None:
        """The PIN went unused: the PIN screen again, unless the card was pulled meanwhile (the
        signing screen leaves a pulled card to its task), which ends the action as on the PIN screen."""
        if self._card_generation != self._signing_card:
            self._cancel_on_server()
            self._to_idle()
            self._notice = messages.CARD_REMOVED_DURING_ACTION
            return
        self._screen = Screen.PIN
        self._pin_error = error

    # Outcomes

    def _settle(self, state: PairingState) -> None:
        """A final pairing state becomes the result screen (once per action)."""
        if self._screen is Screen.RESULT:
            return
        if state.state == "done":
            account = (state.result or {}).get("account") or {}
            message = (state.result or {}).get("message")
            if message:
                text = str(message)
            elif account:
                text = messages.DONE_WITH_ACCOUNT.format(name=account.get("name", ""), username=account.get("username"))
            else:
                text = messages.DONE
            self._finish(True, text)
        elif state.state == "expired":  # an unscanned QR that runs out is renewed instead: it was scanned
            on_pin = self._screen in (Screen.PIN, Screen.SIGNING)
            self._finish(False, messages.PIN_TIME_EXPIRED if on_pin else messages.CONFIRM_TIME_EXPIRED)
        elif state.state == "cancelled":
            self._finish(False, messages.PAIRING_CANCELLED)
        elif state.error_code == "device_revoked":  # revoked while its QR was up
            self._revoked()
        else:
            self._finish(False, messages.FAILED.format(message=state.error_message or messages.SERVER_ERROR))

    def _failed(self, error: Exception) -> None:
        if isinstance(error, BackendError) and error.code == "device_revoked":
            self._revoked()
            return
        if isinstance(error, BackendError) and error.code == "pairing_invalid":  # its text is for the phone
            self._finish(False, self._ended_text())
            return
        if isinstance(error, BackendError) and error.code == "pairing_state":  # so is this one's
            self._finish(False, messages.PAIRING_STATE_CHANGED)
            return
        self._finish(False, messages.FAILED.format(message=_error_text(error)))

    def _ended_text(self) -> str:
        """The pairing is gone on the server (410): on the PIN screen no QR is in view to speak of."""
        if self._screen in (Screen.PIN, Screen.SIGNING):
            return messages.PIN_PAIRING_ENDED
        return messages.PAIRING_ENDED

    def _finish(self, ok: bool, text: str) -> None:
        self._op += 1
        self._poll_again_at = None
        self._create_deadline = None
        self._retry_action = None
        self._screen = Screen.RESULT
        self._result = (ok, text)
        self._result_until = self._clock() + RESULT_SECONDS
        self._status = text

    def _to_idle(self) -> None:
        self._op += 1
        self._poll_again_at = None
        self._create_deadline = None
        self._retry_action = None
        self._pairing = None
        self._action = None
        self._confirmed_by = None
        self._pin_error = None
        self._result = None
        self._screen = Screen.IDLE
        self._status = ""

    # Lines of the view

    def _device_line(self) -> str:
        if self._device:
            return messages.ENROLLED.format(name=self._device.name, unit=self._device.unit_name)
        if self._screen is Screen.REVOKED:
            return messages.REVOKED_TITLE
        if self._screen is Screen.KEY_ERROR:
            return messages.KEY_UNUSABLE_TITLE
        if self._enrolment or self._screen is Screen.ENROLLING:
            return messages.ENROL_TITLE
        return ""

    def _reader_line(self) -> str:
        if self._service_lost:
            return messages.SERVICE_LOST
        if self._reader is None:
            if self._preferred_reader is None:
                return messages.NO_READER
            if not self._readers:
                return messages.READER_NAMED_MISSING.format(name=self._preferred_reader)
            others = "、".join(self._readers)
            return messages.READER_NAMED_MISSING_OTHERS.format(name=self._preferred_reader, readers=others)
        template = messages.READER_WITH_CARD if self._card_present else messages.READER_NO_CARD
        return template.format(reader=self._reader)

    def _card_line(self) -> str:
        if not self._card_present:
            return ""
        if self._holder:
            return messages.CARD_HOLDER.format(name=self._holder.name, card_number=self._holder.card_number)
        return self._card_problem[0] if self._card_problem else messages.CARD_READING

    def _card_usable(self) -> bool:
        """A card in the reader in use, not known to be unusable (one still being read is offered)."""
        return bool(self._reader and self._card_present and self._card_problem is None)

    def _countdown(self) -> str | None:
        if self._pairing is None:
            return None
        left = max(0, int(self._pairing.expires_at - self._clock() + 0.999))
        return messages.PAIRING_COUNTDOWN.format(minutes=left // 60, seconds=left % 60)

    # Tasks

    def _post(self, step: Task) -> None:
        self._inbox.put(step)
        if self._on_change is not None:
            self._on_change()

    def _spawn(
        self,
        op: int,
        work: Callable[[], T],
        done: Callable[[T], None],
        failed: Callable[[Exception], None],
        *,
        any_op: bool = False,
    ) -> None:
        """Run ``work`` on the runner; ``done`` / ``failed`` run on the UI thread unless the action changed."""

        def current() -> bool:
            return any_op or op == self._op

        def task() -> None:
            try:
                value = work()
            except Exception as error:  # handed to the UI thread, which decides what to show
                # frames of the task hold its arguments (a PIN among them): drop them with the traceback
                caught = error.with_traceback(None)
                caught.__context__ = None
                self._post(lambda: failed(caught) if current() else None)
                return
            self._post(lambda: done(value) if current() else None)

        self._runner(task)


def _card_problem(error: Exception) -> tuple[str, str]:
    """The card line and the hint for a card whose certificate could not be read.

    The card's own refusal (no PIV application, no certificate in slot 9A, not a certificate) will
    not change by trying again; anything else (another program holding the card, a bad contact) may.
    """
    if isinstance(error, ApduError | BadResponseError):
        return messages.CARD_NOT_USABLE, messages.CARD_NOT_USABLE_HINT
    if isinstance(error, CardMuteError):
        return messages.CARD_MUTE, messages.CARD_MUTE_HINT
    return messages.CARD_UNREADABLE, messages.CARD_UNREADABLE_HINT


def _dropped_before_submission(error: Exception) -> str | None:
    """The result text of a signing task that ended before the card's answer was sent (a card
    problem, a context the PC refused to sign); None for any other failure."""
    if isinstance(error, PinBlockedError):
        return messages.PIN_BLOCKED
    if isinstance(error, ChallengeMismatch):
        return messages.CHALLENGE_MISMATCH
    if isinstance(error, CardChanged):
        return messages.CARD_CHANGED
    if isinstance(error, CardMuteError):  # still in the reader, but no longer answering
        return messages.CARD_MUTE_DURING_ACTION
    if isinstance(error, CardRemovedError | NoCardError | ReaderUnavailableError):
        return messages.CARD_REMOVED_DURING_ACTION
    if isinstance(error, CardError):
        return messages.CARD_ERROR
    return None


def _unreachable(error: Exception) -> bool:
    """No usable answer from the server: a network error (after the client's retries) or a 5xx."""
    return isinstance(error, NetworkError) or (isinstance(error, BackendError) and error.status >= 500)


def _duration(seconds: float) -> str:
    """How long something has lasted, in whole minutes (what a person reads at a glance)."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return messages.SINCE_MOMENT
    if minutes < 60:
        return messages.SINCE_MINUTES.format(minutes=minutes)
    return messages.SINCE_HOURS.format(hours=minutes // 60, minutes=minutes % 60)


def _log_cancel_failed(error: Exception) -> None:
    log.warning("the server was not told of the cancelled pairing: %s", getattr(error, "code", type(error).__name__))


def _key_error_text(error: DeviceKeyError) -> str:
    """What to do about a device key that cannot be used: a corrupt file is restored or replaced, a
    file that may not be read gets its permissions fixed (deleting it would lose the enrolment), a
    folder that takes no new key is made writable or another one given."""
    if error.kind == "unreadable":
        return messages.KEY_UNREADABLE.format(path=error.path)
    if error.kind == "unwritable":
        return messages.KEY_FOLDER_UNWRITABLE.format(folder=error.path.parent)
    return messages.KEY_UNUSABLE.format(path=error.path)


def _error_text(error: Exception) -> str:
    if isinstance(error, BackendError):
        return error.message
    log.warning("unexpected error: %s", type(error).__name__)
    return messages.SERVER_ERROR
