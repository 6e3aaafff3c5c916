"""``DeclarationViewed``: the audit's record of the guardian opening their link."""

from __future__ import annotations

import pytest

from domain.errors import InvalidValue
from domain.lifecycle import State
from domain.registration import Registration
from domain.service import RegistrationService
from tests.integration.web.conftest import a_cause, submit


def test_a_view_changes_no_state_even_after_the_end() -> None:
    service = RegistrationService()
    view = submit(service)
    service.execute(view.registration_id, Registration.withdraw, None, a_cause("withdraw"))

    after = service.execute(
        view.registration_id, Registration.record_declaration_view, "pdf", "ab" * 32, a_cause("v-1")
    )

    assert after.state is State.WITHDRAWN
    assert isinstance(service.history(view.registration_id)[-1], Registration.DeclarationViewed)


def test_the_same_view_recorded_twice_counts_once() -> None:
    service = RegistrationService()
    view = submit(service)

    service.execute(
        view.registration_id,
        Registration.record_declaration_view,
        "page",
        "ab" * 32,
        a_cause("v-1"),
    )
    service.execute(
        view.registration_id,
        Registration.record_declaration_view,
        "page",
        "ab" * 32,
        a_cause("v-1"),
    )

    assert len(service.history(view.registration_id)) == 2


def test_only_the_page_or_the_pdf_can_be_opened() -> None:
    service = RegistrationService()
    view = submit(service)

    with pytest.raises(InvalidValue, match="opened: one of page, pdf"):
        service.execute(
            view.registration_id,
            Registration.record_declaration_view,
            "photo",
            "ab" * 32,
            a_cause("v"),
        )
