"""Email: composing the guardian's message and sending it through an SMTP server.

One :class:`SmtpMailer` per worker keeps one SMTP connection and reuses it across sends; when
the server dropped it (idle timeout, restart) the next send reconnects.
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from typing import Protocol

import aiosmtplib
import structlog

from activities.notifications.errors import DeliveryError

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "application"
    subtype: str = "pdf"


def compose(
    *,
    sender: str,
    to_name: str,
    to_address: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    date: datetime,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """multipart/mixed( multipart/alternative(text, html), attachments... ) in UTF-8.

    The policy encodes the Vietnamese subject and display names as RFC 2047 encoded-words.
    """
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = Address(display_name=to_name, addr_spec=to_address)
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(date)
    message["Message-ID"] = message_id
    message["Content-Language"] = "vi"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    for attachment in attachments:
        message.add_attachment(
            attachment.content,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=attachment.filename,
        )
    return message


class Mailer(Protocol):
    """Sends one composed message. Raises :class:`DeliveryError` (permanent or transient)."""

    @property
    def sender(self) -> str:
        """The ``From`` of every message, e.g. ``VssID - BHXH Việt Nam <no-reply@vssid.example.vn>``."""
        ...

    async def send(self, message: EmailMessage) -> None: ...

    async def close(self) -> None:
        """Let go of any connection kept between sends (the worker's shutdown)."""
        ...


class SmtpMailer:
    """An SMTP client that keeps its connection between sends.

    ``security``: ``none``, ``starttls`` (upgrade after connecting, usually port 587) or ``tls``
    (implicit TLS, usually port 465). Login happens when a username is given.

    What counts as permanent: the recipient refused with a 5xx (550 no such user, 553 bad
    address) or the message refused with a 5xx at DATA (552 too large, 554 rejected), except the
    session errors 500-504 (``SESSION_ERRORS``: syntax or sequence, after which the connection is
    dropped). Everything else is transient and retried: 4xx, network errors, timeouts, and
    refusals that mean our own configuration is wrong (login, our sender address, TLS), because
    dropping every guardian's message while an operator fixes a setting would be worse than
    delivering it late.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        security: str = "none",
        username: str | None = None,
        password: str | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        if security not in ("none", "starttls", "tls"):
            raise ValueError("smtp.security: must be none, starttls or tls")
        self._host = host
        self._port = port
        self._sender = sender
        self._security = security
        self._username = username
        self._password = password
        self._timeout = timeout_seconds
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()
        self.connections_opened = 0
        """How many times a connection was opened (reuse shows as 1 for many sends)."""

    @property
    def sender(self) -> str:
        return self._sender

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        return self._port

    async def send(self, message: EmailMessage) -> None:
        async with self._lock:
            try:
                await self._send_reconnecting(message)
            except aiosmtplib.SMTPException as error:
                if _session_error(error):
                    await self._drop()
                else:
                    await self._drop_if_broken()
                raise classify_smtp_error(error) from None
            except OSError as error:
                await self._drop()
                raise DeliveryError(type(error).__name__, permanent=False) from None
            except asyncio.CancelledError:
                # Cancelled mid-transaction (the activity's heartbeat timeout, the worker's
                # shutdown): the connection may be left after MAIL or RCPT, where the next
                # message's commands would be answered out of sequence. Start afresh.
                await self._drop()
                raise

    async def close(self) -> None:
        async with self._lock:
            if self._client is not None and self._client.is_connected:
                try:
                    await self._client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    self._client.close()
            self._client = None

    async def _send_reconnecting(self, message: EmailMessage) -> None:
        reused = self._client is not None and self._client.is_connected
        client = await self._connected()
        try:
            await client.send_message(message)
        except aiosmtplib.SMTPServerDisconnected:
            if not reused:
                raise
            # The server closed the idle connection; the message did not get through.
            log.info("smtp.reconnecting")
            await self._drop()
            client = await self._connected()
            await client.send_message(message)

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        client = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            use_tls=self._security == "tls",
            start_tls=self._security == "starttls",
            timeout=self._timeout,
        )
        await client.connect()
        self.connections_opened += 1
        if self._username:
            try:
                await client.login(self._username, self._password or "")
            except BaseException:
                client.close()
                raise
        self._client = client
        return client

    async def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    async def _drop_if_broken(self) -> None:
        if self._client is not None and not self._client.is_connected:
            self._client = None


SESSION_ERRORS = range(500, 505)
"""SMTP 500-504: a command's syntax or sequence was wrong (RFC 5321 4.2.3), e.g. ``503 bad sequence
of commands`` on a connection left mid-transaction. They say nothing of the recipient or the
message: transient, and the connection is dropped so that the retry starts a fresh session."""


def classify_smtp_error(error: aiosmtplib.SMTPException) -> DeliveryError:
    """Permanent or transient (see :class:`SmtpMailer`), named by class and code only."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refusal.code for refusal in error.recipients]
        worst = min(codes) if codes else 0
        return DeliveryError(f"smtp {worst}", permanent=_refusal(worst) if codes else False)
    if isinstance(error, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        return DeliveryError(f"smtp {error.code}", permanent=_refusal(error.code))
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return DeliveryError(f"smtp {error.code}", permanent=False)
    return DeliveryError(type(error).__name__, permanent=False)


def _refusal(code: int) -> bool:
    """A 5xx that refuses the recipient or the message (not a session error)."""
    return code >= 500 and code not in SESSION_ERRORS


def _session_error(error: aiosmtplib.SMTPException) -> bool:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return any(refusal.code in SESSION_ERRORS for refusal in error.recipients)
    return isinstance(error, aiosmtplib.SMTPResponseException) and error.code in SESSION_ERRORS
