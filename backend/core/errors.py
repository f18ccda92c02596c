"""One error shape for every failure: ``{"error": {"code", "message", "fields"}}``.

Codes are stable English identifiers for programs; messages are Chinese for the user and never
contain personal data.
"""

from __future__ import annotations

from typing import Any

from backend.core import messages


class AppError(Exception):
    """An expected failure with a code, a user message and an HTTP status."""

    status = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        fields: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.fields = fields or {}
        if status is not None:
            self.status = status

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class ValidationFailed(AppError):
    def __init__(self, fields: dict[str, str], message: str = messages.INVALID_INPUT) -> None:
        super().__init__("invalid_input", message, status=422, fields=fields)


class NotFound(AppError):
    """Missing, or outside the actor's scope: both answer the same so ids cannot be probed."""

    def __init__(self, message: str = messages.NOT_FOUND) -> None:
        super().__init__("not_found", message, status=404)


class Forbidden(AppError):
    def __init__(self, code: str = "forbidden", message: str = messages.FORBIDDEN) -> None:
        super().__init__(code, message, status=403)


class Unauthorized(AppError):
    def __init__(self, code: str = "unauthenticated", message: str = messages.UNAUTHENTICATED) -> None:
        super().__init__(code, message, status=401)


class Conflict(AppError):
    def __init__(self, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(code, message, status=409, fields=fields)


class TooManyRequests(AppError):
    """429; ``retry_after``: the seconds until a retry can pass, when known (sent as Retry-After, so a
    client can count down instead of reading them out of the message)."""

    def __init__(
        self,
        code: str = "too_many_requests",
        message: str = messages.TOO_MANY_REQUESTS,
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(code, message, status=429)
        self.retry_after = retry_after


class ServiceUnavailable(AppError):
    def __init__(self, code: str = "service_unavailable", message: str = messages.SERVICE_UNAVAILABLE) -> None:
        super().__init__(code, message, status=503)
