"""The presenter's state machine, driven without a display: injected clock, runner, backend and card."""

from __future__ import annotations

import hashlib
import logging
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from card_service import messages, protocol
from card_service import presenter as presenter_module
from card_service.api import BackendError, DeviceInfo, NetworkError, Person
from card_service.card import (
    CardError,
    CardInserted,
    CardRemoved,
    CardRemovedError,
    ReaderAdded,
    ReaderRemoved,
    ServiceLost,
    ServiceRestored,
)
from card_service.device_key import DeviceKey
from card_service.fakes.card_ca import CardIdentity
from card_service.presenter import Presenter, Screen

from .fakes import ATR, HOLDER, READER, FakeApi, FakeCard, Rig, make_rig

OTHER_HOLDER = CardIdentity(
    card_number="310000000456",
    holder_name="张桂芬",
    id_number="110105195003070022",
    unit_name=HOLDER.unit_name,
    unit_credit_code=HOLDER.unit_credit_code,
)


def _insert(rig: Rig, reader: str = READER) -> None:
    rig.presenter.on_card_event(ReaderAdded(reader))
    rig.presenter.on_card_event(CardInserted(reader, ATR))
    rig.settle()


def _pairing(rig: Rig, action: str = "login") -> None:
    """A card in the reader, an action chosen, its QR on screen."""
    _insert(rig)
    rig.presenter.choose_action(action)
    rig.settle()


def _to_pin(rig: Rig, action: str = "login", confirmed_by: Person | None = None) -> str:
    _pairing(rig, action)
    pairing_id = rig.api.pairings[-1].pairing_id
    rig.api.push(pairing_id, "scanned")
    rig.api.push(pairing_id, "confirmed", confirmed_by=confirmed_by)
    rig.settle()
    assert rig.presenter.view().screen is Screen.PIN
    return pairing_id


# Start and enrolment


def test_first_start_makes_a_key_and_shows_the_enrolment_qr(tmp_path: Path) -> None:
    home = tmp_path / "cs"
    rig = make_rig(home, enrolled=False)
    assert stat.S_IMODE((home / "device-key.pem").stat().st_mode) == 0o600
    view = rig.presenter.view()
    assert view.screen is Screen.ENROLLING
    assert view.qr_text == "cwt://enrol/tok1"
    assert rig.api.key.fingerprint in (view.fingerprint or "")
    assert view.device_line == messages.ENROL_TITLE
    assert rig.api.calls == ["self", "enrol"]

    rig.tick(1)  # not yet time to ask again
    assert rig.api.calls == ["self", "enrol"]
    rig.tick(2)
    assert rig.api.calls[-1] == "self"
    assert rig.presenter.view().screen is Screen.ENROLLING

    rig.api.self_answers.append(DeviceInfo("d", "党政办1号机", "白沙镇", "active", rig.api.key.fingerprint))
    rig.tick(3)
    view = rig.presenter.view()
    assert view.screen is Screen.IDLE
    assert view.device_line == "本机已登记：党政办1号机（白沙镇）"
    assert view.qr_text is None


def test_the_same_key_is_used_on_the_next_start(tmp_path: Path) -> None:
    first = make_rig(tmp_path)
    second = make_rig(tmp_path)
    assert first.api.key.device_id == second.api.key.device_id
    assert second.presenter.view().screen is Screen.IDLE


def test_an_enrolment_token_that_ran_out_is_renewed(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, enrolled=False)
    rig.tick(601)
    assert rig.api.enrolments == 2
    assert rig.presenter.view().qr_text == "cwt://enrol/tok2"


def test_a_revoked_device_says_so(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, enrolled=False)
    rig.api.self_answers.append(BackendError("device_revoked", "设备已停用", status=403))
    rig.tick(3)
    view = rig.presenter.view()
    assert view.screen is Screen.REVOKED
    assert view.status == messages.REVOKED_HINT.format(path=tmp_path / "device-key.pem")
    assert not view.actions


def test_no_backend_at_start_is_retried(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, enrolled=False)
    rig.api.self_answers[:] = [NetworkError(), DeviceInfo("d", "一号机", "白沙镇", "active", "")]
    rig.tick(3)
    assert rig.presenter.view().status == messages.START_UNREACHABLE.format(since=messages.SINCE_MOMENT, seconds=5)
    rig.tick(5)
    assert rig.presenter.view().screen is Screen.IDLE


# Readers and cards


def test_reader_and_card_states(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    view = rig.presenter.view()
    assert view.reader_line == messages.NO_READER
    assert [(b.label, b.enabled) for b in view.actions] == [("卡登录", False), ("绑定IC卡", False), ("实名认证", False)]

    rig.presenter.on_card_event(ReaderAdded(READER))
    rig.settle()
    assert rig.presenter.view().reader_line == f"读卡器：{READER}，请插入IC卡。"

    rig.presenter.on_card_event(CardInserted(READER, ATR))
    rig.presenter.pump()
    assert rig.presenter.view().card_line == messages.CARD_READING
    rig.settle()
    view = rig.presenter.view()
    assert view.reader_line == f"读卡器：{READER}，已插入IC卡。"
    assert view.card_line == "持卡人：李建国　卡号：310000000123"
    assert all(b.enabled for b in view.actions)

    rig.presenter.on_card_event(CardRemoved(READER))
    rig.settle()
    assert rig.presenter.view().card_line == ""
    assert not any(b.enabled for b in rig.presenter.view().actions)

    rig.presenter.on_card_event(ReaderRemoved(READER))
    rig.settle()
    assert rig.presenter.view().reader_line == messages.NO_READER


def test_pcsc_service_lost_and_restored(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    _insert(rig)
    rig.presenter.on_card_event(ServiceLost())
    rig.settle()
    assert rig.presenter.view().reader_line == messages.SERVICE_LOST
    rig.presenter.on_card_event(ServiceRestored())
    _insert(rig)
    assert rig.presenter.view().card_line.startswith("持卡人：李建国")


def test_a_card_that_refuses_its_first_connection_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presenter_module, "CARD_READ_PAUSE", 0)
    rig = make_rig(tmp_path)
    select = rig.card.select
    failures = [CardError("PC/SC error: Card protocol mismatch.")]

    def flaky_select() -> None:
        if failures:
            raise failures.pop()
        select()

    monkeypatch.setattr(rig.card, "select", flaky_select)
    _insert(rig)
    assert rig.presenter.view().card_line == "持卡人：李建国　卡号：310000000123"


def test_the_preferred_reader_is_chosen(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, preferred_reader="ACS")
    rig.presenter.on_card_event(ReaderAdded("Virtual PCD 00 00"))
    rig.presenter.on_card_event(ReaderAdded("ACS ACR39U 01 00"))
    rig.settle()
    assert "ACS ACR39U" in rig.presenter.view().reader_line


def test_a_named_reader_that_is_missing_is_said_and_no_other_reader_is_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=presenter_module.__name__)
    rig = make_rig(tmp_path, preferred_reader="ACS")
    assert rig.presenter.view().reader_line == messages.READER_NAMED_MISSING.format(name="ACS")

    _insert(rig)  # a card in another reader is not used in its place
    view = rig.presenter.view()
    assert view.reader_line == messages.READER_NAMED_MISSING_OTHERS.format(name="ACS", readers=READER)
    assert view.card_line == ""
    assert not any(b.enabled for b in view.actions)
    assert rig.card.pins_seen == 0 and not rig.runner.tasks
    rig.presenter.choose_action("login")
    rig.settle()
    assert rig.presenter.view().screen is Screen.IDLE and not rig.api.pairings
    assert f"reader 'ACS' (--reader) is not connected; not using {READER!r}" in caplog.text

    named = "ACS ACR39U 00 00"
    _insert(rig, named)
    view = rig.presenter.view()
    assert view.reader_line == f"读卡器：{named}，已插入IC卡。"
    assert view.card_line == "持卡人：李建国　卡号：310000000123"
    assert f"using reader {named!r}" in caplog.text


def test_the_named_reader_unplugged_is_said_and_not_replaced(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, preferred_reader="ACS")
    named = "ACS ACR39U 00 00"
    _insert(rig)
    _insert(rig, named)
    rig.presenter.on_card_event(CardRemoved(named))
    rig.presenter.on_card_event(ReaderRemoved(named))
    rig.settle()
    view = rig.presenter.view()
    assert view.reader_line == messages.READER_NAMED_MISSING_OTHERS.format(name="ACS", readers=READER)
    assert not any(b.enabled for b in view.actions)


def test_with_several_readers_and_none_named_the_one_given_a_card_is_used_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=presenter_module.__name__)
    rig = make_rig(tmp_path)
    other_reader = "ACS ACR39U 01 00"
    rig.presenter.on_card_event(ReaderAdded(READER))
    rig.presenter.on_card_event(ReaderAdded(other_reader))
    rig.settle()
    assert rig.presenter.view().reader_line == f"读卡器：{READER}，请插入IC卡。"
    rig.presenter.on_card_event(CardInserted(other_reader, ATR))
    rig.settle()
    view = rig.presenter.view()
    assert view.reader_line == f"读卡器：{other_reader}，已插入IC卡。"
    assert all(b.enabled for b in view.actions)
    assert f"using reader {other_reader!r} (readers connected: {READER!r}, {other_reader!r})" in caplog.text


def test_unplugging_the_reader_in_use_moves_to_another_reader_with_its_card(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    other_reader = "ACS ACR39U 01 00"
    _insert(rig)
    _insert(rig, other_reader)  # a second reader with a card in it too
    assert READER in rig.presenter.view().reader_line
    rig.presenter.on_card_event(CardRemoved(READER))
    rig.presenter.on_card_event(ReaderRemoved(READER))
    rig.settle()
    view = rig.presenter.view()
    assert view.reader_line == f"读卡器：{other_reader}，已插入IC卡。"
    assert view.card_line == "持卡人：李建国　卡号：310000000123"
    assert all(b.enabled for b in view.actions)


def test_a_card_pulled_from_the_reader_in_use_moves_to_another_reader_with_its_card(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    other_reader = "ACS ACR39U 01 00"
    _insert(rig)
    _insert(rig, other_reader)  # a second reader with a card in it too
    rig.presenter.on_card_event(CardRemoved(READER))  # the first reader stays plugged in, empty
    rig.settle()
    view = rig.presenter.view()
    assert view.reader_line == f"读卡器：{other_reader}，已插入IC卡。"
    assert view.card_line == "持卡人：李建国　卡号：310000000123"
    assert all(b.enabled for b in view.actions)


def test_an_action_needs_a_card(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.presenter.choose_action("login")
    rig.settle()
    assert rig.presenter.view().screen is Screen.IDLE
    assert rig.presenter.view().status == messages.INSERT_CARD_FIRST
    assert not rig.api.pairings


# Pairing


def test_pairing_shows_qr_user_code_and_a_countdown(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    _insert(rig)
    rig.presenter.choose_action("login")
    assert rig.presenter.view().status == messages.PAIRING_CREATING
    rig.settle()
    view = rig.presenter.view()
    assert view.screen is Screen.PAIRING
    assert (view.qr_text, view.user_code) == ("cwt://pair/token1", "ABC1-2345")
    assert view.countdown == "二维码剩余 2:00"
    assert view.can_cancel
    rig.tick(75.5)
    assert rig.presenter.view().countdown == "二维码剩余 0:45"
    assert rig.api.calls[-1] == "events:p1:1"


def test_an_unscanned_qr_is_refreshed_when_it_runs_out(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    _pairing(rig, "bind")
    rig.tick(121)
    view = rig.presenter.view()
    assert view.screen is Screen.PAIRING
    assert view.qr_text == "cwt://pair/token2"
    assert view.countdown == "二维码剩余 2:00"
    assert [p.action for p in rig.api.pairings] == ["bind", "bind"]
    # the server's own word that the old one expired changes nothing more
    rig.api.push("p1", "expired")
    rig.settle()
    assert rig.presenter.view().qr_text == "cwt://pair/token2"


def test_the_server_saying_an_unscanned_pairing_expired_refreshes_it(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    _pairing(rig)
    rig.api.push("p1", "expired")
    rig.presenter.tick()
    rig.settle()
    assert rig.presenter.view().qr_text == "cwt://pair/token2"


def test_scanned_then_expired_ends_the_action(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    _pairing(rig)
    rig.api.push("p1", "scanned")
    rig.settle()
    view = rig.presenter.view()
    assert view.status == messages.PAIRING_SCANNED
    assert view.qr_text is None and view.user_code == "ABC1-2345"
    rig.api.push("p1", "expired")
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.result, view.result_ok) == (Screen.RESULT, messages.CONFIRM_TIME_EXPIRED, False)
    assert len(rig.api.pairings) == 1


def test_the_phone_declining_ends_the_action(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    _pairing(rig)
    rig.api.push("p1", "cancelled")
    rig.settle()
    assert rig.presenter.view().result == messages.PAIRING_CANCELLED
    rig.presenter.back()
    assert rig.presenter.view().screen is Screen.IDLE


def test_cancel_leaves_the_pairing(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    _pairing(rig)
    rig.presenter.cancel()
    rig.api.push("p1", "scanned")  # a late answer of the abandoned pairing
    rig.settle()
    assert rig.presenter.view().screen is Screen.IDLE


def test_a_lost_long_poll_is_retried(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    _pairing(rig)
    rig.api.events_script["p1"].append(NetworkError())
    rig.settle()
    assert rig.presenter.view().screen is Screen.PAIRING
    polls = rig.api.calls.count("events:p1:1")
    rig.api.push("p1", "scanned")
    rig.tick(5)
    assert rig.api.calls.count("events:p1:1") == polls + 1
    assert rig.presenter.view().status == messages.PAIRING_SCANNED


def test_who_confirmed_is_shown(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    _to_pin(rig, "bind", confirmed_by=Person("王秀英", "wangxy"))
    view = rig.presenter.view()
    assert view.confirmed_by == "王秀英（wangxy）已在手机上确认"
    assert view.pin_visible and view.status == messages.PIN_PROMPT


def test_an_anonymous_login_scan_shows_phone_confirmed(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    _to_pin(rig, "login")
    assert rig.presenter.view().confirmed_by == messages.PAIRING_CONFIRMED_ANONYMOUS


# PIN and signing


def test_card_login_signs_the_context_and_shows_the_result(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    rig = make_rig(tmp_path)
    pairing_id = _to_pin(rig, "login")
    rig.presenter.submit_pin("123456")
    assert rig.presenter.view().screen is Screen.SIGNING
    assert rig.presenter.view().status == messages.SIGNING
    rig.settle()

    ((submitted_to, submission),) = rig.api.submissions
    challenge = rig.api.challenges[0]
    assert submitted_to == pairing_id and submission.nonce == challenge.nonce
    context = protocol.card_context(
        action="login", device=rig.api.key.device_id, pairing=pairing_id, nonce=challenge.nonce
    )
    assert rig.card.signed == [hashlib.sha256(context).digest()]
    import base64

    rig.card.key.public_key().verify(
        base64.b64decode(submission.signature),
        hashlib.sha256(context).digest(),
        ec.ECDSA(utils.Prehashed(hashes.SHA256())),
    )
    view = rig.presenter.view()
    assert (view.screen, view.result, view.result_ok) == (Screen.RESULT, "已登录", True)
    assert view.can_go_back

    # the PIN is nowhere: not on the presenter, not in the view, not in the log
    assert "123456" not in repr(vars(rig.presenter))
    assert "123456" not in repr(view)
    assert "123456" not in caplog.text


def test_a_wrong_pin_shows_the_retries_left_and_a_blocked_pin_ends(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    _to_pin(rig)
    rig.presenter.submit_pin("000000")
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.pin_error) == (Screen.PIN, "PIN码错误，还可尝试 2 次。")
    assert not rig.api.submissions and not rig.card.signed

    rig.presenter.submit_pin("")
    assert rig.presenter.view().pin_error == messages.PIN_EMPTY
    for malformed in ("123", "123456789", "12 456", "密码密码密码"):  # refused here: no try spent on the card
        rig.presenter.submit_pin(malformed)
        assert rig.presenter.view().pin_error == messages.PIN_FORMAT
    assert rig.card.pins_seen == 1

    rig.presenter.submit_pin("111111")
    rig.settle()
    assert rig.presenter.view().pin_error == "PIN码错误，还可尝试 1 次。"
    rig.presenter.submit_pin("222222")
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.result, view.result_ok) == (Screen.RESULT, messages.PIN_BLOCKED, False)
    assert not rig.api.submissions


def test_a_wrong_pin_then_the_right_one_signs(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    _to_pin(rig)
    rig.presenter.submit_pin("000000")
    rig.settle()
    rig.presenter.submit_pin("123456")
    rig.settle()
    assert rig.presenter.view().result_ok is True
    assert len(rig.api.challenges) == 2 and len(rig.api.submissions) == 1


def test_the_server_refusing_the_card_shows_its_message(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.api.outcome = lambda done: done.__class__(
        pairing_id=done.pairing_id,
        state="failed",
        version=9,
        action=done.action,
        error_code="card_untrusted",
        error_message="IC卡不是受信任的机构签发的。",
    )
    _to_pin(rig)
    rig.presenter.submit_pin("123456")
    rig.settle()
    view = rig.presenter.view()
    assert (view.result, view.result_ok) == ("办理失败：IC卡不是受信任的机构签发的。", False)


def test_an_error_answer_shows_the_server_message(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)

    def refuse(done: object) -> object:
        raise BackendError("card_nonce_invalid", "验证码已失效，请重新办理。", status=409)

    rig.api.outcome = refuse  # type: ignore[assignment]
    _to_pin(rig)
    rig.presenter.submit_pin("123456")
    rig.settle()
    assert rig.presenter.view().result == "办理失败：验证码已失效，请重新办理。"


def test_a_challenge_for_another_action_is_never_signed(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.api.challenge_action = "realname"
    _to_pin(rig, "login")
    rig.presenter.submit_pin("123456")
    rig.settle()
    assert rig.presenter.view().result == messages.CHALLENGE_MISMATCH
    assert rig.card.pins_seen == 0 and not rig.card.signed and not rig.api.submissions


def test_pulling_the_card_mid_action_goes_back_to_idle(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    _to_pin(rig)
    rig.presenter.on_card_event(CardRemoved(READER))
    rig.settle()
    view = rig.presenter.view()
    assert view.screen is Screen.IDLE
    assert view.status == messages.CARD_REMOVED_DURING_ACTION
    rig.presenter.submit_pin("123456")  # the PIN field is gone; a late click does nothing
    rig.settle()
    assert not rig.api.challenges
    _insert(rig)
    assert rig.presenter.view().status == messages.CHOOSE_ACTION


def test_a_card_pulled_after_it_signed_shows_what_the_server_did(tmp_path: Path) -> None:
    # the card has signed and the submission is on its way when the card comes out: the server
    # performs the action, so the PC must not say it was cancelled
    rig = make_rig(tmp_path)
    _to_pin(rig)
    rig.presenter.submit_pin("123456")
    rig.presenter.on_card_event(CardRemoved(READER))
    rig.settle()
    assert len(rig.api.submissions) == 1
    view = rig.presenter.view()
    assert (view.screen, view.result, view.result_ok) == (Screen.RESULT, "已登录", True)
    assert view.card_line == ""


def test_a_card_pulled_while_it_signs_ends_with_a_card_removed_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig(tmp_path)
    _to_pin(rig)

    def pulled(slot: str, digest: bytes) -> bytes:
        raise CardRemovedError("the card in reader was removed")

    monkeypatch.setattr(rig.card, "sign", pulled)
    rig.presenter.submit_pin("123456")
    rig.presenter.on_card_event(CardRemoved(READER))
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.result, view.result_ok) == (Screen.RESULT, messages.CARD_REMOVED_DURING_ACTION, False)
    assert not rig.api.submissions


def _refused_as_another_card(rig: Rig, other: FakeCard) -> None:
    """The card now in the reader spent no PIN try and signed nothing; the action ends as "card changed"."""
    assert (other.pins_seen, other.retries, other.signed) == (0, 3, [])
    assert not rig.api.submissions
    view = rig.presenter.view()
    assert (view.screen, view.result, view.result_ok) == (Screen.RESULT, messages.CARD_CHANGED, False)


def test_a_card_swapped_before_signing_gets_no_pin_try_and_no_signature(tmp_path: Path) -> None:
    # the PIN was typed for the card on screen; another card put in before the signing task
    # reaches the reader must not spend one of its PIN tries nor sign
    rig = make_rig(tmp_path)
    _to_pin(rig)
    other = FakeCard(rig.card.authority, identity=OTHER_HOLDER, pin="654321")
    rig.presenter.submit_pin("123456")
    rig.presenter.on_card_event(CardRemoved(READER))
    rig.card = other
    rig.presenter.on_card_event(CardInserted(READER, ATR))
    rig.settle()
    _refused_as_another_card(rig, other)


def test_another_card_of_the_same_holder_swapped_unnoticed_gets_no_pin_try_and_no_signature(tmp_path: Path) -> None:
    # a second card of the same person (an old one, a replacement) put in without the monitor
    # telling: the PIN was typed for the card whose certificate was read, not for this one
    rig = make_rig(tmp_path)
    _to_pin(rig)
    other = FakeCard(rig.card.authority, identity=HOLDER, pin="654321")
    rig.card = other
    rig.presenter.submit_pin("123456")
    rig.settle()
    _refused_as_another_card(rig, other)


def test_pcsc_lost_during_an_action_forgets_its_reader(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    _pairing(rig)
    rig.presenter.on_card_event(ServiceLost())
    rig.presenter.on_card_event(ServiceRestored())  # back, but the reader was unplugged meanwhile
    rig.settle()
    view = rig.presenter.view()
    assert view.reader_line == messages.NO_READER
    assert not any(b.enabled for b in view.actions)


def test_an_expired_qr_says_it_is_being_refreshed(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    _pairing(rig)
    rig.clock.advance(121)
    rig.presenter.tick()
    view = rig.presenter.view()
    assert (view.qr_text, view.countdown, view.status) == (None, None, messages.PAIRING_REFRESHING)
    rig.settle()
    assert rig.presenter.view().status == messages.PAIRING_SCAN


def test_a_corrupt_device_key_is_explained_and_kept(tmp_path: Path) -> None:
    # a key file cut short (or damaged) must not crash the program with a traceback at every start,
    # nor be replaced silently: a new key is a new device that an admin would have to enrol again
    (tmp_path / "device-key.pem").write_bytes(b"-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n")
    rig = make_rig(tmp_path / "unused")

    def api_factory(key: DeviceKey) -> FakeApi:
        raise AssertionError("no backend client without a key")

    presenter = Presenter(home=tmp_path, api_factory=api_factory, open_card=rig.card.open, runner=rig.runner)
    presenter.start()
    presenter.tick()
    view = presenter.view()
    assert view.screen is Screen.KEY_ERROR
    assert view.status == messages.KEY_UNUSABLE.format(path=tmp_path / "device-key.pem")
    assert not view.actions and not rig.runner.tasks
    assert (tmp_path / "device-key.pem").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\nMC4CAQAw")
