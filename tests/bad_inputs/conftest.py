"""The sweep's signals and updates use the fixtures of tests/workflow (one time-skipping
environment per session, a worker per test); the HTTP cases those of tests/integration/web."""

from tests.integration.web.conftest import client, make_web, web
from tests.integration.web.test_console_registration import console
from tests.workflow.conftest import adapters, stack, temporal

__all__ = ["adapters", "client", "console", "make_web", "stack", "temporal", "web"]
