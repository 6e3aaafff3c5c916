"""Building the notification activities from the settings (called by the worker's composition root).

The settings are described structurally (Protocols below) rather than imported from
``workers.settings``: activities sit below workers in the layers and must not import them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from activities.notifications.activities import NotificationActivities
from activities.notifications.gateways import HttpSmsGateway, OutboxSmsGateway, SmsGateway
from activities.notifications.journal import NotificationJournal
from activities.notifications.links import DeclarationLinks, LinkSigner
from activities.notifications.mail import SmtpMailer
from activities.notifications.render import Renderer

EMBEDDED_SMTP_HOST = "127.0.0.1"


class SmtpConfig(Protocol):
    @property
    def host(self) -> str | None: ...
    @property
    def port(self) -> int: ...
    @property
    def security(self) -> str: ...
    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> SecretStr | None: ...
    @property
    def timeout_seconds(self) -> float: ...
    @property
    def sender(self) -> str: ...


class SmsConfig(Protocol):
    @property
    def gateway(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def token(self) -> SecretStr | None: ...
    @property
    def timeout_seconds(self) -> float: ...


class NotificationConfig(Protocol):
    """What :func:`build_notifications` reads of ``workers.settings.Settings``."""

    @property
    def data_dir(self) -> Path: ...
    @property
    def smtp(self) -> SmtpConfig: ...
    @property
    def sms(self) -> SmsConfig: ...
    @property
    def public_base_url(self) -> str: ...
    @property
    def link_valid_days(self) -> int: ...


def build_mailer(smtp: SmtpConfig, *, embedded_smtp_port: int | None = None) -> SmtpMailer:
    """The SMTP relay of the settings; with no host, the embedded sink on loopback.

    The embedded sink is started by the development stack, which passes the port it got.
    """
    if smtp.host is None:
        return SmtpMailer(
            host=EMBEDDED_SMTP_HOST,
            port=embedded_smtp_port or smtp.port,
            sender=smtp.sender,
            timeout_seconds=smtp.timeout_seconds,
        )
    return SmtpMailer(
        host=smtp.host,
        port=smtp.port,
        sender=smtp.sender,
        security=str(smtp.security),
        username=smtp.username,
        password=smtp.password.get_secret_value() if smtp.password else None,
        timeout_seconds=smtp.timeout_seconds,
    )


def build_sms_gateway(sms: SmsConfig, data_dir: Path) -> SmsGateway:
    if str(sms.gateway) == "http":
        if not sms.url or sms.token is None:
            raise ValueError(
                "CHILDREG_SMS__URL and CHILDREG_SMS__TOKEN: required with the http gateway"
            )
        return HttpSmsGateway(
            sms.url, sms.token.get_secret_value(), timeout_seconds=sms.timeout_seconds
        )
    return OutboxSmsGateway(data_dir / "sms")


def build_notifications(
    settings: NotificationConfig,
    link_secret: str,
    journal: NotificationJournal,
    *,
    embedded_smtp_port: int | None = None,
) -> NotificationActivities:
    """The activities with their adapters. Connects to nothing: the mailer connects on first send."""
    links = DeclarationLinks(
        LinkSigner(link_secret), settings.public_base_url, settings.link_valid_days
    )
    return NotificationActivities(
        journal=journal,
        mailer=build_mailer(settings.smtp, embedded_smtp_port=embedded_smtp_port),
        sms_gateway=build_sms_gateway(settings.sms, settings.data_dir),
        renderer=Renderer(),
        links=links,
    )
