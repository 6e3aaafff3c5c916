"""The public contract: a request as an upstream sends it, and what is refused with which reason."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from domain.contract import (
    CONTRACT_MODELS,
    DecideUpdate,
    RequestSupplementSignal,
    parse_request,
)
from domain.errors import InvalidRequest
from tests.builders import DELETE, a_request


def test_the_design_example_is_accepted_and_normalised() -> None:
    request = parse_request(a_request())

    assert request.guardian.phone == "+84912345678"
    assert request.child.social_insurance_code == "7912345678"
    assert request.submission_date.isoformat() == "2026-11-25"


def test_a_child_identified_by_personal_id_number_only_is_accepted() -> None:
    request = parse_request(
        a_request(child__social_insurance_code=DELETE, child__personal_id_number="079219000001")
    )

    assert request.child.personal_id_number == "079219000001"


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    data = a_request()
    data["channel"] = "vssid-app-5.2"

    assert parse_request(data).request_id == "vssid-20261125-000123"


def test_the_submission_date_is_counted_in_vietnam() -> None:
    request = parse_request(a_request(submitted_at="2026-11-24T18:30:00+00:00"))

    assert request.submission_date.isoformat() == "2026-11-25"


@pytest.mark.parametrize(
    ("changes", "reason_code", "field"),
    [
        ({"request_id": "has space"}, "INVALID_REQUEST", "request_id"),
        ({"submitted_at": "2026-11-25T09:00:00"}, "INVALID_REQUEST", "submitted_at"),
        ({"guardian__relationship": "uncle"}, "INVALID_REQUEST", "guardian.relationship"),
        ({"guardian__phone": "0212345678"}, "INVALID_REQUEST", "guardian.phone"),
        ({"guardian__email": "not-an-email"}, "INVALID_REQUEST", "guardian.email"),
        ({"child__social_insurance_code": None}, "INVALID_REQUEST", "child"),
        ({"child__full_name": "  "}, "INVALID_REQUEST", "child.full_name"),
        ({"child__date_of_birth": "14/03/2019"}, "INVALID_REQUEST", "child.date_of_birth"),
        ({"child__date_of_birth": "2026-11-26"}, "INVALID_REQUEST", "child.date_of_birth"),
        ({"child__date_of_birth": "2008-11-25"}, "CHILD_NOT_MINOR", "child.date_of_birth"),
        ({"office_code": "HCM"}, "INVALID_REQUEST", "office_code"),
        ({"documents__portrait": DELETE}, "DOCUMENT_MISSING", "documents.portrait"),
        (
            {"documents__birth_certificate": "sha256:../../x"},
            "INVALID_REQUEST",
            "documents.birth_certificate",
        ),
        ({"commitment__accepted": False}, "COMMITMENT_NOT_ACCEPTED", "commitment.accepted"),
        ({"guardian": DELETE}, "INVALID_REQUEST", "guardian"),
    ],
)
def test_a_bad_request_is_refused_with_its_reason_and_field(
    changes: dict[str, Any], reason_code: str, field: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_request(a_request(**changes))

    assert refused.value.reason_code == reason_code
    assert refused.value.field == field


def test_a_missing_document_beside_other_problems_is_an_invalid_request_naming_the_first() -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_request(a_request(documents__portrait=DELETE, submitted_at="yesterday"))

    assert refused.value.reason_code == "INVALID_REQUEST"
    assert refused.value.field == "submitted_at"
    assert "documents.portrait" in str(refused.value)


def test_refusals_never_quote_the_values_sent() -> None:
    data = a_request(guardian__phone="0212345678", child__full_name="Khôi 2")

    with pytest.raises(InvalidRequest) as refused:
        parse_request(copy.deepcopy(data))

    message = str(refused.value)
    assert "0212345678" not in message
    assert "Khôi" not in message
    assert "guardian.phone" in message
    assert "child.full_name" in message


def test_every_contract_model_has_a_json_schema() -> None:
    for name, model in CONTRACT_MODELS.items():
        schema = model.model_json_schema()

        assert schema["title"] == name
        assert schema["properties"]


@pytest.mark.parametrize("count", [0, 11])
def test_a_supplement_asks_for_one_to_ten_documents_in_the_update_as_in_the_signal(
    count: int,
) -> None:
    documents = [f"scan_{n}" for n in range(count)]
    decision = {"decision_id": "d-1", "reviewer_id": "rv-1", "note": "Bổ sung giấy tờ."}

    with pytest.raises(ValidationError) as update:
        DecideUpdate.model_validate(
            decision | {"outcome": "request_supplement", "documents": documents}
        )
    with pytest.raises(ValidationError) as signal:
        RequestSupplementSignal.model_validate(decision | {"documents": documents})

    for refused in (update.value, signal.value):
        assert [error["loc"] for error in refused.errors()] == [("documents",)]
