"""The test registry: offices of TP.HCM, Hà Nội and Đà Nẵng, their reviewers, a family of three
and the people and accounts each identity rule needs."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.registry import (
    Account,
    AccountStatus,
    Holiday,
    Office,
    Person,
    RegistryData,
    Reviewer,
    ReviewerRole,
)
from domain.values import Gender

OFFICE = "79001"
OTHER_OFFICE = "01001"
CLOSED_OFFICE = "48001"
GUARDIAN = "0123456789"
CHILD = "7912345678"
CHILD_PERSONAL_ID = "079219000123"
SIBLING = "7912345679"
ADULT_CHILD = "7900000001"
REGISTERED_CHILD = "7900000002"
LOCKED_GUARDIAN = "0100000003"
STRANGER_CHILD = "7900000004"  # another household
REVIEWER = "rv-hcm-1"
SUPERVISOR = "sv-hcm-1"
OTHER_REVIEWER = "rv-hn-1"
INACTIVE_REVIEWER = "rv-hcm-old"


def registry_data() -> RegistryData:
    def person(code: str, name: str, born: date, gender: Gender, **more: Any) -> Person:
        return Person(
            social_insurance_code=code,
            full_name=name,
            date_of_birth=born,
            gender=gender,
            household_code=more.pop("household_code", "HCM0001"),
            **more,
        )

    return RegistryData(
        offices=[
            Office(
                office_code=OFFICE,
                name="BHXH cơ sở Quận 1",
                province_code="79",
                review_days=3,
                active=True,
            ),
            Office(
                office_code=OTHER_OFFICE, name="BHXH cơ sở Ba Đình", province_code="01", active=True
            ),
            Office(
                office_code=CLOSED_OFFICE,
                name="BHXH cơ sở Hải Châu",
                province_code="48",
                active=False,
            ),
        ],
        reviewers=[
            Reviewer(
                reviewer_id=REVIEWER,
                full_name="Phạm Thu Hà",
                office_code=OFFICE,
                role=ReviewerRole.REVIEWER,
                active=True,
            ),
            Reviewer(
                reviewer_id=SUPERVISOR,
                full_name="Đỗ Quang Vinh",
                office_code=OFFICE,
                role=ReviewerRole.SUPERVISOR,
                active=True,
            ),
            Reviewer(
                reviewer_id=OTHER_REVIEWER,
                full_name="Lê Minh Tuấn",
                office_code=OTHER_OFFICE,
                role=ReviewerRole.REVIEWER,
                active=True,
            ),
            Reviewer(
                reviewer_id=INACTIVE_REVIEWER,
                full_name="Vũ Thị Lan",
                office_code=OFFICE,
                role=ReviewerRole.REVIEWER,
                active=False,
            ),
        ],
        persons=[
            person(GUARDIAN, "Nguyễn Văn An", date(1988, 6, 2), Gender.MALE),
            person(
                CHILD,
                "Nguyễn Minh Khôi",
                date(2019, 3, 14),
                Gender.MALE,
                personal_id_number=CHILD_PERSONAL_ID,
            ),
            person(SIBLING, "Nguyễn Ngọc Diệp", date(2016, 8, 30), Gender.FEMALE),
            person(ADULT_CHILD, "Nguyễn Thành Đạt", date(2000, 1, 5), Gender.MALE),
            person(REGISTERED_CHILD, "Nguyễn Bảo Anh", date(2014, 11, 20), Gender.FEMALE),
            person(LOCKED_GUARDIAN, "Trần Thị Bích", date(1990, 2, 1), Gender.FEMALE),
            person(
                STRANGER_CHILD,
                "Hoàng Gia Bảo",
                date(2018, 5, 5),
                Gender.MALE,
                household_code="HN0009",
            ),
        ],
        accounts=[
            Account(
                social_insurance_code=GUARDIAN,
                status=AccountStatus.ACTIVE,
                phone="0912345678",
                email="an.nguyen@example.vn",
            ),
            Account(social_insurance_code=REGISTERED_CHILD, status=AccountStatus.ACTIVE),
            Account(social_insurance_code=LOCKED_GUARDIAN, status=AccountStatus.LOCKED),
        ],
        holidays=[Holiday(date=date(2026, 12, 31), name="Nghỉ bù Tết Dương lịch")],
    )


def four_eyes_offices() -> RegistryData:
    """The test registry's office with four eyes turned on (load it over ``registry_data()``):
    its rejections are proposed, then confirmed or declined by a second reviewer."""
    office = next(office for office in registry_data().offices if office.office_code == OFFICE)
    return RegistryData(offices=[office.model_copy(update={"four_eyes": True})])
