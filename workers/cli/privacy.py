"""``childreg privacy …``: a guardian's rights over a child's data (README: "Children's data").

- ``export REQUEST_ID [--out DIR]``: everything held about the registration, decrypted, as one
  JSON document (``export.json``) with the kept documents as files beside it.

The folder is named by the request id (a request id is not personal data: DESIGN), so writing it
prints no personal data. Exit codes: 0 written, 2 bad usage or an unknown request id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from activities.export import PrivacyExport
from workers.bootstrap import privacy_export
from workers.cli.common import resolved_or_exit, settings_or_exit

privacy_app = typer.Typer(help="A guardian's rights over a child's data.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``privacy`` to the ``childreg`` command."""
    app.add_typer(privacy_app, name="privacy")


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
