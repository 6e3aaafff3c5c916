"""Logging: structlog key-value events, console on a terminal and JSON elsewhere, and a processor
that keeps personal data (names, codes, dates of birth, phones, emails) out of every line."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import asdict, is_dataclass
from typing import Any, TextIO

import structlog
from pydantic import BaseModel

from workers.settings import LogFormat

REDACTED = "[redacted]"

PERSONAL_KEYS = frozenset(
    {
        "full_name",
        "name",
        "guardian_name",
        "child_name",
        "parent_name",
        "date_of_birth",
        "dob",
        "birth_date",
        "phone",
        "email",
        "recipient",
        "social_insurance_code",
        "personal_id_number",
        "health_insurance_card_number",
        "health_insurance_card_qr",
        "address",
        "request",
        "guardian",
        "child",
    }
)
"""Keys whose values are personal data whatever they hold."""

_PATTERNS = [
    # What a validation or database error quotes of the value it refused: pydantic's
    # input_value=…, input_type=… (any repr, a dict's included), psycopg's DETAIL: Key (…)=(…)
    # and Failing row contains (…).
    re.compile(
        r"(?<=input_value=)(?:.+?(?=, input_type=)"
        r"|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^,\]\s]+)"
    ),
    re.compile(r"(?<=\)=)\((?:[^()]|\([^()]*\))*\)"),
    re.compile(r"(?<=Failing row contains )\((?:[^()]|\([^()]*\))*\)"),
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # email addresses
    re.compile(r"(?<![\w-])\+?84\d{9}(?!\d)"),  # phones in E.164 or 84…
    re.compile(r"(?<![\w-])0\d{9}(?!\d)"),  # national phone numbers and 10-digit codes with a 0
    # 0912 345 678, +84 912 345 678, (+84) 912-345-678
    re.compile(r"(?<![\w-])(?:\(\+?84\)|\+84|0)[ .-]?\d{2,3}[ .-]\d{3}[ .-]\d{3,4}(?!\d)"),
    re.compile(r"(?<![\w-])\d{10}(?:\d{2})?(?![\w-])"),  # 10-digit codes and 12-digit id numbers
    re.compile(r"(?<![\w-])[A-Z]{2}[1-5]\d{12}(?!\d)"),  # health-insurance card numbers
    re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b"),  # dd/mm/yyyy dates (births on cards)
]


def scrub_text(text: str) -> str:
    """Replace anything that looks like a code, phone, email or card number, and the values a
    validation or database error quotes."""
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return value if len(str(abs(value))) < 9 else REDACTED  # a code sent as a number
    try:
        if isinstance(value, BaseModel):
            return _scrub(value.model_dump(mode="json"))
        if is_dataclass(value) and not isinstance(value, type):
            return _scrub(asdict(value))
    except Exception:  # a log line must never fail the work it reports
        return scrub_text(repr(value))
    if isinstance(value, Mapping):
        return {
            key: REDACTED if key in PERSONAL_KEYS else _scrub(item) for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(item) for item in value]
    # Anything else is rendered as its text (the JSON renderer would print its repr): scrubbed.
    return scrub_text(str(value))


def redact_personal_data(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: personal keys are redacted; other values are scanned for patterns."""
    for key in list(event_dict):
        if key.startswith("_"):
            continue  # the formatter's own bookkeeping (_record, _from_structlog)
        if key in PERSONAL_KEYS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def configure_logging(
    log_format: LogFormat = LogFormat.AUTO, level: str = "info", stream: TextIO | None = None
) -> None:
    """Configure structlog and route the standard library's loggers (Temporal's among them) through it."""
    stream = stream or sys.stderr
    use_json = log_format is LogFormat.JSON or (
        log_format is LogFormat.AUTO and not stream.isatty()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_personal_data,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if use_json
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # fontTools reports every glyph subset at INFO: a hundred lines per declaration PDF.
    logging.getLogger("fontTools").setLevel(max(logging.WARNING, root.level))
