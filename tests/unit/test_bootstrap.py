"""The composition root builds the notifications' adapters from the settings, connecting to nothing."""

from pathlib import Path

import pytest

from activities.notifications.activities import NotificationActivities
from activities.notifications.gateways import HttpSmsGateway, OutboxSmsGateway
from tests.builders.notifications import LINK_SECRET
from tests.fakes.notifications import InMemoryNotificationJournal
from workers.bootstrap import build_mailer, build_notifications, build_sms_gateway
from workers.settings import Settings


def test_the_default_sms_gateway_is_the_outbox_under_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)

    gateway = build_sms_gateway(settings.sms, settings.data_dir)

    assert isinstance(gateway, OutboxSmsGateway)
    assert gateway.directory == tmp_path / "sms"


def test_the_http_gateway_is_chosen_by_the_settings(tmp_path: Path) -> None:
    settings = Settings.model_validate(
        {"sms": {"gateway": "http", "url": "https://sms.example.vn/send", "token": "t0k3n"}}
    )

    gateway = build_sms_gateway(settings.sms, tmp_path)

    assert isinstance(gateway, HttpSmsGateway)


def test_the_http_gateway_without_its_url_is_refused_naming_the_variables(tmp_path: Path) -> None:
    settings = Settings.model_validate({"sms": {"gateway": "http"}})

    with pytest.raises(ValueError, match="CHILDREG_SMS__URL"):
        build_sms_gateway(settings.sms, tmp_path)


def test_without_an_smtp_host_mail_goes_to_the_embedded_sink_on_loopback() -> None:
    mailer = build_mailer(Settings().smtp, embedded_smtp_port=2525)

    assert (mailer.host, mailer.port) == ("127.0.0.1", 2525)


def test_the_activities_are_built_without_connecting_to_anything(tmp_path: Path) -> None:
    settings = Settings.model_validate(
        {"data_dir": tmp_path, "smtp": {"host": "smtp.example.vn", "port": 587}}
    )

    activities = build_notifications(settings, LINK_SECRET, InMemoryNotificationJournal())

    assert isinstance(activities, NotificationActivities)
    assert not (tmp_path / "sms").exists()
