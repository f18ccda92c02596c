"""Picture captcha: a PNG with distorted characters; the answer is kept in Redis, used once."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from backend.core import runtime

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
LENGTH = 4
WIDTH, HEIGHT = 120, 44


@dataclass(frozen=True)
class Captcha:
    captcha_id: str
    image_png: bytes
    expires_in: int

    def data_url(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.image_png).decode()


@cache
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=28)


def _render(answer: str) -> bytes:
    rng = secrets.SystemRandom()
    image = Image.new("RGB", (WIDTH, HEIGHT), (245, 247, 250))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        draw.line(
            [(rng.randint(0, WIDTH), rng.randint(0, HEIGHT)), (rng.randint(0, WIDTH), rng.randint(0, HEIGHT))],
            fill=(rng.randint(120, 200), rng.randint(120, 200), rng.randint(120, 200)),
            width=1,
        )
    for index, char in enumerate(answer):
        glyph = Image.new("RGBA", (34, 40), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((4, 2), char, font=_font(), fill=(rng.randint(10, 90), rng.randint(30, 90), 140))
        glyph = glyph.rotate(rng.uniform(-25, 25), resample=Image.Resampling.BICUBIC, expand=False)
        image.paste(glyph, (6 + index * 28, rng.randint(0, 6)), glyph)
    for _ in range(80):
        draw.point((rng.randint(0, WIDTH - 1), rng.randint(0, HEIGHT - 1)), fill=(100, 100, 100))
    image = image.filter(ImageFilter.SMOOTH)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _key(captcha_id: str) -> str:
    return f"captcha:{captcha_id}"


async def issue() -> Captcha:
    rt = runtime.get()
    ttl = rt.settings.captcha_ttl_seconds
    answer = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    captcha_id = secrets.token_urlsafe(18)
    record = json.dumps({"answer": answer, "expires_at": rt.clock.timestamp() + ttl})
    await rt.redis.set(_key(captcha_id), record, ex=ttl + 10)
    image = await asyncio.to_thread(_render, answer)  # drawing takes a few ms: not on the event loop
    return Captcha(captcha_id, image, ttl)


async def check(captcha_id: str, answer: str) -> bool:
    """True once for the right answer before expiry; any check uses the captcha up."""
    if not captcha_id or len(captcha_id) > 64:
        return False
    rt = runtime.get()
    raw = await rt.redis.getdel(_key(captcha_id))
    if raw is None:
        return False
    record = json.loads(raw)
    if rt.clock.timestamp() > record["expires_at"]:
        return False
    typed = unicodedata.normalize("NFKC", answer).strip().upper()  # full-width "ＡＢ３Ｄ" of Chinese input methods
    return typed.isascii() and secrets.compare_digest(record["answer"], typed)  # (it refuses other text)


async def peek_answer(captcha_id: str) -> str | None:
    """Test hook (never mounted in production): the answer, without using the captcha up."""
    raw = await runtime.get().redis.get(_key(captcha_id))
    return None if raw is None else json.loads(raw)["answer"]
