"""The typed seam between ``prepare_notification`` and ``notify_guardian``: what earlier histories
recorded still decodes, and the workflow hands on what it decoded as ``notify_guardian`` reads it."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.messages import PreparedNotification
from activities.notifications.models import NotifyGuardianInput

HISTORIES = Path(__file__).resolve().parents[2] / "histories"


def _payloads(history: Path, activity: str, side: str) -> list[Any]:
    """The JSON of each payload of ``activity`` (``side``: input of the scheduled events, result of
    the completed ones, matched through the scheduled event's id)."""
    events = json.loads(history.read_text("utf-8"))["events"]
    scheduled = {
        event["eventId"]
        for event in events
        if event.get("activityTaskScheduledEventAttributes", {}).get("activityType", {}).get("name")
        == activity
    }
    found = []
    for event in events:
        if side == "input" and event["eventId"] in scheduled:
            payloads = event["activityTaskScheduledEventAttributes"]["input"]["payloads"]
        elif side == "result" and (
            event.get("activityTaskCompletedEventAttributes", {}).get("scheduledEventId")
            in scheduled
        ):
            payloads = event["activityTaskCompletedEventAttributes"]["result"]["payloads"]
        else:
            continue
        found += [json.loads(base64.b64decode(p["data"])) for p in payloads if "data" in p]
    return found


def _decode(value: Any, type_: type[Any]) -> Any:
    payload = pydantic_data_converter.payload_converter.to_payloads([value])
    return pydantic_data_converter.payload_converter.from_payloads(payload, [type_])[0]


@pytest.mark.parametrize("history", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
def test_a_recorded_preparation_decodes_into_the_input_notify_guardian_was_given(
    history: Path,
) -> None:
    recorded = _payloads(history, "prepare_notification", "result")
    given = _payloads(history, "notify_guardian", "input")

    prepared = [_decode(result, PreparedNotification) for result in recorded]
    handed_on = [p.message for p in prepared if p.message is not None]

    assert handed_on, "every recorded path tells the guardian something"
    assert handed_on == [_decode(message, NotifyGuardianInput) for message in given]
    assert [_decode(m, NotifyGuardianInput) for m in handed_on] == handed_on


REPLAY_IN_A_FRESH_PROCESS = """
import sys, warnings
from pathlib import Path
warnings.simplefilter("error")
from workers.replay import load_histories, replay
from workflows.registration import ChildAccountRegistration
outcomes = replay(load_histories(Path(sys.argv[1])), None, [ChildAccountRegistration])
failed = [outcome.name for outcome in outcomes if outcome.failure]
print(len(outcomes), "replayed", "failed:", failed)
sys.exit(1 if failed else 0)
"""


def test_a_fresh_process_replays_the_prepared_notifications_without_a_warning() -> None:
    # In a fresh process nothing has validated a request yet: decoding the first prepared
    # notification happens inside the workflow sandbox (a restarted worker, an auditor's replay).
    done = subprocess.run(
        [sys.executable, "-c", REPLAY_IN_A_FRESH_PROCESS, str(HISTORIES)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "failed: []" in done.stdout
    assert "Warning" not in done.stderr
