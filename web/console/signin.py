"""Signing a reviewer in: argon2id hashes, inactive reviewers refused, a lock after failures.

The same answer (:attr:`SignInResult.FAILED`) for an unknown id, a reviewer without a password and a
wrong password, so the form is no oracle of which ids exist. After ``LOCK_AFTER`` consecutive
failures the account is locked for ``LOCK_FOR``; while locked, no password is checked. Every attempt
is recorded through the store, without the password.

The same :class:`Authenticator` signs reviewers in to the console and checks ``childreg review``'s
password (``client=SignInClient.CLI``): one lock, one record of attempts. A reviewer signed in by the
organisation's OIDC provider (:meth:`Authenticator.signed_in_by_provider`) has no password checked
here; they must still be active in the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from activities.reviewer_credentials import (
    ReviewerCredentials,
    SignInClient,
    SignInMethod,
    SignInOutcome,
)
from domain.registry import RegistryLookups, Reviewer

LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12

log = structlog.get_logger(__name__)

HASHER = PasswordHasher()
"""argon2-cffi's defaults: argon2id, RFC 9106's low-memory parameters."""

_DUMMY = "a password nobody has; verified to take as long as a real one"


class SignInResult(StrEnum):
    SIGNED_IN = "signed_in"
    FAILED = "failed"
    LOCKED = "locked"
    INACTIVE = "inactive"


@dataclass(frozen=True, slots=True)
class SignIn:
    result: SignInResult
    reviewer: Reviewer | None = None


class PasswordRejected(ValueError):
    """A password that may not be set; the message names the rule."""


def hash_password(password: str, hasher: PasswordHasher = HASHER) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    return hasher.hash(password)


class Authenticator:
    """Synchronous (argon2 and the store block): call it on the thread pool."""

    def __init__(
        self,
        credentials: ReviewerCredentials,
        registry: RegistryLookups,
        clock: Callable[[], datetime],
        hasher: PasswordHasher = HASHER,
        client: SignInClient = SignInClient.CONSOLE,
    ) -> None:
        """``hasher`` only verifies (each hash carries its own parameters) and hashes the dummy
        an unknown id is checked against, so that a miss costs as long as a wrong password.
        ``client`` is what the record of each attempt names."""
        self._client = client
        self._hasher = hasher
        self._dummy = hasher.hash(_DUMMY)
        self._credentials = credentials
        self._registry = registry
        self._clock = clock

    def sign_in(self, reviewer_id: str, password: str) -> SignIn:
        now = self._clock()
        credential = self._credentials.credential(reviewer_id)
        if credential is not None and credential.locked_until and credential.locked_until > now:
            return self._outcome(reviewer_id, SignInOutcome.REFUSED_LOCKED, SignInResult.LOCKED)
        if not self._verify(credential.password_hash if credential else None, password):
            after = self._credentials.record_failure(
                reviewer_id, now, lock_after=LOCK_AFTER, lock_for=LOCK_FOR
            )
            if after is not None and after.locked_until is not None and after.locked_until > now:
                return self._outcome(reviewer_id, SignInOutcome.LOCKED, SignInResult.LOCKED)
            return self._outcome(reviewer_id, SignInOutcome.FAILED, SignInResult.FAILED)
        reviewer = self._registry.reviewer(reviewer_id)
        if reviewer is None or not reviewer.active:
            return self._outcome(reviewer_id, SignInOutcome.REFUSED_INACTIVE, SignInResult.INACTIVE)
        self._credentials.record_success(reviewer_id)
        self._record(reviewer_id, SignInOutcome.SIGNED_IN, now)
        log.info("console.signed_in", reviewer_id=reviewer_id, client=self._client.value)
        return SignIn(SignInResult.SIGNED_IN, reviewer)

    def signed_in_by_provider(self, reviewer_id: str) -> SignIn:
        """A reviewer id the OIDC provider vouched for (a verified ID token's claim): signed in
        while the registry has them active; an unknown id is :attr:`SignInResult.FAILED`."""
        now = self._clock()
        method = SignInMethod.OIDC
        reviewer = self._registry.reviewer(reviewer_id) if reviewer_id else None
        if reviewer is None:
            return self._outcome(reviewer_id, SignInOutcome.FAILED, SignInResult.FAILED, method)
        if not reviewer.active:
            return self._outcome(
                reviewer_id, SignInOutcome.REFUSED_INACTIVE, SignInResult.INACTIVE, method
            )
        self._record(reviewer_id, SignInOutcome.SIGNED_IN, now, method)
        log.info("console.signed_in", reviewer_id=reviewer_id, client=self._client.value)
        return SignIn(SignInResult.SIGNED_IN, reviewer)

    def signed_out(self, reviewer_id: str) -> None:
        self._record(reviewer_id, SignInOutcome.SIGNED_OUT, self._clock())
        log.info("console.signed_out", reviewer_id=reviewer_id)

    def _outcome(
        self,
        reviewer_id: str,
        outcome: SignInOutcome,
        result: SignInResult,
        method: SignInMethod = SignInMethod.PASSWORD,
    ) -> SignIn:
        self._record(reviewer_id, outcome, self._clock(), method)
        log.info("console.sign_in_refused", outcome=outcome.value)  # no id: it may be mistyped
        return SignIn(result)

    def _record(
        self,
        reviewer_id: str,
        outcome: SignInOutcome,
        at: datetime,
        method: SignInMethod = SignInMethod.PASSWORD,
    ) -> None:
        self._credentials.record(reviewer_id, outcome, at, self._client, method)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False
