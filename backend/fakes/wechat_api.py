"""A local fake of WeChat's server API for mini-programs, speaking its wire protocol, for tests and the demo.

``python -m backend.fakes.wechat_api --port 8020 [--app appid:secret ...]``

The API, called by the production client unchanged (only the base URL differs):

- ``GET /cgi-bin/token?grant_type=client_credential&appid=&secret=``: ``{"access_token", "expires_in": 7200}``;
  40013 unknown app id, 40125 wrong secret, 40002 bad grant type. A new token ends the earlier
  ones of its app five minutes later, as WeChat does.
- ``GET /sns/jscode2session?appid=&secret=&js_code=&grant_type=authorization_code``:
  ``{"openid", "session_key"[, "unionid"]}``; 40029 for an unknown or expired (5 minutes) code or
  one of another app, 40163 for a code used before.
- ``POST /wxa/business/getuserphonenumber?access_token=`` ``{"code"}``: ``{"errcode": 0, "phone_info": ...}``;
  phone codes are issued the same way (single use, 5 minutes, per app); 40029 for any bad one.
- ``POST /cgi-bin/message/subscribe/send?access_token=`` ``{"touser", "template_id", "page", "data"}``:
  recorded; 40003 unknown openid, 40037 no template id, 43101 the user has not accepted a message
  of that template, 47003 bad data.
- Tokens: 41001 missing, 40001 unknown or revoked, 42001 expired.

Control (what the WeChat app on a phone does, plus test hooks):

- ``POST /_control/login-code`` ``{"user": "zhang"}`` or ``{"openid": "..."}`` (``"appid"`` optional):
  ``{"code", "openid"}``, what wx.login hands the mini-program. A user name gives a stable openid
  per app (and a unionid); the same user has another openid in another app.
- ``POST /_control/phone-code`` ``{"phone": "13800000001"}``: ``{"code"}``, what the phone-number button hands over.
- ``POST /_control/subscribe`` ``{"openid", "template_id", "count"}``: the user accepts ``count``
  messages of a template (wx.requestSubscribeMessage).
- ``GET /_control/messages[?openid=]``: subscribe messages sent, newest first.
- ``POST /_control/fault`` ``{"path": "/sns/jscode2session", "errcode": -1, "count": 1}``: the next
  ``count`` requests of that path answer that error; with ``"body"`` (and optional ``"status"``,
  ``"content_type"``) instead of ``"errcode"`` they answer that body as it is (a proxy's HTML error
  page, a cut or malformed JSON), as a WeChat in trouble may.
- ``POST /_control/advance`` ``{"seconds": 301}``: move the fake's clock (codes and tokens expire).
- ``POST /_control/revoke-tokens``: every token issued so far answers 40001 from now on.
- ``POST /_control/reset``; ``GET /_control``: requests answered per path, faults held.
- ``GET /``: a page to get a login code or a phone code and to read the sent messages (the demo).

Development and tests only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import logging
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from backend.core.config import WechatSettings

log = logging.getLogger(__name__)

CODE_TTL_SECONDS = 5 * 60
TOKEN_TTL_SECONDS = 7200
TOKEN_OVERLAP_SECONDS = 5 * 60  # an earlier token keeps working this long after a new one is issued
API_PATHS = (
    "/cgi-bin/token",
    "/sns/jscode2session",
    "/wxa/business/getuserphonenumber",
    "/cgi-bin/message/subscribe/send",
)
ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40029: "invalid code",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    40163: "code been used",
    41001: "access_token missing",
    42001: "access_token expired",
    43101: "user refuse to accept the msg",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    47001: "data format error",
    47003: "argument invalid! data invalid",
}


class ApiError(Exception):
    def __init__(self, errcode: int, detail: str | None = None) -> None:
        super().__init__(errcode)
        self.errcode = errcode
        self.errmsg = detail or ERRMSG.get(errcode, "error")


@dataclass(frozen=True)
class RawAnswer:
    """An answer that is not one of WeChat's JSON objects: a proxy's HTML page, a cut or malformed body."""

    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"


@dataclass
class _Code:
    appid: str
    kind: str  # "login" or "phone"
    value: str  # the openid, or the phone number
    unionid: str | None
    issued_at: float
    used: bool = False


@dataclass
class _Token:
    appid: str
    expires_at: float


@dataclass
class _State:
    codes: dict[str, _Code] = field(default_factory=dict)
    tokens: dict[str, _Token] = field(default_factory=dict)
    openids: set[tuple[str, str]] = field(default_factory=set)
    subscriptions: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    messages: list[dict[str, Any]] = field(default_factory=list)
    faults: list[tuple[str, int | RawAnswer]] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    session_keys: list[str] = field(default_factory=list)  # handed out, so tests can look for leaks


def _stable_id(prefix: str, *parts: str) -> str:
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return prefix + base64.urlsafe_b64encode(digest).decode()[:27]


class FakeWechatApi:
    """The fake itself; :meth:`start` serves it on a thread (``port=0`` picks a free port)."""

    def __init__(
        self,
        apps: dict[str, str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        now: Callable[[], float] = time.time,
    ) -> None:
        if not apps:
            raise ValueError("the fake needs at least one app (appid -> secret)")
        self.apps = dict(apps)
        self.default_appid = next(iter(self.apps))
        self._now = now
        self._offset = 0.0
        self._lock = threading.Lock()
        self._state = _State()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What the backend's ``WECHAT_API_BASE`` is set to."""
        return f"http://{self._server.server_address[0]}:{self.port}/"

    def start(self) -> FakeWechatApi:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-wechat-api", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def now(self) -> float:
        return self._now() + self._offset

    # --- what a phone does, and test hooks -------------------------------------------------------

    def _app(self, appid: str | None) -> str:
        appid = appid or self.default_appid
        if appid not in self.apps:
            raise ValueError(f"unknown appid {appid!r}")
        return appid

    def login_code(self, *, user: str | None = None, openid: str | None = None, appid: str | None = None) -> dict:
        """What wx.login gives the mini-program of ``appid`` on the phone of ``user`` (or of ``openid``)."""
        appid = self._app(appid)
        unionid = None
        if openid is None:
            user = user or "demo"
            openid = _stable_id("o", appid, user)
            unionid = _stable_id("u", user)
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._state.codes[code] = _Code(appid, "login", openid, unionid, self.now())
            self._state.openids.add((appid, openid))
        return {"code": code, "openid": openid, "appid": appid}

    def phone_code(self, phone: str, *, appid: str | None = None) -> dict:
        """What the phone-number button gives the mini-program for the phone bound to the WeChat account."""
        appid = self._app(appid)
        if not (len(phone) == 11 and phone.isdigit()):
            raise ValueError("phone must be 11 digits")
        code = secrets.token_hex(32)
        with self._lock:
            self._state.codes[code] = _Code(appid, "phone", phone, None, self.now())
        return {"code": code, "appid": appid}

    def subscribe(self, openid: str, template_id: str, count: int = 1, *, appid: str | None = None) -> None:
        """The user accepts ``count`` messages of ``template_id`` (wx.requestSubscribeMessage)."""
        appid = self._app(appid)
        with self._lock:
            self._state.subscriptions[(appid, openid, template_id)] += count

    def messages(self, openid: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            rows = [m for m in self._state.messages if openid is None or m["touser"] == openid]
        return list(reversed(rows))

    def inject(self, path: str, errcode: int, count: int = 1) -> None:
        """The next ``count`` requests of ``path`` answer ``errcode``."""
        if path not in API_PATHS or count < 0:
            raise ValueError(f"bad fault: {errcode} x{count} on {path}")
        with self._lock:
            self._state.faults.extend((path, errcode) for _ in range(count))

    def inject_answer(
        self,
        path: str,
        body: bytes | str,
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        count: int = 1,
    ) -> None:
        """The next ``count`` requests of ``path`` answer ``body`` as it is, with ``status``."""
        if path not in API_PATHS or count < 0 or not 100 <= status <= 599:
            raise ValueError(f"bad fault: HTTP {status} x{count} on {path}")
        answer = RawAnswer(body.encode() if isinstance(body, str) else body, status, content_type)
        with self._lock:
            self._state.faults.extend((path, answer) for _ in range(count))

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def revoke_tokens(self) -> None:
        with self._lock:
            self._state.tokens.clear()

    def reset(self) -> None:
        with self._lock:
            self._state = _State()
            self._offset = 0.0

    def requests(self, path: str) -> int:
        with self._lock:
            return self._state.requests[path]

    @property
    def session_keys(self) -> list[str]:
        with self._lock:
            return list(self._state.session_keys)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self._state.requests),
                "faults": [
                    {"path": p, "errcode": e} if isinstance(e, int) else {"path": p, "status": e.status}
                    for p, e in self._state.faults
                ],
                "clock_offset": self._offset,
            }

    # --- the API ---------------------------------------------------------------------------

    def handle_api(self, method: str, path: str, query: dict[str, str], body: bytes) -> dict[str, Any] | RawAnswer:
        """One API request; the JSON answer (WeChat answers errors with HTTP 200 too), or an injected raw one."""
        try:
            with self._lock:
                self._state.requests[path] += 1
                fault = self._take_fault(path)
            if isinstance(fault, RawAnswer):
                return fault
            if fault is not None:
                raise ApiError(fault)
            if path == "/cgi-bin/token" and method == "GET":
                return self._token(query)
            if path == "/sns/jscode2session" and method == "GET":
                return self._jscode2session(query)
            if path == "/wxa/business/getuserphonenumber" and method == "POST":
                return self._phone_number(query, body)
            if path == "/cgi-bin/message/subscribe/send" and method == "POST":
                return self._subscribe_send(query, body)
            raise ApiError(-1, "invalid url")
        except ApiError as exc:
            return {"errcode": exc.errcode, "errmsg": f"{exc.errmsg} rid: {secrets.token_hex(6)}"}

    def _take_fault(self, path: str) -> int | RawAnswer | None:
        for n, (fault_path, errcode) in enumerate(self._state.faults):
            if fault_path == path:
                self._state.faults.pop(n)
                return errcode
        return None

    def _check_app(self, appid: str, secret: str) -> None:
        if appid not in self.apps:
            raise ApiError(40013)
        if not secrets.compare_digest(self.apps[appid].encode(), secret.encode()):
            raise ApiError(40125)

    def _token(self, query: dict[str, str]) -> dict[str, Any]:
        if query.get("grant_type") != "client_credential":
            raise ApiError(40002)
        appid = query.get("appid", "")
        self._check_app(appid, query.get("secret", ""))
        now = self.now()
        token = secrets.token_urlsafe(96)
        with self._lock:
            for earlier in self._state.tokens.values():
                if earlier.appid == appid:
                    earlier.expires_at = min(earlier.expires_at, now + TOKEN_OVERLAP_SECONDS)
            self._state.tokens[token] = _Token(appid, now + TOKEN_TTL_SECONDS)
        return {"access_token": token, "expires_in": TOKEN_TTL_SECONDS}

    def _take_code(self, code: str, appid: str, kind: str) -> _Code:
        """Use a code up: unknown, expired or another app's answers 40029, a used one 40163."""
        with self._lock:
            issued = self._state.codes.get(code)
            if issued is None or issued.appid != appid or issued.kind != kind:
                raise ApiError(40029)
            if self.now() - issued.issued_at > CODE_TTL_SECONDS:
                raise ApiError(40029)
            if issued.used:
                raise ApiError(40163 if kind == "login" else 40029)
            issued.used = True
            return issued

    def _jscode2session(self, query: dict[str, str]) -> dict[str, Any]:
        if query.get("grant_type") != "authorization_code":
            raise ApiError(40002)
        appid = query.get("appid", "")
        self._check_app(appid, query.get("secret", ""))
        issued = self._take_code(query.get("js_code", ""), appid, "login")
        session_key = base64.b64encode(secrets.token_bytes(16)).decode()
        with self._lock:
            self._state.session_keys.append(session_key)
        answer = {"openid": issued.value, "session_key": session_key}
        if issued.unionid:
            answer["unionid"] = issued.unionid
        return answer

    def _app_of_token(self, query: dict[str, str]) -> str:
        token = query.get("access_token", "")
        if not token:
            raise ApiError(41001)
        with self._lock:
            known = self._state.tokens.get(token)
        if known is None:
            raise ApiError(40001)
        if self.now() >= known.expires_at:
            raise ApiError(42001)
        return known.appid

    @staticmethod
    def _json(body: bytes) -> dict[str, Any]:
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            raise ApiError(47001) from None
        if not isinstance(payload, dict):
            raise ApiError(47001)
        return payload

    def _phone_number(self, query: dict[str, str], body: bytes) -> dict[str, Any]:
        appid = self._app_of_token(query)
        payload = self._json(body)
        issued = self._take_code(str(payload.get("code") or ""), appid, "phone")
        return {
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": {
                "phoneNumber": issued.value,
                "purePhoneNumber": issued.value,
                "countryCode": "86",
                "watermark": {"timestamp": int(self.now()), "appid": appid},
            },
        }

    def _subscribe_send(self, query: dict[str, str], body: bytes) -> dict[str, Any]:
        appid = self._app_of_token(query)
        payload = self._json(body)
        openid, template_id = str(payload.get("touser") or ""), str(payload.get("template_id") or "")
        data = payload.get("data")
        with self._lock:
            if (appid, openid) not in self._state.openids:
                raise ApiError(40003)
            if not template_id:
                raise ApiError(40037)
            if not isinstance(data, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("value"), str) for v in data.values()
            ):
                raise ApiError(47003)
            key = (appid, openid, template_id)
            if self._state.subscriptions[key] <= 0:
                raise ApiError(43101)
            self._state.subscriptions[key] -= 1
            self._state.messages.append(
                {
                    "appid": appid,
                    "touser": openid,
                    "template_id": template_id,
                    "page": payload.get("page"),
                    "data": {k: v["value"] for k, v in data.items()},
                    "sent_at": datetime.fromtimestamp(self.now(), UTC).isoformat(),
                }
            )
        return {"errcode": 0, "errmsg": "ok", "msgid": secrets.randbelow(10**18)}


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeWechatApi/1.0"

    @property
    def fake(self) -> FakeWechatApi:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        pass  # request lines hold the app secret and codes: not even the fake prints them

    def _reply(self, status: int, payload: Any, content_type: str = "application/json; charset=utf-8") -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        body = self._body() if method == "POST" else b""
        if url.path in API_PATHS:
            answer = self.fake.handle_api(method, url.path, query, body)
            if isinstance(answer, RawAnswer):
                self._reply(answer.status, answer.body, answer.content_type)
            else:
                self._reply(200, answer)
        elif url.path.startswith("/_control"):
            try:
                spec = json.loads(body or b"{}") if method == "POST" else {}
                if not isinstance(spec, dict):
                    raise ValueError("the body must be a JSON object")
                self._reply(200, self._control(method, url.path, query, spec))
            except (ValueError, TypeError, KeyError) as exc:
                self._reply(400, {"error": str(exc)})
        elif url.path == "/" and method == "GET":
            self._reply(200, _page(self.fake).encode(), "text/html; charset=utf-8")
        else:
            self._reply(404, {"errcode": -1, "errmsg": "invalid url"})

    def _control(self, method: str, path: str, query: dict[str, str], spec: dict[str, Any]) -> Any:
        fake = self.fake
        appid = spec.get("appid")
        if method == "GET" and path == "/_control":
            return fake.status()
        if method == "GET" and path == "/_control/messages":
            return {"messages": fake.messages(query.get("openid"))}
        if method != "POST":
            raise ValueError("unknown control request")
        if path == "/_control/login-code":
            return fake.login_code(user=spec.get("user"), openid=spec.get("openid"), appid=appid)
        if path == "/_control/phone-code":
            return fake.phone_code(str(spec["phone"]), appid=appid)
        if path == "/_control/subscribe":
            fake.subscribe(str(spec["openid"]), str(spec["template_id"]), int(spec.get("count", 1)), appid=appid)
        elif path == "/_control/fault" and "body" in spec:
            fake.inject_answer(
                str(spec["path"]),
                str(spec["body"]),
                status=int(spec.get("status", 200)),
                content_type=str(spec.get("content_type") or "text/html; charset=utf-8"),
                count=int(spec.get("count", 1)),
            )
        elif path == "/_control/fault":
            fake.inject(str(spec["path"]), int(spec["errcode"]), int(spec.get("count", 1)))
        elif path == "/_control/advance":
            fake.advance(float(spec["seconds"]))
        elif path == "/_control/revoke-tokens":
            fake.revoke_tokens()
        elif path == "/_control/reset":
            fake.reset()
        else:
            raise ValueError("unknown control request")
        return fake.status()

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")


def _page(fake: FakeWechatApi) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(m['sent_at'][:19])}</td><td>{html.escape(m['touser'])}</td>"
        f"<td>{html.escape(m['template_id'])}</td>"
        f"<td>{html.escape(json.dumps(m['data'], ensure_ascii=False))}</td></tr>"
        for m in fake.messages()[:50]
    )
    return f"""<!doctype html><meta charset='utf-8'><title>模拟微信接口</title>
<h1>模拟微信接口（仅用于开发和演示）</h1>
<p>小程序 AppID：{html.escape(fake.default_appid)}</p>
<h2>wx.login：取一个登录 code</h2>
<form onsubmit="return send('/_control/login-code', {{user: this.user.value}}, 'login')">
<input name="user" value="demo" placeholder="微信用户"> <button>取登录 code</button></form><pre id="login"></pre>
<h2>获取手机号按钮：取一个手机号 code</h2>
<form onsubmit="return send('/_control/phone-code', {{phone: this.phone.value}}, 'phone')">
<input name="phone" placeholder="手机号"> <button>取手机号 code</button></form><pre id="phone"></pre>
<h2>已发送的订阅消息</h2>
<table border='1' cellpadding='4'><tr><th>时间 (UTC)</th><th>openid</th><th>模板</th><th>内容</th></tr>{rows}</table>
<script>
function send(path, body, out) {{
  fetch(path, {{method: 'POST', body: JSON.stringify(body)}}).then(r => r.json())
    .then(j => document.getElementById(out).textContent = JSON.stringify(j, null, 2));
  return false;
}}
</script>"""


@contextmanager
def running_wechat_api(apps: dict[str, str], **options: Any) -> Iterator[FakeWechatApi]:
    """A fake on a free local port for the length of the block (tests)."""
    fake = FakeWechatApi(apps, **options).start()
    try:
        yield fake
    finally:
        fake.stop()


def _app(value: str) -> tuple[str, str]:
    appid, sep, secret = value.partition(":")
    if not sep or not appid or not secret:
        raise argparse.ArgumentTypeError("expected appid:secret")
    return appid, secret


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.fakes.wechat_api", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8020)
    parser.add_argument(
        "--app",
        type=_app,
        action="append",
        help="appid:secret of a mini-program it serves (repeatable; default: WECHAT_APPID / WECHAT_SECRET "
        "or their development values)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.app:
        apps = dict(args.app)
    else:
        wechat = WechatSettings.from_env(os.environ, production=False)
        apps = {wechat.appid: wechat.secret}
    fake = FakeWechatApi(apps, host=args.host, port=args.port)
    print(f"fake WeChat API on {fake.base_url}  (login and phone codes: {fake.base_url})", flush=True)
    try:
        fake.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
