"""Settings of the card service: backend address, proxy, config folder, the reader to use."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BACKEND = "http://127.0.0.1:8000"
HOME_ENV = "CARD_SERVICE_HOME"


def default_home(environ: Mapping[str, str] | None = None) -> Path:
    """``$CARD_SERVICE_HOME``, else ``$XDG_CONFIG_HOME/cunwu-card-service`` (``~/.config`` by default)."""
    env = os.environ if environ is None else environ
    if env.get(HOME_ENV):
        return Path(env[HOME_ENV]).expanduser()
    base = Path(env["XDG_CONFIG_HOME"]).expanduser() if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "cunwu-card-service"


@dataclass(frozen=True)
class Config:
    backend: str = DEFAULT_BACKEND
    home: Path = Path(".")
    proxy: str | None = None
    reader: str | None = None
    timeout: float = 10.0


def parse_args(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    parser = argparse.ArgumentParser(prog="python -m card_service", description="村务通 IC卡服务")
    parser.add_argument("--backend", default=DEFAULT_BACKEND, help="backend base URL")
    parser.add_argument("--proxy", default=None, help="HTTP(S) proxy URL (HTTP(S)_PROXY is honoured as well)")
    parser.add_argument("--home", default=None, help=f"config folder (default ${HOME_ENV} or ~/.config/...)")
    parser.add_argument("--reader", default=None, help="use only this reader (its name, or a part of it)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    args = parser.parse_args(argv)
    home = Path(args.home).expanduser() if args.home else default_home(environ)
    return Config(
        backend=args.backend.rstrip("/"),
        home=home,
        proxy=args.proxy,
        reader=(args.reader or "").strip() or None,
        timeout=args.timeout,
    )
