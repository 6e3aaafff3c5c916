"""End to end: the real Temporal dev server, the embedded PostgreSQL, the SMTP sink, and the
way an upstream in another language talks to the workflow: the ``temporal`` CLI with JSON.
Then the same through ``childreg submit`` and ``childreg review``."""

from __future__ import annotations

import asyncio
import email
import json
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.registry import PostgresRegistry
from domain.contract import FinalOutcome, RegistrationResult, RegistrationStatus
from domain.registration import registration_id_for
from tests import builders
from tests.e2e.stack import BIN, LINK_SECRET, address, give_password
from tests.workflow.conftest import TEST_KEY
from workers.bootstrap import Adapters
from workers.run.smtp_sink import SmtpSink
from workers.settings import Settings
from workflows.registration import LOCAL_STEPS_PATCH, TASK_QUEUE, WORKFLOW_TYPE


async def temporal(env: WorkflowEnvironment, *args: str) -> str:
    """Run the ``temporal`` CLI off the event loop (the worker shares the loop with the test)."""
    done = await asyncio.to_thread(
        subprocess.run,
        [str(BIN / "temporal"), *args, "--address", address(env), "--namespace", "default"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


async def childreg(
    settings: Settings,
    *args: str,
    task_queue: str = TASK_QUEUE,
    check: bool = True,
    stdin: str = "",
) -> subprocess.CompletedProcess[str]:
    env = {
        "CHILDREG_TASK_QUEUE": task_queue,
        **os.environ,
        **childreg_env(settings),
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [str(BIN / "childreg"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"childreg {args[0]} failed: {done.stderr[-2000:]}")
    return done


def childreg_env(settings: Settings) -> dict[str, str]:
    """What every ``childreg`` process of these tests is configured with."""
    return {
        "CHILDREG_DATA_DIR": str(settings.data_dir),
        "CHILDREG_DATABASE_URL": str(settings.database_url),
        "CHILDREG_CIPHER_KEY": TEST_KEY,
        "CHILDREG_LINK_SECRET": LINK_SECRET,
        "CHILDREG_TEMPORAL_ADDRESS": str(settings.temporal_address),
    }


@contextmanager
def projector(settings: Settings) -> Iterator[None]:
    """``childreg projector`` as its own process, on a database ``childreg db migrate`` set up."""
    migrated = subprocess.run(
        [str(BIN / "childreg"), "db", "migrate"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **childreg_env(settings)},
    )
    assert migrated.returncode == 0, migrated.stderr
    process = subprocess.Popen(
        [str(BIN / "childreg"), "projector"],
        env={**os.environ, **childreg_env(settings)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=30)
        assert process.returncode == 0, log


def emails(sink: SmtpSink) -> list[str]:
    subjects = []
    for path in sink.messages():
        message = email.message_from_bytes(path.read_bytes())
        subjects.append(str(make_header(decode_header(message["Subject"]))))
    return subjects


async def result_of(client: Client, workflow_id: str) -> RegistrationResult:
    handle = client.get_workflow_handle(workflow_id, result_type=RegistrationResult)
    result: RegistrationResult = await handle.result()
    return result


def sample_files(settings: Settings) -> tuple[Path, Path]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    portrait = settings.data_dir / "portrait.jpg"
    certificate = settings.data_dir / "birth-certificate.png"
    portrait.write_bytes(builders.jpeg_with_gps())
    certificate.write_bytes(builders.encoded(builders.scan(seed=3), "PNG"))
    return portrait, certificate


async def test_an_upstream_registers_a_child_with_the_temporal_cli(
    dev_server: WorkflowEnvironment,
    worker: str,
    settings: Settings,
    adapters: Adapters,
    sink: SmtpSink,
) -> None:
    portrait, certificate = sample_files(settings)
    refs = [
        (await childreg(settings, "documents", "put", str(p))).stdout.strip()
        for p in (portrait, certificate)
    ]
    request_id = f"vssid-e2e-{uuid.uuid4().hex[:8]}"
    body: dict[str, Any] = builders.request(request_id, *refs)
    workflow_id = f"registration-{request_id}"

    await temporal(
        dev_server, "workflow", "start", "--type", WORKFLOW_TYPE, "--task-queue", worker,
        "--workflow-id", workflow_id, "--input", json.dumps(body, ensure_ascii=False),
    )  # fmt: skip
    await _until_awaiting_review(dev_server.client, workflow_id)
    await temporal(
        dev_server, "workflow", "signal", "--workflow-id", workflow_id, "--name", "approve",
        "--input", json.dumps({"decision_id": "d-e2e-1", "reviewer_id": builders.REVIEWER}),
    )  # fmt: skip
    result = await result_of(dev_server.client, workflow_id)

    assert result.outcome is FinalOutcome.APPROVED
    assert result.child_account_id
    events = [type(e).__name__ for e in adapters.service.history(registration_id_for(request_id))]
    milestones = [e for e in events if not e.startswith(("Notification", "Guardian"))]
    assert milestones == [
        "Submitted",
        "IdentityVerified",
        "DocumentsStored",
        "ReviewRequested",
        "Approved",
        "ChildAccountActivated",
    ]
    assert events.count("GuardianNotified") == 4  # received and approved, by email and SMS
    # The receipt (the 2-hour acknowledgement) goes out first, by both channels, before any check.
    stored = adapters.service.history(registration_id_for(request_id))
    submitted_at = stored[0].timestamp
    receipts = [
        e
        for e in stored
        if type(e).__name__ == "GuardianNotified" and e.kind == "received"  # type: ignore[attr-defined]
    ]
    assert sorted(e.channel for e in receipts) == ["email", "sms"]  # type: ignore[attr-defined]
    assert all(e.timestamp - submitted_at < timedelta(hours=2) for e in receipts)
    assert max(stored.index(e) for e in receipts) < events.index("IdentityVerified")
    assert len(emails(sink)) == 2
    kept = adapters.service.get(registration_id_for(request_id)).documents
    assert kept["portrait"]["metadata_stripped"]
    assert kept["portrait"]["encrypted"]
    history = await temporal(
        dev_server, "workflow", "show", "--workflow-id", workflow_id, "--output", "json"
    )
    assert "Nguyễn Minh Khôi" not in history  # the worker's payloads are encrypted
    assert "Nguy\\u1ec5n Minh Kh\\u00f4i" not in history


async def test_a_reviewer_decides_with_childreg(
    dev_server: WorkflowEnvironment, worker: str, settings: Settings, sink: SmtpSink
) -> None:
    password = give_password(str(settings.database_url), builders.REVIEWER, builders.OTHER_REVIEWER)
    request_id = await submit_with_childreg(settings, worker)
    await _until_awaiting_review(dev_server.client, f"registration-{request_id}")
    refused = await childreg(
        settings,
        "review",
        "approve",
        request_id,
        "--reviewer",
        builders.OTHER_REVIEWER,
        check=False,
        stdin=password,
    )
    rejected = await childreg(
        settings, "review", "reject", request_id, "--reviewer", builders.REVIEWER,
        "--reason", "RELATIONSHIP_NOT_PROVEN", "--note", "Thiếu giấy tờ chứng minh quan hệ.",
        stdin=password,
    )  # fmt: skip
    result = await result_of(dev_server.client, f"registration-{request_id}")

    assert refused.returncode != 0
    assert "not of this registration's office" in refused.stderr
    assert json.loads(rejected.stdout)["state"] == "rejected"
    assert (result.outcome, result.reason_code) == (
        FinalOutcome.REJECTED,
        "RELATIONSHIP_NOT_PROVEN",
    )


async def test_in_a_four_eyes_office_childreg_review_needs_a_second_reviewer(
    dev_server: WorkflowEnvironment,
    worker: str,
    settings: Settings,
    sink: SmtpSink,
    adapters: Adapters,
) -> None:
    registry = adapters.registry
    assert isinstance(registry, PostgresRegistry)
    registry.load(builders.four_eyes_offices())
    password = give_password(str(settings.database_url), builders.REVIEWER, builders.SUPERVISOR)
    request_id = await submit_with_childreg(settings, worker)
    await _until_awaiting_review(dev_server.client, f"registration-{request_id}")

    proposed = await childreg(
        settings, "review", "reject", request_id, "--reviewer", builders.REVIEWER,
        "--reason", "PHOTO_UNCLEAR", stdin=password,
    )  # fmt: skip
    own = await childreg(
        settings, "review", "confirm-rejection", request_id, "--reviewer", builders.REVIEWER,
        check=False, stdin=password,
    )  # fmt: skip
    declined = await childreg(
        settings, "review", "decline-rejection", request_id, "--reviewer", builders.SUPERVISOR,
        "--note", "Ảnh đủ rõ.", stdin=password,
    )  # fmt: skip
    await childreg(
        settings, "review", "reject", request_id, "--reviewer", builders.REVIEWER,
        "--reason", "PHOTO_UNCLEAR", "--decision-id", "again-1", stdin=password,
    )  # fmt: skip
    confirmed = await childreg(
        settings, "review", "confirm-rejection", request_id, "--reviewer", builders.SUPERVISOR,
        stdin=password,
    )  # fmt: skip
    result = await result_of(dev_server.client, f"registration-{request_id}")

    assert json.loads(proposed.stdout)["state"] == "rejection_proposed"
    assert json.loads(proposed.stdout)["rejection_proposed_by"] == builders.REVIEWER
    assert own.returncode == 1
    assert "refused: four_eyes: the reviewer who proposed the rejection" in own.stderr
    assert json.loads(declined.stdout)["state"] == "awaiting_review"
    assert json.loads(confirmed.stdout)["state"] == "rejected"
    assert (result.outcome, result.decided_by) == (FinalOutcome.REJECTED, builders.SUPERVISOR)


async def test_a_reviewers_decision_is_read_back_at_the_position_the_command_reports(
    dev_server: WorkflowEnvironment, worker: str, settings: Settings, sink: SmtpSink
) -> None:
    password = give_password(str(settings.database_url), builders.REVIEWER)
    with projector(settings):
        request_id = await submit_with_childreg(settings, worker)
        await _until_awaiting_review(dev_server.client, f"registration-{request_id}")
        approved = await childreg(
            settings, "review", "approve", request_id, "--reviewer", builders.REVIEWER,
            stdin=password,
        )  # fmt: skip
        position = json.loads(approved.stdout)["position"]
        shown = await childreg(
            settings, "status", request_id, "--json", "--wait-for", str(position), "--timeout", "30"
        )

    answer = json.loads(shown.stdout)
    assert isinstance(position, int)
    assert answer["as_of_position"] >= position
    assert answer["outcome"] == "approved"
    assert answer["decided_by"] == builders.REVIEWER


async def test_a_guardian_withdraws_through_childreg_and_an_auditor_replays_it_from_the_server(
    dev_server: WorkflowEnvironment, worker: str, settings: Settings, sink: SmtpSink
) -> None:
    request_id = await submit_with_childreg(settings, worker)
    workflow_id = f"registration-{request_id}"
    await _until_awaiting_review(dev_server.client, workflow_id)
    described = await dev_server.client.get_workflow_handle(workflow_id).describe()

    withdrawn = await childreg(settings, "withdraw", request_id, "--reason", "Gửi nhầm hồ sơ.")
    result = await result_of(dev_server.client, workflow_id)
    replayed = await childreg(
        settings, "audit", "replay-workflows", "--from-server", f"WorkflowId='{workflow_id}'"
    )

    assert json.loads(withdrawn.stdout) == {"workflow_id": workflow_id, "signal": "withdraw"}
    assert (result.outcome, result.decided_by) == (FinalOutcome.WITHDRAWN, "guardian")
    assert replayed.stdout.splitlines()[-1] == "1 histories replayed, 0 failed"
    # What Temporal shows of the registration (id, memo, search attributes) holds no personal data.
    assert await described.memo() == {}
    # Only the server's own BuildIds and the SDK's record of the workflow's patches (their ids);
    # the service sets no search attribute.
    attributes = {pair.key.name: pair.value for pair in described.typed_search_attributes}
    assert sorted(attributes) == ["BuildIds", "TemporalChangeVersion"]
    assert attributes["TemporalChangeVersion"] == [LOCAL_STEPS_PATCH]
    shown = str(described.raw_description)
    for value in (builders.CHILD, builders.GUARDIAN, "Khôi", "0912345678", "an.nguyen@"):
        assert value not in shown


async def submit_with_childreg(settings: Settings, task_queue: str) -> str:
    """``childreg submit`` with the two documents; returns the request id."""
    portrait, certificate = sample_files(settings)
    request_id = f"vssid-e2e-{uuid.uuid4().hex[:8]}"
    request_file = settings.data_dir / f"{request_id}.json"
    body = builders.request(request_id, "sha256:" + "0" * 64, "sha256:" + "0" * 64)
    request_file.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    await childreg(
        settings, "submit", "--request", str(request_file),
        "--portrait", str(portrait), "--birth-certificate", str(certificate),
        task_queue=task_queue,
    )  # fmt: skip
    return request_id


async def _until_awaiting_review(client: Client, workflow_id: str) -> None:
    handle = client.get_workflow_handle(workflow_id)
    for _ in range(400):
        status = await handle.query("status", result_type=RegistrationStatus)
        if status.state == "awaiting_review":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id} never reached awaiting_review")
