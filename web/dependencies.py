"""What the web application is handed by its composition root (``workers/run/web.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from activities.documents import DocumentStore
from activities.notifications.declaration import render_declaration
from activities.notifications.links import LinkSigner
from domain.contract import RegistrationRequest
from domain.registry import RegistryLookups
from domain.service import RegistrationService
from web.console.dependencies import ConsoleDependencies

Probe = Callable[[], Awaitable[None]]
"""A readiness check: returns when the dependency answers, raises (or hangs) when it does not."""


class PdfRenderer(Protocol):
    """The declaration PDF of one registration: by default the email attachment's own renderer,
    so the guardian downloads the very document they were mailed."""

    def __call__(
        self, request: RegistrationRequest, *, registration_id: UUID, office_name: str
    ) -> bytes: ...


@dataclass(frozen=True)
class RateLimits:
    """Requests allowed per window on the guardian's link, per token and per client address.

    Counted in this process only: with N web processes behind a load balancer a client gets up to
    N times as many (the README says so). That is enough to stop a script guessing tokens or
    hammering one link; a shared limiter belongs in front of the processes.
    """

    per_token: int = 30
    per_address: int = 120
    window_seconds: float = 60.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WebDependencies:
    """Everything the routes use. The event store service and the registry are synchronous
    (eventsourcing, psycopg): the routes call them on the thread pool, never on the event loop."""

    registrations: RegistrationService
    registry: RegistryLookups
    """For the office's name on the page and in the PDF."""
    links: LinkSigner
    """Verifies the guardians' link tokens (the same secret and purpose as the notifications)."""
    documents: DocumentStore
    intake_tokens: Sequence[str]
    """Bearer tokens accepted by ``POST /v1/documents``; empty: the intake refuses everyone."""
    client_key: bytes
    """Keys the hash of a client's address recorded with each view; never the address in clear."""
    probes: Mapping[str, Probe] = field(default_factory=dict)
    """``/readyz``'s checks by name (``postgresql``, ``temporal``)."""
    render_pdf: PdfRenderer = render_declaration
    limits: RateLimits = field(default_factory=RateLimits)
    clock: Callable[[], datetime] = _utc_now
    """Wall-clock time for the links' expiry and the recorded views."""
    monotonic: Callable[[], float] | None = None
    """The rate limiter's clock (``time.monotonic`` when None); tests step it by hand."""
    console: ConsoleDependencies | None = None
    """The reviewer console (``/console``); None: not served."""
