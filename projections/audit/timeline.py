"""A registration's history for auditors: the timeline and the state at any moment.

Both are built from the decoded events alone and hold no personal data: the submitted request
(names, codes, phone, email, birth date) is left out, free-text notes and reasons typed by people
are left out (only whether there was one), codes are masked. :func:`state_at` gives the request
only when asked for it explicitly (``childreg audit state --personal``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.registration import Registration
from projections.base import child_code, mask_code

E = Registration


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    version: int
    at: datetime
    event: str
    actor_kind: str
    actor_id: str
    cause: str
    """The request, signal or decision id that caused the event."""
    correlation_id: str
    summary: str

    def as_dict(self) -> dict[str, Any]:
        plain = asdict(self)
        plain["at"] = self.at.astimezone(UTC).isoformat()
        return plain


def erased_entry(version: int, topic: str, erasure: Registration.Event | None) -> TimelineEntry:
    """An event that can no longer be read (its registration's data was erased): its place in the
    stream and its type, at the erasure's time (its own time was encrypted with the rest)."""
    return TimelineEntry(
        version=version,
        at=erasure.timestamp if erasure is not None else datetime.fromtimestamp(0, UTC),
        event=topic.rsplit(".", 1)[-1],
        actor_kind="-",
        actor_id="-",
        cause="-",
        correlation_id=erasure.correlation_id if erasure is not None else "-",
        summary="erased: unreadable since its data key was deleted (stored bytes intact)",
    )


class NoSuchMoment(ValueError):
    """The registration had no state at the moment asked for."""


def timeline(events: Sequence[Registration.Event]) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            version=event.originator_version,
            at=event.timestamp,
            event=type(event).__name__,
            actor_kind=event.actor_kind,
            actor_id=event.actor_id,
            cause=event.causation_id,
            correlation_id=event.correlation_id,
            summary=summary(event),
        )
        for event in events
    ]


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def _noted(note: str | None) -> str:
    return " (with a note)" if note else ""


def _warned(warnings: Sequence[str]) -> str:
    return f"; warnings: {', '.join(warnings)}" if warnings else ""


def _decided(e: Any) -> str:
    return f"decision {e.decision_id} by {e.reviewer_id}: "


_SUMMARIES: dict[type[Any], Callable[[Any], str]] = {
    E.Submitted: lambda e: f"submitted as request {e.request_id} to office {e.office_code}",
    E.IdentityVerified: lambda e: "child and guardian found in the registry" + _warned(e.warnings),
    E.AutoRejected: lambda e: (
        f"auto-rejected: {e.reason_code}" + (f" (field {e.field})" if e.field else "")
    ),
    E.DocumentsStored: lambda e: (
        f"documents stored: {', '.join(sorted(e.documents))}" + _warned(e.warnings)
    ),
    E.ReviewRequested: lambda e: (
        f"review round {e.round} at office {e.office_code}; deadline {_time(e.deadline)}, "
        f"expires {_time(e.expires_at)}"
    ),
    E.ReviewOverdue: lambda e: f"review overdue; escalated to {', '.join(e.escalated_to) or '-'}",
    E.SupplementRequested: lambda e: (
        _decided(e)
        + f"supplement requested ({', '.join(e.documents)}), due {_time(e.due)}"
        + _noted(e.note)
    ),
    E.SupplementProvided: lambda e: f"supplement provided: {', '.join(sorted(e.documents))}",
    E.Approved: lambda e: _decided(e) + "approved" + _noted(e.note),
    E.Rejected: lambda e: _decided(e) + f"rejected: {e.reason_code}" + _noted(e.note),
    E.RejectionProposed: lambda e: (
        _decided(e)
        + f"rejection proposed: {e.reason_code}, waiting for a second reviewer"
        + _noted(e.note)
    ),
    E.RejectionDeclined: lambda e: (
        _decided(e) + f"proposed rejection {e.proposal_decision_id} declined" + _noted(e.note)
    ),
    E.DecisionRefused: lambda e: _decided(e) + f"{e.outcome} refused: {e.reason}",
    E.Claimed: lambda e: (
        f"claimed by {e.reviewer_id}"
        + (f", taken over from {e.previous_holder}" if e.takeover and e.previous_holder else "")
    ),
    E.Released: lambda e: f"claim released by {e.reviewer_id}",
    E.Withdrawn: lambda e: "withdrawn by the guardian" + _noted(e.reason),
    E.Expired: lambda e: f"expired waiting for the {e.stage}",
    E.ChildAccountActivated: lambda e: f"child account {e.account_id} activated",
    E.NotificationPrepared: lambda e: (
        f"{e.kind} by {e.channel}: template {e.template_id} v{e.template_version}, "
        f"body sha256 {e.body_sha256[:12]}"
        + (f", attachment sha256 {e.attachment_sha256[:12]}" if e.attachment_sha256 else "")
    ),
    E.GuardianNotified: lambda e: f"{e.kind} by {e.channel} sent (message {e.message_id})",
    E.NotificationFailed: lambda e: (
        f"{e.kind} by {e.channel} failed ({'permanently' if e.permanent else 'will retry'})"
    ),
    E.NotificationSkipped: lambda e: f"{e.kind} by {e.channel} skipped: {e.why}",
    E.Erased: lambda e: "personal data erased (data key deleted)" + _noted(e.reason),
    E.DeclarationViewed: lambda e: (
        f"declaration {e.opened} opened through the guardian's link (client {e.client_digest[:12]})"
    ),
}


def summary(event: Registration.Event) -> str:
    """One line on what happened: the decision and its reason, the notification's template and
    body hash. Never names, codes, contact details or free text typed by people."""
    describe = _SUMMARIES.get(type(event))
    return describe(event) if describe else type(event).__name__


def version_at(events: Sequence[Registration.Event], at: datetime) -> int:
    """The version the registration had at ``at``: that of the last event recorded by then."""
    version = 0
    for event in events:
        if event.timestamp <= at:
            version = event.originator_version
        else:
            break
    if version == 0:
        first = _time(events[0].timestamp) if events else "never"
        raise NoSuchMoment(f"--at: the registration did not exist yet (submitted {first})")
    return version


def state_at(
    events: Sequence[Registration.Event], version: int, *, personal: bool = False
) -> dict[str, Any]:
    """The registration as it stood at ``version``, as plain JSON-ready data."""
    if not 1 <= version <= len(events):
        raise NoSuchMoment(f"--version: the registration has versions 1 to {len(events)}")
    registration: Any = None
    for event in events[:version]:
        registration = event.mutate(registration)
    r: Registration = registration
    state: dict[str, Any] = {
        "registration_id": str(r.id),
        "request_id": r.request_id,
        "version": r.version,
        "as_of": _iso(events[version - 1].timestamp),
        "last_event": type(events[version - 1]).__name__,
        "state": r.state.value,
        "office_code": r.office_code,
        "child_code_masked": mask_code(r.child_social_insurance_code or child_code(r.request)),
        "submitted_at": _iso(r.submitted_at),
        "warnings": list(r.warnings),
        "documents": {name: dict(details) for name, details in r.documents.items()},
        "review_deadline": _iso(r.review_deadline),
        "expires_at": _iso(r.expires_at),
        "overdue": r.overdue,
        "escalated": r.escalated,
        "escalated_to": list(r.escalated_to),
        "supplement_rounds": r.supplement_rounds,
        "supplement_documents": list(r.supplement_documents),
        "decisions": dict(r.decisions),
        "refused_decisions": r.refused_decisions,
        "reason_code": r.reason_code,
        "decided_by": r.decided_by,
        "decided_at": _iso(r.decided_at),
        "child_account_id": r.child_account_id,
        "notifications": dict(r.notifications),
        "chain_head": r.chain_head,
    }
    if personal:
        state["request"] = dict(r.request)
    return state


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def registration_key(key: str) -> UUID:
    """A registration id as given, or the id of a request id (``registration_id_for``)."""
    from domain.registration import registration_id_for

    try:
        return UUID(key)
    except ValueError:
        return registration_id_for(key)
