"""P12, reviewed adversarially: a cadre on a weak signal resending, and what a registrant is told."""

from __future__ import annotations

from backend.accounts.models import Account
from backend.registration.models import RegistrationStatus, UnitRegistration
from tests.factories import make_account, make_tree
from tests.test_registration import PASSWORD, error, payload, reviewer, send_code, sms_code


async def test_a_registration_resent_without_its_key_after_the_answer_was_lost_is_answered_as_stored(client):
    """The answer of a stored registration was lost and the page sent the form again under another
    Idempotency-Key (or none): the used ticket answered 410 "请从头开始", and starting again 409."""
    tree = await make_tree()
    body = payload(await send_code(client), await sms_code(client), tree.own.id)
    first = await client.post("/api/registration", json=body, headers={"Idempotency-Key": "registration-first-1"})
    assert first.status_code == 201, first.text
    for headers in ({"Idempotency-Key": "registration-other-2"}, {}):
        resent = await client.post("/api/registration", json=body, headers=headers)
        assert resent.status_code == 201, resent.text
        assert resent.json() == first.json()
    assert await UnitRegistration.all().count() == 1


async def test_a_used_ticket_with_another_form_or_password_or_a_decided_registration_still_starts_again(client):
    """Only the very form sent before, password included, is answered as stored: a used ticket tells
    nobody else whether a registration with those details waits."""
    tree = await make_tree()
    body = payload(await send_code(client), await sms_code(client), tree.own.id)
    assert (await client.post("/api/registration", json=body)).status_code == 201
    for changed in (
        payload(body["ticket"], body["code"], tree.own.id, admin__password="Other#Pass2026"),
        payload(body["ticket"], body["code"], tree.own.id, unit__name="另一个合作社"),
        payload(body["ticket"], body["code"], tree.child.id),
        payload(body["ticket"], body["code"], None),
    ):
        refused = await client.post("/api/registration", json=changed)
        assert refused.status_code == 410 and error(refused)["code"] == "ticket_invalid"
    assert body["admin"]["password"] == PASSWORD
    registration = await UnitRegistration.get()
    town = await reviewer(client, tree.own)
    rejected = await client.post(f"/api/registration/{registration.id}/reject", headers=town, json={"reason": "不符"})
    assert rejected.status_code == 200
    late = await client.post("/api/registration", json=body)
    assert late.status_code == 410 and error(late)["code"] == "ticket_invalid"
    assert await UnitRegistration.all().count() == 1


async def test_a_reviewer_who_cannot_approve_a_taken_user_name_is_told_to_reject_not_to_pick_another(client):
    """The reviewer was told "请换一个" (pick another name): only the registrant can, by registering again."""
    tree = await make_tree()
    body = payload(await send_code(client), await sms_code(client), tree.own.id)
    assert (await client.post("/api/registration", json=body)).status_code == 201
    registration = await UnitRegistration.get()
    await make_account("chaye1", tree.sibling)  # an admin gave the name away while the request waited
    town = await reviewer(client, tree.own)
    taken = await client.post(f"/api/registration/{registration.id}/approve", headers=town, json={})
    assert taken.status_code == 409 and error(taken)["code"] == "username_taken"
    assert "驳回" in error(taken)["message"] and "请换一个" not in error(taken)["message"]
    assert error(taken)["fields"] == {"admin_username": error(taken)["message"]}
    assert await Account.filter(username_key="chaye1").count() == 1
    assert (await UnitRegistration.get(id=registration.id)).status == RegistrationStatus.PENDING
