import dataclasses
from datetime import timedelta
from uuid import UUID

import pytest

from activities.notifications.journal import mask_email, mask_phone
from activities.notifications.kinds import Channel
from tests.builders.notifications import REGISTRATION_ID
from tests.fakes.notifications import InMemoryNotificationJournal
from tests.unit.notifications.journal_contract import (
    KIND,
    T0,
    NotificationJournalContract,
    a_record,
)


class TestInMemoryNotificationJournal(NotificationJournalContract):
    @pytest.fixture
    def journal(self) -> InMemoryNotificationJournal:
        return InMemoryNotificationJournal()

    @pytest.fixture
    def registration_id(self) -> UUID:
        return REGISTRATION_ID

    def test_the_same_intent_is_recorded_once_and_a_changed_one_again(
        self, journal: InMemoryNotificationJournal, registration_id: UUID
    ) -> None:
        record = a_record(registration_id)
        journal.prepared(record)
        journal.prepared(dataclasses.replace(record, at=T0 + timedelta(seconds=5)))

        journal.prepared(dataclasses.replace(record, template_version=2))

        assert journal.steps((registration_id, KIND, Channel.EMAIL)) == ["prepared", "prepared"]


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("an.nguyen@example.vn", "an.n***@example.vn"),
        ("khoi@example.vn", "kh***@example.vn"),
        ("a@example.vn", "a***@example.vn"),
    ],
)
def test_an_email_address_is_masked_to_its_first_letters_and_domain(
    address: str, masked: str
) -> None:
    assert mask_email(address) == masked


def test_a_phone_number_is_masked_but_for_its_prefix_and_last_two_digits() -> None:
    assert mask_phone("+84912345678") == "+8491*****78"
