"""The suite's own SMTP relay and SMS gateway on loopback: they keep every delivery (nothing is
deduplicated, unlike the dev stack's file sink) and can be down, or answer 421 / 500."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from enum import StrEnum
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


class Mode(StrEnum):
    UP = "up"
    DOWN = "down"
    """Nothing listens: connections are refused (and open ones are cut)."""
    REFUSING = "refusing"
    """Up, but every message is answered with a transient error (SMTP 421, HTTP 500)."""


@dataclass
class Delivery:
    message_id: str
    at: float


@dataclass
class Counted:
    deliveries: list[Delivery] = field(default_factory=list)
    refused: int = 0
    """Attempts answered with 421 / 500."""

    def ids(self) -> list[str]:
        return [delivery.message_id for delivery in self.deliveries]

    def first_after(self, moment: float) -> float | None:
        later = [delivery.at for delivery in self.deliveries if delivery.at >= moment]
        return min(later) if later else None


class _Handler:
    def __init__(self, relay: SmtpRelay) -> None:
        self._relay = relay

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._relay.mode is Mode.REFUSING:
            self._relay.counted.refused += 1
            return "421 4.3.2 Service not available, try again later"
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        headers = BytesHeaderParser().parsebytes(raw)
        message_id = str(headers.get("Message-ID", "")).strip().strip("<>")
        self._relay.counted.deliveries.append(Delivery(message_id, time.monotonic()))
        return "250 2.0.0 OK: queued"


class SmtpRelay:
    """aiosmtpd on the caller's event loop, on a fixed loopback port (so it can go away and come
    back on the same address)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.mode = Mode.DOWN
        self.counted = Counted()
        self._server: asyncio.Server | None = None
        self._sessions: list[SMTP] = []

    def _protocol(self) -> SMTP:
        protocol = SMTP(_Handler(self), hostname="relay.faults.test")
        self._sessions.append(protocol)
        return protocol

    async def set(self, mode: Mode) -> None:
        if mode is not Mode.DOWN and self._server is None:
            loop = asyncio.get_running_loop()
            self._server = await loop.create_server(
                self._protocol, "127.0.0.1", self.port, reuse_address=True
            )
        if mode is Mode.DOWN and self._server is not None:
            self._server.close()
            for session in self._sessions:
                if isinstance(session.transport, asyncio.Transport):
                    session.transport.abort()
            self._sessions.clear()
            await self._server.wait_closed()
            self._server = None
        self.mode = mode


class SmsGateway:
    """A minimal HTTP/1.1 server: ``POST`` with a JSON body holding ``message_id``; 200 when up,
    500 when refusing, connection refused when down."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.mode = Mode.DOWN
        self.counted = Counted()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/messages"

    async def set(self, mode: Mode) -> None:
        if mode is not Mode.DOWN and self._server is None:
            self._server = await asyncio.start_server(
                self._serve, "127.0.0.1", self.port, reuse_address=True
            )
        if mode is Mode.DOWN and self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.mode = mode

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            length = 0
            for line in head.decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await asyncio.wait_for(reader.readexactly(length), 30)
            if self.mode is Mode.REFUSING:
                self.counted.refused += 1
                await _answer(writer, 500, {"error": "gateway unavailable"})
                return
            message: dict[str, Any] = json.loads(body)
            self.counted.deliveries.append(Delivery(str(message["message_id"]), time.monotonic()))
            await _answer(writer, 200, {"accepted": True})
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError, ValueError, KeyError):
            return
        finally:
            writer.close()


async def _answer(writer: asyncio.StreamWriter, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    reason = {200: "OK", 500: "Internal Server Error"}[status]
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
        + data
    )
    await writer.drain()
