"""The e2e tests share the workflow tests' stack fixtures (database, adapters)."""

from tests.workflow.conftest import adapters

__all__ = ["adapters"]
