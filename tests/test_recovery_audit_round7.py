"""R3, R4 (round 7): the identity checks and code steps of the user name and unit recoveries are in
the audit log, matched or not, in the unit's scope where a unit is known; never a phone, ID number
or code."""

from __future__ import annotations

import json

from backend.accounts.queries import ROOT_SCOPE
from backend.core import runtime
from backend.core.audit import AuditEntry
from backend.units.models import Unit
from tests.factories import make_tree
from tests.test_recovery import (
    CREDIT_CODE,
    ID_NUMBER,
    OTHER_ID,
    PHONE,
    _captcha,
    _unit_recovery,
    _unit_with_legal_rep,
    _with_identity,
)

UNKNOWN_CODE = "91110000MA00000077"


async def _entries(action: str) -> list[tuple[int | None, str, str, dict]]:
    rows = await AuditEntry.filter(action=action).order_by("id")
    return [(e.actor_account_id, e.outcome, e.scope_path, e.detail) for e in rows]


def _no_secrets(entries: list, *secrets: str) -> None:
    text = json.dumps([e[3] for e in entries], ensure_ascii=False)
    assert not any(secret in text for secret in secrets), text


async def _by_unit(client, **fields: str | None):
    body = {"name": "测试unit_person", "id_number": ID_NUMBER, "phone": PHONE, "credit_code": CREDIT_CODE, **fields}
    body = {key: value for key, value in body.items() if value is not None}
    return await client.post("/api/recovery/username/by-unit/send-code", json={**body, **await _captcha(client)})


async def test_a_user_name_look_up_by_unit_is_audited_in_the_units_scope_matched_or_not(client):
    tree = await make_tree()
    await Unit.filter(id=tree.own.id).update(credit_code=CREDIT_CODE, org_code=CREDIT_CODE[8:17])
    person = await _with_identity("unit_person", tree.own)
    assert (await _by_unit(client, id_number=OTHER_ID)).status_code == 200
    assert (await _by_unit(client)).json()["error"]["code"] == "sms_cooldown"
    runtime.get().clock.advance(60)
    assert (await _by_unit(client, credit_code=None, org_code=CREDIT_CODE[8:17])).status_code == 200
    runtime.get().clock.advance(60)
    assert (await _by_unit(client, credit_code=UNKNOWN_CODE)).status_code == 200
    entries = await _entries("recovery.username_identify")
    unit = {"unit_id": tree.own.id}
    assert entries == [
        (None, "failure", tree.own.path, {"by": "credit_code", **unit, "reason": "identity_mismatch"}),
        (person.id, "failure", tree.own.path, {"by": "credit_code", **unit, "reason": "sms_cooldown"}),
        (person.id, "success", tree.own.path, {"by": "org_code", **unit}),
        (None, "failure", ROOT_SCOPE, {"by": "credit_code", "reason": "unknown_unit"}),
    ]
    _no_secrets(entries, PHONE, ID_NUMBER, OTHER_ID, "unit_person")


async def test_a_user_name_look_up_by_phone_is_audited_sent_or_not(client):
    tree = await make_tree()
    person = await _with_identity("phone_person", tree.own)
    path = "/api/recovery/username/by-phone/send-code"
    assert (await client.post(path, json={"phone": PHONE, **await _captcha(client)})).status_code == 200
    assert (await client.post(path, json={"phone": PHONE, **await _captcha(client)})).status_code == 429
    assert (await client.post(path, json={"phone": "13611112222", **await _captcha(client)})).status_code == 200
    entries = await _entries("recovery.username_send_code")
    assert entries == [
        (person.id, "success", tree.own.path, {"by": "phone"}),
        (person.id, "failure", tree.own.path, {"by": "phone", "reason": "sms_cooldown"}),
        (None, "failure", ROOT_SCOPE, {"by": "phone", "reason": "unknown_phone"}),
    ]
    _no_secrets(entries, PHONE, "13611112222")


async def test_a_unit_recovery_start_is_audited_in_the_units_scope(client):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    for credit_code in (CREDIT_CODE, UNKNOWN_CODE):
        started = await client.post(
            "/api/recovery/unit/start", json={"credit_code": credit_code, **await _captcha(client)}
        )
        assert started.status_code == 200, started.text
    assert await _entries("recovery.unit_start") == [
        (None, "success", tree.child.path, {"unit_id": tree.child.id}),
        (None, "failure", ROOT_SCOPE, {"reason": "unknown_unit"}),
    ]


async def test_wrong_codes_at_the_user_name_verify_steps_are_audited_with_their_count(client):
    tree = await make_tree()
    await Unit.filter(id=tree.own.id).update(credit_code=CREDIT_CODE)
    person = await _with_identity("unit_person", tree.own)
    by_phone = await client.post(
        "/api/recovery/username/by-phone/send-code", json={"phone": PHONE, **await _captcha(client)}
    )
    for _ in range(2):
        wrong = await client.post(
            "/api/recovery/username/by-phone/verify", json={"ticket": by_phone.json()["ticket"], "code": "000000"}
        )
        assert wrong.json()["error"]["code"] == "sms_code_wrong"
    runtime.get().clock.advance(60)
    by_unit = await _by_unit(client)
    wrong = await client.post(
        "/api/recovery/username/by-unit/verify", json={"ticket": by_unit.json()["ticket"], "code": "000000"}
    )
    assert wrong.json()["error"]["code"] == "sms_code_wrong"
    entries = await _entries("recovery.username_code")
    assert [(e[0], e[1], e[2]) for e in entries] == [(person.id, "failure", tree.own.path)] * 3
    assert [e[3]["by"] for e in entries] == ["phone", "phone", "unit"]
    assert [e[3]["wrong_codes"] for e in entries] == [1, 2, 1]
    assert entries[2][3]["unit_id"] == tree.own.id
    _no_secrets(entries, PHONE, "000000")


async def test_wrong_codes_at_the_unit_recovery_verify_are_audited_in_the_units_scope(client):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    for identity in ({"name": "王法人", "id_number": OTHER_ID}, {"name": "王法人", "id_number": ID_NUMBER}):
        runtime.get().clock.advance(60)
        sent = await _unit_recovery(client, {"identity": "legal_rep", **identity}, "13600006666")
        assert sent.status_code == 200, sent.text
        wrong = await client.post("/api/recovery/unit/verify", json={"ticket": sent.json()["ticket"], "code": "000000"})
        assert wrong.json()["error"]["code"] == "sms_code_wrong"
    entries = await _entries("recovery.unit_code")
    assert entries == [
        (None, "failure", tree.child.path, {"unit_id": tree.child.id, "reason": "sms_code_wrong", "wrong_codes": 1}),
        (None, "failure", tree.child.path, {"unit_id": tree.child.id, "reason": "sms_code_wrong", "wrong_codes": 1}),
    ]
    _no_secrets(entries, "13600006666", "000000", OTHER_ID)
