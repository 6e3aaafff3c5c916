"""An in-process rate limiter: a token bucket per key, with a bounded number of keys.

Per process (see :class:`web.dependencies.RateLimits`). The buckets live in an LRU map so a flood
of distinct keys (random tokens, spoofed addresses) costs bounded memory: the least recently seen
keys are forgotten first, which can only ever let a forgotten client through sooner.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_KEYS = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``allow(key)`` takes one request from the key's bucket: None when allowed, else the seconds
    until one more request would be (for ``Retry-After``)."""

    def __init__(
        self,
        requests: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] | None = None,
        max_keys: int = MAX_KEYS,
    ) -> None:
        if requests < 1 or window_seconds <= 0:
            raise ValueError("a rate limit needs at least one request per positive window")
        self._capacity = float(requests)
        self._rate = requests / window_seconds
        self._clock = clock or time.monotonic
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> int | None:
        now = self._clock()
        with self._lock:
            bucket = self._buckets.pop(key, None)
            if bucket is None:
                bucket = _Bucket(self._capacity, now)
            else:
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(self._capacity, bucket.tokens + elapsed * self._rate)
                bucket.updated = now
            self._buckets[key] = bucket
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / self._rate))
