"""``python -m card_service --backend URL [--proxy URL] [--home DIR] [--reader NAME]``: the window."""

from __future__ import annotations

import logging
import sys
import tkinter as tk
from collections.abc import Sequence

from backend.core import log_privacy  # the filter and the masks only: nothing of the server
from card_service import messages
from card_service.api import BackendClient
from card_service.card import CardMonitor, open_piv
from card_service.config import Config, parse_args
from card_service.device_key import DeviceKey
from card_service.presenter import Presenter
from card_service.window import run


def build(config: Config) -> Presenter:
    """The presenter wired to the real backend client and the PC/SC card layer."""

    def api_factory(key: DeviceKey) -> BackendClient:
        return BackendClient(config.backend, key, proxy=config.proxy, timeout=config.timeout)

    return Presenter(home=config.home, api_factory=api_factory, open_card=open_piv, preferred_reader=config.reader)


def main(argv: Sequence[str] | None = None) -> int:
    log_privacy.configure()  # masks phones and ID numbers in every line (a card certificate's error too)
    log_privacy.log_uncaught()  # a task thread's uncaught error too
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per long-poll
    config = parse_args(argv)
    presenter = build(config)
    monitor = CardMonitor(presenter.on_card_event)
    monitor.start()
    try:
        run(presenter)
    except tk.TclError as error:
        print(f"{messages.NO_DISPLAY} ({error})", file=sys.stderr)
        return 1
    finally:
        monitor.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
