"""`PostgresNotifier`: local asyncio wake-ups plus LISTEN/NOTIFY across replicas."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Collection, Iterable
from typing import Any

import asyncpg

from gateway.notifier import LocalNotifier
from gateway.storage.postgres_schema import channel_name, quote_ident

log = logging.getLogger(__name__)

WILDCARD = "*"


class PostgresNotifier:
    """`gateway.ports.Notifier` for replicas sharing one PostgreSQL schema.

    `notify()` wakes local waiters at once (the committing storage already sent `pg_notify` in its
    transaction); NOTIFY payloads from any replica (newline-separated topics, or "*" for
    everything) wake local waiters too. One dedicated connection LISTENs; if it drops, it is
    re-opened with backoff and every waiter is woken, since notifications may have been missed.
    """

    def __init__(self, dsn: str, schema: str, *, reconnect_delay: float = 0.5) -> None:
        self.dsn = dsn
        self.schema = schema
        self.channel = channel_name(schema)
        self.reconnect_delay = reconnect_delay
        self._local = LocalNotifier()
        self._waited: Counter[str] = Counter()
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self) -> None:
        """Connect and LISTEN (raises if the database is unreachable now); keeps listening after."""
        await self._connect()
        self._task = asyncio.create_task(self._supervise(), name="gateway-pg-listen")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._disconnect()

    # ------------------------------------------------------------------ the Notifier port

    def notify(self, topics: Iterable[str]) -> None:
        self._local.notify(topics)

    async def wait(self, topics: Collection[str], timeout: float) -> bool:
        # Counted so that a "*" payload can wake exactly the topics someone waits on.
        self._waited.update(topics)
        try:
            return await self._local.wait(topics, timeout)
        finally:
            self._waited.subtract(topics)
            for t in topics:
                if self._waited[t] <= 0:
                    del self._waited[t]

    def wake_all(self) -> None:
        self._local.notify(list(self._waited))

    # ------------------------------------------------------------------ LISTEN

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload == WILDCARD:
            self.wake_all()
        else:
            self._local.notify(payload.split("\n"))

    def _on_terminate(self, _conn: Any) -> None:
        self._lost.set()

    async def _connect(self) -> None:
        conn = await asyncpg.connect(self.dsn, timeout=5.0)
        try:
            await conn.add_listener(self.channel, self._on_notify)
        except BaseException:
            await conn.close()
            raise
        conn.add_termination_listener(self._on_terminate)
        self._conn = conn
        self._lost.clear()
        self.connected.set()

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        self.connected.clear()
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await conn.remove_listener(self.channel, self._on_notify)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2.0)

    async def _supervise(self) -> None:
        while True:
            # The termination callback covers a clean close; the periodic check covers a socket
            # that died without one.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), 5.0)
            conn = self._conn
            if conn is not None and not conn.is_closed() and not self._lost.is_set():
                try:
                    await asyncio.wait_for(conn.execute("SELECT 1"), 5.0)
                    continue
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                    pass
            log.warning("LISTEN connection on %s lost; reconnecting", quote_ident(self.channel))
            await self._disconnect()
            delay = self.reconnect_delay
            while True:
                try:
                    await self._connect()
                    break
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                    log.warning("LISTEN reconnect failed: %s", exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
            self.wake_all()
