"""The Sanic application: blueprints, error shape, start-up and shut-down of services."""

from __future__ import annotations

import logging

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sanic import Request, Sanic
from sanic.exceptions import MethodNotAllowed, PayloadTooLarge, RequestCancelled, RequestTimeout, SanicException
from sanic.exceptions import NotFound as RouteNotFound
from sanic.response import HTTPResponse
from tortoise.exceptions import DBConnectionError, OperationalError

from backend.core import audit, compression, db, heap, idempotency, log_privacy, messages, runtime, sms, validation
from backend.core.config import Settings
from backend.core.errors import AppError, ServiceUnavailable, TooManyRequests
from backend.core.http import dumps, ok
from backend.core.redis import connect, keep_embedded_alive
from backend.core.validation import MAX_ID

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# Every answer: never kept by a browser, a web view or a proxy (most carry personal data, the rest
# are live state: a captcha, a session), and read only as the type it declares.
SECURITY_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _path_id(value: str) -> int:
    """Path ids: positive and within the 32-bit id columns; anything else is no route (404)."""
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError(value)
    return number


async def security_headers(request: Request, response: HTTPResponse) -> None:
    """Response middleware: :data:`SECURITY_HEADERS`, where the route set none of its own."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def _is_outage(exc: BaseException) -> bool:
    """A lost connection to the database or Redis, as opposed to a bad query or bad data."""
    if isinstance(exc, DBConnectionError | RedisConnectionError | RedisTimeoutError | ConnectionError):
        return True
    cause = exc.__cause__ or exc.__context__
    if not isinstance(exc, OperationalError) or cause is None:
        return False
    return isinstance(cause, OSError | ConnectionError) or type(cause).__name__ in _CONNECTION_ERROR_NAMES


_CONNECTION_ERROR_NAMES = frozenset(
    {"ConnectionDoesNotExistError", "CannotConnectNowError", "InterfaceError", "TooManyConnectionsError"}
)


def _body_unfinished(request: Request) -> bool:
    """Whether the request's body is still on its way (Sanic's HTTP/1 stream has bytes left to read)."""
    return bool(getattr(getattr(request, "stream", None), "request_body", None))


def _error(code: str, message: str, status: int) -> HTTPResponse:
    return ok({"error": {"code": code, "message": message, "fields": {}}}, status=status)


async def handle_error(request: Request, exc: Exception) -> HTTPResponse:
    if isinstance(exc, TooManyRequests) and exc.retry_after is not None:
        refused = ok(exc.body(), status=exc.status)
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    if isinstance(exc, AppError):
        return ok(exc.body(), status=exc.status)
    if isinstance(exc, RouteNotFound):
        return _error("not_found", messages.ROUTE_NOT_FOUND, 404)
    if isinstance(exc, MethodNotAllowed):
        return _error("method_not_allowed", messages.METHOD_NOT_ALLOWED, 405)
    if isinstance(exc, PayloadTooLarge) and "header" in str(exc):  # Sanic's words for its head limit
        return _error("request_head_too_large", messages.REQUEST_HEAD_TOO_LARGE, 431)
    if isinstance(exc, PayloadTooLarge):
        return _error("body_too_large", messages.BODY_TOO_LARGE, 413)
    if _is_outage(exc):
        log.warning("dependency unavailable on %s %s: %s", request.method, request.path, type(exc).__name__)
        return ok(ServiceUnavailable().body(), status=503)
    if isinstance(exc, RequestCancelled):  # the client went away: nobody reads this answer
        log.info("request cancelled on %s %s", request.method, request.path)
        return ok(ServiceUnavailable().body(), status=503)
    if isinstance(exc, RequestTimeout):  # the request arrived too slowly (a weak signal)
        return _error("request_timeout", messages.REQUEST_TIMEOUT, 408)
    if isinstance(exc, SanicException) and exc.status_code == 400:
        return _error("bad_request", messages.MALFORMED_JSON, 400)
    if isinstance(exc, SanicException) and exc.status_code < 500:
        return _error("bad_request", messages.BAD_REQUEST, exc.status_code)
    if isinstance(exc, SanicException) and exc.status_code == 503 and _body_unfinished(request):
        # Sanic reads a body under its response timeout: this one arrived too slowly, like the above
        return _error("request_timeout", messages.REQUEST_TIMEOUT, 408)
    if isinstance(exc, SanicException) and exc.status_code == 503:  # a response timeout: not a bug here
        log.warning("%s on %s %s", exc, request.method, request.path)
        return ok(ServiceUnavailable().body(), status=503)
    if db.is_write_conflict(exc):  # aborted by the database for colliding with another write
        log.warning("write conflict on %s %s: %s", request.method, request.path, type(exc).__name__)
        return _error("write_conflict", messages.WRITE_CONFLICT, 409)
    # Log the type and where, never the request body (it may hold personal data).
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _error("internal_error", messages.INTERNAL_ERROR, 500)


def create_app(settings: Settings, *, manage_services: bool = True, name: str = "cunwu") -> Sanic:
    """Build the app. With ``manage_services`` it connects the database and Redis itself at start."""
    app = Sanic(name, dumps=dumps)
    log_privacy.install()  # on Sanic's handlers (made just now) and the process's own
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.config.PROXIES_COUNT = settings.proxies_count
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.OAS_UI_DEFAULT = "swagger"
    app.config.OAS_URL_PREFIX = "/docs"
    app.config.API_TITLE = "村务通 API"
    app.config.API_VERSION = "0.1.0"
    app.config.API_SECURITY = [{"session": []}]
    app.config.API_SECURITY_DEFINITIONS = {
        "session": {"type": "http", "scheme": "bearer"},
        # Ed25519 request signatures of an enrolled office PC (docs/card-protocol.md)
        "device": {"type": "apiKey", "in": "header", "name": "X-Device-Signature"},
    }
    app.ctx.settings = settings
    app.router.register_pattern("id", _path_id, r"^[0-9]{1,19}$")

    from backend.accounts.routes import bp as accounts_bp
    from backend.agents.routes import bp as agents_bp
    from backend.audit.routes import bp as audit_bp
    from backend.auth.routes import bp as auth_bp
    from backend.cards.routes import bp as cards_bp
    from backend.chat.routes import bp as chat_bp
    from backend.coops.routes import bp as coops_bp
    from backend.devices.routes import bp as devices_bp
    from backend.pairing.routes import bp as pairing_bp
    from backend.profile.routes import bp as profile_bp
    from backend.recovery.routes import bp as recovery_bp
    from backend.registration.routes import bp as registration_bp
    from backend.reviews.routes import bp as reviews_bp
    from backend.system.routes import dev, health
    from backend.units.routes import bp as units_bp
    from backend.wechat.routes import bp as wechat_bp

    app.blueprint(
        [
            health,
            auth_bp,
            units_bp,
            accounts_bp,
            audit_bp,
            agents_bp,
            profile_bp,
            recovery_bp,
            registration_bp,
            reviews_bp,
            chat_bp,
            coops_bp,
            wechat_bp,
            devices_bp,
            pairing_bp,
            cards_bp,
        ]
    )
    if settings.test_hooks:
        app.blueprint(dev)
    app.error_handler.add(Exception, handle_error)
    app.on_request(validation.refuse_undeclared_input)  # before a key is taken for the request
    app.on_request(idempotency.before)
    # Response middleware runs in reverse priority: the idempotency store sees the plain body, then
    # compression runs (tests/test_idempotency.py pins this order).
    app.on_response(idempotency.after, priority=0)
    app.on_response(compression.compress, priority=10)
    app.on_response(security_headers, priority=5)

    if manage_services:

        @app.before_server_start
        async def start_services(app: Sanic) -> None:
            from backend.core import sms_provider

            await db.init_db(settings)
            runtime.install(runtime.Runtime(settings=settings, redis=connect(settings)))
            if settings.redis_url is None:  # the embedded redis-server: started again if it dies
                app.add_task(keep_embedded_alive(), name="keep_embedded_redis_alive")
            await audit.ensure_head()
            if sms_provider.current().immediate:
                await sms.deliver_pending()  # development channel: what a crash left behind, now
            if getattr(app.ctx, "run_worker", False):  # set by `python -m backend serve --worker`
                from jobs.worker import start_embedded

                app.ctx.worker = start_embedded(settings)

        @app.after_server_start
        async def warm_name_index(app: Sanic) -> None:
            """Build the chat's name index now (about a second at the large demo scale), not in the
            first cadre's lookup; a lookup that comes earlier waits for this build, not another.
            Then the heap, index included, is frozen out of full collections (backend.core.heap)."""
            from backend.chat import name_index

            async def warm() -> None:
                await name_index.current()
                heap.settle()

            app.add_task(warm(), name="name_index_warm")

        @app.after_server_stop
        async def stop_services(app: Sanic) -> None:
            from backend.core import sms_delivery
            from backend.pairing import store as pairing_store

            worker = getattr(app.ctx, "worker", None)
            if worker is not None:
                await worker.stop()
            await sms_delivery.close_queue()
            await pairing_store.close_hubs()
            await runtime.shutdown()
            await db.close_db()

    return app
