"""Kept documents under the registration's data key; those kept before under the service key."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from activities.aes_gcm import unseal
from activities.documents import DocumentStore
from activities.keys import DataErased, DataKeys
from workers.bootstrap import migrate

PORTRAIT = b"\x89PNG portrait of Nguyen Minh Khoi"


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
