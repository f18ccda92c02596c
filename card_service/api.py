"""The backend client: signed device requests over httpx, typed answers and errors, careful retries.

Reads (and POSTs whose repetition cannot repeat a completed action) are retried on network errors
and 5xx answers with exponential backoff. The card submission is never blindly repeated: after a
network error the pairing state is read first, and only a pairing still waiting for its card gets
the very same submission again (its nonce is single use, so at most one of them can ever count).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from card_service import messages
from card_service.device_key import DeviceKey

FINAL_STATES = frozenset({"done", "expired", "cancelled", "failed"})
LONG_POLL_SECONDS = 25


class BackendError(Exception):
    """An error answer of the backend, with its code and its Chinese message for the user."""

    def __init__(self, code: str, message: str, *, status: int = 0, fields: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{code} ({status})")
        self.code = code
        self.message = message
        self.status = status
        self.fields = dict(fields or {})


class NetworkError(BackendError):
    """The backend could not be reached, or the answer was lost on the way."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("network_error", messages.NETWORK_ERROR)
        self.detail = detail


@dataclass(frozen=True)
class Enrolment:
    token: str
    qr: str
    fingerprint: str
    expires_in: int


@dataclass(frozen=True)
class DeviceInfo:
    device_id: str
    name: str
    unit_name: str
    status: str
    fingerprint: str


@dataclass(frozen=True)
class Person:
    name: str
    username: str


@dataclass(frozen=True)
class PairingState:
    pairing_id: str
    state: str
    version: int
    action: str
    action_label: str = ""
    user_code: str = ""
    qr: str | None = None
    expires_in: int | None = None
    confirmed_by: Person | None = None
    result: Mapping[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PairingState:
        confirmed = data.get("confirmed_by")
        error = data.get("error") or {}
        return cls(
            pairing_id=str(data["pairing_id"]),
            state=str(data["state"]),
            version=int(data.get("version", 0)),
            action=str(data.get("action", "")),
            action_label=str(data.get("action_label") or ""),
            user_code=str(data.get("user_code") or ""),
            qr=data.get("qr"),
            expires_in=int(data["expires_in"]) if data.get("expires_in") is not None else None,
            confirmed_by=Person(str(confirmed.get("name") or ""), str(confirmed.get("username") or ""))
            if confirmed
            else None,
            result=data.get("result"),
            error_code=error.get("code"),
            error_message=error.get("message"),
        )


@dataclass(frozen=True)
class Challenge:
    nonce: str
    to_sign: str
    slot: str
    expires_at: str


@dataclass(frozen=True)
class CardSubmission:
    """What the card made for one challenge; the signature is over SHA-256 of the decoded ``to_sign``."""

    nonce: str
    certificate: str
    signature: str
    chain: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"nonce": self.nonce, "certificate": self.certificate, "chain": self.chain, "signature": self.signature}


class BackendClient:
    """Signed requests of one device to the backend (synchronous: call it from worker threads)."""

    def __init__(
        self,
        base_url: str,
        key: DeviceKey,
        *,
        proxy: str | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._prefix = urlsplit(self.base_url).path.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._now = now
        # trust_env: HTTP_PROXY / HTTPS_PROXY / NO_PROXY from the environment; an explicit proxy wins.
        self._http = httpx.Client(
            proxy=proxy, trust_env=True, timeout=httpx.Timeout(timeout), transport=transport, follow_redirects=False
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BackendClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # The API of docs/card-protocol.md

    def enrol(self, hostname: str) -> Enrolment:
        """Start (or restart) the enrolment of this key; repeating it only makes a fresh token."""
        data = self._call(
            "POST", "/api/devices/enrolments", {"public_key": self.key.public_key_b64, "hostname": hostname}, retry=True
        )
        return Enrolment(
            token=str(data["token"]),
            qr=str(data["qr"]),
            fingerprint=str(data["fingerprint"]),
            expires_in=int(data.get("expires_in", 600)),
        )

    def device_self(self) -> DeviceInfo:
        """This device as the backend knows it; ``device_unknown`` while enrolment is pending."""
        data = self._call("GET", "/api/devices/self", retry=True)
        unit = data.get("unit") or {}
        return DeviceInfo(
            device_id=str(data.get("device_id", "")),
            name=str(data.get("name", "")),
            unit_name=str(unit.get("name", "")),
            status=str(data.get("status", "")),
            fingerprint=str(data.get("fingerprint", "")),
        )

    def create_pairing(self, action: str) -> PairingState:
        """A new pairing; a repeated request at worst leaves an unused pairing to expire."""
        return PairingState.from_json(self._call("POST", "/api/pairings", {"action": action}, retry=True))

    def events(self, pairing_id: str, since: int, wait: int = LONG_POLL_SECONDS) -> PairingState:
        """The pairing's state once its version passes ``since``, or after ``wait`` seconds unchanged."""
        query = urlencode({"since": since, "wait": wait})
        data = self._call(
            "GET", f"/api/pairings/{pairing_id}/events?{query}", retry=True, read_timeout=wait + self.timeout
        )
        return PairingState.from_json(data)

    def cancel_pairing(self, pairing_id: str, *, timeout: float | None = None) -> PairingState:
        """The PC dropped the pairing: it ends as cancelled for the phone too; repeating it changes nothing.

        With ``timeout`` (the program is closing) it is tried once, each phase held to that many seconds.
        """
        path = f"/api/pairings/{pairing_id}/device-cancel"
        return PairingState.from_json(self._call("POST", path, {}, retry=timeout is None, timeout=timeout))

    def challenge(self, pairing_id: str) -> Challenge:
        """A fresh nonce to sign; repeating only makes another (the unused one expires)."""
        data = self._call("POST", f"/api/pairings/{pairing_id}/challenge", {}, retry=True)
        return Challenge(
            nonce=str(data["nonce"]),
            to_sign=str(data["to_sign"]),
            slot=str(data.get("slot", "9a")),
            expires_at=str(data.get("expires_at", "")),
        )

    def submit_card(self, pairing_id: str, submission: CardSubmission) -> Mapping[str, Any]:
        """One attempt at the card submission, never retried here (see ``deliver_card``)."""
        return self._call("POST", f"/api/pairings/{pairing_id}/card", submission.to_json(), retry=False)

    def deliver_card(self, pairing_id: str, submission: CardSubmission) -> PairingState:
        """Submit the card's signature and return the final pairing state, never repeating a completed action.

        After a network error or a 5xx answer the state is read: a final state means an earlier attempt did reach
        the server, so nothing is sent again; a pairing still ``confirmed`` gets the same
        submission again. Its nonce is single use, so should the earlier attempt be in flight after
        all, the server refuses the second (``card_nonce_invalid``) and the outcome is read from
        the pairing's events.
        """
        resent = False
        for attempt in range(self.retries + 1):
            try:
                answer = self.submit_card(pairing_id, submission)
            except BackendError as error:
                if resent and error.code == "card_nonce_invalid":
                    return self._settled(pairing_id, self.events(pairing_id, since=0, wait=0))
                # no answer, or a 5xx (a gateway's 502 / 504 among them): the server may have acted
                if not (isinstance(error, NetworkError) or error.status >= 500) or attempt == self.retries:
                    raise
                self._sleep(self._delay(attempt))
                state = self.events(pairing_id, since=0, wait=0)
                if state.state != "confirmed":
                    return self._settled(pairing_id, state)
                resent = True
                continue
            if "state" in answer and "pairing_id" in answer:
                return self._settled(pairing_id, PairingState.from_json(answer))
            return self._settled(pairing_id, self.events(pairing_id, since=0, wait=0))
        raise NetworkError("unreachable")  # pragma: no cover - the loop returns or raises

    def _settled(self, pairing_id: str, state: PairingState) -> PairingState:
        """Follow the events until the pairing is final (the server may still be finishing an attempt)."""
        for _ in range(4):
            if state.final:
                return state
            state = self.events(pairing_id, since=state.version)
        return state

    # Transport

    def _delay(self, attempt: int) -> float:
        return self.backoff * (2**attempt)

    def _call(
        self,
        method: str,
        path: str,
        payload: Mapping[str, Any] | None = None,
        *,
        retry: bool,
        read_timeout: float | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        signed_path = self._prefix + path
        limit = timeout or self.timeout
        timeouts = httpx.Timeout(limit, read=read_timeout or limit)
        attempts = self.retries + 1 if retry else 1
        for attempt in range(attempts):
            headers = self.key.sign_request(method, signed_path, body, now=self._now)
            if payload is not None:
                headers["Content-Type"] = "application/json"
            try:
                response = self._http.request(
                    method, self.base_url + path, content=body, headers=headers, timeout=timeouts
                )
            except httpx.TransportError as error:
                if attempt + 1 < attempts:
                    self._sleep(self._delay(attempt))
                    continue
                raise NetworkError(type(error).__name__) from error
            if response.status_code >= 500 and attempt + 1 < attempts:
                self._sleep(self._delay(attempt))
                continue
            return self._decode(response)
        raise NetworkError("unreachable")  # pragma: no cover - the loop returns or raises

    @staticmethod
    def _decode(response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.is_success and isinstance(data, dict):
            return data
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            error = data["error"]
            raise BackendError(
                str(error.get("code", "error")),
                str(error.get("message") or messages.SERVER_ERROR),
                status=response.status_code,
                fields=error.get("fields") if isinstance(error.get("fields"), dict) else None,
            )
        if response.status_code >= 500:
            raise BackendError("server_error", messages.SERVER_ERROR, status=response.status_code)
        raise BackendError("unexpected_answer", messages.UNEXPECTED_ANSWER, status=response.status_code)
