"""The dev stack the bench runs against, its registry, and CPU time by process."""

from __future__ import annotations

import csv
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from workers.run.supervisor import die_with_parent

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_code(index: int) -> str:
    return f"79{index + 1:08d}"


def write_registry(directory: Path, children: int) -> None:
    """One office with a reviewer, one guardian, and a child for each registration."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "offices.csv").write_text(
        "office_code,name,province_code,review_days,active\n79001,BHXH Thành phố Hồ Chí Minh,79,3,true\n"
    )
    (directory / "reviewers.csv").write_text(
        "reviewer_id,full_name,office_code,role,active\nrv-79001-01,Lê Thị Thu Hà,79001,reviewer,true\n"
    )
    with open(directory / "persons.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            ["social_insurance_code", "personal_id_number", "full_name", "date_of_birth", "gender",
             "household_code", "health_insurance_card_number"]
        )  # fmt: skip
        writer.writerow(["7990000000", "", "Nguyễn Văn An", "1985-06-02", "male", "HGDBENCH", ""])
        for index in range(children):
            writer.writerow(
                [child_code(index), "", "Nguyễn Minh Khôi", "2020-03-14", "male", "HGDBENCH", ""]
            )
    with open(directory / "accounts.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["social_insurance_code", "status", "phone", "email"])
        writer.writerow(["7990000000", "active", "0912345678", "an.nguyen@example.vn"])


@dataclass
class Running:
    address: str
    process: subprocess.Popen[str]


@contextmanager
def dev_stack(data_dir: Path) -> Iterator[Running]:
    port = free_port()
    ports = [
        f"--temporal-port={port}",
        f"--ui-port={free_port()}",
        f"--smtp-port={free_port()}",
        f"--codec-port={free_port()}",
        "--metrics-port=0",
    ]
    log = open(data_dir / "dev.out", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(BIN / "childreg"), "dev", "--data-dir", str(data_dir), "--no-demo", *ports],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # A killed bench stops its stack too. SIGTERM, not SIGINT: a shell's background job
        # starts with SIGINT ignored, and dev's own handler comes only once it has prepared.
        preexec_fn=die_with_parent(signal.SIGTERM),
    )
    assert process.stdout is not None
    for line in process.stdout:
        log.write(line)
        if "Ctrl-C stops" in line:
            break
    else:
        raise RuntimeError(f"childreg dev did not start: see {data_dir / 'dev.out'}")
    try:
        yield Running(f"127.0.0.1:{port}", process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        finally:
            log.close()


ROLES = ("worker", "projector", "web")
GROUPS = (
    *(f"childreg {role}" for role in ROLES),
    "childreg dev",
    "temporal",
    "postgres",
    "bare worker",
    "bench client",
)


def _group_of(process: psutil.Process) -> str | None:
    """The group of one of ``childreg dev``'s children: its role (``childreg worker`` …), the
    Temporal server, or the supervisor's group for anything else (the SMTP sink, the codec);
    ``None`` for PostgreSQL's processes (counted with their postmaster) and for a process that
    ended before it was seen."""
    try:
        name, command = process.name(), process.cmdline()
    except psutil.Error:
        return None
    if name == "postgres":
        return None
    if "temporal" in name:
        return "temporal"
    # [python, …/childreg, role, options…]
    if len(command) > 2 and command[2] in ROLES:
        return f"childreg {command[2]}"
    return "childreg dev"


class CpuMeter:
    """CPU seconds (user + system) of each group of processes, read on demand."""

    def __init__(self, dev_pid: int, bare_pid: int, data_dir: Path) -> None:
        self._dev = psutil.Process(dev_pid)
        self._bare = psutil.Process(bare_pid)
        self._client = psutil.Process()
        self._data_dir = str(data_dir)
        self._seen: dict[int, tuple[str, float]] = {}
        self._extra: list[psutil.Process] = []
        self._groups: dict[int, str | None] = {}
        """Each child's group, decided when it is first seen: one that has exited but is not yet
        reaped still has CPU times but no command line."""

    def also(self, pid: int) -> None:
        """Count another process (a second worker the bench started) with the workers."""
        self._extra.append(psutil.Process(pid))

    def _postmaster(self) -> psutil.Process | None:
        for process in psutil.process_iter(["name", "cmdline"]):
            cmdline = process.info["cmdline"] or []
            if process.info["name"] == "postgres" and any(self._data_dir in c for c in cmdline):
                return process
        return None

    def _members(self) -> Iterator[tuple[str, psutil.Process]]:
        yield "childreg dev", self._dev
        for child in self._dev.children(recursive=True):
            if child.pid not in self._groups:
                self._groups[child.pid] = _group_of(child)
            group = self._groups[child.pid]
            if group is not None:
                yield group, child
        postmaster = self._postmaster()
        if postmaster is not None:
            yield "postgres", postmaster
            for child in postmaster.children(recursive=True):
                yield "postgres", child
        for extra in self._extra:
            yield "childreg worker", extra
        yield "bare worker", self._bare
        yield "bench client", self._client

    def read(self) -> dict[str, float]:
        """Cumulative seconds by group; a process that ended keeps its last reading."""
        for group, process in self._members():
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            self._seen[process.pid] = (group, times.user + times.system)
        totals = dict.fromkeys(GROUPS, 0.0)
        for group, seconds in self._seen.values():
            totals[group] += seconds
        return totals


def difference(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {group: after[group] - before.get(group, 0.0) for group in after}
