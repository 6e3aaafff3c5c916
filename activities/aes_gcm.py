"""AES-GCM sealing, in the one layout childreg stores and sends: nonce ‖ ciphertext ‖ tag.

The document store (kept files and encrypted intake copies) and the Temporal payload codec
(``workers/temporal_client.py``) both seal with these two functions, so the layout is written
once: a 12-byte random nonce, the ciphertext (as long as the plaintext), the 16-byte tag.
``associated`` is authenticated but not stored: data sealed under one context (a registration
and a document name, say) does not open under another.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
TAG_BYTES = 16

CACHED_CIPHERS = 4096
"""How many keys' AESGCM objects a process keeps (the least recently used go first)."""


class CipherCache:
    """AESGCM objects by key, built once per key: a bounded LRU, safe across threads.

    :meth:`discard` drops a key's object (an erased data key leaves nothing behind)."""

    def __init__(self, size: int = CACHED_CIPHERS) -> None:
        self._size = size
        self._ciphers: OrderedDict[bytes, AESGCM] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> AESGCM:
        with self._lock:
            cipher = self._ciphers.get(key)
            if cipher is not None:
                self._ciphers.move_to_end(key)
                return cipher
        cipher = AESGCM(key)  # outside the lock; a racing builder's copy is as good
        with self._lock:
            self._ciphers[key] = cipher
            if len(self._ciphers) > self._size:
                self._ciphers.popitem(last=False)
        return cipher

    def discard(self, key: bytes) -> None:
        with self._lock:
            self._ciphers.pop(key, None)

    def __len__(self) -> int:
        return len(self._ciphers)


CIPHERS = CipherCache()
"""The process's AESGCM objects: every seal and open below, and the event store's cipher."""


def seal(key: bytes, data: bytes, associated: bytes = b"") -> bytes:
    """``data`` encrypted and authenticated under ``key`` (16, 24 or 32 bytes)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + CIPHERS.get(key).encrypt(nonce, data, associated)  # ciphertext ‖ tag


def unseal(key: bytes, sealed: bytes, associated: bytes = b"") -> bytes:
    """The plaintext of :func:`seal`'s output; ``ValueError`` when the key, the associated data
    or any byte of ``sealed`` is not what sealed it."""
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise ValueError("sealed data too short")
    try:
        return CIPHERS.get(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
    except InvalidTag:
        raise ValueError("MAC check failed") from None
