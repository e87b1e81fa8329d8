"""Core benchmark: job cycles per second (create -> lease -> complete), in-process.

For each storage backend and each concurrency (cycles in flight), C asyncio tasks loop: commit a
new job through the scheduler, lease it with `activate`, complete it (which posts a completion event
into the job's instance). Two variants: `cycle` is exactly that; `cycle+step` also registers a
trivial engine that consumes every completion event in an instance step, as real engines do (one more
commit per cycle). Beside each backend, the raw ceiling of the same storage is measured in the same
run:
- sqlite: plain sqlite3 (WAL, synchronous=NORMAL), the same three writes per cycle, batched 64 per
  transaction;
- postgres: asyncpg, batched insert of 64 jobs, one `FOR UPDATE SKIP LOCKED` claim of 64, batched delete;
- memory: an asyncio.Queue put/get per cycle (the cost of the event loop alone).

Usage: `python bench/core.py [--seconds 3] [--repeat 3] [--backends memory,sqlite,postgres]`.
Prints medians and the ratio to the ceiling; the machine is shared and noisy, so quote medians.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.clock import SystemClock
from gateway.model import Commit, Instance, InstanceUpdate, Job, NewInstance, StepClaim
from gateway.notifier import LocalNotifier
from gateway.scheduler import CoreScheduler

DSN = os.environ.get("GATEWAY_BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
CONCURRENCY = (1, 16, 64)


class ConsumeEngine:
    """Consumes whatever reaches the bench instances' inboxes, like a real engine would."""

    name = "bench"

    async def decide(self, claim: StepClaim, now: float) -> Commit:
        return Commit(updates=[InstanceUpdate(claim.instance.id, consume_upto=claim.inbox[-1].seq)])


async def open_storage(backend: str, tmp: str) -> tuple[Any, Any]:
    if backend == "memory":
        from gateway.storage.memory import MemoryStorage

        storage: Any = MemoryStorage()
        cleanup = None
    elif backend == "sqlite":
        from gateway.storage.sqlite import SqliteStorage

        storage = SqliteStorage(os.path.join(tmp, f"bench-{uuid.uuid4().hex[:6]}.db"))
        cleanup = None
    else:
        from gateway.storage.postgres import PostgresStorage

        storage = PostgresStorage(DSN, schema=f"bench_{uuid.uuid4().hex[:8]}", pool_size=8)
        cleanup = storage
    await storage.open()
    return storage, cleanup


async def run_cycles(backend: str, concurrency: int, seconds: float, tmp: str, step: bool) -> float:
    storage, cleanup = await open_storage(backend, tmp)
    notifier: Any = LocalNotifier()
    if backend == "postgres":
        from gateway.storage.postgres import PostgresNotifier

        notifier = PostgresNotifier(DSN, storage.schema)
        await notifier.start()
    sched = CoreScheduler(storage, SystemClock(), notifier, poll_interval=0.5)
    if step:
        sched.register_engine(ConsumeEngine())
    await sched.start()
    # One instance per worker task, so completion events spread like real traffic.
    await sched.commit(
        Commit(create_instances=[NewInstance(Instance(f"b{k}", "bench")) for k in range(concurrency)])
    )
    counter = itertools.count()
    done = 0
    stop_at = time.perf_counter() + seconds

    async def worker(k: int) -> None:
        nonlocal done
        queue = f"q{k % 4}"
        iid = f"b{k}"
        while time.perf_counter() < stop_at:
            job_id = f"j{next(counter)}"
            await sched.commit(Commit(new_jobs=[Job(job_id, iid, queue, origin="bench")]))
            jobs = await sched.activate([queue], f"w{k}", 1, 5.0)
            for job in jobs:
                await sched.complete(job.ref, b"ok")
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    elapsed = time.perf_counter() - started
    await sched.stop(1.0)
    if backend == "postgres":
        await notifier.close()
    if cleanup is not None:
        await cleanup.drop_schema()
    await storage.close()
    return done / elapsed


def sqlite_ceiling(seconds: float, tmp: str, batch: int = 64) -> float:
    path = os.path.join(tmp, f"raw-{uuid.uuid4().hex[:6]}.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE jobs (id TEXT PRIMARY KEY, instance_id TEXT, queue TEXT, status TEXT, "
        "attempt INT, owner TEXT, expires REAL, payload BLOB, seq INT)"
    )
    db.execute("CREATE TABLE events (instance_id TEXT, seq INT, kind TEXT, data BLOB, PRIMARY KEY (instance_id, seq))")
    n = 0
    seq = itertools.count()
    stop_at = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < stop_at:
        ids = [f"j{next(seq)}" for _ in range(batch)]
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO jobs VALUES (?, 'i', 'q', 'READY', 0, '', 0, x'00', ?)", [(i, n) for i in ids]
        )
        db.execute("COMMIT")
        db.execute("BEGIN")
        db.executemany(
            "UPDATE jobs SET status='LEASED', attempt=1, owner='w', expires=1 WHERE id=?", [(i,) for i in ids]
        )
        db.execute("COMMIT")
        db.execute("BEGIN")
        db.executemany("DELETE FROM jobs WHERE id=?", [(i,) for i in ids])
        db.executemany("INSERT INTO events VALUES ('i', ?, 'job.completed', x'6f6b')", [(n + k,) for k in range(batch)])
        db.execute("COMMIT")
        n += batch
    elapsed = time.perf_counter() - started
    db.close()
    return n / elapsed


async def postgres_ceiling(seconds: float, batch: int = 64) -> float:
    import asyncpg  # type: ignore[import-untyped]

    schema = f"raw_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(DSN)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.execute(
            f"CREATE TABLE {schema}.jobs (id text PRIMARY KEY, queue text, status text, attempt int, "
            "owner text, seq bigserial)"
        )
        await conn.execute(f"CREATE INDEX ON {schema}.jobs (queue, seq) WHERE status = 'READY'")
        ins = (
            f"INSERT INTO {schema}.jobs (id, queue, status, attempt, owner) "
            "SELECT unnest($1::text[]), 'q', 'READY', 0, ''"
        )
        claim = (
            f"UPDATE {schema}.jobs j SET status='LEASED', attempt=attempt+1, owner='w' FROM ("
            f"SELECT id FROM {schema}.jobs WHERE queue='q' AND status='READY' ORDER BY seq LIMIT $1 "
            "FOR UPDATE SKIP LOCKED) c WHERE j.id = c.id RETURNING j.id"
        )
        delete = f"DELETE FROM {schema}.jobs WHERE id = ANY($1::text[])"
        n = 0
        seq = itertools.count()
        stop_at = time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < stop_at:
            ids = [f"j{next(seq)}" for _ in range(batch)]
            await conn.execute(ins, ids)
            rows = await conn.fetch(claim, batch)
            await conn.execute(delete, [r["id"] for r in rows])
            n += len(rows)
        elapsed = time.perf_counter() - started
        return n / elapsed
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def memory_ceiling(seconds: float) -> float:
    q: asyncio.Queue[int] = asyncio.Queue()
    n = 0
    stop_at = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < stop_at:
        for _ in range(256):
            q.put_nowait(n)
            await q.get()
            n += 1
        await asyncio.sleep(0)
    return n / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="memory,sqlite,postgres")
    ns = parser.parse_args()
    backends = ns.backends.split(",")
    print(f"machine: {platform.node()} {platform.machine()} cpus={os.cpu_count()} python={platform.python_version()}")
    print(f"{'backend':9} {'variant':10} {'ceiling/s':>10} " + " ".join(f"{'c=' + str(c):>16}" for c in CONCURRENCY))
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            ceilings: list[float] = []
            results: dict[tuple[bool, int], list[float]] = {(s, c): [] for s in (False, True) for c in CONCURRENCY}
            for _ in range(ns.repeat):
                if backend == "sqlite":
                    ceilings.append(sqlite_ceiling(ns.seconds, tmp))
                elif backend == "postgres":
                    ceilings.append(await postgres_ceiling(ns.seconds))
                else:
                    ceilings.append(await memory_ceiling(ns.seconds))
                for step, c in results:
                    results[(step, c)].append(await run_cycles(backend, c, ns.seconds, tmp, step))
            ceiling = statistics.median(ceilings)
            for step in (False, True):
                cells = []
                for c in CONCURRENCY:
                    m = statistics.median(results[(step, c)])
                    cells.append(f"{m:9.0f} ({m / ceiling:4.2f}x)")
                variant = "cycle+step" if step else "cycle"
                print(f"{backend:9} {variant:10} {ceiling:10.0f} " + " ".join(f"{x:>16}" for x in cells), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
