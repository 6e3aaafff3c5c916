"""``POST /v1/documents``: an upstream puts a document into the intake over HTTP.

The image is the request body. The order of the checks is the order of the answers: the bearer
token (401), the declared type (415), the size while reading (413: never more than the limit is
buffered), then the content: JPEG or PNG by its bytes (415), and the storage activity's own checks
(decodable, not a decompression bomb, large and sharp enough: 400, or 413 past the pixel limit),
so an upstream learns at once what the workflow would refuse later. What passes goes into the
same encrypted, content-addressed intake as ``childreg documents put``: the same bytes always
answer the same reference.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import warnings
from collections.abc import Sequence

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from activities.documents import MAX_BYTES, MAX_PIXELS, DocumentRefused, image_format, inspect
from web.dependencies import WebDependencies
from web.errors import ErrorBody, error_response

log = structlog.get_logger(__name__)

MEDIA_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG"}


class Reference(BaseModel):
    reference: str
    """``sha256:`` and the hex SHA-256 of the bytes sent: the document's claim check."""


_ERRORS = {
    "model": ErrorBody,
    "content": {"application/json": {"example": {"error": {"field": "body", "rule": "…"}}}},
}

OPENAPI_BODY = {
    "requestBody": {
        "required": True,
        "description": f"The image's bytes, at most {MAX_BYTES} bytes.",
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA_TYPES
        },
    }
}


class BearerTokens:
    """The accepted tokens, compared in constant time (every token is compared, every time)."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self._digests = [hashlib.sha256(token.encode()).digest() for token in tokens if token]

    def accepts(self, authorization: str | None) -> bool:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return False
        digest = hashlib.sha256(given.strip().encode("utf-8", "replace")).digest()
        found = False
        for accepted in self._digests:
            found |= hmac.compare_digest(digest, accepted)
        return found


class _Refused(Exception):
    def __init__(self, status: int, field: str, rule: str) -> None:
        super().__init__(rule)
        self.status = status
        self.field = field
        self.rule = rule


def intake_routes(deps: WebDependencies) -> APIRouter:
    router = APIRouter()
    tokens = BearerTokens(deps.intake_tokens)

    @router.post(
        "/v1/documents",
        status_code=201,
        response_model=Reference,
        summary="Put a document (JPEG or PNG) into the intake",
        description=(
            "Answers the document's `sha256:` reference, to pass in the registration request's "
            "`documents`. Authenticate with `Authorization: Bearer <token>`."
        ),
        openapi_extra=OPENAPI_BODY,
        responses={
            400: {"description": "An empty body or an unreadable image", **_ERRORS},
            401: {"description": "No valid bearer token", **_ERRORS},
            413: {"description": "Past the size limit (bytes or pixels)", **_ERRORS},
            415: {"description": "Not a JPEG or PNG (declared or by content)", **_ERRORS},
        },
    )
    async def put_document(request: Request) -> Response:
        try:
            if not tokens.accepts(request.headers.get("authorization")):
                raise _Refused(401, "authorization", "a valid bearer token is required")
            declared = _media_type(request.headers.get("content-type"))
            data = await _read_body(request)
            await run_in_threadpool(_check, data, declared)
            reference = await run_in_threadpool(deps.documents.put, data)
        except _Refused as refused:
            log.info("intake.refused", status=refused.status, field=refused.field)
            headers = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else None
            return error_response(refused.status, refused.field, refused.rule, headers)
        log.info("intake.stored", format=declared, size=len(data))
        return JSONResponse(Reference(reference=reference).model_dump(), status_code=201)

    return router


def _media_type(content_type: str | None) -> str:
    media = (content_type or "").partition(";")[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise _Refused(415, "content_type", "the body must be sent as image/jpeg or image/png")
    return MEDIA_TYPES[media]


async def _read_body(request: Request) -> bytes:
    """The body, read chunk by chunk and given up on as soon as it passes the limit."""
    too_large = _Refused(413, "body", f"a document must be at most {MAX_BYTES} bytes")
    length = request.headers.get("content-length")
    declared: int | None = None
    if length is not None:
        if not length.isascii() or not length.isdigit():
            raise _Refused(400, "content_length", "must be a whole number of bytes")
        declared = int(length)
        if declared > MAX_BYTES:
            raise too_large  # refused before a single byte is read
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > MAX_BYTES:
            raise too_large
    if declared is not None and len(received) != declared:
        raise _Refused(400, "body", "the body is not as long as its Content-Length")
    if not received:
        raise _Refused(400, "body", "the body is empty: send the image's bytes")
    return bytes(received)


def _check(data: bytes, declared: str) -> None:
    _refuse_bombs(data)
    try:
        found = image_format(data)
    except DocumentRefused as refused:
        raise _Refused(415, "body", refused.rule) from None
    if found != declared:
        raise _Refused(
            415, "content_type", f"the body is a {found} image: send it as image/{found.lower()}"
        )
    try:
        inspect(data)
    except DocumentRefused as refused:
        status = 413 if refused.reason_code == "DOCUMENT_TOO_LARGE" else 400
        raise _Refused(status, "body", refused.rule) from None


def _refuse_bombs(data: bytes) -> None:
    """Refuse an image whose header announces more than ``MAX_PIXELS``, before any decoding.

    Pillow warns past 89 million pixels and raises past twice that, while opening; the storage
    activity turns both into "cannot be decoded". Here the upstream is told the rule it broke.
    """
    too_many = _Refused(413, "body", f"a document must be at most {MAX_PIXELS} pixels")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                pixels = image.width * image.height
    except Image.DecompressionBombError:
        raise too_many from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return  # not an image at all: the content check answers that
    if pixels > MAX_PIXELS:
        raise too_many
