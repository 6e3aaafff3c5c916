"""The suite's verdicts, as pure functions of what was collected (unit-tested in
``tests/unit/test_faults_checks.py``)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

MESSAGE_ID = re.compile(
    r"childreg\.(?P<registration>[0-9a-f-]{36})\.(?P<name>[a-z_]+(?:\.\d)?)\.(?P<channel>email|sms)"
)

MILESTONES = {
    "approve": ("received", "approved"),
    "reject": ("received", "rejected"),
    "supplement": ("received", "supplement_requested", "approved"),
    "withdraw": ("received", "withdrawn"),
    "auto_reject": ("received", "auto_rejected"),
    "expire": ("received", "expired"),
}
"""What the guardian is told on each path, once by email and once by SMS."""


@dataclass(frozen=True)
class EventRow:
    """One stored event, as the checks need it."""

    registration: str
    version: int
    command_id: str
    name: str


@dataclass
class StoreFindings:
    events: int = 0
    registrations: int = 0
    gaps: list[str] = field(default_factory=list)
    """Registrations whose versions are not 1..n without a gap or a repeat."""
    repeated_commands: list[str] = field(default_factory=list)
    """``<registration> <command id>`` of command ids a registration recorded more than once
    (a command id is unique within its registration: ``notification:received:sms:sent``)."""

    @property
    def clean(self) -> bool:
        return not self.gaps and not self.repeated_commands


def check_store(rows: Iterable[EventRow]) -> StoreFindings:
    findings = StoreFindings()
    versions: dict[str, list[int]] = {}
    commands: Counter[tuple[str, str]] = Counter()
    for row in rows:
        findings.events += 1
        versions.setdefault(row.registration, []).append(row.version)
        commands[row.registration, row.command_id] += 1
    findings.registrations = len(versions)
    for registration, seen in versions.items():
        if sorted(seen) != list(range(1, len(seen) + 1)):
            findings.gaps.append(registration)
    findings.repeated_commands = sorted(
        f"{registration} {command}" for (registration, command), n in commands.items() if n > 1
    )
    return findings


def expected_deliveries(paths: Mapping[str, str], channel: str) -> set[str]:
    """``childreg.<registration id>.<milestone>.<channel>`` for every milestone of every
    registration (``paths``: registration id → path)."""
    return {
        f"childreg.{registration}.{milestone}.{channel}"
        for registration, path in paths.items()
        for milestone in MILESTONES[path]
    }


def delivery_key(message_id: str) -> str | None:
    """The delivery a Message-ID (``<childreg.….email@domain>``) or an SMS message id names."""
    found = MESSAGE_ID.search(message_id)
    return found.group(0) if found else None


@dataclass
class DeliveryFindings:
    expected: int
    delivered: int
    lost: list[str]
    duplicated: dict[str, int]
    """Delivery → extra copies."""
    unexpected: list[str]

    @property
    def extra_copies(self) -> int:
        return sum(self.duplicated.values())


def check_deliveries(expected: set[str], message_ids: Iterable[str]) -> DeliveryFindings:
    counted: Counter[str] = Counter()
    for message_id in message_ids:
        counted[delivery_key(message_id) or message_id] += 1
    return DeliveryFindings(
        expected=len(expected),
        delivered=sum(counted.values()),
        lost=sorted(expected - set(counted)),
        duplicated={key: n - 1 for key, n in sorted(counted.items()) if n > 1},
        unexpected=sorted(set(counted) - expected),
    )


def first_progress(samples: list[tuple[float, int]], moment: float) -> float | None:
    """Seconds from ``moment`` to the first sample after it whose value exceeds the last value
    seen at or before it (``samples``: (monotonic time, counter), in time order)."""
    before = [value for at, value in samples if at <= moment]
    baseline = before[-1] if before else None
    for at, value in samples:
        if at > moment and baseline is not None and value > baseline:
            return at - moment
        if at > moment and baseline is None:
            baseline = value
    return None
