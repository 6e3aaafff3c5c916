"""On the real Temporal dev server: a registration's history is encrypted under its own data
key (named in every payload's metadata), and once that key is deleted nobody decodes it."""

from __future__ import annotations

from collections.abc import Iterable

from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.keys import DataKeys
from domain.registration import registration_id_for
from tests import builders
from tests.e2e.stack import address
from tests.e2e.test_registration_e2e import _until_awaiting_review, submit_with_childreg
from tests.workflow.conftest import TEST_KEY
from workers.run.smtp_sink import SmtpSink
from workers.settings import Settings
from workers.temporal_client import AesGcmCodec


def payloads_of(history: WorkflowHistory) -> list[Payload]:
    """Every payload in a history's events (inputs, results, headers, memos)."""
    found: list[Payload] = []

    def walk(value: object) -> None:
        if isinstance(value, Payload):
            found.append(value)
        elif hasattr(value, "ListFields"):
            for _, inner in value.ListFields():
                walk(inner)
        elif hasattr(value, "keys") and hasattr(value, "values"):  # a protobuf map
            for inner in value.values():
                walk(inner)
        elif isinstance(value, Iterable) and not isinstance(value, str | bytes):
            for inner in value:
                walk(inner)

    for event in history.events:
        if event.HasField("upsert_workflow_search_attributes_event_attributes"):
            continue  # indexed by the server, never encoded: only the patch ids of workflow.patched
        marker = event.marker_recorded_event_attributes
        if (
            event.HasField("marker_recorded_event_attributes")
            and marker.marker_name == "core_patch"
        ):
            continue  # the SDK's own patch marker: a patch id, written by the SDK core unencoded
        if event.HasField("marker_recorded_event_attributes") and marker.marker_name == (
            "core_local_activity"
        ):
            # The core's bookkeeping of a local activity (seq, attempt, activity id, times) is
            # written unencoded; its result goes through the codec like any other payload.
            for name, details in marker.details.items():
                if name != "data":
                    walk(details)
            continue
        walk(event)
    return found


async def test_a_registrations_history_is_under_its_own_key_and_dies_with_it(
    dev_server: WorkflowEnvironment, worker: str, settings: Settings, sink: SmtpSink
) -> None:
    request_id = await submit_with_childreg(settings, worker)
    workflow_id = f"registration-{request_id}"
    await _until_awaiting_review(dev_server.client, workflow_id)
    raw = await Client.connect(address(dev_server), data_converter=pydantic_data_converter)
    history = await raw.get_workflow_handle(workflow_id).fetch_history()
    keys = DataKeys(str(settings.database_url), TEST_KEY)
    key_id = keys.key_for(registration_id_for(request_id)).key_id.encode()
    payloads = payloads_of(history)

    assert payloads
    unkeyed = [p for p in payloads if p.metadata.get("encryption-key-id") != key_id]
    assert not unkeyed, [dict(p.metadata) for p in unkeyed]
    assert not any(builders.CHILD.encode() in p.data for p in payloads)
    codec = AesGcmCodec(TEST_KEY, keys)
    assert await codec.decode(payloads)

    keys.erase(registration_id_for(request_id))
    after = AesGcmCodec(TEST_KEY, DataKeys(str(settings.database_url), TEST_KEY))
    refused = 0
    for payload in payloads:
        try:
            await after.decode([payload])
        except ValueError:
            refused += 1
    keys.close()

    assert refused == len(payloads)
