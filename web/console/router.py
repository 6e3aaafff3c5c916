"""The console's routes assembled: sign-in and queue, and the registration page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter

from activities.documents import DocumentStore
from domain.registry import RegistryLookups
from domain.service import RegistrationService
from web.console.dependencies import ConsoleDependencies
from web.console.registration import registration_routes
from web.console.routes import Console, session_routes, templates


def console_routes(
    deps: ConsoleDependencies,
    registry: RegistryLookups,
    service: RegistrationService,
    documents: DocumentStore,
    clock: Callable[[], datetime],
) -> APIRouter:
    console = Console(deps, registry, templates(), clock)
    router = APIRouter()
    router.include_router(session_routes(console, clock))
    router.include_router(
        registration_routes(console, service, documents, deps.decide, clock, deps.claims)
    )
    return router
