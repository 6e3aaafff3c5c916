"""A re-sent email keeps its Message-ID: it is derived from the registration, the kind and the
occasion only, so a relay or a mail client can drop the second copy after a crash."""

from __future__ import annotations

from uuid import uuid4

from activities.notifications.kinds import NotificationKind, email_message_id

SENDER = "BHXH <no-reply@vssid.example.vn>"


def test_the_same_delivery_has_the_same_message_id_in_a_fresh_call() -> None:
    registration_id = uuid4()

    first = email_message_id(registration_id, NotificationKind.APPROVED, SENDER)
    again = email_message_id(registration_id, NotificationKind.APPROVED, SENDER)

    assert first == again
    assert first.endswith("@vssid.example.vn>")


def test_every_registration_kind_and_occasion_has_its_own_message_id() -> None:
    registrations = [uuid4(), uuid4()]

    ids = {
        email_message_id(registration_id, kind, SENDER, occasion=occasion)
        for registration_id in registrations
        for kind in NotificationKind
        for occasion in (1, 2)
    }

    assert len(ids) == len(registrations) * len(NotificationKind) * 2
