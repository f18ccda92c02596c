"""The PC/SC fixtures of tests/card (pcscd up, the machine-wide vpcd lock held during a test)."""

from tests.card.conftest import pcsc, pcsc_stack  # noqa: F401
