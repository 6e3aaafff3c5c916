"""The office's calendar: working days, and the deadlines a review runs against.

An office has ``review_days`` working days to decide (Monday to Friday, less the registry's
holidays), counted in Vietnam from the day the review is asked for, and lasting to the end of
the last one. No registration waits longer than the maximum wait, whatever the calendar says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from domain.contract import VIETNAM
from domain.registry import DEFAULT_REVIEW_DAYS, RegistryLookups

HOLIDAY_HORIZON_DAYS = 120
"""How far ahead holidays are read when a deadline is counted (review_days is at most 30)."""


def is_working_day(day: dt.date, holidays: AbstractSet[dt.date]) -> bool:
    return day.weekday() < 5 and day not in holidays  # Monday to Friday


def business_deadline(
    start: dt.date, business_days: int, holidays: AbstractSet[dt.date]
) -> dt.date:
    """The day on which ``business_days`` working days after ``start`` have passed.

    ``start`` itself does not count; Saturdays, Sundays and ``holidays`` are skipped. Submitted on
    Friday with 3 days: due on Wednesday. Zero days: ``start``.
    """
    if business_days < 0:
        raise ValueError("business_days must not be negative")
    day = start
    remaining = business_days
    while remaining:
        day += dt.timedelta(days=1)
        if is_working_day(day, holidays):
            remaining -= 1
    return day


def end_of_day(day: dt.date) -> dt.datetime:
    """The end of ``day`` in Vietnam: a deadline "on" a day lasts until that day is over."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), VIETNAM)


@dataclass(frozen=True)
class ReviewDeadlines:
    deadline: dt.datetime
    """When the review is overdue (and escalated to the office's supervisors)."""
    expires_at: dt.datetime
    """When the registration expires without a decision."""


def review_deadlines(
    registry: RegistryLookups, office_code: str, asked_at: dt.datetime, max_wait: dt.timedelta
) -> ReviewDeadlines:
    """The deadlines of a review asked for at ``asked_at`` at the office ``office_code``.

    Reads the office's ``review_days`` (the default for an office the registry no longer
    holds) and the holidays ahead; the deadline never falls after the expiry.
    """
    office = registry.office(office_code)
    review_days = office.review_days if office else DEFAULT_REVIEW_DAYS
    start = asked_at.astimezone(VIETNAM).date()
    holidays = registry.holidays(start, start + dt.timedelta(days=HOLIDAY_HORIZON_DAYS))
    deadline = end_of_day(business_deadline(start, review_days, holidays))
    expires_at = asked_at + max_wait
    return ReviewDeadlines(deadline=min(deadline, expires_at), expires_at=expires_at)
