"""Signed, expiring links that let a guardian download a registration's document.

A token names the registration and the document and carries its expiry, signed with
HMAC-SHA-256 under the link secret and a purpose (so a token minted for one use is refused by
another). It is short enough for an SMS and holds no personal data::

    base64url( version:1 | registration id:16 | expires, Unix seconds:4 | document:utf-8 | mac:16 )

The endpoint that serves the document (a later issue) calls :func:`verify_token`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

DECLARATION = "declaration"
"""The document of every guardian link today: the declaration (tờ khai, Mẫu số 01)."""

DEFAULT_PURPOSE = "guardian-document-link"

_VERSION = 1
_HEAD = struct.Struct(">B16sI")
_MAC_SIZE = 16
_MAX_DOCUMENT = 40


class TokenProblem(StrEnum):
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    """Tampered with, or signed under another secret or for another purpose."""
    EXPIRED = "expired"


class LinkTokenError(Exception):
    """A token that must not be honoured; ``problem`` says why. The message holds no token."""

    def __init__(self, problem: TokenProblem) -> None:
        super().__init__(f"link token refused: {problem}")
        self.problem = problem


@dataclass(frozen=True, slots=True)
class LinkClaims:
    registration_id: UUID
    document: str
    expires_at: datetime


class LinkSigner:
    """Signs and verifies tokens under one secret and one purpose."""

    def __init__(self, secret: str | bytes, *, purpose: str = DEFAULT_PURPOSE) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < 16:
            raise ValueError("link secret: must be at least 16 bytes")
        self._key = key
        self._purpose = purpose.encode()

    def sign(self, registration_id: UUID, document: str, expires_at: datetime) -> str:
        name = document.encode()
        if not 0 < len(name) <= _MAX_DOCUMENT:
            raise ValueError(f"document: must be 1 to {_MAX_DOCUMENT} bytes")
        payload = _HEAD.pack(_VERSION, registration_id.bytes, int(expires_at.timestamp())) + name
        return base64.urlsafe_b64encode(payload + self._mac(payload)).rstrip(b"=").decode()

    def verify(self, token: str, *, now: datetime) -> LinkClaims:
        """The token's claims, or :class:`LinkTokenError` (malformed, bad signature, expired)."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise LinkTokenError(TokenProblem.MALFORMED) from None
        if len(raw) <= _HEAD.size + _MAC_SIZE:
            raise LinkTokenError(TokenProblem.MALFORMED)
        payload, mac = raw[:-_MAC_SIZE], raw[-_MAC_SIZE:]
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise LinkTokenError(TokenProblem.BAD_SIGNATURE)
        version, registration, expires = _HEAD.unpack_from(payload)
        if version != _VERSION:
            raise LinkTokenError(TokenProblem.MALFORMED)
        try:
            document = payload[_HEAD.size :].decode()
        except UnicodeDecodeError:
            raise LinkTokenError(TokenProblem.MALFORMED) from None
        expires_at = datetime.fromtimestamp(expires, UTC)
        if now >= expires_at:
            raise LinkTokenError(TokenProblem.EXPIRED)
        return LinkClaims(UUID(bytes=registration), document, expires_at)

    def _mac(self, payload: bytes) -> bytes:
        # The purpose is part of what is signed: the same secret may sign other kinds of token.
        message = b"childreg/" + self._purpose + b"\x00" + payload
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_MAC_SIZE]


def verify_token(
    token: str, *, secret: str | bytes, now: datetime, purpose: str = DEFAULT_PURPOSE
) -> LinkClaims:
    """Verify a guardian's link token; raises :class:`LinkTokenError` when it must be refused."""
    return LinkSigner(secret, purpose=purpose).verify(token, now=now)


class DeclarationLinks:
    """The guardian's link to the declaration: ``<public base URL>/declarations/<token>``."""

    def __init__(self, signer: LinkSigner, public_base_url: str, valid_days: int = 30) -> None:
        self._signer = signer
        self._base = public_base_url.rstrip("/")
        self._valid = timedelta(days=valid_days)

    def expires_at(self, issued_at: datetime) -> datetime:
        return issued_at + self._valid

    def url(self, registration_id: UUID, issued_at: datetime) -> str:
        """Deterministic for the same ``issued_at``: a retried notification carries the same link."""
        token = self._signer.sign(registration_id, DECLARATION, self.expires_at(issued_at))
        return f"{self._base}/declarations/{token}"
