"""The registry and the claims on children in memory, with the PostgreSQL adapters' rules."""

from __future__ import annotations

import datetime as dt
import threading
from uuid import UUID

from domain.registry import Account, Office, Person, RegistryData, Reviewer, ReviewerRole


class InMemoryRegistry:
    """``domain.registry.RegistryLookups`` over the rows of one load."""

    def __init__(self, data: RegistryData) -> None:
        self.data = data

    def office(self, code: str) -> Office | None:
        return next((o for o in self.data.offices if o.office_code == code), None)

    def reviewer(self, reviewer_id: str) -> Reviewer | None:
        return next((r for r in self.data.reviewers if r.reviewer_id == reviewer_id), None)

    def supervisors(self, office_code: str) -> list[Reviewer]:
        return [
            r
            for r in self.data.reviewers
            if r.office_code == office_code and r.role is ReviewerRole.SUPERVISOR and r.active
        ]

    def person_by_code(self, code: str) -> Person | None:
        return next((p for p in self.data.persons if p.social_insurance_code == code), None)

    def person_by_personal_id(self, number: str) -> Person | None:
        return next((p for p in self.data.persons if p.personal_id_number == number), None)

    def account(self, code: str) -> Account | None:
        return next((a for a in self.data.accounts if a.social_insurance_code == code), None)

    def holidays(self, from_date: dt.date, to_date: dt.date) -> set[dt.date]:
        return {h.date for h in self.data.holidays if from_date <= h.date <= to_date}


class InMemoryChildClaims:
    """``domain.identity.ChildClaims``: one holder per child; claiming again is idempotent."""

    def __init__(self) -> None:
        self.holders: dict[str, UUID] = {}
        self._lock = threading.Lock()

    def claim(self, child_code: str, registration_id: UUID) -> UUID:
        with self._lock:
            return self.holders.setdefault(child_code, registration_id)

    def release(self, registration_id: UUID) -> None:
        with self._lock:
            for code in [c for c, holder in self.holders.items() if holder == registration_id]:
                del self.holders[code]
