"""``childreg privacy export``: everything held about a registration, decrypted, on real PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from activities.documents import DocumentStore
from activities.keys import DataKeys
from domain.registration import ActorKind, Registration
from domain.service import RegistrationService
from tests.builders.registrations import (
    SMS_BODY,
    T0,
    Registrar,
    record_notification_without_its_text,
)
from workers.bootstrap import migrate, registration_service
from workers.cli.privacy import register

REQUEST_ID = "vssid-20261125-000901"
PORTRAIT = b"\x89PNG portrait of the child"

app = typer.Typer()
register(app)


@pytest.fixture
def env(database_url: str, cipher_key: str, tmp_path: Path) -> dict[str, str]:
    migrate(database_url)
    return {
        "CHILDREG_DATABASE_URL": database_url,
        "CHILDREG_CIPHER_KEY": cipher_key,
        "CHILDREG_LINK_SECRET": "a link secret for the export tests",
        "CHILDREG_DATA_DIR": str(tmp_path / "data"),
        "CHILDREG_LOG_FORMAT": "json",
    }


@pytest.fixture
def service(database_url: str, cipher_key: str) -> Iterator[RegistrationService]:
    app = registration_service(database_url, cipher_key)
    yield app
    app.close()


@pytest.fixture
def keys(database_url: str, cipher_key: str) -> Iterator[DataKeys]:
    store = DataKeys(database_url, cipher_key)
    yield store
    store.close()


@pytest.fixture
def approved(
    service: RegistrationService, keys: DataKeys, cipher_key: str, env: dict[str, str]
) -> Registrar:
    """Submitted, verified, a portrait kept under the data key, reviewed, approved, notified."""
    registrar = Registrar(service)
    view = registrar.submit(REQUEST_ID, "79001", "0123456789", "7912345678", T0)
    view = registrar.move(view, "verify", T0 + timedelta(minutes=1), f"{REQUEST_ID}/verify")
    documents = DocumentStore(Path(env["CHILDREG_DATA_DIR"]) / "documents", cipher_key, keys)
    path = documents.keep(view.registration_id, "portrait", PORTRAIT, "png")
    stored = {"portrait": {"sha256": "b" * 64, "file": str(path.relative_to(path.parent.parent))}}
    cause = registrar._cause(REQUEST_ID, T0 + timedelta(minutes=2), ActorKind.SYSTEM, "store")
    view = service.execute(view.registration_id, Registration.store_documents, stored, [], cause)
    for step, action in enumerate(["review", "approve", "notify"]):
        view = registrar.move(
            view, action, T0 + timedelta(minutes=3 + step), f"{REQUEST_ID}/{step}"
        )
    return registrar


def export(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["privacy", "export", *args], env=env)
    return result.exit_code, result.output


def test_the_export_holds_the_request_events_notifications_and_documents(
    approved: Registrar, env: dict[str, str], tmp_path: Path
) -> None:
    code, output = export(env, REQUEST_ID, "--out", str(tmp_path / "out"))

    assert code == 0, output
    assert "events: 6" in output
    assert "notifications: 1" in output
    assert "documents: 1" in output
    document = json.loads((tmp_path / "out" / "export.json").read_text(encoding="utf-8"))
    assert document["erased"] is False
    assert document["request_id"] == REQUEST_ID
    assert document["request"]["child"]["social_insurance_code"] == "7912345678"
    assert document["request"]["guardian"]["social_insurance_code"] == "0123456789"
    events = document["events"]
    assert [e["event"] for e in events] == [
        "Submitted",
        "IdentityVerified",
        "DocumentsStored",
        "ReviewRequested",
        "Approved",
        "NotificationPrepared",
    ]
    assert [e["version"] for e in events] == sorted(e["version"] for e in events)
    assert events[0]["actor"]["kind"] == "upstream"
    assert events[4]["actor"]["kind"] == "reviewer"
    assert all(e["actor"]["id"] and e["at"] for e in events)
    assert events[0]["at"] == T0.isoformat()
    (notification,) = document["notifications"]
    assert notification["channel"] == "sms"
    assert notification["recipient"] == "******5678"
    assert notification["subject"] is None
    assert notification["body"] == SMS_BODY
    assert "note" not in notification
    assert notification["body_sha256"] == "d" * 64
    (portrait,) = document["documents"]
    assert portrait["name"] == "portrait"
    assert (tmp_path / "out" / portrait["file"]).read_bytes() == PORTRAIT


def test_a_notification_from_before_texts_were_kept_is_exported_with_its_digest_only(
    approved: Registrar, service: RegistrationService, env: dict[str, str], tmp_path: Path
) -> None:
    record_notification_without_its_text(
        service, approved.registrations[0], T0 + timedelta(hours=1)
    )

    code, output = export(env, REQUEST_ID, "--out", str(tmp_path / "out"))

    assert code == 0, output
    document = json.loads((tmp_path / "out" / "export.json").read_text(encoding="utf-8"))
    kept, old = document["notifications"]
    assert kept["body"] == SMS_BODY
    assert (old["subject"], old["body"]) == (None, None)
    assert old["body_sha256"] == "e" * 64
    assert "digest" in old["note"]


def test_the_default_folder_is_named_by_the_request_id(
    approved: Registrar, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = export(env, REQUEST_ID)

    assert code == 0, output
    assert (tmp_path / REQUEST_ID / "export.json").is_file()


def test_an_unknown_request_id_exits_2_naming_it(env: dict[str, str], tmp_path: Path) -> None:
    code, output = export(env, "vssid-20261125-999999", "--out", str(tmp_path / "out"))

    assert code == 2
    assert "vssid-20261125-999999" in output
    assert not (tmp_path / "out").exists()


def test_after_the_data_key_is_erased_the_export_says_so(
    approved: Registrar, keys: DataKeys, env: dict[str, str], tmp_path: Path
) -> None:
    assert keys.erase(approved.registrations[0])
    code, output = export(env, REQUEST_ID, "--out", str(tmp_path / "out"))

    assert code == 0, output
    assert "erased" in output
    text = (tmp_path / "out" / "export.json").read_text(encoding="utf-8")
    document = json.loads(text)
    assert document["erased"] is True
    assert document["erased_at"]
    assert len(document["events"]) == 6
    assert document["notifications"] == []
    assert document["documents"] == []
    assert "7912345678" not in text
    assert "0123456789" not in text
    assert not (tmp_path / "out" / "documents").exists()
