"""The web process: settings → pool, event store, keys → ``web.app`` → uvicorn.

The adapters come from :mod:`workers.bootstrap`; what is the web tier's own (the intake tokens, the
client-address key, the readiness probes) is assembled here.

``childreg web`` runs :func:`run_web`; ``childreg dev`` opens the same application with
:func:`open_web` and serves it beside its worker with :func:`serve`. The process is stateless (the
rate limits are per process): run as many as the load needs behind a load balancer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
import uvicorn
from fastapi import FastAPI
from psycopg_pool import ConnectionPool
from temporalio.client import Client

from activities import reviewer_credentials
from activities.notifications.links import LinkSigner
from activities.registry import PostgresRegistry
from activities.reviewer_credentials import PostgresReviewerCredentials
from projections.catalogue import digest_key
from projections.queries import ReadModels
from web.app import create_app
from web.console.decisions import TemporalDecisions
from web.console.dependencies import ConsoleDependencies
from web.dependencies import Probe, WebDependencies
from workers.bootstrap import (
    WORKER_TABLES,
    console_session_secret,
    data_keys,
    document_store,
    oidc_config,
    registration_service,
    require_tables,
    resolve,
    tables_created,
)
from workers.embedded import generated_key
from workers.settings import Settings
from workers.stack import temporal_address
from workers.temporal_client import connect

log = structlog.get_logger(__name__)

POOL_SIZE = 8
INTAKE_FILE = "intake.token"


def intake_tokens(settings: Settings) -> list[str]:
    """``CHILDREG_INTAKE_TOKENS`` (comma-separated); unset beside the embedded database, one token
    generated once into ``<data dir>/keys/intake.token``; otherwise none (the intake refuses all)."""
    if settings.intake_tokens is not None:
        given = settings.intake_tokens.get_secret_value().split(",")
        return [token.strip() for token in given if token.strip()]
    if settings.embedded:
        return [generated_key(settings.data_dir, INTAKE_FILE)]
    return []


def client_address_key(link_secret: str) -> bytes:
    """The key of the client-address hash recorded with each view, derived from the link secret
    with a label of its own (the same secret never keys two things directly)."""
    return hmac.new(
        link_secret.encode(), b"childreg/web/client-address/v1", hashlib.sha256
    ).digest()


def postgres_probe(pool: ConnectionPool) -> Probe:
    def select_one() -> None:
        with pool.connection(timeout=2) as connection:
            connection.execute("SELECT 1")

    async def probe() -> None:
        await asyncio.to_thread(select_one)

    return probe


class TemporalProbe:
    """Connects on first use (the web tier starts whether or not Temporal is up), then asks the
    frontend's health check on every probe."""

    def __init__(self, address: str, namespace: str) -> None:
        self._address = address
        self._namespace = namespace
        self._client: Client | None = None

    async def __call__(self) -> None:
        if self._client is None:
            self._client = await connect(self._address, self._namespace, None)
        if not await self._client.service_client.check_health():
            raise RuntimeError("the Temporal frontend reports itself unhealthy")


@contextmanager
def open_web(settings: Settings) -> Iterator[FastAPI]:
    """The application with its pool and event store open; both are closed on exit."""
    resolved = resolve(settings)
    pool = ConnectionPool(resolved.database_url, min_size=1, max_size=POOL_SIZE, open=False)
    pool.open(wait=True)
    try:
        require_tables(pool, (*WORKER_TABLES, *tables_created(reviewer_credentials.SCHEMA)))
        service = registration_service(
            resolved.database_url, resolved.cipher_key, create_tables=False
        )
        tokens = intake_tokens(settings)
        if not tokens:
            log.warning("intake.disabled", why="CHILDREG_INTAKE_TOKENS is not set")
        read_models = ReadModels(pool, digest_key(resolved.link_secret))
        # A registration's documents and Temporal payloads are under its own data key.
        registration_keys = data_keys(resolved)
        updates = TemporalDecisions(
            lambda: connect(
                temporal_address(settings),
                settings.temporal_namespace,
                resolved.cipher_key,
                data_keys=registration_keys,
            )
        )
        console = ConsoleDependencies(
            credentials=PostgresReviewerCredentials(pool),
            session_secret=console_session_secret(resolved.link_secret),
            oidc=oidc_config(settings),
            queue=lambda office, supervisor: read_models.queue(office, supervisor=supervisor),
            decide=updates,
            claims=updates,
        )
        try:
            yield create_app(
                WebDependencies(
                    registrations=service,
                    registry=PostgresRegistry(pool),
                    links=LinkSigner(resolved.link_secret),
                    documents=document_store(settings, resolved.cipher_key, registration_keys),
                    intake_tokens=tokens,
                    client_key=client_address_key(resolved.link_secret),
                    probes={
                        "postgresql": postgres_probe(pool),
                        "temporal": TemporalProbe(
                            temporal_address(settings), settings.temporal_namespace
                        ),
                    },
                    console=console,
                )
            )
        finally:
            service.close()
            if registration_keys is not None:
                registration_keys.close()
    finally:
        pool.close()


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the process that runs it decides when it stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(
    app: FastAPI,
    host: str,
    port: int,
    *,
    forwarded_allow_ips: str,
    stop: asyncio.Event,
    ready: asyncio.Event | None = None,
) -> None:
    """Serve ``app`` until ``stop`` is set; ``ready`` is set once the socket listens. uvicorn's own
    access log is off: ``web.access_log`` logs each request through structlog without its path or
    query string."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        log_config=None,  # the process's logging (structlog) is already configured
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        lifespan="off",
    )
    server = _Server(config)

    async def stop_when_asked() -> None:
        while not server.started and not server.should_exit:
            await asyncio.sleep(0.05)
        if ready is not None:
            ready.set()
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(stop_when_asked())
    try:
        log.info("web.started", host=host, port=port)
        await server.serve()
    finally:
        watcher.cancel()
        log.info("web.stopped")


async def run_web(settings: Settings, host: str, port: int) -> None:
    """``childreg web``: serve until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    with open_web(settings) as app:
        await serve(app, host, port, forwarded_allow_ips=settings.forwarded_allow_ips, stop=stop)
