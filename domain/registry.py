"""The registry: the management data an office checks a registration against.

One model per kind of row (offices, reviewers, persons, accounts, holidays), the rules that hold
across the rows of one load, and the port the domain's rules read the registry through (the
identity check, reviewer authorisation, the calendar of review deadlines). Where rows come from
(CSV files) and where they are kept (PostgreSQL) is the business of ``workers`` and ``activities``.

Problems are reported as ``where: column: rule`` lines and never quote a value: registry rows hold
people's names, codes and dates of birth.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from domain.errors import DomainError
from domain.values import (
    Email,
    Gender,
    HealthInsuranceCardNumber,
    Identifier,
    OfficeCode,
    PersonalIdNumber,
    PersonName,
    SocialInsuranceCode,
    VietnameseMobile,
    card_matches_code,
    normalise_name,
)

DEFAULT_REVIEW_DAYS = 3
"""Working days an office has to decide (Nghị định 166/2016: likely, hence configurable per office)."""

EARLIEST_BIRTH = dt.date(1900, 1, 1)


class RegistryLoadError(DomainError):
    """Registry data that cannot be loaded; ``problems`` holds every ``where: column: rule`` line."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        heading = f"{count} problem{'s' if count != 1 else ''} in the registry data"
        super().__init__("\n".join([heading + ":", *self.problems]))


# --- value types of the registry ---------------------------------------------------------------

LABEL_MAX_LENGTH = 200


def _label(value: str) -> str:
    text = normalise_name(value)
    if not text:
        raise ValueError("must not be empty")
    if len(text) > LABEL_MAX_LENGTH:
        raise ValueError(f"must be at most {LABEL_MAX_LENGTH} characters")
    return text


Label = Annotated[str, AfterValidator(_label)]
"""A display text (an office's or a holiday's name): NFC, trimmed, single spaces."""

_PROVINCE_CODE = re.compile(r"\d{2}", re.ASCII)


def _province_code(value: str) -> str:
    if not _PROVINCE_CODE.fullmatch(value):
        raise ValueError("a province code must be exactly 2 digits")
    return value


ProvinceCode = Annotated[str, AfterValidator(_province_code)]

_HOUSEHOLD_CODE = re.compile(r"[A-Za-z0-9]{1,32}", re.ASCII)


def _household_code(value: str) -> str:
    if not _HOUSEHOLD_CODE.fullmatch(value):
        raise ValueError("a household code must be 1 to 32 letters or digits")
    return value


HouseholdCode = Annotated[str, AfterValidator(_household_code)]
"""Opaque: it only groups the members of one household (mã hộ gia đình)."""

ReviewDays = Annotated[int, Field(ge=1, le=30)]


class ReviewerRole(StrEnum):
    REVIEWER = "reviewer"
    SUPERVISOR = "supervisor"
    """Receives the registrations whose review deadline has passed."""


class AccountStatus(StrEnum):
    ACTIVE = "active"
    LOCKED = "locked"
    PENDING = "pending"
    """Registered, not yet approved: not enough to register a child."""


# --- rows ------------------------------------------------------------------------------------------


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Office(_Row):
    """A social-insurance office (cơ quan BHXH) that receives and reviews registrations."""

    office_code: OfficeCode
    name: Label
    province_code: ProvinceCode
    review_days: ReviewDays = DEFAULT_REVIEW_DAYS
    active: bool
    four_eyes: bool = False
    """A reviewer's rejection is first proposed, and takes effect when a second active reviewer
    or supervisor of the office confirms it (``offices.csv``'s optional ``four_eyes`` column)."""


class Reviewer(_Row):
    reviewer_id: Identifier
    full_name: PersonName
    office_code: OfficeCode
    role: ReviewerRole
    active: bool


class Person(_Row):
    """A participant known to social insurance: a guardian or a child."""

    social_insurance_code: SocialInsuranceCode
    personal_id_number: PersonalIdNumber | None = None
    full_name: PersonName
    date_of_birth: dt.date
    gender: Gender
    household_code: HouseholdCode | None = None
    health_insurance_card_number: HealthInsuranceCardNumber | None = None
    """Old-style 15-character card number; cards since 4/2021 print the code alone (then None)."""

    @field_validator("date_of_birth")
    @classmethod
    def _plausible_birth(cls, value: dt.date) -> dt.date:
        if value < EARLIEST_BIRTH:
            raise ValueError(f"a date of birth must not be before {EARLIEST_BIRTH.isoformat()}")
        return value

    @field_validator("health_insurance_card_number")
    @classmethod
    def _card_is_the_persons(cls, value: str | None, info: ValidationInfo) -> str | None:
        code = info.data.get("social_insurance_code")
        # When the code itself is invalid its own error says so; one problem per cause.
        if value is not None and code is not None and not card_matches_code(value, code):
            raise ValueError(
                "a health-insurance card number must end with the person's social_insurance_code"
            )
        return value


class Account(_Row):
    """A person's VssID electronic-transaction account."""

    social_insurance_code: SocialInsuranceCode
    status: AccountStatus
    phone: VietnameseMobile | None = None
    email: Email | None = None


class Holiday(_Row):
    """A public holiday: not a working day when review deadlines are counted."""

    date: dt.date
    name: Label


# --- one load ------------------------------------------------------------------------------------

KINDS = ("offices", "reviewers", "persons", "accounts", "holidays")
"""The kinds of rows, in the order they are loaded (offices before reviewers, persons before accounts)."""


@dataclass
class RegistryData:
    """The rows of one load. ``lines`` says where each row came from, so problems can point at it."""

    offices: list[Office] = field(default_factory=list)
    reviewers: list[Reviewer] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    holidays: list[Holiday] = field(default_factory=list)
    lines: dict[str, list[int]] = field(default_factory=dict)
    """Kind → the physical line of each row in ``<kind>.csv``; empty for data made in code."""

    def rows(self, kind: str) -> Sequence[_Row]:
        rows: Sequence[_Row] = getattr(self, kind)
        return rows

    def where(self, kind: str, index: int) -> str:
        """``persons.csv:7`` for a row read from a file, ``persons[5]`` otherwise."""
        lines = self.lines.get(kind)
        if lines is not None and index < len(lines):
            return f"{kind}.csv:{lines[index]}"
        return f"{kind}[{index}]"

    def _earlier(self, kind: str, index: int) -> str:
        lines = self.lines.get(kind)
        if lines is not None and index < len(lines):
            return f"line {lines[index]}"
        return f"{kind}[{index}]"

    def is_empty(self) -> bool:
        return not any(self.rows(kind) for kind in KINDS)


def duplicate_problems(data: RegistryData) -> list[str]:
    """Keys given twice in one load: each office, reviewer, person, account and holiday once."""
    checks: list[tuple[str, str, list[object], str]] = [
        ("offices", "office_code", [o.office_code for o in data.offices], "one row per office"),
        (
            "reviewers",
            "reviewer_id",
            [r.reviewer_id for r in data.reviewers],
            "one row per reviewer",
        ),
        (
            "persons",
            "social_insurance_code",
            [p.social_insurance_code for p in data.persons],
            "one row per person",
        ),
        (
            "persons",
            "personal_id_number",
            [p.personal_id_number for p in data.persons],
            "a personal identification number belongs to one person",
        ),
        (
            "accounts",
            "social_insurance_code",
            [a.social_insurance_code for a in data.accounts],
            "one account per person",
        ),
        ("holidays", "date", [h.date for h in data.holidays], "one row per date"),
    ]
    problems = []
    for kind, column, keys, rule in checks:
        first_seen: dict[object, int] = {}
        for index, key in enumerate(keys):
            if key is None:
                continue
            if key in first_seen:
                earlier = data._earlier(kind, first_seen[key])
                problems.append(f"{data.where(kind, index)}: {column}: repeats {earlier}: {rule}")
            else:
                first_seen[key] = index
    return problems


def external_office_codes(data: RegistryData) -> set[str]:
    """Offices the reviewers of this load refer to that the load itself does not hold."""
    loaded = {office.office_code for office in data.offices}
    return {reviewer.office_code for reviewer in data.reviewers} - loaded


def external_person_codes(data: RegistryData) -> set[str]:
    """Persons the accounts of this load belong to that the load itself does not hold."""
    loaded = {person.social_insurance_code for person in data.persons}
    return {account.social_insurance_code for account in data.accounts} - loaded


def reference_problems(
    data: RegistryData, stored_offices: Collection[str], stored_persons: Collection[str]
) -> list[str]:
    """Reviewers of unknown offices and accounts of unknown persons.

    ``stored_*`` are the codes already in the registry (only the external ones matter: see
    :func:`external_office_codes`).
    """
    offices = {office.office_code for office in data.offices} | set(stored_offices)
    persons = {person.social_insurance_code for person in data.persons} | set(stored_persons)
    problems = [
        f"{data.where('reviewers', index)}: office_code: "
        "no office with this code in this load or in the registry"
        for index, reviewer in enumerate(data.reviewers)
        if reviewer.office_code not in offices
    ]
    problems += [
        f"{data.where('accounts', index)}: social_insurance_code: "
        "no person with this code in this load or in the registry"
        for index, account in enumerate(data.accounts)
        if account.social_insurance_code not in persons
    ]
    return problems


def personal_id_problems(data: RegistryData, stored_holders: Mapping[str, str]) -> list[str]:
    """Personal identification numbers of this load already held by another stored person.

    ``stored_holders`` maps each stored number the load mentions to its holder's code. A number
    moving from one person to another in the same load is fine: what counts is the state after it.
    """
    final_number = {p.social_insurance_code: p.personal_id_number for p in data.persons}
    problems = []
    for index, person in enumerate(data.persons):
        number = person.personal_id_number
        holder = stored_holders.get(number) if number is not None else None
        if holder is None or holder == person.social_insurance_code:
            continue
        if holder in final_number and final_number[holder] != number:
            continue
        problems.append(
            f"{data.where('persons', index)}: personal_id_number: "
            "already belongs to another person in the registry"
        )
    return problems


# --- the port ---------------------------------------------------------------------------------------


class RegistryLookups(Protocol):
    """What the domain's rules read from the registry: the identity check (``domain.identity``),
    reviewer authorisation (``domain.authorisation``) and review deadlines (``domain.calendar``).

    Implemented over PostgreSQL in ``activities.registry``; in memory for the tests."""

    def office(self, code: str) -> Office | None: ...

    def reviewer(self, reviewer_id: str) -> Reviewer | None: ...

    def supervisors(self, office_code: str) -> list[Reviewer]:
        """The office's active supervisors."""
        ...

    def person_by_code(self, code: str) -> Person | None: ...

    def person_by_personal_id(self, number: str) -> Person | None: ...

    def account(self, code: str) -> Account | None: ...

    def holidays(self, from_date: dt.date, to_date: dt.date) -> set[dt.date]:
        """Holidays between the two dates, both included."""
        ...
