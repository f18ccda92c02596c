"""Pairing a phone with an office PC (C3) and the card step that completes it (C4).

The PC (a signed device) creates a pairing and shows its QR; the phone scans and confirms; the PC
asks for a challenge, the card signs it, the server verifies the card and performs the action;
the phone claims its session after a card login. Both sides follow by long-poll.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from backend.accounts.models import Account
from backend.auth import actions as auth_actions
from backend.cards import actions as cards
from backend.cards import messages as card_msg
from backend.cards.models import CardBinding, card_key
from backend.cards.serializers import mask_card_number
from backend.cards.verify import CardHolder, CardRefused, trusted_issuers, verify_card_answer
from backend.core import audit, db, runtime, throttle
from backend.core.actor import Actor, Origin
from backend.core.crypto import sha256_hex
from backend.core.errors import AppError, Forbidden, TooManyRequests, Unauthorized
from backend.devices.models import Device, DeviceStatus
from backend.pairing import messages as msg
from backend.pairing import store
from card_service import protocol

PAIRING_TTL_SECONDS = 120
CONFIRM_WINDOW_SECONDS = 300  # from the scan: confirm, enter the PIN, let the card sign
NONCE_TTL_SECONDS = 300
USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
# Pairings one PC may open in 10 minutes: its window opens one per QR code shown (one every 2
# minutes while it waits, a few more when retried); a PC in a loop, or a stolen key, is stopped.
PAIRINGS_PER_DEVICE, PAIRING_WINDOW_SECONDS = 30, 600
ACTION_LABELS = {"login": "卡登录", "bind": "绑定IC卡", "realname": "实名认证"}
NEEDS_SESSION = frozenset({"bind", "realname"})
DONE_MESSAGES = {"login": card_msg.LOGIN_DONE, "bind": card_msg.BIND_DONE, "realname": card_msg.REALNAME_DONE}
REFUSAL_AUDIT = {"login": "auth.login", "bind": "card.bind", "realname": "profile.realname"}


def _user_code() -> str:
    letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
    return f"{letters[:4]}-{letters[4:]}"


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def view(record: dict[str, Any]) -> dict[str, Any]:
    """The pairing as both the PC and the phone see it (no keys, no ids of the server's own)."""
    return {
        "pairing_id": record["pairing_id"],
        "state": record["state"],
        "version": record["version"],
        "action": record["action"],
        "action_label": ACTION_LABELS[record["action"]],
        "user_code": record["user_code"],
        "expires_at": _iso(record["expires_at"]),
        "device": {"name": record["device_name"], "unit": {"id": record["unit_id"], "name": record["unit_name"]}},
        "confirmed_by": record.get("confirmed_by"),
        "result": record.get("result"),
        "error": record.get("error"),
    }


def _gone() -> AppError:
    return AppError("pairing_invalid", msg.PAIRING_INVALID, status=410)


async def _for_device(device: Device, pairing_id: str) -> dict[str, Any]:
    record = await store.load(pairing_id) if len(pairing_id) <= 64 else None
    if record is None or record["device_id"] != device.device_id:
        raise _gone()
    return record


async def _for_phone(pairing_id: str, phone_key: str) -> dict[str, Any]:
    record = await store.load(pairing_id) if len(pairing_id) <= 64 else None
    if record is None or not record.get("phone_key_hash"):
        raise _gone()
    if not hmac.compare_digest(record["phone_key_hash"], sha256_hex(phone_key)):
        raise Forbidden("pairing_key_invalid", msg.PAIRING_KEY_INVALID)
    return record


# PC side ----------------------------------------------------------------------------------------


async def create(device: Device, *, action: str) -> tuple[dict[str, Any], str]:
    """A new pairing for ``action``; returns it and its single-use QR token."""
    if not await throttle.hit(
        "pairing-device", device.device_id, limit=PAIRINGS_PER_DEVICE, window_seconds=PAIRING_WINDOW_SECONDS
    ):
        raise TooManyRequests("pairing_throttled", msg.TOO_MANY_PAIRINGS)
    rt = runtime.get()
    now = rt.clock.timestamp()
    token = secrets.token_urlsafe(24)  # 192 bits
    record = {
        "pairing_id": secrets.token_urlsafe(18),
        "device_id": device.device_id,
        "device_name": device.name,
        "unit_id": device.unit.id,
        "unit_name": device.unit.name,
        "unit_path": device.unit.path,
        "action": action,
        "user_code": _user_code(),
        "state": "created",
        "version": 1,
        "created_at": now,
        "expires_at": now + PAIRING_TTL_SECONDS,
        "phone_key_hash": None,
        "account_id": None,
        "confirmed_by": None,
        "result": None,
        "error": None,
        "result_account_id": None,
        "result_card_key": None,  # the card a login was done with (card_key): its session records it
        "token_key": store.token_key(token),  # used up when the PC cancels
    }
    await store.create(record, token=token, ttl_seconds=PAIRING_TTL_SECONDS)
    await Device.filter(id=device.id).update(last_seen_at=rt.clock.now())
    return record, token


async def events_for_device(device: Device, pairing_id: str, *, since: int, wait: float) -> dict[str, Any]:
    current = await _for_device(device, pairing_id)
    record = await store.wait_for_change(pairing_id, since=since, wait=wait, current=current)
    if record is None:
        raise _gone()
    return record


async def challenge(device: Device, pairing_id: str) -> dict[str, Any]:
    """A fresh nonce for the card, bound to this device, pairing and action; and what to sign."""
    record = await _for_device(device, pairing_id)
    _require_confirmed(record)
    rt = runtime.get()
    nonce = protocol.b64url(secrets.token_bytes(32))
    expires_at = rt.clock.timestamp() + NONCE_TTL_SECONDS
    binding = {
        "device_id": device.device_id,
        "pairing_id": pairing_id,
        "action": record["action"],
        "expires_at": expires_at,
    }
    await rt.redis.set(_nonce_key(nonce), json.dumps(binding), ex=NONCE_TTL_SECONDS + 30)
    context = protocol.card_context(action=record["action"], device=device.device_id, pairing=pairing_id, nonce=nonce)
    return {"nonce": nonce, "to_sign": protocol.b64url(context), "slot": "9a", "expires_at": _iso(expires_at)}


async def cancel_by_device(device: Device, pairing_id: str) -> dict[str, Any]:
    """The PC dropped the pairing (its user cancelled, the card was pulled, the QR went unscanned):
    it ends as cancelled with a reason the phone shows, and its QR no longer scans. One that has
    already ended is answered as it is, unchanged (the PC may send this twice)."""
    record = await _for_device(device, pairing_id)
    error = {"code": "pairing_cancelled_by_device", "message": msg.CANCELLED_BY_DEVICE}
    _, record = await store.transition(
        pairing_id,
        allowed=("created", "scanned", "confirmed"),
        changes={"state": "cancelled", "error": error},
        consume_key=record.get("token_key") or "",
    )
    if record is None:
        raise _gone()
    return record


def _require_confirmed(record: dict[str, Any]) -> None:
    """The card step needs a confirmed pairing; one that has ended (cancelled, expired, done, failed)
    is over for the PC, which starts a new one."""
    if record["state"] in store.FINAL_STATES:
        raise _gone()
    if record["state"] != "confirmed":
        raise AppError("pairing_not_confirmed", msg.NOT_CONFIRMED, status=409)


def _nonce_key(nonce: str) -> str:
    return f"card-nonce:{sha256_hex(nonce)}"


async def _take_nonce(nonce: str, *, device: Device, record: dict[str, Any]) -> str:
    """Single use: the nonce is gone after this (given back only when nothing was kept); returns
    what was kept under it."""
    rt = runtime.get()
    raw = await rt.redis.getdel(_nonce_key(nonce)) if 0 < len(nonce) <= 64 else None
    binding = json.loads(raw) if raw else None
    if (
        binding is None
        or rt.clock.timestamp() > binding["expires_at"]
        or binding["device_id"] != device.device_id
        or binding["pairing_id"] != record["pairing_id"]
        or binding["action"] != record["action"]
    ):
        raise CardRefused("card_nonce_invalid", card_msg.NONCE_INVALID)
    assert raw is not None  # a binding was read from it
    return raw


class _MovedOn(Exception):
    """The pairing left ``confirmed`` (cancelled, expired) while its card was being checked."""


async def submit_card(
    device: Device,
    pairing_id: str,
    *,
    nonce: str,
    certificate: bytes,
    chain: list[bytes],
    signature: bytes,
    origin: Origin,
) -> dict[str, Any]:
    """Verify the card's answer and perform the pairing's action; the pairing ends done or failed."""
    record = await _for_device(device, pairing_id)
    origin = replace(origin, device=device.device_id)  # the card's entries name the PC that read it
    taken = await _take_nonce(nonce, device=device, record=record)
    _require_confirmed(record)
    rt = runtime.get()
    # One card answer per pairing is worked on: with two challenges out, a second answer arriving
    # before the first has finished must not perform the action again.
    working = f"pairing-card:{pairing_id}"
    if not await rt.redis.set(working, "1", nx=True, ex=CONFIRM_WINDOW_SECONDS):
        raise AppError("pairing_state", msg.STATE_CHANGED, status=409)
    # The context is rebuilt from the server's own records: a signature made for another action,
    # device, pairing or nonce does not verify.
    context = protocol.card_context(action=record["action"], device=device.device_id, pairing=pairing_id, nonce=nonce)
    marking = False  # the move to done has been sent
    try:
        holder = verify_card_answer(
            certificate=certificate,
            chain=chain,
            signature=signature,
            context=context,
            roots=trusted_issuers(rt.settings.card_issuer_ca),
            now=rt.clock.now(),
        )
        # The action counts only together with the move to done: should the phone cancel or the
        # pairing expire meanwhile, it is rolled back.
        async with db.atomic():
            result, account_id = await _perform(record, holder, origin=origin)
            marking = True
            done, final = await store.transition(
                pairing_id,
                allowed=("confirmed",),
                changes={
                    "state": "done",
                    "result": result,
                    "result_account_id": account_id,
                    "result_card_key": card_key(holder.issuer, holder.card_number),
                },
            )
            if not done or final is None:
                raise _MovedOn()
        return final
    except _MovedOn:
        raise _gone() from None
    except AppError as exc:
        error = {"code": exc.code, "message": exc.message}
        await store.transition(pairing_id, allowed=("confirmed",), changes={"state": "failed", "error": error})
        await _record_refusal(record, exc.code, origin=origin)
        raise
    except BaseException:  # a server error, or the handler cancelled (the PC hung up, a response timeout)
        if marking:  # possibly marked done, then the commit failed: nothing was kept, the pairing failed
            error = {"code": "pairing_failed", "message": msg.NOT_SAVED}
            await store.transition(pairing_id, allowed=("done",), changes={"state": "failed", "error": error})
        else:  # nothing was kept: the PC resends this very answer (a 5xx is a lost answer to it)
            await rt.redis.set(_nonce_key(nonce), taken, ex=NONCE_TTL_SECONDS + 30, nx=True)
        await rt.redis.delete(working)  # the PC may try again (if the pairing is still confirmed)
        raise


async def _record_refusal(record: dict[str, Any], code: str, *, origin: Origin) -> None:
    """A refused card is audited as a failed login, binding or real-name check at the PC's unit."""
    account_id = record["account_id"] if record["action"] in NEEDS_SESSION else None
    async with db.atomic():
        await audit.record(
            REFUSAL_AUDIT[record["action"]],
            origin=origin,
            outcome="failure",
            account_id=account_id,
            scope_path=record["unit_path"],
            target_type="account" if account_id else None,
            target_id=account_id,
            detail={"method": "card", "reason": code},
        )


async def _perform(record: dict[str, Any], holder: CardHolder, *, origin: Origin) -> tuple[dict[str, Any], int]:
    action = record["action"]
    created: list[str] = []
    if action == "login":
        login = await cards.login_by_card(holder, device_unit_path=record["unit_path"], origin=origin)
        account, created = login.account, login.created
    elif action == "bind":
        account = await cards.bind_card(
            record["account_id"], holder, device_unit_path=record["unit_path"], origin=origin
        )
    else:
        account = await cards.realname_by_card(record["account_id"], holder, origin=origin)
    result = {
        "message": DONE_MESSAGES[action],
        "account": {"id": account.id, "username": account.username, "name": account.name},
        "created": created or None,
        "card": {
            "number": mask_card_number(holder.card_number),
            "kind": holder.kind,
            "kind_label": card_msg.KIND_LABELS[holder.kind],
        },
    }
    return result, account.id


# Phone side -------------------------------------------------------------------------------------


def same_branch(actor: Actor, unit_path: str) -> bool:
    """The device's unit contains the actor's unit, or the actor's scope contains the device's."""
    return actor.unit_path.startswith(unit_path) or unit_path.startswith(actor.unit_path)


async def scan(token: str, *, actor: Actor | None) -> tuple[dict[str, Any], str]:
    """The phone scanned the QR: it learns what it is pairing with and gets its own key."""
    pairing_id = await store.pairing_for_token(token) if 0 < len(token) <= 64 else None
    record = await store.load(pairing_id) if pairing_id else None
    if record is None or record["state"] != "created":
        raise _gone()
    if record["action"] in NEEDS_SESSION and actor is None:
        raise Unauthorized("login_required", msg.LOGIN_REQUIRED)
    if actor is not None and not same_branch(actor, record["unit_path"]):
        raise Forbidden("pairing_outside_scope", msg.OUTSIDE_SCOPE)
    if not await _device_active(record):
        raise _device_revoked()
    phone_key = secrets.token_urlsafe(24)
    now = runtime.get().clock.timestamp()
    moved, record = await store.transition(
        record["pairing_id"],
        allowed=("created",),
        changes={
            "state": "scanned",
            "phone_key_hash": sha256_hex(phone_key),
            "account_id": actor.account_id if actor else None,
            "expires_at": now + CONFIRM_WINDOW_SECONDS,
        },
        consume_key=store.token_key(token),
        ttl_seconds=CONFIRM_WINDOW_SECONDS,
    )
    if not moved or record is None:  # another phone was quicker, or it expired meanwhile
        raise _gone()
    return record, phone_key


async def _device_active(record: dict[str, Any]) -> bool:
    return await Device.filter(device_id=record["device_id"], status=DeviceStatus.ACTIVE).exists()


def _device_revoked() -> AppError:
    return Forbidden("device_revoked", msg.DEVICE_REVOKED)


async def confirm(pairing_id: str, phone_key: str) -> dict[str, Any]:
    record = await _for_phone(pairing_id, phone_key)
    if record["state"] == "scanned" and not await _device_active(record):
        # revoked since the scan: the card can never be read there; both sides see the pairing end
        error = {"code": "device_revoked", "message": msg.DEVICE_REVOKED}
        await store.transition(pairing_id, allowed=("scanned",), changes={"state": "failed", "error": error})
        raise _device_revoked()
    confirmed_by = None
    if record["account_id"] is not None:
        account = await Account.get(id=record["account_id"])
        confirmed_by = {"name": account.name, "username": account.username}
    moved, record = await store.transition(
        pairing_id, allowed=("scanned",), changes={"state": "confirmed", "confirmed_by": confirmed_by}
    )
    if not moved or record is None:
        raise AppError("pairing_state", msg.STATE_CHANGED, status=409)
    return record


async def cancel(pairing_id: str, phone_key: str) -> dict[str, Any]:
    await _for_phone(pairing_id, phone_key)
    moved, record = await store.transition(pairing_id, allowed=("scanned", "confirmed"), changes={"state": "cancelled"})
    if not moved or record is None:
        raise AppError("pairing_state", msg.STATE_CHANGED, status=409)
    return record


async def events_for_phone(pairing_id: str, phone_key: str, *, since: int, wait: float) -> dict[str, Any]:
    current = await _for_phone(pairing_id, phone_key)
    if current["state"] not in store.FINAL_STATES and not await _device_active(current):
        # revoked meanwhile: the PC can neither send the card nor cancel, so the phone is told here
        error = {"code": "device_revoked", "message": msg.DEVICE_REVOKED}
        _, failed = await store.transition(
            pairing_id, allowed=("created", "scanned", "confirmed"), changes={"state": "failed", "error": error}
        )
        current = failed or current
    record = await store.wait_for_change(pairing_id, since=since, wait=wait, current=current)
    if record is None:
        raise _gone()
    return record


async def claim(pairing_id: str, phone_key: str, *, origin: Origin) -> auth_actions.LoginResult:
    """After a card login: the phone's session, once."""
    record = await _for_phone(pairing_id, phone_key)
    if record["action"] != "login" or record["state"] != "done":
        raise AppError("pairing_not_done", msg.NOT_DONE, status=409)
    redis = runtime.get().redis
    # The mark outlives the pairing (kept CONFIRM_WINDOW_SECONDS + KEEP_AFTER_EXPIRY_SECONDS from the scan).
    kept = CONFIRM_WINDOW_SECONDS + store.KEEP_AFTER_EXPIRY_SECONDS
    mark = f"pairing-claimed:{pairing_id}"
    if not await redis.set(mark, "1", nx=True, ex=kept):
        raise _gone()
    started = runtime.get().clock.timestamp()  # before the account is read (auth_actions.start_session)
    account = await Account.get_or_none(id=record["result_account_id"])
    if account is None:  # done is published just before the commit: not in yet (or it failed)
        await redis.delete(mark)  # the phone may claim again
        raise AppError("pairing_not_done", msg.NOT_DONE, status=409)
    if not account.is_active:
        raise Forbidden("card_account_inactive", card_msg.ACCOUNT_INACTIVE)
    if not await cards.is_member(account.id, within=record["unit_path"]):  # moved out since the login (C3)
        raise Forbidden("card_account_outside_unit", card_msg.ACCOUNT_OUTSIDE_UNIT)
    key = record.get("result_card_key")  # None: a login done before sessions kept their card
    if key is not None:
        binding = await CardBinding.get_or_none(account_id=account.id)
        if binding is None:  # not committed yet (done is published just before), or unbound since
            await redis.delete(mark)
            raise AppError("pairing_not_done", msg.NOT_DONE, status=409)
        if card_key(binding.issuer, binding.card_number) != key:
            # The holder's newer card took the binding over since this login was done: the
            # replacement ended the old card's sessions, and this one, not started yet, escaped it.
            await redis.delete(mark)
            raise Forbidden("card_replaced", card_msg.CARD_REPLACED)
    try:
        return await auth_actions.start_session(account, origin=origin, started_at=started, method="card", card_key=key)
    except BaseException:  # no session was handed out: the phone may claim again
        await redis.delete(mark)
        raise
