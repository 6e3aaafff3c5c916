"""AES-GCM sealing, in the one layout childreg stores and sends: nonce ‖ ciphertext ‖ tag.

The document store (kept files and encrypted intake copies) and the Temporal payload codec
(``workers/temporal_client.py``) both seal with these two functions, so the layout is written
once: a 12-byte random nonce, the ciphertext (as long as the plaintext), the 16-byte tag.
``associated`` is authenticated but not stored: data sealed under one context (a registration
and a document name, say) does not open under another.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
TAG_BYTES = 16


def seal(key: bytes, data: bytes, associated: bytes = b"") -> bytes:
    """``data`` encrypted and authenticated under ``key`` (16, 24 or 32 bytes)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, data, associated)  # ciphertext ‖ tag


def unseal(key: bytes, sealed: bytes, associated: bytes = b"") -> bytes:
    """The plaintext of :func:`seal`'s output; ``ValueError`` when the key, the associated data
    or any byte of ``sealed`` is not what sealed it."""
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise ValueError("sealed data too short")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
    except InvalidTag:
        raise ValueError("MAC check failed") from None
