"""``childreg worker|projector|web|dev|codec-server``: the commands that run a process until stopped.

Each reads the settings, configures logging and hands over to its process in ``workers.run``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from workers.cli.common import settings_or_exit
from workers.logs import configure_logging
from workers.run.codec_server import codec_server
from workers.settings import LogFormat


def register(app: typer.Typer) -> None:
    """Add the long-running processes to the ``childreg`` command."""
    app.command()(worker)
    app.command()(projector)
    app.command()(web)
    app.command()(dev)
    app.command("codec-server")(codec_server)


def worker() -> None:
    """Run the Temporal worker of the registration workflow (until SIGTERM)."""
    from workers.bootstrap import SchemaMissing
    from workers.run.worker import run_worker

    settings = settings_or_exit()
    configure_logging(settings.log_format, settings.log_level)
    try:
        asyncio.run(run_worker(settings))
    except SchemaMissing as missing:
        typer.echo(str(missing), err=True)
        raise typer.Exit(1) from None


def projector() -> None:
    """Keep the read models (status, queues, guardians' children, statistics) current."""
    from workers.run.projector import ProjectorFailed, run_projector

    settings = settings_or_exit()
    configure_logging(settings.log_format, settings.log_level)
    try:
        run_projector(settings)
    except ProjectorFailed:
        raise typer.Exit(1) from None


def web(
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.", min=1, max=65535)] = 8080,
) -> None:
    """Serve the web tier: guardians' declaration links, POST /v1/documents, /healthz, /readyz."""
    from workers.bootstrap import SchemaMissing
    from workers.run.web import run_web

    settings = settings_or_exit()
    configure_logging(settings.log_format, settings.log_level)
    try:
        asyncio.run(run_web(settings, host, port))
    except SchemaMissing as missing:
        typer.echo(str(missing), err=True)
        raise typer.Exit(1) from None


def dev(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Where the embedded stack keeps its data (default: var/)."),
    ] = None,
    temporal_port: Annotated[int, typer.Option(help="Temporal frontend (gRPC) port.")] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal Web UI port.")] = 8233,
    smtp_port: Annotated[int, typer.Option(help="The SMTP sink's port.")] = 8025,
    codec_port: Annotated[
        int,
        typer.Option(
            help="The codec server's port (the temporal CLI and Web UI decrypt through it)."
        ),
    ] = 8081,
    metrics_port: Annotated[
        int, typer.Option(help="The worker's Prometheus metrics port; 0: off.")
    ] = 9464,
    web_port: Annotated[
        int, typer.Option(help="The web tier's port (guardians' links, the document intake).")
    ] = 8080,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Play the demo on first start.")
    ] = True,
    log_format: Annotated[LogFormat | None, typer.Option(help="console, json or auto.")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes polling the task queue (each supervised; pid files "
            "worker.pid, worker-2.pid …; only the first serves the metrics port).",
        ),
    ] = 1,
) -> None:
    """Run the whole service on its embedded defaults; Ctrl-C stops it, and its data stays."""
    from rich.console import Console

    from workers.run.dev import Ports, StackError, run_dev

    overrides: dict[str, object] = {"metrics_port": metrics_port}
    if data_dir:
        overrides["data_dir"] = data_dir
    if log_format:
        overrides["log_format"] = log_format
    settings = settings_or_exit(**overrides)
    if "public_base_url" not in settings.model_fields_set:
        # Guardians' links point at this stack's own web tier unless told otherwise.
        settings = settings.model_copy(update={"public_base_url": f"http://localhost:{web_port}"})
    configure_logging(settings.log_format, "warning")
    console = Console()
    ports = Ports(temporal_port, ui_port, smtp_port, codec_port, metrics_port, web_port)
    try:
        run_dev(settings, ports, demo, console, workers)
    except StackError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
