"""Value objects: what they accept, how they normalise, and the message for each bad input."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue
from domain.values import (
    DocumentRef,
    Email,
    HealthInsuranceCardNumber,
    NameMatch,
    OfficeCode,
    PersonalIdNumber,
    PersonName,
    RequestId,
    SocialInsuranceCode,
    VietnameseMobile,
    card_matches_code,
    check_minor,
    compare_names,
    name_key,
    parse,
    strip_accents,
)

VIETNAMESE_NAMES = [
    "Nguyễn Văn An",
    "Trần Thị Ánh",
    "Lê Hoàng Đức",
    "Phạm Ngọc Diệp",
    "Đặng Quốc Việt",
]


@given(st.sampled_from(VIETNAMESE_NAMES), st.sampled_from(["NFC", "NFD"]))
def test_a_name_in_nfc_or_nfd_gives_the_same_value(name: str, form: Any) -> None:
    typed = unicodedata.normalize(form, name)

    value = parse(PersonName, typed, "child.full_name")

    assert value == unicodedata.normalize("NFC", name)


@given(
    st.sampled_from(VIETNAMESE_NAMES),
    st.lists(st.sampled_from([" ", "  ", "\t"]), min_size=1, max_size=3),
)
def test_a_name_is_trimmed_and_its_spaces_collapsed(name: str, padding: list[str]) -> None:
    spaced = "".join(padding) + name.replace(" ", "".join(padding)) + "".join(padding)

    assert parse(PersonName, spaced, "full_name") == name


def test_names_compare_case_insensitively() -> None:
    assert name_key("trần thị ánh") == name_key("TRẦN THỊ ÁNH")
    assert compare_names("trần thị ánh", "TRẦN THỊ ÁNH") is NameMatch.EXACT


def test_an_accent_only_match_is_a_warning_never_a_match() -> None:
    assert compare_names("Tran Thi Anh", "Trần Thị Ánh") is NameMatch.ACCENTS_ONLY
    assert compare_names("Le Hoang Duc", "Lê Hoàng Đức") is NameMatch.ACCENTS_ONLY
    assert compare_names("Trần Thị Anh", "Trần Thị Bình") is NameMatch.DIFFERENT


def test_d_with_stroke_is_mapped_explicitly_when_accents_are_stripped() -> None:
    assert strip_accents("Đặng Đức đạt") == "Dang Duc dat"


@given(st.from_regex(r"9[0-8][0-9]{7}", fullmatch=True))
def test_every_accepted_phone_form_normalises_to_the_same_e164(nine_digits: str) -> None:
    forms = [
        f"0{nine_digits}",
        f"+84{nine_digits}",
        f"84{nine_digits}",
        f"+84 {nine_digits[:2]} {nine_digits[2:]}",
    ]

    values = {parse(VietnameseMobile, form, "guardian.phone") for form in forms}

    assert values == {f"+84{nine_digits}"}


@given(st.from_regex(r"0[0-9]{9}", fullmatch=True))
def test_social_insurance_codes_keep_their_leading_zeros(code: str) -> None:
    assert parse(SocialInsuranceCode, code, "child.social_insurance_code") == code


@given(st.from_regex(r"0[0-9]{11}", fullmatch=True))
def test_personal_id_numbers_keep_their_leading_zeros(number: str) -> None:
    assert parse(PersonalIdNumber, number, "child.personal_id_number") == number


def test_a_card_number_is_consistent_with_the_child_code() -> None:
    card = parse(HealthInsuranceCardNumber, "hs4 79 7912345678", "card")

    assert card == "HS4797912345678"
    assert card_matches_code(card, "7912345678")
    assert not card_matches_code(card, "7912345679")


def test_an_email_is_normalised() -> None:
    assert parse(Email, " an.nguyen@Example.VN ", "guardian.email") == "an.nguyen@example.vn"


@pytest.mark.parametrize(
    ("kind", "value", "field", "message"),
    [
        (
            SocialInsuranceCode,
            "012345678",
            "child.social_insurance_code",
            "must be exactly 10 digits",
        ),
        (
            SocialInsuranceCode,
            "01234567890",
            "child.social_insurance_code",
            "must be exactly 10 digits",
        ),
        (
            SocialInsuranceCode,
            "012345678a",
            "child.social_insurance_code",
            "must be exactly 10 digits",
        ),
        (
            SocialInsuranceCode,
            "０１２３４５６７８９",
            "child.social_insurance_code",
            "must be exactly 10 digits",
        ),
        (
            SocialInsuranceCode,
            123456789,
            "child.social_insurance_code",
            "not a number (leading zeros matter)",
        ),
        (PersonalIdNumber, "07921900000", "child.personal_id_number", "must be exactly 12 digits"),
        (HealthInsuranceCardNumber, "HS6797912345678", "card", "benefit level 1-5"),
        (HealthInsuranceCardNumber, "H44797912345678", "card", "2 capital letters"),
        (PersonName, "", "child.full_name", "must not be empty"),
        (PersonName, "   ", "child.full_name", "must not be empty"),
        (PersonName, "Nguyễn Văn 4n", "child.full_name", "only letters"),
        (PersonName, "a" * 101, "child.full_name", "at most 100 characters"),
        (PersonName, "--", "child.full_name", "must contain letters"),
        (VietnameseMobile, "0212345678", "guardian.phone", "mobile number"),
        (VietnameseMobile, "091234567", "guardian.phone", "Vietnamese mobile number"),
        (VietnameseMobile, "+33612345678", "guardian.phone", "Vietnamese mobile number"),
        (VietnameseMobile, "phone", "guardian.phone", "Vietnamese mobile number"),
        (Email, "an.nguyen@", "guardian.email", "must be valid"),
        (OfficeCode, "79-001", "office_code", "2 to 8 digits"),
        (DocumentRef, "sha256:" + "A" * 64, "documents.portrait", "64 lowercase hex"),
        (DocumentRef, "sha256:" + "a" * 63, "documents.portrait", "64 lowercase hex"),
        (DocumentRef, "../../etc/passwd", "documents.portrait", "'sha256:' followed by"),
        (RequestId, "", "request_id", "1 to 64"),
        (RequestId, "a/b", "request_id", "1 to 64"),
        (RequestId, "x" * 65, "request_id", "1 to 64"),
        (RequestId, "registration-vssid-1", "request_id", "must not start with registration-"),
    ],
)
def test_bad_values_are_refused_with_the_field_and_the_rule(
    kind: Any, value: object, field: str, message: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse(kind, value, field)

    assert refused.value.field == field
    assert message in str(refused.value)
    assert str(refused.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("born", "on", "minor"),
    [
        (date(2008, 11, 26), date(2026, 11, 25), True),
        (date(2008, 11, 25), date(2026, 11, 25), False),
        (date(2008, 2, 29), date(2026, 2, 28), True),
        (date(2008, 2, 29), date(2026, 3, 1), False),
        (date(2026, 11, 25), date(2026, 11, 25), True),
    ],
)
def test_a_child_is_a_minor_until_the_eighteenth_birthday(
    born: date, on: date, minor: bool
) -> None:
    if minor:
        check_minor(born, on)
    else:
        with pytest.raises(ValueError, match="must be under 18"):
            check_minor(born, on)


def test_a_birth_date_after_the_submission_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be after the submission date"):
        check_minor(date(2026, 11, 26), date(2026, 11, 25))
