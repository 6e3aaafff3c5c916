"""Who may decide a registration, on the in-memory registry: an active reviewer or supervisor of
the registration's office, nobody else; each refusal names the field and the rule."""

from __future__ import annotations

import pytest

from domain.authorisation import NotAuthorised, authorise
from tests import builders
from tests.fakes.registry import InMemoryRegistry

REGISTRY = InMemoryRegistry(builders.registry_data())


@pytest.mark.parametrize("reviewer_id", [builders.REVIEWER, builders.SUPERVISOR])
def test_an_active_reviewer_or_supervisor_of_the_office_may_decide(reviewer_id: str) -> None:
    authorise(REGISTRY, reviewer_id, builders.OFFICE)  # raises when refused


@pytest.mark.parametrize(
    ("reviewer_id", "rule"),
    [
        ("rv-nobody", "reviewer_id: no reviewer with this id"),
        (builders.INACTIVE_REVIEWER, "reviewer_id: the reviewer is not active"),
        (builders.OTHER_REVIEWER, "reviewer_id: the reviewer is not of this registration's office"),
    ],
)
def test_anyone_else_is_refused_with_the_rule(reviewer_id: str, rule: str) -> None:
    with pytest.raises(NotAuthorised) as refused:
        authorise(REGISTRY, reviewer_id, builders.OFFICE)

    assert str(refused.value) == rule
