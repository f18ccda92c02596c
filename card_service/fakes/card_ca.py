"""A card issuer's CA in software: issues PIV card certificates in the profile of docs/card-protocol.md.

Used by the tests (a test CA per run) and by the demo (`make run` keeps one under var/). Real
cards come with certificates from their issuer; the backend only trusts the CA file it is given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CardKind = Literal["legal_rep", "operator"]
Slot = Literal["9a", "9c"]


@dataclass(frozen=True)
class CardIdentity:
    """Who a card belongs to, as its certificate says."""

    card_number: str
    holder_name: str
    id_number: str
    unit_name: str
    unit_credit_code: str
    kind: CardKind = "operator"


def card_subject(identity: CardIdentity) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, identity.unit_name),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, identity.unit_credit_code),
            x509.NameAttribute(NameOID.TITLE, identity.kind),
            x509.NameAttribute(NameOID.COMMON_NAME, identity.holder_name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, identity.card_number),
            x509.NameAttribute(NameOID.USER_ID, identity.id_number),
        ]
    )


def _utc(moment: dt.datetime | None) -> dt.datetime:
    return (moment or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)


@dataclass
class CardAuthority:
    """A CA key and its self-signed certificate."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def generate(
        cls, name: str = "村务通测试发卡机构", *, now: dt.datetime | None = None, years: int = 20
    ) -> CardAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        start = _utc(now) - dt.timedelta(days=1)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key=key, certificate=certificate)

    def issue(
        self,
        identity: CardIdentity,
        public_key: ec.EllipticCurvePublicKey,
        *,
        slot: Slot = "9a",
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        digital_signature: bool = True,
    ) -> x509.Certificate:
        """A card certificate for ``public_key`` (5 years from now unless dates are given)."""
        start = _utc(not_before) if not_before else _utc(None) - dt.timedelta(days=1)
        end = _utc(not_after) if not_after else start + dt.timedelta(days=365 * 5)
        return (
            x509.CertificateBuilder()
            .subject_name(card_subject(identity))
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=digital_signature,
                    content_commitment=slot == "9c",
                    key_encipherment=not digital_signature,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def save(self, folder: Path) -> Path:
        """Write ``ca.pem`` (what the backend trusts) and ``ca-key.pem`` (0600); returns ca.pem."""
        folder.mkdir(parents=True, exist_ok=True)
        key_path = folder / "ca-key.pem"
        key_path.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        key_path.chmod(0o600)
        cert_path = folder / "ca.pem"
        cert_path.write_bytes(self.certificate_pem())
        return cert_path

    @classmethod
    def load(cls, folder: Path) -> CardAuthority:
        key = serialization.load_pem_private_key((folder / "ca-key.pem").read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the CA key is not an EC key")
        return cls(key=key, certificate=x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes()))

    @classmethod
    def load_or_generate(cls, folder: Path) -> CardAuthority:
        if (folder / "ca.pem").exists() and (folder / "ca-key.pem").exists():
            return cls.load(folder)
        authority = cls.generate(name="村务通演示发卡机构")
        authority.save(folder)
        return authority
