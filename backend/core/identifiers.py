"""Checks and masks for the identifiers of people and organisations (pure functions)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

CUSTOM_ERROR_KINDS = frozenset(
    {
        "bad_phone",
        "bad_contact_phone",
        "bad_id_number",
        "bad_region_code",
        "bad_credit_code",
        "bad_org_code",
        "bad_username",
    }
)

_PHONE = re.compile(r"1[3-9][0-9]{9}")
# A fixed line: area code (0 and 2-3 digits), a dash or not, 7-8 digits, an extension after a dash.
_LANDLINE = re.compile(r"0[1-9][0-9]{1,2}-?[1-9][0-9]{6,7}(?:-[0-9]{1,6})?")
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
_REGION_CODE = re.compile(r"[0-9]{12}")
_USERNAME = re.compile(r"[A-Za-z0-9_.\-]{3,32}")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# GB 32100-2015: the alphabet of the unified social credit code (no I, O, S, V, Z).
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714-1997: the organisation code (9 characters, the last a check character).
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# Numbers as they are printed and pasted: full-width digits, spaces and dashes between the groups
# ("139 0000 0001", "1390-000-0001"); a mobile also with the country's code ("+86 139...").
_GAPS = re.compile(r"[\s\-\u2010-\u2015\u2212]")
_COUNTRY = re.compile(r"^(?:\+86|0086|86)(?=1[0-9]{10}$)")


def valid_phone(value: str) -> bool:
    return bool(_PHONE.fullmatch(value))


def plain_number(value: str) -> str:
    """A number as printed or pasted, without its gaps and in ASCII digits ("１３９ 0000-0001")."""
    return _GAPS.sub("", unicodedata.normalize("NFKC", value))


def plain_mobile(value: str) -> str:
    """:func:`plain_number`, and a mobile without the country's code ("+86 139 0000 0001")."""
    return _COUNTRY.sub("", plain_number(value))


def typed_phone(value: str) -> str | None:
    """The mobile a login name typed in a text field spells (however printed or pasted), or None.
    A user name may hold digits and dashes (:func:`valid_username`): the caller looks the name up
    as typed first, and an existing user name wins over the phone it would spell."""
    mobile = plain_mobile(value.strip())
    return mobile if valid_phone(mobile) else None


def valid_contact_phone(value: str) -> bool:
    """A mobile, or a fixed line with its area code (an office's: 0871-65150432)."""
    return valid_phone(value) or bool(_LANDLINE.fullmatch(value))


def id_number_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_number_shaped(value: str) -> bool:
    """Written like a resident ID number (17 digits, then a digit or X), whether its check holds or not."""
    return bool(_ID_NUMBER.fullmatch(value.upper()))


def id_number_birth_date_valid(value: str) -> bool:
    """Are characters 7-14 of an ID number a real date of birth (a calendar date, 1900 to this year)?"""
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= date.today().year


def valid_id_number(value: str) -> bool:
    """An 18-character resident ID number (GB 11643): a real date of birth and a correct check character."""
    value = value.upper()
    return (
        bool(_ID_NUMBER.fullmatch(value))
        and id_number_check_char(value[:17]) == value[17]
        and id_number_birth_date_valid(value)
    )


def valid_region_code(value: str) -> bool:
    return bool(_REGION_CODE.fullmatch(value))


def valid_username(value: str) -> bool:
    """Letters, digits, ``_ . -``; never shaped like a phone, since login reads those as phones."""
    return bool(_USERNAME.fullmatch(value)) and not valid_phone(value)


def credit_code_check_char(first17: str) -> str:
    total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def valid_org_code(value: str) -> bool:
    value = value.upper()
    if len(value) != 9 or any(c not in _ORG_ALPHABET for c in value[:8]):
        return False
    return org_code_check_char(value[:8]) == value[8]


def org_code_of(credit_code: str | None) -> str | None:
    """The organisation code a unified social credit code holds (its characters 9-17)."""
    return credit_code[8:17] if credit_code else None


def valid_credit_code(value: str) -> bool:
    """An 18-character unified social credit code whose check character and embedded org code hold."""
    value = value.upper()
    if len(value) != 18 or any(c not in _CREDIT_ALPHABET for c in value):
        return False
    return credit_code_check_char(value[:17]) == value[17] and valid_org_code(org_code_of(value) or "")


def mask_phone(value: str) -> str:
    if value.startswith("0") and "-" in value:  # a fixed line keeps its area code: 0871-****0432
        area, _, rest = value.partition("-")
        return f"{area}-****{rest.partition('-')[0][-4:]}"
    return f"{value[:3]}****{value[-4:]}" if len(value) >= 7 else "****"


def mask_id_number(value: str) -> str:
    """A resident ID (18 characters, or the old 15) shows its first and last four (4305**********1234);
    a shorter number (a passport, a Hong Kong or Macao permit: 8-11 characters) its first and last two
    at most (E1*****78), where four and four would show all but one of them."""
    if len(value) >= 15:
        return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"
    if len(value) >= 7:
        return f"{value[:2]}{'*' * (len(value) - 4)}{value[-2:]}"
    return "****"
