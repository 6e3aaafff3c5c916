"""The identity check's rules, on the in-memory registry and claims: each hard failure with its
reason code and field, each soft finding as a warning, the claim on the child. (The same rules
run on PostgreSQL in the workflow tests.)"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from domain.contract import RegistrationRequest
from domain.identity import Failure, Findings, IdentityCheck
from tests import builders
from tests.builders import DELETE
from tests.fakes.registry import InMemoryChildClaims, InMemoryRegistry

REF = "sha256:" + "1" * 64


@pytest.fixture
def claims() -> InMemoryChildClaims:
    return InMemoryChildClaims()


@pytest.fixture
def check(claims: InMemoryChildClaims) -> IdentityCheck:
    return IdentityCheck(InMemoryRegistry(builders.registry_data()), claims)


def request(**changes: Any) -> RegistrationRequest:
    body = builders.request(f"r-{uuid4().hex[:8]}", REF, REF, **changes)
    return RegistrationRequest.model_validate(body)


def run(check: IdentityCheck, **changes: Any) -> Findings:
    return check.check(request(**changes), uuid4())


def test_a_matching_declaration_passes_without_warnings(check: IdentityCheck) -> None:
    findings = run(check)

    assert findings.failure is None
    assert (findings.child_code, findings.guardian_code) == (builders.CHILD, builders.GUARDIAN)
    assert findings.warnings == []


def test_the_child_may_be_identified_by_the_personal_id_number_alone(check: IdentityCheck) -> None:
    findings = run(
        check,
        child__social_insurance_code=DELETE,
        child__personal_id_number=builders.CHILD_PERSONAL_ID,
    )

    assert findings.failure is None
    assert findings.child_code == builders.CHILD


REGISTERED = {
    "child__social_insurance_code": builders.REGISTERED_CHILD,
    "child__full_name": "Nguyễn Bảo Anh",
    "child__date_of_birth": "2014-11-20",
    "child__health_insurance_card_qr": builders.card_qr(
        builders.REGISTERED_CHILD, "Nguyễn Bảo Anh", "20/11/2014"
    ),
}
ADULT = {
    "child__social_insurance_code": builders.ADULT_CHILD,
    "child__full_name": "Nguyễn Thành Đạt",
    "child__date_of_birth": "2000-01-05",
    "child__health_insurance_card_qr": DELETE,
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"office_code": builders.CLOSED_OFFICE},
            Failure("OFFICE_UNKNOWN", "office_code", "no active office with this code receives registrations"),
        ),
        (
            {"office_code": "99999"},
            Failure("OFFICE_UNKNOWN", "office_code", "no active office with this code receives registrations"),
        ),
        (
            {"child__social_insurance_code": "7999999999"},
            Failure("CHILD_NOT_FOUND", "child.social_insurance_code", "no person with this code"),
        ),
        (
            {"child__social_insurance_code": DELETE, "child__personal_id_number": "079219999999"},
            Failure(
                "CHILD_NOT_FOUND",
                "child.personal_id_number",
                "no person with this personal identification number",
            ),
        ),
        (
            {
                "child__social_insurance_code": builders.SIBLING,
                "child__personal_id_number": builders.CHILD_PERSONAL_ID,
            },
            Failure(
                "CHILD_DETAILS_MISMATCH",
                "child.personal_id_number",
                "belongs to another person than the social_insurance_code",
            ),
        ),
        (
            {"child__full_name": "Nguyễn Minh Khoa"},
            Failure("CHILD_DETAILS_MISMATCH", "child.full_name", "differs from the registry"),
        ),
        (
            {"child__date_of_birth": "2019-03-15"},
            Failure("CHILD_DETAILS_MISMATCH", "child.date_of_birth", "differs from the registry"),
        ),
        (
            ADULT,
            Failure("CHILD_NOT_MINOR", "child.date_of_birth", "the child is 18 or older on the submission date"),
        ),
        (
            {"guardian__social_insurance_code": "0199999999"},
            Failure("GUARDIAN_NOT_FOUND", "guardian.social_insurance_code", "no person with this code"),
        ),
        (
            {"guardian__full_name": "Nguyễn Văn Bình"},
            Failure("GUARDIAN_DETAILS_MISMATCH", "guardian.full_name", "differs from the registry"),
        ),
        (
            {"guardian__social_insurance_code": builders.CHILD, "guardian__full_name": "Nguyễn Minh Khôi"},
            Failure("GUARDIAN_DETAILS_MISMATCH", "guardian.social_insurance_code", "the guardian cannot be the child"),
        ),
        (
            {"guardian__social_insurance_code": builders.LOCKED_GUARDIAN, "guardian__full_name": "Trần Thị Bích"},
            Failure(
                "GUARDIAN_ACCOUNT_INACTIVE",
                "guardian.social_insurance_code",
                "the guardian has no active VssID account",
            ),
        ),
        (
            {"child__health_insurance_card_qr": builders.card_qr(builders.SIBLING)},
            Failure("CARD_MISMATCH", "child.health_insurance_card_qr", "the card's code differs from the child's"),
        ),
        (
            {"child__health_insurance_card_qr": builders.card_qr(name="Nguyễn Minh Khoa")},
            Failure("CARD_MISMATCH", "child.health_insurance_card_qr", "the card's name differs from the child's"),
        ),
        (
            REGISTERED,
            Failure("ALREADY_REGISTERED", "child.social_insurance_code", "the child already has an active account"),
        ),
    ],
)  # fmt: skip
def test_a_hard_failure_names_its_reason_field_and_rule(
    check: IdentityCheck, changes: dict[str, Any], expected: Failure
) -> None:
    findings = run(check, **changes)

    assert findings.failure == expected


def test_an_unreadable_card_qr_is_a_card_mismatch_naming_why(check: IdentityCheck) -> None:
    findings = run(check, child__health_insurance_card_qr="not a card")

    assert findings.failure is not None
    assert findings.failure.reason_code == "CARD_MISMATCH"
    assert findings.failure.field == "child.health_insurance_card_qr"
    assert findings.failure.rule.startswith("unreadable (")


@pytest.mark.parametrize(
    ("changes", "warning"),
    [
        (
            {"child__health_insurance_card_qr": DELETE},
            "child.health_insurance_card_qr: no card QR: the child's code was typed, not scanned",
        ),
        (
            {"child__full_name": "Nguyen Minh Khoi"},
            "child.full_name: matches the registry only without accents",
        ),
        (
            {"guardian__full_name": "Nguyen Van An"},
            "guardian.full_name: matches the registry only without accents",
        ),
        (
            {"child__health_insurance_card_qr": builders.card_qr(name="Nguyen Minh Khoi")},
            "child.health_insurance_card_qr: the card's name matches only without accents",
        ),
        (
            {
                "child__social_insurance_code": builders.STRANGER_CHILD,
                "child__full_name": "Hoàng Gia Bảo",
                "child__date_of_birth": "2018-05-05",
                "child__health_insurance_card_qr": DELETE,
            },
            "guardian.social_insurance_code: the guardian and the child are not in one household",
        ),
    ],
)
def test_a_soft_finding_passes_with_a_warning_for_the_reviewer(
    check: IdentityCheck, changes: dict[str, Any], warning: str
) -> None:
    findings = run(check, **changes)

    assert findings.failure is None
    assert warning in findings.warnings


def test_no_failure_or_warning_quotes_the_values_compared(check: IdentityCheck) -> None:
    said = []
    for changes in (
        {"child__full_name": "Nguyễn Minh Khoa"},
        {"guardian__full_name": "Nguyen Van An"},
        {"child__date_of_birth": "2019-03-15"},
    ):
        findings = run(check, **changes)
        said.append(repr(findings.failure) + repr(findings.warnings))

    for value in ("Khoa", "Khôi", "Nguyen Van An", "2019", builders.CHILD, builders.GUARDIAN):
        assert not any(value in text for text in said)


def test_a_second_open_registration_for_the_child_is_refused_until_the_first_lets_go(
    check: IdentityCheck, claims: InMemoryChildClaims
) -> None:
    first, second = uuid4(), uuid4()

    passed = check.check(request(), first)
    blocked = check.check(request(), second)
    claims.release(first)
    after = check.check(request(), second)

    assert passed.failure is None
    assert blocked.failure == Failure(
        "REGISTRATION_IN_PROGRESS",
        "child.social_insurance_code",
        "another registration for this child is open",
    )
    assert after.failure is None
    assert claims.holders == {builders.CHILD: second}


def test_checking_the_same_registration_again_keeps_its_claim(
    check: IdentityCheck, claims: InMemoryChildClaims
) -> None:
    registration = uuid4()

    first = check.check(request(), registration)
    again = check.check(request(), registration)  # a retried activity

    assert first.failure is None
    assert again.failure is None
    assert claims.holders == {builders.CHILD: registration}


def test_a_child_with_an_account_leaves_no_claim_behind(
    check: IdentityCheck, claims: InMemoryChildClaims
) -> None:
    findings = check.check(request(**REGISTERED), uuid4())

    assert findings.failure is not None
    assert claims.holders == {}


def test_a_failure_before_the_claim_claims_nothing(
    check: IdentityCheck, claims: InMemoryChildClaims
) -> None:
    findings = check.check(request(guardian__full_name="Nguyễn Văn Bình"), uuid4())

    assert findings.failure is not None
    assert claims.holders == {}
