"""Review images on disk: under ``var_dir/uploads/reviews`` (never a served path), random names,
owner-only permissions. The database row keeps each file's name, type and size."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from pathlib import Path
from typing import Any

from backend.core import runtime
from backend.reviews.images import CheckedImage

_NAME = re.compile(r"[0-9a-f]{32}\.(jpg|png)")


def uploads_dir() -> Path:
    return runtime.get().settings.var_dir / "uploads" / "reviews"


def _path(name: str) -> Path:
    if not _NAME.fullmatch(name):  # only names this module made; never a path from outside
        raise ValueError("bad upload name")
    return uploads_dir() / name


def _write_all(images: list[CheckedImage]) -> list[dict[str, Any]]:
    folder = uploads_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stored: list[dict[str, Any]] = []
    try:
        for image in images:
            name = f"{secrets.token_hex(16)}.{image.extension}"
            fd = os.open(_path(name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(image.data)
            stored.append({"name": name, "type": image.mime, "size": len(image.data)})
    except BaseException:
        _remove_all([entry["name"] for entry in stored])
        raise
    return stored


def _remove_all(names: list[str]) -> None:
    for name in names:
        _path(name).unlink(missing_ok=True)


async def save(images: list[CheckedImage]) -> list[dict[str, Any]]:
    """Write the images; returns ``[{"name", "type", "size"}]`` for the row."""
    return await asyncio.to_thread(_write_all, images)


async def remove(names: list[str]) -> None:
    await asyncio.to_thread(_remove_all, names)


async def read(name: str) -> bytes | None:
    path = _path(name)
    try:
        return await asyncio.to_thread(path.read_bytes)
    except FileNotFoundError:
        return None
