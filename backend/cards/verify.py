"""Checks of a card's answer (C4): certificate chain to a trusted issuer, dates, key usage, signature.

The card signs SHA-256 of the context (``card_service.protocol.card_context``); that is an ECDSA
P-256 signature over the context with SHA-256. Nothing the card sends is trusted before these
checks pass; the holder and unit are read from the certificate only afterwards.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID

from backend.cards import messages as msg
from backend.core import identifiers
from backend.core.errors import AppError

log = logging.getLogger(__name__)

MAX_CHAIN = 3
_trusted_cache: dict[Path, tuple[bytes, list[x509.Certificate]]] = {}


class CardRefused(AppError):
    """The card's answer failed a check; the code says which (docs/card-protocol.md)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, status=403)


@dataclass(frozen=True)
class CardHolder:
    """What a verified card certificate says about its holder."""

    card_number: str
    holder_name: str
    id_number: str
    unit_name: str
    credit_code: str
    kind: str
    issuer: str  # SHA-256 hex of the trusted root's public key
    certificate_sha256: str
    issued_at: datetime | None = None  # the certificate's start of validity: a newer card replaces an older


def trusted_issuers(path: Path | None) -> list[x509.Certificate]:
    """The issuer CA certificates in ``path`` (PEM, one or more); a replaced file counts at once."""
    if path is None or not path.exists():
        return []
    pem = path.read_bytes()  # a few KB; parsed once per content
    cached = _trusted_cache.get(path)
    if cached is None or cached[0] != pem:
        try:
            cached = (pem, x509.load_pem_x509_certificates(pem))
        except ValueError:  # not PEM (DER, a key), no certificate in it, or cut short while replaced
            log.error("card issuer CA file %s holds no readable PEM certificate; card steps are refused", path)
            raise CardRefused("card_untrusted", msg.ISSUER_UNREADABLE) from None
        _trusted_cache[path] = cached
    return cached[1]


def _load(der: bytes) -> x509.Certificate:
    """The certificate, its extensions read at once (they are parsed lazily and may not parse)."""
    try:
        cert = x509.load_der_x509_certificate(der)
        _ = cert.extensions
    except (ValueError, x509.DuplicateExtension):
        raise CardRefused("card_certificate_malformed", msg.CERTIFICATE_MALFORMED) from None
    return cert


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value.ca)
    except x509.ExtensionNotFound:
        return False


def _may_issue(issuer: x509.Certificate, cas_below: int) -> bool:
    """RFC 5280 6.1.4: a CA, keyUsage keyCertSign when the extension is there (6.1.4 n: absent is
    accepted), and no more non-self-issued sub-CAs below it than its pathLen (k, l, m)."""
    extensions = issuer.extensions
    try:
        constraints = extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
    except x509.ExtensionNotFound:
        return False
    if not constraints.ca or (constraints.path_length is not None and constraints.path_length < cas_below):
        return False
    try:
        return bool(extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value.key_cert_sign)
    except x509.ExtensionNotFound:
        return True


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate, cas_below: int) -> bool:
    if cert.issuer != issuer.subject or not _may_issue(issuer, cas_below):
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _path_to_root(
    leaf: x509.Certificate, intermediates: list[x509.Certificate], roots: list[x509.Certificate]
) -> list[x509.Certificate]:
    """leaf, intermediates..., root; raises ``card_untrusted`` when no trusted root is reached."""
    path = [leaf]
    for _ in range(MAX_CHAIN):
        current = path[-1]
        # Sub-CAs between the next issuer and the leaf; a self-issued one (key rollover) does not count.
        cas_below = sum(1 for cert in path[1:] if cert.issuer != cert.subject)
        root = next((r for r in roots if _issued_by(current, r, cas_below)), None)
        if root is not None:
            return [*path, root]
        step = next((c for c in intermediates if c not in path and _issued_by(current, c, cas_below)), None)
        if step is None:
            break
        path.append(step)
    raise CardRefused("card_untrusted", msg.UNTRUSTED)


def _check_dates(path: list[x509.Certificate], now: datetime) -> None:
    for cert in path:
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise CardRefused("card_expired", msg.EXPIRED)


def _check_leaf_usage(leaf: x509.Certificate) -> None:
    try:
        usage = leaf.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
    except x509.ExtensionNotFound:
        raise CardRefused("card_key_usage", msg.KEY_USAGE) from None
    # 9A (authentication) has digitalSignature only; 9C (signing, nonRepudiation) is not for logins.
    if not usage.digital_signature or usage.content_commitment or _is_ca(leaf):
        raise CardRefused("card_key_usage", msg.KEY_USAGE)


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    value = values[0].value if len(values) == 1 else ""
    return value if isinstance(value, str) else ""


def _holder(leaf: x509.Certificate, root: x509.Certificate) -> CardHolder:
    subject = leaf.subject
    holder = CardHolder(
        card_number=_attribute(subject, NameOID.SERIAL_NUMBER),
        holder_name=_attribute(subject, NameOID.COMMON_NAME).strip(),
        id_number=_attribute(subject, NameOID.USER_ID).upper(),
        unit_name=_attribute(subject, NameOID.ORGANIZATION_NAME).strip(),
        credit_code=_attribute(subject, NameOID.ORGANIZATION_IDENTIFIER).upper(),
        kind=_attribute(subject, NameOID.TITLE),
        issuer=hashlib.sha256(
            root.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        ).hexdigest(),
        certificate_sha256=leaf.fingerprint(hashes.SHA256()).hex(),
        issued_at=leaf.not_valid_before_utc,
    )
    if not (
        holder.card_number.isdigit()
        and 8 <= len(holder.card_number) <= 20
        and holder.holder_name
        and identifiers.valid_id_number(holder.id_number)
        and identifiers.valid_credit_code(holder.credit_code)
        and holder.kind in msg.KIND_LABELS
    ):
        raise CardRefused("card_profile_invalid", msg.PROFILE_INVALID)
    return holder


def verify_card_answer(
    *,
    certificate: bytes,
    chain: list[bytes],
    signature: bytes,
    context: bytes,
    roots: list[x509.Certificate],
    now: datetime,
) -> CardHolder:
    """Check the card's certificate and its signature over ``context``; returns the holder."""
    if not roots:
        raise CardRefused("card_untrusted", msg.NO_ISSUER_CONFIGURED)
    leaf = _load(certificate)
    path = _path_to_root(leaf, [_load(der) for der in chain[:MAX_CHAIN]], roots)
    _check_dates(path, now)
    _check_leaf_usage(leaf)
    public_key = leaf.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(public_key.curve, ec.SECP256R1):
        raise CardRefused("card_key_usage", msg.KEY_USAGE)
    try:
        public_key.verify(signature, context, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise CardRefused("card_signature_invalid", msg.SIGNATURE_INVALID) from None
    return _holder(leaf, path[-1])
