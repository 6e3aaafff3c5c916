"""Liveness heartbeats: a killed worker's activities are retried within seconds, not minutes.

An activity scheduled with a ``heartbeat_timeout`` is heartbeaten by this interceptor every third
of that timeout for as long as the worker runs it, from the worker's event loop (the activities
themselves are synchronous, in a thread pool, and need not know). The first beat is a third of
the timeout in: Temporal starts the activity's heartbeat clock when the activity starts, so one
that ends sooner (most: a document check, an email) needs none, and sending one at the start cost
every such activity a call to the server for nothing. A heartbeat says only "this
worker is alive and still on it": when the worker dies, the heartbeats stop and Temporal hands
the activity to another worker after the heartbeat timeout, however long its start-to-close
timeout is. Heartbeats carry no details (nothing of a child's data reaches Temporal).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.worker import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

Sleep = Callable[[float], Awaitable[None]]


class LivenessHeartbeats(Interceptor):
    def __init__(self, sleep: Sleep = asyncio.sleep) -> None:
        self._sleep = sleep  # the tests' clock; asyncio's everywhere else

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Heartbeating(next, self._sleep)


class _Heartbeating(ActivityInboundInterceptor):
    _outbound: ActivityOutboundInterceptor

    def __init__(self, next: ActivityInboundInterceptor, sleep: Sleep) -> None:
        super().__init__(next)
        self._sleep = sleep

    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        self._outbound = outbound
        super().init(outbound)

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        timeout = self._outbound.info().heartbeat_timeout
        if not timeout:
            return await self.next.execute_activity(input)
        every = timeout.total_seconds() / 3

        async def beat() -> None:
            while True:
                await self._sleep(every)
                self._outbound.heartbeat()

        beating = asyncio.create_task(beat())
        try:
            return await self.next.execute_activity(input)
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
