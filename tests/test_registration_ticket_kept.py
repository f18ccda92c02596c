"""P12: a submission whose database write failed leaves its ticket (and the proven phone) usable.

The ticket is taken before the registration is written: a database outage or a failed audit record
at that point stored nothing, yet the cadre had to get a new SMS code and start over (the ticket is
now given back). One ticket still stores at most one registration, also when two forms race with it.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import pytest
from tortoise.exceptions import DBConnectionError

from backend.core import audit, db, runtime
from backend.core.audit import AuditEntry
from backend.registration.models import RegistrationStatus, UnitRegistration
from tests.factories import fail_once, make_account, make_tree
from tests.test_registration import PHONE, error, payload, send_code, sms_code


async def sms_count(client) -> int:
    return len((await client.get("/api/dev/sms", params={"phone": PHONE})).json()["messages"])


@pytest.mark.parametrize(("owner", "name"), [(UnitRegistration, "create"), (audit, "record")])
async def test_a_write_that_failed_keeps_the_ticket_and_the_same_form_is_stored_on_resend(
    client, monkeypatch, owner, name
):
    """The registration's insert, or its audit entry (rolled back with it), meets a database outage."""
    tree = await make_tree()
    body = payload(await send_code(client), await sms_code(client), tree.own.id)
    fail_once(monkeypatch, owner, name, DBConnectionError("database went away"))
    failed = await client.post("/api/registration", json=body)
    assert failed.status_code == 503, failed.text
    assert not await UnitRegistration.exists()
    resent = await client.post("/api/registration", json=body)  # the same ticket and code: no new SMS needed
    assert resent.status_code == 201, resent.text
    assert await UnitRegistration.filter(status=RegistrationStatus.PENDING).count() == 1
    assert await AuditEntry.filter(action="registration.submit").count() == 1
    assert await sms_count(client) == 1


async def test_two_forms_racing_with_one_ticket_store_one(client, monkeypatch):
    tree = await make_tree()
    await make_account("taken", tree.child)
    ticket = await send_code(client)
    code = await sms_code(client)
    proving = await client.post("/api/registration", json=payload(ticket, code, tree.own.id, admin__username="taken"))
    assert proving.status_code == 409, proving.text  # the phone is proven: later tries skip the code

    entered, release = asyncio.Event(), asyncio.Event()
    original = db.atomic
    calls: list[int] = []

    @asynccontextmanager
    async def held_atomic():
        calls.append(1)
        if len(calls) == 1:  # the first form waits at its write (no transaction open yet) until the second is answered
            entered.set()
            await release.wait()
        async with original() as conn:
            yield conn

    monkeypatch.setattr(db, "atomic", held_atomic)
    first = asyncio.create_task(client.post("/api/registration", json=payload(ticket, code, tree.own.id, n=1)))
    await entered.wait()
    second = await client.post("/api/registration", json=payload(ticket, code, tree.own.id, n=2))
    release.set()
    assert (await first).status_code == 201
    assert second.status_code in (409, 410), second.text
    assert await UnitRegistration.all().count() == 1
    later = await client.post("/api/registration", json=payload(ticket, code, tree.own.id, n=2))
    assert later.status_code == 410 and error(later)["code"] == "ticket_invalid"
    assert await UnitRegistration.all().count() == 1


async def test_a_form_checked_while_another_stored_with_its_ticket_is_refused(client, monkeypatch):
    """The second form passed its checks before the first was stored and reaches the write after."""
    tree = await make_tree()
    await make_account("taken", tree.child)
    ticket = await send_code(client)
    code = await sms_code(client)
    proving = await client.post("/api/registration", json=payload(ticket, code, tree.own.id, admin__username="taken"))
    assert proving.status_code == 409, proving.text

    hasher = runtime.get().hasher
    original = hasher.hash
    entered, release = asyncio.Event(), asyncio.Event()
    calls: list[int] = []

    async def held_hash(password: str) -> str:
        calls.append(1)
        if len(calls) == 1:  # the late form waits after its checks, before its reservation
            entered.set()
            await release.wait()
        return await original(password)

    monkeypatch.setattr(hasher, "hash", held_hash)
    late = asyncio.create_task(client.post("/api/registration", json=payload(ticket, code, tree.own.id, n=2)))
    await entered.wait()
    first = await client.post("/api/registration", json=payload(ticket, code, tree.own.id, n=1))
    assert first.status_code == 201, first.text
    release.set()
    refused = await late
    assert refused.status_code == 410 and error(refused)["code"] == "ticket_invalid"
    assert await UnitRegistration.all().count() == 1
