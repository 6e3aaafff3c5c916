"""The faults, injected into a running ``childreg dev`` by signalling the pids it publishes."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from tests.faults.relay import Mode, SmsGateway, SmtpRelay
from tests.faults.upstream import Registration

STARTED = 2  # PENDING_ACTIVITY_STATE_STARTED


@dataclass
class Fault:
    name: str
    at: float
    """When it struck (monotonic)."""
    over_at: float
    """When the stack could recover: the kill itself, or the moment the service came back."""
    detail: str = ""
    crash: bool = False
    """A process died (counted for duplicates per crash)."""
    restarted_at: float | None = None
    """When the supervisor had a new process up (its pid file changed)."""


def pid_of(data_dir: Path, name: str) -> int:
    return int((data_dir / "run" / f"{name}.pid").read_text())


class Injector:
    def __init__(
        self,
        data_dir: Path,
        dev_pid: int,
        client: Client,
        relay: SmtpRelay,
        gateway: SmsGateway,
    ) -> None:
        self._data_dir = data_dir
        self._dev_pid = dev_pid
        self._client = client
        self._relay = relay
        self._gateway = gateway
        self.faults: list[Fault] = []
        self._watching: list[asyncio.Task[None]] = []

    def _watch_restart(self, fault: Fault, name: str, old: int) -> None:
        async def watch() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if pid_of(self._data_dir, name) != old:
                        fault.restarted_at = time.monotonic()
                        return
                except (OSError, ValueError):
                    pass  # being rewritten
                await asyncio.sleep(0.05)

        self._watching.append(asyncio.create_task(watch()))

    def _kill(self, name: str, detail: str = "") -> Fault:
        pid = pid_of(self._data_dir, name)
        os.kill(pid, signal.SIGKILL)
        now = time.monotonic()
        fault = Fault(f"{name} kill -9", now, now, detail or f"pid {pid}", crash=True)
        self.faults.append(fault)
        self._watch_restart(fault, name, pid)
        return fault

    async def kill_worker(self, in_flight: list[Registration], mid_activity: bool) -> None:
        """``kill -9`` the worker; with ``mid_activity``, at a moment an activity is running on
        it (seen in a registration's pending activities; up to 20 s of looking)."""
        running = ""
        if mid_activity:
            deadline = time.monotonic() + 20
            while not running and time.monotonic() < deadline:
                for registration in in_flight[-12:]:
                    try:
                        handle = self._client.get_workflow_handle(registration.workflow_id)
                        described = await handle.describe()
                    except Exception:  # noqa: S112 - not started yet, or the server is busy
                        continue
                    for pending in described.raw_description.pending_activities:
                        if pending.state == STARTED:
                            running = pending.activity_type.name
                            break
                    if running:
                        break
                else:
                    await asyncio.sleep(0.05)
        self._kill("worker", f"mid-activity: {running}" if running else "")

    def kill(self, name: str) -> None:
        self._kill(name)

    async def postgres_down(self, hold: float) -> None:
        """PostgreSQL stopped in immediate mode (SIGQUIT to the postmaster), held down for
        ``hold`` seconds: ``childreg dev`` (its supervisor) is paused meanwhile, else it
        restarts the server within half a second; then it resumes and restarts it."""
        pid = pid_of(self._data_dir, "postgres")
        os.kill(self._dev_pid, signal.SIGSTOP)
        try:
            os.kill(pid, signal.SIGQUIT)
            at = time.monotonic()
            await asyncio.sleep(hold)
        finally:
            os.kill(self._dev_pid, signal.SIGCONT)
        back = time.monotonic()
        fault = Fault(
            "PostgreSQL stop -m immediate", at, back, f"held down {back - at:.0f} s", crash=True
        )
        self.faults.append(fault)
        self._watch_restart(fault, "postgres", pid)

    async def relay_outage(self, down: float, refusing: float) -> None:
        at = time.monotonic()
        await self._relay.set(Mode.DOWN)
        await asyncio.sleep(down)
        await self._relay.set(Mode.REFUSING)
        await asyncio.sleep(refusing)
        await self._relay.set(Mode.UP)
        self.faults.append(
            Fault(
                "SMTP relay down, then 421",
                at,
                time.monotonic(),
                f"down {down:.0f} s, 421 for {refusing:.0f} s",
            )
        )

    async def gateway_errors(self, seconds: float) -> None:
        at = time.monotonic()
        await self._gateway.set(Mode.REFUSING)
        await asyncio.sleep(seconds)
        await self._gateway.set(Mode.UP)
        self.faults.append(
            Fault("SMS gateway 500", at, time.monotonic(), f"500 for {seconds:.0f} s")
        )
