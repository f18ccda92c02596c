"""Checks of uploaded review images: count, size, and the type read from the content itself.

The file name and the declared content type are ignored: only the leading magic bytes decide, and
Pillow must then open the image as that same format, so a renamed text or GIF file is refused.
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


def _opens_as(data: bytes, signature: Signature) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != signature.pillow_format:
                return False
            image.verify()
    except Exception:  # truncated, corrupt, or too many pixels (decompression bomb)
        return False
    return True


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
        if not _opens_as(data, signature):
            raise _refuse("image_unreadable", msg.IMAGE_UNREADABLE.format(index=index), 422)
        checked.append(CheckedImage(data=data, mime=signature.mime, extension=signature.extension))
    return checked
