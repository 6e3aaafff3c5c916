"""The web application's factory: routes, pages, middleware, handed their dependencies."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from web.access_log import AccessLog
from web.console.router import console_routes
from web.declarations import declaration_routes
from web.dependencies import WebDependencies
from web.errors import error_response
from web.health import health_routes
from web.intake import intake_routes
from web.pages import Pages
from web.security import SecurityHeaders

TITLE = "childreg"
DESCRIPTION = (
    "The part of the child-account registration service that people and non-Temporal clients "
    "reach: the upstreams' document intake and the operators' health checks. Registrations "
    "themselves start through Temporal (workflow `ChildAccountRegistration`)."
)


def create_app(deps: WebDependencies) -> FastAPI:
    """The ASGI application. Builds no connection: everything it talks to is in ``deps``."""
    pages = Pages()
    app = FastAPI(
        title=TITLE,
        description=DESCRIPTION,
        version="1",
        docs_url=None,  # the interactive docs load scripts from elsewhere: not under this CSP
        redoc_url=None,
    )
    app.include_router(declaration_routes(deps, pages))
    app.include_router(intake_routes(deps))
    app.include_router(health_routes(deps))
    if deps.console is not None:
        app.include_router(
            console_routes(
                deps.console, deps.registry, deps.registrations, deps.documents, deps.clock
            )
        )
    app.mount("/static", StaticFiles(directory=str(files("web") / "static")), name="static")

    @app.exception_handler(HTTPException)
    async def not_found(request: Request, error: HTTPException) -> Response:
        # A guardian who mistyped their link sees the same page as for any invalid link.
        if error.status_code == 404 and request.url.path.startswith("/declarations"):
            return HTMLResponse(pages.invalid(), status_code=404)
        if error.status_code == 404 and request.url.path.startswith("/console"):
            return HTMLResponse(pages.console_not_found(), status_code=404)
        return error_response(error.status_code, "path", str(error.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": ("request",), "msg": "invalid"}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "body"
        return error_response(400, where, str(first.get("msg", "invalid")))

    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)
    return app
