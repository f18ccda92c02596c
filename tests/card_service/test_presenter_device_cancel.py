"""The PC dropping a pairing tells the server (once, in the background), so the phone stops waiting
and the QR taken off the screen no longer scans: on 取消, a card pulled, a QR renewed, the unscanned-QR limit."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from card_service import messages
from card_service.api import NetworkError
from card_service.card import CardRemoved
from card_service.presenter import Screen

from .fakes import READER, make_rig


def _cancels(calls: list[str]) -> list[str]:
    return [call for call in calls if call.startswith("cancel:")]


@pytest.mark.parametrize("stage", ["qr", "pin"])
def test_cancelling_tells_the_server_once_in_the_background(tmp_path: Path, stage: str) -> None:
    rig = make_rig(tmp_path)
    pairing_id = rig.start_pairing() if stage == "qr" else rig.to_pin()
    rig.presenter.cancel()
    view = rig.presenter.view()  # back to the actions at once, before the server has answered
    assert (view.screen, view.status) == (Screen.IDLE, messages.CHOOSE_ACTION)
    assert not _cancels(rig.api.calls)
    rig.settle()
    assert _cancels(rig.api.calls) == [f"cancel:{pairing_id}"]
    assert rig.presenter.view().screen is Screen.IDLE


@pytest.mark.parametrize("stage", ["qr", "pin"])
def test_a_card_pulled_on_the_qr_or_pin_screen_cancels_the_pairing_on_the_server(tmp_path: Path, stage: str) -> None:
    rig = make_rig(tmp_path)
    pairing_id = rig.start_pairing() if stage == "qr" else rig.to_pin()
    rig.presenter.on_card_event(CardRemoved(READER))
    rig.settle()
    assert _cancels(rig.api.calls) == [f"cancel:{pairing_id}"]
    view = rig.presenter.view()
    assert (view.screen, view.status) == (Screen.IDLE, messages.CARD_REMOVED_DURING_ACTION)


def test_the_last_unscanned_qr_taken_down_is_cancelled_on_the_server(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.start_pairing()
    rig.tick(121)
    rig.tick(121)
    assert _cancels(rig.api.calls) == ["cancel:p1", "cancel:p2"]  # each renewed QR is cancelled as it goes
    rig.tick(121)
    assert rig.presenter.view().status == messages.PAIRING_UNATTENDED
    assert _cancels(rig.api.calls) == ["cancel:p1", "cancel:p2", "cancel:p3"]


def test_a_pairing_the_server_already_ended_is_not_cancelled(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    pairing_id = rig.start_pairing()
    for _ in range(3):
        rig.api.push(pairing_id, "expired")
        rig.settle()
        pairing_id = rig.api.pairings[-1].pairing_id
    assert rig.presenter.view().status == messages.PAIRING_UNATTENDED
    assert not _cancels(rig.api.calls)


def test_a_pairing_not_yet_made_has_nothing_to_cancel(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.start_pairing()
    rig.presenter.cancel()
    rig.presenter.choose_action("bind")
    rig.presenter.cancel()  # its QR was never shown
    rig.settle()
    assert _cancels(rig.api.calls) == ["cancel:p1"]


def test_a_cancel_answered_after_the_next_action_started_changes_nothing_on_screen(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.start_pairing()
    rig.presenter.cancel()
    rig.presenter.choose_action("bind")
    rig.settle()
    assert _cancels(rig.api.calls) == ["cancel:p1"]
    view = rig.presenter.view()
    assert (view.screen, view.qr_text) == (Screen.PAIRING, "cwt://pair/token2")


def test_a_cancel_the_server_did_not_get_is_only_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rig = make_rig(tmp_path)
    rig.start_pairing()
    rig.api.cancel_error = NetworkError("ConnectError")
    rig.presenter.on_card_event(CardRemoved(READER))
    with caplog.at_level(logging.WARNING, logger="card_service.presenter"):
        rig.settle()
    assert _cancels(rig.api.calls) == ["cancel:p1"]
    view = rig.presenter.view()
    assert (view.screen, view.status, view.result) == (Screen.IDLE, messages.CARD_REMOVED_DURING_ACTION, None)
    assert "network_error" in caplog.text
