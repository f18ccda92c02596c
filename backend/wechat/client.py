"""The WeChat API client: wechatpy's ``WeChatClient`` / ``WeChatWxa`` with our base URL, run in threads.

- wechatpy is synchronous (requests): every call runs in a thread of the client's own pool (not the
  loop's default executor: a hanging WeChat must not hold up the captcha drawings or anything else
  run in threads there), and each thread has its own wechatpy client, so no HTTP session is shared
  between threads. A call, its wait for a thread included, is given up after twice the timeout.
- Only the base URL differs between WeChat and the local fake (:mod:`backend.fakes.wechat_api`).
- The access token lives in Redis, shared by every instance (``wechat:access-token:<appid>``). A
  missing one is fetched by whoever holds ``wechat:access-token-lock:<appid>`` (SET NX with a
  lease); the others wait for it, so two instances never both refresh (each new token starts the
  five-minute end of the one before). wechatpy never fetches a token by itself here: every call
  is handed the shared one.
- A call refused for its token (40001, 40014, 42001) drops that token, if it is still the stored
  one, and is retried once with a fresh token.
- WeChat error codes become :class:`WechatError`: an :class:`AppError` with a Chinese message that
  also carries the ``errcode``. ``session_key`` is dropped as soon as jscode2session answers; it,
  the app secret and the codes never appear in a log line, an exception or an answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from backend.core import runtime
from backend.core.config import WechatSettings
from backend.core.errors import AppError
from backend.wechat import messages as msg

log = logging.getLogger(__name__)

EARLY_REFRESH_SECONDS = 300  # replace a token five minutes before WeChat ends it
TOKEN_POLL_SECONDS = 0.05
THREADS = 16  # WeChat calls under way at once per process; more wait for a thread
OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what an openid or a unionid looks like (and fits its column)
# Failures of a call that got no usable answer: network, timeout, HTTP error, HTML, cut or absurd
# JSON (wechatpy's int() of an errcode of null or 1e999, a nesting deeper than the parser's stack).
UNUSABLE = (requests.RequestException, ValueError, TypeError, ArithmeticError, RecursionError)
TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid credential, invalid token, token expired
# Refusals of our own app credentials or set-up: invalid appid, invalid secret, caller IP not on
# the whitelist, appid / secret missing, bad grant type, API not authorised for this app, AppSecret
# frozen (40243), and the calling IP awaiting the administrator's confirmation (89501-89507).
CONFIG_ERRORS = frozenset({40013, 40125, 40164, 41002, 41004, 40002, 48001, 61024, 40243, 89501, 89503, 89506, 89507})
# Answers of subscribeMessage.send about this message or user, not about WeChat being up.
SUBSCRIBE_ERRORS = {
    40003: "wechat_openid_invalid",
    40037: "wechat_template_invalid",
    43101: "wechat_not_subscribed",  # the user has not accepted (another) message of this template
    47003: "wechat_data_invalid",
}

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_DROP = _RELEASE  # delete the token only if it is still the one that was refused


class WechatError(AppError):
    """A WeChat API call failed; ``errcode`` is WeChat's (None: no usable answer at all)."""

    def __init__(self, code: str, message: str, *, status: int, errcode: int | None, api: str) -> None:
        super().__init__(code, message, status=status)
        self.errcode = errcode
        self.api = api


@dataclass(frozen=True)
class WechatLogin:
    """What jscode2session tells us that we keep (the session_key is not among it)."""

    openid: str
    unionid: str | None

    def __repr__(self) -> str:  # openids are personal identifiers: keep them out of logs
        return "WechatLogin(...)"


@dataclass(frozen=True)
class WechatPhone:
    phone: str  # without the country code
    country_code: str

    def __repr__(self) -> str:
        return f"WechatPhone(country_code={self.country_code!r})"


class _Refused(Exception):
    """A failed call, stripped of wechatpy's request (its URL holds the secret or the code)."""

    def __init__(self, errcode: int | None, reason: str) -> None:
        super().__init__(reason)
        self.errcode = errcode
        self.reason = reason


def _error(api: str, errcode: int | None) -> WechatError:
    """Our error for a WeChat refusal of ``api`` (a short name of the endpoint)."""

    def make(code: str, message: str, status: int) -> WechatError:
        return WechatError(code, message, status=status, errcode=errcode, api=api)

    if errcode == 40029:
        return make("wechat_code_invalid", msg.PHONE_CODE_INVALID if api == "phone" else msg.CODE_INVALID, 400)
    if errcode == 40163:
        return make("wechat_code_used", msg.CODE_USED, 400)
    if errcode == 45009:  # the app's daily quota of this API: nothing passes before midnight
        log.error("WeChat %s refused: the daily quota is used up (errcode %s)", api, errcode)
        return make("wechat_quota_exhausted", msg.QUOTA_EXHAUSTED, 429)
    if errcode == 45011:
        log.warning("WeChat %s refused: called too often (errcode %s)", api, errcode)
        return make("wechat_rate_limited", msg.RATE_LIMITED, 429)
    if errcode == -1:
        log.warning("WeChat %s answered system busy (errcode %s)", api, errcode)
        return make("wechat_busy", msg.BUSY, 503)
    if errcode == 40226:
        return make("wechat_user_blocked", msg.USER_BLOCKED, 403)
    if errcode in CONFIG_ERRORS or (api == "token" and errcode == 40001):  # 40001 from getAccessToken: wrong secret
        log.error(
            "WeChat refused our app credentials on %s (errcode %s): check WECHAT_APPID, WECHAT_SECRET and the"
            " server's IP in the mini-program's admin console (whitelist, confirmation)",
            api,
            errcode,
        )
        return make("wechat_misconfigured", msg.MISCONFIGURED, 503)
    if errcode is not None and errcode in SUBSCRIBE_ERRORS and api == "subscribe":
        return make(SUBSCRIBE_ERRORS[errcode], msg.UNAVAILABLE, 502)
    log.warning("WeChat %s failed (errcode %s)", api, errcode)
    return make("wechat_unavailable", msg.UNAVAILABLE, 503 if errcode is None or errcode in TOKEN_ERRORS else 502)


class _SyncClient(WeChatClient):
    """wechatpy's client pointed at ``api_base``; it uses the token it is handed and never fetches one itself."""

    def __init__(self, settings: WechatSettings) -> None:
        super().__init__(settings.appid, settings.secret, timeout=settings.timeout_seconds, auto_retry=False)
        self.api_base = settings.api_base
        self.API_BASE_URL = f"{settings.api_base}cgi-bin/"
        self.wxa.API_BASE_URL = settings.api_base
        self.shared_token: str | None = None

    @property
    def access_token(self) -> str:  # wechatpy reads this for every call that needs a token
        token = getattr(self, "shared_token", None)
        if not token:  # AttributeError also keeps wechatpy's member scan in __new__ happy
            raise AttributeError("no shared access token was handed to this call")
        return token

    def fetch_access_token(self) -> dict[str, Any]:
        # Query parameters as a list of pairs: wechatpy adds an access token only to a dict of them.
        return self.get(
            "token",
            params=[("grant_type", "client_credential"), ("appid", self.appid), ("secret", self.secret)],
        )

    def code_to_session(self, js_code: str) -> dict[str, Any]:
        """jscode2session authenticates with the app secret: no access token, so no dependence on its quota."""
        return self.get(
            "sns/jscode2session",
            api_base_url=self.api_base,
            params=[
                ("appid", self.appid),
                ("secret", self.secret),
                ("js_code", js_code),
                ("grant_type", "authorization_code"),
            ],
        )


class WechatClient:
    """The mini-program's server API for one app id; one per process is enough (see :func:`current`)."""

    def __init__(self, settings: WechatSettings) -> None:
        self.settings = settings
        self.appid = settings.appid
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="wechat")

    # --- calls ---------------------------------------------------------------------------------

    async def code2session(self, js_code: str) -> WechatLogin:
        """The user behind a wx.login code; the code is used up whatever the answer."""
        result = await self._checked("jscode2session", lambda c: c.code_to_session(js_code))
        openid, unionid = result.get("openid"), result.get("unionid")
        if not isinstance(openid, str) or not OPENID.fullmatch(openid):
            raise _error("jscode2session", None)
        return WechatLogin(
            openid=openid, unionid=unionid if isinstance(unionid, str) and OPENID.fullmatch(unionid) else None
        )

    async def phone_number(self, code: str) -> WechatPhone:
        """The phone number behind a code of the phone-number button (single use, 5 minutes)."""
        result = await self._with_token("phone", lambda c: c.wxa.get_phone_number(code))
        info = result.get("phone_info")
        if not isinstance(info, dict) or not info.get("purePhoneNumber"):
            raise _error("phone", None)
        watermark = info.get("watermark")
        if isinstance(watermark, dict) and watermark.get("appid") not in (None, self.appid):
            log.error("WeChat answered a phone number for another app id; refusing it")
            raise _error("phone", None)
        return WechatPhone(phone=str(info["purePhoneNumber"]), country_code=str(info.get("countryCode") or ""))

    async def send_subscribe_message(
        self, openid: str, template_id: str, data: Mapping[str, str], *, page: str | None = None
    ) -> None:
        """One subscribe message (``data``: template keyword -> value, e.g. ``{"thing1": "..."}``)."""
        payload = {key: {"value": value} for key, value in data.items()}
        await self._with_token(
            "subscribe", lambda c: c.wxa.send_subscribe_message(openid, template_id, payload, page=page)
        )

    # --- the shared access token ---------------------------------------------------------------

    @property
    def token_key(self) -> str:
        return f"wechat:access-token:{self.appid}"

    async def access_token(self, *, stale: str | None = None) -> str:
        """The shared token, fetched under a Redis lock when missing (or when it is ``stale``)."""
        redis = runtime.get().redis
        lock_key = f"wechat:access-token-lock:{self.appid}"
        lease_ms = int((2 * self.settings.timeout_seconds + 5) * 1000)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2 * self.settings.timeout_seconds + 5
        while True:
            token = await redis.get(self.token_key)
            if token and token != stale:
                return token
            owner = secrets.token_hex(8)
            if await redis.set(lock_key, owner, nx=True, px=lease_ms):
                try:
                    return await self._refresh(stale)
                finally:
                    await redis.eval(_RELEASE, 1, lock_key, owner)
            if loop.time() >= deadline:
                log.warning("WeChat access token: gave up waiting for another instance to fetch it")
                raise WechatError("wechat_busy", msg.BUSY, status=503, errcode=None, api="token")
            await asyncio.sleep(TOKEN_POLL_SECONDS)

    async def _refresh(self, stale: str | None) -> str:
        redis = runtime.get().redis
        token = await redis.get(self.token_key)
        if token and token != stale:  # another instance fetched it while we waited for the lock
            return token
        result = await self._checked("token", lambda c: c.fetch_access_token())
        token, expires_in = result.get("access_token"), result.get("expires_in", 7200)
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise _error("token", None)
        await redis.set(self.token_key, token, ex=max(60, expires_in - EARLY_REFRESH_SECONDS))
        log.info("WeChat access token fetched for app %s (valid %s s)", self.appid, expires_in)
        return token

    async def _with_token(self, api: str, call: Callable[[_SyncClient], Any]) -> dict[str, Any]:
        token = await self.access_token()
        try:
            return await self._call(call, token)
        except _Refused as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise _error(api, exc.errcode) from None
            log.info("WeChat %s: access token refused (errcode %s), fetching a new one once", api, exc.errcode)
        await runtime.get().redis.eval(_DROP, 1, self.token_key, token)
        token = await self.access_token(stale=token)
        try:
            return await self._call(call, token)
        except _Refused as exc:
            raise _error(api, exc.errcode) from None

    # --- threads -------------------------------------------------------------------------------

    async def _checked(self, api: str, call: Callable[[_SyncClient], Any]) -> dict[str, Any]:
        try:
            return await self._call(call, None)
        except _Refused as exc:
            raise _error(api, exc.errcode) from None

    async def _call(self, call: Callable[[_SyncClient], Any], token: str | None) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            client = self._sync_client()
            client.shared_token = token
            try:
                result = call(client)
            except WeChatClientException as exc:
                raise _Refused(exc.errcode, "refused") from None
            except UNUSABLE as exc:
                log.warning("WeChat gave no usable answer (%s)", type(exc).__name__)
                raise _Refused(None, type(exc).__name__) from None
            finally:
                client.shared_token = None
            if not isinstance(result, dict):  # wechatpy hands back the response when it is not JSON
                raise _Refused(None, "not_json")
            return result

        # requests' timeout bounds each connect and each read, not the call: a WeChat trickling its
        # answer, or a queue for the threads in an outage, would hold the user far longer.
        future = asyncio.get_running_loop().run_in_executor(self._pool, run)
        try:
            return await asyncio.wait_for(future, timeout=2 * self.settings.timeout_seconds)
        except TimeoutError:  # the thread ends on its own (a call not started yet does not start)
            log.warning("WeChat gave no answer within %s s", 2 * self.settings.timeout_seconds)
            raise _Refused(None, "deadline") from None

    def _sync_client(self) -> _SyncClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = _SyncClient(self.settings)
        return client


# --- the client of the running process -------------------------------------------------------------

_override: WechatClient | None = None
_cached: tuple[WechatSettings, WechatClient] | None = None


def current() -> WechatClient:
    """The client of the installed runtime's settings (or the one a test put in place)."""
    global _cached
    if _override is not None:
        return _override
    settings = runtime.get().settings.wechat
    if not settings.enabled:
        raise WechatError("wechat_disabled", msg.DISABLED, status=503, errcode=None, api="-")
    if _cached is None or _cached[0] is not settings:
        _cached = (settings, WechatClient(settings))
    return _cached[1]


@contextmanager
def override(client: WechatClient) -> Iterator[WechatClient]:
    """Use ``client`` for every WeChat call in this process until the block ends (tests)."""
    global _override
    previous, _override = _override, client
    try:
        yield client
    finally:
        _override = previous


# --- keep secrets out of urllib3's log lines (they print request URLs with their query) ------------

_SECRET_QUERY = re.compile(r"((?:secret|js_code|access_token)=)[^&\s\"]*")


class _RedactQuery(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _SECRET_QUERY.search(message):
            record.msg = _SECRET_QUERY.sub(r"\1***", message)
            record.args = None
        return True


# Every urllib3 logger that names a request's URL: the pool's request lines and retries (debug), and
# the connection's warning about a garbled header block (a proxy in front of WeChat), at WARNING.
_URL_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry", "urllib3.poolmanager")
for _name in _URL_LOGGERS:
    logging.getLogger(_name).addFilter(_RedactQuery())
