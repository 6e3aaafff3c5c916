"""Connecting to Temporal: the pydantic data converter, and AES-GCM payload encryption.

Every client and worker of childreg goes through :func:`connect`, so they all speak the same
encoding. With a cipher key, payloads are encrypted before they leave the process: the Temporal
server (its history, its UI, the ``temporal`` CLI) holds only ciphertext, and a client with the
key (``childreg``) decodes what it reads.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec
from temporalio.runtime import Runtime

from activities.aes_gcm import seal, unseal

DEFAULT_ADDRESS = "localhost:7233"
ENCODING = b"binary/encrypted"
CIPHER = b"AES-256-GCM"


class AesGcmCodec(PayloadCodec):
    """Encrypts each payload whole (metadata and data) with AES-GCM under a key derived from
    the cipher key, so Temporal never stores a child's data in plain text."""

    def __init__(self, cipher_key: str) -> None:
        raw = base64.b64decode(cipher_key)
        # A key of its own for Temporal: the same secret never encrypts two kinds of data.
        self._key = hashlib.sha256(b"childreg temporal payloads\x00" + raw).digest()
        self.key_id = hashlib.sha256(self._key).hexdigest()[:16].encode()

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [
            Payload(
                metadata={
                    "encoding": ENCODING,
                    "encryption-cipher": CIPHER,
                    "encryption-key-id": self.key_id,
                },
                data=seal(self._key, payload.SerializeToString()),
            )
            for payload in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                decoded.append(
                    payload
                )  # plain JSON (an upstream without the codec): accepted as is
                continue
            if payload.metadata.get("encryption-key-id") != self.key_id:
                raise ValueError("payload encrypted under another key")
            decoded.append(Payload.FromString(unseal(self._key, payload.data)))
        return decoded


def data_converter(cipher_key: str | None) -> DataConverter:
    """The pydantic data converter, encrypting when a key is given."""
    if not cipher_key:
        return pydantic_data_converter
    return dataclasses.replace(pydantic_data_converter, payload_codec=AesGcmCodec(cipher_key))


async def connect(
    address: str | None, namespace: str, cipher_key: str | None, runtime: Runtime | None = None
) -> Client:
    return await Client.connect(
        address or DEFAULT_ADDRESS,
        namespace=namespace,
        data_converter=data_converter(cipher_key),
        runtime=runtime,
    )
