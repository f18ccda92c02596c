"""Where an SMS goes: the provider interface, the development channel, and the choice by settings.

A provider sends one message and, when an earlier attempt's outcome is unknown (a timeout, a
crash), says whether the gateway already sent it. Errors say what the delivery loop needs:
whether the gateway surely did not send (``definite``), whether retrying can help, and whether it
was a rate limit. Error codes are the provider's own (``LimitExceeded.PhoneNumberDailyLimit``);
they never hold the phone or the parameters, so they may be logged and stored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from backend.core import runtime
from backend.core.config import Settings
from backend.core.identifiers import mask_phone
from backend.core.sms_templates import render

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingSms:
    phone: str
    template: str
    params: dict[str, str]
    session_context: str  # our message's (sms_delivery.session_context): the gateway echoes it in its send records

    def __repr__(self) -> str:  # never show the phone or the parameters
        return f"OutgoingSms(template={self.template!r}, session_context={self.session_context!r})"


class SmsSendError(Exception):
    """The provider did not confirm the message.

    ``definite``: the gateway answered and did not send it (no status check needed before the next
    try). ``permanent``: retrying this message cannot help. ``rate_limited``: try much later.
    """

    def __init__(self, code: str, *, definite: bool, permanent: bool = False, rate_limited: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.definite = definite
        self.permanent = permanent
        self.rate_limited = rate_limited


class SmsProvider(Protocol):
    name: str
    immediate: bool  # deliver right after commit in the request's process (no worker involved)

    async def send(self, sms: OutgoingSms) -> str:
        """Send one message; returns the provider's serial number or raises :class:`SmsSendError`."""
        ...

    async def find_sent(self, phone: str, session_context: str, within_seconds: int) -> str | None:
        """The serial number of a message the gateway sent with this session context, if any."""
        ...


class DevChannel:
    """Development channel: the console is the gateway; the outbox rows are the inbox."""

    name = "dev"
    immediate = True

    def __init__(self, *, production: bool = False) -> None:
        self._production = production

    async def send(self, sms: OutgoingSms) -> str:
        if self._production:
            log.error("the development SMS channel refuses to send in production mode (set SMS_CHANNEL=tencent)")
            raise SmsSendError("dev_channel_in_production", definite=True, permanent=True)
        text = render(sms.template, sms.params)
        print(f"[开发短信] 发往 {mask_phone(sms.phone)}：{text}", flush=True)
        return f"dev-{sms.session_context}"

    async def find_sent(self, phone: str, session_context: str, within_seconds: int) -> str | None:
        return None  # it never times out, so it is never asked


def provider_for(settings: Settings) -> SmsProvider:
    if settings.sms_channel == "tencent":
        from backend.core.sms_tencent import TencentSmsChannel

        return TencentSmsChannel(settings.tencent_sms)
    return DevChannel(production=settings.production)


_override: SmsProvider | None = None
_cached: tuple[Settings, SmsProvider] | None = None


def current() -> SmsProvider:
    """The provider of the installed runtime's settings (or the one a test put in place)."""
    global _cached
    if _override is not None:
        return _override
    settings = runtime.get().settings
    if _cached is None or _cached[0] is not settings:
        _cached = (settings, provider_for(settings))
    return _cached[1]


@contextmanager
def override(provider: SmsProvider) -> Iterator[SmsProvider]:
    """Use ``provider`` for every delivery in this process until the block ends (tests)."""
    global _override
    previous, _override = _override, provider
    try:
        yield provider
    finally:
        _override = previous
