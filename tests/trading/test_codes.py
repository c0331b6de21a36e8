"""Check characters of the national codes (trading/codes.py): the USCC (GB 32100-2015), the
33-character unified transaction code (统一交易标识码, ISO 7064 MOD 37-2) and the
7-character section classification code.

Valid USCCs are real, published ones: the test data of python-stdnum
(tests/test_cn_uscc.doctest, "found online"). No published 33-character transaction code
was found; the check character is instead tested against two independent implementations
of ISO 7064 MOD 37-2 written here: the standard's recursive pure-system procedure, and the
weighted-sum form used by the Guangzhou platform's Mod32Utils.cs (weights 2^i mod 37 from
the right, check = (1 − Σ) mod 37). Note that Guangzhou's ProjectService.cs feeds an
industry-type prefix into the check as well; the national format has no such prefix, so
this platform (like codes.py) checks the 32 characters of the code itself.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from trading.codes import (
    CLASSIFICATION_PREFIX,
    InvalidCode,
    classification_code_validate,
    transaction_code_make,
    transaction_code_validate,
    uscc_make,
    uscc_validate,
)

# -- independent reference implementations ---------------------------------------------------
MOD37_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"  # values 0..36
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z


def iso7064_mod37_2_recursive(body: str) -> str:
    """ISO 7064 pure system, modulus 37, radix 2: P ← (P + a)·2 mod 37 over the data, then
    the check value c makes (P + c) ≡ 1 (mod 37)."""
    p = 0
    for ch in body:
        p = ((p + MOD37_ALPHABET.index(ch)) * 2) % 37
    return MOD37_ALPHABET[(1 - p) % 37]


def iso7064_mod37_2_weighted(body: str) -> str:
    """The same check as a weighted sum: the i-th character from the right (i ≥ 1) weighs
    2^i mod 37 and the check character weighs 1; the total must be ≡ 1 (mod 37)."""
    total = sum(MOD37_ALPHABET.index(ch) * pow(2, i, 37) for i, ch in enumerate(reversed(body), start=1))
    return MOD37_ALPHABET[(1 - total) % 37]


def mod37_2_is_valid(code: str) -> bool:
    total = sum(MOD37_ALPHABET.index(ch) * pow(2, i, 37) for i, ch in enumerate(reversed(code)))
    return total % 37 == 1


def gb32100_check(body17: str) -> str:
    """GB 32100-2015: weights 3^i mod 31, check = 31 − (Σ mod 31), 31 written as 0."""
    total = sum(USCC_ALPHABET.index(ch) * pow(3, i, 31) for i, ch in enumerate(body17))
    return USCC_ALPHABET[(31 - total % 31) % 31]


@pytest.mark.parametrize("implementation", [iso7064_mod37_2_recursive, iso7064_mod37_2_weighted])
def test_reference_implementations_reproduce_the_published_iso7064_example(implementation):
    # the MOD 37-2 example 'G123489654321Y' printed in python-stdnum's stdnum.iso7064.mod_37_2
    assert implementation("G123489654321") == "Y"
    assert mod37_2_is_valid("G123489654321Y")
    assert not mod37_2_is_valid("G123489654321X")


# -- USCC ---------------------------------------------------------------------------------------
# Published, real codes (python-stdnum's test data).
VALID_USCC = [
    "91110000600037341L",
    "121200004013590816",
    "91310115MA1K3BTP2B",
    "9144030071526726XG",
    "91620105L015101280",
    "92340621MA2UK3PJXE",
    "913101127033980359",
    "91340603MA2UJXXCXF",
]


@pytest.mark.parametrize("code", VALID_USCC)
def test_published_usccs_are_valid(code):
    assert uscc_validate(code) == code
    # and the independent GB 32100 implementation agrees on the check character
    assert gb32100_check(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("91310115ma1k3btp2b", "91310115MA1K3BTP2B"),  # lowercase
        ("91 110000 600037341L", "91110000600037341L"),  # spaces
        ("9144-0300-7152-6726XG", "9144030071526726XG"),  # hyphens
        ("  91110000600037341l  ", "91110000600037341L"),
    ],
)
def test_uscc_is_normalised(raw, normalised):
    assert uscc_validate(raw) == normalised


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("91110000600037341N", "uscc_checksum"),  # wrong check character
        ("91110000600037342L", "uscc_checksum"),  # a changed digit
        ("92110000600037341L", "uscc_checksum"),  # the entity-type digit changed
        ("91310115MA1K3BTP3B", "uscc_checksum"),
        ("91310115MB1K3BTP2B", "uscc_checksum"),  # a changed letter
        ("91110000600037341", "uscc_length"),  # 17 characters
        ("91110000600037341LX", "uscc_length"),  # 19
        ("", "uscc_length"),
        ("A1110000600037341L", "uscc_format"),  # the first 8 are digits
        ("9111000060003IOZSV", "uscc_format"),  # I, O, Z, S, V are not in the alphabet
        ("91110000600037341I", "uscc_format"),
        ("9111000060003734!L", "uscc_format"),
    ],
)
def test_corrupted_usccs_are_refused_with_a_code(code, error):
    with pytest.raises(InvalidCode) as exc:
        uscc_validate(code)
    assert exc.value.code == error
    assert exc.value.status == 400


@pytest.mark.parametrize("position", range(17))
def test_every_single_character_change_of_a_uscc_is_detected(position):
    # given a valid code and every other allowed character at one position
    code = "91310115MA1K3BTP2B"
    alphabet = "0123456789" if position < 8 else USCC_ALPHABET
    for ch in alphabet:
        if ch == code[position]:
            continue
        corrupted = code[:position] + ch + code[position + 1 :]
        # then the check character catches it (31 is prime and every weight is non-zero)
        with pytest.raises(InvalidCode) as exc:
            uscc_validate(corrupted)
        assert exc.value.code == "uscc_checksum"


@pytest.mark.parametrize("body", ["91110000600037341", "12120000401359081", "91310115MA1K3BTP2"])
def test_uscc_make_appends_the_gb32100_check_character(body):
    made = uscc_make(body)
    assert made == body + gb32100_check(body)
    assert uscc_validate(made) == made


# -- unified transaction code (统一交易标识码) ----------------------------------------------------
OPERATOR = "91110000600037341L"
DAY = dt.date(2026, 3, 2)


@pytest.mark.parametrize(
    ("operator", "day", "sequence"),
    [
        (OPERATOR, DAY, 1),
        (OPERATOR, DAY, 999999),
        ("91310115MA1K3BTP2B", dt.date(2025, 12, 31), 42),
        ("121200004013590816", dt.date(2024, 2, 29), 123456),
    ],
)
def test_transaction_code_round_trip_and_reference_check(operator, day, sequence):
    # when a code is made
    code = transaction_code_make(operator_uscc=operator, day=day, sequence=sequence)
    # then it has the national layout
    assert len(code) == 33
    assert code[:18] == operator
    assert code[18:26] == day.strftime("%Y%m%d")
    assert code[26:32] == f"{sequence:06d}"
    # and its check character is the one both independent implementations compute
    assert code[32] == iso7064_mod37_2_recursive(code[:32]) == iso7064_mod37_2_weighted(code[:32])
    assert mod37_2_is_valid(code)
    # and it validates
    assert transaction_code_validate(code) == code


@hsettings(max_examples=200, deadline=None)
@given(
    day=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
    sequence=st.integers(min_value=1, max_value=999_999),
    operator=st.sampled_from(VALID_USCC),
)
def test_transaction_code_check_character_matches_the_reference(day, sequence, operator):
    code = transaction_code_make(operator_uscc=operator, day=day, sequence=sequence)
    assert code[32] == iso7064_mod37_2_recursive(code[:32])
    assert transaction_code_validate(code) == code


def test_a_check_character_star_is_made_and_accepted():
    # given the first sequence number on DAY whose check value is 36 ('*')
    sequence = next(
        n for n in range(1, 1000) if iso7064_mod37_2_recursive(f"{OPERATOR}{DAY:%Y%m%d}{n:06d}") == "*"
    )
    code = transaction_code_make(operator_uscc=OPERATOR, day=DAY, sequence=sequence)
    assert code.endswith("*")
    assert transaction_code_validate(code) == code


VALID_TX = transaction_code_make(operator_uscc=OPERATOR, day=DAY, sequence=17)


def _flip(code: str, position: int, ch: str) -> str:
    assert code[position] != ch
    return code[:position] + ch + code[position + 1 :]


def _other(ch: str, alphabet: str) -> str:
    return next(c for c in alphabet if c != ch)


@pytest.mark.parametrize(
    ("segment", "position", "replacement", "error"),
    [
        ("operator USCC", 3, None, "uscc_checksum"),
        ("operator USCC", 10, None, "uscc_checksum"),
        ("operator USCC check", 17, None, "uscc_checksum"),
        ("date → still a date", 25, "3", "txcode_checksum"),  # 2026-03-02 → 2026-03-03
        ("date → not a date", 22, "1", "txcode_date"),  # month 13
        ("date → letter", 20, "A", "txcode_format"),
        ("sequence", 31, None, "txcode_checksum"),
        ("sequence", 26, None, "txcode_checksum"),
        ("check character", 32, None, "txcode_checksum"),
    ],
)
def test_a_flipped_character_in_each_segment_is_detected(segment, position, replacement, error):
    ch = replacement or _other(VALID_TX[position], "0123456789" if position < 32 else MOD37_ALPHABET)
    corrupted = _flip(VALID_TX, position, ch)
    with pytest.raises(InvalidCode) as exc:
        transaction_code_validate(corrupted)
    assert exc.value.code == error, segment


@pytest.mark.parametrize("position", range(26, 33))
def test_every_substitution_in_sequence_and_check_is_detected(position):
    # MOD 37-2 detects every single substitution: 37 is prime, every weight is non-zero
    alphabet = "0123456789" if position < 32 else MOD37_ALPHABET
    for ch in alphabet:
        if ch == VALID_TX[position]:
            continue
        with pytest.raises(InvalidCode) as exc:
            transaction_code_validate(_flip(VALID_TX, position, ch))
        assert exc.value.code == "txcode_checksum"


@pytest.mark.parametrize("position", [p for p in range(32) if VALID_TX[p] != VALID_TX[p + 1]])
def test_swapping_adjacent_characters_is_detected(position):
    # transpositions of adjacent characters are detected too: the two weights differ by a
    # factor 2 (3 in the USCC), so the sums differ unless the characters are equal
    swapped = VALID_TX[:position] + VALID_TX[position + 1] + VALID_TX[position] + VALID_TX[position + 2 :]
    with pytest.raises(InvalidCode):
        transaction_code_validate(swapped)


def test_lowercase_transaction_code_is_normalised():
    code = transaction_code_make(operator_uscc="91310115MA1K3BTP2B", day=DAY, sequence=5)
    assert transaction_code_validate(code.lower()) == code


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (VALID_TX[:32], "txcode_length"),
        (VALID_TX + "0", "txcode_length"),
        ("", "txcode_length"),
        # the hyphenated display form some platforms print (USCC-date-sequence-check)
        (f"{VALID_TX[:18]}-{VALID_TX[18:26]}-{VALID_TX[26:32]}-{VALID_TX[32]}", "txcode_length"),
        (VALID_TX[:26] + "00000A" + VALID_TX[32], "txcode_format"),  # a letter in the sequence
        (VALID_TX[:32] + "!", "txcode_format"),
        (VALID_TX[:22] + "0230" + VALID_TX[26:], "txcode_date"),  # Feb 30
    ],
)
def test_malformed_transaction_codes_are_refused(value, error):
    with pytest.raises(InvalidCode) as exc:
        transaction_code_validate(value)
    assert exc.value.code == error


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"operator_uscc": OPERATOR, "day": DAY, "sequence": 0}, "txcode_sequence"),
        ({"operator_uscc": OPERATOR, "day": DAY, "sequence": 1_000_000}, "txcode_sequence"),
        ({"operator_uscc": "91110000600037341N", "day": DAY, "sequence": 1}, "uscc_checksum"),
    ],
)
def test_transaction_code_make_refuses_bad_input(kwargs, error):
    with pytest.raises(InvalidCode) as exc:
        transaction_code_make(**kwargs)
    assert exc.value.code == error


# -- section classification code (标段分类代码) ---------------------------------------------------
@pytest.mark.parametrize(
    ("value", "category", "expected"),
    [
        ("A010101", None, "A010101"),
        ("b02xyz1", None, "B02XYZ1"),  # normalised to upper case
        (" C050000 ", "services", "C050000"),
        ("A01ABCD", "works", "A01ABCD"),
        ("B990000", "goods", "B990000"),
        ("D010000", "property", "D010000"),
        ("E010000", "land", "E010000"),
    ],
)
def test_valid_classification_codes(value, category, expected):
    assert classification_code_validate(value, category=category) == expected


@pytest.mark.parametrize(
    ("value", "category", "error"),
    [
        ("F010000", None, "classification_format"),  # only A–E
        ("A1X0000", None, "classification_format"),  # two digits after the letter
        ("A01000", None, "classification_format"),  # 6 characters
        ("A0100000", None, "classification_format"),  # 8 characters
        ("A01-000", None, "classification_format"),
        ("", None, "classification_format"),
        ("A010000", "goods", "classification_category"),
        ("B010000", "works", "classification_category"),
        ("C010000", "land", "classification_category"),
    ],
)
def test_invalid_classification_codes(value, category, error):
    with pytest.raises(InvalidCode) as exc:
        classification_code_validate(value, category=category)
    assert exc.value.code == error


def test_classification_prefix_table_follows_the_2010_standard():
    assert CLASSIFICATION_PREFIX == {
        "works": "A",
        "goods": "B",
        "services": "C",
        "property": "D",
        "land": "E",
    }
