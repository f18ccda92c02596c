"""The backend client against scripted transports: signatures, typed errors, retries, proxies."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from card_service.api import BackendClient, BackendError, CardSubmission, NetworkError
from card_service.device_key import DeviceKey, load_or_create

Handler = Callable[[httpx.Request], httpx.Response]


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def key(tmp_path: Path) -> DeviceKey:
    return load_or_create(tmp_path / "home")[0]


def _client(key: DeviceKey, handler: Handler, sleeps: list[float] | None = None, **kwargs: object) -> BackendClient:
    record = sleeps if sleeps is not None else []
    return BackendClient(
        "http://backend.test/cwt",
        key,
        transport=httpx.MockTransport(handler),
        sleep=record.append,
        **kwargs,  # type: ignore[arg-type]
    )


def _state(state: str, version: int, **extra: object) -> dict[str, object]:
    return {"pairing_id": "p1", "state": state, "version": version, "action": "login", "user_code": "ABCD-2345"} | extra


def test_requests_are_signed_over_the_path_as_sent(key: DeviceKey) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_state("created", 1))

    with _client(key, handler) as client:
        client.events("p1", since=3, wait=0)
        client.create_pairing("bind")
    public = Ed25519PublicKey.from_public_bytes(key.public_raw)
    for request in seen:
        path = request.url.raw_path.decode()
        assert path.startswith("/cwt/api/pairings")
        message = "\n".join(
            [
                "CWT-DEVICE-1",
                request.method,
                path,
                hashlib.sha256(request.content).hexdigest(),
                request.headers["X-Device-Timestamp"],
                request.headers["X-Device-Nonce"],
            ]
        ).encode()
        public.verify(_unb64url(request.headers["X-Device-Signature"]), message)
    assert seen[0].url.raw_path == b"/cwt/api/pairings/p1/events?since=3&wait=0"
    assert json.loads(seen[1].content) == {"action": "bind"}
    assert seen[0].headers["X-Device-Nonce"] != seen[1].headers["X-Device-Nonce"]


def test_errors_carry_the_server_code_and_message(key: DeviceKey) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"code": "device_unknown", "message": "设备未登记"}})

    with _client(key, handler) as client, pytest.raises(BackendError) as caught:
        client.device_self()
    assert (caught.value.code, caught.value.message, caught.value.status) == ("device_unknown", "设备未登记", 401)


def test_reads_are_retried_with_backoff_on_network_errors_and_5xx(key: DeviceKey) -> None:
    answers: list[Callable[[httpx.Request], httpx.Response]] = [
        lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r)),
        lambda r: httpx.Response(503, text="busy"),
        lambda r: httpx.Response(200, json={"device_id": "d", "name": "一号机", "unit": {"name": "白沙镇"}}),
    ]
    sleeps: list[float] = []
    with _client(key, lambda r: answers.pop(0)(r), sleeps, backoff=0.5) as client:
        info = client.device_self()
    assert (info.name, info.unit_name) == ("一号机", "白沙镇")
    assert sleeps == [0.5, 1.0]


def test_reads_give_up_with_a_network_error(key: DeviceKey) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    sleeps: list[float] = []
    with _client(key, handler, sleeps, retries=2) as client, pytest.raises(NetworkError) as caught:
        client.device_self()
    assert caught.value.message == "无法连接服务器，请检查网络后再试。"
    assert len(sleeps) == 2


SUBMISSION = CardSubmission(nonce="n1", certificate="Y2VydA==", signature="c2ln")


def test_a_lost_answer_to_a_completed_submission_is_not_resent(key: DeviceKey) -> None:
    posts: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request.content)
            raise httpx.ReadError("connection reset after the server acted", request=request)
        return httpx.Response(200, json=_state("done", 5, result={"message": "登录成功"}))

    with _client(key, handler) as client:
        state = client.deliver_card("p1", SUBMISSION)
    assert state.state == "done"
    assert len(posts) == 1


def test_a_submission_that_never_arrived_is_resent_unchanged(key: DeviceKey) -> None:
    posts: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request.content)
            if len(posts) == 1:
                raise httpx.ConnectError("refused", request=request)
            return httpx.Response(200, json=_state("done", 5))
        return httpx.Response(200, json=_state("confirmed", 4))

    with _client(key, handler) as client:
        state = client.deliver_card("p1", SUBMISSION)
    assert state.state == "done"
    assert len(posts) == 2 and posts[0] == posts[1]


def test_a_resent_submission_refused_for_its_used_nonce_reads_the_outcome(key: DeviceKey) -> None:
    posts: list[bytes] = []
    reads: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request.content)
            if len(posts) == 1:
                raise httpx.ReadTimeout("slow", request=request)
            return httpx.Response(409, json={"error": {"code": "card_nonce_invalid", "message": "随机数已使用"}})
        reads.append(str(request.url))
        # first read: the first attempt is still being processed; later: it completed
        return httpx.Response(200, json=_state("confirmed", 4) if len(reads) == 1 else _state("done", 5))

    with _client(key, handler) as client:
        state = client.deliver_card("p1", SUBMISSION)
    assert state.state == "done"
    assert len(posts) == 2


def test_a_gateway_timeout_on_a_completed_submission_reads_the_outcome(key: DeviceKey) -> None:
    # a proxy or gateway (502 / 504) answers in the backend's place: the action may well have been
    # done, so the outcome is read, not reported as a failure (and nothing is sent twice)
    posts: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request.content)
            return httpx.Response(504, text="<html>Gateway Time-out</html>")
        return httpx.Response(200, json=_state("done", 5, result={"message": "登录成功"}))

    with _client(key, handler) as client:
        state = client.deliver_card("p1", SUBMISSION)
    assert (state.state, (state.result or {}).get("message")) == ("done", "登录成功")
    assert len(posts) == 1


def test_a_refused_submission_is_an_error(key: DeviceKey) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"code": "card_untrusted", "message": "IC卡不是受信任的机构签发的"}})

    with _client(key, handler) as client, pytest.raises(BackendError) as caught:
        client.deliver_card("p1", SUBMISSION)
    assert caught.value.code == "card_untrusted"


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy that answers itself, recording the absolute-form request lines it got."""

    seen: list[str] = []  # noqa: RUF012 - one list per test via the fixture

    def do_GET(self) -> None:
        self.seen.append(self.path)
        body = json.dumps({"device_id": "d", "name": "经代理", "unit": {"name": "白沙镇"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    _Proxy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Proxy.seen
    server.shutdown()
    server.server_close()


def test_an_explicit_proxy_is_used(key: DeviceKey, proxy: tuple[str, list[str]]) -> None:
    url, seen = proxy
    with BackendClient("http://backend.invalid", key, proxy=url, retries=0) as client:
        assert client.device_self().name == "经代理"
    assert seen == ["http://backend.invalid/api/devices/self"]


def test_the_proxy_environment_is_honoured(
    key: DeviceKey, proxy: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = proxy
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", url)
    with BackendClient("http://backend.invalid", key, retries=0) as client:
        assert client.device_self().name == "经代理"
    assert seen == ["http://backend.invalid/api/devices/self"]


def test_the_pcs_cancel_is_a_signed_post_retried_on_network_errors(key: DeviceKey) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json=_state("cancelled", 4))

    with _client(key, handler) as client:
        state = client.cancel_pairing("p1")
    assert (state.state, state.version) == ("cancelled", 4)
    assert [(r.method, r.url.raw_path) for r in seen] == [("POST", b"/cwt/api/pairings/p1/device-cancel")] * 2
    assert "X-Device-Signature" in seen[-1].headers


def test_a_cancel_with_a_time_limit_is_tried_once_within_it(key: DeviceKey) -> None:
    # the cancel sent as the window closes: one try, each phase of it held to the given seconds
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ConnectTimeout("no answer", request=request)

    sleeps: list[float] = []
    with _client(key, handler, sleeps, timeout=10.0) as client, pytest.raises(NetworkError):
        client.cancel_pairing("p1", timeout=3.0)
    assert len(seen) == 1 and not sleeps
    assert seen[0].extensions["timeout"] == {"connect": 3.0, "read": 3.0, "write": 3.0, "pool": 3.0}
    assert seen[0].url.raw_path == b"/cwt/api/pairings/p1/device-cancel"
