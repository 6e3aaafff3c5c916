"""``childreg privacy erase`` and ``sweep`` on a real PostgreSQL, through the command line.

One registration's personal data is erased: afterwards no table's text, json or bytea column and no
file under the data directory holds its child's name, code, personal id number or birth date; the
other registrations are untouched and still decrypt; the audit verifies; its history shows the
erased events as erased; a rebuild of the read models gives the live ones; erasing again says so.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from domain.contract import parse_request
from domain.errors import DataErased
from domain.registration import ActorKind, Cause, Registration
from domain.service import RegistrationService
from projections.catalogue import create_schema
from projections.runners import RunningProjections
from tests.builders import a_request
from tests.conftest import cli_environment
from tests.integration.projections.conftest import KEY
from workers.bootstrap import event_store_env, registration_service
from workers.cli import app

LINK_SECRET = "a link secret for the tests"  # KEY is derived from it
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)

ERASED = {
    "name": "Trần Thị Bích Ngọc",
    "code": "7918273645",
    "personal_id": "079219004321",
    "born": "2020-07-09",
}
KEPT = {
    "name": "Lê Hoàng Phúc",
    "code": "7911112222",
    "personal_id": "079219001111",
    "born": "2018-01-30",
}


@pytest.fixture
def service(database_url: str, cipher_key: str) -> Iterator[RegistrationService]:
    app_ = registration_service(database_url, cipher_key)
    create_schema(event_store_env(database_url, cipher_key))
    yield app_
    app_.close()


@pytest.fixture
def cli_env(database_url: str, cipher_key: str, tmp_path: Path) -> dict[str, str]:
    return cli_environment(database_url, cipher_key, tmp_path, LINK_SECRET)


def childreg(cli_env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=cli_env)
    return result.exit_code, result.output


def _cause(request_id: str, what: str, at: datetime, kind: ActorKind) -> Cause:
    return Cause(kind, "test", f"registration-{request_id}", f"{request_id}/{what}", at)


def register(
    service: RegistrationService,
    data_dir: Path,
    request_id: str,
    child: dict[str, str],
    *,
    withdrawn_at: datetime | None,
) -> UUID:
    """A registration with its files: intake copies of its documents, a kept document, its
    messages in the mail sink and the SMS outbox (each holding the child's data in the clear)."""
    portrait, certificate = secrets.token_hex(32), secrets.token_hex(32)
    body = a_request(
        request_id=request_id,
        child__full_name=child["name"],
        child__social_insurance_code=child["code"],
        child__personal_id_number=child["personal_id"],
        child__date_of_birth=child["born"],
        documents={"portrait": f"sha256:{portrait}", "birth_certificate": f"sha256:{certificate}"},
    )
    at = withdrawn_at or T0
    view = service.submit(parse_request(body), _cause(request_id, "submit", at, ActorKind.UPSTREAM))
    rid = view.registration_id
    if withdrawn_at is not None:
        service.execute(
            rid,
            Registration.withdraw,
            "đổi ý",
            _cause(request_id, "withdraw", withdrawn_at, ActorKind.GUARDIAN),
        )
    clear = json.dumps(child, ensure_ascii=False).encode()
    intake = data_dir / "documents" / "intake"
    kept = data_dir / "documents" / "registrations" / str(rid) / "round-0"
    for folder in (intake, kept, data_dir / "mail", data_dir / "sms"):
        folder.mkdir(parents=True, exist_ok=True)
    (intake / portrait).write_bytes(clear)
    (intake / certificate).write_bytes(clear)
    (kept / "portrait.jpg").write_bytes(clear)
    (
        data_dir / "mail" / f"20261125T020000000000Z-childreg.{rid}.received.email@x.vn.eml"
    ).write_bytes(clear)
    (data_dir / "sms" / f"childreg.{rid}.received.sms.json").write_bytes(clear)
    return rid


def _needles(child: dict[str, str]) -> list[bytes]:
    return [value.encode() for value in child.values()]


def database_hits(database_url: str, child: dict[str, str]) -> list[str]:
    """Every (table, column) of the database whose text, json or bytea values hold any of the
    child's data."""
    hits = []
    with psycopg.connect(database_url) as connection:
        columns = connection.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' AND data_type IN"
            " ('text', 'character varying', 'jsonb', 'json', 'bytea')"
        ).fetchall()
        for table, column, data_type in columns:
            value = sql.SQL("{}::text" if data_type != "bytea" else "{}").format(
                sql.Identifier(column)
            )
            rows = connection.execute(
                sql.SQL("SELECT {} FROM {} WHERE {} IS NOT NULL").format(
                    value, sql.Identifier(table), sql.Identifier(column)
                )
            ).fetchall()
            for (found,) in rows:
                data = bytes(found) if data_type == "bytea" else str(found).encode()
                if any(needle in data for needle in _needles(child)):
                    hits.append(f"{table}.{column}")
                    break
    return hits


def file_hits(data_dir: Path, child: dict[str, str]) -> list[str]:
    return [
        str(path.relative_to(data_dir))
        for path in data_dir.rglob("*")
        if path.is_file() and any(needle in path.read_bytes() for needle in _needles(child))
    ]


def read_model_tables(database_url: str) -> dict[str, list[Any]]:
    """Every read model's rows, in a stable order (the tracking positions left out)."""
    with psycopg.connect(database_url) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename LIKE 'rm\\_%' AND tablename NOT LIKE '%\\_next' ORDER BY 1"
            ).fetchall()
        ]
        return {
            table: sorted(
                json.dumps(row, default=str, sort_keys=True)
                for (row,) in connection.execute(
                    sql.SQL("SELECT to_jsonb(t) - 'position' FROM {} t").format(
                        sql.Identifier(table)
                    )
                ).fetchall()
            )
            for table in tables
        }


def test_an_erasure_leaves_none_of_the_childs_data_and_the_rest_untouched(
    service: RegistrationService,
    database_url: str,
    cipher_key: str,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    erased = register(service, tmp_path, "vssid-erase-1", ERASED, withdrawn_at=T0)
    kept = register(service, tmp_path, "vssid-erase-2", KEPT, withdrawn_at=T0)
    env = event_store_env(database_url, cipher_key)
    with RunningProjections(env, KEY) as running:
        running.wait(_position(database_url), timeout=30)
    assert database_hits(database_url, ERASED) == []  # encrypted already: a check of the scan
    assert file_hits(tmp_path, ERASED) != []

    code, out = childreg(
        cli_env,
        "privacy",
        "erase",
        "vssid-erase-1",
        "--reason",
        "guardian's request",
        "--by",
        "dpo-1",
    )

    assert code == 0, out
    assert "personal data erased" in out
    assert _count(out, "events made unreadable") == 2  # Submitted, Withdrawn
    assert _count(out, "document files removed") == 3
    assert _count(out, "mail copies removed") == 1
    assert _count(out, "SMS copies removed") == 1
    assert _count(out, "read-model rows blanked") == 2  # its status row, its guardian entry
    assert database_hits(database_url, ERASED) == []
    assert file_hits(tmp_path, ERASED) == []
    assert len(file_hits(tmp_path, KEPT)) == 5  # the other registration's files are all there

    reader = registration_service(database_url, cipher_key)
    with pytest.raises(DataErased):
        reader.get(erased)
    assert reader.get(kept).request["child"]["full_name"] == KEPT["name"]
    reader.close()

    code, out = childreg(cli_env, "status", "vssid-erase-1", "--json")
    assert code == 0, out
    answer = json.loads(out)
    assert answer["erased_at"] is not None
    assert answer["state"] == "withdrawn"
    assert answer["child_code_masked"] is None
    code, out = childreg(cli_env, "status", "vssid-erase-1")
    assert "withdrawn (erased)" in out

    code, out = childreg(cli_env, "audit", "verify", "--all")
    assert code == 0, out
    code, out = childreg(cli_env, "audit", "history", "vssid-erase-1", "--json")
    assert code == 0, out
    entries = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [entry["event"] for entry in entries] == ["Submitted", "Withdrawn", "Erased"]
    assert entries[0]["summary"].startswith("erased: unreadable")
    assert entries[2]["actor_id"] == "dpo-1"
    assert "does not verify" not in out

    live = read_model_tables(database_url)
    code, out = childreg(cli_env, "audit", "rebuild", "--check")
    assert code == 0, out
    code, out = childreg(cli_env, "projections", "rebuild")
    assert code == 0, out
    assert read_model_tables(database_url) == live

    # Erasing again changes nothing and says so.
    code, out = childreg(
        cli_env, "privacy", "erase", "vssid-erase-1", "--reason", "again", "--by", "dpo-1"
    )
    assert code == 0, out
    assert "already erased" in out
    assert read_model_tables(database_url) == live


def _position(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT max(notification_id) FROM childreg_events").fetchone()
    assert row is not None
    return int(row[0])


def _count(output: str, label: str) -> int:
    for line in output.splitlines():
        if label in line:
            return int(line.replace("│", " ").split()[-1])
    raise AssertionError(f"{label!r} not in {output}")


def test_an_unknown_request_id_exits_2_naming_it(
    service: RegistrationService, cli_env: dict[str, str]
) -> None:
    code, out = childreg(
        cli_env, "privacy", "erase", "vssid-nobody", "--reason", "request", "--by", "dpo-1"
    )

    assert code == 2
    assert "vssid-nobody" in out


def test_an_open_registration_is_refused_without_withdraw(
    service: RegistrationService, cli_env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    rid = register(service, tmp_path, "vssid-open-1", ERASED, withdrawn_at=None)

    code, out = childreg(
        cli_env, "privacy", "erase", "vssid-open-1", "--reason", "request", "--by", "dpo-1"
    )

    assert code == 1
    assert "still submitted" in out
    assert "--withdraw" in out
    assert service.get(rid).request["child"]["full_name"] == ERASED["name"]


def snapshot(database_url: str, data_dir: Path) -> tuple[dict[str, list[str]], dict[str, bytes]]:
    """Every table's rows (as text) and every file's bytes."""
    with psycopg.connect(database_url) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            ).fetchall()
        ]
        rows = {
            table: sorted(
                str(row)
                for (row,) in connection.execute(
                    sql.SQL("SELECT t::text FROM {} t").format(sql.Identifier(table))
                ).fetchall()
            )
            for table in tables
        }
    files = {str(p): p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file()}
    return rows, files


def test_the_sweep_erases_only_registrations_past_the_retention_and_its_dry_run_nothing(
    service: RegistrationService,
    database_url: str,
    cipher_key: str,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    old = register(service, tmp_path, "vssid-old-1", ERASED, withdrawn_at=now - timedelta(days=40))
    recent = register(service, tmp_path, "vssid-new-1", KEPT, withdrawn_at=now - timedelta(days=5))
    register(service, tmp_path, "vssid-open-2", KEPT | {"code": "7913334444"}, withdrawn_at=None)
    with RunningProjections(event_store_env(database_url, cipher_key), KEY) as running:
        running.wait(_position(database_url), timeout=30)
    sweep_env = {**cli_env, "CHILDREG_RETENTION_DAYS": "30"}
    before = snapshot(database_url, tmp_path)

    code, out = childreg(sweep_env, "privacy", "sweep", "--dry-run")

    assert code == 0, out
    assert "1 registration(s) would erase" in out
    assert "vssid-old-1" in out
    assert "vssid-new-1" not in out
    assert "vssid-open-2" not in out
    assert snapshot(database_url, tmp_path) == before

    code, out = childreg(sweep_env, "privacy", "sweep", "--by", "dpo-2")

    assert code == 0, out
    assert "1 registration(s) erased" in out
    assert "vssid-old-1" in out
    reader = registration_service(database_url, cipher_key)
    with pytest.raises(DataErased):
        reader.get(old)
    assert reader.get(recent).request["child"]["full_name"] == KEPT["name"]
    reader.close()
    assert file_hits(tmp_path, ERASED) == []
    code, out = childreg(sweep_env, "privacy", "sweep")
    assert code == 0, out
    assert "0 registration(s) erased" in out
