"""P5: the common-password check sees through case, added digits and symbols, look-alike swaps,
keyboard walks and repeated characters."""

from __future__ import annotations

import pytest

from backend.core import password_messages as msg
from backend.core.passwords import generate_temporary_password, policy_problems
from tests.factories import PASSWORD


@pytest.mark.parametrize(
    "candidate",
    [
        # The reviewer's finds.
        "Password1!",
        "Welcome1!",
        "Woaini1314!",
        "Huawei@123",
        "Qq123456",
        "Aa111111",
        "QAZwsx123",
        # Look-alike swaps, words with digits and symbols at either end.
        "P@ssw0rd2026",
        "Adm1n@2024",
        "@Admin888",
        "Z3ngl1ang#",
        # Keyboard walks and repeats.
        "1qaz@WSX",
        "Zaq12wsx!",
        "1Q2w3e4r!",
        "Qweasd123.",
        "Asdfgh!23",
        "Zxcvbnm,.",
        "Abc@12345",
        "Aaaa@1111",
        # Chinese favourites: love numbers, pinyin words and names, brands.
        "Wo@ini520",
        "5201314Aa!",
        "Zhangwei@123",
        "Liuyang666!",
        "Xiaoming.88",
        "Beijing2008!",
        "Xiaomi@123",
        "Cunwutong#1",
    ],
)
def test_common_passwords_are_refused_whatever_is_added_or_swapped(candidate: str):
    assert msg.COMMON in policy_problems(candidate), candidate


@pytest.mark.parametrize(
    "candidate",
    [
        PASSWORD,
        "Qingshan#River7",
        "baisha.town.2026",
        "8chars!A",
        "CUNWU-tong-88",
        "Xk#82jdL9q",
        "Lanmei@Hill42",
        "Go#82736451",
    ],
)
def test_passwords_that_are_not_common_still_pass(candidate: str):
    assert policy_problems(candidate) == [], candidate


def test_the_message_is_unchanged():
    assert policy_problems("Password1!") == [msg.COMMON]


def test_temporary_passwords_still_pass_the_stricter_check():
    assert all(policy_problems(generate_temporary_password()) == [] for _ in range(500))
