"""One storage conformance suite over every backend: memory, sqlite and postgres.

Each test gets a fresh storage; sqlite in its own temp file, postgres in its own schema (dropped
afterwards) so runs cannot collide. `reopen` gives a second storage on the same location, for the
durable backends' restart tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

POSTGRES_DSN = os.environ.get("GATEWAY_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")

Factory = Callable[[], Awaitable[Any]]


def _factory(backend: str, tmp_path: Path) -> tuple[Factory, Callable[[Any], Awaitable[None]]]:
    if backend == "memory":
        from gateway.storage.memory import MemoryStorage

        async def make() -> Any:
            s = MemoryStorage()
            await s.open()
            return s

        async def cleanup(s: Any) -> None:
            return None

    elif backend == "sqlite":
        from gateway.storage.sqlite import SqliteStorage

        path = str(tmp_path / "gateway.db")

        async def make() -> Any:
            s = SqliteStorage(path)
            await s.open()
            return s

        async def cleanup(s: Any) -> None:
            return None

    elif backend == "postgres":
        from gateway.storage.postgres import PostgresStorage

        schema = f"t_{uuid.uuid4().hex[:12]}"

        async def make() -> Any:
            s = PostgresStorage(POSTGRES_DSN, schema=schema, pool_size=4)
            await s.open()
            return s

        async def cleanup(s: Any) -> None:
            await s.drop_schema()

    else:  # pragma: no cover
        raise ValueError(backend)
    return make, cleanup


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    make, cleanup = _factory(request.param, tmp_path)
    s = await make()
    try:
        yield s
    finally:
        await s.close()
        s2 = await make() if request.param == "postgres" else s
        await cleanup(s2)
        if s2 is not s:
            await s2.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def durable(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Any, Factory]]:
    """A durable storage plus a factory that opens another one on the same data."""
    make, cleanup = _factory(request.param, tmp_path)
    s = await make()
    opened = [s]

    async def reopen() -> Any:
        s2 = await make()
        opened.append(s2)
        return s2

    try:
        yield s, reopen
    finally:
        for st in opened:
            try:
                await st.close()
            except Exception:
                pass
        last = await make()
        await cleanup(last)
        await last.close()
