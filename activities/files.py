"""Files written whole or not at all: the kept documents, the intake, the SMS outbox, the SMTP
sink's messages."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file of its own beside ``path`` (mode 0600), flush it to
    disk and move it into place: no reader sees a partial file, two writers never share a
    temporary file, and a failed write leaves none behind. The directory must exist."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
