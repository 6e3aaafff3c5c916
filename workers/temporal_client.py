"""Connecting to Temporal: the pydantic data converter, and AES-GCM payload encryption.

Every client and worker of childreg goes through :func:`connect`, so they all speak the same
encoding. With a cipher key, payloads are encrypted before they leave the process: the Temporal
server (its history, its UI, the ``temporal`` CLI) holds only ciphertext, and a client with the
key (``childreg``) decodes what it reads.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import dataclasses
import functools
import hashlib
from collections.abc import Sequence
from uuid import UUID

from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
)
from temporalio.runtime import Runtime

from activities.aes_gcm import CACHED_CIPHERS, seal, unseal
from activities.keys import DataKeys
from domain.registration import registration_id_for
from domain.values import WORKFLOW_ID_PREFIX
from workflows.registration import NOT_ENCRYPTED_METADATA

DEFAULT_ADDRESS = "localhost:7233"
ENCODING = b"binary/encrypted"
CIPHER = b"AES-256-GCM"


class AesGcmCodec(PayloadCodec, WithSerializationContext):
    """Encrypts each payload whole (metadata and data) with AES-GCM, so Temporal never stores a
    child's data in plain text.

    With the key table (``data_keys``), a registration's payloads are encrypted under a key
    derived from its data key: the codec learns the workflow id from temporalio's serialization
    context (:meth:`with_context`) and writes the data key's id into ``encryption-key-id``, so
    erasing the data key makes the registration's history unreadable too. Payloads of no
    registration (and everything encoded before this change) are under a key derived from the
    cipher key; decoding finds the key by the id in the metadata.
    """

    def __init__(
        self,
        cipher_key: str,
        data_keys: DataKeys | None = None,
        *,
        require_encrypted_input: bool = False,
    ) -> None:
        raw = base64.b64decode(cipher_key)
        # A key of its own for Temporal: the same secret never encrypts two kinds of data.
        self._key = _temporal_key(raw)
        self.key_id = hashlib.sha256(self._key).hexdigest()[:16].encode()
        self._data_keys = data_keys
        self._registration_id: UUID | None = None
        self._require_encrypted_input = require_encrypted_input

    def with_context(self, context: SerializationContext) -> AesGcmCodec:
        workflow_id = getattr(context, "workflow_id", None)
        registration_id = (
            registration_id_for(workflow_id.removeprefix(WORKFLOW_ID_PREFIX))
            if isinstance(workflow_id, str) and workflow_id.startswith(WORKFLOW_ID_PREFIX)
            else None
        )
        if self._data_keys is None or registration_id == self._registration_id:
            return self
        bound = copy.copy(self)
        bound._registration_id = registration_id
        return bound

    async def _encoding_key(self) -> tuple[bytes, bytes]:
        if self._data_keys is None or self._registration_id is None:
            return self._key, self.key_id
        # From memory when this process has the key (most calls): a thread only for a look-up.
        data_key = self._data_keys.cached(self._registration_id)
        if data_key is None:
            data_key = await asyncio.to_thread(self._data_keys.key_for, self._registration_id)
        if data_key.key is None:  # erased: nothing of the registration's is encoded any more
            return self._key, self.key_id
        return _temporal_key(data_key.key), data_key.key_id.encode()

    async def _decoding_key(self, key_id: bytes) -> bytes:
        if key_id == self.key_id:
            return self._key
        if self._data_keys is None:
            data_key = None
        else:
            name = key_id.decode(errors="replace")
            data_key = self._data_keys.cached_by_key_id(name)
            if data_key is None:
                data_key = await asyncio.to_thread(self._data_keys.by_key_id, name)
        if data_key is None:
            raise ValueError("payload encrypted under another key")
        if data_key.key is None:
            raise ValueError("payload of an erased registration: its key was deleted")
        return _temporal_key(data_key.key)

    async def knows_key(self, key_id: str) -> bool:
        """Whether a payload under ``key_id`` is this codec's (the codec server asks)."""
        if key_id.encode() == self.key_id:
            return True
        if self._data_keys is None:
            return False
        return await asyncio.to_thread(self._data_keys.by_key_id, key_id) is not None

    async def is_erased(self, key_id: str) -> bool:
        """Whether ``key_id`` is a registration's data key that was erased (the codec server then
        hands the payload back as it is: ciphertext nobody can read any more)."""
        if self._data_keys is None or key_id.encode() == self.key_id:
            return False
        found = await asyncio.to_thread(self._data_keys.by_key_id, key_id)
        return found is not None and found.erased

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        key, key_id = await self._encoding_key()
        return [
            Payload(
                metadata={
                    "encoding": ENCODING,
                    "encryption-cipher": CIPHER,
                    "encryption-key-id": key_id,
                },
                data=seal(key, payload.SerializeToString()),
            )
            for payload in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                # Plain JSON (an upstream without the codec): accepted as is, or flagged when
                # encrypted input is required (the workflow then refuses its input unread;
                # signals and updates are read as today).
                decoded.append(self._flagged(payload) if self._require_encrypted_input else payload)
                continue
            key = await self._decoding_key(payload.metadata.get("encryption-key-id", b""))
            decoded.append(Payload.FromString(unseal(key, payload.data)))
        return decoded

    @staticmethod
    def _flagged(payload: Payload) -> Payload:
        flagged = Payload()
        flagged.CopyFrom(payload)
        flagged.metadata[NOT_ENCRYPTED_METADATA] = b"true"
        return flagged


@functools.lru_cache(maxsize=CACHED_CIPHERS)
def _temporal_key(raw: bytes) -> bytes:
    return hashlib.sha256(b"childreg temporal payloads\x00" + raw).digest()


def data_converter(
    cipher_key: str | None,
    data_keys: DataKeys | None = None,
    *,
    require_encrypted_input: bool = False,
) -> DataConverter:
    """The pydantic data converter, encrypting when a key is given (each registration's payloads
    under its data key when ``data_keys`` is given; plain-JSON payloads flagged for the workflow
    when ``require_encrypted_input``)."""
    if not cipher_key:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=AesGcmCodec(
            cipher_key, data_keys, require_encrypted_input=require_encrypted_input
        ),
    )


async def connect(
    address: str | None,
    namespace: str,
    cipher_key: str | None,
    runtime: Runtime | None = None,
    data_keys: DataKeys | None = None,
    *,
    require_encrypted_input: bool = False,
) -> Client:
    return await Client.connect(
        address or DEFAULT_ADDRESS,
        namespace=namespace,
        data_converter=data_converter(
            cipher_key, data_keys, require_encrypted_input=require_encrypted_input
        ),
        runtime=runtime,
    )
