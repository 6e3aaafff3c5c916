"""The per-registration hash chain: each event's link is SHA-256 over the previous link and the
event's canonical content, so changing, removing, inserting or reordering an event breaks every
link after it.

The canonical content is the event's type name, originator id, version, timestamp and every
attribute except the link itself, as JSON with sorted keys. It is computed from the same values
before an event is triggered and from the stored event when verifying.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

GENESIS = "0" * 64
LINK_FIELD = "chain_link"
_NOT_CONTENT = frozenset(
    {LINK_FIELD, "originator_id", "originator_version", "timestamp", "originator_topic"}
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not canonical: {type(value).__name__}")


def canonical(
    event_type: str,
    originator_id: UUID,
    version: int,
    timestamp: datetime,
    fields: Mapping[str, Any],
) -> bytes:
    content = {
        "type": event_type,
        "originator_id": str(originator_id),
        "version": version,
        "timestamp": _plain(timestamp),
        "fields": {key: value for key, value in fields.items() if key not in _NOT_CONTENT},
    }
    return json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain
    ).encode()


def next_link(
    previous: str,
    event_type: str,
    originator_id: UUID,
    version: int,
    timestamp: datetime,
    fields: Mapping[str, Any],
) -> str:
    digest = hashlib.sha256(previous.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical(event_type, originator_id, version, timestamp, fields))
    return digest.hexdigest()


def link_of_event(previous: str, event: Any) -> str:
    """Recompute the link a stored event should carry, given the link before it."""
    fields = dict(vars(event))
    return next_link(
        previous,
        type(event).__name__,
        event.originator_id,
        event.originator_version,
        event.timestamp,
        fields,
    )


class ChainBreak(Exception):
    def __init__(self, version: int, expected: str, found: str, what: str) -> None:
        super().__init__(f"version {version}: {what}")
        self.version = version
        self.expected = expected
        self.found = found
        self.what = what


def verify_events(events: Iterable[Any]) -> None:
    """Raise :class:`ChainBreak` at the first event whose version or link is not what it should be."""
    previous = GENESIS
    expected_version = 1
    for event in events:
        if event.originator_version != expected_version:
            raise ChainBreak(
                expected_version,
                str(expected_version),
                str(event.originator_version),
                f"expected version {expected_version}, found {event.originator_version} (an event is missing)",
            )
        stored = getattr(event, LINK_FIELD)
        computed = link_of_event(previous, event)
        if stored != computed:
            raise ChainBreak(
                event.originator_version,
                computed,
                stored,
                "the stored link does not match the event's content and the link before it",
            )
        previous = stored
        expected_version += 1
