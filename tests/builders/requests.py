"""The example request of the README's "The public contract" (a father registering his son at the
Quận 1 office), as an
upstream sends it, and its variants.

Every test that needs a request starts from :data:`EXAMPLE_REQUEST`; ``changes`` replace parts of
it by dotted path written with double underscores (``child__full_name="…"``), and
:data:`DELETE` removes a part.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.builders.registry import CHILD

EXAMPLE_FILE = Path(__file__).with_name("example.json")
"""The one home of the example: the request of the README's "The public contract" at a milestone,
with each kind's details. ``childreg notifications preview --example`` renders the same file."""

EXAMPLE: dict[str, Any] = json.loads(EXAMPLE_FILE.read_text(encoding="utf-8"))
EXAMPLE_REQUEST: dict[str, Any] = EXAMPLE["milestone"]["request"]
"""Read it through :func:`a_request` (a fresh copy); never change it in place."""

_DELETE = object()
DELETE: Any = _DELETE


def changed(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``body`` with ``changes`` applied in place, by dotted path; returns ``body``."""
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = body
        for part in parents:
            target = target[part]
        if value is _DELETE:
            target.pop(last, None)
        else:
            target[last] = value
    return body


def a_request(**changes: Any) -> dict[str, Any]:
    """The example request (JSON), with ``changes``."""
    return changed(copy.deepcopy(EXAMPLE_REQUEST), **changes)


def card_qr(code: str = CHILD, name: str = "Nguyễn Minh Khôi", born: str = "14/03/2019") -> str:
    """The text of a new card's QR code (16 fields, names hex-encoded)."""
    fields = [
        code, name.encode().hex(), born, "1", "-", "79 - 79001", "01/01/2025", "-",
        "20/12/2024", "-", "Nguyễn Văn An".encode().hex(), "-", "-", "5f0e2a9c", "1",
        "BHXH thành phố Hồ Chí Minh".encode().hex(),
    ]  # fmt: skip
    return "|".join(fields) + "$"


def request(
    request_id: str, portrait: str, birth_certificate: str, **changes: Any
) -> dict[str, Any]:
    """The example with its own id, documents put into an intake and the card's QR code: a valid
    request the registry of :mod:`tests.builders.registry` accepts; then ``changes``."""
    body = a_request(
        request_id=request_id,
        documents={"portrait": portrait, "birth_certificate": birth_certificate},
        child__health_insurance_card_qr=card_qr(),
    )
    return changed(body, **changes)
