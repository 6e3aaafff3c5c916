"""``make bench``: childreg measured against the engine, as ratios taken in one run.

On one ``childreg dev`` stack (a throw-away data directory), interleaved A B A B:

- A: childreg's approved registrations end to end (start, poll ``status`` until the reviewer is
  awaited, the ``decide`` update, the result);
- B: the bare workflow of the same shape (``tests/bench/bare.py``) on the same server.

Reported: registrations/s and the ratio (closed loop, N in flight); latency p50/p95/p99 of
start → awaiting review and decision → result under an open-loop load at 50% and 90% of each
one's measured capacity (send times from a schedule, latencies from the intended send time);
projection lag (event committed → in the status read model); the event store against raw
INSERTs; CPU seconds per registration by process; then the correctness checks. The results go to
``var/bench/<time>.json`` (or ``--out DIR``) with the machine, versions and settings.

    .venv/bin/python -m tests.bench [--quick | --smoke] [--registrations N] [--rounds R] [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psycopg
import psycopg.sql

from tests.bench import micro, store
from tests.bench.bare import BARE_QUEUE, BARE_TYPE
from tests.bench.stack import BIN, CpuMeter, child_code, dev_stack, difference, write_registry
from workers.run.supervisor import die_with_parent

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Profile:
    registrations: int
    rounds: int
    open_loop: int
    store_commands: int


PROFILES = {
    # Every measure once, too small to mean anything: what ``make test`` runs to show it works.
    "smoke": Profile(registrations=4, rounds=2, open_loop=4, store_commands=20),
    "quick": Profile(registrations=20, rounds=2, open_loop=16, store_commands=60),
    "full": Profile(registrations=40, rounds=3, open_loop=40, store_commands=150),
}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def spread(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "values": values,  # type: ignore[dict-item]
    }


# --- one registration, either kind ------------------------------------------------------------


@dataclass
class Timing:
    review_at: float = 0.0
    decided_at: float = 0.0
    done_at: float = 0.0
    outcome: str = ""


@dataclass
class Driver:
    """Starts one registration of a kind and walks it to its result."""

    client: Any
    base: dict[str, Any]
    kind: str  # "childreg" or "bare"
    prefix: str
    failures: list[str] = field(default_factory=list)
    queries: int = 0
    """``status`` queries sent: a registration that takes longer to reach its reviewer is polled
    more often (every 50 ms), and each poll costs Temporal and the worker."""

    async def one(self, index: int) -> Timing:
        from domain.contract import DecideUpdate, Outcome
        from workflows.registration import TASK_QUEUE, ChildAccountRegistration

        timing = Timing()
        request = {
            **self.base,
            "request_id": f"{self.prefix}-{index}",
            "guardian": {**self.base["guardian"], "social_insurance_code": "7990000000"},
            "child": {
                **self.base["child"],
                "social_insurance_code": child_code(index),
                "date_of_birth": "2020-03-14",
            },
        }
        workflow_id = f"registration-{self.prefix}-{index}"
        if self.kind == "childreg":
            handle = await self.client.start_workflow(
                ChildAccountRegistration.run, request, id=workflow_id, task_queue=TASK_QUEUE
            )
        else:
            handle = await self.client.start_workflow(
                BARE_TYPE, {"registration_id": workflow_id}, id=workflow_id, task_queue=BARE_QUEUE
            )
        while True:
            self.queries += 1
            if self.kind == "childreg":
                waiting = (await handle.query(ChildAccountRegistration.status)).waiting_for
            else:
                waiting = (await handle.query("status"))["waiting_for"]
            if waiting in ("reviewer", "nobody"):
                break
            await asyncio.sleep(0.05)
        timing.review_at = time.perf_counter()
        decision = DecideUpdate(
            decision_id=f"d-{index}", reviewer_id="rv-79001-01", outcome=Outcome.APPROVE
        )
        if self.kind == "childreg":
            await handle.execute_update(ChildAccountRegistration.decide, decision)
            result = await handle.result()
            timing.outcome = str(result.outcome)
        else:
            await handle.execute_update("decide", decision.model_dump(mode="json"))
            timing.outcome = str(await handle.result())
        timing.done_at = time.perf_counter()
        timing.decided_at = timing.review_at
        if timing.outcome != "approved":
            self.failures.append(f"{workflow_id}: {timing.outcome}")
        return timing


class Counter:
    def __init__(self, start: int) -> None:
        self.next = start

    def take(self, count: int) -> range:
        taken = range(self.next, self.next + count)
        self.next += count
        return taken


async def closed_loop(driver: Driver, indices: range) -> float:
    started = time.perf_counter()
    await asyncio.gather(*(driver.one(index) for index in indices))
    return len(indices) / (time.perf_counter() - started)


async def open_loop(driver: Driver, indices: range, rate: float) -> dict[str, Any]:
    """Send at ``rate``/s from a schedule; latencies count from the intended send time."""
    started = time.perf_counter()
    intended = {index: started + n / rate for n, index in enumerate(indices)}

    async def scheduled(index: int) -> tuple[float, Timing]:
        delay = intended[index] - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        return intended[index], await driver.one(index)

    results = await asyncio.gather(*(scheduled(index) for index in indices))
    to_review = [timing.review_at - sent for sent, timing in results]
    to_result = [timing.done_at - timing.decided_at for _, timing in results]
    return {
        "offered_per_second": rate,
        "count": len(indices),
        "start_to_review_ms": _percentiles(to_review),
        "decision_to_result_ms": _percentiles(to_result),
    }


def _percentiles(seconds: list[float]) -> dict[str, float]:
    return {f"p{q}": percentile(seconds, q) * 1000 for q in (50, 95, 99)}


# --- projection lag ---------------------------------------------------------------------------


class LagSampler:
    """Polls the event store's newest notification id and the status read model's tracking
    position; the lag of an event is from the poll that first saw it to the poll that saw the
    read model past it (so each figure is within one poll interval, 20 ms, plus the queries)."""

    def __init__(self, database_url: str) -> None:
        from projections.audit.store import EVENTS_TABLE
        from projections.base import tracking_table_for
        from projections.status import RegistrationStatusView

        self._url = database_url
        self._events = EVENTS_TABLE
        self._tracking = tracking_table_for(RegistrationStatusView.projection_name)
        self._stop = threading.Event()
        self.lags: list[float] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LagSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        first_seen: dict[int, float] = {}
        newest = applied = 0
        with psycopg.connect(self._url, autocommit=True) as connection:
            while not self._stop.is_set():
                row = connection.execute(
                    f"SELECT (SELECT coalesce(max(notification_id), 0) FROM {self._events}),"  # noqa: S608
                    f" (SELECT coalesce(max(notification_id), 0) FROM {self._tracking})"
                ).fetchone()
                now = time.perf_counter()
                assert row is not None
                latest, reached = int(row[0]), int(row[1])
                if newest == 0:
                    newest = applied = latest  # what was there before sampling began
                for notification_id in range(newest + 1, latest + 1):
                    first_seen[notification_id] = now
                newest = max(newest, latest)
                for notification_id in range(applied + 1, reached + 1):
                    if notification_id in first_seen:
                        self.lags.append(now - first_seen.pop(notification_id))
                applied = max(applied, reached)
                time.sleep(0.02)


# --- the run ----------------------------------------------------------------------------------


def start_second_worker(data_dir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """A second ``childreg worker`` on the stack's Temporal, PostgreSQL and SMTP sink, with the
    environment ``childreg dev --workers 2`` gives its ``worker-2``, and its log. Started from the
    main thread (its parent-death signal is tied to the thread): wait for it with
    :func:`wait_polling`."""
    from workers.stack import read_stack

    stack = read_stack(data_dir)
    assert stack is not None
    log_path = data_dir / "logs" / "bench-worker-2.log"
    env = {
        **os.environ,
        "CHILDREG_DATA_DIR": str(data_dir.resolve()),
        "CHILDREG_TEMPORAL_ADDRESS": stack.temporal_address,
        "CHILDREG_SMTP__PORT": str(stack.smtp_port),
        "CHILDREG_METRICS_PORT": "0",
        "CHILDREG_PUBLIC_BASE_URL": stack.web or "http://localhost:8080",
        "CHILDREG_LOG_FORMAT": "json",
    }
    env.pop("CHILDREG_DATABASE_URL", None)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(BIN / "childreg"), "worker"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=die_with_parent(signal.SIGTERM),
        )
    return process, log_path


def wait_polling(process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Return once the worker polls its task queue (it logs ``worker.started``)."""
    deadline = time.monotonic() + 120
    while '"worker.started"' not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the second worker did not start: see {log_path}")
        time.sleep(0.2)


async def closed_rounds(
    drivers: dict[str, Driver],
    counters: dict[str, Counter],
    profile: Profile,
    meter: CpuMeter,
) -> tuple[dict[str, list[float]], dict[str, dict[str, float]], dict[str, int]]:
    """``profile.rounds`` closed-loop rounds of each kind, interleaved A B A B."""
    rates: dict[str, list[float]] = {"childreg": [], "bare": []}
    cpu: dict[str, dict[str, float]] = {"childreg": {}, "bare": {}}
    done: dict[str, int] = {"childreg": 0, "bare": 0}
    for _ in range(profile.rounds):
        for kind in ("childreg", "bare"):
            before = meter.read()
            rates[kind].append(
                await closed_loop(drivers[kind], counters[kind].take(profile.registrations))
            )
            used = difference(meter.read(), before)
            for group, seconds in used.items():
                cpu[kind][group] = cpu[kind].get(group, 0.0) + seconds
            done[kind] += profile.registrations
    return rates, cpu, done


async def run_load(
    address: str, data_dir: Path, database_url: str, profile: Profile, meter: CpuMeter
) -> dict[str, Any]:
    from activities.documents import DocumentStore
    from activities.keys import DataKeys
    from tests.builders import a_request, sharp_jpeg
    from workers.embedded import generated_key
    from workers.temporal_client import connect

    key = generated_key(data_dir, "cipher.key")
    documents = DocumentStore(data_dir / "documents", key)
    portrait, certificate = documents.put(sharp_jpeg(1)), documents.put(sharp_jpeg(2))
    client = await connect(address, "default", key, data_keys=DataKeys(database_url, key))
    base = a_request(documents__portrait=portrait, documents__birth_certificate=certificate)
    drivers = {
        "childreg": Driver(client, base, "childreg", "bench"),
        "bare": Driver(client, base, "bare", "bare"),
    }
    counters = {"childreg": Counter(0), "bare": Counter(0)}
    # Warm both up (imports, connections, sandbox caches) before anything is timed.
    for kind in drivers:
        await closed_loop(drivers[kind], counters[kind].take(2))

    sent = {kind: driver.queries for kind, driver in drivers.items()}
    rates, cpu, done = await closed_rounds(drivers, counters, profile, meter)
    queries = {kind: (drivers[kind].queries - sent[kind]) / done[kind] for kind in sent}
    capacity = {kind: statistics.median(values) for kind, values in rates.items()}

    # The same closed loop with a second worker process polling the same task queue.
    second, second_log = start_second_worker(data_dir)
    try:
        await asyncio.to_thread(wait_polling, second, second_log)
        meter.also(second.pid)
        rates_2, cpu_2, done_2 = await closed_rounds(drivers, counters, profile, meter)
    finally:
        second.terminate()
        await asyncio.to_thread(second.wait, 60)
    capacity_2 = {kind: statistics.median(values) for kind, values in rates_2.items()}

    latency: dict[str, dict[str, Any]] = {"childreg": {}, "bare": {}}
    lag: dict[str, list[float]] = {}
    for load in (50, 90):
        for kind in ("childreg", "bare"):
            indices = counters[kind].take(profile.open_loop)
            rate = capacity[kind] * load / 100
            if kind == "childreg":
                with LagSampler(database_url) as sampler:
                    latency[kind][f"{load}%"] = await open_loop(drivers[kind], indices, rate)
                    await _settle(database_url)
                lag[f"{load}%"] = sampler.lags
            else:
                latency[kind][f"{load}%"] = await open_loop(drivers[kind], indices, rate)

    return {
        "closed_loop": {
            "in_flight": profile.registrations,
            "per_second": {kind: spread(values) for kind, values in rates.items()},
            "ratio": capacity["childreg"] / capacity["bare"],
            "status_queries_per_registration": queries,
        },
        "two_workers": {
            "in_flight": profile.registrations,
            "per_second": {kind: spread(values) for kind, values in rates_2.items()},
            "ratio": capacity_2["childreg"] / capacity_2["bare"],
            "childreg_two_vs_one": capacity_2["childreg"] / capacity["childreg"],
            "cpu_seconds_per_registration": {
                kind: {group: seconds / done_2[kind] for group, seconds in groups.items()}
                for kind, groups in cpu_2.items()
            },
        },
        "open_loop": latency,
        "projection_lag_ms": {
            load: {
                "p50": percentile(values, 50) * 1000,
                "p99": percentile(values, 99) * 1000,
                "events": len(values),
            }
            for load, values in lag.items()
        },
        "cpu_seconds_per_registration": {
            kind: {group: seconds / done[kind] for group, seconds in groups.items()}
            for kind, groups in cpu.items()
        },
        "registrations": {kind: counter.next for kind, counter in counters.items()},
        "failures": drivers["childreg"].failures + drivers["bare"].failures,
    }


async def _settle(database_url: str, timeout: float = 30) -> None:
    """Wait until the read models have applied every stored event (or say which did not)."""
    lagging = await asyncio.to_thread(_wait_projected, database_url, timeout)
    if lagging:
        print(f"read models behind after {timeout:.0f} s: {', '.join(lagging)}", flush=True)


def _wait_projected(database_url: str, timeout: float) -> list[str]:
    """Until every read model's tracking table has reached the newest stored event (each runner
    records every event, whether its view uses it or not), or ``timeout`` seconds; returns the
    read models still behind then (none: caught up)."""
    from projections.audit.store import EVENTS_TABLE
    from projections.base import tracking_table_for
    from projections.catalogue import NAMES

    positions = psycopg.sql.SQL(", ").join(
        psycopg.sql.SQL("(SELECT coalesce(max(notification_id), 0) FROM {})").format(
            psycopg.sql.Identifier(tracking_table_for(name))
        )
        for name in NAMES
    )
    query = psycopg.sql.SQL("SELECT (SELECT coalesce(max(notification_id), 0) FROM {}), {}").format(
        psycopg.sql.Identifier(EVENTS_TABLE), positions
    )
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as connection:
        while True:
            row = connection.execute(query).fetchone()
            assert row is not None
            lagging = [name for name, at in zip(NAMES, row[1:], strict=True) if at < row[0]]
            if not lagging or time.monotonic() >= deadline:
                return lagging
            time.sleep(0.1)


def checks(data_dir: Path, database_url: str, childreg: int, failures: list[str]) -> dict[str, Any]:
    """After the run: every workflow approved, one email and one SMS per milestone (received
    and approved), the read models equal a rebuild, the audit verifies clean."""
    env = {**os.environ, "CHILDREG_DATA_DIR": str(data_dir)}
    lagging = _wait_projected(database_url, 60)

    def cli(*arguments: str) -> tuple[bool, str]:
        done = subprocess.run(
            [str(BIN / "childreg"), *arguments], env=env, capture_output=True, text=True
        )
        return done.returncode == 0, (done.stdout + done.stderr).strip().splitlines()[-1:][0]

    mails = sum(1 for path in (data_dir / "mail").rglob("*") if path.is_file())
    texts = sum(1 for path in (data_dir / "sms").rglob("*") if path.is_file())
    rebuilt, rebuild_line = cli("audit", "rebuild", "--check")
    verified, verify_line = cli("audit", "verify", "--all")
    return {
        "passed": not failures
        and not lagging
        and mails == texts == 2 * childreg
        and rebuilt
        and verified,
        "all_approved": not failures,
        "read_models_caught_up": not lagging,
        "read_models_behind": lagging,
        "failures": failures[:10],
        "emails": {"expected": 2 * childreg, "found": mails},
        "sms": {"expected": 2 * childreg, "found": texts},
        "read_models_equal_rebuild": rebuilt,
        "rebuild": rebuild_line,
        "audit_verify_clean": verified,
        "verify": verify_line,
    }


def start_bare(address: str, data_dir: Path, database_url: str) -> subprocess.Popen[str]:
    key_file = str(data_dir / "keys" / "cipher.key")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.bare", address, key_file, database_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        preexec_fn=die_with_parent(signal.SIGTERM),
    )
    assert process.stdout is not None
    said = []
    for line in process.stdout:
        if "bare worker ready" in line:
            return process
        said.append(line)
    raise RuntimeError("the bare worker did not start:\n" + "".join(said[-20:]))


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "load_average": os.getloadavg(),
    }


def versions(database_url: str) -> dict[str, str]:
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    found = {name: version(name) for name in ("temporalio", "eventsourcing", "psycopg", "fpdf2")}
    return {
        **found,
        "postgresql": str(row[0]) if row else "?",
        "childreg": commit + ("+dirty" if dirty else ""),
    }


def settings(profile: Profile, database_url: str) -> dict[str, Any]:
    from tests.bench.bare import LOCAL_STEPS
    from workers.bootstrap import ACTIVITY_THREADS, event_store_env

    env = event_store_env(database_url, "k")
    shown = {
        name: value
        for name, value in env.items()
        if name.startswith(("POSTGRES_POOL", "POSTGRES_MAX", "AGGREGATE", "CIPHER_TOPIC"))
    }
    return {
        "profile": profile.__dict__,
        "activity_threads": ACTIVITY_THREADS,
        "local_steps": sorted(str(name) for name in LOCAL_STEPS),
        "event_store": shown,
    }


def run(profile: Profile, label: str) -> dict[str, Any]:
    from workers.stack import read_stack

    data_dir = Path(tempfile.mkdtemp(prefix="childreg-bench-", dir="/tmp"))
    started = datetime.now(UTC)
    load_at_start = os.getloadavg()
    try:
        total = 4 + 2 * profile.rounds * profile.registrations + 2 * profile.open_loop
        write_registry(data_dir / "registry", total)
        with dev_stack(data_dir) as stack:
            env = {**os.environ, "CHILDREG_DATA_DIR": str(data_dir)}
            subprocess.run(
                [str(BIN / "childreg"), "registry", "load", str(data_dir / "registry")],
                env=env,
                check=True,
                capture_output=True,
            )
            written = read_stack(data_dir)
            assert written is not None
            database_url = written.database_url
            bare = start_bare(stack.address, data_dir, database_url)
            try:
                event_store = store.measure(
                    database_url,
                    (data_dir / "keys" / "cipher.key").read_text().strip(),
                    per_round=10,
                    rounds=max(2, profile.store_commands // 10),
                )
                meter = CpuMeter(stack.process.pid, bare.pid, data_dir)
                load = asyncio.run(run_load(stack.address, data_dir, database_url, profile, meter))
                verdict = checks(
                    data_dir, database_url, load["registrations"]["childreg"], load["failures"]
                )
                about = {
                    "versions": versions(database_url),
                    "settings": settings(profile, database_url),
                }
            finally:
                bare.terminate()
                bare.wait(timeout=30)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "label": label,
        "started": started.isoformat(),
        "machine": {**machine(), "load_average_at_start": load_at_start},
        **about,
        **load,
        "event_store": event_store,
        "checks": verdict,
        "micro": micro.figures(),
    }


def table(result: dict[str, Any]) -> str:
    closed = result["closed_loop"]
    lines = [
        f"childreg bench ({result['label']}), {result['machine']['cpus']} cores, "
        f"load average {', '.join(f'{v:.2f}' for v in result['machine']['load_average'])} "
        f"(at the start {', '.join(f'{v:.2f}' for v in result['machine']['load_average_at_start'])})",
        "",
        f"{'':<44}{'childreg':>12}{'bare':>12}{'ratio':>8}",
    ]
    c, b = closed["per_second"]["childreg"], closed["per_second"]["bare"]
    lines.append(
        f"{'registrations/s, median (min-max)':<44}{c['median']:>12.2f}{b['median']:>12.2f}"
        f"{closed['ratio']:>8.2f}"
    )
    lines.append(f"{'':<44}{c['min']:>5.2f}-{c['max']:<6.2f}{b['min']:>5.2f}-{b['max']:<6.2f}")
    polls = closed.get("status_queries_per_registration")
    if polls:
        lines.append(
            f"{'status queries per registration':<44}{polls['childreg']:>12.1f}{polls['bare']:>12.1f}"
        )
    two = result["two_workers"]
    c2, b2 = two["per_second"]["childreg"], two["per_second"]["bare"]
    lines.append(
        f"{'two worker processes: registrations/s':<44}{c2['median']:>12.2f}{b2['median']:>12.2f}"
        f"{two['ratio']:>8.2f}"
    )
    lines.append(f"{'  childreg two workers / one':<44}{two['childreg_two_vs_one']:>12.2f}")
    for load in ("50%", "90%"):
        for what in ("start_to_review_ms", "decision_to_result_ms"):
            a = result["open_loop"]["childreg"][load][what]
            z = result["open_loop"]["bare"][load][what]
            for q in ("p50", "p95", "p99"):
                lines.append(
                    f"{f'{what[:-3]} {q} at {load} (ms)':<44}{a[q]:>12.0f}{z[q]:>12.0f}"
                    f"{a[q] / z[q] if z[q] else float('nan'):>8.2f}"
                )
    for load, lag in result["projection_lag_ms"].items():
        lines.append(
            f"{f'projection lag at {load} p50 / p99 (ms)':<44}{lag['p50']:>6.0f} / {lag['p99']:<6.0f}"
        )
    store_ = result["event_store"]
    medians = store_["median_per_second"]
    lines.append("")
    lines.append(
        f"event store: command {medians['command']:.0f}/s, INSERT {medians['insert']:.0f}/s, "
        f"LOCK+INSERT+NOTIFY {medians['locked']:.0f}/s: command/INSERT "
        f"{store_['command_vs_insert']:.2f}, command/locked {store_['command_vs_locked']:.2f}"
    )
    lines.append("")
    lines.append("CPU seconds per registration by process:")
    for kind, groups in result["cpu_seconds_per_registration"].items():
        shown = ", ".join(f"{group} {seconds:.3f}" for group, seconds in groups.items() if seconds)
        lines.append(f"  {kind:<9} {shown}")
    lines.append("")
    for name, value in result["micro"].items():
        lines.append(f"{name:<58} {value:>10.1f}/s")
    lines.append("")
    lines.append("checks: " + json.dumps(result["checks"], ensure_ascii=False))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few minutes: fewer and smaller")
    parser.add_argument(
        "--smoke", action="store_true", help="every measure once, too small to mean anything"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "var" / "bench", help="the JSON's folder"
    )
    parser.add_argument("--registrations", type=int, help="in flight per closed-loop round")
    parser.add_argument("--rounds", type=int, help="closed-loop rounds of each kind")
    parser.add_argument("--label", default="", help="a name for this run in its JSON")
    arguments = parser.parse_args()
    chosen = "smoke" if arguments.smoke else "quick" if arguments.quick else "full"
    profile = PROFILES[chosen]
    if arguments.registrations:
        profile.registrations = arguments.registrations
    if arguments.rounds:
        profile.rounds = max(2, arguments.rounds)
    label = arguments.label or chosen
    result = run(profile, label)
    out: Path = arguments.out
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{result['started'][:19].replace(':', '')}-{label}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(table(result))
    print(f"\nwritten to {path}")
    if not result["checks"]["passed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
