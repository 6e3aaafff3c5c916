"""``childreg privacy``: a child's data erased on request, and kept no longer than the retention.

- ``erase REQUEST_ID --reason TEXT --by OPERATOR_ID [--withdraw]``: erases one final registration
  (``--withdraw`` withdraws an open one first, through the workflow, and erases it once final);
- ``sweep [--dry-run] [--by OPERATOR_ID]``: erases every final registration whose outcome is older
  than ``CHILDREG_RETENTION_DAYS``;
- ``export REQUEST_ID [--out DIR]``: everything held about the registration, decrypted, as one
  JSON document (``export.json``) with the kept documents as files beside it. The folder is named
  by the request id (a request id is not personal data: DESIGN), so writing it prints none.

Exit codes: 0 done (or already erased), 1 refused (still open, or the stack out of reach), 2 bad
usage (an unknown request id, a setting that cannot be used).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from activities.erasure import ErasureReport, StillOpen, UnknownRegistration
from activities.export import PrivacyExport
from domain.contract import WithdrawSignal, workflow_id_for
from domain.lifecycle import is_final
from domain.registration import registration_id_for
from workers.bootstrap import (
    ErasureUnavailable,
    Resolved,
    catch_up_read_models,
    eraser,
    past_retention,
    personal_rows,
    privacy_export,
    resolve,
)
from workers.cli.common import resolved_or_exit, settings_or_exit
from workers.settings import Settings

privacy_app = typer.Typer(
    help="Children's data: erasure and export on request, retention.", no_args_is_help=True
)

WITHDRAW_WAIT_SECONDS = 120.0


def register(app: typer.Typer) -> None:
    app.add_typer(privacy_app, name="privacy")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _withdraw_and_wait(settings: Settings, request_id: str, reason: str) -> None:
    """Withdraw through the workflow's contract (its ``withdraw`` signal) and wait for it to end."""
    from workers.cli.workflow import _client  # the upstream's client, with the data keys

    async def withdraw() -> None:
        client = await _client(settings)
        handle = client.get_workflow_handle(workflow_id_for(request_id))
        await handle.signal("withdraw", WithdrawSignal(reason=reason))
        await asyncio.wait_for(handle.result(), timeout=WITHDRAW_WAIT_SECONDS)

    asyncio.run(withdraw())


def _report_table(report: ErasureReport, rows: int) -> Table:
    table = Table("what", "count", title=f"Erasure of {report.request_id}")
    table.add_row("data key deleted", "0" if report.already_erased else "1")
    table.add_row("events made unreadable", str(report.events_unreadable))
    table.add_row("document files removed", str(report.files_removed))
    table.add_row("mail copies removed", str(report.mail_removed))
    table.add_row("SMS copies removed", str(report.sms_removed))
    table.add_row("child claims released", str(report.claims_released))
    table.add_row("read-model rows blanked", str(rows))
    return table


def _erase_one(
    settings: Settings, resolved: Resolved, request_id: str, reason: str, operator: str
) -> tuple[ErasureReport, int]:
    before = personal_rows(resolved, registration_id_for(request_id))
    with eraser(settings, resolved) as erasing:
        report = erasing.erase(request_id, reason, operator)
    catch_up_read_models(resolved)
    return report, before - personal_rows(resolved, report.registration_id)


@privacy_app.command()
def erase(
    request_id: Annotated[str, typer.Argument(metavar="REQUEST_ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded; no personal data).")],
    by: Annotated[str, typer.Option("--by", metavar="OPERATOR_ID", help="Who erases.")],
    withdraw: Annotated[
        bool, typer.Option("--withdraw", help="Withdraw an open registration first.")
    ] = False,
) -> None:
    """Erase one registration's personal data: its data key, documents, messages, read models."""
    if not reason.strip():
        raise _fail("--reason: an erasure needs a reason", 2)
    if not by.strip():
        raise _fail("--by: the operator's id is required", 2)
    settings = settings_or_exit()
    resolved = resolve(settings)
    try:
        with eraser(settings, resolved) as erasing:
            state = erasing.state(request_id)
        if state is not None and not is_final(state):
            if not withdraw:
                raise StillOpen(request_id, state)
            _withdraw_and_wait(settings, request_id, reason)
        report, rows = _erase_one(settings, resolved, request_id, reason, by)
    except UnknownRegistration as unknown:
        raise _fail(str(unknown), 2) from None
    except (StillOpen, ErasureUnavailable) as refused:
        raise _fail(str(refused)) from None
    typer.echo(
        f"{request_id}: already erased, nothing left to erase"
        if report.already_erased
        else f"{request_id}: personal data erased"
    )
    Console(width=120).print(_report_table(report, rows))


@privacy_app.command()
def sweep(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be erased; change nothing.")
    ] = False,
    by: Annotated[
        str, typer.Option("--by", metavar="OPERATOR_ID", help="Who the erasures are recorded as.")
    ] = "system.retention",
) -> None:
    """Erase every final registration whose outcome is older than CHILDREG_RETENTION_DAYS."""
    settings = settings_or_exit()
    resolved = resolve(settings)
    due = past_retention(resolved, settings.retention_days, datetime.now(UTC))
    verb = "would erase" if dry_run else "erased"
    table = Table(
        "request id",
        "office",
        "state",
        "outcome (UTC)",
        "events",
        "files",
        "mail",
        "sms",
        "rows",
        title=f"Retention {settings.retention_days} days: {len(due)} registration(s) {verb}",
    )
    reason = f"retention of {settings.retention_days} days after the outcome"
    try:
        for item in due:
            outcome_at = item.outcome_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
            if dry_run:
                table.add_row(item.request_id, item.office_code, item.state, outcome_at)
                continue
            report, rows = _erase_one(settings, resolved, item.request_id, reason, by)
            table.add_row(
                item.request_id,
                item.office_code,
                item.state,
                outcome_at,
                str(report.events_unreadable),
                str(report.files_removed),
                str(report.mail_removed),
                str(report.sms_removed),
                str(rows),
            )
    except ErasureUnavailable as refused:
        raise _fail(str(refused)) from None
    Console(width=140).print(table)


@privacy_app.command()
def export(
    request_id: Annotated[str, typer.Argument(metavar="REQUEST_ID", help="The request id.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", file_okay=False, help="The folder to write; default ./<REQUEST_ID>."),
    ] = None,
) -> None:
    """Write everything held about a registration, decrypted, for the guardian's access request."""
    settings = settings_or_exit()
    resolved = resolved_or_exit()
    with privacy_export(settings, resolved) as exporter:
        found = exporter.collect(request_id)
    if found is None:
        typer.echo(f"error: no registration with request id {request_id}", err=True)
        raise typer.Exit(2)
    folder = out if out is not None else Path.cwd() / request_id
    write(folder, found)
    typer.echo(f"written: {folder / 'export.json'}")
    typer.echo(f"events: {len(found.document['events'])}")
    typer.echo(f"notifications: {len(found.document['notifications'])}")
    typer.echo(f"documents: {len(found.files)}")
    if found.document["erased"]:
        typer.echo("the registration's data was erased: only what holds no personal data is left")


def write(folder: Path, found: PrivacyExport) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in found.files.items():
        path = folder / "documents" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    document: dict[str, Any] = found.document
    (folder / "export.json").write_text(
        json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
