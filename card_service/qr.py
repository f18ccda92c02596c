"""QR codes for the window: the module matrix, and a PNG that Tk's PhotoImage reads as it is."""

from __future__ import annotations

import io

import qrcode
from PIL import Image

# M: about 15 % of the code may be smudged; the payloads (cwt://pair/<token>) stay small either way.
_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M


def qr_matrix(text: str, *, border: int = 4) -> list[list[bool]]:
    """Rows of modules (True = dark), quiet zone included."""
    code = qrcode.QRCode(error_correction=_ERROR_CORRECTION, border=border)
    code.add_data(text)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def qr_png(text: str, *, scale: int = 6, border: int = 4) -> bytes:
    """A black-on-white PNG of ``text``, ``scale`` pixels per module."""
    matrix = qr_matrix(text, border=border)
    size = len(matrix)
    image = Image.new("1", (size, size), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    image = image.resize((size * scale, size * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
