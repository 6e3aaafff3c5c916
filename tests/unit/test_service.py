"""The registration service in memory: one submit for valid and refused requests, and commands
carried out inside the service, which answers with plain data and never hands out the aggregate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.contract import RegistrationRequest, parse_request
from domain.errors import DataErased, RegistrationNotFound
from domain.intake import RefusedRequest, read_submission
from domain.lifecycle import State
from domain.registration import ActorKind, Cause, Registration, registration_id_for
from domain.service import RegistrationService, RegistrationView
from tests.builders import a_request

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
REQUEST_ID = "vssid-20261125-000123"
WORKFLOW_ID = f"registration-{REQUEST_ID}"


def cause(name: str, kind: ActorKind = ActorKind.SYSTEM) -> Cause:
    return Cause(kind, "childreg", WORKFLOW_ID, f"{WORKFLOW_ID}:{name}", T0)


@pytest.fixture
def service() -> Iterator[RegistrationService]:
    app = RegistrationService(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()


def refused_request() -> RefusedRequest:
    raw = a_request()
    del raw["guardian"]
    refused = read_submission(raw, WORKFLOW_ID)
    assert isinstance(refused, RefusedRequest)
    return refused


def counted_reads(service: RegistrationService, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Each load of an aggregate from the store the service makes from now on."""
    reads: list[object] = []
    original = service.repository.get

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(service.repository, "get", counted)
    return reads


def submitted(service: RegistrationService) -> RegistrationView:
    request = parse_request(a_request())
    return service.submit(request, cause("submit", ActorKind.UPSTREAM))


def test_a_refused_request_is_recorded_as_sent_with_its_rejection_in_one_save(
    service: RegistrationService,
) -> None:
    refused = refused_request()

    view = service.submit(refused, cause("submit", ActorKind.UPSTREAM), cause("auto-reject"))

    assert view.state is State.AUTO_REJECTED
    assert view.request == refused.as_sent
    assert (view.reason_code, view.reason_field) == ("INVALID_REQUEST", "guardian")
    history = service.history(view.registration_id)
    assert [type(event).__name__ for event in history] == ["Submitted", "AutoRejected"]
    assert history[1].command_id == f"{WORKFLOW_ID}:auto-reject"
    assert view.position is not None


def test_a_refused_request_submitted_again_records_nothing(service: RegistrationService) -> None:
    first = service.submit(
        refused_request(), cause("submit", ActorKind.UPSTREAM), cause("auto-reject")
    )

    again = service.submit(
        refused_request(), cause("submit", ActorKind.UPSTREAM), cause("auto-reject")
    )

    assert again.registration_id == first.registration_id
    assert again.version == first.version
    assert again.position is None


def test_a_refused_request_needs_the_cause_of_its_rejection(service: RegistrationService) -> None:
    with pytest.raises(ValueError, match="rejection"):
        service.submit(refused_request(), cause("submit", ActorKind.UPSTREAM))


def test_a_valid_request_is_recorded_submitted(service: RegistrationService) -> None:
    view = submitted(service)

    assert view.state is State.SUBMITTED
    assert RegistrationRequest.model_validate(view.request).request_id == REQUEST_ID


def test_a_command_is_carried_out_inside_and_answered_with_the_view(
    service: RegistrationService,
) -> None:
    registration_id = submitted(service).registration_id

    view = service.execute(
        registration_id,
        Registration.verify_identity,
        "7912345678",
        "0123456789",
        [],
        cause("identity"),
    )

    assert isinstance(view, RegistrationView)
    assert view.state is State.IDENTITY_VERIFIED
    assert view.position is not None


def test_a_command_carried_out_again_records_nothing(service: RegistrationService) -> None:
    registration_id = submitted(service).registration_id
    service.execute(registration_id, Registration.withdraw, None, cause("withdraw"))

    again = service.execute(registration_id, Registration.withdraw, None, cause("withdraw"))

    assert again.state is State.WITHDRAWN
    assert again.position is None


def test_nothing_but_the_registrations_own_commands_is_carried_out(
    service: RegistrationService,
) -> None:
    registration_id = submitted(service).registration_id
    handed_out: list[Registration] = []

    with pytest.raises(TypeError, match="command: must be a public method of Registration"):
        service.execute(registration_id, handed_out.append)
    with pytest.raises(TypeError, match="command: must be a public method of Registration"):
        service.execute(registration_id, lambda registration: handed_out.append(registration))

    assert handed_out == []
    assert service.get(registration_id).version == 1


def test_a_command_after_this_process_s_own_save_starts_from_its_copy_and_reads_nothing(
    service: RegistrationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    registration_id = submitted(service).registration_id
    service.execute(
        registration_id, Registration.verify_identity, "7912345678", "0123456789", [], cause("id")
    )
    reads = counted_reads(service, monkeypatch)

    view = service.execute(
        registration_id,
        Registration.store_documents,
        {"portrait": {"sha256": "a" * 64}},
        [],
        cause("documents"),
    )

    assert reads == []
    assert (view.version, view.state) == (3, State.DOCUMENTS_STORED)
    assert [type(event).__name__ for event in service.history(registration_id)][-1] == (
        "DocumentsStored"
    )
    # A repeat records nothing, so its copy proves nothing: it is answered from the store.
    again = service.execute(
        registration_id,
        Registration.store_documents,
        {"portrait": {"sha256": "a" * 64}},
        [],
        cause("documents"),
    )
    assert len(reads) == 1
    assert again.version == 3


def test_the_request_id_of_a_registration_this_process_saved_is_answered_without_a_read(
    service: RegistrationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    registration_id = submitted(service).registration_id
    reads = counted_reads(service, monkeypatch)

    assert service.request_id_of(registration_id) == a_request()["request_id"]
    assert reads == []


def test_the_request_id_of_a_registration_without_this_process_s_copy_is_read_from_the_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class WithoutCopies(RegistrationService):
        WRITTEN_COPIES = 0  # as for a registration another process saved last

    service = WithoutCopies(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        registration_id = submitted(service).registration_id
        reads = counted_reads(service, monkeypatch)

        assert service.request_id_of(registration_id) == a_request()["request_id"]
        assert len(reads) == 1
        with pytest.raises(RegistrationNotFound):
            service.request_id_of(registration_id_for("never-submitted"))
    finally:
        service.close()


def test_the_request_id_of_an_erased_registration_is_not_given(
    service: RegistrationService,
) -> None:
    refused = service.submit(refused_request(), cause("submit"), rejection=cause("reject"))
    registration_id = refused.registration_id  # rejected: final, so erasable
    service.execute(registration_id, Registration.erase, "guardian's request", cause("erase"))

    with pytest.raises(DataErased):
        service.request_id_of(registration_id)
