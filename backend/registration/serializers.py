"""Registrations as they leave the server: personal data masked."""

from __future__ import annotations

from backend.core import identifiers, runtime
from backend.registration import messages as msg
from backend.registration.models import UnitRegistration
from backend.registration.schemas import RegistrationOut, RegistrationRow


def _superior(registration: UnitRegistration) -> tuple[int | None, str]:
    """The requested superior's id and name (``.parent`` loaded): a decided registration's superior
    may have been deleted since (its link emptied), and reads as a dash."""
    parent = registration.parent
    return (parent.id, parent.name) if parent is not None else (None, msg.SUPERIOR_GONE)


def registration_row(registration: UnitRegistration) -> RegistrationRow:
    superior_id, superior_name = _superior(registration)
    return RegistrationRow(
        id=registration.id,
        unit_name=registration.unit_name,
        unit_type=registration.unit_type,
        credit_code=registration.credit_code,
        superior_id=superior_id,
        superior_name=superior_name,
        admin_username=registration.admin_username,
        admin_name=registration.admin_name,
        created_at=registration.created_at,
    )


def registration_out(registration: UnitRegistration) -> RegistrationOut:
    vault = runtime.get().vault
    admin_id = registration.admin_id_number_enc
    superior_id, superior_name = _superior(registration)
    return RegistrationOut(
        id=registration.id,
        status=registration.status,
        unit_name=registration.unit_name,
        unit_type=registration.unit_type,
        credit_code=registration.credit_code,
        org_code=registration.org_code,
        region_code=registration.region_code,
        legal_rep_name=registration.legal_rep_name,
        legal_rep_id_number=identifiers.mask_id_number(
            vault.decrypt("registration.legal_rep_id", registration.legal_rep_id_enc)
        ),
        superior_id=superior_id,
        superior_name=superior_name,
        admin_username=registration.admin_username,
        admin_name=registration.admin_name,
        admin_phone=identifiers.mask_phone(vault.decrypt("registration.admin_phone", registration.admin_phone_enc)),
        admin_id_number=(
            identifiers.mask_id_number(vault.decrypt("registration.admin_id_number", admin_id)) if admin_id else None
        ),
        created_at=registration.created_at,
        decided_at=registration.decided_at,
        decision_reason=registration.decision_reason,
        created_unit_id=registration.created_unit_id,
    )
