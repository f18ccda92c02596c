"""P12: a unit without a card registers itself; an admin of its superior approves or rejects it."""

from __future__ import annotations

import asyncio
import re

import httpx

from backend.accounts.models import Account, Membership
from backend.core import runtime
from backend.core.audit import AuditEntry, verify_chain
from backend.core.identifiers import credit_code_check_char, org_code_check_char
from backend.registration.models import RegistrationStatus, UnitRegistration
from backend.units.models import Unit, UnitType
from tests.factories import Tree, captcha, login, make_account, make_tree, make_unit

PHONE = "13912340001"
PASSWORD = "Hezuo#2026ok"
LEGAL_REP_ID = "11010519491231002X"
ADMIN_ID = "110101199003077571"


def credit_code(n: int) -> str:
    """A valid unified social credit code whose characters 9-17 are a valid organisation code."""
    org = f"MA{n:06d}"
    first17 = f"91530101{org}{org_code_check_char(org)}"
    return first17 + credit_code_check_char(first17)


def org_code_of(code: str) -> str:
    return code[8:17]


async def sms_code(client: httpx.AsyncClient, phone: str = PHONE) -> str:
    messages = (await client.get("/api/dev/sms", params={"phone": phone})).json()["messages"]
    match = re.search(r"验证码为 (\d{6})", messages[0]["text"])
    assert match, messages
    return match.group(1)


async def send_code(client: httpx.AsyncClient, phone: str = PHONE, ip: str = "10.9.0.1") -> str:
    captcha_id, answer = await captcha(client, ip)
    response = await client.post(
        "/api/registration/send-code",
        json={"phone": phone, "captcha_id": captcha_id, "captcha_answer": answer},
        headers={"X-Forwarded-For": ip},
    )
    assert response.status_code == 200, response.text
    return response.json()["ticket"]


def payload(ticket: str, code: str, superior_id: int | None, *, n: int = 1, phone: str = PHONE, **changes) -> dict:
    credit = credit_code(n)
    body = {
        "ticket": ticket,
        "code": code,
        "superior_id": superior_id,
        "unit": {
            "name": "白沙镇茶叶专业合作社",
            "type": "coop",
            "credit_code": credit,
            "org_code": org_code_of(credit),
            "legal_rep_name": "李春生",
            "legal_rep_id_number": LEGAL_REP_ID,
            "region_code": "530101001001",
        },
        "admin": {
            "username": f"chaye{n}",
            "name": "王秀兰",
            "phone": phone,
            "id_number": ADMIN_ID,
            "password": PASSWORD,
        },
    }
    for path, value in changes.items():
        section, _, name = path.partition("__")
        if name:
            body[section][name] = value
        else:
            body[section] = value
    return body


async def submit(client: httpx.AsyncClient, superior_id: int | None, *, phone: str = PHONE, **changes):
    ticket = await send_code(client, phone)
    code = await sms_code(client, phone)
    response = await client.post("/api/registration", json=payload(ticket, code, superior_id, phone=phone, **changes))
    return response, ticket, code


async def submitted(client: httpx.AsyncClient, tree: Tree, **changes) -> UnitRegistration:
    response, _, _ = await submit(client, tree.own.id, **changes)
    assert response.status_code == 201, response.text
    return await UnitRegistration.filter(status=RegistrationStatus.PENDING).order_by("-id").first()


async def reviewer(client: httpx.AsyncClient, unit: Unit, username: str = "town_admin", role: str = "admin"):
    await make_account(username, unit, role=role)
    return await login(client, username)


def error(response: httpx.Response) -> dict:
    return response.json()["error"]


# The happy path ------------------------------------------------------------------------------------


async def test_registered_unit_is_approved_and_its_admin_logs_in_with_the_chosen_password(client):
    tree = await make_tree()
    response, _, _ = await submit(client, tree.own.id)
    assert response.status_code == 201, response.text
    assert response.json() == {"status": "pending", "unit_name": "白沙镇茶叶专业合作社", "superior_name": "白沙镇"}
    registration = await UnitRegistration.get()
    assert PHONE not in registration.admin_phone_enc and registration.admin_password_hash.startswith("$argon2id$")
    submitted_entry = await AuditEntry.get(action="registration.submit")
    assert submitted_entry.scope_path == tree.own.path and submitted_entry.actor_account_id is None
    assert PHONE not in str(submitted_entry.detail) and LEGAL_REP_ID not in str(submitted_entry.detail)

    town = await reviewer(client, tree.own)
    pending = (await client.get("/api/registration/pending", headers=town)).json()
    assert pending["total"] == 1 and pending["items"][0]["superior_name"] == "白沙镇"
    shown = (await client.get(f"/api/registration/{registration.id}", headers=town)).json()
    assert shown["admin_phone"] == "139****0001"
    assert shown["legal_rep_id_number"] == "1101**********002X" and shown["admin_id_number"] == "1101**********7571"

    approved = await client.post(f"/api/registration/{registration.id}/approve", headers=town, json={})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    unit = await Unit.get(credit_code=credit_code(1))
    assert approved.json()["created_unit_id"] == unit.id
    assert unit.parent_id == tree.own.id and unit.path == f"{tree.own.path}{unit.id}/" and unit.depth == 2
    assert unit.type == UnitType.COOP and unit.org_code == org_code_of(credit_code(1))
    assert unit.legal_rep_name == "李春生"
    assert unit.legal_rep_id_index == runtime.get().vault.index("id_number", LEGAL_REP_ID)
    account = await Account.get(username_key="chaye1")
    assert not account.must_change_password and account.login_phone_index == account.phone_index
    membership = await Membership.get(account_id=account.id)
    assert membership.unit_id == unit.id and membership.role == "admin"
    inbox = (await client.get("/api/dev/sms", params={"phone": PHONE})).json()["messages"]
    assert inbox[0]["template"] == "registration_approved" and "chaye1" in inbox[0]["text"]
    actions = set(await AuditEntry.all().values_list("action", flat=True))
    assert {"registration.approve", "unit.create", "account.create"} <= actions
    assert (await verify_chain()).ok

    own = await login(client, "chaye1", PASSWORD)
    assert (await client.get(f"/api/units/{unit.id}", headers=own)).status_code == 200
    assert (await client.get(f"/api/units/{tree.own.id}", headers=own)).status_code == 404
    assert (await client.get("/api/session", headers=await login(client, PHONE, PASSWORD))).json()["username"] == (
        "chaye1"
    )


async def test_superior_search_lists_region_units_with_ids_and_names_only(client):
    tree = await make_tree()
    await make_unit("白沙镇中心学校", UnitType.SCHOOL, tree.own)
    found = (await client.get("/api/registration/superiors", params={"q": "白沙"})).json()
    assert found == [{"id": tree.own.id, "name": "白沙镇"}]
    by_code = (await client.get("/api/registration/superiors", params={"q": "530101"})).json()
    assert {u["name"] for u in by_code} == {"青山县", "白沙镇", "桃源乡"}  # villages are not offered
    assert (await client.get("/api/registration/superiors", params={"q": "白"})).status_code == 422


async def test_superior_may_be_named_by_its_region_code(client):
    tree = await make_tree()
    response, _, _ = await submit(client, None, superior_region_code="530101001000")
    assert response.status_code == 201, response.text
    assert (await UnitRegistration.get()).parent_id == tree.own.id
    unknown, _, _ = await submit(client, None, phone="13912340002", n=2, superior_region_code="530101001001")
    assert unknown.status_code == 422 and "superior_region_code" in error(unknown)["fields"]


async def test_approval_may_place_the_unit_under_another_parent_in_scope_only(client):
    tree = await make_tree()
    registration = await submitted(client, tree)
    county = await reviewer(client, tree.parent, "county_admin")
    outside = await make_unit("邻县", UnitType.COUNTY, region_code="530102000000")
    refused = await client.post(
        f"/api/registration/{registration.id}/approve", headers=county, json={"parent_id": outside.id}
    )
    assert refused.status_code == 404
    placed = await client.post(
        f"/api/registration/{registration.id}/approve", headers=county, json={"parent_id": tree.child.id}
    )
    assert placed.status_code == 200, placed.text
    assert (await Unit.get(credit_code=credit_code(1))).parent_id == tree.child.id


async def test_phone_login_stays_off_when_the_phone_already_logs_in_another_account(client):
    tree = await make_tree()
    await make_account("old_user", tree.child, phone=PHONE)
    registration = await submitted(client, tree)
    town = await reviewer(client, tree.own)
    assert (await client.post(f"/api/registration/{registration.id}/approve", headers=town, json={})).status_code == 200
    assert (await Account.get(username_key="chaye1")).login_phone_index is None
    assert (await login(client, "chaye1", PASSWORD))["Authorization"]


# The public steps refuse abuse ---------------------------------------------------------------------


async def test_send_code_needs_the_captcha(client):
    missing = await client.post("/api/registration/send-code", json={"phone": PHONE})
    assert missing.status_code == 422 and {"captcha_id", "captcha_answer"} <= set(error(missing)["fields"])
    captcha_id, _ = await captcha(client)
    wrong = await client.post(
        "/api/registration/send-code", json={"phone": PHONE, "captcha_id": captcha_id, "captcha_answer": "0000"}
    )
    assert wrong.status_code == 400 and error(wrong)["code"] == "captcha_invalid"
    assert (await client.get("/api/dev/sms", params={"phone": PHONE})).json()["messages"] == []


async def test_send_code_answers_alike_for_a_phone_already_in_use(client):
    tree = await make_tree()
    await make_account("old_user", tree.child, phone="13912340009")
    answers = []
    for phone, ip in ((PHONE, "10.9.1.1"), ("13912340009", "10.9.1.2")):
        captcha_id, answer = await captcha(client, ip)
        response = await client.post(
            "/api/registration/send-code",
            json={"phone": phone, "captcha_id": captcha_id, "captcha_answer": answer},
            headers={"X-Forwarded-For": ip},
        )
        body = response.json()
        answers.append((response.status_code, sorted(body), body["resend_after"], body["expires_in"]))
    assert answers[0] == answers[1]


async def test_wrong_sms_code_stores_nothing_and_the_ticket_survives_for_the_right_one(client):
    tree = await make_tree()
    ticket = await send_code(client)
    code = await sms_code(client)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    refused = await client.post("/api/registration", json=payload(ticket, wrong, tree.own.id))
    assert refused.status_code == 400 and error(refused)["code"] == "sms_code_wrong"
    assert not await UnitRegistration.exists() and not await AuditEntry.filter(action="registration.submit").exists()
    accepted = await client.post("/api/registration", json=payload(ticket, code, tree.own.id))
    assert accepted.status_code == 201, accepted.text


async def test_expired_sms_code_and_expired_ticket_are_refused(client, clock):
    tree = await make_tree()
    ticket = await send_code(client)
    code = await sms_code(client)
    clock.advance(5 * 60 + 1)
    late = await client.post("/api/registration", json=payload(ticket, code, tree.own.id))
    assert late.status_code == 400 and error(late)["code"] == "sms_code_void"
    clock.advance(10 * 60)
    gone = await client.post("/api/registration", json=payload(ticket, code, tree.own.id))
    assert gone.status_code == 410 and error(gone)["code"] == "ticket_invalid"
    assert not await UnitRegistration.exists()


async def test_a_ticket_is_used_once(client):
    tree = await make_tree()
    first, ticket, code = await submit(client, tree.own.id)
    assert first.status_code == 201
    again = await client.post("/api/registration", json=payload(ticket, code, tree.own.id, n=2))
    assert again.status_code == 410 and error(again)["code"] == "ticket_invalid"
    assert await UnitRegistration.all().count() == 1


async def test_bad_credit_code_check_character_is_refused(client):
    tree = await make_tree()
    good = credit_code(1)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response, _, _ = await submit(client, tree.own.id, unit__credit_code=bad)
    assert response.status_code == 422 and "unit.credit_code" in error(response)["fields"]


async def test_org_code_must_be_valid_and_equal_to_the_credit_codes_characters_9_to_17(client):
    tree = await make_tree()
    other = org_code_of(credit_code(2))
    mismatch, ticket, code = await submit(client, tree.own.id, unit__org_code=other)
    assert mismatch.status_code == 422 and "第 9 至 17 位" in error(mismatch)["fields"]["unit.org_code"]
    broken = other[:8] + ("0" if other[8] != "0" else "1")
    bad = await client.post("/api/registration", json=payload(ticket, code, tree.own.id, unit__org_code=broken))
    assert bad.status_code == 422 and "unit.org_code" in error(bad)["fields"]
    printed = org_code_of(credit_code(1))
    hyphen = await client.post(
        "/api/registration", json=payload(ticket, code, tree.own.id, unit__org_code=f"{printed[:8]}-{printed[8]}")
    )
    assert hyphen.status_code == 201, hyphen.text


async def test_weak_password_and_other_bad_fields_are_named_together(client):
    tree = await make_tree()
    response, ticket, code = await submit(
        client, tree.own.id, admin__password="password", unit__region_code="530102001001"
    )
    assert response.status_code == 422
    assert {"admin.password", "unit.region_code"} <= set(error(response)["fields"])
    phone_shaped = await client.post(
        "/api/registration", json=payload(ticket, code, tree.own.id, admin__username="13912345678")
    )
    assert phone_shaped.status_code == 422 and "admin.username" in error(phone_shaped)["fields"]
    assert not await UnitRegistration.exists()


async def test_only_self_registering_unit_types_are_accepted(client):
    tree = await make_tree()
    response, _, _ = await submit(client, tree.own.id, unit__type="township")
    assert response.status_code == 422 and "unit.type" in error(response)["fields"]


async def test_admin_phone_must_be_the_phone_that_received_the_code(client):
    tree = await make_tree()
    response, _, _ = await submit(client, tree.own.id, admin__phone="13912349999")
    assert response.status_code == 422 and "admin.phone" in error(response)["fields"]


async def test_a_superior_must_be_named_once_and_be_a_region_unit(client):
    tree = await make_tree()
    school = await make_unit("白沙镇中心学校", UnitType.SCHOOL, tree.own)
    neither, ticket, code = await submit(client, None)
    assert neither.status_code == 422 and "superior_id" in error(neither)["fields"]
    not_region = await client.post("/api/registration", json=payload(ticket, code, school.id))
    assert not_region.status_code == 422 and "superior_id" in error(not_region)["fields"]


async def test_taken_or_deactivated_user_name_is_a_conflict_and_a_new_name_needs_no_new_code(client):
    tree = await make_tree()
    await make_account("Chaye1", tree.child)
    gone = await make_account("gone_user", tree.child)
    await Account.filter(id=gone.id).update(is_active=False)
    taken, ticket, code = await submit(client, tree.own.id)
    assert taken.status_code == 409 and error(taken)["fields"] == {"admin.username": error(taken)["message"]}
    deactivated = await client.post(
        "/api/registration", json=payload(ticket, code, tree.own.id, admin__username="GONE_USER")
    )
    assert deactivated.status_code == 409 and "admin.username" in error(deactivated)["fields"]
    fixed = await client.post("/api/registration", json=payload(ticket, code, tree.own.id, admin__username="chaye_new"))
    assert fixed.status_code == 201, fixed.text


async def test_pending_user_name_is_taken_too(client):
    tree = await make_tree()
    await submitted(client, tree)
    again, _, _ = await submit(client, tree.own.id, phone="13912340002", n=2, admin__username="CHAYE1")
    assert again.status_code == 409 and "admin.username" in error(again)["fields"]


async def test_credit_code_of_a_unit_or_of_a_pending_registration_is_a_conflict(client):
    tree = await make_tree()
    await Unit.filter(id=tree.child.id).update(credit_code=credit_code(1))
    used, _, _ = await submit(client, tree.own.id)
    assert used.status_code == 409 and error(used)["code"] == "duplicate_credit_code"
    assert "unit.credit_code" in error(used)["fields"]
    await submitted(client, tree, phone="13912340002", n=2)
    pending, _, _ = await submit(client, tree.own.id, phone="13912340003", n=2, admin__username="other")
    assert pending.status_code == 409 and "unit.credit_code" in error(pending)["fields"]


async def test_parallel_submissions_of_one_credit_code_store_only_one(client):
    tree = await make_tree()
    bodies = []
    for n, phone in enumerate(("13912340011", "13912340012")):
        ticket = await send_code(client, phone, ip=f"10.9.2.{n}")
        bodies.append(
            payload(ticket, await sms_code(client, phone), tree.own.id, phone=phone, admin__username=f"user{n}")
        )
    results = await asyncio.gather(*[client.post("/api/registration", json=b) for b in bodies])
    assert sorted(r.status_code for r in results) == [201, 409]
    assert await UnitRegistration.all().count() == 1


# The decision --------------------------------------------------------------------------------------


async def test_reviewer_of_a_sibling_unit_sees_nothing_and_a_viewer_is_forbidden(client):
    tree = await make_tree()
    registration = await submitted(client, tree)
    sibling = await reviewer(client, tree.sibling, "sibling_admin")
    assert (await client.get("/api/registration/pending", headers=sibling)).json()["total"] == 0
    for method, path, body in (
        ("GET", f"/api/registration/{registration.id}", None),
        ("POST", f"/api/registration/{registration.id}/approve", {}),
        ("POST", f"/api/registration/{registration.id}/reject", {"reason": "不认识"}),
    ):
        response = await client.request(method, path, headers=sibling, json=body)
        assert response.status_code == 404, (path, response.text)
    below = await reviewer(client, tree.child, "village_admin")
    assert (await client.get(f"/api/registration/{registration.id}", headers=below)).status_code == 404
    viewer = await reviewer(client, tree.own, "town_viewer", role="viewer")
    assert (await client.get("/api/registration/pending", headers=viewer)).status_code == 403
    forbidden = await client.post(f"/api/registration/{registration.id}/approve", headers=viewer, json={})
    assert forbidden.status_code == 403
    assert (await UnitRegistration.get(id=registration.id)).status == RegistrationStatus.PENDING
    assert not await Unit.filter(credit_code=credit_code(1)).exists()


async def test_a_registration_is_decided_only_once(client):
    tree = await make_tree()
    registration = await submitted(client, tree)
    town = await reviewer(client, tree.own)
    path = f"/api/registration/{registration.id}"
    assert (await client.post(f"{path}/approve", headers=town, json={})).status_code == 200
    twice = await client.post(f"{path}/approve", headers=town, json={})
    assert twice.status_code == 409 and error(twice)["code"] == "already_decided"
    assert (await client.post(f"{path}/reject", headers=town, json={"reason": "重复"})).status_code == 409
    assert (
        await Unit.filter(credit_code=credit_code(1)).count() == 1
        and await Account.filter(username_key="chaye1").count() == 1
    )


async def test_parallel_approvals_create_one_unit(client):
    tree = await make_tree()
    registration = await submitted(client, tree)
    town = await reviewer(client, tree.own)
    county = await reviewer(client, tree.parent, "county_admin")
    results = await asyncio.gather(
        *[client.post(f"/api/registration/{registration.id}/approve", headers=h, json={}) for h in (town, county)]
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    assert await Unit.filter(credit_code=credit_code(1)).count() == 1


async def test_rejection_changes_no_unit_or_account_and_tells_the_registrant_why(client):
    tree = await make_tree()
    registration = await submitted(client, tree)
    town = await reviewer(client, tree.own)
    units, accounts, memberships = await Unit.all().count(), await Account.all().count(), await Membership.all().count()
    response = await client.post(
        f"/api/registration/{registration.id}/reject", headers=town, json={"reason": "营业执照信息与申报不符"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected" and response.json()["decision_reason"] == "营业执照信息与申报不符"
    assert (await Unit.all().count(), await Account.all().count(), await Membership.all().count()) == (
        units,
        accounts,
        memberships,
    )
    inbox = (await client.get("/api/dev/sms", params={"phone": PHONE})).json()["messages"]
    assert inbox[0]["template"] == "registration_rejected" and "营业执照信息与申报不符" in inbox[0]["text"]
    entry = await AuditEntry.get(action="registration.reject")
    assert entry.scope_path == tree.own.path and entry.target_id == str(registration.id)
    again, _, _ = await submit(client, tree.own.id, phone="13912340002")
    assert again.status_code == 201, again.text  # a rejected request no longer holds its credit code or name


async def test_failed_approvals_roll_back_whole(client):
    tree = await make_tree()
    registration = await submitted(client, tree)
    await make_account("chaye1", tree.sibling)  # an admin gave the name away while the request waited
    county = await reviewer(client, tree.parent, "county_admin")
    units = await Unit.all().count()
    path = f"/api/registration/{registration.id}/approve"
    taken = await client.post(path, headers=county, json={})
    assert taken.status_code == 409 and error(taken)["code"] == "username_taken"
    await Account.filter(username_key="chaye1").update(username_key="chaye1-old")
    elsewhere = await client.post(path, headers=county, json={"parent_id": tree.sibling.id})
    assert elsewhere.status_code == 422 and "region_code" in error(elsewhere)["fields"]
    await Unit.filter(id=tree.sibling.id).update(credit_code=credit_code(1))
    clash = await client.post(path, headers=county, json={})
    assert clash.status_code == 409 and "credit_code" in error(clash)["fields"]
    assert await Unit.all().count() == units and not await Account.filter(username_key="chaye1").exists()
    assert not await AuditEntry.filter(action__in=["unit.create", "registration.approve"]).exists()
    assert (await UnitRegistration.get(id=registration.id)).status == RegistrationStatus.PENDING


# A Redis restart (tickets, codes and throttles are in Redis; submissions in the database) ----------


async def test_a_ticket_lost_to_a_redis_restart_asks_to_start_again_and_stores_nothing(client, clock):
    tree = await make_tree()
    ticket = await send_code(client)
    code = await sms_code(client)
    await runtime.get().redis.flushdb()
    lost = await client.post("/api/registration", json=payload(ticket, code, tree.own.id))
    assert lost.status_code == 410 and error(lost) == {
        "code": "ticket_invalid",
        "message": "操作已过期或无效，请从头开始",
        "fields": {},
    }
    assert not await UnitRegistration.exists()
    clock.advance(60)  # the phone's 60 s between codes outlive the restart (the SMS outbox keeps them)
    again = await client.post(
        "/api/registration", json=payload(await send_code(client), await sms_code(client), tree.own.id)
    )
    assert again.status_code == 201, again.text


async def test_a_registration_submitted_before_a_redis_restart_stays_and_a_resend_is_not_a_second_one(client, clock):
    tree = await make_tree()
    body = payload(await send_code(client), await sms_code(client), tree.own.id)
    key = {"Idempotency-Key": "registration-resend-1"}
    first = await client.post("/api/registration", json=body, headers=key)
    assert first.status_code == 201, first.text
    await runtime.get().redis.flushdb()  # the stored answer and the ticket are gone; the answer never arrived
    resent = await client.post("/api/registration", json=body, headers=key)
    assert resent.status_code == 201 and resent.json() == first.json()  # the same form: answered as stored
    clock.advance(60)
    started_again = await client.post(
        "/api/registration", json=payload(await send_code(client), await sms_code(client), tree.own.id)
    )
    assert started_again.status_code == 409 and error(started_again)["code"] == "duplicate_credit_code"
    assert "等待审核" in error(started_again)["message"]
    assert await UnitRegistration.filter(status=RegistrationStatus.PENDING).count() == 1


async def test_a_registration_stored_when_redis_fails_at_its_clean_up_is_answered_as_stored(client, monkeypatch):
    """Redis failed just after the registration was committed: its clean-ups (keys that expire
    anyway) raised, and the cadre was told 服务暂时不可用 for a registration that was stored."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    tree = await make_tree()
    body = payload(await send_code(client), await sms_code(client), tree.own.id)
    redis = runtime.get().redis

    async def down(*keys):
        raise RedisConnectionError("Redis went away")

    monkeypatch.setattr(redis, "delete", down)
    stored = await client.post("/api/registration", json=body)
    assert stored.status_code == 201, stored.text
    assert await UnitRegistration.filter(status=RegistrationStatus.PENDING).count() == 1
