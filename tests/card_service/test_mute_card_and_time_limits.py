"""Review of the card service on a shared office PC: a card that does not answer, a result or a QR
left on screen by someone who walked away. Driven with the injected clock, runner and fakes (and a
fake PC/SC for the monitor), so nothing here needs pcscd."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from smartcard import scard

from card_service import messages
from card_service.card import CardInserted, CardMuteError, CardRemoved, NoCardError, ReaderAdded
from card_service.card.monitor import CardEvent
from card_service.card.pcsc import pcsc_error
from card_service.presenter import Screen

from .fakes import ATR, READER, make_rig
from .test_monitor import FakePcsc, FakeReader, pcsc, watch  # noqa: F401

MUTE_ATR = b""  # pcsc-lite gives no ATR for a card whose power-up failed


# A card that does not answer (upside down, dirty contacts) is a card, not "no card"


@dataclass
class MuteReader(FakeReader):
    """A reader whose card did not answer the power-up (pcsc-lite: SWALLOWED, seen as PRESENT | MUTE)."""

    mute: bool = True

    def state(self) -> int:
        return super().state() | (scard.SCARD_STATE_MUTE if self.atr is not None and self.mute else 0)


def test_the_monitor_reports_a_card_that_does_not_answer_as_a_mute_card(
    pcsc: FakePcsc,  # noqa: F811
    watch: Callable[[], list[CardEvent]],  # noqa: F811
) -> None:
    pcsc.readers[READER] = MuteReader()

    def pull(fake: FakePcsc) -> None:
        fake.remove(READER)

    pcsc.script = [lambda fake: fake.insert(READER, MUTE_ATR), pull]
    assert watch() == [ReaderAdded(READER), CardInserted(READER, MUTE_ATR, mute=True), CardRemoved(READER)]


def test_a_mute_card_that_starts_answering_is_reported_anew(
    pcsc: FakePcsc,  # noqa: F811
    watch: Callable[[], list[CardEvent]],  # noqa: F811
) -> None:
    # pcscd powered it up at last (same insertion, same event counter): it is read as a new card
    reader = MuteReader()
    pcsc.readers[READER] = reader

    def answers(fake: FakePcsc) -> None:
        reader.mute = False
        reader.atr = ATR

    pcsc.script = [lambda fake: fake.insert(READER, MUTE_ATR), answers]
    assert watch() == [
        ReaderAdded(READER),
        CardInserted(READER, MUTE_ATR, mute=True),
        CardRemoved(READER),
        CardInserted(READER, ATR),
    ]


def test_connecting_to_a_card_that_does_not_answer_is_a_mute_card_error() -> None:
    # pcsc-lite's SCardConnect on a card whose power-up failed: SCARD_W_UNRESPONSIVE_CARD
    error = pcsc_error(scard.SCARD_W_UNRESPONSIVE_CARD, READER, connecting=True)
    assert isinstance(error, CardMuteError) and not isinstance(error, NoCardError)
    assert isinstance(pcsc_error(scard.SCARD_W_UNRESPONSIVE_CARD, READER), CardMuteError)


def test_a_mute_card_asks_to_insert_it_again_the_right_way_round(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.insert(mute=True)
    view = rig.presenter.view()
    assert view.reader_line == messages.READER_WITH_CARD.format(reader=READER)
    assert view.card_line == messages.CARD_MUTE
    assert view.status == messages.CARD_MUTE_HINT
    assert not any(b.enabled for b in view.actions)
    rig.presenter.choose_action("login")
    rig.settle()
    assert not rig.api.pairings

    rig.presenter.on_card_event(CardRemoved(READER))
    rig.presenter.on_card_event(CardInserted(READER, ATR))
    rig.settle()
    view = rig.presenter.view()
    assert view.card_line == "持卡人：李建国　卡号：310000000123"
    assert view.status == messages.CHOOSE_ACTION and all(b.enabled for b in view.actions)


def test_a_card_that_stops_answering_when_read_asks_to_insert_it_again_the_right_way_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig(tmp_path)
    view = rig.insert_unreadable(monkeypatch, CardMuteError("the card does not answer"))
    assert (view.card_line, view.status) == (messages.CARD_MUTE, messages.CARD_MUTE_HINT)


def test_a_card_that_stops_answering_while_it_signs_is_not_called_pulled_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig(tmp_path)
    rig.to_pin()

    def mute(pin: str) -> None:
        raise CardMuteError("the card does not answer")

    monkeypatch.setattr(rig.card, "verify_pin", mute)
    rig.presenter.submit_pin("123456")
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.result, view.result_ok) == (Screen.RESULT, messages.CARD_MUTE_DURING_ACTION, False)
    assert not rig.api.submissions


# Nothing stays on a shared PC's screen for whoever comes next


def test_the_result_screen_goes_back_by_itself_after_a_minute(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.to_pin()
    rig.presenter.submit_pin("123456")
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.result) == (Screen.RESULT, "已登录")
    assert view.countdown == messages.RESULT_COUNTDOWN.format(seconds=60)
    rig.tick(59.5)
    view = rig.presenter.view()
    assert view.screen is Screen.RESULT and view.countdown == messages.RESULT_COUNTDOWN.format(seconds=1)
    rig.tick(0.5)
    view = rig.presenter.view()
    assert view.screen is Screen.IDLE
    assert (view.result, view.confirmed_by, view.countdown) == (None, None, None)
    assert view.status == messages.CHOOSE_ACTION  # the card is still in: the next action can start


def test_a_result_shown_after_the_card_was_pulled_also_goes_back_by_itself(tmp_path: Path) -> None:
    # the card came out while it signed: no card event is left to clear the result that follows
    rig = make_rig(tmp_path)
    rig.to_pin()
    rig.presenter.submit_pin("123456")
    rig.presenter.on_card_event(CardRemoved(READER))
    rig.settle()
    assert rig.presenter.view().result == "已登录"
    rig.tick(60)
    view = rig.presenter.view()
    assert view.screen is Screen.IDLE and view.result is None
    assert "已登录" not in repr(view)


def test_an_unattended_qr_is_renewed_twice_then_taken_down(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.start_pairing()
    rig.tick(121)
    rig.tick(121)
    view = rig.presenter.view()
    assert view.screen is Screen.PAIRING and view.qr_text == "cwt://pair/token3"
    rig.tick(121)
    view = rig.presenter.view()
    assert view.screen is Screen.IDLE
    assert view.qr_text is None and view.user_code is None
    assert view.status == messages.PAIRING_UNATTENDED
    assert len(rig.api.pairings) == 3
    rig.tick(600)
    assert len(rig.api.pairings) == 3

    rig.presenter.choose_action("login")  # choosing again starts afresh, with its own three QR codes
    rig.settle()
    view = rig.presenter.view()
    assert view.screen is Screen.PAIRING and view.qr_text == "cwt://pair/token4"
    rig.tick(121)
    assert rig.presenter.view().qr_text == "cwt://pair/token5"


def test_a_qr_the_server_says_expired_counts_towards_the_renewals(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    pairing_id = rig.start_pairing()
    for _ in range(2):
        rig.api.push(pairing_id, "expired")
        rig.settle()
        pairing_id = rig.api.pairings[-1].pairing_id
    assert rig.presenter.view().qr_text == "cwt://pair/token3"
    rig.api.push(pairing_id, "expired")
    rig.settle()
    view = rig.presenter.view()
    assert view.screen is Screen.IDLE and view.status == messages.PAIRING_UNATTENDED
    assert len(rig.api.pairings) == 3
