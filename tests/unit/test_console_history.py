"""The registration page's history in Vietnamese: every kind of event is told in words, none by
its class name, and none shows the child's or the guardian's codes."""

from __future__ import annotations

import re

import pytest

from domain.registration import ActorKind, Registration
from projections.audit.timeline import summary
from tests.unit.test_lifecycle import EVENT_CLASSES, PATHS, _cause, _history
from web.console.history import ACTORS, history

ENGLISH = re.compile(r"\b(the|by|of|and|waiting|submitted|approved|rejected|claim)\b")


def test_every_kind_of_event_has_its_vietnamese_words() -> None:
    told = {
        type(event): row
        for steps in PATHS.values()
        for event, row in zip(_history(steps), history(_history(steps)), strict=True)
    }

    assert set(told) == EVENT_CLASSES
    for kind, row in told.items():
        assert row.event != kind.__name__, kind
        assert row.detail, kind
        assert not ENGLISH.search(f"{row.event} {row.detail}"), (kind, row)


@pytest.mark.parametrize("steps", PATHS.values(), ids=PATHS.keys())
def test_no_code_of_the_child_or_the_guardian_is_shown(steps: list[object]) -> None:
    rows = history(_history(steps))  # type: ignore[arg-type]

    shown = " ".join(f"{row.event} {row.actor} {row.detail}" for row in rows)
    assert "7912345678" not in shown
    assert "0123456789" not in shown
    assert all(row.actor in ACTORS.values() or row.actor.startswith("Cán bộ ") for row in rows)


def _take_over(r: Registration, n: int) -> None:
    r.claim("79001.supervisor", True, _cause(f"take-over-{n}", n, ActorKind.REVIEWER))


def test_a_take_over_names_the_reviewer_it_was_taken_from() -> None:
    events = _history([*PATHS["rejected"][:4], _take_over])

    row = history(events)[-1]

    assert row.event == "Nhận xử lý"
    assert row.detail == "tiếp nhận thay cán bộ 79001.reviewer"
    assert row.actor == "Cán bộ test"


def test_the_auditors_timeline_summarises_claims_too() -> None:
    events = _history(PATHS["rejected"])

    lines = [
        summary(e) for e in events if isinstance(e, Registration.Claimed | Registration.Released)
    ]

    assert lines == [
        "claimed by 79001.reviewer",
        "claim released by 79001.reviewer",
        "claimed by 79001.reviewer",
    ]
