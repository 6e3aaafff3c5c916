"""Real servers on loopback for the notification adapters: the SMTP sink and a scripted SMS gateway."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from activities.notifications.mail import SmtpMailer
from tests.builders.notifications import SENDER
from workers.run.smtp_sink import SmtpSink, start_sink


@pytest.fixture
def free_port() -> int:
    """A port nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def sink(mail_dir: Path) -> Iterator[SmtpSink]:
    with start_sink(mail_dir, 0, refused={"refuse.me@example.vn"}) as running:
        yield running


@pytest.fixture
async def mailer(sink: SmtpSink) -> AsyncIterator[SmtpMailer]:
    client = SmtpMailer(host=sink.host, port=sink.port, sender=SENDER, timeout_seconds=5)
    yield client
    await client.close()


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class ScriptedGateway:
    """An HTTP SMS gateway that answers each POST with the next status of ``statuses`` (then 200)."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def sms_gateway_server() -> Iterator[ScriptedGateway]:
    script = ScriptedGateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            with script.lock:
                script.requests.append(RecordedRequest(self.path, dict(self.headers), body))
                status = script.statuses.pop(0) if script.statuses else 200
            payload = json.dumps({"accepted": status < 300}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    script.url = f"http://127.0.0.1:{server.server_address[1]}/v1/messages"
    yield script
    server.shutdown()
    server.server_close()
    thread.join()
