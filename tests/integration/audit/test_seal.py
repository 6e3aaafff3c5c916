"""The sealer: checkpoints every N events plus the head, extended incrementally, in its own tables."""

from __future__ import annotations

from uuid import UUID

from tests.builders.registrations import T0, Registrar
from tests.integration.audit.conftest import sql
from workers.bootstrap import migrate
from workers.run.sealer import seal_once


def test_the_migration_creates_the_audit_tables(database_url: str) -> None:
    parts = migrate(database_url)

    assert "audit seals" in parts
    assert sql(database_url, "SELECT count(*) FROM audit_checkpoints") == [(0,)]


def test_a_seal_keeps_every_nth_digest_and_moves_the_head(
    database_url: str, store: dict[str, UUID], registrar: Registrar
) -> None:
    first = seal_once(database_url, every=5)
    registrar.submit("vssid-20261126-000001", "79001", "0123456789", "7900000003", T0)
    registrar.submit("vssid-20261126-000002", "79001", "0123456789", "7900000003", T0)
    again = seal_once(database_url, every=5)
    nothing = seal_once(database_url, every=5)

    assert (first.sealed, again.sealed, nothing.sealed) == (21, 2, 0)
    rows = sql(database_url, "SELECT events, periodic FROM audit_checkpoints ORDER BY events")
    assert rows == [(5, True), (10, True), (15, True), (20, True), (23, False)]
    streams = sql(database_url, "SELECT count(*), sum(version) FROM audit_sealed_streams")
    assert streams == [(5, 23)]


def test_an_empty_store_has_nothing_to_seal(database_url: str, store: dict[str, UUID]) -> None:
    sql(database_url, "DELETE FROM childreg_events")

    report = seal_once(database_url)

    assert (report.sealed, report.head) == (0, None)
