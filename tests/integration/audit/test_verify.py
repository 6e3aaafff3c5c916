"""Item 3: tampering done with SQL on the stored rows is found, with the registration and version."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest

from tests.integration.audit.conftest import Audit, sql


@pytest.fixture
def sealed(audit: Audit, store: dict[str, UUID]) -> dict[str, UUID]:
    code, out = audit("seal", "--every", "4")
    assert code == 0, out
    return store


def findings(audit: Audit, *args: str) -> tuple[int, list[dict[str, Any]]]:
    code, out = audit("verify", *args, "--json")
    return code, json.loads(out)["findings"]


def test_an_untouched_store_verifies_clean(audit: Audit, sealed: dict[str, UUID]) -> None:
    code, out = audit("verify", "--all")

    assert code == 0, out
    assert "3 registrations, 21 events checked; 21 sealed" in out
    assert out.strip().endswith(": clean")


def test_events_recorded_after_the_seal_are_not_findings(
    audit: Audit, sealed: dict[str, UUID], registrar: Any
) -> None:
    registrar.submit("vssid-20261126-000001", "79001", "0123456789", "7900000003", _later())

    code, out = audit("verify", "--all", "--json")

    assert code == 0, out
    report = json.loads(out)
    assert (report["sealed_events"], report["unsealed_events"]) == (21, 1)


def test_one_registration_verifies_on_its_own(audit: Audit, sealed: dict[str, UUID]) -> None:
    code, out = audit("verify", "vssid-20261125-000777")

    assert code == 0, out
    assert "1 registrations, 10 events checked: clean" in out


def test_a_changed_byte_in_a_payload_is_found(
    audit: Audit, sealed: dict[str, UUID], database_url: str
) -> None:
    target = sealed["supplement"]
    sql(
        database_url,
        "UPDATE childreg_events SET state = set_byte(state, 40, (get_byte(state, 40) + 1) %% 256) "
        "WHERE originator_id = %s AND originator_version = 3",
        target,
    )

    code, found = findings(audit, "--all")

    assert code == 1
    assert _at(found, target) == (3, "the payload cannot be decrypted or decoded")
    assert any(f["registration_id"] is None for f in found)  # the global chain too


def test_a_deleted_middle_event_is_found(
    audit: Audit, sealed: dict[str, UUID], database_url: str
) -> None:
    target = sealed["supplement"]
    sql(
        database_url,
        "DELETE FROM childreg_events WHERE originator_id = %s AND originator_version = 5",
        target,
    )

    code, found = findings(audit, "--all")
    single_code, single = findings(audit, str(target))

    assert code == single_code == 1
    assert _at(found, target) == (5, "version 5 is missing")
    assert _at(single, target) == (5, "version 5 is missing")


def test_two_swapped_events_are_found(
    audit: Audit, sealed: dict[str, UUID], database_url: str
) -> None:
    target = sealed["supplement"]
    sql(
        database_url,
        "UPDATE childreg_events AS e SET state = o.state, topic = o.topic FROM childreg_events AS o "
        "WHERE e.originator_id = %s AND o.originator_id = e.originator_id "
        "AND ((e.originator_version = 6 AND o.originator_version = 7) "
        "OR (e.originator_version = 7 AND o.originator_version = 6))",
        target,
    )

    code, found = findings(audit, "--all")

    assert code == 1
    assert _at(found, target) == (6, "SupplementProvided: the stored link")


def test_an_inserted_forged_event_is_found(
    audit: Audit, sealed: dict[str, UUID], database_url: str
) -> None:
    # The strongest forgery without the key: a genuine encrypted event of another registration,
    # appended to this one's history. Under per-registration data keys (bound to the
    # registration id) it no longer even decrypts there.
    target, donor = sealed["waiting"], sealed["approved"]
    sql(
        database_url,
        "INSERT INTO childreg_events (originator_id, originator_version, topic, state) "
        "SELECT %s, 5, topic, state FROM childreg_events WHERE originator_id = %s "
        "AND originator_version = 5",
        target,
        donor,
    )

    code, found = findings(audit, "--all")

    assert code == 1
    assert _at(found, target) == (5, "the payload cannot be decrypted or decoded")


def test_a_forged_payload_that_is_not_encrypted_is_found(
    audit: Audit, sealed: dict[str, UUID], database_url: str
) -> None:
    target = sealed["waiting"]
    sql(
        database_url,
        "INSERT INTO childreg_events (originator_id, originator_version, topic, state) "
        "VALUES (%s, 5, 'domain.registration:Registration.Approved', %s)",
        target,
        b'{"decision_id": "x", "reviewer_id": "48001.reviewer"}',
    )

    code, found = findings(audit, str(target))

    assert code == 1
    assert _at(found, target) == (5, "the payload cannot be decrypted or decoded")


def test_a_deleted_whole_registration_is_found(
    audit: Audit, sealed: dict[str, UUID], database_url: str
) -> None:
    target = sealed["approved"]
    sql(database_url, "DELETE FROM childreg_events WHERE originator_id = %s", target)

    code, found = findings(audit, "--all")

    assert code == 1
    assert _at(found, target) == (1, "the whole history is missing")
    assert any("global chain differs" in f["what"] for f in found)


def test_the_newest_events_removed_are_found(
    audit: Audit, sealed: dict[str, UUID], database_url: str
) -> None:
    # The last two events of the store are the waiting registration's versions 3 and 4.
    target = sealed["waiting"]
    sql(
        database_url,
        "DELETE FROM childreg_events WHERE notification_id IN "
        "(SELECT notification_id FROM childreg_events ORDER BY notification_id DESC LIMIT 2)",
    )

    code, found = findings(audit, "--all")

    assert code == 1
    assert _at(found, target) == (3, "the history ends at version 2")
    assert any("newest events were removed" in f["what"] for f in found)


def test_the_progress_and_the_findings_hold_no_personal_data(
    audit: Audit, sealed: dict[str, UUID], database_url: str
) -> None:
    sql(database_url, "DELETE FROM childreg_events WHERE originator_version = 1")

    code, out = audit("verify", "--all")

    assert code == 1
    assert "Nguyễn" not in out
    assert "0123456789" not in out


def _at(found: list[dict[str, Any]], registration_id: UUID) -> tuple[int, str]:
    mine = [f for f in found if f["registration_id"] == str(registration_id)]
    assert len(mine) == 1, found
    what: str = mine[0]["what"]
    prefixes = (
        "the payload cannot be decrypted or decoded",
        "version 5 is missing",
        "SupplementProvided: the stored link",
        "Approved: the stored link",
        "the whole history is missing",
        "the history ends at version 2",
    )
    return mine[0]["version"], next((p for p in prefixes if what.startswith(p)), what)


def _later() -> Any:
    from datetime import timedelta

    from tests.builders.registrations import T0

    return T0 + timedelta(days=1)
