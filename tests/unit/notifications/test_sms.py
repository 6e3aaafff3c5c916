from hypothesis import given
from hypothesis import strategies as st

from activities.notifications.sms import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    is_gsm7,
    segments,
    septets,
    split,
    to_gsm7,
)

gsm_text = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=1200)


def test_vietnamese_loses_its_diacritics_and_keeps_its_letters() -> None:
    text = to_gsm7("Nguyễn Minh Khôi, Trần Thị Ánh, Đặng Đức Ưng, Lê Thị Hường")

    assert text == "Nguyen Minh Khoi, Tran Thi Anh, Dang Duc Ung, Le Thi Huong"


def test_d_with_stroke_is_mapped_explicitly_in_both_cases() -> None:
    assert to_gsm7("Đoàn đò Đà Nẵng") == "Doan do Da Nang"


def test_a_decomposed_name_gives_the_same_text_as_a_composed_one() -> None:
    composed = "Nguyễn Văn An"
    decomposed = "Nguye\u0302\u0303n Va\u0306n An"

    assert to_gsm7(decomposed) == to_gsm7(composed)


def test_typographic_punctuation_becomes_its_gsm_equivalent() -> None:
    text = to_gsm7("“Tờ khai” – đã nhận… [DK-1A2B3C4D] {x} ~ | 5€")

    assert text == '"To khai" - da nhan... (DK-1A2B3C4D) (x) - / 5EUR'


def test_characters_outside_gsm7_are_replaced_with_a_question_mark() -> None:
    assert to_gsm7("OK 👍 中文") == "OK ? ??"


@given(st.text(max_size=300))
def test_any_text_becomes_basic_gsm7_only(text: str) -> None:
    converted = to_gsm7(text)

    assert all(char in GSM7_BASIC for char in converted)


def test_a_message_of_160_septets_is_one_sms() -> None:
    assert split("a" * 160) == ["a" * 160]


def test_a_message_of_161_septets_is_two_segments_of_153_and_8() -> None:
    parts = split("a" * 161)

    assert [len(part) for part in parts] == [153, 8]


def test_306_septets_fit_two_segments_and_307_need_three() -> None:
    assert [len(part) for part in split("b" * 306)] == [153, 153]
    assert [len(part) for part in split("b" * 307)] == [153, 153, 1]


def test_an_extension_character_counts_as_two_septets() -> None:
    assert septets("€" * 80) == 160
    assert split("€" * 80) == ["€" * 80]
    assert len(split("€" * 80 + "a")) == 2


def test_an_extension_character_is_never_split_from_its_escape() -> None:
    text = "a" + "€" * 80  # 161 septets; the 77th euro sign would straddle the boundary

    parts = split(text)

    assert [septets(part) for part in parts] == [153, 8]
    assert parts[0] == "a" + "€" * 76


@given(gsm_text)
def test_segments_put_back_together_are_the_message(text: str) -> None:
    parts = split(text)

    assert "".join(parts) == text
    if len(parts) > 1:
        assert all(septets(part) <= 153 for part in parts)
    else:
        assert septets(text) <= 160


def test_concatenated_segments_carry_a_user_data_header_with_reference_total_and_number() -> None:
    parts = segments("c" * 400, reference=0x2A)

    assert [part.udh for part in parts] == [
        bytes([0x05, 0x00, 0x03, 0x2A, 3, 1]),
        bytes([0x05, 0x00, 0x03, 0x2A, 3, 2]),
        bytes([0x05, 0x00, 0x03, 0x2A, 3, 3]),
    ]


def test_a_single_sms_has_no_user_data_header() -> None:
    assert segments("Xin chao", reference=7)[0].udh is None


def test_text_with_characters_outside_gsm7_cannot_be_measured() -> None:
    assert not is_gsm7("Khôi")
