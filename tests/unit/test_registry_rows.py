"""The registry's rows, the rules across rows, business days, and reading the CSV files."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from activities.registry import REGISTRY_FILES, read_registry
from domain.calendar import business_deadline
from domain.registry import (
    Account,
    AccountStatus,
    Holiday,
    Office,
    Person,
    RegistryData,
    RegistryLoadError,
    Reviewer,
    ReviewerRole,
    duplicate_problems,
    personal_id_problems,
    reference_problems,
)
from domain.values import Gender
from workers.run.demo import DEMO_REGISTRY as DEMO

HEADERS = {
    "offices": "office_code,name,province_code,review_days,active",
    "reviewers": "reviewer_id,full_name,office_code,role,active",
    "persons": (
        "social_insurance_code,personal_id_number,full_name,date_of_birth,gender,"
        "household_code,health_insurance_card_number"
    ),
    "accounts": "social_insurance_code,status,phone,email",
    "holidays": "date,name",
}
GOOD_ROWS = {
    "offices": "79001,BHXH Thành phố Hồ Chí Minh,79,3,true",
    "reviewers": "rv-79001-01,Lê Thị Thu Hà,79001,reviewer,true",
    "persons": "7900000011,079220000011,Nguyễn Minh Khôi,2020-03-14,male,HGD790001,HS4797900000011",
    "accounts": "7900000001,active,0912345678,an.nguyen@example.vn",
    "holidays": "2026-09-02,Quốc khánh",
}


def write(directory: Path, kind: str, *rows: str, header: str | None = None) -> Path:
    path = directory / f"{kind}.csv"
    lines = [HEADERS[kind] if header is None else header, *rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(RegistryLoadError) as raised:
        read_registry(directory)
    return raised.value.problems


def khoi(**changes: object) -> Person:
    fields: dict[str, object] = {
        "social_insurance_code": "7900000011",
        "personal_id_number": "079220000011",
        "full_name": "Nguyễn Minh Khôi",
        "date_of_birth": date(2020, 3, 14),
        "gender": Gender.MALE,
        "household_code": "HGD790001",
        "health_insurance_card_number": "HS4797900000011",
    }
    return Person.model_validate(fields | changes)


# --- rows -------------------------------------------------------------------------------------------


def test_an_office_has_three_working_days_to_review_unless_told_otherwise() -> None:
    office = Office(
        office_code="79001", name="BHXH Thành phố Hồ Chí Minh", province_code="79", active=True
    )

    assert office.review_days == 3


@pytest.mark.parametrize("days", [0, 31])
def test_an_office_reviews_in_one_to_thirty_working_days(days: int) -> None:
    with pytest.raises(ValidationError) as raised:
        Office(office_code="79001", name="BHXH", province_code="79", review_days=days, active=True)

    assert raised.value.errors()[0]["loc"] == ("review_days",)


def test_a_province_code_is_two_digits() -> None:
    with pytest.raises(ValidationError) as raised:
        Office(office_code="79001", name="BHXH", province_code="079", active=True)

    assert "a province code must be exactly 2 digits" in str(raised.value)


def test_a_reviewer_is_a_reviewer_or_a_supervisor() -> None:
    supervisor = Reviewer(
        reviewer_id="sv-79001-01",
        full_name="Nguyễn Thị Kim Oanh",
        office_code="79001",
        role="supervisor",
        active=True,
    )

    assert supervisor.role is ReviewerRole.SUPERVISOR


def test_a_persons_name_is_kept_in_nfc_with_single_spaces() -> None:
    decomposed = unicodedata.normalize("NFD", "  Nguyễn   Minh Khôi ")

    person = khoi(full_name=decomposed)

    assert person.full_name == "Nguyễn Minh Khôi"
    assert unicodedata.is_normalized("NFC", person.full_name)


def test_a_health_insurance_card_must_end_with_the_persons_own_code() -> None:
    with pytest.raises(ValidationError) as raised:
        khoi(health_insurance_card_number="HS4797900000012")

    (error,) = raised.value.errors()
    assert error["loc"] == ("health_insurance_card_number",)
    assert "must end with the person's social_insurance_code" in error["msg"]


def test_a_person_may_have_no_card_no_personal_id_number_and_no_household() -> None:
    person = khoi(personal_id_number=None, household_code=None, health_insurance_card_number=None)

    assert person.health_insurance_card_number is None


def test_a_household_code_is_letters_and_digits() -> None:
    with pytest.raises(ValidationError) as raised:
        khoi(household_code="HGD-790001")

    assert "a household code must be 1 to 32 letters or digits" in str(raised.value)


def test_an_accounts_phone_is_kept_in_e164() -> None:
    account = Account(
        social_insurance_code="7900000001", status=AccountStatus.ACTIVE, phone="0912 345 678"
    )

    assert account.phone == "+84912345678"


def test_a_holidays_name_is_trimmed() -> None:
    holiday = Holiday(date=date(2026, 9, 2), name="  Quốc   khánh ")

    assert holiday.name == "Quốc khánh"


# --- business days ------------------------------------------------------------------------------

TET_2026 = {date(2026, 2, day) for day in range(16, 21)}
SPRING_2026 = {date(2026, 4, 27), date(2026, 4, 30), date(2026, 5, 1)}


@pytest.mark.parametrize(
    ("start", "days", "holidays", "deadline"),
    [
        pytest.param(
            date(2026, 11, 25), 3, set(), date(2026, 11, 30), id="wednesday-skips-the-weekend"
        ),
        pytest.param(date(2026, 11, 27), 3, set(), date(2026, 12, 2), id="friday-to-wednesday"),
        pytest.param(date(2026, 11, 28), 1, set(), date(2026, 11, 30), id="saturday-to-monday"),
        pytest.param(date(2026, 2, 13), 3, TET_2026, date(2026, 2, 25), id="tet-week"),
        pytest.param(date(2026, 4, 24), 3, SPRING_2026, date(2026, 5, 4), id="hung-kings-and-30-4"),
        pytest.param(date(2026, 11, 25), 0, set(), date(2026, 11, 25), id="zero-days"),
    ],
)
def test_the_deadline_counts_working_days_after_the_start(
    start: date, days: int, holidays: set[date], deadline: date
) -> None:
    result = business_deadline(start, days, holidays)

    assert result == deadline


def test_a_weekend_holiday_changes_nothing() -> None:
    sunday = date(2026, 11, 29)

    result = business_deadline(date(2026, 11, 27), 1, {sunday})

    assert result == date(2026, 11, 30)


def test_a_negative_number_of_working_days_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        business_deadline(date(2026, 11, 25), -1, set())


# --- rules across rows ------------------------------------------------------------------------------


def test_keys_repeated_in_data_made_in_code_are_located_by_index() -> None:
    data = RegistryData(persons=[khoi(), khoi(personal_id_number=None)])

    problems = duplicate_problems(data)

    assert problems == ["persons[1]: social_insurance_code: repeats persons[0]: one row per person"]


def test_references_may_point_at_rows_already_stored() -> None:
    data = RegistryData(
        reviewers=[
            Reviewer(
                reviewer_id="rv-01001-01",
                full_name="Đỗ Minh Tuấn",
                office_code="01001",
                role=ReviewerRole.REVIEWER,
                active=True,
            )
        ],
        accounts=[Account(social_insurance_code="0100000001", status=AccountStatus.ACTIVE)],
    )

    unresolved = reference_problems(data, stored_offices=set(), stored_persons=set())
    resolved = reference_problems(data, stored_offices={"01001"}, stored_persons={"0100000001"})

    assert unresolved == [
        "reviewers[0]: office_code: no office with this code in this load or in the registry",
        "accounts[0]: social_insurance_code: no person with this code in this load or in the registry",
    ]
    assert resolved == []


def test_a_personal_id_number_held_by_another_stored_person_is_refused() -> None:
    data = RegistryData(persons=[khoi()])

    problems = personal_id_problems(data, {"079220000011": "7900000099"})

    assert problems == [
        "persons[0]: personal_id_number: already belongs to another person in the registry"
    ]


def test_two_persons_may_swap_personal_id_numbers_in_one_load() -> None:
    a = khoi(personal_id_number="079220000012")
    b = khoi(
        social_insurance_code="7900000012",
        personal_id_number="079220000011",
        health_insurance_card_number=None,
    )
    stored = {"079220000011": "7900000011", "079220000012": "7900000012"}

    problems = personal_id_problems(RegistryData(persons=[a, b]), stored)

    assert problems == []


# --- reading the CSV files ------------------------------------------------------------------------


def test_the_demo_registry_reads_without_problems() -> None:
    data = read_registry(DEMO)

    assert (len(data.offices), len(data.reviewers), len(data.persons)) == (3, 9, 17)
    assert (len(data.accounts), len(data.holidays)) == (8, 12)


def test_every_demo_file_is_a_registry_file() -> None:
    names = sorted(path.name for path in DEMO.glob("*.csv"))

    assert names == sorted(REGISTRY_FILES)


def test_cells_become_typed_values(tmp_path: Path) -> None:
    write(tmp_path, "offices", "48001,BHXH Thành phố Đà Nẵng,48,2,false")
    write(tmp_path, "persons", GOOD_ROWS["persons"])

    data = read_registry(tmp_path)

    assert data.offices == [
        Office(
            office_code="48001",
            name="BHXH Thành phố Đà Nẵng",
            province_code="48",
            review_days=2,
            active=False,
        )
    ]
    assert data.persons[0].date_of_birth == date(2020, 3, 14)
    assert data.persons[0].gender is Gender.MALE


def test_an_empty_cell_is_a_missing_optional_value(tmp_path: Path) -> None:
    write(tmp_path, "offices", "01001,BHXH Thành phố Hà Nội,01,,true")
    write(tmp_path, "persons", "7900000031,,Huỳnh Quốc Việt,2009-06-30,male,,")
    write(tmp_path, "accounts", "7900000031,active,,")

    data = read_registry(tmp_path)

    assert data.offices[0].review_days == 3
    assert data.persons[0].personal_id_number is None
    assert data.persons[0].household_code is None
    assert data.accounts[0].phone is None


def test_any_file_may_be_absent(tmp_path: Path) -> None:
    write(tmp_path, "holidays", GOOD_ROWS["holidays"])

    data = read_registry(tmp_path)

    assert len(data.holidays) == 1
    assert [data.offices, data.reviewers, data.persons, data.accounts] == [[], [], [], []]


def test_a_byte_order_mark_and_windows_line_ends_are_accepted(tmp_path: Path) -> None:
    text = HEADERS["holidays"] + "\r\n" + GOOD_ROWS["holidays"] + "\r\n"
    (tmp_path / "holidays.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))

    data = read_registry(tmp_path)

    assert data.holidays == [Holiday(date=date(2026, 9, 2), name="Quốc khánh")]


def test_columns_may_come_in_any_order(tmp_path: Path) -> None:
    write(tmp_path, "holidays", "Quốc khánh,2026-09-02", header="name,date")

    data = read_registry(tmp_path)

    assert data.holidays[0].date == date(2026, 9, 2)


def test_rows_remember_their_physical_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "holidays",
        "2026-01-01,Tết Dương lịch",
        "",
        '2026-04-30,"Ngày Giải phóng miền Nam,\nthống nhất đất nước"',
        "2026-05-01,Ngày Quốc tế Lao động",
    )

    data = read_registry(tmp_path)

    assert data.lines["holidays"] == [2, 4, 6]
    assert data.holidays[1].name == "Ngày Giải phóng miền Nam, thống nhất đất nước"


def test_a_header_with_missing_unknown_and_repeated_columns_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        "accounts",
        "7900000001,active,0912345678,x",
        header="social_insurance_code,status,phone,mobile,phone",
    )

    problems = problems_of(tmp_path)

    assert problems == [
        "accounts.csv:1: column 4: unknown column; the columns are social_insurance_code, status, phone, email",
        "accounts.csv:1: phone: the column appears twice",
        "accounts.csv:1: email: missing column",
    ]


def test_a_file_without_its_header_row_is_refused_without_quoting_the_first_person(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "persons",
        "7900000012,079326000012,Nguyễn Ngọc Hân,2026-05-10,female,HGD790001,",
        header="7900000011,079220000011,Nguyễn Minh Khôi,2020-03-14,male,HGD790001,",
    )

    problems = problems_of(tmp_path)

    assert problems[0].startswith("persons.csv:1: column 1: unknown column; the columns are ")
    assert "persons.csv:1: column 3: unknown column" in problems[2]
    for value in ("7900000011", "079220000011", "Khôi", "2020-03-14", "HGD790001", "male"):
        assert not any(value in problem for problem in problems)


def test_a_file_with_no_header_is_refused(tmp_path: Path) -> None:
    (tmp_path / "offices.csv").write_text("\n", encoding="utf-8")

    problems = problems_of(tmp_path)

    assert problems == ["offices.csv:1: header: the file is empty; it needs a header row"]


def test_a_file_that_is_not_utf8_is_refused_at_the_line_of_the_first_bad_byte(
    tmp_path: Path,
) -> None:
    text = HEADERS["holidays"] + "\n" + GOOD_ROWS["holidays"] + "\n2026-01-01,Tết Dương lịch\n"
    (tmp_path / "holidays.csv").write_bytes(text.encode("cp1258", errors="replace"))

    problems = problems_of(tmp_path)

    assert problems == ["holidays.csv:2: file: is not UTF-8 text (save it as CSV UTF-8)"]


@pytest.mark.parametrize(
    ("kind", "row", "problem"),
    [
        (
            "offices",
            "7900A,BHXH,79,3,true",
            "offices.csv:3: office_code: an office code must be 2 to 8 digits",
        ),
        ("offices", "79002,,79,3,true", "offices.csv:3: name: a value is required"),
        (
            "offices",
            "79002,BHXH,7,3,true",
            "offices.csv:3: province_code: a province code must be exactly 2 digits",
        ),
        (
            "offices",
            "79002,BHXH,79,0,true",
            "offices.csv:3: review_days: Input should be greater than or equal to 1",
        ),
        (
            "offices",
            "79002,BHXH,79,31,true",
            "offices.csv:3: review_days: Input should be less than or equal to 30",
        ),
        (
            "offices",
            "79002,BHXH,79,ba,true",
            "offices.csv:3: review_days: Input should be a valid integer, unable to parse string as an integer",
        ),
        ("offices", "79002,BHXH,79,3,yes", "offices.csv:3: active: must be true or false"),
        ("offices", "79002,BHXH,79,3,TRUE", "offices.csv:3: active: must be true or false"),
        ("offices", "79002,BHXH,79,3,", "offices.csv:3: active: a value is required"),
        ("offices", "79002,BHXH,79,3", "offices.csv:3: row: has 4 cells where the header has 5"),
        (
            "reviewers",
            "rv 79001 02,Phạm Quốc Bảo,79001,reviewer,true",
            "reviewers.csv:3: reviewer_id: an identifier must be 1 to 64 of the characters A-Z a-z 0-9 . _ @ : -",
        ),
        (
            "reviewers",
            "rv-79001-02,Phạm Quốc Bảo 2,79001,reviewer,true",
            "reviewers.csv:3: full_name: a name may hold only letters, spaces, apostrophes, dots and hyphens",
        ),
        (
            "reviewers",
            "rv-79001-02,Phạm Quốc Bảo,79001,admin,true",
            "reviewers.csv:3: role: Input should be 'reviewer' or 'supervisor'",
        ),
        (
            "persons",
            "790000001,,Huỳnh Quốc Việt,2009-06-30,male,,",
            "persons.csv:3: social_insurance_code: a social-insurance code (mã số BHXH) must be exactly 10 digits",
        ),
        (
            "persons",
            "7900000031,07930800003,Huỳnh Quốc Việt,2009-06-30,male,,",
            "persons.csv:3: personal_id_number: "
            "a personal identification number (số định danh cá nhân) must be exactly 12 digits",
        ),
        (
            "persons",
            "7900000031,,Huỳnh Quốc Việt,30/06/2009,male,,",
            "persons.csv:3: date_of_birth: must be a date written YYYY-MM-DD",
        ),
        (
            "persons",
            "7900000031,,Huỳnh Quốc Việt,2009-02-30,male,,",
            "persons.csv:3: date_of_birth: must be a date written YYYY-MM-DD",
        ),
        (
            "persons",
            "7900000031,,Huỳnh Quốc Việt,1899-12-31,male,,",
            "persons.csv:3: date_of_birth: a date of birth must not be before 1900-01-01",
        ),
        (
            "persons",
            "7900000031,,Huỳnh Quốc Việt,2009-06-30,nam,,",
            "persons.csv:3: gender: Input should be 'male' or 'female'",
        ),
        (
            "persons",
            "7900000031,,Huỳnh Quốc Việt,2009-06-30,male,,HS4797900000032",
            "persons.csv:3: health_insurance_card_number: "
            "a health-insurance card number must end with the person's social_insurance_code",
        ),
        (
            "persons",
            "7900000031,,Huỳnh Quốc Việt,2009-06-30,male,,HS79790000003",
            "persons.csv:3: health_insurance_card_number: a health-insurance card number must be "
            "2 capital letters, a benefit level 1-5 and 12 digits (15 characters, e.g. HS4790123456789)",
        ),
        (
            "accounts",
            "7900000003,closed,,",
            "accounts.csv:3: status: Input should be 'active', 'locked' or 'pending'",
        ),
        (
            "accounts",
            "7900000003,active,02838123456,",
            "accounts.csv:3: phone: a phone number must be a mobile number (SMS goes to it), not a landline",
        ),
        (
            "accounts",
            "7900000003,active,,mai.dang@example",
            "accounts.csv:3: email: an email address must be valid: "
            "The part after the @-sign is not valid. It should have a period.",
        ),
        (
            "holidays",
            "2026-13-01,Quốc khánh",
            "holidays.csv:3: date: must be a date written YYYY-MM-DD",
        ),
        (
            "holidays",
            "20260902,Quốc khánh",
            "holidays.csv:3: date: must be a date written YYYY-MM-DD",
        ),
        ("holidays", "2026-09-01,   ", "holidays.csv:3: name: a value is required"),
    ],
)
def test_a_bad_row_is_reported_as_file_line_column_and_rule(
    tmp_path: Path, kind: str, row: str, problem: str
) -> None:
    write(tmp_path, kind, GOOD_ROWS[kind], row)

    problems = problems_of(tmp_path)

    assert problems == [problem]


def test_every_problem_of_every_file_is_reported_together(tmp_path: Path) -> None:
    write(tmp_path, "offices", "79001,BHXH,79,3,maybe", "01001,BHXH,1,3,true")
    write(tmp_path, "persons", "7900000031,,Huỳnh Quốc Việt,2009-06-30,other,,")
    write(tmp_path, "holidays", "2026-09-02,Quốc khánh", "2026-09-02,Quốc khánh")

    problems = problems_of(tmp_path)

    assert problems == [
        "offices.csv:2: active: must be true or false",
        "offices.csv:3: province_code: a province code must be exactly 2 digits",
        "persons.csv:2: gender: Input should be 'male' or 'female'",
        "holidays.csv:3: date: repeats line 2: one row per date",
    ]


def test_one_row_with_several_bad_cells_reports_each_in_column_order(tmp_path: Path) -> None:
    write(tmp_path, "persons", "79000000,12,,2009-06-31,male,,")

    problems = problems_of(tmp_path)

    assert problems == [
        "persons.csv:2: social_insurance_code: a social-insurance code (mã số BHXH) must be exactly 10 digits",
        "persons.csv:2: personal_id_number: "
        "a personal identification number (số định danh cá nhân) must be exactly 12 digits",
        "persons.csv:2: full_name: a value is required",
        "persons.csv:2: date_of_birth: must be a date written YYYY-MM-DD",
    ]


def test_a_key_repeated_within_a_file_points_at_its_first_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "persons",
        "7900000011,079220000011,Nguyễn Minh Khôi,2020-03-14,male,HGD790001,",
        "7900000012,079220000011,Nguyễn Ngọc Hân,2026-05-10,female,HGD790001,",
        "7900000011,,Nguyễn Minh Khôi,2020-03-14,male,HGD790001,",
    )
    write(tmp_path, "accounts", "7900000011,active,,", "7900000011,locked,,")

    problems = problems_of(tmp_path)

    assert problems == [
        "persons.csv:4: social_insurance_code: repeats line 2: one row per person",
        "persons.csv:3: personal_id_number: repeats line 2: "
        "a personal identification number belongs to one person",
        "accounts.csv:3: social_insurance_code: repeats line 2: one account per person",
    ]


def test_problems_name_the_column_and_never_quote_the_value(tmp_path: Path) -> None:
    write(
        tmp_path,
        "persons",
        "7900000031,0793080000329,Huỳnh Quốc Việt 9,2009-13-30,male,HGD 790002,",
    )
    write(tmp_path, "accounts", "7900000031,active,0912 34,viet@@example.vn")

    problems = problems_of(tmp_path)

    text = "\n".join(problems)
    for value in (
        "0793080000329",
        "Huỳnh",
        "2009-13-30",
        "HGD 790002",
        "0912 34",
        "viet@@example.vn",
    ):
        assert value not in text
    assert len(problems) == 6
