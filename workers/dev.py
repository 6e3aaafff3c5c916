"""``childreg dev``: the service on one machine, on its embedded defaults."""

from __future__ import annotations

import fcntl
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import IO, Annotated

import typer
from psycopg_pool import ConnectionPool
from rich.console import Console

from activities.registry import PostgresRegistry
from workers.bootstrap import resolve
from workers.migrate import migrate
from workers.projector import running_projections
from workers.registry_cli import print_summary
from workers.registry_csv import read_registry
from workers.settings import load_settings

DEMO_REGISTRY = Path(str(files("demo") / "registry"))
"""The synthetic demo registry, shipped with the package (``demo/registry/``)."""


class AlreadyRunning(Exception):
    pass


@contextmanager
def exclusive(data_dir: Path) -> Iterator[None]:
    """Hold ``<data dir>/dev.lock`` for as long as the stack runs: one stack per data directory."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock_file: IO[str] = open(data_dir / "dev.lock", "a+")  # noqa: SIM115 - held for the whole run
    try:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            holder = lock_file.read().strip() or "another process"
            raise AlreadyRunning(
                f"childreg dev is already running on {data_dir} (pid {holder}); "
                "stop it first or pick another directory with --data-dir"
            ) from None
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(str(os.getpid()))
        lock_file.flush()
        yield
    finally:
        lock_file.close()


def dev(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Where the embedded stack keeps its data (default: var/)."),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Load the demo registry on first start.")
    ] = True,
) -> None:
    """Run the service on its embedded defaults; Ctrl-C stops it, and its data stays."""
    overrides: dict[str, object] = {"data_dir": data_dir} if data_dir else {}
    settings = load_settings(**overrides)
    console = Console()
    try:
        with exclusive(settings.data_dir):
            _serve(settings.data_dir, demo, console)
    except AlreadyRunning as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None


def _serve(data_dir: Path, demo: bool, console: Console) -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    settings = load_settings(data_dir=data_dir)
    resolved = resolve(settings)
    console.print(f"PostgreSQL   {resolved.database_url}")
    parts = migrate(resolved.database_url)
    console.print(f"Schema       {', '.join(parts)} ready")
    with ConnectionPool(resolved.database_url, min_size=1, max_size=2, open=True) as pool:
        registry = PostgresRegistry(pool)
        marker = data_dir / ".demo-registry-loaded"
        if demo and not marker.exists():
            report = registry.load(read_registry(DEMO_REGISTRY))
            marker.write_text("loaded\n")
            console.print(
                f"Registry     demo data loaded from {DEMO_REGISTRY} ({report.total_changed} rows)"
            )
        print_summary(console, registry.summary())
    console.print(
        "\nLook at it:\n"
        f"  psql '{resolved.database_url}'\n"
        "  childreg registry show\n"
        f"Data stays under {data_dir}/. Ctrl-C stops.\n"
    )
    with running_projections(resolved):
        stop.wait()
    console.print("Stopping.")
