"""The liveness heartbeats' interceptor, on a fake activity and a fake outbound: a beat every third
of the heartbeat timeout while the activity runs, the first one a third in (none for an activity
that ends sooner), none after it ends, nothing at all without a heartbeat timeout."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from workers.heartbeats import _Heartbeating


@dataclass
class _Info:
    heartbeat_timeout: timedelta | None


class _Outbound:
    def __init__(self, heartbeat_timeout: timedelta | None) -> None:
        self._info = _Info(heartbeat_timeout)
        self.beats: list[float] = []

    def info(self) -> _Info:
        return self._info

    def heartbeat(self, *details: Any) -> None:
        assert not details  # nothing of a child's data reaches Temporal
        self.beats.append(time.monotonic())


class _Activity:
    """The next interceptor: an activity that takes ``seconds`` and then returns or raises."""

    def __init__(self, seconds: float, error: Exception | None = None) -> None:
        self._seconds = seconds
        self._error = error
        self.started = self.ended = 0.0

    def init(self, outbound: Any) -> None:
        pass

    async def execute_activity(self, input: Any) -> str:
        self.started = time.monotonic()
        await asyncio.sleep(self._seconds)
        self.ended = time.monotonic()
        if self._error is not None:
            raise self._error
        return "done"


async def run(activity: _Activity, outbound: _Outbound, after: float = 0.0) -> str:
    interceptor = _Heartbeating(activity)  # type: ignore[arg-type]
    interceptor.init(outbound)  # type: ignore[arg-type]
    try:
        result: str = await interceptor.execute_activity(None)  # type: ignore[arg-type]
    finally:
        await asyncio.sleep(after)  # time for a beat that was not stopped
    return result


def test_an_activity_that_ends_within_a_third_of_its_timeout_sends_no_heartbeat() -> None:
    activity, outbound = _Activity(0.05), _Outbound(timedelta(seconds=0.3))

    result = asyncio.run(run(activity, outbound, after=0.3))

    assert result == "done"
    assert outbound.beats == []


def test_a_long_activity_is_heartbeaten_every_third_of_its_timeout_and_within_it() -> None:
    activity, outbound = _Activity(0.75), _Outbound(timedelta(seconds=0.3))

    asyncio.run(run(activity, outbound, after=0.3))

    # A beat every 0.1 s: the first a third in, never a gap near the timeout, none after the end.
    assert len(outbound.beats) >= 4, outbound.beats
    assert 0.09 <= outbound.beats[0] - activity.started < 0.3
    gaps = [b - a for a, b in zip(outbound.beats, outbound.beats[1:], strict=False)]
    assert max(gaps) < 0.3, gaps
    assert outbound.beats[-1] <= activity.ended


def test_the_beats_stop_when_the_activity_fails() -> None:
    activity, outbound = _Activity(0.25, RuntimeError("refused")), _Outbound(timedelta(seconds=0.3))

    with pytest.raises(RuntimeError, match="refused"):
        asyncio.run(run(activity, outbound, after=0.3))

    assert outbound.beats  # it was beaten while it ran
    assert outbound.beats[-1] <= activity.ended


def test_without_a_heartbeat_timeout_nothing_is_sent() -> None:
    activity, outbound = _Activity(0.3), _Outbound(None)

    result = asyncio.run(run(activity, outbound))

    assert result == "done"
    assert outbound.beats == []
