"""The words and limits behind the pages."""

from __future__ import annotations

from domain.lifecycle import State
from web.ratelimit import RateLimiter
from web.status_words import STATUS_WORDS


def test_every_state_has_words_for_the_guardian() -> None:
    assert set(STATUS_WORDS) == set(State)


def test_a_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 10, clock=lambda: now[0])

    first = [limiter.allow("k"), limiter.allow("k"), limiter.allow("k")]
    now[0] += 5
    after_five_seconds = limiter.allow("k")

    assert first == [None, None, 5]
    assert after_five_seconds is None


def test_the_least_recently_seen_keys_are_forgotten_first() -> None:
    limiter = RateLimiter(1, 60, clock=lambda: 0.0, max_keys=2)

    limiter.allow("a")
    limiter.allow("b")
    limiter.allow("c")  # "a" is forgotten: its next request is a first one again

    assert limiter.allow("a") is None
    assert limiter.allow("c") == 60
