"""The demo's smart card: a software card for a demo co-op, issued by a demo CA under var/card-ca/.

``python -m backend demo card`` prints the arguments of ``python -m card_service.fakes.soft_piv``
for it, so ``make card`` can insert a card whose unit exists in the demo data.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from backend.core import identifiers, runtime
from backend.core.scope import path_prefix
from backend.units.models import Unit, UnitType
from card_service.fakes.card_ca import CardAuthority

DEMO_TOWNSHIP = "白沙镇"
HOLDERS = {"legal_rep": "王建国", "operator": "李秀英"}


def _id_number(seed: int) -> str:
    first17 = f"53010119700101{seed % 1000:03d}"
    return first17 + identifiers.id_number_check_char(first17)


async def demo_card(var_dir: Path, *, kind: str) -> str | None:
    """Shell arguments for the soft card of the first co-op under the demo township, or None."""
    township = await Unit.get_or_none(name=DEMO_TOWNSHIP, type=UnitType.TOWNSHIP)
    if township is None:
        return None
    coop = (
        await Unit.filter(path_prefix("path", township.path), type=UnitType.COOP, credit_code__isnull=False)
        .order_by("id")
        .first()
    )
    if coop is None or coop.credit_code is None:
        return None
    ca_dir = var_dir / "card-ca"
    CardAuthority.load_or_generate(ca_dir)
    if kind == "legal_rep" and coop.legal_rep_id_enc and coop.legal_rep_name:
        holder = coop.legal_rep_name
        id_number = runtime.get().vault.decrypt("unit.legal_rep_id", coop.legal_rep_id_enc)
    else:
        holder, id_number = HOLDERS[kind], _id_number(coop.id + (500 if kind == "operator" else 0))
    card_number = f"{88 if kind == 'legal_rep' else 66}{coop.id:08d}"
    return shlex.join(
        [
            "--ca-dir", str(ca_dir),
            "--card-number", card_number,
            "--holder", holder,
            "--id-number", id_number,
            "--unit-name", coop.name,
            "--credit-code", coop.credit_code,
            "--kind", kind,
        ]
    )  # fmt: skip
