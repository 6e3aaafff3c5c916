"""The organisation's OIDC provider is configured by CHILDREG_OIDC_*, or not at all."""

from __future__ import annotations

import pytest

from web.console.oidc import OidcConfig
from workers.bootstrap import oidc_config
from workers.settings import SettingsError, load_settings


def test_without_an_issuer_there_is_no_provider() -> None:
    assert oidc_config(load_settings()) is None


def test_the_provider_from_the_settings() -> None:
    settings = load_settings(
        oidc_issuer="https://id.bhxh.example.vn/realms/staff",
        oidc_client_id="childreg-console",
        oidc_client_secret="s3cret",
    )

    config = oidc_config(settings)

    assert config == OidcConfig(
        "https://id.bhxh.example.vn/realms/staff",
        "childreg-console",
        "s3cret",
        "preferred_username",
    )
    assert config.metadata_url == (
        "https://id.bhxh.example.vn/realms/staff/.well-known/openid-configuration"
    )


def test_an_issuer_needs_a_client_id() -> None:
    with pytest.raises(SettingsError, match="CHILDREG_OIDC_CLIENT_ID: required"):
        oidc_config(load_settings(oidc_issuer="https://id.bhxh.example.vn"))
