"""Who may decide a registration, and what a refused decision is recorded with.

A reviewer may decide a registration of their own office when active, as a reviewer or a
supervisor. A decision that is not authorised, or that the registration's state or rules do not
allow, is refused: the refusal is kept for the audit with a reason that names the field and the
rule (``reviewer_id: …``, ``state: …``), and answered with it.
"""

from __future__ import annotations

from domain.errors import CommandConflict, DomainError, IllegalTransition
from domain.registry import RegistryLookups, ReviewerRole


class NotAuthorised(DomainError):
    """The reviewer may not decide this registration; the message names the rule."""


def authorise(registry: RegistryLookups, reviewer_id: str, office_code: str) -> None:
    """Raise :class:`NotAuthorised` unless ``reviewer_id`` may decide for ``office_code``."""
    reviewer = registry.reviewer(reviewer_id)
    if reviewer is None:
        raise NotAuthorised("reviewer_id: no reviewer with this id")
    if not reviewer.active:
        raise NotAuthorised("reviewer_id: the reviewer is not active")
    if reviewer.office_code != office_code:
        raise NotAuthorised("reviewer_id: the reviewer is not of this registration's office")


def needs_four_eyes(registry: RegistryLookups, office_code: str) -> bool:
    """True when a rejection in ``office_code`` is proposed first and takes effect only when a
    second active reviewer or supervisor of the office confirms it (``offices.csv``'s
    ``four_eyes``). That second reviewer passes :func:`authorise` like any decision, and the
    aggregate refuses the proposer (``four_eyes: …``) on every path."""
    office = registry.office(office_code)
    return office is not None and office.four_eyes


def authorise_claim(
    registry: RegistryLookups, reviewer_id: str, office_code: str, takeover: bool
) -> bool:
    """Who may claim: the reviewers who may decide. Returns whether the claim may take over
    another's (a takeover asked for by a supervisor); a takeover asked for by anyone else is
    :class:`NotAuthorised`."""
    authorise(registry, reviewer_id, office_code)
    reviewer = registry.reviewer(reviewer_id)
    if takeover and (reviewer is None or reviewer.role is not ReviewerRole.SUPERVISOR):
        raise NotAuthorised("takeover: only a supervisor of the office may take over a claim")
    return takeover


def refusal_reason(refused: DomainError, state: str) -> str:
    """Why a decision was refused, as recorded in ``DecisionRefused`` and answered to the reviewer.

    ``state`` is the registration's state when the decision was refused.
    """
    if isinstance(refused, IllegalTransition) and refused.command.endswith("a rejection of"):
        return f"state: no proposed rejection waits for a second reviewer (it is {state})"
    if isinstance(refused, IllegalTransition):
        return f"state: the registration is not awaiting review (it is {state})"
    if isinstance(refused, CommandConflict):
        return "decision_id: already used for another decision"
    return str(refused)  # NotAuthorised and DecisionRule name their field and rule already
