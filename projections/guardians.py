"""Read model: a guardian's children and their registrations.

Finding rows by the guardian's code means the table must hold something derived from it. It
holds keyed digests, never the codes: ``HMAC-SHA256(key, code)`` for the guardian's and the
child's codes, with a key derived from the service's link secret (see
:func:`projections.catalogue.digest_key`). Without the key a digest cannot be tested against
guessed codes (10-digit codes are easy to enumerate, a plain hash would not protect them). The
child's code is also kept masked (last 4 digits) for display. Rotating the key means rebuilding
this read model (``childreg projections rebuild guardian_children``).

The child's account status comes from the events (``ChildAccountActivated``), not from the
registry's ``registry_accounts`` table: the read model then depends on the event store alone,
rebuilds reproduce it exactly, and it is consistent with the tracking position a query waits
for. (An account locked later in the registry is the registry's business, not this history's.)
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

import psycopg
from eventsourcing.persistence import Tracking
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from domain.contract import FinalOutcome
from domain.lifecycle import OPEN_STATES, State, new_state, outcome_of
from projections.base import (
    EVENTS,
    Answer,
    ReadModelProjection,
    ReadModelView,
    Row,
    child_code,
    fetch_all,
    mask_code,
    text_at,
)

TABLE = "rm_guardian_children"


def code_digest(key: bytes, code: str) -> str:
    return hmac.new(key, code.strip().encode(), hashlib.sha256).hexdigest()


class GuardianChildrenView(ReadModelView):
    projection_name = "guardian_children"
    table_names = (TABLE,)
    index_names = ("rm_guardian_children_pkey", "rm_guardian_children_guardian")
    schema = (
        """CREATE TABLE IF NOT EXISTS {rm_guardian_children} (
            registration_id   uuid NOT NULL,
            guardian_digest   text NOT NULL,
            child_digest      text,
            child_code_masked text,
            request_id        text NOT NULL,
            office_code       text NOT NULL,
            state             text NOT NULL,
            outcome           text,
            submitted_at      timestamptz NOT NULL,
            decided_at        timestamptz,
            child_account_id  text,
            CONSTRAINT {rm_guardian_children_pkey} PRIMARY KEY (registration_id)
        )""",
        """CREATE INDEX IF NOT EXISTS {rm_guardian_children_guardian}
            ON {rm_guardian_children} (guardian_digest, child_digest)""",
    )

    digest_key: ClassVar[bytes] = b""
    """Set by :meth:`keyed`: the runner builds the view from its class, so the key rides on it."""

    @classmethod
    def keyed(cls, key: bytes) -> type[GuardianChildrenView]:
        if not key:
            raise ValueError("the guardian index needs a digest key")
        keyed: type[GuardianChildrenView] = type(cls.__name__, (cls,), {"digest_key": key})
        return keyed

    def write(self, curs: Cursor[DictRow], event: Any, tracking: Tracking) -> None:
        if not self.digest_key:
            raise RuntimeError("GuardianChildrenView used without a digest key: use keyed()")
        if isinstance(event, EVENTS.Erased):
            # Its rows are keyed by digests of the guardian's and the child's codes: gone.
            self.delete_row(curs, TABLE, event.originator_id)
            return
        row = (
            None
            if isinstance(event, EVENTS.Submitted)
            else self.select_row(curs, TABLE, event.originator_id)
        )
        new = evolve(row, event, self.digest_key)
        if new is not None and new != row:
            self.upsert_row(curs, TABLE, new)


class GuardianChildrenProjection(ReadModelProjection):
    name = GuardianChildrenView.projection_name


def evolve(row: Row | None, event: Any, key: bytes) -> Row | None:
    if isinstance(event, EVENTS.Erased):
        return None
    if isinstance(event, EVENTS.Submitted):
        code = child_code(event.request)
        guardian = text_at(event.request, "guardian", "social_insurance_code")
        if guardian is None:
            return None  # a malformed request names no guardian: it belongs to no one's list
        return {
            "registration_id": event.originator_id,
            "guardian_digest": code_digest(key, guardian),
            "child_digest": code_digest(key, code) if code else None,
            "child_code_masked": mask_code(code),
            "request_id": event.request_id,
            "office_code": event.office_code,
            "state": State.SUBMITTED.value,
            "outcome": None,
            "submitted_at": event.timestamp,
            "decided_at": None,
            "child_account_id": None,
        }
    if row is None:
        return None
    row = dict(row)
    state = new_state(event)
    if state is not None:
        outcome = outcome_of(state)
        row["state"] = state.value
        row["outcome"] = outcome.value if outcome is not None else None
    if isinstance(event, EVENTS.IdentityVerified):
        # The verified codes: the child's social-insurance code even when the request gave only
        # the personal id number, so all of one child's registrations group together.
        row["guardian_digest"] = code_digest(key, event.guardian_social_insurance_code)
        row["child_digest"] = code_digest(key, event.child_social_insurance_code)
        row["child_code_masked"] = mask_code(event.child_social_insurance_code)
    elif isinstance(
        event,
        EVENTS.AutoRejected | EVENTS.Approved | EVENTS.Rejected | EVENTS.Withdrawn | EVENTS.Expired,
    ):
        row["decided_at"] = event.timestamp
    elif isinstance(event, EVENTS.ChildAccountActivated):
        row["child_account_id"] = event.account_id
    return row


# --- the answer -------------------------------------------------------------------------------

AccountStatus = Literal["active", "pending", "none"]


class ChildRegistration(Answer):
    registration_id: UUID
    request_id: str
    office_code: str
    state: State
    outcome: FinalOutcome | None
    submitted_at: datetime
    decided_at: datetime | None


class ChildEntry(Answer):
    child_code_masked: str | None
    account_status: AccountStatus
    """active: an approved registration's account was activated; pending: a registration is open
    or approved and awaiting activation; none: every registration ended without an account."""
    child_account_id: str | None
    registrations: list[ChildRegistration]


class GuardianChildren(Answer):
    as_of_position: int
    children: list[ChildEntry]


_OF_GUARDIAN = SQL(
    "SELECT * FROM {} WHERE guardian_digest = %s"
    " ORDER BY child_digest, submitted_at DESC, registration_id"
).format(Identifier(TABLE))


def children(conn: psycopg.Connection[Any], key: bytes, guardian_code: str) -> list[ChildEntry]:
    """The guardian's children (by the guardian's social-insurance code) and their
    registrations, the child with the newest registration first, each newest first."""
    rows = fetch_all(conn, _OF_GUARDIAN, (code_digest(key, guardian_code),))
    by_child: dict[str | None, list[Row]] = {}
    for row in rows:
        by_child.setdefault(row["child_digest"], []).append(row)
    found = [_child(group) for group in by_child.values()]
    found.sort(key=lambda child: child.registrations[0].submitted_at, reverse=True)
    return found


def account_status(states: Sequence[State]) -> AccountStatus:
    if State.ACCOUNT_ACTIVATED in states:
        return "active"
    if any(state in OPEN_STATES or state is State.APPROVED for state in states):
        return "pending"
    return "none"


def _child(rows: list[Row]) -> ChildEntry:
    registrations = [
        ChildRegistration(
            **{key: value for key, value in row.items() if key in ChildRegistration.model_fields}
        )
        for row in rows
    ]
    account_ids = [row["child_account_id"] for row in rows if row["child_account_id"]]
    masked = next((row["child_code_masked"] for row in rows if row["child_code_masked"]), None)
    return ChildEntry(
        child_code_masked=masked,
        account_status=account_status([State(row["state"]) for row in rows]),
        child_account_id=account_ids[0] if account_ids else None,
        registrations=registrations,
    )
