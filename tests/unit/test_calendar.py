"""The deadlines of a review, on the in-memory registry: the office's working days counted in
Vietnam, the registry's holidays skipped, the end of the last day, never after the expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.calendar import review_deadlines
from domain.contract import VIETNAM
from tests import builders
from tests.fakes.registry import InMemoryRegistry

REGISTRY = InMemoryRegistry(builders.registry_data())
MAX_WAIT = timedelta(days=30)


def test_three_working_days_from_a_friday_end_on_wednesday_night() -> None:
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=VIETNAM)

    deadlines = review_deadlines(REGISTRY, builders.OFFICE, friday, MAX_WAIT)

    assert deadlines.deadline == datetime(2026, 12, 3, 0, 0, tzinfo=VIETNAM)
    assert deadlines.expires_at == friday + MAX_WAIT


def test_the_day_is_counted_in_vietnam() -> None:
    thursday_in_utc_friday_in_vietnam = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)

    deadlines = review_deadlines(
        REGISTRY, builders.OFFICE, thursday_in_utc_friday_in_vietnam, MAX_WAIT
    )

    assert deadlines.deadline == datetime(2026, 12, 3, 0, 0, tzinfo=VIETNAM)


def test_a_registry_holiday_is_not_a_working_day() -> None:
    tuesday_before_the_holiday = datetime(2026, 12, 29, 9, 0, tzinfo=VIETNAM)

    deadlines = review_deadlines(REGISTRY, builders.OFFICE, tuesday_before_the_holiday, MAX_WAIT)

    assert deadlines.deadline == datetime(2027, 1, 5, 0, 0, tzinfo=VIETNAM)  # Wed, Fri, Mon


def test_an_office_the_registry_no_longer_holds_gets_the_default_three_days() -> None:
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=VIETNAM)

    deadlines = review_deadlines(REGISTRY, "99999", friday, MAX_WAIT)

    assert deadlines.deadline == datetime(2026, 12, 3, 0, 0, tzinfo=VIETNAM)


def test_the_deadline_never_falls_after_the_expiry() -> None:
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=VIETNAM)

    deadlines = review_deadlines(REGISTRY, builders.OFFICE, friday, timedelta(days=2))

    assert deadlines.deadline == deadlines.expires_at == friday + timedelta(days=2)
