"""The supervisor of ``childreg dev``: its processes as children, restarted when they die.

Each :class:`Service` is started with a parent-death signal (``PR_SET_PDEATHSIG``), so a
``childreg dev`` killed with ``kill -9`` takes its children with it; its pid is written to
``<data dir>/run/<name>.pid`` for an operator or a test to signal. One that exits while the stack
runs is restarted after a short backoff, with a line saying which and why. A start finds the
leftovers of a run that was killed anyway (a pid file whose process still runs on this data
directory, a PostgreSQL still serving it) and stops them, saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil
from rich.console import Console

PR_SET_PDEATHSIG = 1
BACKOFF = (0.5, 1.0, 2.0, 4.0)
"""Seconds before the 1st, 2nd, 3rd and later restarts of a service that keeps dying; a service
that stayed up for :data:`STABLE` seconds starts again from the first."""
STABLE = 30.0


def run_dir(data_dir: Path) -> Path:
    return data_dir / "run"


def pid_file(data_dir: Path, name: str) -> Path:
    return run_dir(data_dir) / f"{name}.pid"


def die_with_parent(signum: int) -> Callable[[], None]:
    """A ``preexec_fn`` giving the child ``signum`` when its parent dies (strictly: when the
    parent's thread that started it ends, so start it from a thread that lives as long). libc is
    opened here, before the fork: between fork and exec the child only calls into it."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def set_deathsig() -> None:
        prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent:  # it died before the prctl took effect (adopted since)
            os.kill(os.getpid(), signum)

    return set_deathsig


@dataclass
class Service:
    """One supervised process: how to start it, and when it is ready."""

    name: str
    command: Sequence[str]
    log: Path
    env: Mapping[str, str] | None = None
    user: str | None = None
    death_signal: int = signal.SIGKILL
    stop_signal: int = signal.SIGTERM
    ready: Callable[[int], bool] | None = None
    """Given the pid, whether the service is ready to serve (None: as soon as it runs)."""
    needs: Sequence[str] = ()
    """Services that must be running (and ready) before this one is (re)started."""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started_at: float = 0.0
    restarts: int = 0
    _log_file: IO[bytes] | None = field(default=None, repr=False)


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class Supervisor:
    """Start services in order, restart the ones that die, stop them in reverse order."""

    def __init__(self, data_dir: Path, console: Console) -> None:
        self.data_dir = data_dir
        self.console = console
        self.services: dict[str, Service] = {}
        self._stopping = False
        run_dir(data_dir).mkdir(parents=True, exist_ok=True)

    def start(self, service: Service) -> subprocess.Popen[bytes]:
        """Start ``service`` (from the event loop's thread: the death signal follows the thread
        that forked)."""
        self.services[service.name] = service
        return self._spawn(service)

    def _spawn(self, service: Service) -> subprocess.Popen[bytes]:
        service.log.parent.mkdir(parents=True, exist_ok=True)
        if service._log_file is None:
            service._log_file = open(service.log, "ab")  # noqa: SIM115 - closed in stop_all
        process = subprocess.Popen(  # noqa: S603 - our own binaries, fixed arguments
            list(service.command),
            stdin=subprocess.DEVNULL,
            stdout=service._log_file,
            stderr=subprocess.STDOUT,
            env=dict(service.env) if service.env is not None else None,
            user=service.user,
            preexec_fn=die_with_parent(service.death_signal),
        )
        service.process = process
        service.started_at = time.monotonic()
        path = pid_file(self.data_dir, service.name)
        partial = path.with_suffix(".pid.new")
        partial.write_text(f"{process.pid}\n")
        partial.replace(path)  # never seen half-written
        return process

    def is_ready(self, name: str) -> bool:
        service = self.services.get(name)
        if service is None or service.process is None or service.process.poll() is not None:
            return False
        return service.ready is None or service.ready(service.process.pid)

    async def wait_ready(self, name: str, timeout: float = 60) -> None:
        service = self.services[name]
        deadline = time.monotonic() + timeout
        while not self.is_ready(name):
            if service.process is not None and service.process.poll() is not None:
                raise RuntimeError(
                    f"{name} {describe_exit(service.process.returncode)} while starting; "
                    f"see {service.log}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{name} was not ready within {timeout:.0f} s; see {service.log}"
                )
            await asyncio.sleep(0.1)

    async def watch(self, stop: asyncio.Event, check_every: float = 0.2) -> None:
        """Restart every service that dies, until ``stop`` is set."""
        pending: dict[str, float] = {}  # name -> when to restart it
        while not stop.is_set():
            now = time.monotonic()
            for service in self.services.values():
                process = service.process
                if process is None or process.poll() is None or service.name in pending:
                    continue
                up_for = now - service.started_at
                if up_for > STABLE:
                    service.restarts = 0
                delay = BACKOFF[min(service.restarts, len(BACKOFF) - 1)]
                self.console.print(
                    f"Restarting {service.name}: it {describe_exit(process.returncode)} "
                    f"after {up_for:.1f} s (pid {process.pid}); again in {delay:.1f} s"
                )
                pending[service.name] = now + delay
            for name, when in list(pending.items()):
                service = self.services[name]
                if when > now or not all(self.is_ready(need) for need in service.needs):
                    continue
                del pending[name]
                service.restarts += 1
                try:
                    process = self._spawn(service)
                except OSError as error:
                    self.console.print(f"Restarting {name} failed: {error}; trying again")
                    pending[name] = now + BACKOFF[-1]
                    continue
                self.console.print(f"Restarted {name} (pid {process.pid})")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), check_every)

    def stop_all(self, timeout: float = 20) -> None:
        """Stop every service, the last started first, and remove their pid files."""
        for service in reversed(list(self.services.values())):
            process = service.process
            if process is not None and process.poll() is None:
                process.send_signal(service.stop_signal)
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            pid_file(self.data_dir, service.name).unlink(missing_ok=True)
            if service._log_file is not None:
                service._log_file.close()
                service._log_file = None
        self.services.clear()


def belongs_to(process: psutil.Process, data_dir: Path) -> bool:
    """Whether ``process`` runs on ``data_dir`` (named in its command line or environment)."""
    marker = str(data_dir.resolve())
    with contextlib.suppress(psutil.Error):
        if any(marker in part for part in process.cmdline()):
            return True
        environ = process.environ()
        value = environ.get("CHILDREG_DATA_DIR")
        if value is not None and str(Path(value).resolve()) == marker:
            return True
    return False


def stop_leftovers(data_dir: Path, names: Sequence[str], console: Console) -> list[str]:
    """Stop what a killed run of this data directory left running; returns what was stopped.

    Called while holding the data directory's lock, so nothing of a live stack is touched: a pid
    file names a leftover only if its process still runs on this data directory."""
    stopped: list[str] = []
    for name in names:
        path = pid_file(data_dir, name)
        if not path.exists():
            continue
        try:
            pid = int(path.read_text().strip())
            process = psutil.Process(pid)
        except (ValueError, psutil.Error):
            path.unlink(missing_ok=True)
            continue
        if belongs_to(process, data_dir):
            console.print(f"Stopping a leftover {name} of a killed run (pid {pid})")
            _terminate(process)
            stopped.append(name)
        path.unlink(missing_ok=True)
    return stopped


def _terminate(process: psutil.Process, signum: int = signal.SIGTERM, timeout: float = 10) -> None:
    with contextlib.suppress(psutil.Error):
        process.send_signal(signum)
        try:
            process.wait(timeout)
        except psutil.TimeoutExpired:
            process.kill()
            process.wait(5)
