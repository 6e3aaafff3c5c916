"""The faults, injected into a running ``childreg dev`` by signalling the pids it publishes."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowExecutionStatus

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
    in_flight: int | None = None
    """Registrations with an activity pending when it struck (None: not followed)."""
    moved_at: list[float] = field(default_factory=list)
    """When each of them moved on: that activity done, or the workflow closed."""
    stuck: int = 0
    """Of them, how many had not moved on 180 s later."""
    waited_on: dict[str, str] = field(default_factory=dict)
    """Workflow id → the type of the activity it had pending when it struck."""
    moved: dict[str, float] = field(default_factory=dict)
    """Workflow id → when it moved on."""

    def all_moved_after(self) -> float | None:
        """Seconds from the new process to the last in-flight registration moving on."""
        if not self.moved_at or self.stuck:
            return None
        since = self.restarted_at if self.restarted_at is not None else self.over_at
        return max(0.0, max(self.moved_at) - since)


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

    async def _pending_of(self, workflow_id: str) -> set[str] | None:
        handle = self._client.get_workflow_handle(workflow_id)
        described = await handle.describe(rpc_timeout=timedelta(seconds=10))
        if described.status != WorkflowExecutionStatus.RUNNING:
            return None
        return {p.activity_id for p in described.raw_description.pending_activities}

    async def _pending(
        self, registration: Registration, *, followed: bool = False
    ) -> dict[str, str] | None:
        """Its pending activities (id → type); None once the workflow is closed.

        ``followed``: only those a fault can hold up, on their first attempt (one already
        retrying waits on something else), and not ``notify_guardian``, which waits on the
        relay's and the gateway's own outages (its duplicates are counted at the relay)."""
        handle = self._client.get_workflow_handle(registration.workflow_id)
        described = await handle.describe(rpc_timeout=timedelta(seconds=10))
        if described.status != WorkflowExecutionStatus.RUNNING:
            return None
        return {
            p.activity_id: p.activity_type.name
            for p in described.raw_description.pending_activities
            if not followed or (p.attempt <= 1 and p.activity_type.name != "notify_guardian")
        }

    async def snapshot(self, candidates: list[Registration]) -> dict[str, dict[str, str]]:
        """Taken just before a fault: the registrations with an activity a fault can hold up."""
        limit = asyncio.Semaphore(16)

        async def pending(registration: Registration) -> dict[str, str] | None:
            async with limit:
                try:
                    return await self._pending(registration, followed=True)
                except Exception:
                    return {}  # not started yet

        chosen = [r for r in candidates if not r.outcome and not r.error]
        found = await asyncio.gather(*(pending(r) for r in chosen))
        return {r.workflow_id: ids for r, ids in zip(chosen, found, strict=True) if ids}

    def _follow(self, fault: Fault, snapshot: dict[str, dict[str, str]]) -> None:
        """When each registration of the snapshot moves on (that activity done, or ended)."""
        fault.in_flight = len(snapshot)
        fault.waited_on = {
            workflow_id: ", ".join(sorted(set(pending.values())))
            for workflow_id, pending in snapshot.items()
        }

        async def follow() -> None:
            waiting = {workflow_id: set(pending) for workflow_id, pending in snapshot.items()}
            deadline = time.monotonic() + 180
            while waiting and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                for workflow_id, ids in list(waiting.items()):
                    try:
                        now = await self._pending_of(workflow_id)
                    except Exception:  # noqa: S112 - the server is down: next round
                        continue
                    if now is None or not (now & ids):
                        fault.moved_at.append(time.monotonic())
                        fault.moved[workflow_id] = fault.moved_at[-1]
                        del waiting[workflow_id]
            fault.stuck = len(waiting)

        self._watching.append(asyncio.create_task(follow()))

    async def settled(self) -> None:
        """Until every restart and every in-flight registration was followed."""
        await asyncio.gather(*self._watching)

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
        snapshot = await self.snapshot(in_flight)
        fault = self._kill("worker", f"mid-activity: {running}" if running else "")
        self._follow(fault, snapshot)

    async def kill(self, name: str, in_flight: list[Registration] | None = None) -> None:
        snapshot = await self.snapshot(in_flight) if in_flight is not None else None
        fault = self._kill(name)
        if snapshot is not None:
            self._follow(fault, snapshot)

    async def postgres_down(self, hold: float, in_flight: list[Registration]) -> None:
        """PostgreSQL stopped in immediate mode (SIGQUIT to the postmaster), held down for
        ``hold`` seconds: ``childreg dev`` (its supervisor) is paused meanwhile, else it
        restarts the server within half a second; then it resumes and restarts it."""
        pid = pid_of(self._data_dir, "postgres")
        snapshot = await self.snapshot(in_flight)
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
        self._follow(fault, snapshot)

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
