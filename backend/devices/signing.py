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

# Ed25519 (RFC 8032): the field prime, the curve constant d and a square root of -1.
_P = 2**255 - 19
_D = -121665 * pow(121666, -1, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _point(raw: bytes) -> tuple[int, int] | None:
    """The curve point a 32-byte key encodes (RFC 8032 5.1.3), or None when it encodes none canonically."""
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, -1, _P) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    sign = raw[31] >> 7
    if x == 0 and sign:
        return None
    return (_P - x if x & 1 != sign else x), y


def _double(point: tuple[int, int]) -> tuple[int, int]:
    """2P on the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 (complete: no special cases)."""
    x, y = point
    t = _D * x * x * y * y % _P
    return 2 * x * y * pow(1 + t, -1, _P) % _P, (y * y + x * x) * pow(1 - t, -1, _P) % _P


def usable_public_key(raw: bytes) -> bool:
    """A canonical Ed25519 key of large order: for the few small-order points a signature made
    without any private key verifies, so such a "key" proves nothing."""
    point = _point(raw) if len(raw) == 32 else None
    if point is None:
        return False
    for _ in range(3):  # times 8, the cofactor: a small-order point becomes the identity (0, 1)
        point = _double(point)
    return point != (0, 1)


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
