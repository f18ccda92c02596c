"""R5, reviewed adversarially: what a hostile or broken upload and a racing decision must not get through."""

from __future__ import annotations

import io

from PIL import Image

from backend.reviews.models import ReviewRequest
from tests.test_reviews import Env, empty_uploads, env, jpeg, png, stored_files, submit

__all__ = ["empty_uploads", "env"]  # the fixtures, shared with test_reviews


def huge_png(width: int, height: int) -> bytes:
    """A few kilobytes on the wire, ``width`` x ``height`` pixels once decoded (an image bomb)."""
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def photo_jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((400, 300), 50).convert("RGB").save(out, format="JPEG")
    return out.getvalue()


async def test_an_image_of_eighty_million_pixels_in_a_few_kilobytes_is_refused(client, env: Env):
    """Pillow refuses only above 179 million pixels (and merely warns above 89 million): the bomb was
    stored and sent to the reviewer's phone, which decodes it to over 300 MB."""
    bomb = huge_png(9_000, 9_000)
    assert len(bomb) < 64 * 1024
    response = await submit(client, images=[("id.png", png(), "image/png"), ("id2.png", bomb, "image/png")])
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "image_too_many_pixels" and "第 2 张" in error["message"] and "images" in error["fields"]
    assert not await ReviewRequest.exists() and stored_files() == []


async def test_a_photo_of_ordinary_size_is_accepted(client, env: Env):
    response = await submit(client, images=[("id.jpg", photo_jpeg(), "image/jpeg"), ("id.png", png(), "image/png")])
    assert response.status_code == 202, response.text


async def test_a_truncated_jpeg_or_a_jpeg_header_before_other_content_is_refused(client, env: Env):
    """Pillow's verify() checks nothing for JPEG: half a photo, or a JPEG header in front of a web page,
    was stored as an image."""
    photo = photo_jpeg()
    for n, broken in enumerate((photo[: len(photo) // 2], photo[:600] + b"<html><script>alert(1)</script>" * 200)):
        response = await submit(client, images=[("id.jpg", broken, "image/jpeg")], ip=f"10.9.3.{n}")
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "image_unreadable" and "第 1 张" in error["message"]
    assert not await ReviewRequest.exists() and stored_files() == []
    assert (await submit(client, images=[("id.jpg", jpeg(), "image/jpeg")], ip="10.9.3.9")).status_code == 202


def test_a_bomb_is_refused_by_its_size_without_pillows_warning_in_the_log(recwarn):
    """Pillow warned (DecompressionBombWarning, into the server's log) about an image the check
    refuses anyway by its own, lower limit: a warning for nothing an operator could act on."""
    from backend.core.errors import AppError
    from backend.reviews.images import check_images

    try:
        check_images([huge_png(10_000, 9_500)])  # 95 million pixels: over Pillow's warning limit
    except AppError as refused:
        assert refused.code == "image_too_many_pixels"
    else:
        raise AssertionError("the bomb was accepted")
    assert [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)] == []
