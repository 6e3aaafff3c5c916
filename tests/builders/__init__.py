"""The one home of the tests' example data and builders.

- ``registry``: the test registry (offices, reviewers, people, accounts) and its codes;
- ``requests``: the example request of the README's "The public contract" and its variants;
- ``images``: generated document images, sharp, blurred, tiny, damaged, with GPS;
- ``notifications``: the example registration at each milestone, as ``notify_guardian`` takes it;
- ``registrations``: a driver that takes registrations through valid lifecycles on the service.

``from tests import builders`` gives the first three under one name (``builders.request``,
``builders.REVIEWER``, ``builders.sharp_jpeg``); import the last two by module.
"""

from tests.builders.images import (
    blurred_jpeg,
    encoded,
    jpeg_with_gps,
    scan,
    sharp_jpeg,
    soft_png,
    tiny_png,
    truncated_jpeg,
)
from tests.builders.registry import (
    ADULT_CHILD,
    CHILD,
    CHILD_PERSONAL_ID,
    CLOSED_OFFICE,
    GUARDIAN,
    INACTIVE_REVIEWER,
    LOCKED_GUARDIAN,
    OFFICE,
    OTHER_OFFICE,
    OTHER_REVIEWER,
    REGISTERED_CHILD,
    REVIEWER,
    SIBLING,
    STRANGER_CHILD,
    SUPERVISOR,
    four_eyes_offices,
    registry_data,
)
from tests.builders.requests import DELETE, EXAMPLE_REQUEST, a_request, card_qr, changed, request

__all__ = [
    "ADULT_CHILD",
    "CHILD",
    "CHILD_PERSONAL_ID",
    "CLOSED_OFFICE",
    "DELETE",
    "EXAMPLE_REQUEST",
    "GUARDIAN",
    "INACTIVE_REVIEWER",
    "LOCKED_GUARDIAN",
    "OFFICE",
    "OTHER_OFFICE",
    "OTHER_REVIEWER",
    "REGISTERED_CHILD",
    "REVIEWER",
    "SIBLING",
    "STRANGER_CHILD",
    "SUPERVISOR",
    "a_request",
    "blurred_jpeg",
    "card_qr",
    "changed",
    "encoded",
    "four_eyes_offices",
    "jpeg_with_gps",
    "registry_data",
    "request",
    "scan",
    "sharp_jpeg",
    "soft_png",
    "tiny_png",
    "truncated_jpeg",
]
