"""``childreg codec-server``: a Temporal codec server for the AES-GCM payload codec.

With a cipher key, Temporal holds only ciphertext, so the ``temporal`` CLI and the Web UI cannot
read query answers, update answers or results, nor encrypt what they send. A codec server is
Temporal's answer: an HTTP service with ``POST …/encode`` and ``POST …/decode`` that runs the
project's :class:`~workers.temporal_client.AesGcmCodec` on a ``Payloads`` protobuf as JSON
(``{"payloads": [{"metadata": {"key": "<base64>"}, "data": "<base64>"}]}``, the same shape
back). The CLI uses it with ``--codec-endpoint http://127.0.0.1:8081`` (``--codec-auth`` when the
server requires an ``Authorization`` header); the Web UI with its codec endpoint setting, which
needs the CORS answers below.

The protocol itself is :mod:`web.codec`, a small ASGI application; this module runs it on
uvicorn (on a thread of its own for ``childreg dev``) and is the command. Bound to loopback, the
server refuses requests that do not come from loopback or that name another host (DNS
rebinding); ``--host`` lifts that, for a codec server beside a production worker (then give it
``--auth-file``).
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
import uvicorn

from activities.keys import DataKeys
from web.codec import create_codec_app
from workers.bootstrap import resolve
from workers.embedded import generated_key
from workers.settings import Settings, SettingsError, load_settings
from workers.temporal_client import ENCODING, AesGcmCodec

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081
DEFAULT_UI_ORIGINS = ("http://localhost:8233", "http://127.0.0.1:8233")
"""The dev server's Web UI, under both names a browser may use for it."""


class CodecServer:
    """uvicorn serving :func:`web.codec.create_codec_app` on a thread of its own, on a socket bound
    before the thread starts (so a taken port is an ``OSError`` at once)."""

    def __init__(
        self,
        address: tuple[str, int],
        codec: AesGcmCodec,
        *,
        loopback_only: bool = True,
        ui_origins: Iterable[str] = DEFAULT_UI_ORIGINS,
        authorization: str | None = None,
    ) -> None:
        self.codec = codec
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind(address)
            self._socket.listen(128)
        except OSError:
            self._socket.close()
            raise
        self.server_address: tuple[str, int] = self._socket.getsockname()[:2]
        app = create_codec_app(
            codec,
            key_id=codec.key_id.decode(),
            encrypted_encoding=ENCODING,
            loopback_only=loopback_only,
            ui_origins=ui_origins,
            authorization=authorization,
        )
        config = uvicorn.Config(
            app,
            access_log=False,  # web.codec logs each request, its path reduced to the protocol's
            log_config=None,
            server_header=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        """What to give the CLI as ``--codec-endpoint`` (the port actually bound)."""
        host, port = self.server_address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def serve_forever(self) -> None:
        # Not the main thread: uvicorn installs no signal handlers of its own.
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._socket.close()
            self._stopped.set()

    def wait_started(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        """Stop serving (from any thread but the serving one) and release the port."""
        self._server.should_exit = True
        if not self._stopped.wait(timeout=10):
            self._socket.close()


def start_codec_server(
    cipher_key: str,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    loopback_only: bool = True,
    ui_origins: Iterable[str] = DEFAULT_UI_ORIGINS,
    authorization: str | None = None,
    data_keys: DataKeys | None = None,
) -> tuple[CodecServer, threading.Thread]:
    """Serve ``/encode`` and ``/decode`` for ``cipher_key`` on a daemon thread.

    ``port`` 0 picks a free port (``server.url`` says which). ``loopback_only`` refuses
    requests from other machines; ``ui_origins`` are the Web UI origins CORS allows;
    ``authorization``, when given, is the ``Authorization`` header every request must carry.
    Stop it with ``server.close()``, then ``thread.join()``. Raises ``OSError`` when the port
    is taken and ``ValueError`` when the key is not base64.
    """
    codec = AesGcmCodec(cipher_key, data_keys)
    server = CodecServer(
        (host, port),
        codec,
        loopback_only=loopback_only,
        ui_origins=ui_origins,
        authorization=authorization,
    )
    thread = threading.Thread(target=server.serve_forever, name="codec-server", daemon=True)
    thread.start()
    server.wait_started()
    return server, thread


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
            data_keys=DataKeys(lambda: resolve(settings).database_url, cipher_key),
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
