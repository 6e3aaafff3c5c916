"""Test data: a small registry (one office of TP.HCM, a family of three) and generated images.

The images are made here so that the thresholds of the document checks are calibrated on known
inputs: a sharp scan, the same blurred, a tiny one, a truncated one, one with GPS in its EXIF.
"""

from __future__ import annotations

import io
import random
from datetime import date
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

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


def card_qr(code: str = CHILD, name: str = "Nguyễn Minh Khôi", born: str = "14/03/2019") -> str:
    """The text of a new card's QR code (16 fields, names hex-encoded)."""
    fields = [
        code, name.encode().hex(), born, "1", "-", "79 - 79001", "01/01/2025", "-",
        "20/12/2024", "-", "Nguyễn Văn An".encode().hex(), "-", "-", "5f0e2a9c", "1",
        "BHXH thành phố Hồ Chí Minh".encode().hex(),
    ]  # fmt: skip
    return "|".join(fields) + "$"


def request(
    request_id: str, portrait: str, birth_certificate: str, **changes: Any
) -> dict[str, Any]:
    """A valid request as an upstream sends it (JSON); ``changes`` replace parts by dotted path."""
    body: dict[str, Any] = {
        "request_id": request_id,
        "submitted_at": "2026-11-25T09:00:00+07:00",
        "guardian": {
            "social_insurance_code": GUARDIAN,
            "full_name": "Nguyễn Văn An",
            "relationship": "father",
            "phone": "0912345678",
            "email": "an.nguyen@example.vn",
        },
        "child": {
            "social_insurance_code": CHILD,
            "full_name": "Nguyễn Minh Khôi",
            "date_of_birth": "2019-03-14",
            "health_insurance_card_qr": card_qr(),
        },
        "documents": {"portrait": portrait, "birth_certificate": birth_certificate},
        "office_code": OFFICE,
        "commitment": {"accepted": True, "accepted_at": "2026-11-25T08:59:40+07:00"},
    }
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = body
        for part in parents:
            target = target[part]
        if value is _DELETE:
            target.pop(last, None)
        else:
            target[last] = value
    return body


_DELETE = object()
DELETE: Any = _DELETE


# --- images ---------------------------------------------------------------------------------------


def scan(width: int = 800, height: int = 600, seed: int = 1) -> Image.Image:
    """A sharp, document-like image: blocks of colour and lines of text."""
    rng = random.Random(seed)  # noqa: S311  (test pictures, not secrets)
    image = Image.new("RGB", (width, height), (235, 230, 220))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle([x, y, x + rng.randrange(10, 120), y + rng.randrange(5, 40)], fill=colour)
    for top in range(0, height, 18):
        draw.text(
            (20, top), "GIAY KHAI SINH - CONG HOA XA HOI CHU NGHIA VIET NAM " * 2, fill=(20, 20, 20)
        )
    return image


def encoded(image: Image.Image, kind: str = "JPEG", **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=kind, **options)
    return out.getvalue()


def sharp_jpeg(seed: int = 1) -> bytes:
    return encoded(scan(seed=seed))


def blurred_jpeg(radius: float = 8) -> bytes:
    return encoded(scan().filter(ImageFilter.GaussianBlur(radius)))


def soft_png() -> bytes:
    return encoded(scan().filter(ImageFilter.GaussianBlur(3)), "PNG")


def tiny_png() -> bytes:
    return encoded(scan(120, 90), "PNG")


def truncated_jpeg() -> bytes:
    data = sharp_jpeg()
    return data[: len(data) // 2]


def jpeg_with_gps() -> bytes:
    image = scan()
    exif = Image.Exif()
    exif[0x010F] = "Phone maker"  # Make
    gps = {1: "N", 2: (10.0, 46.0, 30.0), 3: "E", 4: (106.0, 42.0, 10.0)}
    exif[0x8825] = gps  # GPSInfo
    return encoded(image, exif=exif)
