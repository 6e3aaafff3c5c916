"""The Temporal payload codec with the key table: a registration's payloads under its data key,
named in the metadata; everything else, and everything encoded before, under the service key."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import ActivitySerializationContext, WorkflowSerializationContext

from activities.keys import DataKeys
from domain.registration import registration_id_for
from workers.bootstrap import migrate
from workers.temporal_client import AesGcmCodec

REQUEST_ID = "vssid-20261125-000123"
NAME = "Nguyễn Minh Khôi"


@pytest.fixture
def keys(database_url: str, cipher_key: str) -> Iterator[DataKeys]:
    migrate(database_url)
    store = DataKeys(database_url, cipher_key)
    yield store
    store.close()


def plain() -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'{{"name":"{NAME}"}}'.encode())


def in_workflow(codec: AesGcmCodec, workflow_id: str) -> AesGcmCodec:
    return codec.with_context(WorkflowSerializationContext("default", workflow_id))


def test_a_registrations_payloads_are_under_its_data_key(keys: DataKeys, cipher_key: str) -> None:
    codec = AesGcmCodec(cipher_key, keys)

    encoded = asyncio.run(in_workflow(codec, f"registration-{REQUEST_ID}").encode([plain()]))

    key_id = keys.key_for(registration_id_for(REQUEST_ID)).key_id
    assert encoded[0].metadata["encryption-key-id"] == key_id.encode()
    assert NAME.encode() not in encoded[0].data
    assert asyncio.run(codec.decode(encoded)) == [plain()]  # found by the key id alone
    with pytest.raises(ValueError, match="another key"):
        asyncio.run(AesGcmCodec(cipher_key).decode(encoded))  # without the key table


def test_an_activitys_payloads_are_under_its_workflows_key(keys: DataKeys, cipher_key: str) -> None:
    context = ActivitySerializationContext(
        namespace="default",
        activity_id="1",
        activity_type="record_submission",
        activity_task_queue="q",
        workflow_id=f"registration-{REQUEST_ID}",
        workflow_type="RegistrationWorkflow",
        is_local=False,
    )

    encoded = asyncio.run(AesGcmCodec(cipher_key, keys).with_context(context).encode([plain()]))

    key_id = keys.key_for(registration_id_for(REQUEST_ID)).key_id
    assert encoded[0].metadata["encryption-key-id"] == key_id.encode()


def test_payloads_encoded_before_stay_readable(keys: DataKeys, cipher_key: str) -> None:
    before = asyncio.run(AesGcmCodec(cipher_key).encode([plain()]))

    codec = AesGcmCodec(cipher_key, keys)

    assert asyncio.run(in_workflow(codec, f"registration-{REQUEST_ID}").decode(before)) == [plain()]
    other = asyncio.run(in_workflow(codec, "some-other-workflow").encode([plain()]))
    assert other[0].metadata["encryption-key-id"] == codec.key_id


def test_after_the_erasure_the_registrations_payloads_cannot_be_decoded(
    keys: DataKeys, cipher_key: str
) -> None:
    codec = AesGcmCodec(cipher_key, keys)
    erased = asyncio.run(in_workflow(codec, f"registration-{REQUEST_ID}").encode([plain()]))
    kept = asyncio.run(in_workflow(codec, "registration-vssid-20261125-000124").encode([plain()]))

    keys.erase(registration_id_for(REQUEST_ID))
    fresh = AesGcmCodec(cipher_key, DataKeys(keys._url, cipher_key))

    with pytest.raises(ValueError, match="erased"):
        asyncio.run(fresh.decode(erased))
    assert asyncio.run(fresh.decode(kept)) == [plain()]
