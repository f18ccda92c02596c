"""C2: office PCs enrol with their own key, an admin places them in a unit, every request is signed."""

from __future__ import annotations

import httpx

from backend.core.audit import AuditEntry
from backend.core.clock import FrozenClock
from backend.core.roles import Role
from backend.devices.models import Device
from card_service import protocol
from tests.card_helpers import SigningDevice, enrolled_device
from tests.factories import login, make_account, make_tree


async def _start(client: httpx.AsyncClient, device: SigningDevice, hostname: str = "BANGONG-PC") -> httpx.Response:
    return await device.request(
        client, "POST", "/api/devices/enrolments", {"public_key": device.public_key, "hostname": hostname}
    )


async def test_enrolment_from_qr_to_a_unit_the_admin_chose(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    await make_account("admin1", tree.own, Role.ADMIN)
    admin = await login(client, "admin1")
    device = SigningDevice()

    started = await _start(client, device)
    assert started.status_code == 201, started.text
    enrolment = started.json()
    assert enrolment["qr"] == protocol.ENROL_QR_PREFIX + enrolment["token"]
    assert enrolment["fingerprint"] == protocol.fingerprint(device.public_raw)
    waiting = await device.request(client, "GET", "/api/devices/self")
    assert (waiting.status_code, waiting.json()["error"]["code"]) == (401, "device_unknown")

    preview = await client.get(f"/api/devices/enrolments/{enrolment['token']}", headers=admin)
    assert preview.json()["fingerprint"] == enrolment["fingerprint"]
    assert preview.json()["hostname"] == "BANGONG-PC"
    approved = await client.post(
        f"/api/devices/enrolments/{enrolment['token']}/approve",
        json={"name": "王家湾村委会电脑", "unit_id": tree.child.id},
        headers=admin,
    )
    assert approved.status_code == 201, approved.text

    own = await device.request(client, "GET", "/api/devices/self")
    assert own.status_code == 200
    assert own.json()["unit"] == {"id": tree.child.id, "name": "王家湾村"}
    assert own.json()["name"] == "王家湾村委会电脑"
    assert await AuditEntry.filter(action="device.enrol").count() == 1


async def test_enrolment_qr_works_once(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    await make_account("admin1", tree.own, Role.ADMIN)
    admin = await login(client, "admin1")
    token = (await _start(client, SigningDevice())).json()["token"]
    body = {"name": "电脑", "unit_id": tree.own.id}
    assert (await client.post(f"/api/devices/enrolments/{token}/approve", json=body, headers=admin)).status_code == 201
    again = await client.post(f"/api/devices/enrolments/{token}/approve", json=body, headers=admin)
    assert (again.status_code, again.json()["error"]["code"]) == (410, "enrolment_invalid")
    assert await Device.all().count() == 1


async def test_a_pc_cannot_be_enrolled_outside_the_admins_scope_or_by_a_viewer(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    await make_account("admin1", tree.own, Role.ADMIN)
    await make_account("viewer1", tree.own, Role.VIEWER)
    token = (await _start(client, SigningDevice())).json()["token"]
    sibling = await client.post(
        f"/api/devices/enrolments/{token}/approve",
        json={"name": "电脑", "unit_id": tree.sibling.id},
        headers=await login(client, "admin1"),
    )
    assert sibling.status_code == 404
    viewer = await client.post(
        f"/api/devices/enrolments/{token}/approve",
        json={"name": "电脑", "unit_id": tree.own.id},
        headers=await login(client, "viewer1"),
    )
    assert viewer.status_code == 403
    assert await Device.all().count() == 0
    # the QR is still good for the right admin
    preview = await client.get(f"/api/devices/enrolments/{token}", headers=await login(client, "admin1"))
    assert preview.status_code == 200


async def test_enrolment_must_be_signed_by_the_key_it_enrols(client: httpx.AsyncClient) -> None:
    device, other = SigningDevice(), SigningDevice()
    body = {"public_key": device.public_key, "hostname": "PC"}
    forged = await other.request(client, "POST", "/api/devices/enrolments", body)
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "device_signature_invalid")
    bad_key = await device.request(
        client, "POST", "/api/devices/enrolments", {"public_key": "A" * 43, "hostname": "PC"}
    )
    assert bad_key.status_code in (401, 422)


async def test_an_enrolled_key_cannot_enrol_again(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    again = await _start(client, device)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "device_already_enrolled")


async def test_unsigned_stale_replayed_and_tampered_requests_are_refused(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    unsigned = await client.get("/api/devices/self")
    assert (unsigned.status_code, unsigned.json()["error"]["code"]) == (401, "device_signature_invalid")

    headers = device.headers("GET", "/api/devices/self")
    assert (await client.get("/api/devices/self", headers=headers)).status_code == 200
    replayed = await client.get("/api/devices/self", headers=headers)
    assert (replayed.status_code, replayed.json()["error"]["code"]) == (401, "device_request_replayed")

    body = b'{"action":"login"}'
    signed_for_login = device.headers("POST", "/api/pairings", body)
    tampered = await client.post(
        "/api/pairings", content=b'{"action":"bind"}', headers=signed_for_login | {"content-type": "application/json"}
    )
    assert (tampered.status_code, tampered.json()["error"]["code"]) == (401, "device_signature_invalid")
    other_path = await client.get("/api/devices", headers=device.headers("GET", "/api/devices/self"))
    assert other_path.status_code == 401

    stale = device.headers("GET", "/api/devices/self")
    clock.advance(seconds=301)
    old = await client.get("/api/devices/self", headers=stale)
    assert (old.status_code, old.json()["error"]["code"]) == (401, "device_request_stale")


async def test_a_revoked_pc_is_refused_everywhere(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    await make_account("admin1", tree.own, Role.ADMIN)
    admin = await login(client, "admin1")
    device = await enrolled_device(tree.child)
    listed = await client.get("/api/devices", headers=admin)
    assert [d["device_id"] for d in listed.json()["items"]] == [device.device_id]
    device_pk = listed.json()["items"][0]["id"]

    revoked = await client.post(f"/api/devices/{device_pk}/revoke", headers=admin)
    assert revoked.json()["status"] == "revoked"
    own = await device.request(client, "GET", "/api/devices/self")
    assert (own.status_code, own.json()["error"]["code"]) == (403, "device_revoked")
    pairing = await device.request(client, "POST", "/api/pairings", {"action": "login"})
    assert pairing.status_code == 403


async def test_devices_outside_scope_cannot_be_seen_or_revoked(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    await make_account("admin1", tree.own, Role.ADMIN)
    admin = await login(client, "admin1")
    await enrolled_device(tree.sibling)
    foreign = await Device.get()
    assert (await client.get("/api/devices", headers=admin)).json()["items"] == []
    assert (await client.post(f"/api/devices/{foreign.id}/revoke", headers=admin)).status_code == 404
    assert (await Device.get()).status == "active"


async def test_a_timestamp_of_non_ascii_digits_is_refused_not_a_server_error(client: httpx.AsyncClient) -> None:
    tree = await make_tree()
    device = await enrolled_device(tree.own)
    for odd in ("²", "١٧٦٧٦٠٠٠٠٠"):  # str.isdigit() says yes to both; int() refuses the first
        headers = device.headers("GET", "/api/devices/self") | {protocol.HEADER_TIMESTAMP: odd}
        raw = [(name.encode(), value.encode()) for name, value in headers.items()]
        refused = await client.get("/api/devices/self", headers=raw)
        assert (refused.status_code, refused.json()["error"]["code"]) == (401, "device_signature_invalid")
