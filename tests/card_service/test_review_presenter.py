"""Review of the presenter's screens: revocation, stale QR codes, ended pairings, unusable cards, the
result screen, and the device key's folder, driven with the injected clock, runner and fakes."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from card_service import messages
from card_service.api import BackendError, DeviceInfo, Enrolment, NetworkError, PairingState
from card_service.card import ApduError, CardBusyError, CardInserted, CardRemoved
from card_service.device_key import KEY_FILE, DeviceKey, load_or_create
from card_service.presenter import Presenter, Screen

from .fakes import ATR, READER, FakeApi, Rig, make_rig

REVOKED = BackendError("device_revoked", "这台电脑的登记已被管理员撤销，请联系管理员重新登记", status=403)
PAIRING_GONE = BackendError("pairing_invalid", "二维码已过期或已被使用，请在电脑上刷新二维码后重新扫码", status=410)


# Revocation


def test_a_pc_revoked_after_its_enrolment_no_longer_says_it_is_enrolled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig(tmp_path)
    assert rig.presenter.view().device_line == "本机已登记：党政办1号机（白沙镇）"

    def refused(action: str) -> PairingState:
        raise REVOKED

    monkeypatch.setattr(rig.api, "create_pairing", refused)
    rig.insert()
    rig.presenter.choose_action("login")
    rig.settle()
    view = rig.presenter.view()
    assert view.screen is Screen.REVOKED
    assert view.device_line == messages.REVOKED_TITLE
    assert not view.actions


def test_a_pairing_that_failed_because_the_pc_was_revoked_shows_the_revoked_screen(tmp_path: Path) -> None:
    # the admin revoked the PC while its QR was up; the phone's confirm moved the pairing to
    # `failed` with `device_revoked`: the PC must not offer its actions again
    rig = make_rig(tmp_path)
    pairing_id = rig.start_pairing()
    rig.api.push(pairing_id, "scanned")
    rig.api.push(pairing_id, "failed", error_code="device_revoked", error_message="这台电脑的登记已被管理员撤销")
    rig.settle()
    view = rig.presenter.view()
    assert view.screen is Screen.REVOKED
    assert view.status == messages.REVOKED_HINT.format(path=tmp_path / KEY_FILE)
    assert view.device_line == messages.REVOKED_TITLE


# QR codes are never shown past their time


def test_an_expired_enrolment_qr_is_taken_down_while_the_server_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig(tmp_path, enrolled=False)
    assert rig.presenter.view().qr_text == "cwt://enrol/tok1"

    def unreachable(hostname: str) -> Enrolment:
        raise NetworkError("ConnectError")

    monkeypatch.setattr(rig.api, "enrol", unreachable)
    rig.tick(601)
    view = rig.presenter.view()
    assert view.screen is Screen.ENROLLING
    assert view.qr_text is None and view.fingerprint is None
    assert view.status == messages.START_UNREACHABLE.format(since=messages.SINCE_MOMENT, seconds=5)
    rig.tick(5)
    assert rig.presenter.view().qr_text is None

    monkeypatch.undo()
    rig.tick(10)  # the second try failed too: the next one comes after 10 s
    assert rig.presenter.view().qr_text == "cwt://enrol/tok2"


def test_an_enrolment_approved_as_its_qr_runs_out_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the admin approves in the last seconds: the renewal is refused (409 already enrolled); the
    # PC must ask who it is, not ask for a new enrolment again and again
    rig = make_rig(tmp_path, enrolled=False)
    rig.api.self_answers.append(DeviceInfo("d", "党政办1号机", "白沙镇", "active", rig.api.key.fingerprint))

    def already(hostname: str) -> Enrolment:
        rig.api.calls.append("enrol")
        raise BackendError("device_already_enrolled", "这台电脑已经登记过了", status=409)

    monkeypatch.setattr(rig.api, "enrol", already)
    rig.tick(601)
    for _ in range(5):
        rig.tick(0.1)
    assert rig.api.calls.count("enrol") == 2  # the first enrolment and one renewal, not one per tick
    assert rig.presenter.view().screen is Screen.IDLE


def test_the_qr_countdown_counts_from_when_the_pairing_was_asked_for(tmp_path: Path) -> None:
    # the server starts the token's 120 s when it makes it; an answer that took 8 s to arrive
    # leaves 112 s, and the QR must not stay up after the token is gone
    rig = make_rig(tmp_path)
    make_pairing = rig.api.create_pairing

    def slow(action: str) -> PairingState:
        rig.clock.advance(8)
        return make_pairing(action)

    rig.api.create_pairing = slow  # type: ignore[method-assign]
    rig.start_pairing()
    assert rig.presenter.view().countdown == "二维码剩余 1:52"
    rig.tick(112)
    view = rig.presenter.view()
    assert view.qr_text != "cwt://pair/token1"
    assert [p.pairing_id for p in rig.api.pairings] == ["p1", "p2"]


def test_the_enrolment_qr_counts_from_when_it_was_asked_for(tmp_path: Path) -> None:
    home = tmp_path / "cs"
    rig = make_rig(home / "unused", enrolled=False)
    clock, runner = rig.clock, rig.runner
    apis: list[FakeApi] = []

    def api_factory(key: DeviceKey) -> FakeApi:
        api = FakeApi(key)
        make_enrolment = api.enrol

        def slow(hostname: str) -> Enrolment:
            clock.advance(10)
            return make_enrolment(hostname)

        api.enrol = slow  # type: ignore[method-assign]
        apis.append(api)
        return api

    presenter = Presenter(home=home, api_factory=api_factory, open_card=rig.card.open, clock=clock, runner=runner)
    presenter.start()
    for _ in range(4):
        runner.run()
        presenter.pump()
    assert presenter.view().qr_text == "cwt://enrol/tok1"
    clock.advance(590)  # 600 s after the request was sent
    presenter.tick()
    assert presenter.view().qr_text is None


def test_a_refreshed_qr_is_followed_by_one_long_poll(tmp_path: Path) -> None:
    # a long-poll lost shortly before the QR ran out left its retry armed: the new pairing
    # got a second long-poll chain that lasted as long as it did
    rig = make_rig(tmp_path)
    rig.start_pairing()
    rig.clock.advance(118)
    rig.api.events_script["p1"].append(NetworkError())
    rig.settle()  # the retry is due at 123
    rig.tick(2)  # 120: the QR is refreshed
    assert rig.presenter.view().qr_text == "cwt://pair/token2"
    rig.tick(4)  # 124
    assert len(rig.runner.parked) == 1  # one long-poll of p2 waiting, not two


# An ended pairing


def test_an_ended_pairing_tells_the_pc_user_to_start_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 410 pairing_invalid carries the phone's text ("refresh the QR on the PC and scan again"):
    # the PC has no QR to refresh, its user goes back and chooses the action again
    rig = make_rig(tmp_path)
    rig.to_pin()

    def gone(pairing_id: str) -> object:
        raise PAIRING_GONE

    monkeypatch.setattr(rig.api, "challenge", gone)
    rig.presenter.submit_pin("123456")
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.result, view.result_ok) == (Screen.RESULT, messages.PIN_PAIRING_ENDED, False)
    assert rig.card.pins_seen == 0


def test_a_long_poll_answered_410_tells_the_pc_user_to_start_again(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    pairing_id = rig.start_pairing()
    rig.api.events_script[pairing_id].append(PAIRING_GONE)
    rig.settle()
    assert rig.presenter.view().result == messages.PAIRING_ENDED


# Cards that cannot be used


def test_a_card_without_the_piv_application_offers_no_action(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a bank or social-security card: SELECT answers 6A82. The cadre must not be led through the
    # phone's scan and confirmation and the PIN only to be told the card failed
    rig = make_rig(tmp_path)
    view = rig.insert_unreadable(monkeypatch, ApduError(0x6A82))
    assert view.card_line == messages.CARD_NOT_USABLE
    assert view.status == messages.CARD_NOT_USABLE_HINT
    assert not any(b.enabled for b in view.actions)
    rig.presenter.choose_action("login")
    rig.settle()
    assert rig.presenter.view().screen is Screen.IDLE and not rig.api.pairings


def test_a_card_that_could_not_be_read_asks_to_insert_it_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rig = make_rig(tmp_path)
    view = rig.insert_unreadable(monkeypatch, CardBusyError("another program holds the card"))
    assert view.card_line == messages.CARD_UNREADABLE
    assert view.status == messages.CARD_UNREADABLE_HINT
    assert not any(b.enabled for b in view.actions)

    monkeypatch.undo()
    rig.presenter.on_card_event(CardRemoved(READER))
    rig.presenter.on_card_event(CardInserted(READER, ATR))
    rig.settle()
    view = rig.presenter.view()
    assert view.card_line == "持卡人：李建国　卡号：310000000123"
    assert view.status == messages.CHOOSE_ACTION and all(b.enabled for b in view.actions)


# Nothing of the person stays on screen once they have gone


def test_pulling_the_card_on_the_result_screen_clears_who_it_was(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.to_pin()
    rig.presenter.submit_pin("123456")
    rig.settle()
    assert rig.presenter.view().result == "已登录"
    rig.presenter.on_card_event(CardRemoved(READER))
    rig.settle()
    view = rig.presenter.view()
    assert view.screen is Screen.IDLE
    assert (view.result, view.confirmed_by, view.card_line) == (None, None, "")
    assert "李建国" not in repr(view)


# The device key's folder


def _presenter(home: Path, rig: Rig) -> Presenter:
    presenter = Presenter(home=home, api_factory=FakeApi, open_card=rig.card.open, runner=rig.runner)
    presenter.start()
    return presenter


def test_a_key_in_a_read_only_folder_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the config folder is on a read-only mount (or locked by IT): the key in it is still this PC's
    home = tmp_path / "cs"
    key, _ = load_or_create(home)
    home.chmod(0o755)

    def read_only(self: Path, mode: int, **kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(Path, "chmod", read_only)
    again, created = load_or_create(home)
    assert (again.public_raw, created) == (key.public_raw, False)


def test_a_folder_the_key_cannot_be_written_to_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # no key yet and the folder takes no file: "restore the file from a backup or delete it" is
    # no help, there is no file; the folder must be made writable or another one given
    home = tmp_path / "cs"
    home.mkdir(mode=0o700)
    real_open = os.open

    def denied(path: object, flags: int, mode: int = 0o777, **kwargs: object) -> int:
        if str(path).startswith(str(home)) and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", denied)
    rig = make_rig(tmp_path / "unused")
    presenter = _presenter(home, rig)
    view = presenter.view()
    assert view.screen is Screen.KEY_ERROR
    assert view.status == messages.KEY_FOLDER_UNWRITABLE.format(folder=home)


def test_a_key_file_that_cannot_be_read_is_not_to_be_deleted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the key is there but this user may not read it (started once with sudo): deleting it would
    # lose the enrolment; its permissions are what to fix
    home = tmp_path / "cs"
    load_or_create(home)
    real_read = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self.name == KEY_FILE:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    rig = make_rig(tmp_path / "unused")
    presenter = _presenter(home, rig)
    view = presenter.view()
    assert view.screen is Screen.KEY_ERROR
    assert view.status == messages.KEY_UNREADABLE.format(path=home / KEY_FILE)


# The card's answer sent, the server's reply lost


def test_a_submission_whose_reply_was_lost_is_not_called_a_failure(tmp_path: Path) -> None:
    # the client's own read-back also failed: the server may well have logged the phone in or bound
    # the card, so "办理失败" would be a wrong answer; the PC says it cannot tell and where to look
    rig = make_rig(tmp_path)

    def lost(done: PairingState) -> PairingState:
        raise NetworkError("ReadError")

    rig.api.outcome = lost
    rig.to_pin()
    rig.presenter.submit_pin("123456")
    rig.settle()
    view = rig.presenter.view()
    assert len(rig.api.submissions) == 1
    assert (view.screen, view.result, view.result_ok) == (Screen.RESULT, messages.OUTCOME_UNKNOWN, False)


def test_a_challenge_that_never_arrived_is_not_signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rig = make_rig(tmp_path)
    rig.to_pin()

    def unreachable(pairing_id: str) -> object:
        raise NetworkError("ConnectError")

    monkeypatch.setattr(rig.api, "challenge", unreachable)
    rig.presenter.submit_pin("123456")
    rig.settle()
    assert rig.presenter.view().pin_error == messages.PIN_NOT_SENT  # the PIN screen again, for another try
    assert rig.card.pins_seen == 0
