"""``childreg worker`` as a real process, against the real dev server, the embedded PostgreSQL and
the SMTP sink: killed with SIGKILL mid-registration (a new process finishes the registration with
no event and no notification twice), and stopped with SIGTERM (a graceful exit whose JSON log
lines name the workflow and none of the request's personal data)."""

from __future__ import annotations

import asyncio
import email
import json
import os
import signal
import subprocess
import unicodedata
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.testing import WorkflowEnvironment

from activities.documents import DocumentStore
from domain.contract import FinalOutcome, RegistrationResult, RegistrationStatus
from domain.registration import registration_id_for
from tests import builders
from tests.e2e.stack import BIN, LINK_SECRET, give_password
from tests.workflow.conftest import TEST_KEY
from workers.bootstrap import Adapters
from workers.run.smtp_sink import SmtpSink
from workflows.registration import WORKFLOW_TYPE, workflow_id_for

WITHIN = 30.0
"""Seconds any one condition may take before the test gives up."""

MILESTONES = [
    "Submitted",
    "IdentityVerified",
    "DocumentsStored",
    "ReviewRequested",
    "Approved",
    "ChildAccountActivated",
]


@dataclass
class WorkerProcess:
    """One ``childreg worker`` process; its stderr (the log) goes to a file."""

    process: subprocess.Popen[bytes]
    log_file: Path

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def events(self) -> list[dict[str, Any]]:
        lines = [line for line in self.log().splitlines() if line.strip()]
        return [json.loads(line) for line in lines]  # every line is JSON

    async def logged(self, event: str) -> None:
        await until(lambda: event in self.log() or self.process.poll() is not None, event)
        assert event in self.log(), f"the worker exited ({self.process.returncode}): {self.log()}"

    async def exited(self) -> int:
        await until(lambda: self.process.poll() is not None, "the worker's exit")
        return self.process.returncode


@dataclass
class Stack:
    """The dev server, a database with the registry, a data dir, the SMTP sink; worker processes."""

    client: Client
    address: str
    adapters: Adapters
    data_dir: Path
    database_url: str
    sink: SmtpSink
    task_queue: str = field(default_factory=lambda: f"worker-test-{uuid.uuid4().hex[:8]}")
    workers: list[WorkerProcess] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("CHILDREG_")}
        return {
            **inherited,
            "CHILDREG_DATA_DIR": str(self.data_dir),
            "CHILDREG_DATABASE_URL": self.database_url,
            "CHILDREG_CIPHER_KEY": TEST_KEY,
            "CHILDREG_LINK_SECRET": LINK_SECRET,
            "CHILDREG_TEMPORAL_ADDRESS": self.address,
            "CHILDREG_TEMPORAL_NAMESPACE": "default",
            "CHILDREG_TASK_QUEUE": self.task_queue,
            "CHILDREG_SMTP__HOST": self.sink.host,
            "CHILDREG_SMTP__PORT": str(self.sink.port),
            "CHILDREG_LOG_FORMAT": "json",
            "CHILDREG_LOG_LEVEL": "info",
        }

    async def start_worker(self) -> WorkerProcess:
        log_file = self.data_dir / f"worker-{len(self.workers) + 1}.log"
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                [str(BIN / "childreg"), "worker"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment(),
            )
        worker = WorkerProcess(process, log_file)
        self.workers.append(worker)
        await worker.logged("worker.started")
        return worker

    async def submit(self) -> tuple[dict[str, Any], WorkflowHandle[Any, RegistrationResult]]:
        """Put the documents into the intake and start a registration, as an upstream does."""
        intake = DocumentStore(self.data_dir / "documents")
        request_id = f"vssid-kill-{uuid.uuid4().hex[:8]}"
        body = builders.request(
            request_id,
            intake.put(builders.jpeg_with_gps()),
            intake.put(builders.encoded(builders.scan(seed=3), "PNG")),
        )
        handle: WorkflowHandle[Any, RegistrationResult] = await self.client.start_workflow(
            WORKFLOW_TYPE,
            body,
            id=workflow_id_for(request_id),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            result_type=RegistrationResult,
        )
        return body, handle

    def history(self, request_id: str) -> list[Any]:
        return list(self.adapters.service.history(registration_id_for(request_id)))

    def emails(self) -> list[tuple[str, str]]:
        """(Message-ID, Subject) of every message the sink stored."""
        found = []
        for path in self.sink.messages():
            message = email.message_from_bytes(path.read_bytes(), policy=default)
            found.append((str(message["Message-ID"]), str(message["Subject"])))
        return found

    def sms(self) -> list[Path]:
        return sorted((self.data_dir / "sms").glob("*.json"))


@pytest.fixture
async def stack(
    dev_server: WorkflowEnvironment,
    adapters: Adapters,
    data_dir: Path,
    database_url: str,
    sink: SmtpSink,
) -> AsyncIterator[Stack]:
    running = Stack(
        client=dev_server.client,
        address=str(dev_server.client.service_client.config.target_host),
        adapters=adapters,
        data_dir=data_dir,
        database_url=database_url,
        sink=sink,
    )
    yield running
    for worker in running.workers:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait(timeout=10)


async def until(condition: Any, what: str, *, within: float = WITHIN) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within
    while not condition():
        if loop.time() > give_up:
            raise AssertionError(f"waited {within:.0f} s for {what}")
        await asyncio.sleep(0.05)


async def reach(handle: WorkflowHandle[Any, Any], state: str) -> RegistrationStatus:
    """Query ``status`` until the registration is in ``state`` (a bounded wait)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + WITHIN
    while True:
        status: RegistrationStatus = await asyncio.wait_for(
            handle.query("status", result_type=RegistrationStatus), WITHIN
        )
        if status.state == state:
            return status
        if loop.time() > give_up:
            raise AssertionError(f"the registration stayed {status.state}, never {state}")
        await asyncio.sleep(0.05)


async def test_a_killed_worker_leaves_no_duplicate_event_or_notification(stack: Stack) -> None:
    first = await stack.start_worker()
    body, handle = await stack.submit()
    request_id = body["request_id"]
    await reach(handle, "awaiting_review")
    before = stack.history(request_id)
    assert {(e.kind, e.channel) for e in before if type(e).__name__ == "GuardianNotified"} == {
        ("received", "email"),
        ("received", "sms"),
    }  # the first worker told the guardian; the second must not tell again

    first.process.send_signal(signal.SIGKILL)  # no graceful shutdown
    assert await first.exited() == -signal.SIGKILL
    assert "worker.stopping" not in first.log()
    second = await stack.start_worker()
    await handle.signal("approve", {"decision_id": "d-kill-1", "reviewer_id": builders.REVIEWER})
    # The server first offers the signal's workflow task to the dead worker's sticky queue and
    # hands it to the new worker after the sticky timeout (10 s): the result takes ~11 s.
    result = await asyncio.wait_for(handle.result(), WITHIN)

    assert result.outcome is FinalOutcome.APPROVED
    assert result.child_account_id
    history = stack.history(request_id)
    assert [type(e).__name__ for e in history[: len(before)]] == [
        type(e).__name__ for e in before
    ]  # the first worker's events, unchanged
    types = [type(event).__name__ for event in history]
    assert [t for t in types if not t.startswith(("Notification", "Guardian"))] == MILESTONES
    command_ids = Counter(event.command_id for event in history)
    assert [c for c, n in command_ids.items() if n > 1] == []  # each command once
    notified = Counter(
        (event.kind, event.channel)
        for event in history
        if type(event).__name__ == "GuardianNotified"
    )
    assert notified == {
        ("received", "email"): 1,
        ("received", "sms"): 1,
        ("approved", "email"): 1,
        ("approved", "sms"): 1,
    }
    mails = stack.emails()
    assert len(mails) == 2
    assert len({message_id for message_id, _ in mails}) == 2
    assert any(".received." in message_id for message_id, _ in mails)
    assert any(".approved." in message_id for message_id, _ in mails)
    assert stack.sink.duplicates == 0  # nothing was even sent twice
    outbox = [path.name for path in stack.sms()]
    assert len(outbox) == 2
    assert any(".received." in name for name in outbox)
    assert any(".approved." in name for name in outbox)

    second.process.send_signal(signal.SIGTERM)
    assert await second.exited() == 0


def _folded(text: str) -> str:
    """Lower case without accents: ``Nguyễn Văn An`` → ``nguyen van an``."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _personal_data(body: dict[str, Any]) -> list[str]:
    guardian, child = body["guardian"], body["child"]
    born = child["date_of_birth"]
    year, month, day = born.split("-")
    phone = guardian["phone"]
    return [
        guardian["full_name"],
        child["full_name"],
        guardian["social_insurance_code"],
        child["social_insurance_code"],
        born,
        f"{day}/{month}/{year}",
        phone,
        "+84" + phone[1:],
        "84" + phone[1:],
        guardian["email"],
        child["full_name"].encode().hex(),  # as the card QR holds it
    ]


async def test_the_worker_stops_gracefully_on_sigterm_and_logs_no_personal_data(
    stack: Stack,
) -> None:
    worker = await stack.start_worker()
    body, handle = await stack.submit()
    await reach(handle, "awaiting_review")
    decided = await handle.execute_update(
        "decide",
        {"decision_id": "d-term-1", "reviewer_id": builders.REVIEWER, "outcome": "approve"},
        result_type=RegistrationStatus,
    )
    result = await asyncio.wait_for(handle.result(), WITHIN)

    worker.process.send_signal(signal.SIGTERM)
    code = await worker.exited()

    assert decided.state == "approved"
    assert result.outcome is FinalOutcome.APPROVED
    assert code == 0, worker.log()
    lines = worker.events()
    names = [line.get("event") for line in lines]
    assert names.count("worker.started") == 1
    assert names.index("worker.stopping") < names.index("worker.stopped")
    assert names[-1] == "worker.stopped"
    assert any(handle.id in json.dumps(line, ensure_ascii=False) for line in lines)
    log = worker.log()
    for value in _personal_data(body):
        assert _folded(value) not in _folded(log), f"{value!r} is in the worker's log"
        assert json.dumps(value)[1:-1] not in log, f"{value!r} is in the log, \\u-escaped"


async def childreg(
    stack: Stack, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """Run a ``childreg`` command against the stack (off the event loop)."""
    done: subprocess.CompletedProcess[str] = await asyncio.to_thread(
        subprocess.run,
        [str(BIN / "childreg"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=WITHIN,
        env={**stack.environment(), **env},
        check=False,
    )
    return done


async def test_submitting_a_finished_registration_again_answers_with_it(stack: Stack) -> None:
    """The public contract (README): starting again with the same id returns the same registration; a finished id
    is not reused (no second run), and ``childreg submit`` says so without an error."""
    worker = await stack.start_worker()
    body, handle = await stack.submit()
    await reach(handle, "awaiting_review")
    await handle.signal("withdraw", {"reason": "test"})
    first = await asyncio.wait_for(handle.result(), WITHIN)
    worker.process.send_signal(signal.SIGTERM)
    assert await worker.exited() == 0
    request_file = stack.data_dir / "request.json"
    request_file.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")

    again = await childreg(stack, "submit", "--request", str(request_file), "--wait")

    assert again.returncode == 0, again.stderr
    started, result = (json.loads(line) for line in again.stdout.splitlines())
    assert started == {
        "workflow_id": handle.id,
        "registration_id": str(registration_id_for(body["request_id"])),
    }
    assert RegistrationResult.model_validate(result) == first
    assert first.outcome is FinalOutcome.WITHDRAWN
    runs = [run async for run in stack.client.list_workflows(f"WorkflowId = '{handle.id}'")]
    assert len(runs) == 1


async def test_childreg_answers_a_refusal_of_the_server_in_one_line(stack: Stack) -> None:
    """A reviewer's command for a registration Temporal does not have, or with Temporal out of
    reach, ends with one line on stderr and exit code 1, not a traceback."""
    password = give_password(stack.database_url, builders.REVIEWER)
    unknown = await childreg(
        stack, "review", "approve", "vssid-unknown-1", "--reviewer", builders.REVIEWER,
        stdin=password,
    )  # fmt: skip
    unreachable = await childreg(
        stack, "withdraw", "vssid-unknown-1", CHILDREG_TEMPORAL_ADDRESS="127.0.0.1:1"
    )

    assert unknown.returncode == 1
    assert unknown.stderr.splitlines() == [
        "error: workflow not found for ID: registration-vssid-unknown-1"
    ]
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("error: Temporal is out of reach: ")
    assert "Traceback" not in unreachable.stderr
