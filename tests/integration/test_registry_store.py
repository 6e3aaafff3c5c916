"""The registry in a real PostgreSQL: loads are all-or-nothing upserts; lookups read them back."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import ConnectionPool
from typer.testing import CliRunner

from activities.registry import read_registry
from activities.registry.store import (
    SCHEMA,
    LoadReport,
    PostgresRegistry,
    RegistryStoreError,
    TableCounts,
)
from domain.registry import (
    Account,
    AccountStatus,
    Office,
    Person,
    RegistryData,
    RegistryLoadError,
    Reviewer,
    ReviewerRole,
)
from domain.values import Gender
from workers.cli import app
from workers.run.demo import DEMO_REGISTRY as DEMO

BAD_ROWS = {
    "offices.csv": "92001,BHXH Thành phố Cần Thơ,92,3,maybe",
    "reviewers.csv": "rv-92001-01,Lâm Thị Cẩm,79001,auditor,true",
    "persons.csv": "9200000001,,Lâm Văn Tài,2015-02-30,male,,",
    "accounts.csv": "7900000011,closed,,",
    "holidays.csv": "2026-02-17,",
}


@pytest.fixture
def pool(database_url: str) -> Iterator[ConnectionPool]:
    pool = ConnectionPool(database_url, open=False, min_size=1, max_size=2)
    pool.open()
    yield pool
    pool.close()


@pytest.fixture
def registry(pool: ConnectionPool) -> PostgresRegistry:
    registry = PostgresRegistry(pool)
    registry.create_schema()
    return registry


@pytest.fixture
def demo_loaded(registry: PostgresRegistry) -> PostgresRegistry:
    registry.load(read_registry(DEMO))
    return registry


def copy_of_demo(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DEMO, tmp_path / "registry"))


def append(path: Path, row: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(row + "\n")


def counts(registry: PostgresRegistry) -> dict[str, int]:
    return registry.summary().rows


# --- loading ---------------------------------------------------------------------------------------


def test_loading_the_demo_inserts_every_row(registry: PostgresRegistry) -> None:
    data = read_registry(DEMO)

    report = registry.load(data)

    assert report == LoadReport(
        tables={
            "offices": TableCounts(inserted=3),
            "reviewers": TableCounts(inserted=9),
            "persons": TableCounts(inserted=17),
            "accounts": TableCounts(inserted=8),
            "holidays": TableCounts(inserted=12),
        }
    )
    assert report.total_changed == 49


def test_loading_the_same_files_twice_changes_nothing(
    pool: ConnectionPool, demo_loaded: PostgresRegistry
) -> None:
    changed_at_before = _changed_at(pool)

    report = demo_loaded.load(read_registry(DEMO))

    assert not report.changed
    assert report.tables["persons"] == TableCounts(unchanged=17)
    assert report.tables["holidays"] == TableCounts(unchanged=12)
    assert _changed_at(pool) == changed_at_before


def test_a_changed_row_is_updated_and_the_others_left_alone(
    tmp_path: Path, demo_loaded: PostgresRegistry
) -> None:
    directory = copy_of_demo(tmp_path)
    accounts = directory / "accounts.csv"
    accounts.write_text(
        accounts.read_text(encoding="utf-8").replace("0100000002,locked", "0100000002,active"),
        encoding="utf-8",
    )
    append(directory / "holidays.csv", "2027-02-08,Tết Nguyên đán Đinh Mùi")

    report = demo_loaded.load(read_registry(directory))

    assert report.tables["accounts"] == TableCounts(updated=1, unchanged=7)
    assert report.tables["holidays"] == TableCounts(inserted=1, unchanged=12)
    assert report.tables["persons"] == TableCounts(unchanged=17)
    account = demo_loaded.account("0100000002")
    assert account is not None
    assert account.status is AccountStatus.ACTIVE


def test_rows_missing_from_a_load_are_kept(tmp_path: Path, demo_loaded: PostgresRegistry) -> None:
    directory = tmp_path / "holidays-only"
    directory.mkdir()
    (directory / "holidays.csv").write_text(
        "date,name\n2027-01-01,Tết Dương lịch\n", encoding="utf-8"
    )

    report = demo_loaded.load(read_registry(directory))

    assert report.tables["holidays"] == TableCounts(unchanged=1)
    assert counts(demo_loaded)["persons"] == 17


@pytest.mark.parametrize("file", sorted(BAD_ROWS))
def test_a_load_with_one_bad_row_in_any_file_applies_nothing(
    tmp_path: Path, demo_loaded: PostgresRegistry, file: str
) -> None:
    directory = copy_of_demo(tmp_path)
    append(directory / "holidays.csv", "2027-02-08,Tết Nguyên đán Đinh Mùi")
    append(directory / "persons.csv", "7900000099,,Nguyễn Thị Lan,2019-05-01,female,HGD790003,")
    append(directory / file, BAD_ROWS[file])
    before = counts(demo_loaded)

    with pytest.raises(RegistryLoadError) as raised:
        demo_loaded.load(read_registry(directory))

    assert len(raised.value.problems) == 1
    assert raised.value.problems[0].startswith(f"{file}:")
    assert counts(demo_loaded) == before


def test_a_reviewer_may_join_an_office_already_stored(demo_loaded: PostgresRegistry) -> None:
    newcomer = Reviewer(
        reviewer_id="rv-48001-03",
        full_name="Tôn Nữ Diệu Hiền",
        office_code="48001",
        role=ReviewerRole.REVIEWER,
        active=True,
    )

    report = demo_loaded.load(RegistryData(reviewers=[newcomer]))

    assert report.tables["reviewers"] == TableCounts(inserted=1)
    assert demo_loaded.reviewer("rv-48001-03") == newcomer


def test_references_to_rows_neither_loaded_nor_stored_apply_nothing(
    tmp_path: Path, demo_loaded: PostgresRegistry
) -> None:
    directory = tmp_path / "partial"
    directory.mkdir()
    (directory / "offices.csv").write_text(
        "office_code,name,province_code,review_days,active\n92001,BHXH Thành phố Cần Thơ,92,3,true\n",
        encoding="utf-8",
    )
    (directory / "reviewers.csv").write_text(
        "reviewer_id,full_name,office_code,role,active\n"
        "rv-92001-01,Lâm Thị Cẩm,92001,reviewer,true\n"
        "rv-31001-01,Bùi Văn Khang,31001,reviewer,true\n",
        encoding="utf-8",
    )
    (directory / "accounts.csv").write_text(
        "social_insurance_code,status,phone,email\n7900000011,active,,\n9200000001,active,,\n",
        encoding="utf-8",
    )
    before = counts(demo_loaded)

    with pytest.raises(RegistryLoadError) as raised:
        demo_loaded.load(read_registry(directory))

    assert raised.value.problems == [
        "reviewers.csv:3: office_code: no office with this code in this load or in the registry",
        "accounts.csv:3: social_insurance_code: no person with this code in this load or in the registry",
    ]
    assert counts(demo_loaded) == before
    assert demo_loaded.office("92001") is None


def test_a_personal_id_number_of_another_stored_person_applies_nothing(
    demo_loaded: PostgresRegistry,
) -> None:
    newcomer = Person(
        social_insurance_code="7900000099",
        personal_id_number="079220000011",
        full_name="Nguyễn Thị Lan",
        date_of_birth=date(2019, 5, 1),
        gender=Gender.FEMALE,
    )
    before = counts(demo_loaded)

    with pytest.raises(RegistryLoadError) as raised:
        demo_loaded.load(RegistryData(persons=[newcomer]))

    assert raised.value.problems == [
        "persons[0]: personal_id_number: already belongs to another person in the registry"
    ]
    assert counts(demo_loaded) == before


def test_two_stored_persons_may_swap_personal_id_numbers(demo_loaded: PostgresRegistry) -> None:
    khoi = demo_loaded.person_by_code("7900000011")
    han = demo_loaded.person_by_code("7900000012")
    assert khoi is not None
    assert han is not None
    swapped = [
        khoi.model_copy(update={"personal_id_number": han.personal_id_number}),
        han.model_copy(update={"personal_id_number": khoi.personal_id_number}),
    ]

    report = demo_loaded.load(RegistryData(persons=swapped))

    assert report.tables["persons"] == TableCounts(updated=2)
    assert demo_loaded.person_by_personal_id("079326000012") == swapped[0]


def test_creating_the_schema_again_keeps_the_data(demo_loaded: PostgresRegistry) -> None:
    demo_loaded.create_schema()

    assert counts(demo_loaded)["persons"] == 17


# --- lookups ------------------------------------------------------------------------------------------


def test_the_demo_reads_back_through_the_lookups(demo_loaded: PostgresRegistry) -> None:
    data = read_registry(DEMO)

    offices = [demo_loaded.office(office.office_code) for office in data.offices]
    reviewers = [demo_loaded.reviewer(reviewer.reviewer_id) for reviewer in data.reviewers]
    persons = [demo_loaded.person_by_code(person.social_insurance_code) for person in data.persons]
    accounts = [demo_loaded.account(account.social_insurance_code) for account in data.accounts]
    holidays = demo_loaded.holidays(date(2026, 1, 1), date(2027, 12, 31))

    assert offices == data.offices
    assert reviewers == data.reviewers
    assert persons == data.persons
    assert accounts == data.accounts
    assert holidays == {holiday.date for holiday in data.holidays}


def test_a_child_can_be_found_by_personal_id_number_alone(demo_loaded: PostgresRegistry) -> None:
    child = demo_loaded.person_by_personal_id("048222000031")

    assert child is not None
    assert (child.social_insurance_code, child.full_name) == ("4800000031", "Trịnh Gia Hưng")


def test_unknown_keys_find_nothing(demo_loaded: PostgresRegistry) -> None:
    assert demo_loaded.office("31001") is None
    assert demo_loaded.reviewer("rv-31001-01") is None
    assert demo_loaded.person_by_code("7900000098") is None
    assert demo_loaded.person_by_personal_id("079220000099") is None
    assert demo_loaded.account("4800000002") is None


def test_an_offices_supervisors_are_its_active_supervisors(demo_loaded: PostgresRegistry) -> None:
    supervisors = demo_loaded.supervisors("01001")

    assert [supervisor.reviewer_id for supervisor in supervisors] == ["sv-01001-01"]


def test_holidays_are_looked_up_between_two_dates_inclusive(demo_loaded: PostgresRegistry) -> None:
    holidays = demo_loaded.holidays(date(2026, 4, 27), date(2026, 5, 1))

    assert holidays == {date(2026, 4, 27), date(2026, 4, 30), date(2026, 5, 1)}


def test_the_summary_counts_rows_reviewers_and_holiday_years(demo_loaded: PostgresRegistry) -> None:
    summary = demo_loaded.summary()

    assert summary.rows == {
        "offices": 3,
        "reviewers": 9,
        "persons": 17,
        "accounts": 8,
        "holidays": 12,
    }
    hanoi = next(office for office in summary.offices if office.office_code == "01001")
    assert (hanoi.active_reviewers, hanoi.active_supervisors) == (1, 1)
    danang = next(office for office in summary.offices if office.office_code == "48001")
    assert danang.review_days == 2
    assert summary.holiday_years == {2026: 11, 2027: 1}


def test_an_empty_registry_summarises_as_empty(registry: PostgresRegistry) -> None:
    summary = registry.summary()

    assert summary.rows == dict.fromkeys(
        ("offices", "reviewers", "persons", "accounts", "holidays"), 0
    )
    assert summary.offices == []
    assert summary.holiday_years == {}


def test_a_database_failure_is_a_registry_store_error(pool: ConnectionPool) -> None:
    registry = PostgresRegistry(pool)  # no schema: every table is missing

    with pytest.raises(
        RegistryStoreError, match=r"registry registry_offices lookup failed: UndefinedTable"
    ):
        registry.office("79001")


def test_the_schema_holds_the_registry_tables(
    pool: ConnectionPool, registry: PostgresRegistry
) -> None:
    with pool.connection() as connection:
        tables = {
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }

    assert tables == {
        "registry_offices",
        "registry_reviewers",
        "registry_persons",
        "registry_accounts",
        "registry_holidays",
    }
    assert "CREATE TABLE IF NOT EXISTS" in SCHEMA


def test_the_database_refuses_an_account_without_its_person(
    registry: PostgresRegistry, pool: ConnectionPool
) -> None:
    registry.load(
        RegistryData(
            offices=[Office(office_code="79001", name="BHXH", province_code="79", active=True)]
        )
    )

    with pytest.raises(psycopg.errors.ForeignKeyViolation), pool.connection() as connection:
        connection.execute(
            "INSERT INTO registry_accounts (social_insurance_code, status) VALUES ('7900000001', 'active')"
        )


def test_account_rows_keep_the_phone_in_e164(demo_loaded: PostgresRegistry) -> None:
    account = demo_loaded.account("7900000001")

    assert account == Account(
        social_insurance_code="7900000001",
        status=AccountStatus.ACTIVE,
        phone="+84912345678",
        email="an.nguyen@example.vn",
    )


# --- the command line ---------------------------------------------------------------------------------


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "CHILDREG_DATABASE_URL": database_url,
        "CHILDREG_DATA_DIR": str(tmp_path / "var"),
        "COLUMNS": "160",
    }


def test_the_command_loads_the_demo_and_shows_it(cli_env: dict[str, str]) -> None:
    runner = CliRunner()

    loaded = runner.invoke(app, ["registry", "load", str(DEMO)], env=cli_env)
    again = runner.invoke(app, ["registry", "load", str(DEMO)], env=cli_env)
    shown = runner.invoke(app, ["registry", "show"], env=cli_env)

    assert loaded.exit_code == 0, loaded.output
    assert "persons: 17 inserted, 0 updated, 0 unchanged" in loaded.stdout
    assert again.exit_code == 0, again.output
    assert "persons: 0 inserted, 0 updated, 17 unchanged" in again.stdout
    assert again.stdout.rstrip().endswith("nothing changed")
    assert shown.exit_code == 0, shown.output
    assert "BHXH Thành phố Đà Nẵng" in shown.stdout
    assert "2026 (11), 2027 (1)" in shown.stdout


def test_the_command_prints_every_problem_and_loads_nothing(
    tmp_path: Path, cli_env: dict[str, str], database_url: str
) -> None:
    directory = copy_of_demo(tmp_path)
    append(directory / "offices.csv", BAD_ROWS["offices.csv"])
    append(directory / "persons.csv", BAD_ROWS["persons.csv"])
    runner = CliRunner()

    result = runner.invoke(app, ["registry", "load", str(directory)], env=cli_env)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "offices.csv:5: active: must be true or false",
        "persons.csv:19: date_of_birth: must be a date written YYYY-MM-DD",
        "nothing loaded: 2 problems",
    ]
    with psycopg.connect(database_url) as connection:
        tables = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)


def test_the_command_warns_about_csv_files_it_does_not_know(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    directory = tmp_path / "typo"
    directory.mkdir()
    (directory / "holiday.csv").write_text("date,name\n2026-09-02,Quốc khánh\n", encoding="utf-8")
    (directory / "offices.csv").write_text(
        "office_code,name,province_code,review_days,active\n", encoding="utf-8"
    )
    runner = CliRunner()

    result = runner.invoke(app, ["registry", "load", str(directory)], env=cli_env)

    assert result.exit_code == 0, result.output
    assert "warning: holiday.csv is not a registry file: ignored" in result.stderr


def test_the_command_refuses_a_directory_without_registry_files(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    runner = CliRunner()

    result = runner.invoke(app, ["registry", "load", str(tmp_path)], env=cli_env)

    assert result.exit_code == 1
    assert "holds none of offices.csv" in result.stderr


def _changed_at(pool: ConnectionPool) -> list[object]:
    with pool.connection() as connection:
        return [
            row[0]
            for row in connection.execute(
                "SELECT changed_at FROM registry_persons UNION ALL SELECT changed_at FROM registry_holidays"
            )
        ]


def test_a_row_the_database_refuses_midway_rolls_back_the_whole_load(
    demo_loaded: PostgresRegistry,
) -> None:
    new_office = Office(
        office_code="92001", name="BHXH Thành phố Cần Thơ", province_code="92", active=True
    )
    # Built without validation, as a buggy caller might: only the database's CHECK stops it.
    broken = Person.model_construct(
        social_insurance_code="92000001",
        personal_id_number=None,
        full_name="Lâm Văn Tài",
        date_of_birth=date(2015, 2, 1),
        gender=Gender.MALE,
        household_code=None,
        health_insurance_card_number=None,
    )
    before = counts(demo_loaded)

    with pytest.raises(RegistryLoadError) as raised:
        demo_loaded.load(RegistryData(offices=[new_office], persons=[broken]))

    assert raised.value.problems == [
        "registry_persons: registry_persons_social_insurance_code_check: the database refused the load"
    ]
    assert counts(demo_loaded) == before
    assert demo_loaded.office("92001") is None


def test_four_eyes_is_an_optional_column_stored_with_the_office(
    tmp_path: Path, demo_loaded: PostgresRegistry
) -> None:
    directory = tmp_path / "four-eyes"
    directory.mkdir()
    (directory / "offices.csv").write_text(
        "office_code,name,province_code,review_days,active,four_eyes\n"
        "92001,BHXH Thành phố Cần Thơ,92,3,true,true\n"
        "93001,BHXH tỉnh Hậu Giang,93,3,true,\n",
        encoding="utf-8",
    )

    demo_loaded.load(read_registry(directory))
    summary = {office.office_code: office for office in demo_loaded.summary().offices}

    can_tho, hau_giang = demo_loaded.office("92001"), demo_loaded.office("93001")
    assert can_tho is not None
    assert can_tho.four_eyes is True
    assert hau_giang is not None
    assert hau_giang.four_eyes is False  # an empty cell: the default
    assert summary["92001"].four_eyes is True
    assert summary["79001"].four_eyes is False  # the demo's file has no four_eyes column


def test_a_bad_four_eyes_value_names_the_file_row_column_and_rule(tmp_path: Path) -> None:
    directory = tmp_path / "bad"
    directory.mkdir()
    (directory / "offices.csv").write_text(
        "office_code,name,province_code,review_days,active,four_eyes\n"
        "92001,BHXH Thành phố Cần Thơ,92,3,true,yes\n",
        encoding="utf-8",
    )

    with pytest.raises(RegistryLoadError) as refused:
        read_registry(directory)

    assert refused.value.problems == ["offices.csv:2: four_eyes: must be true or false"]
