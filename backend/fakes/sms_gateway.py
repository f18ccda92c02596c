"""A local fake of Tencent Cloud SMS (API 2021-01-11), speaking its wire protocol, for tests and the demo.

``python -m backend.fakes.sms_gateway --port 8010 --state-file var/sms-gateway.json``

- ``POST /`` is the API: ``X-TC-Action`` ``SendSms`` or ``PullSmsSendStatusByPhoneNumber``,
  ``X-TC-Version: 2021-01-11``, a TC3-HMAC-SHA256 ``Authorization`` verified like the provider
  does (:mod:`backend.fakes.tc3`; stale timestamps refused). It checks SmsSdkAppId, SignName, the
  template id and the number of template parameters, and answers in Tencent's JSON shape.
- ``GET /inbox?phone=13700001111`` (JSON) and ``GET /`` (a page): what it delivered, newest first;
  this is the handset the demo user reads.
- ``POST /_control`` ``{"mode": "fail" | "rate_limit" | "hang" | "http_error", "count": N,
  "deliver": bool, "seconds": S, "action": "SendSms"}``: the next N matching requests fail with
  InternalError, are refused with LimitExceeded.PhoneNumberDailyLimit, are held for S seconds
  (after recording the message if ``deliver``) so the client times out, or get an HTTP 502.
  ``POST /_control/release`` ends every hold, ``POST /_control/reset`` forgets everything,
  ``GET /_control`` tells what it holds and how many requests of each action it answered.
- ``--receipt-delay S``: a message shows in ``PullSmsSendStatusByPhoneNumber`` only S seconds after it
  went out, as with the real API, which lists a message once the operator's receipt is back (seconds
  for a phone that is on, hours or never for one that is off).

Its accounts (SecretId/SecretKey, SdkAppId, sign, template ids) are the backend's ``TENCENT_SMS_*``
settings with their development defaults; the template texts are those of
:mod:`backend.core.sms_templates`, as registered in the console. Development and tests only.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from backend.core.config import TencentSmsSettings
from backend.core.identifiers import mask_phone
from backend.core.sms_templates import PARAMS, console_text
from backend.fakes import tc3

log = logging.getLogger(__name__)

SERVICE = "sms"
VERSION = "2021-01-11"
REGIONS = frozenset({"ap-guangzhou", "ap-beijing", "ap-nanjing"})
ACTIONS = ("SendSms", "PullSmsSendStatusByPhoneNumber")
FAULT_MODES = ("fail", "rate_limit", "hang", "http_error")
INBOX_LIMIT = 50


class ApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class GatewayConfig:
    secrets: dict[str, str]  # SecretId -> SecretKey
    sdk_app_id: str
    sign_name: str
    templates: dict[str, tuple[str, int]]  # template id -> (console text with {1}..., parameter count)
    daily_limit_per_phone: int = 100
    receipt_delay_seconds: float = 0.0  # how long after a send its status record can be pulled

    @classmethod
    def from_settings(
        cls, sms: TencentSmsSettings, *, daily_limit_per_phone: int = 100, receipt_delay_seconds: float = 0.0
    ) -> GatewayConfig:
        templates = {tid: (console_text(key), len(PARAMS[key])) for key, tid in sms.template_ids.items()}
        return cls(
            secrets={sms.secret_id: sms.secret_key},
            sdk_app_id=sms.sdk_app_id,
            sign_name=sms.sign_name,
            templates=templates,
            daily_limit_per_phone=daily_limit_per_phone,
            receipt_delay_seconds=receipt_delay_seconds,
        )


@dataclass
class Fault:
    mode: str
    deliver: bool = False
    seconds: float = 30.0
    action: str = "SendSms"


@dataclass
class Delivered:
    serial_no: str
    phone: str  # E.164
    template_id: str
    text: str
    session_context: str
    received_at: float


@dataclass
class _State:
    delivered: list[Delivered] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    held: int = 0


def _e164(number: str) -> str | None:
    digits = number[3:] if number.startswith("+86") else number
    if len(digits) == 11 and digits.isdigit() and digits[0] == "1":
        return f"+86{digits}"
    return None


class FakeSmsGateway:
    """The fake itself; :meth:`start` serves it on a thread (``port=0`` picks a free port)."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        state_file: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.state_file = state_file
        self.now = now  # wall clock: the SDK signs with time.time()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._state = _State(delivered=self._load())
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.gateway = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        return f"{self._server.server_address[0]}:{self.port}"

    def start(self) -> FakeSmsGateway:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-sms-gateway", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- control ---------------------------------------------------------------------------

    def inject(
        self, mode: str, count: int = 1, *, deliver: bool = False, seconds: float = 30.0, action: str = "SendSms"
    ) -> None:
        """Make the next ``count`` requests of ``action`` fail, be rate-limited, hang or get a 502."""
        if mode not in FAULT_MODES or action not in ACTIONS or count < 0:
            raise ValueError(f"bad fault: {mode} x{count} on {action}")
        with self._lock:
            self._state.faults.extend(Fault(mode, deliver, seconds, action) for _ in range(count))

    def release(self) -> None:
        """End every hold now (the held requests then answer, to clients that have long gone)."""
        with self._lock:
            self._release.set()
            self._release = threading.Event()

    def reset(self) -> None:
        with self._lock:
            self._state = _State()
            self._save()
        self.release()

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "held": self._state.held,
                "faults": [asdict(fault) for fault in self._state.faults],
                "requests": dict(self._state.requests),
                "delivered": len(self._state.delivered),
            }

    def requests(self, action: str = "SendSms") -> int:
        with self._lock:
            return self._state.requests[action]

    @property
    def held(self) -> int:
        with self._lock:
            return self._state.held

    def inbox(self, phone: str | None = None, limit: int = INBOX_LIMIT) -> list[dict[str, Any]]:
        """What was delivered (to one phone, if given), newest first."""
        wanted = _e164(phone) if phone else None
        if phone and wanted is None:  # a mistyped filter matches nobody, not everybody
            return []
        with self._lock:
            rows = [d for d in self._state.delivered if wanted is None or d.phone == wanted]
        return [
            {
                "phone": row.phone,
                "text": row.text,
                "template_id": row.template_id,
                "serial_no": row.serial_no,
                "session_context": row.session_context,
                "received_at": datetime.fromtimestamp(row.received_at, UTC).isoformat(),
            }
            for row in reversed(rows[-limit:])
        ]

    # --- the API ---------------------------------------------------------------------------

    def handle_api(self, headers: dict[str, str], body: bytes, query: str) -> tuple[int, dict[str, Any] | None]:
        """One API request; returns the HTTP status and the JSON answer (``None``: plain 502)."""
        request_id = str(uuid.uuid4())
        action = headers.get("x-tc-action", "")
        try:
            tc3.verify(
                method="POST",
                uri="/",
                query=query,
                headers=headers,
                body=body,
                secrets=self.config.secrets,
                service=SERVICE,
                now=self.now(),
            )
            if headers.get("x-tc-version") != VERSION:
                raise ApiError("NoSuchVersion", f"The API version {headers.get('x-tc-version')!r} does not exist.")
            if action not in ACTIONS:
                raise ApiError("InvalidAction", f"The action {action!r} does not exist.")
            if headers.get("x-tc-region") not in REGIONS:
                raise ApiError("UnsupportedRegion", "The region is not supported.")
            if not headers.get("content-type", "").startswith("application/json"):
                raise ApiError("InvalidParameter", "Content-Type must be application/json.")
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                raise ApiError("InvalidParameter", "The request body is not valid JSON.") from None
            if not isinstance(params, dict):
                raise ApiError("InvalidParameter", "The request body must be a JSON object.")
            with self._lock:
                self._state.requests[action] += 1
                fault = self._take_fault(action)
            if action == "SendSms":
                result = self._send_sms(params, fault)
            else:
                result = self._pull_status(params, fault)
        except tc3.SignatureError as exc:
            return 200, _error(exc.code, exc.message, request_id)
        except ApiError as exc:
            return 200, _error(exc.code, exc.message, request_id)
        except _HttpFailure:
            return 502, None
        return 200, {"Response": {**result, "RequestId": request_id}}

    def _take_fault(self, action: str) -> Fault | None:
        for n, fault in enumerate(self._state.faults):
            if fault.action == action:
                return self._state.faults.pop(n)
        return None

    def _apply_fault(self, fault: Fault | None, on_hang: Callable[[], None] | None = None) -> None:
        if fault is None:
            return
        if fault.mode == "fail":
            raise ApiError("InternalError", "An internal error occurred.")
        if fault.mode == "rate_limit":
            raise ApiError("LimitExceeded.PhoneNumberDailyLimit", "The daily limit for this phone number is reached.")
        if fault.mode == "http_error":
            raise _HttpFailure()
        if fault.mode == "hang":
            if fault.deliver and on_hang is not None:
                on_hang()
            with self._lock:
                self._state.held += 1
                release = self._release
            try:
                release.wait(fault.seconds)
            finally:
                with self._lock:
                    self._state.held -= 1
            if not fault.deliver:
                raise ApiError("InternalError", "The request timed out inside the gateway.")

    def _send_sms(self, params: dict[str, Any], fault: Fault | None) -> dict[str, Any]:
        numbers = params.get("PhoneNumberSet")
        if not isinstance(numbers, list) or not numbers or len(numbers) > 200:
            raise ApiError("MissingParameter", "PhoneNumberSet must hold 1 to 200 numbers.")
        if str(params.get("SmsSdkAppId", "")) != self.config.sdk_app_id:
            raise ApiError("FailedOperation.SmsSdkAppIdVerifyFail", "The SmsSdkAppId does not belong to this account.")
        if params.get("SignName") != self.config.sign_name:
            raise ApiError("FailedOperation.SignatureIncorrectOrUnapproved", "The signature is not approved.")
        template = self.config.templates.get(str(params.get("TemplateId", "")))
        if template is None:
            raise ApiError("FailedOperation.TemplateIncorrectOrUnapproved", "The template is not approved.")
        text, count = template
        values = params.get("TemplateParamSet") or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ApiError("InvalidParameterValue.TemplateParameterFormatError", "TemplateParamSet must be strings.")
        if len(values) != count:
            raise ApiError(
                "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
                f"The template takes {count} parameters, {len(values)} given.",
            )
        for n, value in enumerate(values, start=1):
            text = text.replace("{" + str(n) + "}", value)
        text = f"【{self.config.sign_name}】{text}"
        context = str(params.get("SessionContext") or "")
        template_id = str(params["TemplateId"])
        delivered: list[dict[str, Any]] = []

        def deliver_all() -> None:
            for number in numbers:
                delivered.append(self._deliver_one(str(number), template_id, text, context))

        self._apply_fault(fault, on_hang=deliver_all)
        if not delivered:
            deliver_all()
        return {"SendStatusSet": delivered}

    def _deliver_one(self, number: str, template_id: str, text: str, context: str) -> dict[str, Any]:
        phone = _e164(number)
        status: dict[str, Any] = {"SerialNo": "", "PhoneNumber": number, "Fee": 0, "SessionContext": context}
        if phone is None:
            return {**status, "Code": "InvalidParameterValue.IncorrectPhoneNumber", "Message": "bad number"}
        now = self.now()
        with self._lock:
            today = sum(1 for d in self._state.delivered if d.phone == phone and now - d.received_at < 86400)
            if today >= self.config.daily_limit_per_phone:
                code, message = "LimitExceeded.PhoneNumberDailyLimit", "daily limit reached"
                return {**status, "PhoneNumber": phone, "Code": code, "Message": message}
            serial = f"2645:{uuid.uuid4().int % 10**28:028d}"
            self._state.delivered.append(Delivered(serial, phone, template_id, text, context, now))
            self._save()
        log.info("fake SMS gateway delivered %s to %s", serial, mask_phone(phone[3:]))
        return {**status, "SerialNo": serial, "PhoneNumber": phone, "Fee": 1, "Code": "Ok", "Message": "send success"}

    def _pull_status(self, params: dict[str, Any], fault: Fault | None) -> dict[str, Any]:
        self._apply_fault(fault)
        if str(params.get("SmsSdkAppId", "")) != self.config.sdk_app_id:
            raise ApiError("FailedOperation.SmsSdkAppIdVerifyFail", "The SmsSdkAppId does not belong to this account.")
        begin, limit = params.get("BeginTime"), params.get("Limit")
        if not isinstance(begin, int) or not isinstance(limit, int):
            raise ApiError("MissingParameter", "BeginTime and Limit are required.")
        if not 0 < limit <= 100:
            raise ApiError("InvalidParameterValue", "Limit must be 1 to 100.")
        phone = _e164(str(params.get("PhoneNumber", "")))
        if phone is None:
            raise ApiError("InvalidParameterValue.IncorrectPhoneNumber", "The phone number is not valid.")
        end = params.get("EndTime") if isinstance(params.get("EndTime"), int) else None
        offset = params.get("Offset") if isinstance(params.get("Offset"), int) else 0
        reported_before = self.now() - self.config.receipt_delay_seconds  # receipts still on their way: not listed
        with self._lock:
            rows = [
                d
                for d in self._state.delivered
                if d.phone == phone
                and d.received_at >= begin
                and (end is None or d.received_at <= end)
                and d.received_at <= reported_before
            ]
        statuses = [
            {
                "UserReceiveTime": int(d.received_at),
                "CountryCode": "86",
                "SubscriberNumber": d.phone[3:],
                "PhoneNumber": d.phone,
                "SerialNo": d.serial_no,
                "ReportStatus": "SUCCESS",
                "Description": "DELIVRD",
                "SessionContext": d.session_context,
            }
            for d in rows[offset : offset + limit]
        ]
        return {"PullSmsSendStatusSet": statuses}

    # --- state file ------------------------------------------------------------------------

    def _load(self) -> list[Delivered]:
        if self.state_file is None or not self.state_file.exists():
            return []
        stored = json.loads(self.state_file.read_text())
        return [Delivered(**row) for row in stored.get("delivered", [])]

    def _save(self) -> None:
        """Write what was delivered (called with the lock held)."""
        if self.state_file is None:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_suffix(".tmp")
        payload = {"delivered": [asdict(d) for d in self._state.delivered]}
        temporary.write_text(json.dumps(payload, ensure_ascii=False))
        os.replace(temporary, self.state_file)


class _HttpFailure(Exception):
    """Answer with a bare HTTP 502, as a broken proxy in front of the API would."""


def _error(code: str, message: str, request_id: str) -> dict[str, Any]:
    return {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}}


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeTencentSms/1.0"

    @property
    def gateway(self) -> FakeSmsGateway:
        return self.server.gateway  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("fake SMS gateway: " + format, *args)

    def _reply(self, status: int, payload: Any, content_type: str = "application/json") -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)  # the SDK wants exactly application/json
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (timed out or was killed) while we held the request
            pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self._body()
        if url.path == "/":
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, payload = self.gateway.handle_api(headers, body, url.query)
            if payload is None:
                self._reply(status, b"Bad Gateway", "text/html")
            else:
                self._reply(status, payload)
        elif url.path == "/_control":
            try:
                spec = json.loads(body or b"{}")
                self.gateway.inject(
                    str(spec.get("mode")),
                    int(spec.get("count", 1)),
                    deliver=bool(spec.get("deliver", False)),
                    seconds=float(spec.get("seconds", 30.0)),
                    action=str(spec.get("action", "SendSms")),
                )
            except (ValueError, TypeError, AttributeError) as exc:
                self._reply(400, {"error": str(exc)})
                return
            self._reply(200, self.gateway.status())
        elif url.path == "/_control/release":
            self.gateway.release()
            self._reply(200, self.gateway.status())
        elif url.path == "/_control/reset":
            self.gateway.reset()
            self._reply(200, self.gateway.status())
        else:
            self._reply(404, {"error": "not found"})

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        phone = (parse_qs(url.query).get("phone") or [None])[0]
        if url.path == "/inbox":
            self._reply(200, {"messages": self.gateway.inbox(phone)})
        elif url.path == "/_control":
            self._reply(200, self.gateway.status())
        elif url.path == "/":
            self._reply(200, _page(self.gateway.inbox(phone)).encode(), "text/html; charset=utf-8")
        else:
            self._reply(404, {"error": "not found"})


def _page(messages: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(m['received_at'][:19])}</td><td>{html.escape(m['phone'])}</td>"
        f"<td>{html.escape(m['text'])}</td></tr>"
        for m in messages
    )
    return (
        "<!doctype html><meta charset='utf-8'><title>短信收件箱（模拟网关）</title>"
        "<h1>短信收件箱（模拟腾讯云短信网关，仅用于开发和演示）</h1>"
        "<form><input name='phone' placeholder='手机号'> <button>筛选</button></form>"
        f"<table border='1' cellpadding='4'><tr><th>时间 (UTC)</th><th>手机号</th><th>内容</th></tr>{rows}</table>"
    )


@contextmanager
def running_gateway(config: GatewayConfig, **options: Any) -> Iterator[FakeSmsGateway]:
    """A gateway on a free local port for the length of the block (tests)."""
    gateway = FakeSmsGateway(config, **options).start()
    try:
        yield gateway
    finally:
        gateway.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.fakes.sms_gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--state-file", type=Path, help="keep what was delivered here (JSON) across restarts")
    parser.add_argument("--daily-limit", type=int, default=100, help="messages per phone per day")
    parser.add_argument(
        "--receipt-delay", type=float, default=0.0, help="seconds before a sent message shows in a status pull"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sms = TencentSmsSettings.from_env(os.environ, production=False, required=False)
    config = GatewayConfig.from_settings(
        sms, daily_limit_per_phone=args.daily_limit, receipt_delay_seconds=args.receipt_delay
    )
    gateway = FakeSmsGateway(config, state_file=args.state_file, host=args.host, port=args.port)
    print(f"fake Tencent SMS gateway on http://{gateway.endpoint}  (inbox: http://{gateway.endpoint}/)", flush=True)
    try:
        gateway.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
