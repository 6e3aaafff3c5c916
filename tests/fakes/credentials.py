"""The reviewers' credentials in memory, with the PostgreSQL adapter's rules."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta

from activities.reviewer_credentials import (
    Credential,
    SignInClient,
    SignInMethod,
    SignInOutcome,
    SignInRecord,
)


class InMemoryReviewerCredentials:
    """``activities.reviewer_credentials.ReviewerCredentials`` in a dict; ``records`` is the log."""

    def __init__(self) -> None:
        self._rows: dict[str, Credential] = {}
        self.records: list[SignInRecord] = []
        self._lock = threading.Lock()

    def set_password(self, reviewer_id: str, password_hash: str, at: datetime) -> None:
        with self._lock:
            self._rows[reviewer_id] = Credential(password_hash, 0, None)
            self.records.append(SignInRecord(reviewer_id, SignInOutcome.PASSWORD_SET, at))

    def credential(self, reviewer_id: str) -> Credential | None:
        return self._rows.get(reviewer_id)

    def record_failure(
        self, reviewer_id: str, at: datetime, *, lock_after: int, lock_for: timedelta
    ) -> Credential | None:
        with self._lock:
            row = self._rows.get(reviewer_id)
            if row is None:
                return None
            failures = row.failed_attempts + 1
            if failures >= lock_after:
                row = replace(row, failed_attempts=0, locked_until=at + lock_for)
            else:
                row = replace(row, failed_attempts=failures)
            self._rows[reviewer_id] = row
            return row

    def record_success(self, reviewer_id: str) -> None:
        with self._lock:
            row = self._rows.get(reviewer_id)
            if row is not None:
                self._rows[reviewer_id] = replace(row, failed_attempts=0)

    def record(
        self,
        reviewer_id: str,
        outcome: SignInOutcome,
        at: datetime,
        client: SignInClient = SignInClient.CONSOLE,
        method: SignInMethod = SignInMethod.PASSWORD,
    ) -> None:
        with self._lock:
            self.records.append(SignInRecord(reviewer_id, outcome, at, client, method))

    def history(self, reviewer_id: str) -> list[SignInRecord]:
        return [record for record in self.records if record.reviewer_id == reviewer_id]
