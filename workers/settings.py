"""Settings: read once from the environment by the process's composition root.

No other module reads the environment. Every setting's env name is ``CHILDREG_`` + its field
name in upper case (nested: ``CHILDREG_SMTP__HOST``); the README lists them all.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflows.registration import TASK_QUEUE

ENV_PREFIX = "CHILDREG_"


class SettingsError(Exception):
    """The environment holds a setting that cannot be used; the message names it."""


class LogFormat(StrEnum):
    AUTO = "auto"
    """Console output on a terminal, JSON otherwise."""
    CONSOLE = "console"
    JSON = "json"


class SmtpSecurity(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


class SmtpSettings(BaseModel):
    host: str | None = None
    """None: the embedded SMTP sink of the development stack."""
    port: int = Field(default=25, ge=1, le=65535)
    security: SmtpSecurity = SmtpSecurity.NONE
    username: str | None = None
    password: SecretStr | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)
    sender: str = "VssID - BHXH Việt Nam <no-reply@vssid.example.vn>"


class SmsGateway(StrEnum):
    OUTBOX = "outbox"
    """A file per message under ``<data dir>/sms/``."""
    HTTP = "http"


class SmsSettings(BaseModel):
    gateway: SmsGateway = SmsGateway.OUTBOX
    url: str | None = None
    token: SecretStr | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="ignore",
        frozen=True,
    )

    data_dir: Path = Path("var")
    """Where the embedded stack keeps its data; other commands find the running stack through it."""
    database_url: str | None = None
    """A PostgreSQL URL; None: the embedded PostgreSQL under ``<data dir>/postgres``."""
    audit_database_url: str | None = None
    """A URL with a read-only role for the audit commands; None: ``database_url``."""
    cipher_key: SecretStr | None = None
    """Base64 AES key (16, 24 or 32 bytes) for stored events and documents. None with the embedded
    database: a key generated once under ``<data dir>/keys/``. None with an external database:
    nothing is encrypted."""
    temporal_address: str | None = None
    """host:port of the Temporal frontend; None: the embedded dev server's."""
    temporal_namespace: str = "default"
    task_queue: str = TASK_QUEUE
    """The public contract's task queue; another name only for a separate deployment's tests."""
    smtp: SmtpSettings = SmtpSettings()
    sms: SmsSettings = SmsSettings()
    public_base_url: str = "http://localhost:8080"
    """Where guardians' links (declaration downloads) point."""
    link_secret: SecretStr | None = None
    """HMAC key for guardians' links; None: generated once under ``<data dir>/keys/``."""
    link_valid_days: Annotated[int, Field(ge=1, le=365)] = 30
    max_wait_days: Annotated[float, Field(gt=0, le=365)] = 30
    """Calendar days without a decision (or a supplement) before a registration expires; a
    fraction of a day only in tests (``make faults`` expires registrations within minutes)."""
    retention_days: Annotated[int, Field(ge=1, le=36500)] = 3650
    """Days after its outcome that a final registration's personal data is kept before
    ``childreg privacy sweep`` erases it (the README says why ten years)."""
    require_encrypted_input: bool = False
    """The worker refuses a workflow input that did not come through the payload codec (plain
    JSON, e.g. from the ``temporal`` CLI): auto-rejected ``INPUT_NOT_ENCRYPTED``, unread. False
    with the embedded stack; ``true`` in docker-compose.yml."""
    log_format: LogFormat = LogFormat.AUTO
    log_level: str = "info"
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = 0
    """Prometheus port for the worker's SDK metrics; 0: none."""
    # --- the web tier (``childreg web``) ---
    intake_tokens: SecretStr | None = None
    """Bearer tokens of ``POST /v1/documents``, comma-separated. None with the embedded database:
    one generated once into ``<data dir>/keys/intake.token``; None otherwise: the intake is closed."""
    forwarded_allow_ips: str = "127.0.0.1"
    """Proxies whose ``X-Forwarded-For`` is believed (comma-separated, ``*`` for any): the client
    address the rate limit counts and the view records (hashed) is the one they report."""
    # --- reviewers' sign-in by the organisation's OpenID Connect provider (optional) ---
    oidc_issuer: str | None = None
    """The provider's issuer URL (its ``/.well-known/openid-configuration`` is read); None: the
    console and ``childreg review`` take passwords only."""
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    """None: a public client (PKCE alone)."""
    oidc_reviewer_claim: str = "preferred_username"
    """The ID token's claim that holds the reviewer id of the registry."""

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def embedded(self) -> bool:
        return self.database_url is None


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment (overrides win), with errors that name the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = []
        for item in error.errors():
            name = ENV_PREFIX + "__".join(str(part) for part in item["loc"]).upper()
            lines.append(f"{name}: {item['msg']}")
        raise SettingsError("; ".join(lines)) from None
