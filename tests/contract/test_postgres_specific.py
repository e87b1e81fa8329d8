"""PostgreSQL-only behaviour: several replicas (pools) on one schema, LISTEN/NOTIFY, group commit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.errors import LeaseLost, Unavailable
from gateway.model import Commit, Instance, InstanceStatus, Job, JobOutcome, JobRef, NewEvent, NewInstance
from gateway.storage.postgres import PostgresNotifier, PostgresStorage
from gateway.storage.postgres_plan import notify_payloads
from tests.contract.conftest import POSTGRES_DSN

T0 = 1_700_000_000.0


@pytest.fixture
async def replicas() -> AsyncIterator[tuple[PostgresStorage, PostgresStorage]]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    a = PostgresStorage(POSTGRES_DSN, schema=schema, pool_size=4)
    b = PostgresStorage(POSTGRES_DSN, schema=schema, pool_size=4)
    await asyncio.gather(a.open(), b.open())  # concurrent schema creation must not race
    try:
        yield a, b
    finally:
        await b.close()
        await a.drop_schema()
        await a.close()


async def test_two_replicas_never_lease_a_job_twice(replicas: tuple[Any, Any]) -> None:
    a, b = replicas
    await a.commit(Commit(create_instances=[NewInstance(Instance("i1", "e", status=InstanceStatus.RUNNING))]), T0)
    n = 300
    await a.commit(Commit(new_jobs=[Job(f"j{k}", "i1", "q") for k in range(n)]), T0)

    async def drain(s: Any, owner: str) -> list[str]:
        got: list[str] = []
        while True:
            batch = await asyncio.gather(*(s.lease_jobs(["q"], f"{owner}{w}", 3, T0) for w in range(8)))
            ids = [j.id for jobs in batch for j in jobs]
            if not ids:
                return got
            got.extend(ids)

    left, right = await asyncio.gather(drain(a, "a"), drain(b, "b"))
    assert len(left) + len(right) == n
    assert len(set(left) | set(right)) == n, "a job was leased by both replicas"


async def test_notify_from_one_replica_wakes_the_other(replicas: tuple[Any, Any]) -> None:
    a, b = replicas
    notifier = PostgresNotifier(POSTGRES_DSN, b.schema)
    await notifier.start()
    try:
        await a.commit(Commit(create_instances=[NewInstance(Instance("i1", "e"))]), T0)
        waiter = asyncio.create_task(notifier.wait(["q:remote"], 5.0))
        await asyncio.sleep(0.05)
        await a.commit(Commit(new_jobs=[Job("j1", "i1", "remote")]), T0)
        assert await asyncio.wait_for(waiter, 5.0) is True
        # An instance topic and the steps topic travel too.
        waiter = asyncio.create_task(notifier.wait(["i:i1"], 5.0))
        await asyncio.sleep(0.05)
        await a.commit(Commit(inbox=[NewEvent("i1", "poke")]), T0)
        assert await asyncio.wait_for(waiter, 5.0) is True
        # Local notify wakes at once, without the database.
        waiter = asyncio.create_task(notifier.wait(["local"], 5.0))
        await asyncio.sleep(0)
        notifier.notify(["local"])
        assert await asyncio.wait_for(waiter, 1.0) is True
    finally:
        await notifier.close()


async def test_notifier_reconnects_after_the_connection_drops(replicas: tuple[Any, Any]) -> None:
    a, _ = replicas
    notifier = PostgresNotifier(POSTGRES_DSN, a.schema, reconnect_delay=0.05)
    await notifier.start()
    try:
        assert notifier._conn is not None
        pid = notifier._conn.get_server_pid()
        async with a._pool.acquire() as conn:
            await conn.execute("SELECT pg_terminate_backend($1)", pid)
        for _ in range(100):
            await asyncio.sleep(0.05)
            c = notifier._conn
            if c is not None and not c.is_closed() and c.get_server_pid() != pid:
                break
        else:
            pytest.fail("the LISTEN connection was not re-opened")
        await a.commit(Commit(create_instances=[NewInstance(Instance("i1", "e"))]), T0)
        waiter = asyncio.create_task(notifier.wait(["q:again"], 5.0))
        await asyncio.sleep(0.05)
        await a.commit(Commit(new_jobs=[Job("j1", "i1", "again")]), T0)
        assert await asyncio.wait_for(waiter, 5.0) is True
    finally:
        await notifier.close()


async def test_a_refused_commit_does_not_sink_its_batch(replicas: tuple[Any, Any]) -> None:
    a, _ = replicas
    await a.commit(Commit(create_instances=[NewInstance(Instance("i1", "e"))]), T0)
    await a.commit(Commit(new_jobs=[Job("j1", "i1", "q"), Job("j2", "i1", "q")]), T0)
    j1, j2 = await a.lease_jobs(["q"], "w", 2, T0)
    # Issued together, these land in one group-commit batch (one writer takes the whole queue).
    results = await asyncio.gather(
        a.commit(Commit(jobs=[JobOutcome(j1.ref, "complete", b"one")]), T0),
        a.commit(Commit(jobs=[JobOutcome(JobRef("j2", 99), "complete")]), T0),
        a.commit(Commit(jobs=[JobOutcome(j2.ref, "complete", b"two")]), T0),
        a.commit(Commit(new_jobs=[Job("j3", "i1", "q")]), T0),
        return_exceptions=True,
    )
    assert isinstance(results[1], LeaseLost)
    assert not any(isinstance(r, Exception) for k, r in enumerate(results) if k != 1)
    assert [e.data for e in await a.inbox("i1")] == [b"one", b"two"]
    assert await a.get_job("j3") is not None


async def test_a_duplicate_created_elsewhere_is_refused_alone(replicas: tuple[Any, Any]) -> None:
    """A job id taken in the database is caught by the unique index; the batch is replayed with a
    savepoint per commit so only the duplicate fails."""
    a, b = replicas
    await a.commit(Commit(create_instances=[NewInstance(Instance("i1", "e"))]), T0)
    await b.commit(Commit(new_jobs=[Job("dup", "i1", "q")]), T0)
    from gateway.errors import AlreadyExists

    results = await asyncio.gather(
        a.commit(Commit(new_jobs=[Job("ok1", "i1", "q")]), T0),
        a.commit(Commit(new_jobs=[Job("dup", "i1", "q")]), T0),
        a.commit(Commit(new_jobs=[Job("ok2", "i1", "q")]), T0),
        return_exceptions=True,
    )
    assert isinstance(results[1], AlreadyExists)
    assert await a.get_job("ok1") is not None and await a.get_job("ok2") is not None


async def test_unreachable_database_is_unavailable_quickly() -> None:
    s = PostgresStorage("postgresql://postgres:secret@127.0.0.1:1/test", schema="t_never")
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(Unavailable) as info:
        await s.open()
    assert loop.time() - started < 8
    assert "secret" not in str(info.value) and "cannot reach PostgreSQL at" in str(info.value)


def test_notify_payloads_split_and_wildcard() -> None:
    assert notify_payloads(["q:a", "steps"]) == ["q:a\nsteps"]
    many = [f"i:{k:06d}" for k in range(2000)]
    parts = notify_payloads(many)
    assert 1 < len(parts) <= 4 and all(len(p.encode()) <= 7900 for p in parts)
    assert sorted(t for p in parts for t in p.split("\n")) == sorted(many)
    assert notify_payloads([f"i:{k:08d}" for k in range(10000)]) == ["*"]


async def test_replicas_writing_one_instance_keep_its_sequence(replicas: tuple[Any, Any]) -> None:
    """Optimistic batches that collide on a row are replayed under locks: nothing lost or doubled."""
    a, b = replicas
    await a.commit(Commit(create_instances=[NewInstance(Instance("i1", "e"))]), T0)

    async def post(s: Any, k: int) -> None:
        await s.commit(Commit(inbox=[NewEvent("i1", "e", str(k).encode())], new_jobs=[Job(f"j{k}", "i1", "q")]), T0)

    async def one_by_one(s: Any, ks: range) -> None:
        for k in ks:  # one commit per batch, so the two replicas' batches interleave
            await post(s, k)

    await asyncio.gather(one_by_one(a, range(0, 200, 2)), one_by_one(b, range(1, 200, 2)))
    inbox = await a.inbox("i1")
    assert [e.seq for e in inbox] == list(range(1, 201))
    assert sorted(int(e.data) for e in inbox) == list(range(200))
    inst = await b.get_instance("i1")
    assert inst is not None and inst.last_seq == inst.inbox_seq == 200
    assert (await a.queue_depths())["q"] == 200


async def test_replicas_ticking_together_fire_each_timer_once(replicas: tuple[Any, Any]) -> None:
    from gateway.model import Timer

    a, b = replicas
    await a.commit(Commit(create_instances=[NewInstance(Instance(f"i{k}", "e")) for k in range(20)]), T0)
    await a.commit(Commit(timers=[Timer(f"i{k}", f"t{n}", T0 + 1 + n) for k in range(20) for n in range(5)]), T0)
    await a.commit(Commit(new_jobs=[Job(f"j{k}", "i0", "q", timeout=1) for k in range(30)]), T0)
    assert len(await a.lease_jobs(["q"], "w", 30, T0)) == 30
    fired = expired = 0
    for step in range(1, 8):
        ra, rb = await asyncio.gather(a.tick(T0 + step, T0 + step - 1), b.tick(T0 + step, T0 + step - 1))
        fired += ra.fired_timers + rb.fired_timers
        expired += len(ra.expired_jobs) + len(rb.expired_jobs)
    assert fired == 100 and expired == 30
    for k in range(20):
        assert sorted(e.ref for e in await a.inbox(f"i{k}")) == [f"t{n}" for n in range(5)]
    assert (await a.queue_depths())["q"] == 30
