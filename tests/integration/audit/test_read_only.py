"""Item 6: auditors only read, through their own role when one is configured."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from uuid import UUID

import psycopg
import pytest
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from projections.audit.store import read_only_connection
from projections.catalogue import create_schema, digest_key
from projections.runners import RunningProjections
from tests.builders.registrations import Registrar
from tests.integration.audit.conftest import LINK_SECRET, Audit, sql
from workers.bootstrap import event_store_env


@pytest.fixture
def auditor_url(database_url: str) -> Iterator[str]:
    """A role that may only connect, select and use temporary tables."""
    role = f"auditor_{uuid.uuid4().hex[:12]}"
    database = conninfo_to_dict(database_url)["dbname"]
    sql(database_url, f"CREATE ROLE {role} LOGIN")
    sql(database_url, f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO {role}')
    sql(database_url, f"GRANT USAGE ON SCHEMA public TO {role}")
    sql(database_url, f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    yield make_conninfo(database_url, user=role)
    sql(database_url, f"DROP OWNED BY {role}")
    sql(database_url, f"DROP ROLE {role}")


def test_the_audit_connection_cannot_write(database_url: str, store: dict[str, UUID]) -> None:
    with read_only_connection(database_url) as connection:
        with pytest.raises(errors.ReadOnlySqlTransaction):
            connection.execute("DELETE FROM childreg_events")
        with pytest.raises(errors.ReadOnlySqlTransaction), connection.transaction():
            connection.execute("UPDATE childreg_events SET topic = 'x'")

    assert sql(database_url, "SELECT count(*) FROM childreg_events") == [(21,)]


def test_the_audit_commands_run_under_the_audit_role(
    audit: Audit,
    store: dict[str, UUID],
    registrar: Registrar,
    database_url: str,
    cipher_key: str,
    auditor_url: str,
) -> None:
    env = event_store_env(database_url, cipher_key)
    create_schema(env)
    with RunningProjections(env, digest_key(LINK_SECRET)) as running:
        running.wait(registrar.last_position, timeout=20)
    assert audit("seal")[0] == 0  # the sealer runs under the service's role
    sql(database_url, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + _role(auditor_url))
    audit.env["CHILDREG_AUDIT_DATABASE_URL"] = auditor_url

    results = [
        audit("verify", "--all"),
        audit("history", "vssid-20261125-000777"),
        audit("state", "vssid-20261125-000777", "--version", "3"),
        audit("rebuild", "--check"),
    ]

    assert [code for code, _ in results] == [0, 0, 0, 0], results
    with psycopg.connect(auditor_url) as connection, pytest.raises(errors.InsufficientPrivilege):
        connection.execute("DELETE FROM audit_checkpoints")


def test_a_configured_audit_role_is_the_one_used(audit: Audit, store: dict[str, UUID]) -> None:
    audit.env["CHILDREG_AUDIT_DATABASE_URL"] = "host=/nonexistent dbname=nowhere"

    code, out = audit("verify", "--all")

    assert code == 1
    assert "cannot connect to the audit database" in out


def _role(url: str) -> str:
    return str(conninfo_to_dict(url)["user"])


def test_the_audit_role_reads_the_data_keys_it_needs(
    audit: Audit, store: dict[str, UUID], database_url: str, auditor_url: str
) -> None:
    """The auditor's decoder finds each registration's data key through the audit role: with
    ``SELECT`` on ``data_keys`` the history decrypts, without it the command cannot read it."""
    role = _role(auditor_url)
    sql(database_url, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + role)
    audit.env["CHILDREG_AUDIT_DATABASE_URL"] = auditor_url
    assert sql(database_url, "SELECT has_table_privilege(%s, 'data_keys', 'SELECT')", role) == [
        (True,)
    ]

    readable = audit("history", "vssid-20261125-000777")
    sql(database_url, "REVOKE SELECT ON data_keys FROM " + role)  # noqa: S608  (a test role)
    refused = audit("history", "vssid-20261125-000777")

    assert readable[0] == 0, readable
    assert "SupplementRequested" in readable[1]
    assert "SupplementRequested" not in refused[1], refused
    assert "InsufficientPrivilege" in refused[1], refused
