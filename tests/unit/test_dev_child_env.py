"""What ``childreg dev`` hands its worker: the embedded sink's port unless a relay is set, and
a review period shortened to a fraction of a day for the fault suite."""

from __future__ import annotations

import pytest

from workers.run.dev import _child_env
from workers.settings import SettingsError, SmtpSettings, load_settings


def test_without_a_relay_the_worker_mails_the_embedded_sink() -> None:
    env = _child_env(load_settings(), "127.0.0.1:7233", 8025)

    assert env["CHILDREG_SMTP__PORT"] == "8025"


def test_a_relay_keeps_its_own_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHILDREG_SMTP__HOST", "127.0.0.1")
    monkeypatch.setenv("CHILDREG_SMTP__PORT", "2525")
    settings = load_settings()

    env = _child_env(settings, "127.0.0.1:7233", 8025)

    assert settings.smtp == SmtpSettings(host="127.0.0.1", port=2525)
    assert env["CHILDREG_SMTP__PORT"] == "2525"


def test_the_wait_before_expiry_can_be_a_fraction_of_a_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHILDREG_MAX_WAIT_DAYS", "0.001")

    assert load_settings().max_wait_days == pytest.approx(0.001)


def test_the_wait_before_expiry_is_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHILDREG_MAX_WAIT_DAYS", "0")

    with pytest.raises(SettingsError, match="CHILDREG_MAX_WAIT_DAYS"):
        load_settings()
