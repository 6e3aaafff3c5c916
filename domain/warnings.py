"""The warnings a reviewer sees: each a code, the field it is about and the rule, in English.

A registration's events keep a warning as one string, ``"<field>: <rule>"`` (the events' schema);
:func:`parse_warning` reads the code back from it through the same table, so a client can show the
warning in its own language keyed by :class:`WarningCode`, never by the English text. A string of
no known rule (an older one) parses to None and is shown as it was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class WarningCode(StrEnum):
    NOT_ONE_HOUSEHOLD = "NOT_ONE_HOUSEHOLD"
    CARD_NOT_SCANNED = "CARD_NOT_SCANNED"
    CARD_NAME_ACCENTS_ONLY = "CARD_NAME_ACCENTS_ONLY"
    NAME_ACCENTS_ONLY = "NAME_ACCENTS_ONLY"
    DOCUMENT_SOFT = "DOCUMENT_SOFT"


RULES: dict[WarningCode, str] = {
    WarningCode.NOT_ONE_HOUSEHOLD: "the guardian and the child are not in one household",
    WarningCode.CARD_NOT_SCANNED: "no card QR: the child's code was typed, not scanned",
    WarningCode.CARD_NAME_ACCENTS_ONLY: "the card's name matches only without accents",
    WarningCode.NAME_ACCENTS_ONLY: "matches the registry only without accents",
    WarningCode.DOCUMENT_SOFT: "the image is soft: check that it is legible",
}
_BY_RULE = {rule: code for code, rule in RULES.items()}


@dataclass(frozen=True, slots=True)
class ReviewWarning:
    code: WarningCode
    field: str
    """Where, as the request names it: ``child.full_name``, ``documents.portrait``…"""

    def text(self) -> str:
        """As the events keep it."""
        return f"{self.field}: {RULES[self.code]}"


def parse_warning(text: str) -> ReviewWarning | None:
    where, _, rule = text.partition(": ")
    code = _BY_RULE.get(rule)
    return None if code is None or not where else ReviewWarning(code, where)
