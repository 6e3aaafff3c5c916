"""Claims on a review: the lease, the takeover, and the refusal of another's decision."""

from __future__ import annotations

import pytest

from domain.registration import ClaimHeld, Registration
from tests.unit.test_registration import awaiting_review, reviewer


def _claimed(by: str = "79001.reviewer", minutes: int = 10) -> Registration:
    registration = awaiting_review()
    registration.claim(by, False, reviewer(f"claim-{by}-{minutes}", minutes))
    return registration


def test_a_decision_by_another_reviewer_while_the_lease_holds_is_refused_naming_the_holder() -> (
    None
):
    registration = _claimed()

    with pytest.raises(ClaimHeld, match=r"^claim: held by reviewer 79001\.reviewer until "):
        registration.approve("d-1", "79001.other", None, reviewer("approve-1", 20))

    assert registration.claim_holder(reviewer("x", 20).at) == "79001.reviewer"
    registration.approve("d-2", "79001.reviewer", None, reviewer("approve-2", 21))
    assert type(registration.pending_events[-1]).__name__ == "Approved"


def test_the_lease_lapses_after_30_minutes_without_activity_and_a_renewed_claim_extends_it() -> (
    None
):
    registration = _claimed(minutes=10)
    registration.claim("79001.reviewer", False, reviewer("renew", 35))  # renewed at 35

    assert registration.claim_holder(reviewer("x", 64).at) == "79001.reviewer"
    assert registration.claim_holder(reviewer("x", 65).at) is None
    registration.claim("79001.other", False, reviewer("claim-other", 66))
    assert registration.claimed_by == "79001.other"


def test_another_reviewer_cannot_claim_but_a_supervisor_takes_over() -> None:
    registration = _claimed()

    with pytest.raises(ClaimHeld):
        registration.claim("79001.other", False, reviewer("claim-other", 11))
    registration.claim("79001.supervisor", True, reviewer("takeover", 12))

    taken: Registration.Claimed = registration.pending_events[-1]  # type: ignore[assignment]
    assert (taken.takeover, taken.previous_holder) == (True, "79001.reviewer")
    assert registration.claim_holder(taken.timestamp) == "79001.supervisor"


def test_only_the_holder_releases_and_then_anyone_may_decide() -> None:
    registration = _claimed()

    with pytest.raises(ClaimHeld):
        registration.release("79001.other", reviewer("release-other", 11))
    registration.release("79001.reviewer", reviewer("release", 12))

    assert registration.claim_holder(reviewer("x", 13).at) is None
    registration.approve("d-1", "79001.other", None, reviewer("approve", 13))
