"""SMS verification codes that cannot be abused (R1).

- 6 digits from ``secrets``, valid 5 minutes, single use, kept in Redis only as an HMAC.
- At most 5 wrong tries, then the code is void.
- One send per phone per 60 s and at most 10 per phone per day (a code that surely never went out
  gives its place back: :func:`uncount`), checked and recorded in one Lua script so two parallel
  requests cannot both pass, and checked again against the SMS outbox in
  the database (a Redis restart loses the script's counters; where the flow hides whether a phone
  is known, that check sends nothing rather than refusing); a per-address cap; a picture captcha
  first.
- The caller decides whether a message really goes out (``deliver``): for an unknown phone or
  user name everything else happens the same way, so the answer does not tell them apart.

Times come from the injected clock (passed into the scripts), so tests move time instead of sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import Q

from backend.core import captcha, db, messages, runtime, sms, sms_templates, throttle
from backend.core.actor import Origin
from backend.core.clock import CHINA_TIME
from backend.core.errors import AppError, TooManyRequests
from backend.core.sms import SmsMessage, SmsStatus

CODE_TTL_SECONDS = 5 * 60
RESEND_AFTER_SECONDS = 60
DAILY_LIMIT_PER_PHONE = 10
MAX_WRONG_TRIES = 5
IP_LIMIT_PER_HOUR = 30
_CHINA_OFFSET = CHINA_TIME.utcoffset(None).total_seconds()

PURPOSES = frozenset(
    {
        "password_reset",
        "username_lookup",
        "unit_recovery",
        "first_login",
        "phone_change",
        "registration",
        "agent_login",
        "wechat_login",
        "agent_consent",
    }
)

# KEYS: last-send key, daily counter key. ARGV: now, resend_after, daily_limit, day_ttl.
_GATE = """
local last = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[1])
if last and now - tonumber(last) < tonumber(ARGV[2]) then
  return {-1, math.ceil(tonumber(ARGV[2]) - (now - tonumber(last)))}
end
local sent = tonumber(redis.call('GET', KEYS[2]) or '0')
if sent >= tonumber(ARGV[3]) then
  return {-2, 0}
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]) + 5)
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
return {1, 0}
"""

# KEYS: daily counter key. Takes one off the day's count, never below nothing (a restarted Redis).
_UNCOUNT = """
local sent = tonumber(redis.call('GET', KEYS[1]) or '0')
if sent > 0 then
  redis.call('DECR', KEYS[1])
end
return sent
"""

# KEYS: code key. ARGV: now, candidate hash, max tries, keep. 1 ok, 0 wrong, -1 none/expired, -2 void now.
# A right code kept (``keep``) takes one of the tries there and then: what its step checks next (an ID
# number) may be wrong, and requests sent together must not all pass before any of them counts.
_CHECK = """
local stored = redis.call('HMGET', KEYS[1], 'hash', 'expires_at', 'tries')
if not stored[1] then return -1 end
if tonumber(ARGV[1]) > tonumber(stored[2]) then
  redis.call('DEL', KEYS[1])
  return -1
end
if stored[1] == ARGV[2] then
  if ARGV[4] ~= '1' then
    redis.call('DEL', KEYS[1])
    return 1
  end
  if redis.call('HINCRBY', KEYS[1], 'tries', 1) > tonumber(ARGV[3]) then
    redis.call('DEL', KEYS[1])
    return -2
  end
  return 1
end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
if tries >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  return -2
end
return 0
"""

CODE_WRONG = "短信验证码不正确"
CODE_VOID = "短信验证码已失效，请重新获取"
CODE_COOLDOWN = "验证码发送太频繁，请 {seconds} 秒后再试"
CODE_DAILY_LIMIT = "该手机号今天获取验证码的次数已达上限，请明天再试"


@dataclass(frozen=True)
class SendResult:
    """What every caller answers, whether or not a message went out; ``delivered`` (a code was
    queued for the phone) is for the caller's audit entry only, never in an answer."""

    resend_after: int = RESEND_AFTER_SECONDS
    expires_in: int = CODE_TTL_SECONDS
    delivered: bool = False


def _phone_key(phone: str) -> str:
    return _key_of_index(runtime.get().vault.index("phone", phone))


def _key_of_index(phone_index: str) -> str:
    return phone_index[:32]


def _day(timestamp: float) -> int:
    """The day as the user means it: the date in Beijing."""
    return int((timestamp + _CHINA_OFFSET) // 86400)


def _day_key(phone_key: str, day: int) -> str:
    return f"smscode-day:{phone_key}:{day}"


def _code_hash(purpose: str, phone: str, code: str) -> str:
    key = runtime.get().settings.index_key
    return hmac.new(key, f"smscode:{purpose}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _code_key(purpose: str, phone: str) -> str:
    return f"smscode:{purpose}:{_phone_key(phone)}"


async def still_current(phone: str, code: str) -> bool:
    """Is ``code`` the stored code of ``phone`` for some purpose (a newer request has not replaced
    it)? SMS delivery asks before it sends a code: a replaced one would only count as a wrong try.
    Raises Redis's errors (the caller decides what not knowing means)."""
    purposes = sorted(PURPOSES)
    async with runtime.get().redis.pipeline(transaction=False) as pipe:
        for purpose in purposes:
            pipe.hget(_code_key(purpose, phone), "hash")
        stored = await pipe.execute()
    return any(value == _code_hash(purpose, phone, code) for purpose, value in zip(purposes, stored, strict=True))


async def require_captcha(captcha_id: str | None, captcha_answer: str | None) -> None:
    """The picture captcha of a code request, used up right or wrong; a wrong one raises."""
    if not captcha_id or not captcha_answer or not await captcha.check(captcha_id, captcha_answer):
        raise AppError("captcha_invalid", messages.CAPTCHA_INVALID, fields={"captcha_answer": messages.CAPTCHA_INVALID})


async def uncount(phone_index: str, created_at: datetime) -> None:
    """A code that surely never went out (the gateway refused it, or it was never tried) gives its
    place in the daily cap back: a cadre asking again each minute while the gateway is down must not
    use up the day's codes. The minute's wait stays. Raises Redis's errors."""
    day_key = _day_key(_key_of_index(phone_index), _day(created_at.timestamp()))
    await runtime.get().redis.eval(_UNCOUNT, 1, day_key)


async def _outbox_refusal(phone: str, now: float, day: int) -> TooManyRequests | None:
    """The same cooldown and daily cap, counted from the codes the SMS outbox holds for the phone
    (the database keeps them; Redis's counters start again from nothing after a Redis restart that
    lost them, which would let a phone be sent ten more codes that day); None when they allow one.
    A code that surely never went out counts for the cooldown, not for the cap."""
    day_start = datetime.fromtimestamp(day * 86400 - _CHINA_OFFSET, UTC)
    codes = SmsMessage.filter(
        phone_index=runtime.get().vault.index("phone", phone),
        template__in=sorted(sms_templates.CODE_KEYS),
        created_at__gte=day_start,
    )
    # A failed row whose last attempt could not have reached the gateway (sms_delivery._fail).
    counted = codes.filter(Q(status__not=SmsStatus.FAILED) | Q(needs_status_check=True))
    if await counted.count() >= DAILY_LIMIT_PER_PHONE:
        return TooManyRequests("sms_daily_limit", CODE_DAILY_LIMIT)
    sent = await codes.order_by("-created_at").limit(1).values_list("created_at", flat=True)
    wait = math.ceil(sent[0].timestamp() + RESEND_AFTER_SECONDS - now) if sent else 0
    if wait > 0:
        return TooManyRequests("sms_cooldown", CODE_COOLDOWN.format(seconds=wait), retry_after=wait)
    return None


async def send_code(
    phone: str,
    purpose: str,
    *,
    origin: Origin,
    captcha_id: str | None,
    captcha_answer: str | None,
    deliver: bool,
    captcha_checked: bool = False,
    conceal_recipient: bool = False,
) -> SendResult:
    """Check the limits and the captcha, make a code, and queue the SMS if ``deliver``.

    ``conceal_recipient``: the flow answers an unknown phone as a known one (``deliver`` False).
    Only the outbox knows a known phone's sends after a Redis restart that lost the counters, so its
    refusal there would tell the phones apart: such a phone gets the usual answer and no message
    instead (no code beyond the cap goes out either way; Redis's gate counts this attempt, so the
    next ones are refused for every phone alike).

    ``captcha_checked``: the caller passed :func:`require_captcha` already (it checks a secret, such
    as the password, between the captcha and the code: a wrong captcha must refuse before that)."""
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    rt = runtime.get()
    # The captcha first: a wrong one sends nothing, so it must not count against the address's cap
    # (junk from one address would leave everyone behind it without codes).
    if not captcha_checked:
        await require_captcha(captcha_id, captcha_answer)
    if not await throttle.hit("smscode-ip", origin.ip or "-", limit=IP_LIMIT_PER_HOUR, window_seconds=3600):
        raise TooManyRequests("sms_ip_limit", messages.TOO_MANY_REQUESTS)
    now = rt.clock.timestamp()
    day = _day(now)
    if deliver:  # first: a refusal here must not count in Redis as a code sent
        refusal = await _outbox_refusal(phone, now, day)
        if refusal is not None and not conceal_recipient:
            raise refusal
        deliver = refusal is None
    phone_key = _phone_key(phone)
    status, wait = await rt.redis.eval(
        _GATE,
        2,
        f"smscode-last:{phone_key}",
        _day_key(phone_key, day),
        repr(now),
        RESEND_AFTER_SECONDS,
        DAILY_LIMIT_PER_PHONE,
        2 * 86400,
    )
    if int(status) == -1:
        raise TooManyRequests("sms_cooldown", CODE_COOLDOWN.format(seconds=int(wait)), retry_after=int(wait))
    if int(status) == -2:
        raise TooManyRequests("sms_daily_limit", CODE_DAILY_LIMIT)
    code = f"{secrets.randbelow(10**6):06d}"
    key = _code_key(purpose, phone)
    async with rt.redis.pipeline(transaction=True) as pipe:
        pipe.delete(key)
        pipe.hset(
            key,
            mapping={"hash": _code_hash(purpose, phone, code), "expires_at": repr(now + CODE_TTL_SECONDS), "tries": 0},
        )
        pipe.expire(key, CODE_TTL_SECONDS + 30)
        await pipe.execute()
    if deliver:
        async with db.atomic():
            await sms.queue(
                phone, sms_templates.code_template(purpose), {"code": code, "minutes": str(CODE_TTL_SECONDS // 60)}
            )
    return SendResult(delivered=deliver)


async def check_code(phone: str, purpose: str, code: str, *, keep: bool = False) -> None:
    """Accept the code once; a wrong one counts a try (five void it); raises with a Chinese message.
    ``keep``: the code is right but stays usable (a step that checks more first, then uses it with a
    second call); this check takes one of its tries, whether or not what the step checks next holds."""
    rt = runtime.get()
    candidate = _code_hash(purpose, phone, code.strip())
    result = int(
        await rt.redis.eval(
            _CHECK,
            1,
            _code_key(purpose, phone),
            repr(rt.clock.timestamp()),
            candidate,
            MAX_WRONG_TRIES,
            "1" if keep else "0",
        )
    )
    if result == 1:
        return
    if result == 0:
        raise AppError("sms_code_wrong", CODE_WRONG, fields={"code": CODE_WRONG})
    raise AppError("sms_code_void", CODE_VOID, fields={"code": CODE_VOID})
