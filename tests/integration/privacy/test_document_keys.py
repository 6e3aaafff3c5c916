"""Kept documents under the registration's data key; those kept before under the service key."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from activities.aes_gcm import unseal
from activities.documents import DocumentActivities, DocumentStore
from activities.erasure import Eraser, Places
from activities.keys import DataErased, DataKeys
from activities.messages import DocumentsInput, Step
from domain.contract import parse_request
from domain.registration import ActorKind, Cause, Registration
from tests import builders
from tests.builders import a_request
from tests.integration.privacy.test_data_keys import T0, cause, writers_keys
from workers.bootstrap import migrate, registration_service

PORTRAIT = b"\x89PNG portrait of Nguyen Minh Khoi"


def step_cause(request_id: str, what: str) -> Cause:
    return Cause(ActorKind.SYSTEM, "worker-1", f"registration-{request_id}", what, T0)


@pytest.fixture
def keys(database_url: str, cipher_key: str) -> Iterator[DataKeys]:
    migrate(database_url)
    store = DataKeys(database_url, cipher_key)
    yield store
    store.close()


def test_a_kept_document_is_under_the_registrations_key(
    keys: DataKeys, cipher_key: str, tmp_path: Path
) -> None:
    registration_id = uuid4()
    store = DocumentStore(tmp_path, cipher_key, keys)

    path = store.keep(registration_id, "portrait", PORTRAIT, "png")

    assert store.read_kept(path, registration_id, "portrait") == PORTRAIT
    with pytest.raises(ValueError, match="MAC"):
        unseal(
            base64.b64decode(cipher_key), path.read_bytes(), f"{registration_id}/portrait".encode()
        )


def test_a_document_kept_before_under_the_service_key_stays_readable(
    keys: DataKeys, cipher_key: str, tmp_path: Path
) -> None:
    registration_id = uuid4()
    before = DocumentStore(tmp_path, cipher_key).keep(registration_id, "portrait", PORTRAIT, "png")
    keys.key_for(registration_id)  # a later event gave the registration a key

    store = DocumentStore(tmp_path, cipher_key, keys)

    assert store.read_kept(before, registration_id, "portrait") == PORTRAIT


def test_after_the_erasure_a_kept_document_cannot_be_read(
    keys: DataKeys, cipher_key: str, tmp_path: Path
) -> None:
    registration_id = uuid4()
    store = DocumentStore(tmp_path, cipher_key, keys)
    path = store.keep(registration_id, "portrait", PORTRAIT, "png")

    keys.erase(registration_id)

    with pytest.raises(DataErased):
        store.read_kept(path, registration_id, "portrait")


def test_documents_kept_while_another_process_erased_the_registration_are_removed(
    database_url: str, cipher_key: str, tmp_path: Path
) -> None:
    request_id = "vssid-20261125-000021"
    worker = registration_service(database_url, cipher_key)
    store = DocumentStore(tmp_path / "documents", cipher_key, writers_keys(worker))
    documents = {
        "portrait": store.put(builders.sharp_jpeg(seed=1)),
        "birth_certificate": store.put(builders.sharp_jpeg(seed=2)),
    }
    submitted = worker.submit(
        parse_request(a_request(request_id=request_id, documents=documents)), cause(request_id)
    )
    rid = submitted.registration_id
    worker.execute(
        rid,
        Registration.verify_identity,
        "7912345678",
        "0123456789",
        [],
        step_cause(request_id, "identity"),
    )
    # Withdrawn and erased by another process while the worker's documents step is on its way.
    elsewhere = registration_service(database_url, cipher_key)
    elsewhere.execute(rid, Registration.withdraw, None, step_cause(request_id, "withdraw"))
    erasing_keys = DataKeys(database_url, cipher_key)
    Eraser(elsewhere, erasing_keys, database_url, Places.under(tmp_path)).erase(
        request_id, "yêu cầu của người giám hộ", "operator-1"
    )
    elsewhere.close()
    erasing_keys.close()
    # The step had read its intake copies before the erasure removed them.
    store.put(builders.sharp_jpeg(seed=1))
    store.put(builders.sharp_jpeg(seed=2))
    step = Step(workflow_id=f"registration-{request_id}", registration_id=str(rid), at=T0)

    with pytest.raises(DataErased):
        DocumentActivities(worker, store).store_documents(
            DocumentsInput(step=step, documents=documents)
        )

    kept = tmp_path / "documents" / "registrations" / str(rid)
    assert [path for path in kept.rglob("*") if path.is_file()] == []
    worker.close()
