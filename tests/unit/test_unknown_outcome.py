"""The "unknown outcome" of a commit: the store committed but the acknowledgement was lost, and
the retry is refused as a duplicate. The service answers as if the first attempt had succeeded
when what is stored is what was sent, and records nothing twice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from domain.contract import parse_request
from domain.lifecycle import State
from domain.registration import ActorKind, Registration
from domain.service import RegistrationService
from tests.builders import a_request
from tests.unit.test_service import cause


class LosesAcknowledgements(RegistrationService):
    """Commits each save, then raises as a lost acknowledgement would (the next ``lose`` saves)."""

    lose = 0

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        recordings = super().save(*objs, **kwargs)
        if self.lose:
            self.lose -= 1
            raise IntegrityError("duplicate key value violates unique constraint")
        return recordings


@pytest.fixture
def service() -> Iterator[LosesAcknowledgements]:
    app = LosesAcknowledgements(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()


def test_a_submission_whose_commit_was_not_acknowledged_is_answered_once(
    service: LosesAcknowledgements,
) -> None:
    service.lose = 1

    view = service.submit(parse_request(a_request()), cause("submit", ActorKind.UPSTREAM))

    assert view.state is State.SUBMITTED
    assert [type(e).__name__ for e in service.history(view.registration_id)] == ["Submitted"]


def test_a_command_whose_commit_was_not_acknowledged_is_not_recorded_twice(
    service: LosesAcknowledgements,
) -> None:
    registration_id = service.submit(
        parse_request(a_request()), cause("submit", ActorKind.UPSTREAM)
    ).registration_id
    service.lose = 1

    view = service.execute(registration_id, Registration.withdraw, None, cause("withdraw"))

    assert view.state is State.WITHDRAWN
    history = service.history(registration_id)
    assert [type(e).__name__ for e in history] == ["Submitted", "Withdrawn"]
    assert len({e.command_id for e in history}) == 2
