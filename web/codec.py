"""Temporal's codec protocol as a small ASGI application (Starlette), for the ``temporal`` CLI and
the Web UI: ``POST …/encode`` and ``POST …/decode`` run a payload codec over a ``Payloads``
protobuf as JSON (``{"payloads": [{"metadata": {"key": "<base64>"}, "data": "<base64>"}]}``, the
same shape back).

Only the last part of the path counts (``/default/decode`` is ``/decode``), as the protocol asks.
A bad request is answered with one line of text that never repeats what was sent, its body is
never read past what the checks need (the connection is closed after any error), and nothing of a
payload is ever logged. With ``loopback_only`` the app also refuses requests that do not come
from loopback or that name another host (DNS rebinding). ``workers/run/codec_server.py`` runs it.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus

import structlog
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

log = structlog.get_logger("workers.run.codec_server")

MAX_BODY_BYTES = 16 * 1024 * 1024
"""Far above Temporal's payload limits (2 MB a blob by default)."""
ALLOWED_HEADERS = "content-type, x-namespace, authorization"
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_PAYLOADS_SHAPE = '{"payloads": [{"metadata": {"<key>": "<base64>"}, "data": "<base64>"}]}'
_PROTOCOL_PATH = re.compile(r"(/[A-Za-z0-9._-]{1,255})?/(encode|decode)")
"""POST /encode, /decode and the CLI's /{namespace}/encode, /{namespace}/decode."""


@dataclass(frozen=True)
class CodecConfig:
    codec: PayloadCodec
    key_id: str
    """The key id the codec writes into ``encryption-key-id``: a payload under another is named."""
    encrypted_encoding: bytes
    """The ``encoding`` metadata of the codec's own payloads."""
    loopback_only: bool = True
    ui_origins: frozenset[str] = frozenset()
    authorization: str | None = None


class _Refusal(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def create_codec_app(
    codec: PayloadCodec,
    *,
    key_id: str,
    encrypted_encoding: bytes,
    loopback_only: bool = True,
    ui_origins: Iterable[str] = (),
    authorization: str | None = None,
) -> Starlette:
    """The codec server's application; ``authorization`` is the header every POST must carry."""
    config = CodecConfig(
        codec=codec,
        key_id=key_id,
        encrypted_encoding=encrypted_encoding,
        loopback_only=loopback_only,
        ui_origins=frozenset(origin.rstrip("/") for origin in ui_origins),
        authorization=authorization,
    )

    async def endpoint(request: Request) -> Response:
        response = await _answer(config, request)
        log.debug(
            "codec.request",
            method=request.method,
            path=_logged_path(request),
            status=str(response.status_code),
        )
        return response

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=METHODS)])


async def _answer(config: CodecConfig, request: Request) -> Response:
    if request.method == "OPTIONS":
        try:
            _check_caller(config, request)
        except _Refusal as refusal:
            return _text(config, request, refusal.status, refusal.message)
        return _respond(config, request, HTTPStatus.NO_CONTENT, b"", None, preflight=True)
    if request.method != "POST":
        return _text(
            config,
            request,
            HTTPStatus.METHOD_NOT_ALLOWED,
            "use POST /encode or POST /decode",
            extra={"Allow": "POST, OPTIONS"},
        )
    try:
        _check_caller(config, request)
        operation = _operation(request)
        _check_authorization(config, request)
        payloads = await _read_payloads(request)
        answer = Payloads(payloads=await _apply(config, operation, payloads))
    except _Refusal as refusal:
        if refusal.status >= HTTPStatus.INTERNAL_SERVER_ERROR or refusal.status in (
            HTTPStatus.UNAUTHORIZED,
            HTTPStatus.FORBIDDEN,
        ):
            log.warning("codec.refused", path=_logged_path(request), status=int(refusal.status))
        return _text(config, request, refusal.status, refusal.message)
    except Exception as error:  # an answer, not a dropped connection; no message: it may quote data
        log.error("codec.failed", path=_logged_path(request), error=type(error).__name__)
        return _text(config, request, HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")
    body = json_format.MessageToJson(answer, indent=None).encode()
    log.debug("codec.answered", operation=operation, payloads=len(payloads))
    return _respond(config, request, HTTPStatus.OK, body, "application/json")


# -- checks -----------------------------------------------------------------------------------


def _check_caller(config: CodecConfig, request: Request) -> None:
    if not config.loopback_only:
        return
    peer = ipaddress.ip_address(request.client.host if request.client else "0.0.0.0")  # noqa: S104
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped
    if not peer.is_loopback:
        raise _Refusal(
            HTTPStatus.FORBIDDEN,
            "this codec server answers loopback only (start it with --host to serve others)",
        )
    if _host_name(request.headers.get("host", "")) not in _LOOPBACK_NAMES:
        raise _Refusal(HTTPStatus.FORBIDDEN, "Host: not a loopback name")


def _check_authorization(config: CodecConfig, request: Request) -> None:
    if config.authorization is None:
        return
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), config.authorization.encode()):
        raise _Refusal(
            HTTPStatus.UNAUTHORIZED,
            "Authorization: missing or wrong (the temporal CLI sends it with --codec-auth)",
        )


def _path(request: Request) -> str:
    return request.url.path.rstrip("/")


def _logged_path(request: Request) -> str:
    """The protocol's own paths as they are, any other as "other" (a path may hold anything)."""
    path = _path(request)
    return path if _PROTOCOL_PATH.fullmatch(path) else "other"


def _operation(request: Request) -> str:
    operation = _path(request).rsplit("/", 1)[-1]
    if operation not in ("encode", "decode"):
        raise _Refusal(HTTPStatus.NOT_FOUND, "use POST /encode or POST /decode")
    return operation


async def _read_payloads(request: Request) -> list[Payload]:
    headers = request.headers
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise _Refusal(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type: application/json only")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise _Refusal(HTTPStatus.LENGTH_REQUIRED, "Content-Length: required")
    try:
        length = int(headers.get("content-length", ""))
    except ValueError:
        raise _Refusal(HTTPStatus.LENGTH_REQUIRED, "Content-Length: required") from None
    if length < 0 or length > MAX_BODY_BYTES:
        raise _Refusal(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body: at most {MAX_BODY_BYTES} bytes")
    body = await request.body()  # the server holds it to Content-Length
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


# -- the codec --------------------------------------------------------------------------------


async def _apply(config: CodecConfig, operation: str, payloads: Sequence[Payload]) -> list[Payload]:
    if operation == "encode":
        return await config.codec.encode(payloads)
    return [await _decode(config, index, payload) for index, payload in enumerate(payloads)]


async def _decode(config: CodecConfig, index: int, payload: Payload) -> Payload:
    if payload.metadata.get("encoding") == config.encrypted_encoding:
        key_id = payload.metadata.get("encryption-key-id", b"").decode(errors="replace")
        knows_key = getattr(config.codec, "knows_key", None)  # a registration's data key
        is_erased = getattr(config.codec, "is_erased", None)
        if is_erased and await is_erased(key_id):
            return payload  # an erased registration's: it stays ciphertext, for everyone
        if key_id != config.key_id and not (knows_key and await knows_key(key_id)):
            shown = "".join(c for c in key_id[:32] if c.isascii() and c.isalnum()) or "none"
            raise _Refusal(
                HTTPStatus.BAD_REQUEST,
                f"payload {index}: encrypted under another key (key id {shown}; "
                f"this server's key id is {config.key_id})",
            )
    try:
        return (await config.codec.decode([payload]))[0]
    except (ValueError, KeyError, DecodeError):
        raise _Refusal(
            HTTPStatus.BAD_REQUEST,
            f"payload {index}: cannot be decrypted (corrupted, or not from this codec)",
        ) from None


# -- answers ----------------------------------------------------------------------------------


def _text(
    config: CodecConfig,
    request: Request,
    status: HTTPStatus,
    message: str,
    extra: dict[str, str] | None = None,
) -> Response:
    return _respond(
        config, request, status, message.encode(), "text/plain; charset=utf-8", extra=extra
    )


def _respond(
    config: CodecConfig,
    request: Request,
    status: HTTPStatus,
    body: bytes,
    content_type: str | None,
    *,
    preflight: bool = False,
    extra: dict[str, str] | None = None,
) -> Response:
    headers = {"Vary": "Origin", "Cache-Control": "no-store", **(extra or {})}
    if status >= HTTPStatus.BAD_REQUEST:
        # A refused request's body may be unread: it must never be parsed as the next request;
        # the caller opens a new connection.
        headers["Connection"] = "close"
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") in config.ui_origins:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Allow-Credentials"] = "true"
        if preflight:
            headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            headers["Access-Control-Max-Age"] = "600"
    return Response(body, status_code=int(status), headers=headers, media_type=content_type)


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
