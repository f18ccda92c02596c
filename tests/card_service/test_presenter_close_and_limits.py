"""A pairing the PC leaves is cancelled on the server (the window closed, a QR renewed), and a screen
waiting on a server that does not answer gives up after a limit, saying so and offering 重试."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from card_service import messages
from card_service import presenter as presenter_module
from card_service.api import BackendError, NetworkError, PairingState
from card_service.card import ApduError, CardMuteError, CardRemovedError, PinBlockedError
from card_service.presenter import Screen

from .fakes import Hang, Rig, make_rig

LIMIT = presenter_module.SERVER_WAIT_SECONDS


def _cancels(calls: list[str]) -> list[str]:
    return [call for call in calls if call.startswith("cancel:")]


# Closing the window


def _open_at(rig, stage: str) -> str:
    """A pairing open on the PC at ``stage``: its QR shown, scanned, or waiting for the PIN."""
    if stage == "pin":
        return rig.to_pin()
    pairing_id = rig.start_pairing()
    if stage == "scanned":
        rig.api.push(pairing_id, "scanned")
        rig.settle()
    return pairing_id


@pytest.mark.parametrize("stage", ["qr", "scanned", "pin"])
def test_closing_the_window_cancels_the_open_pairing_before_the_client_closes(tmp_path: Path, stage: str) -> None:
    rig = make_rig(tmp_path)
    pairing_id = _open_at(rig, stage)
    rig.presenter.close()
    # sent there and then: after close() no task of the runner is waited for (the program exits)
    assert rig.api.calls[-2:] == [f"cancel:{pairing_id}", "close"]
    # with a short limit of its own, so a server that does not answer does not hold the closing
    assert rig.api.cancel_timeouts == [presenter_module.CLOSE_CANCEL_SECONDS]
    assert presenter_module.CLOSE_CANCEL_SECONDS <= 5


def test_closing_twice_sends_the_cancel_once(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.start_pairing()
    rig.presenter.close()
    rig.presenter.close()  # the window's exit, then the program's: the client is already closed
    assert rig.api.calls.count("cancel:p1") == 1 and rig.api.calls.count("close") == 1


def test_closing_the_window_with_no_open_pairing_sends_no_cancel(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.insert()
    rig.presenter.close()  # the actions on screen
    assert not _cancels(rig.api.calls)

    rig = make_rig(tmp_path / "ended")
    pairing_id = rig.start_pairing()
    rig.api.push(pairing_id, "cancelled")  # declined on the phone: the result screen
    rig.settle()
    assert rig.presenter.view().screen is Screen.RESULT
    rig.presenter.close()
    assert not _cancels(rig.api.calls)
    assert rig.api.calls[-1] == "close"


def test_a_cancel_that_fails_on_closing_is_only_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rig = make_rig(tmp_path)
    rig.start_pairing()
    rig.api.cancel_error = NetworkError("ConnectTimeout")
    with caplog.at_level(logging.WARNING, logger="card_service.presenter"):
        rig.presenter.close()
    assert rig.api.calls[-2:] == ["cancel:p1", "close"]
    assert "network_error" in caplog.text


# A renewed QR


def test_a_renewed_qr_cancels_the_one_it_replaces(tmp_path: Path) -> None:
    # the old QR (or a photo of it) must not scan once it is off the screen, and a phone that
    # scanned it at the last second is told at once instead of waiting for it to run out
    rig = make_rig(tmp_path)
    rig.start_pairing()
    rig.tick(121)
    assert _cancels(rig.api.calls) == ["cancel:p1"]
    view = rig.presenter.view()
    assert (view.screen, view.qr_text) == (Screen.PAIRING, "cwt://pair/token2")
    rig.tick(121)
    assert _cancels(rig.api.calls) == ["cancel:p1", "cancel:p2"]
    assert rig.presenter.view().qr_text == "cwt://pair/token3"


def test_a_qr_the_server_expired_is_renewed_without_a_cancel(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.start_pairing()
    rig.api.push("p1", "expired")
    rig.settle()
    assert rig.presenter.view().qr_text == "cwt://pair/token2"
    assert not _cancels(rig.api.calls)


# A server that does not answer


def _unreachable_create(rig: Rig, monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    def create(action: str) -> PairingState:
        rig.api.calls.append(f"pair:{action}")
        raise error

    monkeypatch.setattr(rig.api, "create_pairing", create)


def _assert_gave_up(rig: Rig) -> None:
    view = rig.presenter.view()
    assert (view.screen, view.result, view.result_ok) == (Screen.RESULT, messages.SERVER_UNREACHABLE, False)
    assert view.can_retry and view.can_go_back


def test_a_qr_the_server_never_makes_is_given_up_with_a_way_to_try_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig(tmp_path)
    rig.insert()
    _unreachable_create(rig, monkeypatch, Hang())  # the request hangs: no answer, no error
    rig.presenter.choose_action("bind")
    rig.tick(LIMIT - 1)
    assert rig.presenter.view().status == messages.PAIRING_CREATING
    rig.tick(1)
    _assert_gave_up(rig)

    monkeypatch.undo()  # the server is back
    rig.presenter.retry()
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.qr_text) == (Screen.PAIRING, rig.api.pairings[-1].qr)
    assert rig.api.pairings[-1].action == "bind"


@pytest.mark.parametrize(
    "error", [NetworkError("ConnectError"), BackendError("server_error", messages.SERVER_ERROR, status=503)]
)
def test_a_qr_the_server_cannot_make_offers_to_try_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BackendError
) -> None:
    rig = make_rig(tmp_path)
    rig.insert()
    _unreachable_create(rig, monkeypatch, error)
    rig.presenter.choose_action("login")
    rig.settle()
    _assert_gave_up(rig)


@pytest.mark.parametrize("stage", ["qr", "scanned", "pin"])
def test_a_long_poll_that_keeps_failing_is_given_up_and_the_pairing_cancelled(tmp_path: Path, stage: str) -> None:
    rig = make_rig(tmp_path)
    pairing_id = _open_at(rig, stage)
    rig.api.events_script[pairing_id].extend(NetworkError("ConnectError") for _ in range(100))
    rig.settle()
    view = rig.presenter.view()
    assert view.screen is (Screen.PIN if stage == "pin" else Screen.PAIRING)
    if stage != "pin":
        assert view.status == messages.SERVER_RECONNECTING
    for _ in range(int(LIMIT // presenter_module.RETRY_SECONDS) - 1):
        rig.tick(presenter_module.RETRY_SECONDS)
    assert rig.presenter.view().screen is not Screen.RESULT
    rig.tick(presenter_module.RETRY_SECONDS)
    _assert_gave_up(rig)
    assert _cancels(rig.api.calls) == [f"cancel:{pairing_id}"]  # best effort: the phone may be waiting


def test_a_long_poll_that_recovers_carries_on(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    pairing_id = rig.start_pairing()
    script = rig.api.events_script[pairing_id]
    script.extend(NetworkError("ConnectError") for _ in range(5))
    rig.settle()
    for _ in range(5):
        rig.tick(presenter_module.RETRY_SECONDS)
    rig.api.push(pairing_id, "scanned")
    rig.tick(presenter_module.RETRY_SECONDS)
    assert rig.presenter.view().status == messages.PAIRING_SCANNED
    script.extend(BackendError("server_error", messages.SERVER_ERROR, status=502) for _ in range(8))
    rig.settle()
    for _ in range(8):  # the limit counts from the first failure since the last answer, not the first ever
        rig.tick(presenter_module.RETRY_SECONDS)
    rig.api.push(pairing_id, "confirmed")
    rig.tick(presenter_module.RETRY_SECONDS)
    assert rig.presenter.view().screen is Screen.PIN


def test_other_results_offer_no_retry(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    pairing_id = rig.start_pairing()
    rig.api.push(pairing_id, "cancelled")
    rig.settle()
    view = rig.presenter.view()
    assert view.screen is Screen.RESULT and not view.can_retry
    rig.presenter.retry()
    assert rig.presenter.view().screen is Screen.RESULT


# The PC ending the action on a card problem


def _fail_verify(rig: Rig, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def verify(pin: str) -> None:
        raise error

    monkeypatch.setattr(rig.card, "verify_pin", verify)


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (PinBlockedError(), messages.PIN_BLOCKED),
        (CardRemovedError("pulled"), messages.CARD_REMOVED_DURING_ACTION),
        (CardMuteError("no answer"), messages.CARD_MUTE_DURING_ACTION),
        (ApduError(0x6F00), messages.CARD_ERROR),
    ],
    ids=["pin_blocked", "card_pulled", "card_mute", "card_error"],
)
def test_a_card_problem_that_ends_the_action_cancels_the_pairing_on_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, text: str
) -> None:
    # the phone was told "confirmed, now the card": without a cancel it waits out the pairing's
    # five minutes while the PC already shows that nothing will come
    rig = make_rig(tmp_path)
    pairing_id = rig.to_pin()
    _fail_verify(rig, monkeypatch, error)
    rig.presenter.submit_pin("123456")
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.result) == (Screen.RESULT, text)
    assert _cancels(rig.api.calls) == [f"cancel:{pairing_id}"]
    assert not rig.api.submissions


def test_a_challenge_for_another_action_cancels_the_pairing(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.api.challenge_action = "realname"
    pairing_id = rig.to_pin()
    rig.presenter.submit_pin("123456")
    rig.settle()
    assert rig.presenter.view().result == messages.CHALLENGE_MISMATCH
    assert _cancels(rig.api.calls) == [f"cancel:{pairing_id}"]


def test_a_wrong_pin_or_a_lost_outcome_does_not_cancel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rig = make_rig(tmp_path)
    rig.to_pin()
    rig.presenter.submit_pin("000000")  # another try follows on the same pairing
    rig.settle()
    assert rig.presenter.view().screen is Screen.PIN

    def lost(done: PairingState) -> PairingState:
        raise NetworkError("ReadError")

    rig.api.outcome = lost  # the server may have done it: a cancel must not race the answer
    rig.presenter.submit_pin("123456")
    rig.settle()
    assert rig.presenter.view().result == messages.OUTCOME_UNKNOWN
    assert not _cancels(rig.api.calls)


# A card found unusable while its QR is up


def test_a_card_found_unusable_after_the_action_began_ends_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # an action may be chosen while the card is still being read; when the read then finds no
    # certificate the QR does not stay up for a phone to scan and confirm in vain
    monkeypatch.setattr(presenter_module, "CARD_READ_PAUSE", 0)
    rig = make_rig(tmp_path)
    answer: list[BaseException] = [Hang()]

    def select() -> None:
        raise answer[0]

    monkeypatch.setattr(rig.card, "select", select)
    rig.insert()  # the read waits on the card
    assert rig.presenter.view().card_line == messages.CARD_READING
    rig.presenter.choose_action("login")
    rig.settle()
    assert rig.presenter.view().qr_text == "cwt://pair/token1"
    answer[0] = ApduError(0x6A82)  # no PIV application on this card
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.card_line, view.status) == (
        Screen.IDLE,
        messages.CARD_NOT_USABLE,
        messages.CARD_NOT_USABLE_HINT,
    )
    assert _cancels(rig.api.calls) == ["cancel:p1"]
