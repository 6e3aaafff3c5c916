"""Value objects of the registration domain.

Each is a pydantic ``Annotated`` type: usable as a model field (errors then carry the field's
location) or on its own through :func:`parse`. Every rule raises a ``ValueError`` whose message
states the rule, so that ``field: rule`` reads as a complete sentence.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import phonenumbers
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, TypeAdapter

from domain.errors import InvalidValue

T = TypeVar("T")


def _require_str(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A code given as a number has already lost its leading zeros: refuse it.
        raise ValueError("must be a string of digits, not a number (leading zeros matter)")
    return value


def _digits(count: int, what: str) -> Any:
    pattern = re.compile(rf"\d{{{count}}}", re.ASCII)

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{what} must be exactly {count} digits")
        return value

    return check


SocialInsuranceCode = Annotated[
    str,
    BeforeValidator(_require_str),
    StringConstraints(strip_whitespace=True),
    AfterValidator(_digits(10, "a social-insurance code (mã số BHXH)")),
]
"""Mã số BHXH: exactly 10 digits, kept as a string (leading zeros matter)."""

PersonalIdNumber = Annotated[
    str,
    BeforeValidator(_require_str),
    StringConstraints(strip_whitespace=True),
    AfterValidator(_digits(12, "a personal identification number (số định danh cá nhân)")),
]
"""Số định danh cá nhân: exactly 12 digits."""

_CARD = re.compile(r"[A-Z]{2}[1-5]\d{12}", re.ASCII)


def _card_number(value: str) -> str:
    compact = value.replace(" ", "").upper()
    if not _CARD.fullmatch(compact):
        raise ValueError(
            "a health-insurance card number must be 2 capital letters, a benefit level 1-5 "
            "and 12 digits (15 characters, e.g. HS4790123456789)"
        )
    return compact


HealthInsuranceCardNumber = Annotated[
    str, BeforeValidator(_require_str), AfterValidator(_card_number)
]
"""Old-style thẻ BHYT number ``XX Y ZZ NNNNNNNNNN``; the last 10 digits are the holder's code."""


def card_matches_code(card_number: str, social_insurance_code: str) -> bool:
    """The 15-character card number ends with the holder's 10-digit social-insurance code."""
    return card_number[-10:] == social_insurance_code


OFFICE_CODE_PATTERN = re.compile(r"\d{2,8}", re.ASCII)


def _office_code(value: str) -> str:
    if not OFFICE_CODE_PATTERN.fullmatch(value):
        raise ValueError("an office code must be 2 to 8 digits")
    return value


OfficeCode = Annotated[
    str,
    BeforeValidator(_require_str),
    StringConstraints(strip_whitespace=True),
    AfterValidator(_office_code),
]
"""An opaque office code keyed to a province (no official list exists: it is reference data)."""

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)


WORKFLOW_ID_PREFIX = "registration-"
"""The registration's workflow id is this prefix and its request id (README: "The public contract")."""


def _request_id(value: str) -> str:
    if not _REQUEST_ID.fullmatch(value):
        raise ValueError("a request id must be 1 to 64 of the characters A-Z a-z 0-9 . _ -")
    if value.startswith(WORKFLOW_ID_PREFIX):
        # A refused request is kept under its workflow id, which starts so: never a request id.
        raise ValueError(f"a request id must not start with {WORKFLOW_ID_PREFIX}")
    return value


RequestId = Annotated[str, AfterValidator(_request_id)]

_DOCUMENT_REF = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)


def _document_ref(value: str) -> str:
    if not _DOCUMENT_REF.fullmatch(value):
        raise ValueError(
            "a document reference must be 'sha256:' followed by 64 lowercase hex digits"
        )
    return value


DocumentRef = Annotated[str, AfterValidator(_document_ref)]

_IDENTIFIER = re.compile(r"[A-Za-z0-9._@:-]{1,64}", re.ASCII)


def _identifier(value: str) -> str:
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError("an identifier must be 1 to 64 of the characters A-Z a-z 0-9 . _ @ : -")
    return value


Identifier = Annotated[str, AfterValidator(_identifier)]
"""Reviewer ids, decision ids and other opaque keys that must never carry personal data."""


class Relationship(StrEnum):
    FATHER = "father"
    MOTHER = "mother"
    GUARDIAN = "guardian"


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


# --- names -----------------------------------------------------------------------------------

NAME_MAX_LENGTH = 100
_NAME_CHAR_EXTRA = frozenset(" '-.")


def normalise_name(value: str) -> str:
    """NFC, trimmed, inner runs of white space collapsed to one space."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def _person_name(value: str) -> str:
    name = normalise_name(value)
    if not name:
        raise ValueError("a name must not be empty")
    if len(name) > NAME_MAX_LENGTH:
        raise ValueError(f"a name must be at most {NAME_MAX_LENGTH} characters")
    for char in name:
        if not (char.isalpha() or char in _NAME_CHAR_EXTRA or unicodedata.category(char) == "Mn"):
            raise ValueError("a name may hold only letters, spaces, apostrophes, dots and hyphens")
    if not any(char.isalpha() for char in name):
        raise ValueError("a name must contain letters")
    return name


PersonName = Annotated[str, BeforeValidator(_require_str), AfterValidator(_person_name)]
"""One field (họ + tên đệm + tên), never split; stored NFC with single spaces."""


def name_key(name: str) -> str:
    """The comparison key: normalised and case-folded ("trần thị ánh" ~ "TRẦN THỊ ÁNH")."""
    return unicodedata.normalize("NFC", normalise_name(name).casefold())


_NO_DECOMPOSITION = str.maketrans({"đ": "d", "Đ": "D"})


def strip_accents(text: str) -> str:
    """Vietnamese without diacritics. Đ/đ has no Unicode decomposition, so it is mapped explicitly."""
    decomposed = unicodedata.normalize("NFD", text.translate(_NO_DECOMPOSITION))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


class NameMatch(StrEnum):
    EXACT = "exact"
    """Equal once normalised and case-folded."""
    ACCENTS_ONLY = "accents_only"
    """Equal only once accents are stripped: a warning for the reviewer, never a match."""
    DIFFERENT = "different"


def compare_names(declared: str, recorded: str) -> NameMatch:
    if name_key(declared) == name_key(recorded):
        return NameMatch.EXACT
    if strip_accents(name_key(declared)) == strip_accents(name_key(recorded)):
        return NameMatch.ACCENTS_ONLY
    return NameMatch.DIFFERENT


# --- phone and email ---------------------------------------------------------------------------


def _vietnamese_mobile(value: str) -> str:
    try:
        number = phonenumbers.parse(value, "VN")
    except phonenumbers.NumberParseException:
        raise ValueError(
            "a phone number must be a Vietnamese mobile number such as 0912345678"
        ) from None
    if number.country_code != 84 or not phonenumbers.is_valid_number(number):
        raise ValueError("a phone number must be a Vietnamese mobile number such as 0912345678")
    if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        raise ValueError("a phone number must be a mobile number (SMS goes to it), not a landline")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


VietnameseMobile = Annotated[str, BeforeValidator(_require_str), AfterValidator(_vietnamese_mobile)]
"""A Vietnamese mobile number in any usual form (0912…, +84 912…, 84912…), stored as E.164."""


def _email(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"an email address must be valid: {error}") from None


Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_email)
]

# --- dates ---------------------------------------------------------------------------------------

ADULT_AGE = 18


def birthday(date_of_birth: date, years: int) -> date:
    """The date a person born on ``date_of_birth`` turns ``years`` (29 February → 1 March)."""
    try:
        return date_of_birth.replace(year=date_of_birth.year + years)
    except ValueError:
        return date(date_of_birth.year + years, 3, 1)


def is_minor_on(date_of_birth: date, day: date) -> bool:
    return day < birthday(date_of_birth, ADULT_AGE)


def check_minor(date_of_birth: date, on: date) -> None:
    """Raise ``ValueError`` naming the rule when the person is not a minor on ``on``.

    The messages carry no dates: they travel to other systems and must hold no personal data.
    """
    if date_of_birth > on:
        raise ValueError("the date of birth must not be after the submission date")
    if not is_minor_on(date_of_birth, on):
        raise ValueError(f"the child must be under {ADULT_AGE} on the submission date")


PositiveDays = Annotated[int, Field(ge=1, le=60)]

# --- standalone parsing ---------------------------------------------------------------------------


def parse(kind: Any, value: object, field: str) -> Any:
    """Validate ``value`` as the value type ``kind``; a failure is an :class:`InvalidValue` on ``field``."""
    from pydantic import ValidationError

    try:
        return TypeAdapter(kind).validate_python(value)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidValue(field, _rule(first)) from None


def _rule(error: Any) -> str:
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


def describe_validation_error(error: Any, prefix: str = "") -> list[InvalidValue]:
    """Turn a pydantic ``ValidationError`` into one :class:`InvalidValue` per failing field."""
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"] if part not in ("function-after",))
        field = f"{prefix}{location}" if location else prefix.rstrip(".") or "request"
        problems.append(InvalidValue(field, _rule(item)))
    return problems
