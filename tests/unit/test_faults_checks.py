"""The fault suite's own verdicts (``tests/faults/checks.py``): a doubled event, a gap, a lost
or duplicated delivery are found."""

from __future__ import annotations

from tests.faults.__main__ import paths_for
from tests.faults.checks import (
    EventRow,
    check_deliveries,
    check_store,
    delivery_key,
    expected_deliveries,
    first_progress,
)

A = "135e75a6-49b1-52ec-afee-782e90e61db8"
B = "f41e3573-70f6-5a29-8b4a-a39ea743e03d"


def events(registration: str, *commands: str) -> list[EventRow]:
    return [EventRow(registration, n, command, "E") for n, command in enumerate(commands, 1)]


def test_a_clean_store_has_no_findings() -> None:
    found = check_store(events(A, "received:sent", "a:2") + events(B, "received:sent"))

    assert (found.clean, found.events, found.registrations) == (True, 3, 2)  # ids per registration


def test_a_command_recorded_twice_is_found() -> None:
    found = check_store(events(A, "a:1", "a:2", "a:2"))

    assert found.repeated_commands == [f"{A} a:2"]
    assert not found.clean


def test_a_version_gap_or_repeat_is_found() -> None:
    gap = [EventRow(A, 1, "a:1", "E"), EventRow(A, 3, "a:3", "E")]
    repeat = [EventRow(B, 1, "b:1", "E"), EventRow(B, 1, "b:2", "E")]

    assert check_store(gap + repeat).gaps == [A, B]


def test_each_path_expects_its_milestones_once_per_channel() -> None:
    expected = expected_deliveries({A: "supplement", B: "expire"}, "sms")

    assert expected == {
        f"childreg.{A}.received.sms",
        f"childreg.{A}.supplement_requested.sms",
        f"childreg.{A}.approved.sms",
        f"childreg.{B}.received.sms",
        f"childreg.{B}.expired.sms",
    }


def test_a_message_id_names_its_delivery() -> None:
    assert delivery_key(f"<childreg.{A}.approved.email@vssid.example.vn>") == (
        f"childreg.{A}.approved.email"
    )
    assert delivery_key(f"childreg.{A}.supplement_requested.2.sms") == (
        f"childreg.{A}.supplement_requested.2.sms"
    )


def test_lost_duplicated_and_unexpected_deliveries_are_counted() -> None:
    expected = expected_deliveries({A: "approve"}, "email")
    sent = [
        f"<childreg.{A}.received.email@x.vn>",
        f"<childreg.{A}.received.email@x.vn>",
        f"<childreg.{B}.approved.email@x.vn>",
    ]

    found = check_deliveries(expected, sent)

    assert found.lost == [f"childreg.{A}.approved.email"]
    assert found.duplicated == {f"childreg.{A}.received.email": 1}
    assert found.unexpected == [f"childreg.{B}.approved.email"]
    assert (found.delivered, found.extra_copies) == (3, 1)


def test_recovery_is_the_time_to_the_first_progress_after_the_moment() -> None:
    samples = [(1.0, 10), (2.0, 12), (3.0, 12), (4.0, 12), (5.5, 13)]

    assert first_progress(samples, 2.5) == 3.0
    assert first_progress(samples, 6.0) is None


def test_the_mix_has_every_path_in_its_proportions() -> None:
    short, full = paths_for(30), paths_for(200)

    assert len(short) == 30
    assert len(full) == 200
    assert (
        set(short)
        == set(full)
        == {"approve", "reject", "supplement", "withdraw", "auto_reject", "expire"}
    )
    assert full.count("approve") == 60
    assert full.count("expire") == 25
