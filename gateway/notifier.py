"""In-process wake-ups by topic (the `Notifier` port); the PostgreSQL backend adds LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable


class LocalNotifier:
    """asyncio-based notifier: `notify` wakes every current waiter of any of the topics."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}

    def notify(self, topics: Iterable[str]) -> None:
        waiters = self._waiters
        for topic in topics:
            futs = waiters.pop(topic, None)
            if futs:
                for fut in futs:
                    if not fut.done():
                        fut.set_result(None)

    async def wait(self, topics: Collection[str], timeout: float) -> bool:
        if timeout <= 0:
            return False
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for topic in topics:
            self._waiters.setdefault(topic, set()).add(fut)
        try:
            await asyncio.wait_for(asyncio.shield(fut), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            for topic in topics:
                futs = self._waiters.get(topic)
                if futs is not None:
                    futs.discard(fut)
                    if not futs:
                        del self._waiters[topic]
