"""The one source of time: the system clock in production, a manual clock in tests."""

from __future__ import annotations

import asyncio
import time


class SystemClock:
    """Wall-clock time; `sleep` is `asyncio.sleep`."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that only moves when told to. Sleepers wake when time passes their deadline."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._changed = asyncio.Event()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self._changed.set()
        self._changed = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        deadline = self._now + seconds
        while self._now < deadline:
            changed = self._changed
            # A real-time cap keeps a forgotten sleeper from hanging a test forever.
            try:
                await asyncio.wait_for(changed.wait(), timeout=0.05)
            except TimeoutError:
                pass
