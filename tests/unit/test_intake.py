"""Reading a submission as sent: a valid request, or a refused one kept as sent with the reason
and the field, under the request id it was sent with only when that is the workflow's."""

from __future__ import annotations

from domain.contract import RegistrationRequest
from domain.intake import RefusedRequest, read_submission
from tests.builders import a_request

REQUEST_ID = "vssid-20261125-000123"
WORKFLOW_ID = f"registration-{REQUEST_ID}"


def test_a_valid_request_is_read_as_the_contract_request() -> None:
    submission = read_submission(a_request(), WORKFLOW_ID)

    assert isinstance(submission, RegistrationRequest)
    assert submission.request_id == REQUEST_ID


def test_an_invalid_request_is_kept_as_sent_with_the_field_and_the_rule() -> None:
    raw = a_request()
    del raw["guardian"]

    submission = read_submission(raw, WORKFLOW_ID)

    assert isinstance(submission, RefusedRequest)
    assert submission.request_id == REQUEST_ID
    assert submission.as_sent == raw
    assert submission.office_code == raw["office_code"]
    assert (submission.reason_code, submission.field) == ("INVALID_REQUEST", "guardian")
    assert submission.detail.startswith("guardian: ")


def test_a_request_that_is_not_an_object_is_kept_under_the_workflow_id() -> None:
    submission = read_submission(["not", "an", "object"], WORKFLOW_ID)

    assert isinstance(submission, RefusedRequest)
    assert submission.request_id == WORKFLOW_ID
    assert submission.as_sent == {"as_sent": ["not", "an", "object"]}
    assert submission.office_code == ""
    assert submission.field == "request"


def test_a_request_started_under_another_workflow_id_is_refused_on_the_request_id() -> None:
    submission = read_submission(a_request(), "registration-vssid-another")

    assert isinstance(submission, RefusedRequest)
    assert submission.request_id == "registration-vssid-another"
    assert submission.field == "request_id"


def test_an_office_code_too_long_to_be_one_is_not_kept() -> None:
    submission = read_submission(a_request(office_code="x" * 200), WORKFLOW_ID)

    assert isinstance(submission, RefusedRequest)
    assert submission.office_code == ""
    assert submission.as_sent["office_code"] == "x" * 200
