"""``childreg codec-server``: a Temporal codec server for the AES-GCM payload codec.

With a cipher key, Temporal holds only ciphertext, so the ``temporal`` CLI and the Web UI cannot
read query answers, update answers or results, nor encrypt what they send. A codec server is
Temporal's answer: an HTTP service with ``POST …/encode`` and ``POST …/decode`` that runs the
project's :class:`~workers.temporal_client.AesGcmCodec` on a ``Payloads`` protobuf as JSON
(``{"payloads": [{"metadata": {"key": "<base64>"}, "data": "<base64>"}]}``, the same shape
back). The CLI uses it with ``--codec-endpoint http://127.0.0.1:8081`` (``--codec-auth`` when the
server requires an ``Authorization`` header); the Web UI with its codec endpoint setting, which
needs the CORS answers below.

Only the last part of the path counts (``/default/decode`` is ``/decode``), as the protocol asks.
A bad request is answered ``400`` with one line of text that never repeats what was sent, and
nothing of a payload is ever logged. Bound to loopback, the server also refuses requests that do
not come from loopback or that name another host (DNS rebinding); ``--host`` lifts that, for a
codec server beside a production worker (then give it ``--auth-file``).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import re
import signal
import socket
import threading
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import structlog
import typer
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload, Payloads

from workers.embedded import generated_key
from workers.settings import Settings, SettingsError, load_settings
from workers.temporal_client import ENCODING, AesGcmCodec

log = structlog.get_logger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081
DEFAULT_UI_ORIGINS = ("http://localhost:8233", "http://127.0.0.1:8233")
"""The dev server's Web UI, under both names a browser may use for it."""
MAX_BODY_BYTES = 16 * 1024 * 1024
"""Far above Temporal's payload limits (2 MB a blob by default)."""
ALLOWED_HEADERS = "content-type, x-namespace, authorization"
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_PAYLOADS_SHAPE = '{"payloads": [{"metadata": {"<key>": "<base64>"}, "data": "<base64>"}]}'


class _Refusal(Exception):
    """A request the server answers with an error status and one line of text."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class CodecServer(ThreadingHTTPServer):
    """The HTTP server; :func:`start_codec_server` runs one on a thread of its own."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        codec: AesGcmCodec,
        *,
        loopback_only: bool = True,
        ui_origins: Iterable[str] = DEFAULT_UI_ORIGINS,
        authorization: str | None = None,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.codec = codec
        self.loopback_only = loopback_only
        self.ui_origins = frozenset(origin.rstrip("/") for origin in ui_origins)
        self.authorization = authorization
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        """What to give the CLI as ``--codec-endpoint`` (the port actually bound)."""
        host, port = self.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def close(self) -> None:
        """Stop serving (from any thread but the serving one) and release the port."""
        self.shutdown()
        self.server_close()


def start_codec_server(
    cipher_key: str,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    loopback_only: bool = True,
    ui_origins: Iterable[str] = DEFAULT_UI_ORIGINS,
    authorization: str | None = None,
) -> tuple[CodecServer, threading.Thread]:
    """Serve ``/encode`` and ``/decode`` for ``cipher_key`` on a daemon thread.

    ``port`` 0 picks a free port (``server.url`` says which). ``loopback_only`` refuses
    requests from other machines; ``ui_origins`` are the Web UI origins CORS allows;
    ``authorization``, when given, is the ``Authorization`` header every request must carry.
    Stop it with ``server.close()``, then ``thread.join()``. Raises ``OSError`` when the port
    is taken and ``ValueError`` when the key is not base64.
    """
    codec = AesGcmCodec(cipher_key)
    server = CodecServer(
        (host, port),
        codec,
        loopback_only=loopback_only,
        ui_origins=ui_origins,
        authorization=authorization,
    )
    thread = threading.Thread(target=server.serve_forever, name="codec-server", daemon=True)
    thread.start()
    return server, thread


class _Handler(BaseHTTPRequestHandler):
    server: CodecServer
    protocol_version = "HTTP/1.1"
    server_version = "childreg-codec"
    timeout = 60  # seconds a connection may stay silent (a body shorter than announced)

    def do_OPTIONS(self) -> None:
        """The Web UI's CORS preflight."""
        try:
            self._check_caller()
        except _Refusal as refusal:
            self._answer(refusal.status, refusal.message.encode(), "text/plain; charset=utf-8")
            return
        self._answer(HTTPStatus.NO_CONTENT, b"", None, preflight=True)

    def do_POST(self) -> None:
        count = 0
        try:
            self._check_caller()
            operation = self._operation()
            self._check_authorization()
            payloads = self._read_payloads()
            count = len(payloads)
            answer = Payloads(payloads=self._apply(operation, payloads))
        except _Refusal as refusal:
            self._answer(refusal.status, refusal.message.encode(), "text/plain; charset=utf-8")
            if refusal.status >= HTTPStatus.INTERNAL_SERVER_ERROR or refusal.status in (
                HTTPStatus.UNAUTHORIZED,
                HTTPStatus.FORBIDDEN,
            ):
                log.warning("codec.refused", path=self._logged_path(), status=int(refusal.status))
            return
        except (
            Exception
        ) as error:  # an answer, not a dropped connection; no message: it may quote data
            self._answer(
                HTTPStatus.INTERNAL_SERVER_ERROR, b"internal error", "text/plain; charset=utf-8"
            )
            log.error("codec.failed", path=self._logged_path(), error=type(error).__name__)
            return
        body = json_format.MessageToJson(answer, indent=None).encode()
        self._answer(HTTPStatus.OK, body, "application/json")
        log.debug("codec.answered", operation=operation, payloads=count)

    def do_GET(self) -> None:
        self._method_not_allowed()

    def do_PUT(self) -> None:
        self._method_not_allowed()

    def do_DELETE(self) -> None:
        self._method_not_allowed()

    def _method_not_allowed(self) -> None:
        self._answer(
            HTTPStatus.METHOD_NOT_ALLOWED,
            b"use POST /encode or POST /decode",
            "text/plain; charset=utf-8",
            extra={"Allow": "POST, OPTIONS"},
        )

    # -- checks -----------------------------------------------------------------------------

    def _check_caller(self) -> None:
        if not self.server.loopback_only:
            return
        peer = ipaddress.ip_address(self.client_address[0])
        if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
            peer = peer.ipv4_mapped
        if not peer.is_loopback:
            raise _Refusal(
                HTTPStatus.FORBIDDEN,
                "this codec server answers loopback only (start it with --host to serve others)",
            )
        if _host_name(self.headers.get("Host", "")) not in _LOOPBACK_NAMES:
            raise _Refusal(HTTPStatus.FORBIDDEN, "Host: not a loopback name")

    def _check_authorization(self) -> None:
        expected = self.server.authorization
        if expected is None:
            return
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise _Refusal(
                HTTPStatus.UNAUTHORIZED,
                "Authorization: missing or wrong (the temporal CLI sends it with --codec-auth)",
            )

    def _path(self) -> str:
        # No path at all when http.server could not parse the request line.
        return str(getattr(self, "path", "")).split("?", 1)[0].rstrip("/")

    def _logged_path(self) -> str:
        """The path for a log line: the protocol's own paths as they are, any other as "other"
        (a caller may put anything in a path)."""
        path = self._path()
        return path if _PROTOCOL_PATH.fullmatch(path) else "other"

    def _operation(self) -> str:
        operation = self._path().rsplit("/", 1)[-1]
        if operation not in ("encode", "decode"):
            raise _Refusal(HTTPStatus.NOT_FOUND, "use POST /encode or POST /decode")
        return operation

    def _read_payloads(self) -> list[Payload]:
        content_type = self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            raise _Refusal(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type: application/json only")
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise _Refusal(HTTPStatus.LENGTH_REQUIRED, "Content-Length: required")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise _Refusal(HTTPStatus.LENGTH_REQUIRED, "Content-Length: required") from None
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            raise _Refusal(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body: at most {MAX_BODY_BYTES} bytes"
            )
        body = self.rfile.read(length)
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise _Refusal(
                HTTPStatus.BAD_REQUEST, f"malformed body: not JSON; expected {_PAYLOADS_SHAPE}"
            ) from None
        if not isinstance(document, dict):  # {} is no payloads (the CLI sends it)
            raise _Refusal(HTTPStatus.BAD_REQUEST, f"malformed body: expected {_PAYLOADS_SHAPE}")
        try:
            # The parser's own messages may quote the body: they stay out of the answer.
            message = json_format.ParseDict(document, Payloads())
        except (json_format.ParseError, TypeError, ValueError, AttributeError):
            raise _Refusal(
                HTTPStatus.BAD_REQUEST,
                f"malformed body: not a Payloads message as JSON; expected {_PAYLOADS_SHAPE}",
            ) from None
        return list(message.payloads)

    # -- the codec --------------------------------------------------------------------------

    def _apply(self, operation: str, payloads: Sequence[Payload]) -> list[Payload]:
        codec = self.server.codec
        if operation == "encode":
            return asyncio.run(codec.encode(payloads))
        return [self._decode(codec, index, payload) for index, payload in enumerate(payloads)]

    @staticmethod
    def _decode(codec: AesGcmCodec, index: int, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") == ENCODING:
            key_id = payload.metadata.get("encryption-key-id", b"").decode(errors="replace")
            if key_id != codec.key_id.decode():
                shown = "".join(c for c in key_id[:32] if c.isascii() and c.isalnum()) or "none"
                raise _Refusal(
                    HTTPStatus.BAD_REQUEST,
                    f"payload {index}: encrypted under another key (key id {shown}; "
                    f"this server's key id is {codec.key_id.decode()})",
                )
        try:
            return asyncio.run(codec.decode([payload]))[0]
        except (ValueError, KeyError, DecodeError):
            raise _Refusal(
                HTTPStatus.BAD_REQUEST,
                f"payload {index}: cannot be decrypted (corrupted, or not from this codec)",
            ) from None

    # -- answers ----------------------------------------------------------------------------

    def _answer(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str | None,
        *,
        preflight: bool = False,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if status >= HTTPStatus.BAD_REQUEST:
            # A refused request's body may be unread: never parse it as the next request (whose
            # "bad request line" would then be logged); the caller opens a new connection.
            self.send_header("Connection", "close")
        origin = self.headers.get("Origin")
        if origin and origin.rstrip("/") in self.server.ui_origins:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Credentials", "true")
            if preflight:
                self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
                self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Vary", "Origin")
        self.send_header("Cache-Control", "no-store")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def version_string(self) -> str:
        return self.server_version  # no Python version for callers

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug(
            "codec.request",
            method=getattr(self, "command", None),
            path=self._logged_path(),
            status=str(code),
        )

    def log_message(self, format: str, *args: Any) -> None:
        # http.server's own errors ("code %d, message %s"): the status only. The message quotes
        # the bad request line, and that may be anything a caller sent, a payload included.
        status = args[0] if args and isinstance(args[0], int) else "-"
        log.info("codec.http_error", status=str(status))


_PROTOCOL_PATH = re.compile(r"(/[A-Za-z0-9._-]{1,255})?/(encode|decode)")
"""POST /encode, /decode and the CLI's /{namespace}/encode, /{namespace}/decode."""


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


# -- the command ----------------------------------------------------------------------------


def _cipher_key(settings: Settings) -> str:
    """The same key the workers use: ``CHILDREG_CIPHER_KEY``, else the embedded stack's."""
    if settings.cipher_key is not None:
        return settings.cipher_key.get_secret_value()
    if settings.embedded:
        path = settings.data_dir / "keys" / "cipher.key"
        if path.exists():
            return generated_key(settings.data_dir, "cipher.key")
        raise _fail(
            f"no cipher key: set CHILDREG_CIPHER_KEY, or CHILDREG_DATA_DIR to the data directory "
            f"of the stack (its key {path} does not exist)"
        )
    raise _fail(
        "no cipher key (CHILDREG_CIPHER_KEY): payloads are not encrypted, "
        "the temporal CLI needs no codec server"
    )


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


def codec_server(
    port: Annotated[
        int, typer.Option("--port", help="The port (0: a free one, printed).")
    ] = DEFAULT_PORT,
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help="The address to bind (default 127.0.0.1, loopback only). Setting it also "
            "accepts requests from other machines: give --auth-file too.",
        ),
    ] = None,
    ui_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--ui-origin",
            help="A Web UI origin allowed by CORS (repeatable; default: the dev server's UI, "
            "http://localhost:8233 and http://127.0.0.1:8233).",
        ),
    ] = None,
    auth_file: Annotated[
        Path | None,
        typer.Option(
            "--auth-file",
            exists=True,
            dir_okay=False,
            readable=True,
            help="A file holding the Authorization header value every request must carry "
            "(the temporal CLI's --codec-auth).",
        ),
    ] = None,
) -> None:
    """Serve /encode and /decode with the workers' cipher key, for the temporal CLI and Web UI."""
    from workers.logs import configure_logging

    try:
        settings = load_settings()
    except SettingsError as error:
        raise _fail(str(error)) from None
    configure_logging(settings.log_format, settings.log_level)
    cipher_key = _cipher_key(settings)
    authorization = None
    if auth_file is not None:
        authorization = auth_file.read_text(encoding="utf-8").strip()
        if not authorization:
            raise _fail(f"--auth-file: {auth_file} is empty")
    try:
        server, thread = start_codec_server(
            cipher_key,
            host or DEFAULT_HOST,
            port,
            loopback_only=host is None,
            ui_origins=ui_origin or DEFAULT_UI_ORIGINS,
            authorization=authorization,
        )
    except ValueError:
        raise _fail("CHILDREG_CIPHER_KEY: not a base64 key") from None
    except OSError as error:
        raise _fail(f"cannot listen on {host or DEFAULT_HOST}:{port}: {error.strerror}") from None

    stop = threading.Event()

    def stop_serving(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop_serving)
    typer.echo(f"Codec server  {server.url}   (key id {server.codec.key_id.decode()})")
    typer.echo(f"Use it with   temporal … --codec-endpoint {server.url}", nl=True)
    if host is not None and authorization is None:
        typer.echo(
            "warning: other machines may call this server and it requires no authorization "
            "(--auth-file)",
            err=True,
        )
    while not stop.wait(0.5):
        pass
    server.close()
    thread.join(timeout=10)
