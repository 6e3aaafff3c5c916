"""Item 1 and 2: the timeline of a registration and its state at any moment."""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import UUID

from tests.builders.registrations import T0
from tests.integration.audit.conftest import SUPPLEMENT_REQUEST, Audit

PERSONAL = ("Nguyễn", "0123456789", "7912345678", "0912345678", "an.nguyen", "2019-03-14")


def test_the_history_lists_every_event_with_actor_cause_and_summary(
    audit: Audit, store: dict[str, UUID]
) -> None:
    code, out = audit("history", SUPPLEMENT_REQUEST, "--json")

    assert code == 0, out
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["event"] for line in lines] == [
        "Submitted", "IdentityVerified", "DocumentsStored", "ReviewRequested", "DecisionRefused",
        "SupplementRequested", "SupplementProvided", "DocumentsStored", "ReviewRequested",
        "Rejected",
    ]  # fmt: skip
    assert [line["version"] for line in lines] == list(range(1, 11))
    refused = lines[4]
    assert refused["actor_kind"] == "reviewer"
    assert refused["cause"] == f"{SUPPLEMENT_REQUEST}/refuse-3"
    assert "approve refused: wrong office" in refused["summary"]
    assert "01001.intruder" in refused["summary"]
    assert lines[5]["summary"].startswith(f"decision {SUPPLEMENT_REQUEST}/supplement-4 by ")
    assert "birth_certificate" in lines[5]["summary"]
    assert "rejected: PHOTO_UNCLEAR" in lines[9]["summary"]
    assert lines[6]["actor_kind"] == "guardian"
    assert lines[0]["correlation_id"] == f"registration-{SUPPLEMENT_REQUEST}"
    assert all(word not in out for word in PERSONAL)


def test_the_history_table_is_found_by_registration_id_too(
    audit: Audit, store: dict[str, UUID]
) -> None:
    code, out = audit("history", str(store["approved"]))

    assert code == 0, out
    assert "Approved" in out
    assert "NotificationPrepared" in out or "ChildAccountActivated" in out
    assert all(word not in out for word in PERSONAL)


def test_a_notification_shows_its_channel_template_and_body_hash(
    audit: Audit, store: dict[str, UUID]
) -> None:
    code, out = audit("history", str(store["approved"]), "--json")

    assert code == 0, out
    notes = [json.loads(line) for line in out.splitlines() if "NotificationPrepared" in line]
    assert notes, out
    assert notes[0]["summary"] == "received by sms: template received v1, body sha256 dddddddddddd"


def test_the_state_at_a_version_is_the_registration_then(
    audit: Audit, store: dict[str, UUID]
) -> None:
    code, out = audit("state", SUPPLEMENT_REQUEST, "--version", "6")

    assert code == 0, out
    state = json.loads(out)
    assert state["version"] == 6
    assert state["state"] == "supplement_requested"
    assert state["supplement_rounds"] == 1
    assert state["refused_decisions"] == 1
    assert state["supplement_documents"] == ["birth_certificate"]
    assert state["child_code_masked"] == "******5678"
    assert "request" not in state
    assert all(word not in out for word in PERSONAL)


def test_the_state_at_a_time_finds_the_version_then(audit: Audit, store: dict[str, UUID]) -> None:
    # Event n of the supplement round was recorded at T0 + (n - 1) hours.
    at = (T0 + timedelta(hours=6, minutes=30)).isoformat()

    code, out = audit("state", SUPPLEMENT_REQUEST, "--at", at)
    final_code, final = audit("state", SUPPLEMENT_REQUEST, "--at", "2030-01-01T00:00:00")

    assert code == 0, out
    state = json.loads(out)
    assert (state["version"], state["state"]) == (7, "supplement_provided")
    assert json.loads(final)["state"] == "rejected"
    assert json.loads(final)["reason_code"] == "PHOTO_UNCLEAR"
    assert final_code == 0


def test_the_state_before_the_submission_is_refused(audit: Audit, store: dict[str, UUID]) -> None:
    code, out = audit("state", SUPPLEMENT_REQUEST, "--at", (T0 - timedelta(days=1)).isoformat())

    assert code == 1
    assert "did not exist yet" in out


def test_personal_data_is_shown_only_when_asked_for(audit: Audit, store: dict[str, UUID]) -> None:
    code, out = audit("state", SUPPLEMENT_REQUEST, "--version", "1", "--personal")

    assert code == 0, out
    assert json.loads(out)["request"]["child"]["full_name"] == "Nguyễn Minh Khôi"
