"""The card service as an operator meets it: the program stopped by the system, a PC up before its
network, the PIN screen's time running out, and more of the presenter's flows."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import tkinter as tk
from pathlib import Path

import pytest

from card_service import messages
from card_service import presenter as presenter_module
from card_service.api import BackendError, DeviceInfo, NetworkError, PairingState
from card_service.card import CardRemoved, InvalidPinError
from card_service.presenter import Screen
from card_service.window import Window

from . import fakes as fakes_module
from .fakes import READER, FakeApi, FakeClock, Hang, Rig, make_rig

ROOT = Path(__file__).resolve().parents[2]

# The real window in a program of its own, a QR on screen; it says "ready" once its loop turns and
# reports what it asks of the (fake) backend on stdout.
PROGRAM = """
import logging
import sys
import tkinter as tk
from pathlib import Path

from card_service.window import run
from tests.card_service.fakes import make_rig

logging.basicConfig(level=logging.INFO)  # on stderr
rig = make_rig(Path(sys.argv[1]))
pairing_id = rig.start_pairing()
api = rig.api
cancel = api.cancel_pairing


def cancel_pairing(pairing_id, *, timeout=None):
    print(f"cancel:{pairing_id}", flush=True)
    return cancel(pairing_id, timeout=timeout)


api.cancel_pairing = cancel_pairing
api.close = lambda: print("close", flush=True)
rig.presenter.start = lambda: None  # started above, with the QR on screen
tick = rig.presenter.tick
said = []


def tick_and_say_ready():
    if not said:
        said.append(True)
        print("ready", flush=True)
    tick()


rig.presenter.tick = tick_and_say_ready
run(rig.presenter)
print("exited", flush=True)
"""


def _program(display: str, home: Path, *, ignore: signal.Signals | None = None) -> subprocess.Popen[str]:
    """The program started with ``ignore`` ignored, as ``nohup`` starts one with SIGHUP."""
    env = {**os.environ, "DISPLAY": display, "PYTHONPATH": str(ROOT)}

    def ignoring() -> None:
        if ignore is not None:
            signal.signal(ignore, signal.SIG_IGN)

    return subprocess.Popen(
        [sys.executable, "-c", PROGRAM, str(home)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ignoring,  # a signal disposition, set in the child only
    )


# The program stopped by the system (the user logs out, the PC shuts down)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["term", "hup", "ctrl_c"])
def test_a_terminated_program_cancels_the_open_pairing_like_closing_the_window(
    xdisplay: str,
    tmp_path: Path,
    stop: signal.Signals,
) -> None:
    program = _program(xdisplay, tmp_path)
    try:
        assert program.stdout is not None
        assert program.stdout.readline().strip() == "ready", program.stderr.read() if program.stderr else ""
        program.send_signal(stop)
        out, err = program.communicate(timeout=30)
    finally:
        if program.poll() is None:
            program.kill()
            program.wait()
    # the phone is told at once, the client is closed, and the program ends as asked (not killed)
    assert out.split() == ["cancel:p1", "close", "exited"], (out, err)
    assert program.returncode == 0, err
    assert "Traceback" not in err


# A PC up before its network


def _offline_at_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Rig, list[bool], list[float]]:
    """A PC whose first look at the server finds no network: the rig, the switch that brings the
    network up, and the clock times at which it asked the server who it is."""
    down, asked = [True], []
    clock = FakeClock()
    device_self = FakeApi.device_self

    def self_or_offline(api: FakeApi) -> DeviceInfo:
        asked.append(clock.now)
        if down[0]:
            raise NetworkError("ConnectError")
        return device_self(api)

    monkeypatch.setattr(FakeApi, "device_self", self_or_offline)
    monkeypatch.setattr(fakes_module, "FakeClock", lambda: clock)
    return make_rig(tmp_path), down, asked


def test_a_pc_up_before_its_network_says_so_since_when_retries_less_often_and_offers_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig, down, asked = _offline_at_start(monkeypatch, tmp_path)
    view = rig.presenter.view()
    assert view.screen is Screen.STARTING
    assert view.status == messages.START_UNREACHABLE.format(since=messages.SINCE_MOMENT, seconds=5)
    assert view.can_retry and not view.actions

    for _ in range(600):  # ten minutes, a second at a time
        rig.tick(1)
    gaps = [round(later - earlier) for earlier, later in itertools.pairwise(asked)]
    assert gaps[:5] == [5, 10, 20, 30, 30]  # growing up to a cap: no request every 5 s all day long
    assert set(gaps[4:]) == {presenter_module.START_RETRY_MAX_SECONDS}
    view = rig.presenter.view()
    left = round(asked[-1] + 30 - rig.clock.now)
    assert view.status == messages.START_UNREACHABLE.format(
        since=messages.SINCE_MINUTES.format(minutes=10), seconds=left
    )
    assert view.can_retry

    # 重试 asks at once; the network is still down: said again, and the wait starts over from the cap
    before = len(asked)
    rig.presenter.retry()
    rig.settle()
    assert len(asked) == before + 1 and asked[-1] == rig.clock.now
    assert rig.presenter.view().status.startswith("无法连接服务器")

    down[0] = False  # the network is up: 重试 gets in at once, without waiting for the next try
    rig.presenter.retry()
    rig.settle()
    view = rig.presenter.view()
    assert view.screen is Screen.IDLE and not view.can_retry
    assert view.device_line == "本机已登记：党政办1号机（白沙镇）"


def test_the_window_shows_the_start_screen_s_retry_button_and_it_works(
    xdisplay: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rig, down, _asked = _offline_at_start(monkeypatch, tmp_path)
    root = tk.Tk(screenName=xdisplay)
    try:
        window = Window(root, rig.presenter, poll_ms=50)

        def step() -> None:
            rig.settle()
            window.refresh()
            root.update()

        step()
        assert window.status["text"].startswith("无法连接服务器（已持续不到1分钟），5秒后自动重试")
        assert window.retry_button.winfo_ismapped() and window.retry_button["text"] == "重试"
        assert not window.actions_row.winfo_ismapped()
        down[0] = False
        window.retry_button.invoke()
        step()
        assert not window.retry_button.winfo_ismapped()
        assert window.device_line["text"] == "本机已登记：党政办1号机（白沙镇）"
        assert window.actions_row.winfo_ismapped()
    finally:
        root.destroy()


def test_the_start_screen_says_when_it_is_trying_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rig, _down, _asked = _offline_at_start(monkeypatch, tmp_path)
    answer: list[BaseException] = [Hang()]  # the next try waits on a network that drops what it sends

    def hanging(api: FakeApi) -> DeviceInfo:
        raise answer[0]

    monkeypatch.setattr(FakeApi, "device_self", hanging)
    rig.tick(5)
    view = rig.presenter.view()
    assert view.status == messages.START_RECONNECTING.format(since=messages.SINCE_MOMENT)
    assert not view.can_retry  # one try at a time
    rig.clock.advance(125)
    answer[0] = NetworkError("ConnectTimeout")
    rig.settle()
    view = rig.presenter.view()
    assert view.status == messages.START_UNREACHABLE.format(since=messages.SINCE_MINUTES.format(minutes=2), seconds=10)


def test_the_enrolment_screen_keeps_its_qr_and_offers_retry_while_the_server_is_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig(tmp_path, enrolled=False)
    assert rig.presenter.view().qr_text == "cwt://enrol/tok1"
    down = [True]
    device_self = rig.api.device_self

    def self_or_offline() -> DeviceInfo:
        if down[0]:
            raise BackendError("server_error", messages.SERVER_ERROR, status=502)
        return device_self()

    monkeypatch.setattr(rig.api, "device_self", self_or_offline)
    rig.tick(3)
    view = rig.presenter.view()
    assert view.qr_text == "cwt://enrol/tok1" and view.can_retry
    assert view.status == messages.START_UNREACHABLE.format(since=messages.SINCE_MOMENT, seconds=5)
    down[0] = False
    rig.api.self_answers.append(DeviceInfo("d", "党政办1号机", "白沙镇", "active", ""))  # approved meanwhile
    rig.presenter.retry()
    rig.settle()
    assert rig.presenter.view().screen is Screen.IDLE


def test_a_start_refused_for_another_reason_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rig, _down, _asked = _offline_at_start(monkeypatch, tmp_path)
    skew = BackendError("signature_expired", "请求时间与服务器相差过大，请校准本机时间", status=401)

    def refused(api: FakeApi) -> DeviceInfo:
        raise skew

    monkeypatch.setattr(FakeApi, "device_self", refused)
    rig.tick(5)
    view = rig.presenter.view()
    assert view.status == messages.START_FAILED.format(message=skew.message, seconds=10)
    assert view.can_retry


# The PIN screen's time running out


def _later_event(rig: Rig, pairing_id: str, state: str) -> None:
    """An event past those already read (``FakeApi.push`` counts only the ones still scripted)."""
    rig.api.events_script[pairing_id].append(PairingState(pairing_id, state, version=50, action="login"))


def test_a_pairing_that_runs_out_on_the_pin_screen_says_the_time_for_the_pin_is_up(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    pairing_id = rig.to_pin()
    _later_event(rig, pairing_id, "expired")
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.result, view.result_ok) == (Screen.RESULT, messages.PIN_TIME_EXPIRED, False)
    assert "二维码" not in view.result


def test_a_pairing_gone_when_the_pin_is_sent_says_the_time_for_the_pin_is_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig(tmp_path)
    rig.to_pin()
    gone = BackendError("pairing_invalid", "二维码已过期或已被使用，请在电脑上刷新二维码后重新扫码", status=410)

    def challenge(pairing_id: str) -> None:
        raise gone

    monkeypatch.setattr(rig.api, "challenge", challenge)
    rig.presenter.submit_pin("123456")
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.result) == (Screen.RESULT, messages.PIN_PAIRING_ENDED)
    assert "二维码" not in view.result


def test_a_scanned_pairing_not_confirmed_in_time_says_the_phone_did_not_confirm(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    pairing_id = rig.start_pairing()
    rig.api.push(pairing_id, "scanned")
    rig.settle()
    assert rig.presenter.view().qr_text is None  # no QR in view once scanned
    rig.api.push(pairing_id, "expired")
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.result) == (Screen.RESULT, messages.CONFIRM_TIME_EXPIRED)


# The server away when the PIN is sent


@pytest.mark.parametrize(
    "error", [NetworkError("ConnectError"), BackendError("server_error", messages.SERVER_ERROR, status=503)]
)
def test_a_challenge_the_server_did_not_give_keeps_the_pin_screen_for_another_try(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BackendError
) -> None:
    # nothing was signed and no PIN try spent, and the pairing still waits for the card: ending the
    # action left the phone waiting out its five minutes, and the PC user had to start over
    rig = make_rig(tmp_path)
    pairing_id = rig.to_pin()
    challenge = rig.api.challenge

    def unreachable(pairing_id: str) -> object:
        raise error

    monkeypatch.setattr(rig.api, "challenge", unreachable)
    rig.presenter.submit_pin("123456")
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.pin_visible, view.pin_error) == (Screen.PIN, True, messages.PIN_NOT_SENT)
    assert view.can_cancel
    assert rig.card.pins_seen == 0 and not rig.api.submissions
    assert not [call for call in rig.api.calls if call.startswith("cancel:")]

    monkeypatch.setattr(rig.api, "challenge", challenge)  # the server is back
    rig.presenter.submit_pin("123456")
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.result_ok) == (Screen.RESULT, True)
    assert [p for p, _ in rig.api.submissions] == [pairing_id]


@pytest.mark.parametrize("step", ["challenge", "verify_pin"])
def test_a_card_pulled_while_its_pin_was_on_the_way_does_not_bring_the_pin_screen_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    # the PIN went unused (no challenge came, or the PIN was wrong) and the card was pulled
    # meanwhile: the PIN screen would ask for the PIN of a card no longer in the reader
    rig = make_rig(tmp_path)
    pairing_id = rig.to_pin()
    answer: list[BaseException] = [Hang()]

    def waits(*_args: object) -> None:
        raise answer[0]

    monkeypatch.setattr(rig.api if step == "challenge" else rig.card, step, waits)
    rig.presenter.submit_pin("123456")
    rig.settle()
    assert rig.presenter.view().screen is Screen.SIGNING
    rig.presenter.on_card_event(CardRemoved(READER))
    rig.settle()
    answer[0] = NetworkError("ConnectError") if step == "challenge" else InvalidPinError(2)
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.status, view.pin_visible) == (Screen.IDLE, messages.CARD_REMOVED_DURING_ACTION, False)
    assert [call for call in rig.api.calls if call.startswith("cancel:")] == [f"cancel:{pairing_id}"]


# The window's loop


def test_an_error_in_one_turn_of_the_window_does_not_stop_the_window(
    xdisplay: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a turn that raises (a bug, an answer the presenter did not expect) is logged by Tk; the next
    # turn must still come, or the window freezes: no countdown, no card, no result, until restarted
    rig = make_rig(tmp_path)
    root = tk.Tk(screenName=xdisplay)
    reported: list[BaseException] = []
    root.report_callback_exception = lambda _type, value, _tb: reported.append(value)  # type: ignore[method-assign]
    try:
        window = Window(root, rig.presenter, poll_ms=60_000)
        tick = rig.presenter.tick
        turns: list[str] = []

        def tick_once_broken() -> None:
            turns.append("tick")
            if len(turns) == 1:
                raise RuntimeError("a bug")
            tick()

        monkeypatch.setattr(rig.presenter, "tick", tick_once_broken)
        root.after_idle(window._loop)
        root.update()
        assert [str(error) for error in reported] == ["a bug"]
        assert root.tk.call("after", "info"), "the next turn was not scheduled"
    finally:
        root.destroy()


def test_a_hangup_the_program_was_started_to_ignore_stays_ignored(xdisplay: str, tmp_path: Path) -> None:
    # `nohup python -m card_service`: the session that started it may go, the window stays
    program = _program(xdisplay, tmp_path, ignore=signal.SIGHUP)
    try:
        assert program.stdout is not None
        assert program.stdout.readline().strip() == "ready"
        program.send_signal(signal.SIGHUP)
        program.send_signal(signal.SIGTERM)  # what does end it: SIGHUP, were it not ignored, came first
        out, err = program.communicate(timeout=30)
    finally:
        if program.poll() is None:
            program.kill()
            program.wait()
    assert out.split() == ["cancel:p1", "close", "exited"], (out, err)
    assert "SIGHUP" not in err and "SIGTERM received" in err
