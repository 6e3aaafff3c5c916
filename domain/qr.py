"""Decoding the text of the QR code printed on a thẻ BHYT (Vietnamese health-insurance card).

The payload is plain text: fields separated by ``|``, ending with ``$`` (some scanners send CR/LF
instead, or as well); ``-`` is an empty field. Names are hex-encoded UTF-8, dates ``dd/mm/yyyy``.
Field 0 tells the format: a 15-character card number on old cards (14 fields), the 10-digit mã
số BHXH on cards issued since 4/2021 (16 fields).

Fields 0 to 2 (code, name, date of birth) are required. Later fields may be missing: a field that
is missing or ``-`` reads as ``None``. A field this module returns and that is present but
malformed makes the whole payload unreadable, because a wrong value read silently is worse than
typing the card in by hand. Fields it does not return (address, clinic, issue date, codes,
checksum, issuing place) are not checked. Fields past the format's count are ignored.

Every failure is one :class:`CardQrUnreadable`: the caller asks for the details to be entered
manually.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from domain.errors import DomainError
from domain.values import Gender, normalise_name

QR_MAX_LENGTH = 2000
"""Equals ``domain.contract.QR_MAX_LENGTH``; defined here so contract can import this module."""

CardFormat = Literal["old", "new"]

FIELD_CODE, FIELD_NAME, FIELD_DATE_OF_BIRTH, FIELD_GENDER = 0, 1, 2, 3
FIELD_VALID_FROM, FIELD_VALID_TO, FIELD_PARENT_NAME, FIELD_BENEFIT_LEVEL = 6, 7, 10, 14

_FIELD_NAMES = {
    FIELD_CODE: "card number or social-insurance code",
    FIELD_NAME: "name",
    FIELD_DATE_OF_BIRTH: "date of birth",
    FIELD_GENDER: "gender",
    FIELD_VALID_FROM: "valid from",
    FIELD_VALID_TO: "valid to",
    FIELD_PARENT_NAME: "parent's name",
    FIELD_BENEFIT_LEVEL: "benefit level",
}

_TERMINATOR = "$"
_SEPARATOR = "|"
_EMPTY = "-"
_REQUIRED_FIELDS = 3

# ASCII only: Python's \d and str.upper() would let other scripts' digits and letters through.
_OLD_CARD = re.compile(r"[A-Z]{2}[1-5][0-9]{12}", re.ASCII | re.IGNORECASE)
_NEW_CODE = re.compile(r"[0-9]{10}")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")
_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
_LEVEL = re.compile(r"[1-5]")
_GENDERS = {"1": Gender.MALE, "2": Gender.FEMALE}


class CardQrUnreadable(DomainError):
    """The card's QR text cannot be decoded: the details are to be entered by hand.

    The message names the field and the rule, never the value read: it is a child's personal data.
    """

    def __init__(self, rule: str, field: int | None = None) -> None:
        where = "card QR" if field is None else f"card QR field {field} ({_FIELD_NAMES[field]})"
        super().__init__(f"{where}: {rule}")
        self.field = field
        self.rule = rule


@dataclass(frozen=True, slots=True)
class CardQr:
    """What the QR code of a thẻ BHYT says about its holder."""

    format: CardFormat
    social_insurance_code: str
    """The 10-digit mã số BHXH: field 0 on new cards, the card number's last 10 on old ones."""
    card_number: str | None
    """The 15-character card number of an old card; new cards have none."""
    full_name: str
    """NFC, single spaces."""
    date_of_birth: date
    gender: Gender | None
    valid_from: date | None
    valid_to: date | None
    parent_name: str | None
    benefit_level: int | None
    """1 to 5: the card number's third character on old cards, field 14 on new ones."""

    def is_valid_on(self, day: date) -> bool:
        """Whether the card covers ``day``, both ends included.

        Without a start date the card cannot be shown to be valid; without an end date (new cards
        may leave it ``-``) it is valid from its start onwards.
        """
        if self.valid_from is None or day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to


def decode_card_qr(raw: str) -> CardQr:
    """Decode the text read from a thẻ BHYT's QR code; raise :class:`CardQrUnreadable` if unable."""
    fields = _fields(raw)
    code = fields[FIELD_CODE]
    card_format: CardFormat
    if _OLD_CARD.fullmatch(code):
        card_format, card_number = "old", code.upper()
        social_insurance_code = card_number[-10:]
    elif _NEW_CODE.fullmatch(code):
        card_format, card_number, social_insurance_code = "new", None, code
    else:
        raise CardQrUnreadable(_code_rule(code), FIELD_CODE)
    full_name = _hex_text(_required(fields, FIELD_NAME), FIELD_NAME)
    if not full_name:
        raise CardQrUnreadable("decodes to blank text", FIELD_NAME)
    date_of_birth = _date(_required(fields, FIELD_DATE_OF_BIRTH), FIELD_DATE_OF_BIRTH)
    gender = _gender(_optional(fields, FIELD_GENDER))
    valid_from = _optional_date(fields, FIELD_VALID_FROM)
    valid_to = _optional_date(fields, FIELD_VALID_TO)
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        raise CardQrUnreadable("before the valid-from date (field 6)", FIELD_VALID_TO)
    parent = _optional(fields, FIELD_PARENT_NAME)
    parent_name = None if parent is None else _hex_text(parent, FIELD_PARENT_NAME) or None
    # An old card's level is its number's third character; only new cards have a field 14.
    if card_number is not None:
        benefit_level: int | None = int(card_number[2])
    else:
        benefit_level = _benefit_level(_optional(fields, FIELD_BENEFIT_LEVEL))
    return CardQr(
        format=card_format,
        social_insurance_code=social_insurance_code,
        card_number=card_number,
        full_name=full_name,
        date_of_birth=date_of_birth,
        gender=gender,
        valid_from=valid_from,
        valid_to=valid_to,
        parent_name=parent_name,
        benefit_level=benefit_level,
    )


def _fields(raw: str) -> list[str]:
    if not isinstance(raw, str):
        raise CardQrUnreadable("not text")
    if len(raw) > QR_MAX_LENGTH:
        raise CardQrUnreadable(f"longer than {QR_MAX_LENGTH} characters")
    if "\x00" in raw:
        raise CardQrUnreadable("contains a NUL character")
    text = raw.strip()
    if text.endswith(_TERMINATOR):
        # "$" and CR/LF come in either order, or only one of them.
        text = text.removesuffix(_TERMINATOR).rstrip()
    if not text:
        raise CardQrUnreadable("empty")
    if _SEPARATOR not in text:
        raise CardQrUnreadable("no '|' between fields")
    fields = [field.strip() for field in text.split(_SEPARATOR)]
    if len(fields) < _REQUIRED_FIELDS:
        raise CardQrUnreadable("fewer than 3 fields (code, name, date of birth)")
    return fields


def _code_rule(code: str) -> str:
    if len(code) == 15:
        return "not 2 letters, a benefit level 1-5 and 12 digits"
    if len(code) == 10:
        return "not 10 digits"
    return "neither a 15-character card number nor a 10-digit code"


def _optional(fields: list[str], index: int) -> str | None:
    if index >= len(fields) or fields[index] in ("", _EMPTY):
        return None
    return fields[index]


def _required(fields: list[str], index: int) -> str:
    value = _optional(fields, index)
    if value is None:
        raise CardQrUnreadable("missing", index)
    return value


def _hex_text(value: str, index: int) -> str:
    """Hex-encoded UTF-8 to normalised text (NFC, single spaces); may be empty."""
    if not _HEX.fullmatch(value):
        raise CardQrUnreadable("not hex-encoded text (pairs of hex digits)", index)
    try:
        text = bytes.fromhex(value).decode("utf-8")
    except UnicodeDecodeError:
        raise CardQrUnreadable("the hex is not UTF-8 text", index) from None
    if any(unicodedata.category(char).startswith("C") for char in text):
        raise CardQrUnreadable("decodes to control or unassigned characters", index)
    return normalise_name(text)


def _date(value: str, index: int) -> date:
    match = _DATE.fullmatch(value)
    if match is None:
        raise CardQrUnreadable("not a dd/mm/yyyy date", index)
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise CardQrUnreadable("not a day of the calendar", index) from None


def _optional_date(fields: list[str], index: int) -> date | None:
    value = _optional(fields, index)
    return None if value is None else _date(value, index)


def _gender(value: str | None) -> Gender | None:
    if value is None:
        return None
    if value not in _GENDERS:
        raise CardQrUnreadable("not 1 (male) or 2 (female)", FIELD_GENDER)
    return _GENDERS[value]


def _benefit_level(value: str | None) -> int | None:
    if value is None:
        return None
    if not _LEVEL.fullmatch(value):
        raise CardQrUnreadable("not a digit from 1 to 5", FIELD_BENEFIT_LEVEL)
    return int(value)
