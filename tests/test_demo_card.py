"""The demo path of the card service: an operator enrols a PC from its QR, and the demo card's
identity names a co-op that exists, so a card login works on the demo data."""

from __future__ import annotations

import argparse
import shlex

import httpx
import pytest

from backend.core.audit import AuditEntry
from backend.core.config import Settings
from backend.core.errors import AppError
from backend.demo import cards, seed
from backend.devices import actions
from backend.units.models import Unit
from card_service.fakes.card_ca import CardAuthority, CardIdentity
from tests.card_helpers import SigningDevice, card_step, issue_card, scan_and_confirm, start_pairing


def _soft_card_args(line: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    for name in ("--ca-dir", "--card-number", "--holder", "--id-number", "--unit-name", "--credit-code", "--kind"):
        parser.add_argument(name, required=True)
    return parser.parse_args(shlex.split(line))


async def test_an_operator_enrols_a_pc_and_the_demo_card_logs_in(
    client: httpx.AsyncClient, settings: Settings, card_authority: CardAuthority
) -> None:
    await seed.seed("small", settings.var_dir)
    township = await Unit.get(name=cards.DEMO_TOWNSHIP)
    device = SigningDevice()
    started = await device.request(
        client, "POST", "/api/devices/enrolments", {"public_key": device.public_key, "hostname": "DEMO-PC"}
    )
    enrolled = await actions.approve_by_operator(started.json()["token"], unit_id=township.id, name="演示电脑")
    assert enrolled.unit.id == township.id
    assert (await AuditEntry.get(action="device.enrol")).actor_account_id is None  # the system, not an account
    with pytest.raises(AppError):  # the QR is used up
        await actions.approve_by_operator(started.json()["token"], unit_id=township.id, name="演示电脑")

    line = await cards.demo_card(settings.var_dir, kind="legal_rep")
    assert line is not None
    args = _soft_card_args(line)
    authority = CardAuthority.load(settings.var_dir / "card-ca")  # the demo issuer the backend trusts
    assert authority.certificate == card_authority.certificate
    identity = CardIdentity(args.card_number, args.holder, args.id_number, args.unit_name, args.credit_code, args.kind)
    pairing = await start_pairing(client, device, "login")
    await scan_and_confirm(client, pairing)
    done = await card_step(client, device, pairing["pairing_id"], issue_card(authority, identity))
    assert done.status_code == 200, done.text
    assert done.json()["result"]["account"]["username"] == f"{args.card_number}_ADMIN"
