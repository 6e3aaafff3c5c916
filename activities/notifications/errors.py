"""How an adapter says a message could not be delivered, without saying to whom."""

from __future__ import annotations


class DeliveryError(Exception):
    """A message was not delivered.

    ``permanent``: the server or gateway refused this message for good (SMTP 5xx for the
    recipient, a 4xx from the SMS gateway): recorded as failed, never retried. Otherwise the
    failure is transient (connection refused, timeout, SMTP 4xx, gateway 5xx) and the activity is
    retried by Temporal with backoff.

    ``detail`` names the failure class and code only (e.g. ``smtp 550``, ``http 503``,
    ``ConnectionRefusedError``): it is stored in the journal and shown in Temporal, so it never
    holds an address, a name or the server's free text (which often quotes the address).
    """

    def __init__(self, detail: str, *, permanent: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
