"""``childreg dev`` as an operator runs it: a subprocess on its own data directory."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

CHILDREG = str(Path(sys.executable).parent / "childreg")


def start_dev(data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [CHILDREG, "dev", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
    )


def read_until_ready(process: subprocess.Popen[str]) -> str:
    """The output up to the line saying how to stop it (the stack is up then)."""
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "Ctrl-C stops" in line:
            return "".join(lines)
    raise AssertionError("childreg dev ended before it was ready:\n" + "".join(lines))


@pytest.fixture
def running(data_dir: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    process = start_dev(data_dir)
    output = read_until_ready(process)
    yield process, output, data_dir
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def descendants_and_servers(process: subprocess.Popen[str], data_dir: Path) -> list[psutil.Process]:
    found = []
    for candidate in psutil.process_iter(["cmdline"]):
        if (
            str(data_dir) in " ".join(candidate.info["cmdline"] or [])
            and candidate.pid != process.pid
        ):
            found.append(candidate)
    return found


def test_dev_brings_up_the_database_with_the_demo_registry(
    running: tuple[subprocess.Popen[str], str, Path],
) -> None:
    _, output, data_dir = running

    shown = subprocess.run(
        [CHILDREG, "registry", "show"],
        env={**os.environ, "CHILDREG_DATA_DIR": str(data_dir), "COLUMNS": "120"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert "demo data loaded" in output
    assert "Schema" in output
    assert "BHXH Thành phố Hồ Chí Minh" in shown.stdout


def test_a_second_dev_on_the_same_directory_refuses(
    running: tuple[subprocess.Popen[str], str, Path],
) -> None:
    _, _, data_dir = running

    second = subprocess.run(
        [CHILDREG, "dev", "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=60
    )

    assert second.returncode == 1
    assert "already running" in second.stdout


def test_ctrl_c_stops_everything_and_a_restart_keeps_the_data(data_dir: Path) -> None:
    first = start_dev(data_dir)
    read_until_ready(first)

    first.send_signal(signal.SIGINT)
    first.wait(timeout=60)
    left = descendants_and_servers(first, data_dir)
    again = start_dev(data_dir)
    output = read_until_ready(again)
    again.send_signal(signal.SIGINT)
    again.wait(timeout=60)

    assert first.returncode == 0
    assert left == []
    assert "demo data loaded" not in output  # loaded once, kept
    assert re.search(r"persons\s*│\s*17\s*│", output)
