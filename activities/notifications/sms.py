"""SMS text: Vietnamese without diacritics in the GSM 03.38 7-bit alphabet, split for concatenation.

Vietnamese letters with diacritics are outside GSM-7; sending them would switch the whole message
to UCS-2 (70 characters a segment) and many handsets in Vietnam show such messages badly. So the
text is transliterated (đ/Đ mapped explicitly, since they have no Unicode decomposition) and
anything else outside the basic GSM-7 table is replaced.

A message of at most 160 septets goes as one SMS. A longer one is split into segments of at most
153 septets: each segment carries a 6-octet User Data Header (IEI 0x00, 8-bit reference, total,
sequence), which with its fill bit takes 7 of the 160 septets. An escape-table character counts
as 2 septets and is never split from its escape.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.values import strip_accents

SINGLE_SMS_SEPTETS = 160
SEGMENT_SEPTETS = 153
MAX_SEGMENTS = 255

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 default alphabet: 128 code points less 0x1B, the escape to the extension table."""

GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
"""Characters reached through the escape: 2 septets each."""

_REPLACEMENTS = {
    "\t": " ",
    "\u00a0": " ",
    "\u2009": " ",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "‘": "'",
    "’": "'",
    "‚": "'",
    "–": "-",
    "—": "-",
    "−": "-",
    "…": "...",
    "•": "-",
    "·": ".",
    "→": "->",
    # The extension table costs 2 septets a character and some gateways mangle it: avoid it.
    "[": "(",
    "]": ")",
    "{": "(",
    "}": ")",
    "~": "-",
    "|": "/",
    "\\": "/",
    "^": "",
    "€": "EUR",
    "\f": " ",
}
REPLACEMENT_CHARACTER = "?"


def to_gsm7(text: str) -> str:
    """Vietnamese without diacritics, in the basic GSM-7 table only (no escape characters)."""
    plain = strip_accents(text)
    out = []
    for char in plain:
        if char in _REPLACEMENTS:
            out.append(_REPLACEMENTS[char])
        elif char in GSM7_BASIC:
            out.append(char)
        else:
            out.append(REPLACEMENT_CHARACTER)
    return "".join(out)


def is_gsm7(text: str) -> bool:
    """Every character is encodable in GSM-7 (basic or extension table)."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def septets(text: str) -> int:
    """The length in septets: 1 for a basic character, 2 for an extension character."""
    if not is_gsm7(text):
        raise ValueError("text: must hold only GSM-7 characters")
    return sum(2 if char in GSM7_EXTENSION else 1 for char in text)


def split(text: str) -> list[str]:
    """The parts a message is sent as: one up to 160 septets, else parts of up to 153 septets."""
    if septets(text) <= SINGLE_SMS_SEPTETS:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for char in text:
        size = 2 if char in GSM7_EXTENSION else 1
        if used + size > SEGMENT_SEPTETS:
            parts.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += size
    parts.append("".join(current))
    if len(parts) > MAX_SEGMENTS:
        raise ValueError(f"text: longer than {MAX_SEGMENTS} concatenated segments")
    return parts


@dataclass(frozen=True, slots=True)
class SmsSegment:
    """One SMS on the air: the concatenation header (None for a single SMS) and its text."""

    udh: bytes | None
    text: str


def segments(text: str, reference: int) -> list[SmsSegment]:
    """The segments with their concatenation headers; ``reference`` (0-255) ties them together.

    Use the same reference for every part of one message, and a reference derived from the
    message id so a re-sent message is reassembled the same way.
    """
    if not 0 <= reference <= 255:
        raise ValueError("reference: must be 0 to 255 (an 8-bit concatenation reference)")
    parts = split(text)
    if len(parts) == 1:
        return [SmsSegment(None, parts[0])]
    total = len(parts)
    return [
        SmsSegment(bytes([0x05, 0x00, 0x03, reference, total, number]), part)
        for number, part in enumerate(parts, start=1)
    ]
