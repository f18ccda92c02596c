"""The Tk window: draws the presenter's view-model and forwards clicks; no decisions are made here."""

from __future__ import annotations

import base64
import logging
import signal
import tkinter as tk
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from tkinter import font as tkfont
from types import FrameType, TracebackType

from card_service import messages
from card_service.presenter import ACTIONS, Presenter, ViewModel
from card_service.qr import qr_png

log = logging.getLogger(__name__)

# Fonts that carry Chinese glyphs, best first (Debian: fonts-wqy-microhei, fonts-noto-cjk; Windows: YaHei).
CJK_FAMILIES = ("Microsoft YaHei", "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC")
POLL_MS = 100
QR_SCALE = 6
OK_COLOUR = "#1a7f37"
ERROR_COLOUR = "#c62828"
MUTED_COLOUR = "#555555"


def _cjk_family(root: tk.Misc) -> str | None:
    available = set(tkfont.families(root))
    return next((family for family in CJK_FAMILIES if family in available), None)


class Window:
    """One top-level window; ``render`` is the only place that touches widgets' contents."""

    def __init__(self, root: tk.Tk, presenter: Presenter, *, poll_ms: int = POLL_MS) -> None:
        self.root = root
        self.presenter = presenter
        self.poll_ms = poll_ms
        self._last: ViewModel | None = None
        self._qr_text: str | None = None
        self._qr_image: tk.PhotoImage | None = None

        family = _cjk_family(root)
        if family:
            for name in ("TkDefaultFont", "TkTextFont", "TkFixedFont", "TkMenuFont"):
                tkfont.nametofont(name, root).configure(family=family)
        base = tkfont.nametofont("TkDefaultFont", root)
        base.configure(size=11)
        self.font_title = base.copy()
        self.font_title.configure(size=16, weight="bold")
        self.font_code = base.copy()
        self.font_code.configure(size=30, weight="bold")
        self.font_big = base.copy()
        self.font_big.configure(size=13)

        root.title(messages.WINDOW_TITLE)
        root.minsize(520, 620)
        frame = tk.Frame(root, padx=18, pady=14)
        frame.pack(fill="both", expand=True)
        frame.columnconfigure(0, weight=1)
        self.frame = frame

        self.title = tk.Label(frame, text=messages.WINDOW_TITLE, font=self.font_title)
        self.device_line = tk.Label(frame, fg=MUTED_COLOUR)
        self.reader_line = tk.Label(frame, anchor="w")
        self.card_line = tk.Label(frame, anchor="w")
        self.separator = tk.Frame(frame, height=2, bd=1, relief="sunken")
        self.qr = tk.Label(frame, bg="white")
        self.fingerprint = tk.Label(frame, font=self.font_big)
        self.user_code_caption = tk.Label(frame, text=messages.PAIRING_USER_CODE, fg=MUTED_COLOUR)
        self.user_code = tk.Label(frame, font=self.font_code)
        self.countdown = tk.Label(frame, fg=MUTED_COLOUR)
        self.confirmed_by = tk.Label(frame, font=self.font_big, fg=OK_COLOUR)
        self.status = tk.Label(frame, font=self.font_big, wraplength=470, justify="center")

        self.pin_row = tk.Frame(frame)
        self.pin_entry = tk.Entry(self.pin_row, show="*", width=12, font=self.font_big)
        self.pin_button = tk.Button(self.pin_row, text=messages.CONFIRM, command=self._submit_pin, width=8)
        self.pin_entry.pack(side="left", padx=6)
        self.pin_button.pack(side="left", padx=6)
        self.pin_entry.bind("<Return>", lambda _event: self._submit_pin())
        self.pin_error = tk.Label(frame, fg=ERROR_COLOUR)

        self.actions_row = tk.Frame(frame)
        self.action_buttons: dict[str, tk.Button] = {}
        for action in ACTIONS:
            button = tk.Button(
                self.actions_row,
                text=messages.ACTION_LABELS[action],
                width=10,
                command=lambda chosen=action: self._click(lambda: presenter.choose_action(chosen)),
            )
            button.pack(side="left", padx=8)
            self.action_buttons[action] = button

        self.controls_row = tk.Frame(frame)
        self.cancel_button = tk.Button(
            self.controls_row, text=messages.CANCEL, width=8, command=lambda: self._click(presenter.cancel)
        )
        self.back_button = tk.Button(
            self.controls_row, text=messages.BACK, width=8, command=lambda: self._click(presenter.back)
        )
        self.retry_button = tk.Button(
            self.controls_row, text=messages.RETRY, width=8, command=lambda: self._click(presenter.retry)
        )

        self._rows: list[tk.Widget] = [
            self.title,
            self.device_line,
            self.reader_line,
            self.card_line,
            self.separator,
            self.qr,
            self.fingerprint,
            self.user_code_caption,
            self.user_code,
            self.countdown,
            self.confirmed_by,
            self.status,
            self.pin_row,
            self.pin_error,
            self.actions_row,
            self.controls_row,
        ]
        for row, widget in enumerate(self._rows):
            sticky = "we" if widget in (self.reader_line, self.card_line, self.separator) else ""
            widget.grid(row=row, column=0, pady=4, sticky=sticky)

    # The loop

    def start(self) -> None:
        self.presenter.start()
        self._loop()

    def _loop(self) -> None:
        try:
            self.refresh()
        finally:  # a turn that fails is logged by Tk; the window goes on with the next one
            self.root.after(self.poll_ms, self._loop)

    def refresh(self) -> None:
        """One turn: time-driven steps, results of the tasks, then draw what changed."""
        self.presenter.tick()
        self.presenter.pump()
        view = self.presenter.view()
        if view != self._last:
            self.render(view)
            self._last = view

    def _click(self, handler: Callable[[], None]) -> None:
        handler()
        self.refresh()

    def _submit_pin(self) -> None:
        pin = self.pin_entry.get()
        self.pin_entry.delete(0, "end")
        self.presenter.submit_pin(pin)
        del pin
        self.refresh()

    # Drawing

    def render(self, view: ViewModel) -> None:
        self._text(self.device_line, view.device_line)
        self._text(self.reader_line, view.reader_line)
        self._text(self.card_line, view.card_line)
        self._show_qr(view.qr_text)
        self._text(self.fingerprint, view.fingerprint)
        self._show(self.user_code_caption, bool(view.user_code))
        self._text(self.user_code, view.user_code)
        self._text(self.countdown, view.countdown)
        self._text(self.confirmed_by, view.confirmed_by)
        self._text(self.status, view.status)
        if view.result_ok is not None:
            self.status.configure(fg=OK_COLOUR if view.result_ok else ERROR_COLOUR)
        else:
            self.status.configure(fg="black")
        was_visible = self.pin_row.winfo_ismapped()
        self._show(self.pin_row, view.pin_visible)
        if view.pin_visible and not was_visible:
            self.pin_entry.focus_set()
        if not view.pin_visible:
            self.pin_entry.delete(0, "end")  # a PIN typed but not sent does not wait for the next person
        self._text(self.pin_error, view.pin_error)
        self._show(self.actions_row, bool(view.actions))
        for button in view.actions:
            self.action_buttons[button.action].configure(state="normal" if button.enabled else "disabled")
        self._show(self.cancel_button, view.can_cancel, pack=True)
        self._show(self.back_button, view.can_go_back, pack=True)
        self._show(self.retry_button, view.can_retry, pack=True)
        self._show(self.controls_row, view.can_cancel or view.can_go_back or view.can_retry)

    def _show_qr(self, text: str | None) -> None:
        if text != self._qr_text:
            self._qr_text = text
            if text:
                data = base64.b64encode(qr_png(text, scale=QR_SCALE)).decode("ascii")
                self._qr_image = tk.PhotoImage(master=self.root, data=data, format="png")
                self.qr.configure(image=self._qr_image)
            else:
                self._qr_image = None
                self.qr.configure(image="")
        self._show(self.qr, bool(text))

    def _text(self, label: tk.Label, text: str | None) -> None:
        label.configure(text=text or "")
        self._show(label, bool(text))

    @staticmethod
    def _show(widget: tk.Widget, visible: bool, *, pack: bool = False) -> None:
        if pack:
            if visible and not widget.winfo_manager():
                widget.pack(side="left", padx=8)
            elif not visible and widget.winfo_manager():
                widget.pack_forget()
            return
        if visible:
            widget.grid()
        else:
            widget.grid_remove()


def log_callback_error(exc_type: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """Tk's report of an error in a callback, through logging (masked) instead of a print to stderr."""
    log.error("error in a window callback", exc_info=(exc_type, value, tb))


# Asked to stop: SIGTERM (a logout, a shutdown, a service manager), SIGHUP (the session that
# started it has gone, where the system has it), SIGINT (Ctrl+C in its terminal: a KeyboardInterrupt
# landing in a Tk callback would only be logged, and the window would stay).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, name))


class _Stopped(SystemExit):
    """Raised by the stop signals' handler. A SystemExit, so Tk lets it out of a callback and its loop."""


def _stop(signum: int, _frame: FrameType | None) -> None:
    log.info("%s received: closing", signal.Signals(signum).name)
    raise _Stopped(0)


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """A stop signal ends the program the way closing the window does (the open pairing cancelled),
    instead of killing it on the spot; the previous handlers are put back after. A signal the program
    was started ignoring (``nohup``, ``&`` in a script) stays ignored."""
    ignored = {number for number in STOP_SIGNALS if signal.getsignal(number) is signal.SIG_IGN}
    previous = {number: signal.signal(number, _stop) for number in STOP_SIGNALS if number not in ignored}
    try:
        yield
    except _Stopped:
        pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run(presenter: Presenter) -> None:
    """Open the window and run Tk's loop until it is closed or the program is asked to stop."""
    root = tk.Tk()
    root.report_callback_exception = log_callback_error  # type: ignore[method-assign]
    window = Window(root, presenter)
    with _stopped_by_signals():
        try:
            window.start()
            root.mainloop()
        finally:
            presenter.close()
