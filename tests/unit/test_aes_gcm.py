"""AES-GCM sealing: the stored layout nonce ‖ ciphertext ‖ tag, bound to its associated data."""

from __future__ import annotations

import pytest

from activities.aes_gcm import NONCE_BYTES, TAG_BYTES, seal, unseal

KEY = b"k" * 32
STORED_BEFORE = bytes.fromhex(
    "84e449da0aa101d3f202525ff1b3957146f808905cf56697520ccc9731265c395e584049a3"
)
"""``b"hello doc"`` kept by the document store before the sealing had a module of its own."""
STORED_CONTEXT = b"00000000-0000-0000-0000-000000000005/portrait"


def test_what_was_sealed_opens_under_the_same_key_and_context() -> None:
    sealed = seal(KEY, "Nguyễn Minh Khôi".encode(), b"ctx")

    assert unseal(KEY, sealed, b"ctx").decode() == "Nguyễn Minh Khôi"


def test_the_layout_is_a_nonce_the_ciphertext_and_the_tag() -> None:
    sealed = seal(KEY, b"x" * 40)

    assert len(sealed) == NONCE_BYTES + 40 + TAG_BYTES == 12 + 40 + 16


def test_each_seal_draws_a_fresh_nonce() -> None:
    assert seal(KEY, b"same")[:NONCE_BYTES] != seal(KEY, b"same")[:NONCE_BYTES]


def test_data_stored_before_still_opens() -> None:
    assert unseal(KEY, STORED_BEFORE, STORED_CONTEXT) == b"hello doc"


@pytest.mark.parametrize(
    ("key", "context", "flip"),
    [
        pytest.param(b"o" * 32, b"ctx", None, id="another-key"),
        pytest.param(KEY, b"another/context", None, id="another-context"),
        pytest.param(KEY, b"ctx", 15, id="a-changed-byte"),
    ],
)
def test_anything_else_is_refused(key: bytes, context: bytes, flip: int | None) -> None:
    sealed = bytearray(seal(KEY, b"hello", b"ctx"))
    if flip is not None:
        sealed[flip] ^= 1

    with pytest.raises(ValueError, match="MAC check failed"):
        unseal(key, bytes(sealed), context)


def test_the_cipher_cache_builds_one_object_per_key_and_keeps_a_bounded_number() -> None:
    import os

    from activities.aes_gcm import CipherCache

    cache = CipherCache(size=2)
    first, second, third = os.urandom(32), os.urandom(32), os.urandom(32)

    assert cache.get(first) is cache.get(first)
    cache.get(second)
    cache.get(first)  # the most recently used stays
    cache.get(third)
    assert len(cache) == 2
    kept = cache.get(first)
    assert cache.get(first) is kept
    cache.discard(first)
    assert cache.get(first) is not kept


def test_what_one_cached_cipher_sealed_opens_with_a_fresh_one() -> None:
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from activities.aes_gcm import NONCE_BYTES, seal, unseal

    key = os.urandom(32)
    sealed = seal(key, b"event", b"ctx")

    assert AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], b"ctx") == b"event"
    assert unseal(key, sealed, b"ctx") == b"event"
