"""Signed device requests (C2): who is calling, checked on every request from the card service.

The signature covers method, path with query, body hash, timestamp and nonce
(``card_service.protocol.request_payload``). Stale timestamps, reused nonces and bad signatures
are refused before any work is done.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sanic import Request
from sanic_ext.extensions.openapi import openapi

from backend.core import runtime
from backend.core.errors import Forbidden, Unauthorized
from backend.devices import messages as msg
from backend.devices.models import Device, DeviceStatus
from card_service import protocol

Handler = Callable[..., Awaitable[Any]]

MAX_SKEW_SECONDS = 300
NONCE_TTL_SECONDS = 2 * MAX_SKEW_SECONDS
_NONCE = re.compile(r"[A-Za-z0-9_-]{22,64}")
_DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{32}")


def _signed_path(request: Request) -> str:
    return f"{request.path}?{request.query_string}" if request.query_string else request.path


def _headers(request: Request) -> tuple[str, int, str, bytes]:
    headers = request.headers
    device_id = headers.get(protocol.HEADER_DEVICE, "")
    timestamp = headers.get(protocol.HEADER_TIMESTAMP, "")
    nonce = headers.get(protocol.HEADER_NONCE, "")
    signature = headers.get(protocol.HEADER_SIGNATURE, "")
    well_formed = _DEVICE_ID.fullmatch(device_id) and _NONCE.fullmatch(nonce)
    if not (well_formed and timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise Unauthorized("device_signature_invalid", msg.SIGNATURE_INVALID)
    try:
        raw_signature = protocol.b64url_decode(signature)
    except ValueError:
        raise Unauthorized("device_signature_invalid", msg.SIGNATURE_INVALID) from None
    return device_id, int(timestamp), nonce, raw_signature


async def verify_request(request: Request, public_key: bytes) -> str:
    """Check the request's signature with ``public_key``; returns the device id it claims.

    Raises 401 for a missing or bad signature, a stale timestamp or a replayed nonce.
    """
    device_id, timestamp, nonce, signature = _headers(request)
    if device_id != protocol.device_id(public_key):
        raise Unauthorized("device_signature_invalid", msg.SIGNATURE_INVALID)
    rt = runtime.get()
    if abs(rt.clock.timestamp() - timestamp) > MAX_SKEW_SECONDS:
        raise Unauthorized("device_request_stale", msg.REQUEST_STALE)
    payload = protocol.request_payload(request.method, _signed_path(request), request.body or b"", timestamp, nonce)
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, payload)
    except (InvalidSignature, ValueError):
        raise Unauthorized("device_signature_invalid", msg.SIGNATURE_INVALID) from None
    if not await rt.redis.set(f"device-nonce:{device_id}:{nonce}", "1", nx=True, ex=NONCE_TTL_SECONDS):
        raise Unauthorized("device_request_replayed", msg.REQUEST_REPLAYED)
    return device_id


async def resolve_device(request: Request) -> Device:
    """The enrolled, active device that signed this request."""
    device_id, *_ = _headers(request)
    device = await Device.get_or_none(device_id=device_id).select_related("unit")
    if device is None:
        raise Unauthorized("device_unknown", msg.DEVICE_UNKNOWN)
    await verify_request(request, protocol.b64url_decode(device.public_key))
    if device.status != DeviceStatus.ACTIVE:
        raise Forbidden("device_revoked", msg.DEVICE_REVOKED)
    return device


def device_signed(handler: Handler) -> Handler:
    """Route decorator: passes ``device`` (enrolled, active, request signed) to the handler."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
        return await handler(request, *args, device=await resolve_device(request), **kwargs)

    return openapi.secured("device")(wrapper)
