"""Drive registrations through valid lifecycles (README: "The lifecycle") with the real
RegistrationService: the event streams of the projection and audit tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from domain import chain
from domain.contract import parse_request
from domain.lifecycle import State
from domain.registration import MAX_SUPPLEMENT_ROUNDS, ActorKind, Cause, Registration
from domain.service import RegistrationService, RegistrationView
from tests.builders.requests import a_request

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
OFFICES = ("79001", "01001", "48001")
GUARDIANS = ("0123456789", "0198765432", "0311122233")
CHILDREN = ("7912345678", "7900000001", "7900000002", "7900000003")


SMS_BODY = "BHXH Viet Nam: da nhan ho so dang ky tai khoan cho con."
"""The text of the SMS that the ``notify`` move records as prepared."""


def moves(state: State, view: RegistrationView) -> list[str]:
    """The commands that are legal in ``state`` (the notes are legal in any state)."""
    if state is State.SUBMITTED:
        return ["verify"] * 6 + ["auto_reject", "withdraw"]
    if state in (State.IDENTITY_VERIFIED, State.SUPPLEMENT_PROVIDED):
        return ["store"] * 6 + ["auto_reject", "withdraw"]
    if state is State.DOCUMENTS_STORED:
        return ["review"]
    if state is State.AWAITING_REVIEW:
        options = ["approve"] * 3 + ["reject"] * 2 + ["expire", "withdraw", "refuse", "notify"]
        if not view.overdue:
            options.append("overdue")
        if view.supplement_rounds < MAX_SUPPLEMENT_ROUNDS:
            options.append("supplement")
        return options
    if state is State.SUPPLEMENT_REQUESTED:
        return ["provide"] * 4 + ["expire", "withdraw"]
    if state is State.APPROVED:
        return ["activate", "notify"]
    return []


@dataclass
class Registrar:
    """Submits registrations and moves them on; remembers the position of the last event."""

    service: RegistrationService
    last_position: int = 0
    registrations: list[UUID] = field(default_factory=list)
    _commands: int = 0

    def submit(
        self, request_id: str, office: str, guardian: str, child: str, at: datetime
    ) -> RegistrationView:
        request = a_request(
            request_id=request_id,
            office_code=office,
            guardian__social_insurance_code=guardian,
            child__social_insurance_code=child,
        )
        view = self.service.submit(
            parse_request(request), self._cause(request_id, at, ActorKind.UPSTREAM, request_id)
        )
        self.registrations.append(view.registration_id)
        return self._seen(view)

    def lifecycle(
        self,
        request_id: str,
        office: str,
        guardian: str,
        child: str,
        choices: list[int],
        start: datetime,
    ) -> RegistrationView:
        """Submit, then take one legal move per choice until the registration ends."""
        view = self.submit(request_id, office, guardian, child, start)
        at = start
        for step, choice in enumerate(choices):
            options = moves(view.state, view)
            if not options:
                break
            at += timedelta(minutes=17 + 41 * choice)
            view = self.move(view, options[choice % len(options)], at, f"{request_id}/{step}")
        return view

    def move(
        self, view: RegistrationView, action: str, at: datetime, command_id: str
    ) -> RegistrationView:
        rid = view.registration_id
        system = self._cause(view.request_id, at, ActorKind.SYSTEM, command_id)
        reviewer = self._cause(view.request_id, at, ActorKind.REVIEWER, command_id)
        child = view.request["child"]["social_insurance_code"]
        guardian = view.request["guardian"]["social_insurance_code"]
        s = self.service
        if action == "verify":
            warnings = ["NO_CARD_QR"] if len(self.registrations) % 2 else []
            return self._seen(
                s.execute(rid, Registration.verify_identity, child, guardian, warnings, system)
            )
        if action == "auto_reject":
            return self._seen(
                s.execute(
                    rid,
                    Registration.auto_reject,
                    "CHILD_NOT_FOUND",
                    None,
                    "not in registry",
                    system,
                )
            )
        if action == "store":
            warnings = ["PHOTO_SMALL"] if len(self.registrations) % 3 == 0 else []
            stored = {"portrait": {"sha256": "a" * 64}}
            return self._seen(
                s.execute(rid, Registration.store_documents, stored, warnings, system)
            )
        if action == "review":
            return self._seen(
                s.execute(
                    rid,
                    Registration.request_review,
                    at + timedelta(days=3),
                    at + timedelta(days=30),
                    system,
                )
            )
        if action == "overdue":
            return self._seen(
                s.execute(
                    rid, Registration.mark_overdue, [f"{view.office_code}.supervisor"], system
                )
            )
        if action == "approve":
            return self._seen(
                s.execute(
                    rid,
                    Registration.approve,
                    command_id,
                    f"{view.office_code}.reviewer",
                    None,
                    reviewer,
                )
            )
        if action == "reject":
            return self._seen(
                s.execute(
                    rid,
                    Registration.reject,
                    command_id,
                    f"{view.office_code}.reviewer",
                    "PHOTO_UNCLEAR",
                    None,
                    reviewer,
                )
            )
        if action == "supplement":
            return self._seen(
                s.execute(
                    rid, Registration.request_supplement, command_id, f"{view.office_code}.reviewer",
                    ["birth_certificate"], "Ảnh giấy khai sinh bị mờ", at + timedelta(days=15),
                    reviewer,
                )
            )  # fmt: skip
        if action == "provide":
            guardian_cause = self._cause(view.request_id, at, ActorKind.GUARDIAN, command_id)
            documents = {"birth_certificate": "sha256:" + "c" * 64}
            return self._seen(
                s.execute(rid, Registration.provide_supplement, documents, guardian_cause)
            )
        if action == "withdraw":
            guardian_cause = self._cause(view.request_id, at, ActorKind.GUARDIAN, command_id)
            return self._seen(s.execute(rid, Registration.withdraw, "đổi ý", guardian_cause))
        if action == "expire":
            return self._seen(s.execute(rid, Registration.expire, system))
        if action == "refuse":
            return self._seen(
                s.execute(
                    rid,
                    Registration.refuse_decision,
                    command_id,
                    "01001.intruder",
                    "approve",
                    "wrong office",
                    reviewer,
                )
            )
        if action == "activate":
            return self._seen(
                s.execute(rid, Registration.activate_child_account, f"acct-{rid.hex[:8]}", system)
            )
        if action == "notify":
            return self._seen(
                s.execute(
                    rid, Registration.prepare_notification,
                    "received", "sms", "received", 1, "******5678", "d" * 64, None,
                    f"msg-{command_id}", system, subject=None, body=SMS_BODY,
                )
            )  # fmt: skip
        raise ValueError(action)

    def _seen(self, view: RegistrationView) -> RegistrationView:
        if view.position is not None:
            self.last_position = max(self.last_position, view.position)
        return view

    def _cause(self, request_id: str, at: datetime, kind: ActorKind, command_id: str) -> Cause:
        self._commands += 1
        return Cause(kind, "test", f"registration-{request_id}", command_id, at)


def record_notification_without_its_text(
    service: RegistrationService, registration_id: UUID, at: datetime
) -> None:
    """Store a ``NotificationPrepared`` as the service recorded it before it kept each message's
    text: no ``subject`` or ``body`` in its stored state, its chain link over the rest."""
    last = service.history(registration_id)[-1]
    version = last.originator_version + 1
    cause = Cause(ActorKind.SYSTEM, "notifier", "registration-old", f"old-notice-{version}", at)
    fields = {
        "kind": "received",
        "channel": "sms",
        "template_id": "sms/received",
        "template_version": 1,
        "recipient_masked": "******5678",
        "body_sha256": "e" * 64,
        "attachment_sha256": None,
        "message_id": f"old-notice-{version}",
        **cause.fields(),
    }
    fields["chain_link"] = chain.next_link(
        last.chain_link, "NotificationPrepared", registration_id, version, at, fields
    )
    event = object.__new__(Registration.NotificationPrepared)
    object.__setattr__(
        event,
        "__dict__",
        {"originator_id": registration_id, "originator_version": version, "timestamp": at} | fields,
    )
    service.recorder.insert_events([service.mapper.to_stored_event(event)])
