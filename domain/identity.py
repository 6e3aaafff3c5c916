"""The identity check: the declaration against the registry, before anyone reviews it.

Hard failures end the registration auto-rejected with the catalogue's reason and the field;
soft findings become warnings the reviewer sees. Warnings and details name fields and rules,
never the values compared (they are a child's personal data).

The check reads the registry (``RegistryLookups``) and claims the child (``ChildClaims``): at
most one open registration per child.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from domain.contract import RegistrationRequest
from domain.qr import CardQrUnreadable, decode_card_qr
from domain.registry import AccountStatus, Person, RegistryLookups
from domain.values import NameMatch, compare_names, is_minor_on
from domain.warnings import ReviewWarning, WarningCode


class ChildClaims(Protocol):
    """Who holds the claim on a child (the registration that may go on).

    The claim is taken by the identity check and released when the registration reaches its
    outcome. Implemented over PostgreSQL in ``activities.claims``, where two registrations
    claiming one child at the same moment meet at a primary key.
    """

    def claim(self, child_code: str, registration_id: UUID) -> UUID:
        """Claim the child for ``registration_id`` unless another registration holds it.

        Returns the holder after the call: ``registration_id`` itself when the claim is (or
        already was) ours. Idempotent.
        """
        ...

    def release(self, registration_id: UUID) -> None:
        """Drop every claim ``registration_id`` holds. Idempotent."""
        ...


@dataclass(frozen=True)
class Failure:
    """A hard failure: the catalogue's reason code, the field, and the rule it broke."""

    reason_code: str
    field: str
    rule: str


@dataclass
class Findings:
    """What the check found: the child's code when it passed, or the first hard failure."""

    child_code: str | None = None
    guardian_code: str | None = None
    failure: Failure | None = None
    warnings: list[str] = field(default_factory=list)


class IdentityCheck:
    """The rules of the identity check over the registry and the claims on children."""

    def __init__(self, registry: RegistryLookups, claims: ChildClaims) -> None:
        self._registry = registry
        self._claims = claims

    def check(self, request: RegistrationRequest, registration_id: UUID) -> Findings:
        """Check the request of ``registration_id``; a passing check leaves the child claimed."""
        findings = Findings()
        failure = (
            self._office(request)
            or self._child(request, findings)
            or self._guardian(request, findings)
            or self._card(request, findings)
        )
        if failure is None:
            failure = self._claim(findings, registration_id)
        findings.failure = failure
        return findings

    def _office(self, request: RegistrationRequest) -> Failure | None:
        office = self._registry.office(request.office_code)
        if office is None or not office.active:
            return Failure(
                "OFFICE_UNKNOWN",
                "office_code",
                "no active office with this code receives registrations",
            )
        return None

    def _child(self, request: RegistrationRequest, findings: Findings) -> Failure | None:
        child = request.child
        by_code = (
            self._registry.person_by_code(child.social_insurance_code)
            if child.social_insurance_code
            else None
        )
        by_id = (
            self._registry.person_by_personal_id(child.personal_id_number)
            if child.personal_id_number
            else None
        )
        if child.social_insurance_code and by_code is None:
            return Failure(
                "CHILD_NOT_FOUND", "child.social_insurance_code", "no person with this code"
            )
        if child.personal_id_number and by_id is None:
            return Failure(
                "CHILD_NOT_FOUND",
                "child.personal_id_number",
                "no person with this personal identification number",
            )
        person = by_code or by_id
        if person is None:  # the contract requires one of the two identifiers
            return Failure("CHILD_NOT_FOUND", "child", "no identifier given")
        if by_code and by_id and by_code.social_insurance_code != by_id.social_insurance_code:
            return Failure(
                "CHILD_DETAILS_MISMATCH",
                "child.personal_id_number",
                "belongs to another person than the social_insurance_code",
            )
        failure = _name(
            person, child.full_name, "CHILD_DETAILS_MISMATCH", "child.full_name", findings
        )
        if failure:
            return failure
        if person.date_of_birth != child.date_of_birth:
            return Failure(
                "CHILD_DETAILS_MISMATCH", "child.date_of_birth", "differs from the registry"
            )
        if not is_minor_on(person.date_of_birth, request.submission_date):
            return Failure(
                "CHILD_NOT_MINOR",
                "child.date_of_birth",
                "the child is 18 or older on the submission date",
            )
        findings.child_code = person.social_insurance_code
        return None

    def _guardian(self, request: RegistrationRequest, findings: Findings) -> Failure | None:
        guardian = request.guardian
        person = self._registry.person_by_code(guardian.social_insurance_code)
        if person is None:
            return Failure(
                "GUARDIAN_NOT_FOUND", "guardian.social_insurance_code", "no person with this code"
            )
        failure = _name(
            person, guardian.full_name, "GUARDIAN_DETAILS_MISMATCH", "guardian.full_name", findings
        )
        if failure:
            return failure
        if person.social_insurance_code == findings.child_code:
            return Failure(
                "GUARDIAN_DETAILS_MISMATCH",
                "guardian.social_insurance_code",
                "the guardian cannot be the child",
            )
        account = self._registry.account(person.social_insurance_code)
        if account is None or account.status is not AccountStatus.ACTIVE:
            return Failure(
                "GUARDIAN_ACCOUNT_INACTIVE",
                "guardian.social_insurance_code",
                "the guardian has no active VssID account",
            )
        child = self._registry.person_by_code(findings.child_code or "")
        if (
            child is None
            or person.household_code is None
            or person.household_code != child.household_code
        ):
            findings.warnings.append(
                ReviewWarning(
                    WarningCode.NOT_ONE_HOUSEHOLD, "guardian.social_insurance_code"
                ).text()
            )
        findings.guardian_code = person.social_insurance_code
        return None

    def _card(self, request: RegistrationRequest, findings: Findings) -> Failure | None:
        raw = request.child.health_insurance_card_qr
        where = "child.health_insurance_card_qr"
        if raw is None:
            findings.warnings.append(ReviewWarning(WarningCode.CARD_NOT_SCANNED, where).text())
            return None
        try:
            card = decode_card_qr(raw)
        except CardQrUnreadable as error:
            return Failure("CARD_MISMATCH", where, f"unreadable ({error.rule})")
        if card.social_insurance_code != findings.child_code:
            return Failure("CARD_MISMATCH", where, "the card's code differs from the child's")
        match = compare_names(request.child.full_name, card.full_name)
        if match is NameMatch.DIFFERENT:
            return Failure("CARD_MISMATCH", where, "the card's name differs from the child's")
        if match is NameMatch.ACCENTS_ONLY:
            findings.warnings.append(
                ReviewWarning(WarningCode.CARD_NAME_ACCENTS_ONLY, where).text()
            )
        return None

    def _claim(self, findings: Findings, registration_id: UUID) -> Failure | None:
        """Claim the child, then look for an account: in this order there is no gap to race in."""
        code = findings.child_code
        if code is None:
            raise RuntimeError("the child is claimed only once found")
        holder = self._claims.claim(code, registration_id)
        if holder != registration_id:
            return Failure(
                "REGISTRATION_IN_PROGRESS",
                "child.social_insurance_code",
                "another registration for this child is open",
            )
        account = self._registry.account(code)
        if account is not None and account.status is AccountStatus.ACTIVE:
            self._claims.release(registration_id)
            return Failure(
                "ALREADY_REGISTERED",
                "child.social_insurance_code",
                "the child already has an active account",
            )
        return None


def _name(
    person: Person, declared: str, reason_code: str, where: str, findings: Findings
) -> Failure | None:
    match = compare_names(declared, person.full_name)
    if match is NameMatch.DIFFERENT:
        return Failure(reason_code, where, "differs from the registry")
    if match is NameMatch.ACCENTS_ONLY:
        findings.warnings.append(ReviewWarning(WarningCode.NAME_ACCENTS_ONLY, where).text())
    return None
