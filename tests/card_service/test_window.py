"""The real Tk window on a virtual X display (Xvfb), clicked through a card login, with screenshots."""

from __future__ import annotations

import os
import shutil
import time
import tkinter as tk
from pathlib import Path

import pytest
from PIL import Image, ImageGrab

from card_service import messages
from card_service.api import NetworkError, PairingState, Person
from card_service.card import CardInserted, CardRemoved, ReaderAdded
from card_service.window import Window

from .fakes import ATR, READER, make_rig


def _screenshot(root: tk.Tk, display: str, path: Path) -> Image.Image:
    for _ in range(5):
        root.update()
        time.sleep(0.05)
    x, y = root.winfo_rootx(), root.winfo_rooty()
    image = ImageGrab.grab(bbox=(x, y, x + root.winfo_width(), y + root.winfo_height()), xdisplay=display)
    image.save(path)
    return image


def _assert_not_blank(image: Image.Image) -> None:
    grey = image.convert("L")
    darkest, brightest = grey.getextrema()
    assert darkest < 60 and brightest > 200, "the screenshot is one flat colour"
    colours = grey.getcolors(maxcolors=256 * 256) or []
    assert len(colours) > 8, "the screenshot has hardly any detail"


def test_window_through_a_card_login(xdisplay: str, tmp_path: Path) -> None:
    rig = make_rig(tmp_path / "home")
    root = tk.Tk(screenName=xdisplay)
    try:
        root.geometry("+0+0")
        window = Window(root, rig.presenter, poll_ms=50)

        def step() -> None:
            rig.settle()
            window.refresh()
            root.update()

        step()
        idle = _screenshot(root, xdisplay, tmp_path / "idle.png")
        _assert_not_blank(idle)
        assert str(window.action_buttons["login"]["state"]) == "disabled"

        rig.presenter.on_card_event(ReaderAdded(READER))
        rig.presenter.on_card_event(CardInserted(READER, ATR))
        step()
        assert window.card_line["text"] == "持卡人：李建国　卡号：310000000123"
        window.action_buttons["login"].invoke()
        step()
        assert window.user_code["text"] == "ABC1-2345"
        assert window.countdown["text"] == "二维码剩余 2:00"
        assert window.qr.winfo_ismapped()
        pairing = _screenshot(root, xdisplay, tmp_path / "pairing.png")
        _assert_not_blank(pairing)
        # the QR's own pixels: a large part of its square is black
        qx, qy = window.qr.winfo_x() + window.frame.winfo_x(), window.qr.winfo_y() + window.frame.winfo_y()
        qr_area = pairing.crop((qx, qy, qx + window.qr.winfo_width(), qy + window.qr.winfo_height())).convert("L")
        dark = sum(qr_area.histogram()[:64])
        assert dark > qr_area.width * qr_area.height * 0.2

        rig.api.push("p1", "scanned")
        rig.api.push("p1", "confirmed", confirmed_by=Person("王秀英", "wangxy"))
        step()
        assert window.pin_row.winfo_ismapped()
        assert window.confirmed_by["text"] == "王秀英（wangxy）已在手机上确认"
        assert window.pin_entry["show"] == "*"
        window.pin_entry.insert(0, "000000")
        window.pin_button.invoke()
        step()
        assert window.pin_entry.get() == ""
        assert window.pin_error["text"] == "PIN码错误，还可尝试 2 次。"
        window.pin_entry.insert(0, "1234")
        _assert_not_blank(_screenshot(root, xdisplay, tmp_path / "pin.png"))
        window.pin_entry.delete(0, "end")
        window.pin_entry.insert(0, "123456")
        window.pin_entry.event_generate("<Return>")
        step()
        assert window.status["text"] == "已登录"
        assert window.back_button.winfo_ismapped()
        _assert_not_blank(_screenshot(root, xdisplay, tmp_path / "result.png"))
        window.back_button.invoke()
        step()
        assert window.actions_row.winfo_ismapped()
    finally:
        root.destroy()
    keep = os.environ.get("CARD_SERVICE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for name in ("idle", "pairing", "pin", "result"):
            shutil.copy(tmp_path / f"{name}.png", Path(keep) / f"{name}.png")


def test_a_pin_typed_but_not_sent_is_cleared_when_the_pin_screen_goes(xdisplay: str, tmp_path: Path) -> None:
    # a PIN typed and then abandoned (card pulled, cancelled) must not wait in the hidden field
    # for the next person, who would send it with one press of Enter
    rig = make_rig(tmp_path / "home")
    root = tk.Tk(screenName=xdisplay)
    try:
        window = Window(root, rig.presenter, poll_ms=50)

        def step() -> None:
            rig.settle()
            window.refresh()
            root.update()

        def to_pin(pairing_id: str) -> None:
            window.action_buttons["login"].invoke()
            step()
            rig.api.push(pairing_id, "confirmed", confirmed_by=Person("王秀英", "wangxy"))
            step()
            assert window.pin_row.winfo_ismapped()

        rig.presenter.on_card_event(ReaderAdded(READER))
        rig.presenter.on_card_event(CardInserted(READER, ATR))
        step()
        to_pin("p1")
        window.pin_entry.insert(0, "123456")
        window.cancel_button.invoke()
        step()
        assert not window.pin_row.winfo_ismapped()
        assert window.pin_entry.get() == ""

        to_pin("p2")
        window.pin_entry.insert(0, "123456")
        rig.presenter.on_card_event(CardRemoved(READER))
        step()
        assert window.pin_entry.get() == ""
    finally:
        root.destroy()


def test_a_server_that_does_not_answer_gives_a_retry_button(
    xdisplay: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig(tmp_path / "home")
    make_pairing = rig.api.create_pairing
    answers: list[BaseException | None] = [NetworkError("ConnectError"), None]

    def create(action: str) -> PairingState:
        error = answers.pop(0)
        if error is not None:
            raise error
        return make_pairing(action)

    monkeypatch.setattr(rig.api, "create_pairing", create)
    root = tk.Tk(screenName=xdisplay)
    try:
        window = Window(root, rig.presenter, poll_ms=50)

        def step() -> None:
            rig.settle()
            window.refresh()
            root.update()

        rig.presenter.on_card_event(ReaderAdded(READER))
        rig.presenter.on_card_event(CardInserted(READER, ATR))
        step()
        window.action_buttons["bind"].invoke()
        step()
        assert window.status["text"] == messages.SERVER_UNREACHABLE
        assert window.retry_button.winfo_ismapped() and window.back_button.winfo_ismapped()
        assert window.retry_button["text"] == "重试"
        window.retry_button.invoke()
        step()
        assert window.qr.winfo_ismapped() and window.user_code["text"] == "ABC1-2345"
        assert not window.retry_button.winfo_ismapped()
    finally:
        root.destroy()
