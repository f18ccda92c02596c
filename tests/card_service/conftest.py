"""The PC/SC fixtures of tests/card (pcscd up, the machine-wide vpcd lock held during a test), and
the virtual X display of the window tests."""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.card.conftest import pcsc, pcsc_stack  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


# One display for the whole run: Tk keeps a display's connection after its window is destroyed, and
# an X server stopped under it ends the process (Xlib's I/O error) at the next window on another.
@pytest.fixture(scope="session")
def xdisplay() -> Iterator[str]:
    """An Xvfb display; scripts/xvfb.sh installs Xvfb and a CJK font where they are missing."""
    subprocess.run(["bash", str(ROOT / "scripts" / "xvfb.sh")], check=True)
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1024x900x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    assert number, "Xvfb did not start"
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)
