"""The example request (DESIGN §6's: a father registering his son at the Quận 1 office), as an
upstream sends it, and its variants.

Every test that needs a request starts from :data:`EXAMPLE_REQUEST`; ``changes`` replace parts of
it by dotted path written with double underscores (``child__full_name="…"``), and
:data:`DELETE` removes a part.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.builders.registry import CHILD, GUARDIAN, OFFICE

EXAMPLE_REQUEST: dict[str, Any] = {
    "request_id": "vssid-20261125-000123",
    "submitted_at": "2026-11-25T09:00:00+07:00",
    "guardian": {
        "social_insurance_code": GUARDIAN,
        "full_name": "Nguyễn Văn An",
        "relationship": "father",
        "phone": "0912345678",
        "email": "an.nguyen@example.vn",
    },
    "child": {
        "social_insurance_code": CHILD,
        "full_name": "Nguyễn Minh Khôi",
        "date_of_birth": "2019-03-14",
        "health_insurance_card_qr": None,
    },
    "documents": {"portrait": "sha256:" + "a" * 64, "birth_certificate": "sha256:" + "b" * 64},
    "office_code": OFFICE,
    "commitment": {"accepted": True, "accepted_at": "2026-11-25T08:59:40+07:00"},
}
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
