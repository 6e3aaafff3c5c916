"""``make bench`` runs: its smallest profile end to end on a real ``childreg dev`` stack, so a change
that breaks a measure or a check fails here and not on the day someone needs the figures. Nothing
here asserts a time or a ratio's size (the project's rule: speed is measured, never asserted)."""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.bench.stack import GROUPS
from workers.run.supervisor import belongs_to

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Any]:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    written = list(out.glob("*-smoke.json"))
    return done, json.loads(written[0].read_text()) if len(written) == 1 else None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_the_smallest_bench_passes_its_checks_and_writes_its_json(smoke: Any) -> None:
    done, result = smoke
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert result is not None, "no JSON written"
    checks = result["checks"]
    assert checks["passed"]
    assert checks["all_approved"]
    assert checks["read_models_caught_up"]
    assert checks["audit_verify_clean"]
    assert checks["emails"]["found"] == checks["emails"]["expected"] > 0
    assert checks["sms"]["found"] == checks["sms"]["expected"] > 0
    assert result["label"] == "smoke"
    assert result["machine"]["cpus"] >= 1
    assert "childreg bench (smoke)" in done.stdout
    assert "checks: " in done.stdout


def test_every_measure_of_the_issue_is_in_the_json(smoke: Any) -> None:
    _, result = smoke
    assert result is not None
    assert _number(result["closed_loop"]["ratio"])
    for kind in ("childreg", "bare"):
        rates = result["closed_loop"]["per_second"][kind]
        assert len(rates["values"]) == 2
        assert all(_number(v) for v in rates["values"])
        for load in ("50%", "90%"):
            assert result["open_loop"][kind][load]["count"] > 0
            for latency in ("start_to_review_ms", "decision_to_result_ms"):
                figures = result["open_loop"][kind][load][latency]
                assert all(_number(figures[p]) for p in ("p50", "p95", "p99")), figures
    assert _number(result["two_workers"]["childreg_two_vs_one"])
    assert _number(result["closed_loop"]["status_queries_per_registration"]["childreg"])
    for load in ("50%", "90%"):
        assert result["projection_lag_ms"][load]["events"] > 0
    store = result["event_store"]
    assert all(_number(store[k]) for k in ("command_vs_insert", "command_vs_locked"))


def test_cpu_is_counted_by_role(smoke: Any) -> None:
    """The issue's list: worker, projector, web, the Temporal server and PostgreSQL apart."""
    _, result = smoke
    assert result is not None
    childreg = result["cpu_seconds_per_registration"]["childreg"]
    bare = result["cpu_seconds_per_registration"]["bare"]
    assert set(childreg) == set(bare) == set(GROUPS)
    assert {"childreg worker", "childreg projector", "childreg web"} <= set(GROUPS)
    for group in ("childreg worker", "childreg projector", "temporal", "postgres"):
        assert childreg[group] > 0, group
    assert bare["bare worker"] > 0
    assert bare["temporal"] > 0
    assert childreg["bare worker"] < bare["bare worker"]


def _command(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:  # exited since it was listed (a PostgreSQL backend, a CLI call)
        return []


def test_a_killed_bench_takes_its_stack_with_it(tmp_path: Path) -> None:
    """A bench killed outright (a CI timeout, a test's) as its bare worker starts leaves no
    ``childreg dev``, PostgreSQL, Temporal or worker running: each is started with a parent-death
    signal. What survives is killed here, so a failure does not leak a stack into later tests."""
    bench = psutil.Popen(
        [sys.executable, "-m", "tests.bench", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    data_dir: Path | None = None
    survivors: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        commands: dict[psutil.Process, list[str]] = {}
        while time.monotonic() < deadline and not any(
            "tests.bench.bare" in c for c in commands.values()
        ):
            time.sleep(0.5)
            commands = {p: _command(p) for p in bench.children(recursive=True)}
        dev = [c for c in commands.values() if "dev" in c and "--data-dir" in c]
        assert dev, f"the bench started no stack in 120 s: {list(commands.values())}"
        data_dir = Path(dev[0][dev[0].index("--data-dir") + 1])
        stack = bench.children(recursive=True)
        bench.kill()
        bench.wait(30)

        _, survivors = psutil.wait_procs(stack, timeout=60)
        # Anything else still on the data directory: started or restarted after the listing.
        survivors += [
            p for p in psutil.process_iter() if p not in stack and belongs_to(p, data_dir)
        ]
        assert not survivors, [_command(p)[:3] for p in survivors]
    finally:
        for process in [bench, *survivors]:
            with contextlib.suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(survivors, timeout=30)
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)
