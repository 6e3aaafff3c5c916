"""The child's account: activated once the registration is approved, linked to the guardian.

The account row goes into the registry's accounts table (so the child now "has an active
account" for every later check) and the link to the guardian and the registration into
``registry_child_accounts``, in one transaction. A new account's id is a uuid5 of the
registration id: activating twice gives the same account. A child has one account: a later
registration (after the account was locked or closed) activates it again under its id.
"""

from __future__ import annotations

from typing import Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
from psycopg_pool import ConnectionPool
from temporalio import activity

from activities.messages import ActivityName, Step, StepOutcome
from activities.recording import REFUSED, cause, domain_errors_not_retried, outcome
from activities.schema import create_schema
from domain.lifecycle import State
from domain.registration import Registration
from domain.service import RegistrationService

log = structlog.get_logger(__name__)

_ACCOUNT_NAMESPACE = uuid5(NAMESPACE_URL, "https://vssid.example.vn/childreg/accounts")

SCHEMA = """
CREATE TABLE IF NOT EXISTS registry_child_accounts (
    account_id      uuid PRIMARY KEY,
    child_code      text NOT NULL UNIQUE CHECK (child_code ~ '^[0-9]{10}$'),
    guardian_code   text NOT NULL CHECK (guardian_code ~ '^[0-9]{10}$'),
    registration_id uuid NOT NULL UNIQUE,
    activated_at    timestamptz NOT NULL DEFAULT now()
);
"""

_SCHEMA_LOCK = 0x61_63_63_6F_75_6E_74  # "account"


def account_id_for(registration_id: UUID) -> UUID:
    return uuid5(_ACCOUNT_NAMESPACE, str(registration_id))


class ChildAccounts(Protocol):
    def activate(self, child_code: str, guardian_code: str, registration_id: UUID) -> UUID:
        """Make the child's account active, linked to the guardian; idempotent per registration."""
        ...


class PostgresChildAccounts:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def create_schema(self) -> None:
        create_schema(self._pool, SCHEMA, _SCHEMA_LOCK)

    def activate(self, child_code: str, guardian_code: str, registration_id: UUID) -> UUID:
        """The child's account, active and linked to this registration's guardian.

        A child has one account: when an earlier registration made it (and it was locked or
        closed since), this one activates it again under its id and links it anew.
        """
        with self._pool.connection() as connection, connection.transaction():
            row = connection.execute(
                "INSERT INTO registry_child_accounts"
                " (account_id, child_code, guardian_code, registration_id)"
                " VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (child_code) DO UPDATE"
                " SET guardian_code = EXCLUDED.guardian_code,"
                " registration_id = EXCLUDED.registration_id,"
                " activated_at = CASE WHEN registry_child_accounts.registration_id"
                " = EXCLUDED.registration_id THEN registry_child_accounts.activated_at ELSE now() END"
                " RETURNING account_id",
                (account_id_for(registration_id), child_code, guardian_code, registration_id),
            ).fetchone()
            if row is None:
                raise RuntimeError("INSERT … RETURNING gave no row")
            account_id: UUID = row[0]
            connection.execute(
                "INSERT INTO registry_accounts (social_insurance_code, status) VALUES (%s, 'active')"
                " ON CONFLICT (social_insurance_code)"
                " DO UPDATE SET status = 'active', changed_at = now()"
                " WHERE registry_accounts.status <> 'active'",
                (child_code,),
            )
        return account_id


class AccountActivities:
    def __init__(self, service: RegistrationService, accounts: ChildAccounts) -> None:
        self._service = service
        self._accounts = accounts

    @activity.defn(name=ActivityName.ACTIVATE_CHILD_ACCOUNT)
    def activate_child_account(self, step: Step) -> StepOutcome:
        registration_id = UUID(step.registration_id)
        with domain_errors_not_retried():
            view = self._service.get(registration_id)
            if view.state is not State.APPROVED:
                return outcome(view)  # activated already, or not approved: nothing to do
            verified = next(
                event
                for event in self._service.history(registration_id)
                if isinstance(event, Registration.IdentityVerified)
            )
            account_id = self._accounts.activate(
                verified.child_social_insurance_code,
                verified.guardian_social_insurance_code,
                registration_id,
            )
            try:
                view = self._service.execute(
                    registration_id,
                    Registration.activate_child_account,
                    str(account_id),
                    cause(step, "activate"),
                )
            except REFUSED as refused:
                return outcome(self._service.get(registration_id), str(refused))
        log.info("account.activated", registration_id=step.registration_id)
        return outcome(view)
