"""Tamper evidence: recompute every hash chain and compare with the seals.

Three checks, each reporting where it found something (registration, version, what differs):

1. each registration's own chain (:mod:`domain.chain`): versions 1..n without a gap, every row
   decodes (decrypts: AES-GCM authenticates, so a changed byte fails here), every stored link
   equals the link recomputed from the event's content and the link before it;
2. each sealed stream (:mod:`projections.audit.seal`): still there, up to its sealed version,
   with the same bytes at that version (a deleted stream, removed newest events, a history
   rewritten with fresh links);
3. the global chain over the log against every checkpoint (anything changed, removed, inserted
   or reordered below the sealed head).

Only ids, versions, event names and digests are reported: never the events' content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

from domain import chain
from projections.audit import seal as sealing
from projections.audit.store import (
    ErasedData,
    EventDecoder,
    StoredRow,
    UndecodableEvent,
    rows_by_stream,
    rows_in_log_order,
    stream,
    stream_ids,
)

Progress = Callable[[int, int], None]
"""Called with (registrations checked, registrations to check)."""


@dataclass(frozen=True, slots=True)
class Finding:
    registration_id: UUID | None
    """None for a finding of the global chain that no single registration explains."""
    version: int | None
    what: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "registration_id": str(self.registration_id) if self.registration_id else None,
            "version": self.version,
            "what": self.what,
        }


@dataclass(frozen=True, slots=True)
class VerifyReport:
    registrations: int
    events: int
    findings: list[Finding]
    sealed_events: int = 0
    unsealed_events: int = 0
    """Events recorded after the last seal: covered by their chains only, not yet sealed."""

    @property
    def clean(self) -> bool:
        return not self.findings


def verify_stream(
    registration_id: UUID,
    rows: Iterable[StoredRow],
    decoder: EventDecoder,
    sealed: sealing.StreamSeal | None = None,
) -> Finding | None:
    """The first thing wrong with one registration's stored history, or None."""
    previous: str | None = chain.GENESIS
    """None after an erased event: the next readable one's link cannot be checked against it."""
    expected = 1
    sealed_row: StoredRow | None = None
    for row in rows:
        if row.originator_version != expected:
            return Finding(
                registration_id,
                expected,
                f"version {expected} is missing: the next stored version is "
                f"{row.originator_version}",
            )
        try:
            event = decoder.decode(row)
        except ErasedData:
            # Erased: its bytes are there (the seals still cover them), its link cannot be read.
            if sealed is not None and row.originator_version == sealed.version:
                sealed_row = row
            previous = None
            expected += 1
            continue
        except UndecodableEvent as error:
            return Finding(registration_id, row.originator_version, error.what)
        stored = event.chain_link
        if previous is not None and stored != chain.link_of_event(previous, event):
            return Finding(
                registration_id,
                row.originator_version,
                f"{type(event).__name__}: the stored link {stored[:12]}… does not match the "
                "event's content and the link before it",
            )
        if sealed is not None and row.originator_version == sealed.version:
            sealed_row = row
        previous = stored
        expected += 1
    last = expected - 1
    if sealed is None:
        return None
    if last == 0:
        return Finding(
            registration_id,
            1,
            f"the whole history is missing: it was sealed up to version {sealed.version}",
        )
    if last < sealed.version:
        return Finding(
            registration_id,
            last + 1,
            f"the history ends at version {last}: it was sealed up to version {sealed.version}",
        )
    if sealed_row is not None and sealed_row.state_sha256() != sealed.state_sha256:
        return Finding(
            registration_id,
            sealed.version,
            "the sealed event's bytes differ from the seal: the history was rewritten",
        )
    return None


def verify_registration(
    connection: psycopg.Connection[Any], decoder: EventDecoder, registration_id: UUID
) -> VerifyReport:
    with connection.transaction():
        rows = stream(connection, registration_id)
        sealed = sealing.stream_seals(connection).get(registration_id)
    if not rows and sealed is None:
        finding = Finding(registration_id, None, "no such registration in the event store")
        return VerifyReport(0, 0, [finding])
    found = verify_stream(registration_id, rows, decoder, sealed)
    return VerifyReport(1, len(rows), [found] if found else [])


def verify_all(
    connection: psycopg.Connection[Any], decoder: EventDecoder, progress: Progress | None = None
) -> VerifyReport:
    """Every registration's chain and seal, then the global chain (one snapshot)."""
    findings: list[Finding] = []
    events = 0
    with connection.transaction():
        seals = sealing.stream_seals(connection)
        total = len(stream_ids(connection) | set(seals))
        checked = 0
        if progress:
            progress(0, total)
        for registration_id, rows in rows_by_stream(connection):
            found = verify_stream(registration_id, rows, decoder, seals.pop(registration_id, None))
            if found:
                findings.append(found)
            events += len(rows)
            checked += 1
            if progress:
                progress(checked, total)
        for registration_id, sealed in sorted(seals.items()):  # sealed, but no rows any more
            found = verify_stream(registration_id, [], decoder, sealed)
            if found:
                findings.append(found)
            checked += 1
            if progress:
                progress(checked, total)
        global_findings, sealed_events, scanned = verify_global(connection)
    findings.extend(global_findings)
    return VerifyReport(
        registrations=total,
        events=events,
        findings=findings,
        sealed_events=sealed_events,
        unsealed_events=max(scanned - sealed_events, 0),
    )


def verify_global(connection: psycopg.Connection[Any]) -> tuple[list[Finding], int, int]:
    """Recompute the global chain against the checkpoints: (findings, events sealed, events
    scanned). Stops at the first checkpoint that differs: every later one differs too."""
    marks = sealing.checkpoints(connection)
    if not marks:
        return [], 0, sum(1 for _ in rows_in_log_order(connection))
    digest, count, index, previous_position = sealing.GENESIS, 0, 0, 0
    findings: list[Finding] = []
    rows = rows_in_log_order(connection)
    for row in rows:
        digest = sealing.link(digest, row)
        count += 1
        if index < len(marks) and marks[index].events == count:
            mark = marks[index]
            if mark.digest != digest or mark.notification_id != row.notification_id:
                findings.append(
                    Finding(
                        None,
                        None,
                        f"the global chain differs at checkpoint {mark.events} (notification ids "
                        f"{previous_position + 1}..{mark.notification_id}): an event there was "
                        "changed, removed, inserted or reordered",
                    )
                )
                return findings, marks[-1].events, count + sum(1 for _ in rows)
            previous_position = mark.notification_id
            index += 1
    if index < len(marks):
        head = marks[-1]
        findings.append(
            Finding(
                None,
                None,
                f"the store holds {count} events but the seal covers {head.events} (up to "
                f"notification id {head.notification_id}): the newest events were removed",
            )
        )
    return findings, marks[-1].events, count
