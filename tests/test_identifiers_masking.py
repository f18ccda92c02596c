"""Masked personal numbers (P9) show little of any kind of ID."""

from __future__ import annotations

import pytest

from backend.core.identifiers import mask_id_number


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("430524198001011234", "4305**********1234"),  # a resident ID: the shape P9 names
        ("430524800101123", "4305*******1123"),  # the old 15-digit ID
        ("E12345678", "E1*****78"),  # a passport: four and four showed all but one character
        ("H1234567801", "H1*******01"),  # a Hong Kong or Macao permit
        ("AB1234", "****"),
    ],
)
def test_an_id_number_shows_at_most_its_ends_whatever_its_kind(number, masked):
    assert mask_id_number(number) == masked
    shown = sum(char != "*" for char in masked)
    assert shown <= (8 if len(number) >= 15 else 4)
