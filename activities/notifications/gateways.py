"""SMS gateways behind one port: a file outbox (the default) and an HTTP gateway."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from activities.files import write_atomically
from activities.notifications.errors import DeliveryError
from activities.notifications.sms import segments


@dataclass(frozen=True, slots=True)
class SmsMessage:
    message_id: str
    """Deterministic per (registration, kind): the gateway's idempotency key."""
    to: str
    """E.164, e.g. ``+84912345678``."""
    text: str
    """GSM-7 text (see :mod:`activities.notifications.sms`)."""

    @property
    def concatenation_reference(self) -> int:
        """The 8-bit reference of the segments, the same on every re-send of this message."""
        return hashlib.sha256(self.message_id.encode()).digest()[0]


class SmsGateway(Protocol):
    """Hands one SMS to a carrier. Raises :class:`DeliveryError` (permanent or transient).

    Sending the same ``message_id`` twice must deliver at most once where the gateway allows
    it (the outbox does; the HTTP gateway receives the id as ``Idempotency-Key``).
    """

    async def send(self, message: SmsMessage) -> None: ...


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def _as_json(message: SmsMessage) -> dict[str, object]:
    parts = segments(message.text, message.concatenation_reference)
    return {
        "message_id": message.message_id,
        "to": message.to,
        "text": message.text,
        "segments": [
            {"udh": part.udh.hex() if part.udh else None, "text": part.text} for part in parts
        ],
    }


class OutboxSmsGateway:
    """One JSON file per message under a directory (``<data dir>/sms/``), for development.

    A file is written whole or not at all (a temporary file renamed into place), and a message
    id already in the outbox is not written again.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, message_id: str) -> Path:
        return self.directory / f"{_UNSAFE.sub('_', message_id)}.json"

    async def send(self, message: SmsMessage) -> None:
        await asyncio.to_thread(self._write, message)

    def _write(self, message: SmsMessage) -> None:
        target = self.path_for(message.message_id)
        if target.exists():
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            text = json.dumps(_as_json(message), ensure_ascii=False, indent=2)
            write_atomically(target, text.encode("utf-8"))
        except OSError as error:
            raise DeliveryError(type(error).__name__, permanent=False) from None


class HttpSmsGateway:
    """POSTs each message as JSON to the gateway's URL with a bearer token.

    Body: ``{"message_id", "to", "text", "segments": [{"udh", "text"}]}``; the message id is
    also sent as ``Idempotency-Key``. 2xx is success; 408, 429, 5xx and network errors or
    timeouts are transient; any other 4xx is permanent.
    """

    def __init__(self, url: str, token: str, *, timeout_seconds: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("sms.url: must be an http:// or https:// URL")
        self._url = url
        self._token = token
        self._timeout = timeout_seconds

    async def send(self, message: SmsMessage) -> None:
        await asyncio.to_thread(self._post, message)

    def _post(self, message: SmsMessage) -> None:
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            self._url,
            data=json.dumps(_as_json(message), ensure_ascii=False).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {self._token}",
                "Content-Type": "application/json; charset=utf-8",
                "Idempotency-Key": message.message_id,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as error:
            status = error.code
            error.close()
            transient = status >= 500 or status in (408, 429)
            raise DeliveryError(f"http {status}", permanent=not transient) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DeliveryError(type(reason).__name__, permanent=False) from None
