"""Every warning a reviewer may see has a code, reads back from its recorded text, and has a
Vietnamese text in the console."""

from __future__ import annotations

import pytest

from domain.warnings import ReviewWarning, WarningCode, parse_warning
from web.console.warnings import TEXTS, in_vietnamese


@pytest.mark.parametrize("code", list(WarningCode))
def test_a_recorded_warning_reads_back_its_code_and_field(code: WarningCode) -> None:
    warning = ReviewWarning(code, "child.full_name")

    assert parse_warning(warning.text()) == warning


def test_every_code_has_a_vietnamese_text() -> None:
    assert set(TEXTS) == set(WarningCode)


def test_a_warning_of_no_known_rule_is_shown_as_recorded() -> None:
    assert parse_warning("child.full_name: some other rule") is None
    assert in_vietnamese("child.full_name: some other rule") == "child.full_name: some other rule"
    assert in_vietnamese("no colon at all") == "no colon at all"
