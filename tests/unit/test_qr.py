"""Decoding the QR code of a thẻ BHYT: both card formats, the scanners' quirks, and every way it fails."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.qr import QR_MAX_LENGTH, CardQr, CardQrUnreadable, decode_card_qr
from domain.values import Gender, normalise_name

OLD_CARD_NUMBER = "HS4790123456789"
NEW_CARD_CODE = "0123456789"


def hex_text(text: str) -> str:
    """As the card writes names and addresses: UTF-8 bytes as hex digits."""
    return text.encode("utf-8").hex()


def old_card_fields(
    name: str = "Nguyễn Minh Khôi",
    date_of_birth: str = "14/03/2019",
    gender: str = "1",
    valid_from: str = "01/01/2025",
    valid_to: str = "31/12/2025",
    parent: str = "Trần Thị Ánh",
) -> list[str]:
    """The 14 fields of a card issued before 4/2021."""
    return [
        OLD_CARD_NUMBER,
        hex_text(name),
        date_of_birth,
        gender,
        hex_text("Số 12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh"),
        "79 - 79001",
        valid_from,
        valid_to,
        "20/12/2024",
        "79001",
        hex_text(parent),
        "4",
        "-",
        "d1e3c2b5",
    ]


def new_card_fields(
    name: str = "Trần Thị Ánh",
    date_of_birth: str = "02/09/2021",
    gender: str = "2",
    valid_from: str = "01/01/2025",
    valid_to: str = "-",
    parent: str = "Lê Văn Hùng",
    benefit_level: str = "1",
) -> list[str]:
    """The 16 fields of a card issued since 4/2021."""
    return [
        NEW_CARD_CODE,
        hex_text(name),
        date_of_birth,
        gender,
        "-",
        "01 - 01001",
        valid_from,
        valid_to,
        "20/12/2024",
        "-",
        hex_text(parent),
        "-",
        "-",
        "5f0e2a9c",
        benefit_level,
        hex_text("BHXH thành phố Hà Nội"),
    ]


def payload(fields: list[str], end: str = "$") -> str:
    return "|".join(fields) + end


def replaced(fields: list[str], index: int, value: str) -> list[str]:
    changed = list(fields)
    changed[index] = value
    return changed


# --- both formats -----------------------------------------------------------------------------


def test_decodes_an_old_card_with_a_hex_encoded_name() -> None:
    raw = payload(old_card_fields())

    card = decode_card_qr(raw)

    assert card == CardQr(
        format="old",
        social_insurance_code="0123456789",
        card_number="HS4790123456789",
        full_name="Nguyễn Minh Khôi",
        date_of_birth=date(2019, 3, 14),
        gender=Gender.MALE,
        valid_from=date(2025, 1, 1),
        valid_to=date(2025, 12, 31),
        parent_name="Trần Thị Ánh",
        benefit_level=4,
    )


def test_decodes_a_new_card_by_its_ten_digit_code() -> None:
    raw = payload(new_card_fields())

    card = decode_card_qr(raw)

    assert card == CardQr(
        format="new",
        social_insurance_code="0123456789",
        card_number=None,
        full_name="Trần Thị Ánh",
        date_of_birth=date(2021, 9, 2),
        gender=Gender.FEMALE,
        valid_from=date(2025, 1, 1),
        valid_to=None,
        parent_name="Lê Văn Hùng",
        benefit_level=1,
    )


def test_an_old_card_gives_the_last_ten_characters_of_its_number_as_the_code() -> None:
    raw = payload(replaced(old_card_fields(), 0, "TE1010000012345"))

    card = decode_card_qr(raw)

    assert (card.card_number, card.social_insurance_code) == ("TE1010000012345", "0000012345")


def test_an_old_card_takes_its_benefit_level_from_the_third_character_of_its_number() -> None:
    raw = payload(replaced(old_card_fields(), 0, "TE1010000012345"))

    card = decode_card_qr(raw)

    assert card.benefit_level == 1


def test_a_new_card_without_field_14_has_no_benefit_level() -> None:
    raw = payload(new_card_fields()[:14])

    card = decode_card_qr(raw)

    assert card.benefit_level is None


def test_reads_a_lower_case_card_number_in_capitals() -> None:
    raw = payload(replaced(old_card_fields(), 0, "hs4790123456789"))

    card = decode_card_qr(raw)

    assert card.card_number == "HS4790123456789"


# --- names ------------------------------------------------------------------------------------


def test_reads_the_hex_name_given_in_the_domain_facts() -> None:
    raw = payload(replaced(old_card_fields(), 1, "4e677579e1bb856e2056c4836e20416e"))

    card = decode_card_qr(raw)

    assert card.full_name == "Nguyễn Văn An"


def test_accepts_upper_case_hex() -> None:
    raw = payload(replaced(old_card_fields(), 1, hex_text("Phạm Gia Hưng").upper()))

    card = decode_card_qr(raw)

    assert card.full_name == "Phạm Gia Hưng"


def test_a_name_encoded_in_decomposed_form_comes_out_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Minh Khôi")
    raw = payload(
        old_card_fields(name=decomposed, parent=unicodedata.normalize("NFD", "Trần Thị Ánh"))
    )

    card = decode_card_qr(raw)

    assert card.full_name == "Nguyễn Minh Khôi"
    assert unicodedata.is_normalized("NFC", card.full_name)
    assert card.parent_name == "Trần Thị Ánh"


def test_collapses_the_spaces_in_a_name() -> None:
    raw = payload(old_card_fields(name="  Võ   Ngọc  Bảo Châu "))

    card = decode_card_qr(raw)

    assert card.full_name == "Võ Ngọc Bảo Châu"


# --- what scanners send -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "end",
    [
        pytest.param("$", id="dollar"),
        pytest.param("\r\n", id="crlf"),
        pytest.param("$\r\n", id="dollar-then-crlf"),
        pytest.param("\r\n$", id="crlf-then-dollar"),
        pytest.param("\n", id="lf"),
        pytest.param("", id="nothing"),
    ],
)
def test_accepts_each_ending_a_scanner_may_send(end: str) -> None:
    raw = payload(old_card_fields(), end=end)

    card = decode_card_qr(raw)

    assert card.full_name == "Nguyễn Minh Khôi"
    assert card.parent_name == "Trần Thị Ánh"


def test_accepts_white_space_around_the_payload() -> None:
    raw = "  \t" + payload(new_card_fields()) + " \r\n"

    card = decode_card_qr(raw)

    assert card.social_insurance_code == "0123456789"


def test_accepts_dates_with_a_leading_space() -> None:
    fields = old_card_fields(date_of_birth=" 14/03/2019", valid_from=" 01/01/2025")
    raw = payload(fields)

    card = decode_card_qr(raw)

    assert (card.date_of_birth, card.valid_from) == (date(2019, 3, 14), date(2025, 1, 1))


def test_reads_a_dash_as_an_empty_field() -> None:
    fields = replaced(old_card_fields(gender="-", valid_to="-"), 10, "-")

    card = decode_card_qr(payload(fields))

    assert (card.gender, card.valid_to, card.parent_name) == (None, None, None)


@pytest.mark.parametrize("count", range(3, 14))
def test_reads_missing_trailing_fields_as_empty(count: int) -> None:
    raw = payload(old_card_fields()[:count])

    card = decode_card_qr(raw)

    assert card.full_name == "Nguyễn Minh Khôi"
    assert card.date_of_birth == date(2019, 3, 14)
    assert card.gender == (Gender.MALE if count > 3 else None)
    assert card.valid_to == (date(2025, 12, 31) if count > 7 else None)
    assert card.parent_name == ("Trần Thị Ánh" if count > 10 else None)


def test_a_payload_of_code_name_and_date_of_birth_alone_is_enough() -> None:
    raw = payload([NEW_CARD_CODE, hex_text("Đặng Thu Hà"), "30/04/2022"])

    card = decode_card_qr(raw)

    assert card.full_name == "Đặng Thu Hà"
    assert (card.gender, card.valid_from, card.valid_to, card.parent_name) == (None,) * 4
    assert card.benefit_level is None


def test_does_not_check_the_fields_it_does_not_return() -> None:
    fields = old_card_fields()
    for index, junk in ((4, "not hex"), (5, "?"), (8, "31/02/2020"), (12, "soon"), (13, "zz")):
        fields[index] = junk

    card = decode_card_qr(payload(fields))

    assert card.full_name == "Nguyễn Minh Khôi"


def test_ignores_fields_past_the_format_s_count() -> None:
    raw = payload([*old_card_fields(), "9", "later addition"])

    card = decode_card_qr(raw)

    assert card.benefit_level == 4


# --- validity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "valid"),
    [
        pytest.param(date(2024, 12, 31), False, id="the-day-before"),
        pytest.param(date(2025, 1, 1), True, id="the-first-day"),
        pytest.param(date(2025, 6, 15), True, id="in-between"),
        pytest.param(date(2025, 12, 31), True, id="the-last-day"),
        pytest.param(date(2026, 1, 1), False, id="the-day-after"),
    ],
)
def test_a_card_is_valid_from_its_first_to_its_last_day(day: date, valid: bool) -> None:
    card = decode_card_qr(payload(old_card_fields()))

    assert card.is_valid_on(day) is valid


def test_a_card_without_an_end_date_is_valid_from_its_start_onwards() -> None:
    card = decode_card_qr(payload(new_card_fields(valid_to="-")))

    assert card.is_valid_on(date(2040, 1, 1))
    assert not card.is_valid_on(date(2024, 12, 31))


def test_a_card_without_a_start_date_is_never_shown_valid() -> None:
    card = decode_card_qr(payload(old_card_fields(valid_from="-")))

    assert not card.is_valid_on(date(2025, 6, 15))


# --- failures ---------------------------------------------------------------------------------

OLD = old_card_fields()
NEW = new_card_fields()


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        pytest.param("", None, id="empty"),
        pytest.param(" \r\n", None, id="white-space-only"),
        pytest.param("$", None, id="terminator-only"),
        pytest.param(OLD_CARD_NUMBER + "$", None, id="no-separators"),
        pytest.param(payload(OLD[:2]), None, id="no-date-of-birth"),
        pytest.param(payload(replaced(OLD, 0, "HS479012345678")), 0, id="code-of-14-characters"),
        pytest.param(payload(replaced(OLD, 0, "012345678")), 0, id="code-of-9-digits"),
        pytest.param(payload(replaced(OLD, 0, "HS6790123456789")), 0, id="card-level-6"),
        pytest.param(payload(replaced(OLD, 0, "H54790123456789")), 0, id="card-one-letter"),
        pytest.param(payload(replaced(OLD, 0, "-")), 0, id="code-dash"),
        pytest.param(payload(replaced(NEW, 0, "012345678A")), 0, id="code-with-a-letter"),
        pytest.param(payload(replaced(NEW, 0, "٠١٢٣٤٥٦٧٨٩")), 0, id="code-in-arabic-digits"),
        pytest.param(payload(replaced(OLD, 1, "Nguyễn Minh Khôi")), 1, id="name-not-hex"),
        pytest.param(payload(replaced(OLD, 1, "4e6")), 1, id="name-odd-hex"),
        pytest.param(payload(replaced(OLD, 1, "c3")), 1, id="name-invalid-utf8"),
        pytest.param(payload(replaced(OLD, 1, "4e0a41")), 1, id="name-with-a-newline"),
        pytest.param(payload(replaced(OLD, 1, "4e0041")), 1, id="name-with-a-hex-nul"),
        pytest.param(payload(replaced(OLD, 1, "2020")), 1, id="name-blank"),
        pytest.param(payload(replaced(OLD, 1, "-")), 1, id="name-dash"),
        pytest.param(payload(replaced(OLD, 1, "")), 1, id="name-empty"),
        pytest.param(payload(replaced(OLD, 2, "2019-03-14")), 2, id="date-iso"),
        pytest.param(payload(replaced(OLD, 2, "14/3/2019")), 2, id="date-one-digit-month"),
        pytest.param(payload(replaced(OLD, 2, "2019")), 2, id="date-year-only"),
        pytest.param(payload(replaced(OLD, 2, "31/02/2020")), 2, id="date-31-february"),
        pytest.param(payload(replaced(OLD, 2, "00/01/2020")), 2, id="date-day-0"),
        pytest.param(payload(replaced(OLD, 2, "-")), 2, id="date-dash"),
        pytest.param(payload(replaced(OLD, 2, "１４/０３/２０１９")), 2, id="date-fullwidth"),
        pytest.param(payload(replaced(OLD, 3, "3")), 3, id="gender-3"),
        pytest.param(payload(replaced(OLD, 6, "32/01/2025")), 6, id="valid-from-bad"),
        pytest.param(payload(replaced(OLD, 7, "2025")), 7, id="valid-to-bad"),
        pytest.param(payload(old_card_fields(valid_to="31/12/2024")), 7, id="valid-to-before-from"),
        pytest.param(payload(replaced(OLD, 10, "xyz")), 10, id="parent-not-hex"),
        pytest.param(payload(replaced(OLD, 10, "c328")), 10, id="parent-invalid-utf8"),
        pytest.param(payload(replaced(NEW, 14, "6")), 14, id="new-level-6"),
        pytest.param(payload(replaced(NEW, 14, "A")), 14, id="new-level-letter"),
        pytest.param(payload(OLD).replace("|", "|\x00", 1), None, id="nul-character"),
        pytest.param(payload(OLD) + " " * QR_MAX_LENGTH, None, id="too-long"),
    ],
)
def test_a_malformed_payload_is_unreadable(raw: str, field: int | None) -> None:
    with pytest.raises(CardQrUnreadable) as caught:
        decode_card_qr(raw)

    assert caught.value.field == field


@pytest.mark.parametrize("raw", [None, b"HS4790123456789|4e|01/01/2020$", 42])
def test_input_that_is_not_text_is_unreadable(raw: object) -> None:
    with pytest.raises(CardQrUnreadable):
        decode_card_qr(raw)  # type: ignore[arg-type]


def test_a_gender_other_than_1_or_2_is_unreadable_rather_than_dropped() -> None:
    raw = payload(old_card_fields(gender="3"))

    with pytest.raises(CardQrUnreadable) as caught:
        decode_card_qr(raw)

    assert str(caught.value) == "card QR field 3 (gender): not 1 (male) or 2 (female)"


def test_an_error_names_the_field_and_rule_but_never_the_value_read() -> None:
    raw = payload(old_card_fields(date_of_birth="31/02/2020"))

    with pytest.raises(CardQrUnreadable) as caught:
        decode_card_qr(raw)

    assert caught.value.field == 2
    assert str(caught.value) == "card QR field 2 (date of birth): not a day of the calendar"
    assert "2020" not in str(caught.value)


def test_an_error_is_reported_for_the_first_bad_field() -> None:
    raw = payload(replaced(old_card_fields(gender="9", date_of_birth="99/99/9999"), 1, "c3"))

    with pytest.raises(CardQrUnreadable) as caught:
        decode_card_qr(raw)

    assert caught.value.field == 1


def test_an_undecodable_name_is_reported_without_its_bytes() -> None:
    raw = payload(replaced(old_card_fields(), 1, "4e67c3"))

    with pytest.raises(CardQrUnreadable) as caught:
        decode_card_qr(raw)

    assert "c3" not in str(caught.value).lower()
    assert caught.value.__suppress_context__


def test_unreadable_is_a_domain_error() -> None:
    assert issubclass(CardQrUnreadable, DomainError)


# --- properties -------------------------------------------------------------------------------


@given(st.text())
def test_any_text_decodes_or_is_unreadable(raw: str) -> None:
    try:
        card = decode_card_qr(raw)
    except CardQrUnreadable:
        return
    assert isinstance(card, CardQr)


FIELD_PIECES = st.one_of(
    st.sampled_from(
        [
            OLD_CARD_NUMBER,
            NEW_CARD_CODE,
            hex_text("Nguyễn Minh Khôi"),
            "c3",
            "20",
            "14/03/2019",
            " 14/03/2019",
            "31/02/2020",
            "01/01/2026",
            "1",
            "2",
            "3",
            "6",
            "-",
            "",
        ]
    ),
    st.text(max_size=20),
)


@given(st.lists(FIELD_PIECES, max_size=18), st.sampled_from(["$", "\r\n", "$\r\n", ""]))
def test_any_card_shaped_text_decodes_or_is_unreadable(fields: list[str], end: str) -> None:
    try:
        card = decode_card_qr(payload(fields, end=end))
    except CardQrUnreadable:
        return
    assert isinstance(card, CardQr)


VIETNAMESE_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)


@given(
    st.text(alphabet=VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper() + " ", max_size=40).filter(
        str.strip
    ),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    st.sampled_from(["NFC", "NFD"]),
)
def test_a_card_gives_back_the_name_and_date_of_birth_written_on_it(
    name: str, born: date, form: Literal["NFC", "NFD"]
) -> None:
    written = unicodedata.normalize(form, name)
    raw = payload(new_card_fields(name=written, date_of_birth=f"{born:%d/%m}/{born.year:04d}"))

    card = decode_card_qr(raw)

    assert card.full_name == normalise_name(name)
    assert card.date_of_birth == born
