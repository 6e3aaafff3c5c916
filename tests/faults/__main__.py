"""``make faults``: the whole service through the faults a real deployment meets, counted.

On a real ``childreg dev`` stack on a fresh data directory, mail going to the suite's own SMTP
relay and SMS to its own HTTP gateway (both count every delivery), registrations of every path
are started and decided by clients that retry like an upstream, while the worker, PostgreSQL,
the Temporal server and the projector are killed and the relay and the gateway fail. Then it
checks and prints: outcomes, the event store (no event twice, no gap), deliveries (none lost;
duplicates reported), read models against a rebuild, the audit, workflows left running, and how
long each fault took to recover. Exit status 1 on any loss or doubled store event.

    .venv/bin/python -m tests.faults [--profile short|full] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table
from temporalio.client import Client
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

from tests.bench.stack import BIN, child_code, free_port, write_registry
from tests.faults.checks import (
    DeliveryFindings,
    EventRow,
    StoreFindings,
    check_deliveries,
    check_store,
    expected_deliveries,
    first_progress,
)
from tests.faults.injector import Fault, Injector
from tests.faults.relay import Mode, SmsGateway, SmtpRelay
from tests.faults.upstream import EXPECTED, Registration, Upstream

CHILDREG = str(BIN / "childreg")


@dataclass(frozen=True)
class Profile:
    name: str
    registrations: int
    spread: float
    """Seconds over which the registrations are started."""
    max_wait_seconds: float
    """The stack's ``CHILDREG_MAX_WAIT_DAYS``, in seconds: when the undecided ones expire."""
    poll_every: float
    smtp_down: float
    smtp_refusing: float
    sms_refusing: float
    postgres_hold: float
    schedule: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Fault → the window (seconds after the first start) it strikes in, at random."""


SHORT = Profile(
    name="short", registrations=30, spread=20, max_wait_seconds=120, poll_every=1.5,
    smtp_down=20, smtp_refusing=10, sms_refusing=15, postgres_hold=8,
    schedule={
        "worker 1": (4, 8), "smtp": (6, 7), "sms": (10, 12), "postgres": (18, 20),
        "temporal": (34, 38), "projector": (40, 44), "worker 2": (48, 54), "worker 3": (58, 64),
    },
)  # fmt: skip
FULL = Profile(
    name="full", registrations=200, spread=90, max_wait_seconds=300, poll_every=3.0,
    smtp_down=60, smtp_refusing=30, sms_refusing=40, postgres_hold=16,
    schedule={
        "worker 1": (6, 12), "smtp": (10, 11), "sms": (20, 22), "postgres": (30, 34),
        "temporal": (60, 66), "projector": (75, 80), "worker 2": (85, 100),
        "worker 3": (110, 125),
    },
)  # fmt: skip
MIX = (
    ("approve", 0.30),
    ("reject", 0.15),
    ("supplement", 0.15),
    ("withdraw", 0.15),
    ("auto_reject", 0.125),
    ("expire", 0.125),
)


def paths_for(count: int) -> list[str]:
    """``count`` paths in the mix's proportions (every path at least once), interleaved."""
    wanted = {path: max(1, round(count * share)) for path, share in MIX}
    while sum(wanted.values()) > count:
        wanted[max(wanted, key=lambda p: wanted[p])] -= 1
    while sum(wanted.values()) < count:
        wanted["approve"] += 1
    order: list[str] = []
    while len(order) < count:
        for path, _ in MIX:
            if wanted[path] > 0:
                order.append(path)
                wanted[path] -= 1
    return order


class Sampler:
    """Polls the event store's newest notification id and the status read model's position
    (every 0.25 s; nothing while PostgreSQL is down)."""

    def __init__(self, database_url: str) -> None:
        from projections.audit.store import EVENTS_TABLE

        self._url = database_url
        self._table = EVENTS_TABLE
        self.store: list[tuple[float, int]] = []
        self.projected: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        connection: psycopg.Connection[Any] | None = None
        while not self._stop.wait(0.25):
            try:
                if connection is None:
                    connection = psycopg.connect(self._url, autocommit=True, connect_timeout=2)
                row = connection.execute(
                    f"SELECT (SELECT coalesce(max(notification_id), 0) FROM {self._table}),"  # noqa: S608
                    " (SELECT coalesce(max(notification_id), 0) FROM registration_status_tracking)"
                ).fetchone()
                now = time.monotonic()
                if row is not None:
                    self.store.append((now, int(row[0])))
                    self.projected.append((now, int(row[1])))
            except psycopg.Error:
                if connection is not None:
                    connection.close()
                connection = None
        if connection is not None:
            connection.close()


@dataclass
class Run:
    profile: Profile
    seed: int
    registrations: list[Registration]
    faults: list[Fault]
    relay: SmtpRelay
    gateway: SmsGateway
    sampler: Sampler
    retries: dict[str, int]
    store: StoreFindings
    journal: dict[str, DeliveryFindings]
    at_relay: dict[str, DeliveryFindings]
    rebuild: tuple[bool, str]
    verify: tuple[bool, str]
    positions: tuple[bool, str]
    running: int
    seconds: float
    load: tuple[float, float, float]
    t0: float


def cli(data_dir: Path, *arguments: str) -> tuple[bool, str]:
    done = subprocess.run(
        [CHILDREG, *arguments],
        env={**os.environ, "CHILDREG_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode == 0, lines[-1] if lines else ""


def wait_caught_up(data_dir: Path, timeout: float = 120) -> tuple[bool, str]:
    """Every read model at the store's head (``childreg projections positions``)."""
    deadline = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < deadline:
        done = subprocess.run(
            [CHILDREG, "projections", "positions", "--json"],
            env={**os.environ, "CHILDREG_DATA_DIR": str(data_dir)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode == 0:
            answer = json.loads(done.stdout)
            shown = f"store at {answer['store']}, behind: " + ", ".join(
                f"{name} {behind}" for name, behind in answer["behind"].items()
            )
            if all(behind == 0 for behind in answer["behind"].values()):
                return True, shown
        time.sleep(1)
    return False, shown


def read_store(database_url: str, key: str) -> tuple[list[EventRow], list[str]]:
    """Every stored event (decoded for its command id) and the message ids the journal records
    as sent (``GuardianNotified``)."""
    from activities.keys import event_store_cipher
    from projections.audit.store import EventDecoder, rows_by_stream

    decoder = EventDecoder(event_store_cipher(database_url, key))
    rows: list[EventRow] = []
    sent: list[str] = []
    try:
        with psycopg.connect(database_url) as connection:
            for registration, stored in rows_by_stream(connection):
                for row in stored:
                    event = decoder.decode(row)
                    rows.append(
                        EventRow(str(registration), row.originator_version,
                                 event.command_id, row.event_name)
                    )  # fmt: skip
                    if row.event_name == "GuardianNotified":
                        sent.append(str(event.message_id))  # type: ignore[attr-defined]
    finally:
        decoder.close()
    return rows, sent


async def quiet_client(address: str, database_url: str, key: str) -> Client:
    """The stack's client (its key and data keys, as ``Dev.client``) whose SDK logs only errors:
    its retry warnings while the Temporal server is down would fill the output."""
    from activities.keys import DataKeys
    from workers.temporal_client import connect

    quiet = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    runtime = Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet)))
    return await connect(address, "default", key, runtime, DataKeys(database_url, key))


async def run(profile: Profile, seed: int, keep: bool, console: Console) -> Run:
    from activities.documents import DocumentStore
    from tests.builders import a_request, sharp_jpeg
    from tests.integration.test_dev_stack import start_dev
    from tests.integration.test_dev_supervision import Output
    from workers.embedded import generated_key
    from workers.stack import read_stack

    rng = random.Random(seed)  # noqa: S311 - fault timing, replayable from the seed
    began = time.monotonic()
    load = os.getloadavg()
    data_dir = Path(tempfile.mkdtemp(prefix="childreg-faults-", dir="/tmp"))
    relay, gateway = SmtpRelay(free_port()), SmsGateway(free_port())
    await relay.set(Mode.UP)
    await gateway.set(Mode.UP)
    os.environ.update(
        {
            "CHILDREG_SMTP__HOST": "127.0.0.1",
            "CHILDREG_SMTP__PORT": str(relay.port),
            "CHILDREG_SMTP__TIMEOUT_SECONDS": "5",
            "CHILDREG_SMS__GATEWAY": "http",
            "CHILDREG_SMS__URL": gateway.url,
            "CHILDREG_SMS__TOKEN": "faults-suite",
            "CHILDREG_SMS__TIMEOUT_SECONDS": "5",
            "CHILDREG_MAX_WAIT_DAYS": repr(profile.max_wait_seconds / 86400),
        }
    )
    write_registry(data_dir / "registry", profile.registrations)
    names = ("temporal-port", "ui-port", "smtp-port", "codec-port", "metrics-port", "web-port")
    console.print(f"Starting childreg dev on {data_dir} ({profile.name} profile, seed {seed})")
    dev = await asyncio.to_thread(
        start_dev, data_dir, {name: free_port() for name in names}, demo=False
    )
    Output(dev)  # keeps reading what it prints (its restart lines), so it never blocks
    try:
        ok, said = cli(data_dir, "registry", "load", str(data_dir / "registry"))
        if not ok:
            raise RuntimeError(f"registry load: {said}")
        key = generated_key(data_dir, "cipher.key")
        documents = DocumentStore(data_dir / "documents", key)
        portrait, certificate = documents.put(sharp_jpeg(1)), documents.put(sharp_jpeg(2))
        supplement = documents.put(sharp_jpeg(3))
        stack = read_stack(data_dir)
        assert stack is not None
        client = await quiet_client(dev.address, stack.database_url, key)
        sampler = Sampler(stack.database_url)
        sampler.start()

        base = a_request(documents__portrait=portrait, documents__birth_certificate=certificate)
        registrations = []
        for index, path in enumerate(paths_for(profile.registrations)):
            request = {
                **base,
                "request_id": f"faults-{seed}-{index}",
                "guardian": {**base["guardian"], "social_insurance_code": "7990000000"},
                "child": {
                    **base["child"],
                    "social_insurance_code": child_code(index),
                    # The registry's child was born on the 14th: a mismatch rejects it at once.
                    "date_of_birth": "2020-03-15" if path == "auto_reject" else "2020-03-14",
                },
            }
            registrations.append(Registration(index, path, request))
        upstream = Upstream(client, supplement, profile.poll_every)
        injector = Injector(data_dir, dev.process.pid, client, relay, gateway)
        started: list[Registration] = []
        t0 = time.monotonic()
        console.print(f"{len(registrations)} registrations; faults from t0 + a few seconds")

        async def walk(registration: Registration) -> None:
            await asyncio.sleep(registration.index * profile.spread / len(registrations))
            started.append(registration)
            await upstream.walk(registration)

        async def at(window: str) -> None:
            low, high = profile.schedule[window]
            await asyncio.sleep(max(0.0, t0 + rng.uniform(low, high) - time.monotonic()))

        async def faults() -> None:
            async def worker(window: str, mid_activity: bool) -> None:
                await at(window)
                await injector.kill_worker(started, mid_activity)

            async def smtp() -> None:
                await at("smtp")
                await injector.relay_outage(profile.smtp_down, profile.smtp_refusing)

            async def sms() -> None:
                await at("sms")
                await injector.gateway_errors(profile.sms_refusing)

            async def postgres() -> None:
                await at("postgres")
                await injector.postgres_down(profile.postgres_hold, started)

            async def kill(window: str, name: str) -> None:
                await at(window)
                await injector.kill(name, started if name == "temporal" else None)

            await asyncio.gather(
                worker("worker 1", True), smtp(), sms(), postgres(),
                kill("temporal", "temporal"), kill("projector", "projector"),
                worker("worker 2", rng.random() < 0.5), worker("worker 3", False),
            )  # fmt: skip

        await asyncio.gather(faults(), *(walk(r) for r in registrations))
        await injector.settled()
        console.print(
            f"Every registration ended {time.monotonic() - t0:.0f} s after the first start"
        )
        # Deliveries retried after the last outage may still be on their way.
        await _settle_deliveries(relay, gateway, registrations)
        sampler.stop()

        positions = await asyncio.to_thread(wait_caught_up, data_dir)
        rebuild = await asyncio.to_thread(cli, data_dir, "audit", "rebuild", "--check")
        verify = await asyncio.to_thread(cli, data_dir, "audit", "verify", "--all")
        running = 0
        async for _ in client.list_workflows("ExecutionStatus='Running'"):
            running += 1
        rows, sent = await asyncio.to_thread(read_store, stack.database_url, key)
        paths = {r.registration_id: r.path for r in registrations if r.registration_id}
        journal, at_relay = {}, {}
        for channel, delivered in (
            ("email", relay.counted.ids()),
            ("sms", gateway.counted.ids()),
        ):
            expected = expected_deliveries(paths, channel)
            at_relay[channel] = check_deliveries(expected, delivered)
            journal[channel] = check_deliveries(expected, [m for m in sent if f".{channel}" in m])
        return Run(
            profile=profile, seed=seed, registrations=registrations, faults=injector.faults,
            relay=relay, gateway=gateway, sampler=sampler, retries=upstream.retries.by_call,
            store=check_store(rows), journal=journal, at_relay=at_relay, rebuild=rebuild,
            verify=verify, positions=positions, running=running,
            seconds=time.monotonic() - began, load=load, t0=t0,
        )  # fmt: skip
    finally:
        await asyncio.to_thread(dev.stop)
        await relay.set(Mode.DOWN)
        await gateway.set(Mode.DOWN)
        if keep:
            console.print(f"Kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


async def _settle_deliveries(
    relay: SmtpRelay, gateway: SmsGateway, registrations: list[Registration], timeout: float = 150
) -> None:
    """Until every expected email and SMS arrived (or ``timeout``): the workflows end only after
    their last notification, so this is short; it covers a delivery still being retried."""
    paths = {r.registration_id: r.path for r in registrations if r.registration_id}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mail = check_deliveries(expected_deliveries(paths, "email"), relay.counted.ids())
        sms = check_deliveries(expected_deliveries(paths, "sms"), gateway.counted.ids())
        if not mail.lost and not sms.lost:
            return
        await asyncio.sleep(1)


def recovery(run: Run, fault: Fault) -> float | None:
    """Seconds from the moment the stack could go on (the new process up, the service back) to
    the next progress: the next stored event; for the projector, the status read model's next
    position; for the relay and the gateway, their next accepted delivery."""
    if fault.name.startswith("SMTP"):
        first = run.relay.counted.first_after(fault.over_at)
        return None if first is None else first - fault.over_at
    if fault.name.startswith("SMS"):
        first = run.gateway.counted.first_after(fault.over_at)
        return None if first is None else first - fault.over_at
    since = fault.restarted_at if fault.restarted_at is not None else fault.over_at
    if fault.name.startswith("projector"):
        return first_progress(run.sampler.projected, since)
    return first_progress(run.sampler.store, since)


def moved_on(fault: Fault) -> str:
    if fault.in_flight is None:
        return ""
    if fault.in_flight == 0:
        return "0"
    after = fault.all_moved_after()
    if after is None:
        return f"{fault.in_flight}: {fault.stuck} not moved in 180 s"
    return f"{fault.in_flight}: {after:.1f}"


def waited_on(fault: Fault, slowest: int = 3) -> str:
    """What the in-flight registrations waited on (activity type: how many), and the slowest
    (their workflow ids, to read their histories with ``--keep``)."""
    kinds = Counter(fault.waited_on.values())
    said = ", ".join(f"{kind} {n}" for kind, n in kinds.most_common())
    since = fault.restarted_at if fault.restarted_at is not None else fault.over_at
    late = sorted(fault.moved.items(), key=lambda item: item[1], reverse=True)[:slowest]
    if late:
        said += "; slowest: " + ", ".join(
            f"{workflow_id} {fault.waited_on[workflow_id]} {moved - since:.1f} s"
            for workflow_id, moved in late
        )
    return said


def verdicts(run: Run) -> list[tuple[str, str, bool, bool]]:
    """(check, figure, passed, fatal) rows."""
    ended = [r for r in run.registrations if r.outcome == EXPECTED[r.path]]
    n = len(run.registrations)
    rows = [
        ("every registration reached its expected outcome", f"{len(ended)}/{n}", len(ended) == n,
         True),
        ("events in the store", f"{run.store.events} in {run.store.registrations} registrations",
         run.store.registrations == n, True),
        ("command ids recorded twice", str(len(run.store.repeated_commands)),
         not run.store.repeated_commands, True),
        ("registrations with a version gap or repeat", str(len(run.store.gaps)),
         not run.store.gaps, True),
    ]  # fmt: skip
    crashes = sum(1 for fault in run.faults if fault.crash)
    for channel, where in (("email", "SMTP relay"), ("sms", "SMS gateway")):
        found = run.at_relay[channel]
        rows.append(
            (f"{channel} at the {where}: delivered / expected, lost",
             f"{found.delivered}/{found.expected}, {len(found.lost)} lost",
             not found.lost and not found.unexpected, True)
        )  # fmt: skip
        rows.append(
            (f"{channel} at the {where}: duplicated (per crash; not fatal)",
             f"{found.extra_copies} ({found.extra_copies / max(crashes, 1):.2f} per crash)",
             found.extra_copies == 0, False)
        )  # fmt: skip
        journal = run.journal[channel]
        rows.append(
            (f"{channel} in the notification journal (GuardianNotified): lost, doubled",
             f"{journal.delivered}/{journal.expected}: {len(journal.lost)} lost, "
             f"{journal.extra_copies} doubled",
             not journal.lost and not journal.extra_copies and not journal.unexpected, True)
        )  # fmt: skip
    rows += [
        ("read models caught up (none frozen)", run.positions[1], run.positions[0], True),
        ("read models equal a rebuild (audit rebuild --check)", run.rebuild[1], run.rebuild[0],
         True),
        ("audit verify --all", run.verify[1], run.verify[0], True),
        ("workflows left running", str(run.running), run.running == 0, True),
    ]  # fmt: skip
    return rows


def report(run: Run, console: Console) -> bool:
    table = Table(title=f"make faults: {run.profile.name} profile")
    table.add_column("check")
    table.add_column("figure")
    table.add_column("", justify="center")
    passed = True
    for check, figure, ok, fatal in verdicts(run):
        table.add_row(check, figure, "✓" if ok else ("✗" if fatal else "!"))
        passed = passed and (ok or not fatal)
    console.print(table)

    paths = Table(title="Outcomes by path")
    for column in ("path", "expected outcome", "reached", "of"):
        paths.add_column(column)
    for path, _ in MIX:
        mine = [r for r in run.registrations if r.path == path]
        good = sum(1 for r in mine if r.outcome == EXPECTED[path])
        paths.add_row(path, EXPECTED[path], str(good), str(len(mine)))
    console.print(paths)

    faults = Table(title="Faults and recovery")
    columns = ("fault", "at (s)", "detail", "new process after (s)", "progress after (s)",
               "in flight: all moved on after (s)")  # fmt: skip
    for column in columns:
        faults.add_column(column)
    for fault in sorted(run.faults, key=lambda f: f.at):
        took = recovery(run, fault)
        faults.add_row(
            fault.name,
            f"{fault.at - run.t0:.1f}",
            fault.detail,
            "" if fault.restarted_at is None else f"{fault.restarted_at - fault.at:.1f}",
            "no progress after it" if took is None else f"{took:.1f}",
            moved_on(fault),
        )
    console.print(faults)
    console.print(
        "at: seconds after the first registration was started. new process after: from the kill "
        "to the supervisor's new process (PostgreSQL: to its restart after the hold). progress "
        "after: from then (the relay and gateway: from their return to normal) to the next "
        "stored event; for the projector, to the status read model's next position; for the "
        "relay and the gateway, to their next accepted delivery. in flight: the registrations "
        "with an activity on its first attempt when it struck (notify_guardian aside: it waits "
        "on the relay's own outage), and the time from the new process until the last of them "
        "had that activity done (or had ended)."
    )
    for fault in sorted(run.faults, key=lambda f: f.at):
        if fault.waited_on:
            console.print(
                f"in flight at {fault.name} ({fault.at - run.t0:.1f} s): {waited_on(fault)}"
            )
    for channel in ("email", "sms"):
        for where, found in (("relay/gateway", run.at_relay[channel]),
                             ("journal", run.journal[channel])):  # fmt: skip
            for key in found.lost:
                console.print(f"[red]lost {channel} ({where}): {key}[/red]")
        for key, extra in run.at_relay[channel].duplicated.items():
            console.print(f"duplicate {channel}: {key} delivered {extra + 1} times (same id)")
    for r in run.registrations:
        if r.outcome != EXPECTED[r.path]:
            console.print(f"[red]{r.workflow_id} ({r.path}): {r.outcome or r.error}[/red]")
    retries = ", ".join(f"{call} {n}" for call, n in sorted(run.retries.items())) or "none"
    console.print(
        f"upstream retries: {retries}; relay refused {run.relay.counted.refused} with 421, "
        f"gateway {run.gateway.counted.refused} with 500"
    )
    console.print(
        f"{run.profile.registrations} registrations, seed {run.seed}, {run.seconds:.0f} s in all, "
        f"{os.cpu_count()} cores, load average at the start "
        + ", ".join(f"{v:.2f}" for v in run.load)
    )
    console.print("PASSED" if passed else "[red]FAILED[/red]")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.faults", description=__doc__)
    parser.add_argument("--profile", choices=("short", "full"), default="full")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    arguments = parser.parse_args()
    profile = SHORT if arguments.profile == "short" else FULL
    seed = arguments.seed if arguments.seed is not None else random.SystemRandom().randrange(10**6)
    console = Console(width=140)
    result = asyncio.run(run(profile, seed, arguments.keep, console))
    sys.exit(0 if report(result, console) else 1)


if __name__ == "__main__":
    main()
