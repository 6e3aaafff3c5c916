"""The worker's codec flags a plain-JSON payload only when encrypted input is required."""

from __future__ import annotations

import asyncio

from temporalio.api.common.v1 import Payload

from tests.workflow.conftest import TEST_KEY
from workers.temporal_client import AesGcmCodec
from workflows.registration import NOT_ENCRYPTED_METADATA


def plain() -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=b'{"request_id": "vssid-1"}')


def test_a_plain_payload_is_flagged_only_when_encrypted_input_is_required() -> None:
    required = AesGcmCodec(TEST_KEY, require_encrypted_input=True)
    [flagged] = asyncio.run(required.decode([plain()]))
    [as_sent] = asyncio.run(AesGcmCodec(TEST_KEY).decode([plain()]))

    assert flagged.metadata[NOT_ENCRYPTED_METADATA] == b"true"
    assert flagged.data == plain().data  # signals and updates are read as today
    assert NOT_ENCRYPTED_METADATA not in as_sent.metadata


def test_an_encrypted_payload_is_never_flagged() -> None:
    codec = AesGcmCodec(TEST_KEY, require_encrypted_input=True)
    encrypted = asyncio.run(codec.encode([plain()]))

    [decoded] = asyncio.run(codec.decode(encrypted))

    assert decoded == plain()
