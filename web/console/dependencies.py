"""What the console is handed by its composition root (``workers/run/web.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher

from activities.reviewer_credentials import ReviewerCredentials
from projections.queue import OfficeQueue
from web.console.decisions import ClaimSender, DecisionSender
from web.console.oidc import OidcConfig

IDLE_TIMEOUT = timedelta(minutes=30)

QueueReader = Callable[[str, bool], OfficeQueue]
"""An office's queue: ``(office_code, supervisor)`` → the read model's answer (blocking)."""


@dataclass(frozen=True)
class ConsoleDependencies:
    credentials: ReviewerCredentials
    session_secret: str
    """Signs the session cookie; at least 32 characters, the same in every web process."""
    queue: QueueReader
    decide: DecisionSender
    """The Temporal update ``decide`` of a registration's workflow."""
    idle_timeout: timedelta = IDLE_TIMEOUT
    hasher: PasswordHasher | None = None
    """argon2id with argon2-cffi's defaults when None; the tests hand a cheaper argon2id."""
    oidc: OidcConfig | None = None
    """The organisation's OIDC provider; None: passwords only."""
    claims: ClaimSender | None = None
    """The Temporal updates ``claim`` and ``release``; None: the console offers no claims."""
