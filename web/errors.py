"""The JSON error body of the API routes: ``{"error": {"field": …, "rule": …}}``."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from pydantic import BaseModel


class ErrorDetail(BaseModel):
    field: str
    """Which part of the request broke the rule: ``authorization``, ``content_type``, ``body``."""
    rule: str


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_response(
    status: int, field: str, rule: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(field=field, rule=rule))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)
