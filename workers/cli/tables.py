"""How the answers print in a terminal: the read models' answers and the registry's summary.

Times are shown as a reader in Vietnam reads them; ``--json`` keeps them in UTC.
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.table import Table

from activities.registry import RegistrySummary
from domain.contract import VIETNAM
from projections.guardians import GuardianChildren
from projections.queue import OfficeQueue
from projections.statistics import OfficeStatistics
from projections.status import StatusRecord


def _when(moment: datetime | None) -> str:
    """A moment as a reader in Vietnam reads it: local time, with its offset (JSON keeps UTC)."""
    return moment.astimezone(VIETNAM).isoformat(timespec="minutes") if moment else "-"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def status_table(answer: StatusRecord) -> Table:
    table = Table("field", "value", title=f"Registration {answer.request_id}")
    flags = ", ".join(
        flag for flag, on in (("overdue", answer.overdue), ("escalated", answer.escalated)) if on
    )
    for field, value in (
        ("registration id", str(answer.registration_id)),
        ("state", f"{answer.state} (erased)" if answer.erased_at else answer.state),
        ("waiting for", answer.waiting_for),
        ("office", answer.office_code),
        ("child", answer.child_code_masked or "-"),
        ("submitted", _when(answer.submitted_at)),
        ("review deadline", _when(answer.review_deadline)),
        ("expires", _when(answer.expires_at)),
        ("flags", flags or "-"),
        ("supplement rounds", str(answer.supplement_rounds)),
        ("outcome", answer.outcome or "-"),
        ("reason", answer.reason_code or "-"),
        ("decided by", answer.decided_by or "-"),
        ("decided", _when(answer.decided_at)),
        ("warnings", ", ".join(answer.warnings) or "-"),
        ("child account", answer.child_account_id or "-"),
        ("data erased", _when(answer.erased_at) if answer.erased_at else "no"),
        ("as of position", str(answer.as_of_position)),
    ):
        table.add_row(field, value)
    return table


def queue_table(answer: OfficeQueue) -> Table:
    title = f"Office {answer.office_code}: " + (
        "escalated to supervisors" if answer.supervisor_view else "awaiting review"
    )
    table = Table(
        "request id", "child", "round", "deadline", "overdue", "escalated", "warnings", title=title
    )
    for entry in answer.entries:
        table.add_row(
            entry.request_id,
            entry.child_code_masked or "-",
            str(entry.round),
            _when(entry.deadline),
            "yes" if entry.overdue else "",
            "yes" if entry.escalated else "",
            ", ".join(entry.warnings),
        )
    table.caption = f"{len(answer.entries)} registrations, as of position {answer.as_of_position}"
    return table


def guardian_table(answer: GuardianChildren) -> Table:
    table = Table(
        "child", "account", "request id", "office", "state", "submitted", title="Children"
    )
    for child in answer.children:
        for number, registration in enumerate(child.registrations):
            table.add_row(
                (child.child_code_masked or "-") if number == 0 else "",
                child.account_status if number == 0 else "",
                registration.request_id,
                registration.office_code,
                registration.state,
                _when(registration.submitted_at),
            )
    table.caption = f"as of position {answer.as_of_position}"
    return table


def stats_table(answer: OfficeStatistics) -> Table:
    table = Table("measure", "value", title=f"Office {answer.office_code}")
    table.add_row("registrations", str(answer.registrations))
    for state, count in answer.counts.items():
        if count:
            table.add_row(f"  {state}", str(count))
    table.add_row("overdue now", str(answer.overdue))
    table.add_row("ever overdue", str(answer.overdue_total))
    table.add_row(
        "decisions", f"{answer.decisions} ({answer.approved} approved, {answer.rejected} rejected)"
    )
    table.add_row("median time to decision", _duration(answer.median_seconds_to_decision))
    table.add_row("90th percentile", _duration(answer.p90_seconds_to_decision))
    for day in answer.decisions_per_day:
        table.add_row(
            f"  {day.date.isoformat()}", f"{day.approved} approved, {day.rejected} rejected"
        )
    table.caption = f"as of position {answer.as_of_position}"
    return table


def print_registry_summary(console: Console, summary: RegistrySummary) -> None:
    """Rows per table, offices with their active reviewers and supervisors, holiday years."""
    rows = Table(title="Registry")
    rows.add_column("table")
    rows.add_column("rows", justify="right")
    for kind, count in summary.rows.items():
        rows.add_row(kind, str(count))
    console.print(rows)

    offices = Table(title="Offices")
    for heading in ("code", "name", "province", "review days", "active"):
        offices.add_column(heading)
    offices.add_column("reviewers", justify="right")
    offices.add_column("supervisors", justify="right")
    offices.add_column("four eyes")
    for office in summary.offices:
        offices.add_row(
            office.office_code,
            office.name,
            office.province_code,
            str(office.review_days),
            "yes" if office.active else "no",
            str(office.active_reviewers),
            str(office.active_supervisors),
            "yes" if office.four_eyes else "no",
        )
    console.print(offices)

    years = ", ".join(f"{year} ({count})" for year, count in summary.holiday_years.items())
    console.print(f"Holidays: {years or 'none: every weekday counts as a working day'}")
