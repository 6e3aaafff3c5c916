"""The embedded SMTP sink: an aiosmtpd server on loopback that keeps each message as a file.

The development stack starts it (``childreg dev``) and tests use it as a fixture; it stands in
for Mailpit or a real relay. Each message is stored as ``<dir>/<UTC timestamp>-<message id>.eml``
exactly as received. A message whose Message-ID was stored before (in this directory, also
before a restart) is accepted and dropped, which makes re-sends after a crash harmless.
Recipients in ``refused`` are answered ``550 5.1.1``, for trying the permanent-failure path.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import default
from pathlib import Path
from types import TracebackType
from typing import Any

import structlog
from aiosmtpd.controller import Controller

from activities.files import write_atomically

log = structlog.get_logger(__name__)

LOOPBACK = "127.0.0.1"
_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")
_MAX_NAME = 150


def message_file_name(received_at: datetime, message_id: str) -> str:
    stamp = received_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = _UNSAFE.sub("_", message_id.strip().strip("<>"))[:_MAX_NAME] or "no-message-id"
    return f"{stamp}-{name}.eml"


def _message_id(content: bytes) -> str | None:
    headers = BytesHeaderParser(policy=default).parsebytes(content)
    value = headers.get("Message-ID")
    return str(value).strip() if value else None


@dataclass(frozen=True, slots=True)
class Received:
    """One stored message and the connection it came over (to see connection reuse)."""

    path: Path
    message_id: str | None
    peer: tuple[str, int]


class _Handler:
    """aiosmtpd's hooks; they run on the sink's own thread and event loop."""

    def __init__(self, directory: Path, refused: frozenset[str]) -> None:
        self.directory = directory
        self.refused = refused
        self.received: list[Received] = []
        self.duplicates = 0
        self._lock = threading.Lock()
        self._seen = self._stored_ids()

    def _stored_ids(self) -> set[str]:
        seen = set()
        for path in self.directory.glob("*.eml"):
            with path.open("rb") as file:
                message_id = _message_id(file.read(64 * 1024))
            if message_id:
                seen.add(message_id)
        return seen

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.refused:
            return "550 5.1.1 Recipient address rejected: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        message_id = _message_id(content)
        with self._lock:
            if message_id is not None and message_id in self._seen:
                self.duplicates += 1
                log.info("smtp_sink.duplicate_dropped")
                return "250 OK (duplicate Message-ID, already stored)"
            path = self._store(content, message_id)
            if message_id is not None:
                self._seen.add(message_id)
            self.received.append(Received(path, message_id, tuple(session.peer[:2])))
        log.info("smtp_sink.stored", file=path.name)
        return "250 OK"

    def _store(self, content: bytes, message_id: str | None) -> Path:
        path = self.directory / message_file_name(datetime.now(UTC), message_id or "")
        write_atomically(path, content)
        return path


class _Controller(Controller):
    """aiosmtpd's threaded controller, able to bind port 0 and report the port it got."""

    def _trigger_server(self) -> None:
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class SmtpSink:
    """A running sink: ``port``, ``directory``, ``messages()``, ``stop()``; also a context manager."""

    def __init__(self, controller: _Controller, handler: _Handler) -> None:
        self._controller = controller
        self._handler = handler

    @property
    def host(self) -> str:
        return str(self._controller.hostname)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def directory(self) -> Path:
        return self._handler.directory

    @property
    def received(self) -> list[Received]:
        """What this sink stored since it started, in order."""
        with self._handler._lock:
            return list(self._handler.received)

    @property
    def duplicates(self) -> int:
        return self._handler.duplicates

    def messages(self) -> list[Path]:
        """Every ``.eml`` in the directory (also those stored before this sink started)."""
        return sorted(self.directory.glob("*.eml"))

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_sink(
    directory: Path, port: int = 0, *, refused: Iterable[str] = (), host: str = LOOPBACK
) -> SmtpSink:
    """Start a sink storing into ``directory`` (created when missing); ``port`` 0 picks a free one."""
    directory.mkdir(parents=True, exist_ok=True)
    handler = _Handler(directory, frozenset(address.lower() for address in refused))
    controller = _Controller(handler, hostname=host, port=port)
    controller.start()
    log.info("smtp_sink.started", host=host, port=controller.port)
    return SmtpSink(controller, handler)
