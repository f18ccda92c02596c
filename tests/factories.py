"""Test data written straight to the database (set-up, not the behaviour under test), and login."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from tortoise.backends.base.client import BaseDBAsyncClient

from backend.accounts import people
from backend.accounts.models import Account, Membership
from backend.cards.models import CardBinding
from backend.core import db, runtime
from backend.core.actor import Actor, Origin
from backend.core.passwords import hash_password_sync
from backend.core.roles import FinanceAccess, Role
from backend.units.models import Unit, UnitType
from backend.wechat.models import WechatIdentity

PASSWORD = "Cunwu#2026ok"
_serial = itertools.count(1)
_HASH_CACHE: dict[str, str] = {}


def _hash(password: str) -> str:
    if password not in _HASH_CACHE:
        _HASH_CACHE[password] = hash_password_sync(password)
    return _HASH_CACHE[password]


async def make_unit(
    name: str, unit_type: UnitType = UnitType.TOWNSHIP, parent: Unit | None = None, region_code: str | None = None
) -> Unit:
    now = runtime.get().clock.now()
    unit = await Unit.create(
        parent_id=parent.id if parent else None,
        name=name,
        type=unit_type,
        region_code=region_code,
        path="",
        depth=parent.depth + 1 if parent else 0,
        created_at=now,
        updated_at=now,
    )
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    await unit.save(update_fields=["path"])
    return unit


def phone_for(n: int) -> str:
    return f"138{n:08d}"


async def make_account(
    username: str,
    unit: Unit | None,
    role: Role = Role.VIEWER,
    *,
    password: str = PASSWORD,
    must_change: bool = False,
    phone: str | None = None,
    finance: FinanceAccess = FinanceAccess.NONE,
    phone_login: bool = True,
) -> Account:
    rt = runtime.get()
    now = rt.clock.now()
    phone = phone or phone_for(next(_serial))
    account = await Account.create(
        username=username,
        username_key=username.lower(),
        name=f"测试{username}",
        phone_enc=rt.vault.encrypt("account.phone", phone),
        phone_index=rt.vault.index("phone", phone),
        login_phone_index=rt.vault.index("phone", phone) if phone_login else None,
        password_hash=_hash(password),
        must_change_password=must_change,
        created_at=now,
        updated_at=now,
    )
    if unit is not None:
        await Membership.create(
            account_id=account.id, unit_id=unit.id, role=role, finance_access=finance, created_at=now
        )
    return account


async def captcha(client: httpx.AsyncClient, ip: str = "10.0.0.1") -> tuple[str, str]:
    issued = await client.get("/api/auth/captcha", headers={"X-Forwarded-For": ip})
    assert issued.status_code == 200, issued.text
    captcha_id = issued.json()["captcha_id"]
    answer = (await client.get(f"/api/dev/captcha/{captcha_id}")).json()["answer"]
    return captcha_id, answer


async def login_response(
    client: httpx.AsyncClient, login: str, password: str = PASSWORD, ip: str = "10.0.0.1"
) -> httpx.Response:
    captcha_id, answer = await captcha(client, ip)
    return await client.post(
        "/api/auth/login",
        json={"login": login, "password": password, "captcha_id": captcha_id, "captcha_answer": answer},
        headers={"X-Forwarded-For": ip},
    )


async def login(client: httpx.AsyncClient, login_name: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in and return the Authorization header of the new session."""
    response = await login_response(client, login_name, password)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@dataclass
class Tree:
    """Four units around an actor: its parent, its own unit, a child, and a sibling."""

    parent: Unit
    own: Unit
    child: Unit
    sibling: Unit


async def make_tree() -> Tree:
    parent = await make_unit("青山县", UnitType.COUNTY, region_code="530101000000")
    own = await make_unit("白沙镇", UnitType.TOWNSHIP, parent, region_code="530101001000")
    child = await make_unit("王家湾村", UnitType.VILLAGE, own, region_code="530101001001")
    sibling = await make_unit("桃源乡", UnitType.TOWNSHIP, parent, region_code="530101002000")
    return Tree(parent=parent, own=own, child=child, sibling=sibling)


async def bind_wechat(account_id: int, openid: str, appid: str = "wx-test") -> None:
    """The account's person has bound a WeChat identity (the row the bind action leaves)."""
    await WechatIdentity.create(account_id=account_id, appid=appid, openid=openid, created_at=runtime.get().clock.now())


async def bind_card(account_id: int, card_number: str, kind: str = "operator") -> None:
    """The account's person has bound a smart card (the row the card bind leaves; no real card)."""
    await CardBinding.create(
        account_id=account_id, issuer="i", card_number=card_number, kind=kind,
        holder_id_index="x", certificate_sha256="x", bound_at=runtime.get().clock.now(),
    )  # fmt: skip


def phone_login_taken_after_the_check(monkeypatch, other_id: int) -> None:
    """Make account ``other_id`` switch phone login on for the checked phone right after
    people.phone_login_free looked: the race a parallel request can win."""
    from backend.accounts import people

    checked = people.phone_login_free

    async def taken_just_after_the_check(phone: str, **kwargs: object) -> bool:
        free = await checked(phone, **kwargs)
        await Account.filter(id=other_id).update(login_phone_index=runtime.get().vault.index("phone", phone))
        return free

    monkeypatch.setattr(people, "phone_login_free", taken_just_after_the_check)


def once_both_arrived(call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """``call``, made to wait until a second request has also reached it (two requests past every
    check made before it at once), or a second when the second request cannot get there."""
    arrived = asyncio.Event()
    count = 0

    async def held(*args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        if count == 2:
            arrived.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrived.wait(), timeout=1)
        return await call(*args, **kwargs)

    return held


def commits_just_before_the_next_transaction(monkeypatch, other: Callable[[], Awaitable[object]]) -> None:
    """Run ``other`` (another admin's change) to its commit just as the next transaction opens: after
    the first reads or checks of the action under test, before its write (the window two requests
    can share)."""
    atomic = db.atomic
    pending = [other]

    @asynccontextmanager
    async def other_commits_first() -> AsyncIterator[BaseDBAsyncClient]:
        if pending:
            await pending.pop()()
        async with atomic() as connection:
            yield connection

    monkeypatch.setattr(db, "atomic", other_commits_first)


def admin_actor(account: Account, membership: Membership, unit: Unit) -> Actor:
    """The actor of an admin account in ``unit``, for calling actions directly."""
    return Actor(
        account.id,
        account.username,
        "s",
        membership.id,
        unit.id,
        unit.path,
        unit.depth,
        Role.ADMIN,
        FinanceAccess.NONE,
        Origin(),
    )


def fail_once(monkeypatch, owner: Any, name: str, exc: BaseException) -> list[int]:
    """Make ``owner.name`` (a coroutine function) raise ``exc`` on its first call only (an outage
    that passes); the list counts the calls."""
    original = getattr(owner, name)
    calls: list[int] = []

    async def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise exc
        return await original(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing)
    return calls


def first_look_made_before_the_commit(monkeypatch, look: str, answer: Callable[..., Any]) -> None:
    """The first call of ``people.<look>`` answers ``answer(...)``: what it found just before the
    other request committed (the commit lands between the look and the write)."""
    real = getattr(people, look)
    calls = 0

    async def looked_before(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return answer(*args, **kwargs) if calls == 1 else await real(*args, **kwargs)

    monkeypatch.setattr(people, look, looked_before)


def phone_login_taken_meanwhile(monkeypatch, holder: Account, phone: str) -> str:
    """``holder`` switches phone login on for ``phone`` between the action's look (it found the phone
    free) and its write; answers the phone's index."""
    first_look_made_before_the_commit(monkeypatch, "phone_login_free", lambda phone, **kwargs: True)
    index = runtime.get().vault.index("phone", phone)

    async def holder_switches_it_on() -> None:
        await Account.filter(id=holder.id).update(login_phone_index=index)

    commits_just_before_the_next_transaction(monkeypatch, holder_switches_it_on)
    return index


# The start of a script for a process of its own in which the first opening of the SQLite database
# says "opening the database" and waits there until the process is stopped (a slow disk, a busy file):
# the script's own lines after it run the command under test.
FIRST_SQLITE_OPEN_HELD = """
import asyncio, sys
from tortoise.backends.sqlite.client import SqliteClient

_open = SqliteClient.create_connection
_held = False

async def create_connection(self, with_db):
    global _held
    if not _held:
        _held = True
        print("opening the database", flush=True)
        await asyncio.Event().wait()
    await _open(self, with_db)

SqliteClient.create_connection = create_connection
"""


async def stopped_at_first_open(args: list[str], env: dict[str, str], log_path: Any, stop: int) -> tuple[int, str]:
    """Run ``python args...`` (a script starting with :data:`FIRST_SQLITE_OPEN_HELD`) until it says it
    is opening the database, then send it ``stop`` (a signal number): its exit status and its log."""
    import signal
    import subprocess
    import sys

    from tests.test_jobs_worker import _true
    from tests.test_sms_delivery import _until

    with log_path.open("w") as log_file:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *args, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            assert await _until(
                lambda: _true(proc.returncode is not None or "opening the database" in log_path.read_text()),
                seconds=30,
            ), log_path.read_text()
            assert proc.returncode is None, log_path.read_text()
            proc.send_signal(signal.Signals(stop))
            return await asyncio.wait_for(proc.wait(), 20), log_path.read_text()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
