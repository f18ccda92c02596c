"""Fixtures for tests through the real PC/SC stack: pcscd, the vpcd virtual reader, a software PIV card.

- ``pcsc``: pcscd with vpcd is up (``scripts/pcsc.sh`` starts it) and this test holds the machine-wide
  vpcd lock (``/tmp/cunwu-vpcd.lock``, shared with every other test that uses vpcd) for its whole
  duration. Yields a ``PcscStack`` (reader names, ports, ``wait_for_card``, ``restart``). With
  ``CI=true`` a PC/SC stack that cannot be started fails the test; without CI it skips, saying why.
- ``soft_card``: a factory, ``reader = soft_card(card)`` inserts a ``SoftPivCard`` (a default card
  from ``card_authority`` and ``card_identity`` when none is given) into the vpcd reader, waits until
  PC/SC sees it and returns the reader name; every card is removed after the test.
- ``card_authority`` (one test CA per session) and ``card_identity`` (a legal-person card).

Tests elsewhere can use them by importing them into their module:
``from tests.card.conftest import card_authority, card_identity, pcsc, pcsc_stack, soft_card  # noqa: F401``.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from smartcard import scard

from card_service.fakes.card_ca import CardAuthority, CardIdentity
from card_service.fakes.soft_piv import VPCD_PORT, SoftPivCard

ROOT = Path(__file__).resolve().parents[2]
PCSC_SCRIPT = ROOT / "scripts" / "pcsc.sh"
LOCK_PATH = Path("/tmp/cunwu-vpcd.lock")
LOCK_TIMEOUT = 600.0
VPCD_READER = "Virtual PCD 00 {slot:02d}"  # slot 0 on port 35963, slot 1 on 35964


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def run_pcsc_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PCSC_SCRIPT), *args], capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)


def card_present(reader: str) -> bool | None:
    """Whether PC/SC sees a card in ``reader`` now (None: no such reader, or no PC/SC)."""
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return None
    try:
        hresult, states = scard.SCardGetStatusChange(context, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        if hresult != scard.SCARD_S_SUCCESS:
            return None
        _, event_state, _ = states[0]
        if event_state & scard.SCARD_STATE_UNKNOWN:
            return None
        return bool(event_state & scard.SCARD_STATE_PRESENT)
    finally:
        scard.SCardReleaseContext(context)


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` every 50 ms; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


@dataclass(frozen=True)
class PcscStack:
    """pcscd with the vpcd driver, held by the current test."""

    def reader(self, slot: int = 0) -> str:
        return VPCD_READER.format(slot=slot)

    def port(self, slot: int = 0) -> int:
        return VPCD_PORT + slot

    def wait_for_card(self, present: bool = True, *, slot: int = 0, timeout: float = 10.0) -> None:
        reader = self.reader(slot)
        state = "in" if present else "out of"
        wait_until(lambda: card_present(reader) is present, timeout, f"a card {state} {reader}")

    def stop(self) -> None:
        result = run_pcsc_script("stop")
        assert result.returncode == 0, result.stderr

    def start(self) -> None:
        result = run_pcsc_script("start")
        assert result.returncode == 0, result.stderr

    def restart(self) -> None:
        result = run_pcsc_script("restart")
        assert result.returncode == 0, result.stderr


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"PC/SC stack unavailable in CI: {reason}")
    pytest.skip(f"PC/SC stack unavailable (pcscd with vpcd could not be started): {reason}")


def require_root(what: str) -> None:
    """Stopping and starting pcscd needs root: without it, fail in CI and skip elsewhere."""
    if os.geteuid() != 0:
        _unavailable(f"{what} needs root")


@pytest.fixture(scope="session")
def pcsc_stack() -> PcscStack:
    """Starts pcscd with vpcd once per session (installing the packages when root and missing)."""
    result = run_pcsc_script("ensure")
    if result.returncode != 0:
        _unavailable(result.stderr.strip() or f"scripts/pcsc.sh exited {result.returncode}")
    return PcscStack()


@pytest.fixture
def pcsc(pcsc_stack: PcscStack) -> Iterator[PcscStack]:
    """The PC/SC stack, up, with the machine-wide vpcd lock held for the whole test."""
    LOCK_PATH.touch(exist_ok=True)
    with LOCK_PATH.open("r+") as lock:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{LOCK_PATH} stayed locked for {LOCK_TIMEOUT:.0f}s")
                time.sleep(0.1)
        try:
            if run_pcsc_script("status").returncode != 0:  # stopped by someone since the session began
                result = run_pcsc_script("start")
                if result.returncode != 0:
                    _unavailable(result.stderr.strip())
            yield pcsc_stack
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def card_authority() -> CardAuthority:
    return CardAuthority.generate()


@pytest.fixture
def card_identity() -> CardIdentity:
    return CardIdentity(
        card_number="6217000012345678",
        holder_name="张三",
        id_number="110101199003071234",
        unit_name="示例村股份经济合作社",
        unit_credit_code="91350100M000100Y43",
        kind="legal_rep",
    )


SoftCardFactory = Callable[..., str]


@pytest.fixture
def soft_card(pcsc: PcscStack, card_authority: CardAuthority, card_identity: CardIdentity) -> Iterator[SoftCardFactory]:
    """``soft_card(card=None, *, slot=0, **SoftPivCard options) -> reader name``; removed after the test."""
    inserted: list[tuple[SoftPivCard, int]] = []

    def insert(card: SoftPivCard | None = None, *, slot: int = 0, **options: Any) -> str:
        card = card or SoftPivCard(card_identity, card_authority, **options)
        card.insert(port=pcsc.port(slot))
        inserted.append((card, slot))
        pcsc.wait_for_card(True, slot=slot)
        return pcsc.reader(slot)

    yield insert
    for card, slot in inserted:
        card.remove()
        if card_present(pcsc.reader(slot)):
            pcsc.wait_for_card(False, slot=slot)
