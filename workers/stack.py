"""Where a running ``childreg dev`` can be reached: a small file in its data directory.

``childreg dev`` writes ``<data dir>/stack.json`` once its servers answer and removes it when it
stops, so every other ``childreg`` command run beside it (same ``CHILDREG_DATA_DIR``) reaches its
Temporal server with no other setting. Explicit settings always win.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from workers.settings import Settings

DEFAULT_TEMPORAL_ADDRESS = "localhost:7233"


class Stack(BaseModel):
    temporal_address: str
    temporal_ui: str
    codec_endpoint: str | None = None
    database_url: str
    smtp_port: int
    mail_dir: str
    sms_dir: str
    metrics: str | None = None
    web: str | None = None
    """The web tier's base URL (guardians' links, ``POST /v1/documents``)."""


def stack_file(data_dir: Path) -> Path:
    return data_dir / "stack.json"


def write_stack(data_dir: Path, stack: Stack) -> None:
    path = stack_file(data_dir)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(stack.model_dump_json(indent=2))
    temporary.replace(path)


def read_stack(data_dir: Path) -> Stack | None:
    try:
        return Stack.model_validate(json.loads(stack_file(data_dir).read_text()))
    except (OSError, ValueError):
        return None


def temporal_address(settings: Settings) -> str:
    """The configured Temporal address, else the running dev stack's, else the default."""
    if settings.temporal_address:
        return settings.temporal_address
    stack = read_stack(settings.data_dir)
    return stack.temporal_address if stack else DEFAULT_TEMPORAL_ADDRESS
