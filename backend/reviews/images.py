"""Checks of uploaded review images: count, size, and the type read from the content itself.

The file name and the declared content type are ignored: only the leading magic bytes decide, and
Pillow must then open the image as that same format, so a renamed text or GIF file is refused. A PNG
is verified chunk by chunk; a JPEG is decoded at an eighth of its size (``verify`` checks nothing
for JPEG; a baseline one then needs a few megabytes), so half a photo or a header in front of other
content is refused too. At most :data:`MAX_PIXELS`: a few kilobytes of PNG can hold a hundred
million pixels, which Pillow only warns about, and the reviewer's phone would decode to hundreds of
megabytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from backend.core.errors import AppError
from backend.reviews import messages as msg

MAX_IMAGES = 3
MAX_IMAGE_BYTES = 4 * 1024 * 1024
MAX_TEXT_BYTES = 64 * 1024  # the text fields and the multipart framing
MAX_BODY_BYTES = MAX_IMAGES * MAX_IMAGE_BYTES + MAX_TEXT_BYTES
MAX_PIXELS = 50_000_000  # a 48-megapixel phone photo passes
# A progressive JPEG holds all its coefficients while decoding, even at an eighth of its size (300 MB
# for 48 megapixels): larger ones (phones write baseline JPEG) are checked as before, not decoded.
MAX_PROGRESSIVE_DECODED_PIXELS = 16_000_000
# Pillow's own bomb check warns above 89 million pixels (into the server's log) and refuses above
# 179 million; MAX_PIXELS is checked from the header before anything is decoded, far below both.
Image.MAX_IMAGE_PIXELS = None


@dataclass(frozen=True)
class Signature:
    magic: bytes
    mime: str
    extension: str
    pillow_format: str


SIGNATURES = (
    Signature(b"\xff\xd8\xff", "image/jpeg", "jpg", "JPEG"),
    Signature(b"\x89PNG\r\n\x1a\n", "image/png", "png", "PNG"),
)


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    mime: str
    extension: str


def sniff(data: bytes) -> Signature | None:
    return next((s for s in SIGNATURES if data.startswith(s.magic)), None)


def _opens_as(data: bytes, signature: Signature) -> tuple[int, int] | None:
    """The image's size when it opens as ``signature``'s format and its content reads; else None."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != signature.pillow_format:
                return None
            size = image.size
            if size[0] * size[1] > MAX_PIXELS:
                return size  # refused by the caller, without decoding it
            if signature.pillow_format == "JPEG":
                if not image.info.get("progressive") or size[0] * size[1] <= MAX_PROGRESSIVE_DECODED_PIXELS:
                    image.draft(image.mode, (max(1, size[0] // 8), max(1, size[1] // 8)))
                    image.load()
            else:
                image.verify()
    except Exception:  # truncated, corrupt, or far too many pixels (Pillow's own bomb limit)
        return None
    return size


def _refuse(code: str, message: str, status: int) -> AppError:
    return AppError(code, message, status=status, fields={"images": message})


def check_images(blobs: list[bytes]) -> list[CheckedImage]:
    """1 to 3 JPG/PNG images of at most 4 MB each; anything else raises with a Chinese message."""
    if not 1 <= len(blobs) <= MAX_IMAGES:
        raise _refuse("image_count", msg.IMAGE_COUNT, 422)
    checked = []
    for index, data in enumerate(blobs, start=1):
        if len(data) > MAX_IMAGE_BYTES:
            raise _refuse("image_too_large", msg.IMAGE_TOO_LARGE.format(index=index), 413)
        signature = sniff(data)
        if signature is None:
            raise _refuse("image_type_not_allowed", msg.IMAGE_TYPE.format(index=index), 422)
        size = _opens_as(data, signature)
        if size is None:
            raise _refuse("image_unreadable", msg.IMAGE_UNREADABLE.format(index=index), 422)
        if size[0] * size[1] > MAX_PIXELS:
            raise _refuse("image_too_many_pixels", msg.IMAGE_TOO_MANY_PIXELS.format(index=index), 422)
        checked.append(CheckedImage(data=data, mime=signature.mime, extension=signature.extension))
    return checked
