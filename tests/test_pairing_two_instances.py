"""C3 across instances: the PC and the phone talk to two separate backend processes that share the
database and Redis, as behind a load balancer; long-polls on one wake on changes made on the other,
and a card login finished on one gives the phone a session on the other."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from backend.core import redis as redis_module
from backend.core.config import Settings
from card_service.fakes.card_ca import CardAuthority
from tests.card_helpers import enrolled_device, issue_card, qr_token
from tests.conftest import free_port
from tests.factories import make_tree
from tests.test_card_auth import coop_with_code, identity


def _redis_url(settings: Settings) -> str:
    if settings.redis_url:
        return settings.redis_url
    return f"unix://{redis_module._embedded.socket_file}?db=0"


def _spawn(settings: Settings, tmp: Path, name: str, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "APP_ENV": "test",
        "VAR_DIR": str(tmp / name),
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": _redis_url(settings),
        "DATA_KEY": base64.b64encode(settings.data_key).decode(),
        "INDEX_KEY": base64.b64encode(settings.index_key).decode(),
        "CARD_ISSUER_CA": str(settings.card_issuer_ca),
        "HASH_WORKERS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "backend", "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _start_instance(settings: Settings, tmp: Path, name: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = _spawn(settings, tmp, name, port)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=base) as probe:
        while time.monotonic() < deadline:
            try:
                if (await probe.get("/healthz")).status_code == 200:
                    return process, base
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    process.kill()
    raise AssertionError(f"backend instance {name} did not start")


@pytest.fixture
async def two_instances(
    settings: Settings, tmp_path: Path, card_authority: CardAuthority
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    started = [await _start_instance(settings, tmp_path, name) for name in ("a", "b")]
    try:
        async with (
            httpx.AsyncClient(base_url=started[0][1], timeout=30) as first,
            httpx.AsyncClient(base_url=started[1][1], timeout=30) as second,
        ):
            yield first, second
    finally:
        for process, _ in started:
            process.terminate()
            process.wait(timeout=10)


async def test_pc_and_phone_on_two_backend_processes_pair_and_log_in(
    two_instances: tuple[httpx.AsyncClient, httpx.AsyncClient], card_authority: CardAuthority
) -> None:
    pc_side, phone_side = two_instances
    tree = await make_tree()
    coop = await coop_with_code(tree.child)
    device = await enrolled_device(tree.own)
    device.timestamp = time.time()  # the instances run on the real clock
    card = issue_card(card_authority, identity(coop, kind="legal_rep", card="88005678"), now=datetime.now(UTC))

    async def signed(method: str, path: str, payload: object = None) -> httpx.Response:
        device.timestamp = time.time()
        return await device.request(pc_side, method, path, payload)

    created = await signed("POST", "/api/pairings", {"action": "login"})
    assert created.status_code == 201, created.text
    pairing = created.json()
    pairing_id = pairing["pairing_id"]

    pc_wait = asyncio.create_task(signed("GET", f"/api/pairings/{pairing_id}/events?since=1&wait=20"))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    scanned = await phone_side.post("/api/pairings/scan", json={"token": qr_token(pairing)})
    assert scanned.status_code == 200, scanned.text
    phone_key = scanned.json()["phone_key"]
    seen = await asyncio.wait_for(pc_wait, timeout=15)
    assert seen.json()["state"] == "scanned"
    assert time.monotonic() - started < 4  # woken through Redis pub/sub, not by a timeout

    phone_wait = asyncio.create_task(
        phone_side.get(f"/api/pairings/{pairing_id}/phone-events?since=3&wait=20", headers={"X-Pairing-Key": phone_key})
    )
    confirmed = await phone_side.post(f"/api/pairings/{pairing_id}/confirm", json={"phone_key": phone_key})
    assert confirmed.json()["state"] == "confirmed"
    challenge = await signed("POST", f"/api/pairings/{pairing_id}/challenge")
    done = await signed("POST", f"/api/pairings/{pairing_id}/card", card.answer(challenge.json()))
    assert done.json()["state"] == "done", done.text
    assert (await asyncio.wait_for(phone_wait, timeout=15)).json()["state"] == "done"

    claimed = await phone_side.post(f"/api/pairings/{pairing_id}/claim", json={"phone_key": phone_key})
    assert claimed.status_code == 200, claimed.text
    token = claimed.json()["token"]
    for side in (phone_side, pc_side):  # the session lives in the shared Redis
        assert (await side.get("/api/session", headers={"Authorization": f"Bearer {token}"})).status_code == 200
