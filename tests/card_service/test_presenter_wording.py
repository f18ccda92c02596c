"""What the card service window says: the words of the glossary, and texts meant for the PC itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from card_service import messages
from card_service.api import BackendError, Person
from card_service.card import ApduError
from card_service.presenter import Screen

from .fakes import make_rig

# The backend's text of a 409 pairing_state: written for the phone, it points at the PC's screen.
PHONE_STATE_CHANGED = "配对状态已变化，请查看电脑上的提示"


def _texts() -> list[str]:
    values = [value for name, value in vars(messages).items() if name.isupper()]
    return [text for value in values for text in (value.values() if isinstance(value, dict) else [value])]


def test_a_card_without_a_usable_certificate_asks_for_a_legal_rep_or_operator_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig(tmp_path)
    view = rig.insert_unreadable(monkeypatch, ApduError(0x6A82))
    assert view.status == "请插入发卡机构发放的单位IC卡（法人卡或操作员卡）。"


def test_no_card_service_text_calls_a_card_an_agent_card() -> None:
    # 经办人 is an agent (a person acting for a unit); the cards are 法人卡 and 操作员卡
    assert [text for text in _texts() if "经办人" in text] == []


def test_a_pairing_state_refusal_has_the_pcs_own_text(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)

    def refuse(done: object) -> object:
        raise BackendError("pairing_state", PHONE_STATE_CHANGED, status=409)

    rig.api.outcome = refuse  # type: ignore[assignment]
    rig.to_pin()
    rig.presenter.submit_pin("123456")
    rig.settle()
    view = rig.presenter.view()
    assert (view.screen, view.result_ok) == (Screen.RESULT, False)
    assert "电脑" not in (view.result or "")  # not sent to look at the screen it is on
    assert view.result == messages.PAIRING_STATE_CHANGED


def test_a_failed_result_does_not_show_the_phone_confirmed_line(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.api.outcome = lambda done: done.__class__(
        pairing_id=done.pairing_id,
        state="failed",
        version=9,
        action=done.action,
        confirmed_by=Person("王秀英", "wangxy"),
        error_code="card_untrusted",
        error_message="IC卡不是受信任的机构签发的。",
    )
    pairing_id = rig.start_pairing()
    rig.api.push(pairing_id, "scanned")
    rig.api.push(pairing_id, "confirmed", confirmed_by=Person("王秀英", "wangxy"))
    rig.settle()
    assert rig.presenter.view().confirmed_by == "王秀英（wangxy）已在手机上确认"
    rig.presenter.submit_pin("123456")
    rig.settle()
    view = rig.presenter.view()
    assert (view.result_ok, view.confirmed_by) == (False, None)


def test_a_successful_result_still_shows_who_confirmed(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.to_pin()
    rig.presenter.submit_pin("123456")
    rig.settle()
    view = rig.presenter.view()
    assert (view.result_ok, view.confirmed_by) == (True, messages.PAIRING_CONFIRMED_ANONYMOUS)
