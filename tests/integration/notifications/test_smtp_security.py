"""The mailer against a real SMTP relay that requires TLS and a login: STARTTLS on a plain port
and implicit TLS, with a certificate the machine trusts (made by trustme for the test). A wrong
password is a transient failure (a setting to fix, not a guardian's bad address)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from activities.notifications.errors import DeliveryError
from activities.notifications.mail import SmtpMailer

LOGIN, PASSWORD = "childreg", "mật-khẩu-relay"
SENDER = "VssID - BHXH Việt Nam <no-reply@vssid.example.vn>"


@dataclass
class Inbox:
    received: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.received.append(content)
        return "250 OK"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        LOGIN.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


@pytest.fixture
def certificate_authority(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    """A CA the test's TLS clients trust (through OpenSSL's SSL_CERT_FILE), none other does."""
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    return ca


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    return context


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def starttls_relay(certificate_authority: trustme.CA) -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context(certificate_authority),
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def implicit_tls_relay(certificate_authority: trustme.CA) -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        ssl_context=server_context(certificate_authority),
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,  # aiosmtpd counts only STARTTLS as TLS; this socket is TLS throughout
    )
    controller.start()
    yield inbox, port
    controller.stop()


def message() -> EmailMessage:
    composed = EmailMessage()
    composed["From"] = SENDER
    composed["To"] = "an.nguyen@example.vn"
    composed["Subject"] = "Đã tiếp nhận tờ khai đăng ký tài khoản cho con"
    composed["Message-ID"] = "<childreg.test.received.email@vssid.example.vn>"
    composed.set_content("Kính gửi phụ huynh.")
    return composed


async def send(port: int, security: str, password: str = PASSWORD) -> None:
    mailer = SmtpMailer(
        host="localhost",
        port=port,
        sender=SENDER,
        security=security,
        username=LOGIN,
        password=password,
        timeout_seconds=5,
    )
    try:
        await mailer.send(message())
    finally:
        await mailer.close()


async def test_starttls_and_a_login_deliver(starttls_relay: tuple[Inbox, int]) -> None:
    inbox, port = starttls_relay

    await send(port, "starttls")

    assert len(inbox.received) == 1
    assert b"Message-ID: <childreg.test.received.email@vssid.example.vn>" in inbox.received[0]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_implicit_tls_and_a_login_deliver(implicit_tls_relay: tuple[Inbox, int]) -> None:
    inbox, port = implicit_tls_relay

    await send(port, "tls")

    assert len(inbox.received) == 1


async def test_a_wrong_password_is_transient_and_delivers_nothing(
    starttls_relay: tuple[Inbox, int],
) -> None:
    inbox, port = starttls_relay

    with pytest.raises(DeliveryError) as failed:
        await send(port, "starttls", password="sai mật khẩu")

    assert not failed.value.permanent
    assert inbox.received == []


async def test_without_tls_the_relay_refuses_the_login_and_nothing_is_sent(
    starttls_relay: tuple[Inbox, int],
) -> None:
    inbox, port = starttls_relay

    with pytest.raises(DeliveryError):
        await send(port, "none")

    assert inbox.received == []
