"""Settings are read once from the environment, with errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.settings import SettingsError, SmsGateway, SmtpSecurity, load_settings


def test_defaults_are_the_embedded_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CHILDREG_DATABASE_URL", "CHILDREG_DATA_DIR", "CHILDREG_CIPHER_KEY"):
        monkeypatch.delenv(name, raising=False)

    settings = load_settings()

    assert settings.embedded
    assert settings.data_dir == Path("var")
    assert settings.task_queue == "child-registration"  # the public contract's name, pinned
    assert settings.sms.gateway is SmsGateway.OUTBOX
    assert settings.max_wait_days == 30


def test_environment_names_are_prefixed_and_nested(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHILDREG_DATABASE_URL", "postgresql://childreg@db/childreg")
    monkeypatch.setenv("CHILDREG_SMTP__HOST", "smtp.example.vn")
    monkeypatch.setenv("CHILDREG_SMTP__SECURITY", "starttls")
    monkeypatch.setenv("CHILDREG_PUBLIC_BASE_URL", "https://vssid.example.vn/")

    settings = load_settings()

    assert not settings.embedded
    assert settings.smtp.host == "smtp.example.vn"
    assert settings.smtp.security is SmtpSecurity.STARTTLS
    assert settings.public_base_url == "https://vssid.example.vn"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CHILDREG_SMTP__PORT", "seventy"),
        ("CHILDREG_SMTP__SECURITY", "ssl3"),
        ("CHILDREG_MAX_WAIT_DAYS", "0"),
        ("CHILDREG_SMS__GATEWAY", "pigeon"),
        ("CHILDREG_LOG_FORMAT", "xml"),
    ],
)
def test_a_bad_setting_is_refused_by_its_variable_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as refused:
        load_settings()

    assert str(refused.value).startswith(f"{name}: ")


def test_encrypted_input_is_required_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHILDREG_REQUIRE_ENCRYPTED_INPUT", raising=False)
    assert load_settings().require_encrypted_input is False  # the embedded stack's default

    monkeypatch.setenv("CHILDREG_REQUIRE_ENCRYPTED_INPUT", "true")
    assert load_settings().require_encrypted_input is True

    monkeypatch.setenv("CHILDREG_REQUIRE_ENCRYPTED_INPUT", "sometimes")
    with pytest.raises(SettingsError, match="CHILDREG_REQUIRE_ENCRYPTED_INPUT"):
        load_settings()
