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
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking
from psycopg import Cursor
from psycopg.rows import DictRow

from projections.base import (
    EVENTS,
    FINAL_OUTCOMES,
    STATE_AFTER,
    ReadModelProjection,
    ReadModelView,
    Row,
    child_code,
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
            "state": "submitted",
            "outcome": None,
            "submitted_at": event.timestamp,
            "decided_at": None,
            "child_account_id": None,
        }
    if row is None:
        return None
    row = dict(row)
    state = STATE_AFTER.get(type(event))
    if state is not None:
        row["state"] = state
        row["outcome"] = FINAL_OUTCOMES.get(state)
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
