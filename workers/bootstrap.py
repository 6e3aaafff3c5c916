"""The composition root: every adapter a childreg process uses, built from its :class:`Settings`.

Processes (``workers.run``) and commands (``workers.cli``) read the settings once and come here
for what they need; nothing below connects at import time. In order:

- where the database is and which keys are in force (:func:`resolve`);
- the event store (:func:`registration_service`) and its position;
- the schema: :func:`migrate` creates it, :func:`require_tables` checks it;
- the registry (:func:`registry`);
- the worker's adapters and activities (:func:`open_adapters`, :func:`build_activities`);
- the notifications' mailer, SMS gateway and activities (:func:`build_notifications`);
- the read models (:func:`running_projections`, :func:`read_models`);
- the auditors' read-only access (:func:`audit_wiring`, :func:`auditing`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.utils import get_topic
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from activities import accounts, claims, keys
from activities.accounts import AccountActivities, PostgresChildAccounts
from activities.authorisation import DecisionActivities
from activities.claims import PostgresChildClaims
from activities.documents import DocumentActivities, DocumentStore
from activities.erasure import Eraser, Places
from activities.event_store import OneStatementRecorder
from activities.export import RegistrationExporter
from activities.identity import IdentityActivities
from activities.notifications.activities import NotificationActivities
from activities.notifications.event_store_journal import EventStoreNotificationJournal
from activities.notifications.gateways import HttpSmsGateway, OutboxSmsGateway, SmsGateway
from activities.notifications.journal import NotificationJournal
from activities.notifications.links import DeclarationLinks, LinkSigner
from activities.notifications.mail import SmtpMailer
from activities.notifications.preparation import MilestoneActivities
from activities.notifications.render import Renderer
from activities.recording import RecordingActivities
from activities.registry import store as registry_store
from activities.registry.store import PostgresRegistry
from activities.reviewer_credentials import PostgresReviewerCredentials
from domain.identity import ChildClaims, IdentityCheck
from domain.registry import RegistryLookups
from domain.service import RegistrationService
from projections.audit.seal import create_schema as create_audit_tables
from projections.audit.store import EVENTS_TABLE, EventDecoder, read_only_connection
from projections.catalogue import create_schema as create_read_models
from projections.catalogue import digest_key
from projections.erasure import erasable, read_model_rows
from projections.queries import ReadModels
from projections.runners import RunningProjections
from web.console.oidc import OidcConfig
from workers.embedded import generated_key, start_postgres
from workers.settings import Settings, SettingsError, SmsSettings, SmtpSettings
from workers.settings import SmsGateway as SmsGatewayKind

# --- where the database is, which keys ------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """The settings with the embedded defaults filled in."""

    database_url: str
    cipher_key: str | None
    link_secret: str


def resolve(settings: Settings) -> Resolved:
    """Fill in the embedded defaults: start the embedded PostgreSQL and generate keys when needed.

    Keys are generated only beside the embedded database; with an external database a missing
    cipher key means "store in plain text" (the README says so) and the link secret is required.
    """
    database_url = settings.database_url or start_postgres(settings.data_dir)
    link_secret = (
        settings.link_secret.get_secret_value()
        if settings.link_secret
        else generated_key(settings.data_dir, "link.key")
    )
    return Resolved(
        database_url=database_url, cipher_key=cipher_key(settings), link_secret=link_secret
    )


def cipher_key(settings: Settings) -> str | None:
    """The key for stored events, documents and Temporal payloads, without starting anything:
    the configured one, else (embedded only) the one generated under the data directory."""
    if settings.cipher_key is not None:
        return settings.cipher_key.get_secret_value()
    if settings.embedded:
        return generated_key(settings.data_dir, "cipher.key")
    return None


def data_keys(resolved: Resolved) -> keys.DataKeys | None:
    """The registrations' data keys (the Temporal codec's), or ``None`` without a cipher key."""
    if not resolved.cipher_key:
        return None
    return keys.DataKeys(resolved.database_url, resolved.cipher_key)


# --- the event store ------------------------------------------------------------------------------


def event_store_env(
    database_url: str, cipher_key: str | None, *, create_tables: bool = True
) -> dict[str, str]:
    """eventsourcing's PostgreSQL settings for ``database_url``; AES-GCM when a key is given.

    eventsourcing reads its persistence as environment-style settings: this dict is handed to
    the application, never put into ``os.environ``."""
    parts = conninfo_to_dict(database_url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(parts.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(parts.get("host") or "localhost"),
        "POSTGRES_PORT": str(parts.get("port") or "5432"),
        "POSTGRES_USER": str(parts.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(parts.get("password") or ""),
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "5",
        "CREATE_TABLE": "yes" if create_tables else "no",
        # Commands load from a cache of recent aggregates, fast-forwarded with the events stored
        # since (one indexed query), so another writer's events are never missed; a stale copy
        # that loses a race is refused by the store and the command decides again.
        "AGGREGATE_CACHE_MAXSIZE": str(AGGREGATE_CACHE_SIZE),
        "AGGREGATE_CACHE_FASTFORWARD": "yes",
        # eventsourcing's recorder with each save one statement (the same lock, NOTIFY and INSERT
        # in a function of ours): activities/event_store.py.
        "APPLICATION_RECORDER_TOPIC": get_topic(OneStatementRecorder),
    }
    if cipher_key:
        env.update(keys.event_store_cipher(database_url, cipher_key))
    return env


AGGREGATE_CACHE_SIZE = 1000
"""Registrations kept in memory by a process's event store (a few KB each)."""


def registration_service(
    database_url: str,
    cipher_key: str | None,
    *,
    create_tables: bool = True,
    connections: int | None = None,
) -> RegistrationService:
    """The event store; ``connections`` is the most its pool opens (one per activity thread)."""
    env = event_store_env(database_url, cipher_key, create_tables=create_tables)
    if connections is not None:
        env["POSTGRES_MAX_OVERFLOW"] = str(max(0, connections - int(env["POSTGRES_POOL_SIZE"])))
    return RegistrationService(env=env)


def latest_position(database_url: str) -> int:
    """:func:`store_position` on a connection of its own (raises ``psycopg.OperationalError``
    when the database is out of reach)."""
    with psycopg.connect(database_url, connect_timeout=10) as connection:
        return store_position(connection)


def store_position(connection: psycopg.Connection[Any]) -> int:
    """The notification id of the newest event in the store (0 when it is empty). A command
    reports it, and a query waits until the read models have reached it (read-your-writes)."""
    row = connection.execute(
        f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"  # noqa: S608  (a constant)
    ).fetchone()
    return int(row[0]) if row else 0


# --- the schema -----------------------------------------------------------------------------------


def migrate(database_url: str) -> list[str]:
    """Create every table the service needs (``childreg db migrate``); returns the parts set up.

    Every statement is idempotent (CREATE … IF NOT EXISTS), so migrating again changes nothing.
    """
    service = registration_service(database_url, None, create_tables=True)
    service.close()
    with ConnectionPool(database_url, min_size=1, max_size=2, open=True) as pool:
        PostgresRegistry(pool).create_schema()
        PostgresChildClaims(pool).create_schema()
        PostgresChildAccounts(pool).create_schema()
        keys.DataKeys.create_schema(pool)
        PostgresReviewerCredentials(pool).create_schema()
        with pool.connection() as connection:
            create_audit_tables(connection)
    read_models = create_read_models(event_store_env(database_url, None))
    return [
        "event store",
        "registry",
        "child claims",
        "child accounts",
        "data keys",
        "reviewer credentials",
        "audit seals",
        *read_models,
    ]


def tables_created(schema: str) -> tuple[str, ...]:
    """The tables a schema script creates, in its order."""
    return tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", schema))


WORKER_TABLES = (
    EVENTS_TABLE,
    *tables_created(registry_store.SCHEMA),
    *tables_created(claims.SCHEMA),
    *tables_created(accounts.SCHEMA),
    *tables_created(keys.SCHEMA),
)
"""The tables the worker reads and writes; it checks them at start and creates none."""


class SchemaMissing(RuntimeError):
    """The database lacks tables a process needs: ``childreg db migrate`` has not been run."""


def require_tables(pool: ConnectionPool, tables: Iterable[str]) -> None:
    """Raise ``SchemaMissing`` naming every one of ``tables`` the database does not have."""
    with pool.connection() as connection:
        rows = connection.execute(
            "SELECT name FROM unnest(%s::text[]) WITH ORDINALITY AS t(name, n)"
            " WHERE to_regclass(name) IS NULL ORDER BY n",
            (list(tables),),
        ).fetchall()
    if rows:
        missing = ", ".join(name for (name,) in rows)
        raise SchemaMissing(f"the database has no table {missing}: run `childreg db migrate` first")


# --- the registry ---------------------------------------------------------------------------------


@contextmanager
def registry(resolved: Resolved) -> Iterator[PostgresRegistry]:
    """The registry's tables on a small pool closed on exit, their schema created if missing
    (``childreg registry load`` may come before ``db migrate``)."""
    pool: ConnectionPool = ConnectionPool(resolved.database_url, min_size=1, max_size=2, open=False)
    pool.open()
    try:
        store = PostgresRegistry(pool)
        store.create_schema()
        yield store
    finally:
        pool.close()


@contextmanager
def reviewer_credentials(
    resolved: Resolved,
) -> Iterator[tuple[PostgresReviewerCredentials, PostgresRegistry]]:
    """The reviewers' passwords beside the registry, on a small pool closed on exit, their
    schema created if missing (``childreg reviewers set-password`` may come before ``db migrate``)."""
    pool: ConnectionPool = ConnectionPool(resolved.database_url, min_size=1, max_size=2, open=False)
    pool.open()
    try:
        credentials = PostgresReviewerCredentials(pool)
        credentials.create_schema()
        store = PostgresRegistry(pool)
        store.create_schema()
        yield credentials, store
    finally:
        pool.close()


def oidc_config(settings: Settings) -> OidcConfig | None:
    """The organisation's OIDC provider, when ``CHILDREG_OIDC_ISSUER`` is set (with a client id)."""
    if settings.oidc_issuer is None:
        return None
    if not settings.oidc_client_id:
        raise SettingsError("CHILDREG_OIDC_CLIENT_ID: required with CHILDREG_OIDC_ISSUER")
    secret = settings.oidc_client_secret
    return OidcConfig(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=secret.get_secret_value() if secret is not None else None,
        reviewer_claim=settings.oidc_reviewer_claim,
    )


def console_session_secret(link_secret: str) -> str:
    """The console's cookie-signing secret, derived from the link secret with a label of its own."""
    return hmac.new(
        link_secret.encode(), b"childreg/console/session/v1", hashlib.sha256
    ).hexdigest()


# --- the worker's adapters and activities ---------------------------------------------------------

ACTIVITY_THREADS = 16
"""The worker's activity threads; its connection pool has as many connections."""


def document_store(
    settings: Settings, cipher_key: str | None, data_keys: keys.DataKeys | None = None
) -> DocumentStore:
    """The content-addressed documents under ``<data dir>/documents`` (a registration's kept
    documents under its data key when ``data_keys`` is given)."""
    return DocumentStore(settings.data_dir / "documents", cipher_key, data_keys)


@dataclass
class Adapters:
    """What the activities need, built once per process."""

    service: RegistrationService
    registry: RegistryLookups
    claims: ChildClaims
    accounts: PostgresChildAccounts
    documents: DocumentStore


def build_activities(
    adapters: Adapters, *, max_wait_days: float, notify: Callable[..., Any] | None
) -> list[Callable[..., Any]]:
    """Every activity of the registration workflow, as bound methods.

    ``notify`` is the ``notify_guardian`` activity (see :func:`build_notifications`).
    """
    service, registry = adapters.service, adapters.registry
    recording = RecordingActivities(service, registry, adapters.claims, max_wait_days=max_wait_days)
    identity = IdentityActivities(service, IdentityCheck(registry, adapters.claims))
    documents = DocumentActivities(service, adapters.documents)
    decisions = DecisionActivities(service, registry, supplement_wait_days=max_wait_days)
    account_activities = AccountActivities(service, adapters.accounts)
    milestones = MilestoneActivities(service, registry)
    activities: list[Callable[..., Any]] = [
        recording.record_submission,
        recording.request_review,
        recording.mark_overdue,
        recording.expire,
        recording.withdraw,
        recording.provide_supplement,
        recording.release_child_claim,
        identity.verify_identity,
        documents.store_documents,
        decisions.decide,
        decisions.claim_review,
        account_activities.activate_child_account,
        milestones.prepare_notification,
    ]
    if notify is not None:
        activities.append(notify)
    return activities


def worker_notifications(
    settings: Settings,
    resolved: Resolved,
    adapters: Adapters,
    *,
    embedded_smtp_port: int | None = None,
) -> NotificationActivities:
    """The notification activities over the event store's journal of sends."""
    return build_notifications(
        settings,
        resolved.link_secret,
        EventStoreNotificationJournal(adapters.service),
        embedded_smtp_port=embedded_smtp_port,
    )


@contextmanager
def open_adapters(settings: Settings, resolved: Resolved) -> Iterator[Adapters]:
    """Open the pool and the event store, close on exit.

    The tables must be there (``childreg db migrate``): the worker checks them and creates none.
    """
    pool = ConnectionPool(resolved.database_url, min_size=1, max_size=ACTIVITY_THREADS, open=False)
    pool.open(wait=True)
    try:
        require_tables(pool, WORKER_TABLES)
        service = registration_service(
            resolved.database_url,
            resolved.cipher_key,
            create_tables=False,
            connections=ACTIVITY_THREADS,
        )
        try:
            yield Adapters(
                service=service,
                registry=PostgresRegistry(pool),
                claims=PostgresChildClaims(pool),
                accounts=PostgresChildAccounts(pool),
                documents=document_store(settings, resolved.cipher_key, data_keys(resolved)),
            )
        finally:
            service.close()
    finally:
        pool.close()


# --- notifications --------------------------------------------------------------------------------

EMBEDDED_SMTP_HOST = "127.0.0.1"


def build_mailer(smtp: SmtpSettings, *, embedded_smtp_port: int | None = None) -> SmtpMailer:
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


def build_sms_gateway(sms: SmsSettings, data_dir: Path) -> SmsGateway:
    """The HTTP gateway when configured, else the outbox under ``<data dir>/sms``."""
    if sms.gateway is SmsGatewayKind.HTTP:
        if not sms.url or sms.token is None:
            raise ValueError(
                "CHILDREG_SMS__URL and CHILDREG_SMS__TOKEN: required with the http gateway"
            )
        return HttpSmsGateway(
            sms.url, sms.token.get_secret_value(), timeout_seconds=sms.timeout_seconds
        )
    return OutboxSmsGateway(data_dir / "sms")


def build_notifications(
    settings: Settings,
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


# --- the read models ------------------------------------------------------------------------------


def running_projections(resolved: Resolved) -> RunningProjections:
    """The read models' runners for ``resolved``'s database, not yet started: enter the result
    to run them in-process (``childreg dev`` does), exit it to stop them."""
    return RunningProjections(
        event_store_env(resolved.database_url, resolved.cipher_key),
        digest_key(resolved.link_secret),
    )


@contextmanager
def read_models(resolved: Resolved) -> Iterator[ReadModels]:
    """The queries over the read models, on a small pool closed on exit."""
    pool: ConnectionPool = ConnectionPool(resolved.database_url, min_size=1, max_size=2, open=False)
    pool.open()
    try:
        yield ReadModels(pool, digest_key(resolved.link_secret))
    finally:
        pool.close()


# --- privacy: erasure and retention ---------------------------------------------------------------


class ErasureUnavailable(RuntimeError):
    """Nothing can be erased without a cipher key: the data is not encrypted at all."""


@contextmanager
def eraser(settings: Settings, resolved: Resolved) -> Iterator[Eraser]:
    """The erasure of registrations' personal data (``childreg privacy erase`` and ``sweep``)."""
    if not resolved.cipher_key:
        raise ErasureUnavailable(
            "CHILDREG_CIPHER_KEY: erasure deletes a registration's data key; without a cipher key "
            "nothing is encrypted and nothing can be erased"
        )
    with ConnectionPool(resolved.database_url, min_size=1, max_size=2, open=True) as pool:
        keys.DataKeys.create_schema(pool)
    service = registration_service(resolved.database_url, resolved.cipher_key, create_tables=False)
    data = keys.DataKeys(resolved.database_url, resolved.cipher_key)
    try:
        yield Eraser(service, data, resolved.database_url, Places.under(settings.data_dir))
    finally:
        data.close()
        service.close()


def catch_up_read_models(resolved: Resolved, timeout: float = 60.0) -> int:
    """Run the read models up to the newest stored event (each event is applied once, whether by
    this call or by a projector running beside it); returns the position reached.

    The views commit without waiting for their WAL flush (:func:`projections.base.notify`); an
    erasure reports rows blanked only once they are on disk, so this ends with a commit that
    waits for its flush, which flushes every commit before it, of any session."""
    position = latest_position(resolved.database_url)
    with running_projections(resolved) as running:
        running.wait(position, timeout=timeout)
    with psycopg.connect(resolved.database_url) as connection:
        connection.execute("SELECT pg_current_xact_id()")  # a transaction id: its commit flushes
    return position


def personal_rows(resolved: Resolved, registration_id: Any) -> int:
    """The read models' rows derived from a registration's personal data (see
    :func:`projections.erasure.read_model_rows`)."""
    with psycopg.connect(resolved.database_url) as connection:
        return read_model_rows(connection, registration_id)


def past_retention(resolved: Resolved, retention_days: int, now: Any) -> list[Any]:
    """The final registrations whose outcome is older than the retention, not yet erased."""
    with psycopg.connect(resolved.database_url) as connection:
        return erasable(connection, retention_days, now)


# --- the audit ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditWiring:
    """Which database, which role, which keys the audit commands use.

    Auditors read through ``audit_database_url`` (a read-only role) when it is configured,
    otherwise through ``database_url``; either way every connection is a read-only session
    (:func:`projections.audit.store.read_only_connection`). Only the sealer writes, to its own
    tables, through the service's URL.
    """

    read_url: str
    """The auditors' URL: ``audit_database_url`` when set, else the service's."""
    write_url: str
    """The service's URL: for the sealer only."""
    cipher_key: str | None
    digest_key: bytes

    def event_store_env(self) -> dict[str, str]:
        return event_store_env(self.read_url, self.cipher_key, create_tables=False)


def audit_wiring(settings: Settings) -> AuditWiring:
    resolved = resolve(settings)
    return AuditWiring(
        read_url=settings.audit_database_url or resolved.database_url,
        write_url=resolved.database_url,
        cipher_key=resolved.cipher_key,
        digest_key=digest_key(resolved.link_secret),
    )


class AuditUnavailable(Exception):
    """The audit database cannot be reached (the message says which setting to check)."""


@contextmanager
def auditing(wiring: AuditWiring) -> Iterator[tuple[psycopg.Connection[Any], EventDecoder]]:
    """A read-only connection and the decoder for the stored events."""
    try:
        connection = read_only_connection(wiring.read_url)
    except psycopg.OperationalError as error:
        raise AuditUnavailable(
            "cannot connect to the audit database (CHILDREG_AUDIT_DATABASE_URL, else "
            f"CHILDREG_DATABASE_URL): {type(error).__name__}"
        ) from None
    try:
        decoder = EventDecoder(
            wiring.cipher_key and keys.event_store_cipher(wiring.read_url, wiring.cipher_key)
        )
    except BaseException:
        connection.close()
        raise
    try:
        yield connection, decoder
    finally:
        decoder.close()
        connection.close()


# --- privacy --------------------------------------------------------------------------------------


@contextmanager
def privacy_export(settings: Settings, resolved: Resolved) -> Iterator[RegistrationExporter]:
    """The exporter of ``childreg privacy export``: the event store, the kept documents and the
    data keys, with the same keys as the service."""
    keyring = data_keys(resolved)
    service = registration_service(resolved.database_url, resolved.cipher_key)
    try:
        yield RegistrationExporter(
            service, document_store(settings, resolved.cipher_key, keyring), keyring
        )
    finally:
        service.close()
        if keyring is not None:
            keyring.close()
