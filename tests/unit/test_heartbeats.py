"""The liveness heartbeats' interceptor, on a fake activity, a fake outbound and a virtual clock (no
wall-clock sleep, so the figures are exact): a beat every third of the heartbeat timeout while the
activity runs, the first one a third in (none for an activity that ends sooner), none after it
ends or fails, nothing at all without a heartbeat timeout."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from workers.heartbeats import LivenessHeartbeats


class Clock:
    """Virtual time: ``sleep`` waits until ``advance`` has moved the clock past its deadline."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, woken))
        try:
            await woken
        finally:
            self._sleepers = [(at, f) for at, f in self._sleepers if f is not woken]

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper at its own deadline, in order."""
        until = self.now + seconds
        while True:
            await _settle()  # let the woken (and the tasks they start) run and sleep again
            due = [(at, f) for at, f in self._sleepers if at <= until and not f.done()]
            if not due:
                break
            at, woken = min(due, key=lambda sleeper: sleeper[0])
            self.now = max(self.now, at)
            woken.set_result(None)
        self.now = until
        await _settle()


async def _settle() -> None:
    for _ in range(5):  # a task started by a woken one needs a turn of its own
        await asyncio.sleep(0)


@dataclass
class _Info:
    heartbeat_timeout: timedelta | None


class _Outbound:
    def __init__(self, clock: Clock, heartbeat_timeout: timedelta | None) -> None:
        self._clock = clock
        self._info = _Info(heartbeat_timeout)
        self.beats: list[float] = []

    def info(self) -> _Info:
        return self._info

    def heartbeat(self, *details: Any) -> None:
        assert not details  # nothing of a child's data reaches Temporal
        self.beats.append(self._clock.now)


class _Activity:
    """The next interceptor: an activity that takes ``seconds`` and then returns or raises."""

    def __init__(self, clock: Clock, seconds: float, error: Exception | None = None) -> None:
        self._clock = clock
        self._seconds = seconds
        self._error = error
        self.ended: float | None = None

    def init(self, outbound: Any) -> None:
        pass

    async def execute_activity(self, input: Any) -> str:
        await self._clock.sleep(self._seconds)
        self.ended = self._clock.now
        if self._error is not None:
            raise self._error
        return "done"


def run(seconds: float, timeout: float | None, error: Exception | None = None) -> Any:
    """Run the activity under the interceptor, then let the clock run on for a timeout more (time
    for a beat that was not stopped). The result, the activity and the beats' times."""
    clock = Clock()
    activity = _Activity(clock, seconds, error)
    outbound = _Outbound(clock, None if timeout is None else timedelta(seconds=timeout))
    interceptor = LivenessHeartbeats(clock.sleep).intercept_activity(activity)  # type: ignore[arg-type]
    interceptor.init(outbound)  # type: ignore[arg-type]

    async def main() -> Any:
        task = asyncio.create_task(interceptor.execute_activity(None))  # type: ignore[arg-type]
        await _settle()  # the activity and its beats begin at time 0
        while not task.done():
            await clock.advance(0.5)
        await clock.advance(timeout or 1.0)
        return task.exception() or task.result()

    return asyncio.run(main()), activity, outbound.beats


def test_an_activity_that_ends_within_a_third_of_its_timeout_sends_no_heartbeat() -> None:
    result, activity, beats = run(seconds=1.5, timeout=5)

    assert result == "done"
    assert activity.ended == 1.5
    assert beats == []


def test_a_long_activity_is_heartbeaten_every_third_of_its_timeout_and_within_it() -> None:
    result, _, beats = run(seconds=11, timeout=6)

    assert result == "done"
    assert beats == [2, 4, 6, 8, 10]  # the first a third in, none after the end


def test_a_beat_is_never_late_for_a_timeout_shorter_than_a_third_of_a_second() -> None:
    _, _, beats = run(seconds=0.25, timeout=0.09)

    assert beats[0] == pytest.approx(0.03)
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    assert max(gaps) == pytest.approx(0.03)


def test_the_beats_stop_when_the_activity_fails() -> None:
    result, _, beats = run(seconds=7, timeout=6, error=RuntimeError("refused"))

    assert isinstance(result, RuntimeError)
    assert str(result) == "refused"
    assert beats == [2, 4, 6]  # beaten while it ran, none after


def test_without_a_heartbeat_timeout_nothing_is_sent() -> None:
    result, activity, beats = run(seconds=30, timeout=None)

    assert result == "done"
    assert activity.ended == 30
    assert beats == []
