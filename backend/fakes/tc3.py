"""TC3-HMAC-SHA256, the request signature of Tencent Cloud API 3.0, checked the way the provider does.

Written from the published algorithm (and checked against the official SDK by the tests):

    CanonicalRequest = Method \\n URI \\n Query \\n CanonicalHeaders \\n SignedHeaders \\n SHA256(payload)
    StringToSign     = "TC3-HMAC-SHA256" \\n Timestamp \\n Date/service/tc3_request \\n SHA256(CanonicalRequest)
    SigningKey       = HMAC(HMAC(HMAC("TC3" + SecretKey, Date), service), "tc3_request")
    Signature        = hex(HMAC(SigningKey, StringToSign))

CanonicalHeaders are the headers named in the Authorization's SignedHeaders, in that order, each as
``name:value\\n`` with name and value lower-cased and trimmed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

ALGORITHM = "TC3-HMAC-SHA256"
MAX_CLOCK_SKEW_SECONDS = 300
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


class SignatureError(Exception):
    """The request is not authentic; ``code`` is the provider's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Authorization:
    secret_id: str
    date: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str


def _invalid(detail: str) -> SignatureError:
    return SignatureError("AuthFailure.InvalidAuthorization", f"Authorization header is malformed: {detail}")


def parse_authorization(header: str) -> Authorization:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _invalid(f"algorithm must be {ALGORITHM}")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts[key] = value.strip()
    credential = parts.get("Credential", "").split("/")
    if len(credential) != 4 or not all(credential):
        raise _invalid("Credential must be SecretId/Date/Service/tc3_request")
    signed_headers = tuple(name for name in parts.get("SignedHeaders", "").split(";") if name)
    if not signed_headers or not parts.get("Signature"):
        raise _invalid("SignedHeaders and Signature are required")
    return Authorization(*credential, signed_headers=signed_headers, signature=parts["Signature"])


def canonical_request(
    method: str, uri: str, query: str, headers: Mapping[str, str], signed_headers: tuple[str, ...], payload: bytes
) -> str:
    """``headers`` with lower-case names; an ``x-tc-content-sha256: UNSIGNED-PAYLOAD`` skips the body."""
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed_headers)
    if headers.get("x-tc-content-sha256", "").strip() == UNSIGNED_PAYLOAD:
        payload = UNSIGNED_PAYLOAD.encode()
    return "\n".join(
        [method, uri, query, canonical_headers, ";".join(signed_headers), hashlib.sha256(payload).hexdigest()]
    )


def string_to_sign(timestamp: str, date: str, service: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{date}/{service}/tc3_request\n{digest}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signature(secret_key: str, date: str, service: str, to_sign: str) -> str:
    signing_key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()


def verify(
    *,
    method: str,
    uri: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Mapping[str, str],
    service: str,
    now: float,
) -> str:
    """Check the request's signature; returns the SecretId or raises :class:`SignatureError`."""
    auth = parse_authorization(headers.get("authorization", ""))
    if "content-type" not in auth.signed_headers or "host" not in auth.signed_headers:
        raise _invalid("SignedHeaders must include content-type and host")
    secret_key = secrets.get(auth.secret_id)
    if secret_key is None:
        raise SignatureError("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
    raw_timestamp = headers.get("x-tc-timestamp", "")
    if not raw_timestamp.isdigit():
        raise SignatureError("MissingParameter", "X-TC-Timestamp is required.")
    timestamp = int(raw_timestamp)
    if abs(now - timestamp) > MAX_CLOCK_SKEW_SECONDS:
        raise SignatureError("AuthFailure.SignatureExpire", "Signature expired: the timestamp is too far from now.")
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    if auth.date != date or auth.service != service or auth.terminator != "tc3_request":
        raise SignatureError("AuthFailure.SignatureFailure", "The credential scope does not match the request.")
    canonical = canonical_request(method, uri, query, headers, auth.signed_headers, body)
    expected = signature(secret_key, date, service, string_to_sign(raw_timestamp, date, service, canonical))
    if not hmac.compare_digest(expected, auth.signature.lower()):
        raise SignatureError(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        )
    return auth.secret_id
