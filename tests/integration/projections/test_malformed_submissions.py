"""A malformed request is recorded as sent (then auto-rejected); the read models must take it in
their stride: one odd event must never stop the projector."""

from __future__ import annotations

from typing import Any

import pytest

from domain.registration import ActorKind, Cause, Registration
from domain.service import RegistrationService
from projections.queries import ReadModels
from projections.runners import RunningProjections
from tests.builders.registrations import T0, Registrar
from tests.integration.projections.conftest import KEY

MALFORMED: list[dict[str, Any]] = [
    {"request_id": "bad-1"},
    {"request_id": "bad-2", "guardian": "not an object", "child": ["a", "list"]},
    {
        "request_id": "bad-3",
        "guardian": {"social_insurance_code": 123},
        "child": {"social_insurance_code": None},
    },
    {"request_id": "bad-4", "guardian": {}, "child": {"personal_id_number": {"nested": True}}},
]


def record_malformed(service: RegistrationService, raw: dict[str, Any]) -> int:
    request_id = str(raw["request_id"])
    cause = Cause(
        ActorKind.UPSTREAM, "upstream", f"registration-{request_id}", f"{request_id}:submit", T0
    )
    registration = Registration.submit(request_id, raw, "", cause)
    registration.auto_reject(
        "INVALID_REQUEST",
        "guardian",
        "guardian: Field required",
        Cause(ActorKind.SYSTEM, "childreg", "w", "auto", T0),
    )
    recordings = service.save(registration)
    return recordings[-1].notification.id


@pytest.mark.parametrize("raw", MALFORMED, ids=[str(raw["request_id"]) for raw in MALFORMED])
def test_a_malformed_submission_is_shown_auto_rejected_and_the_projector_goes_on(
    env: dict[str, str],
    service: RegistrationService,
    registrar: Registrar,
    read_models: ReadModels,
    raw: dict[str, Any],
) -> None:
    record_malformed(service, raw)
    registrar.lifecycle("vssid-after", "79001", "0123456789", "7912345678", [0, 0, 0], T0)

    with RunningProjections(env, KEY):
        read_models.wait_for(registrar.last_position, timeout=20)

    bad = read_models.status_record(str(raw["request_id"]))
    assert bad.state == "auto_rejected"
    assert bad.reason_code == "INVALID_REQUEST"
    assert read_models.status_record("vssid-after").state == "awaiting_review"
    assert [
        child.registrations[0].request_id for child in read_models.guardian("0123456789").children
    ] == ["vssid-after"]
