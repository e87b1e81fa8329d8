"""SQLite-only behaviour: crash durability, group commit, failing batches, WAL."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from gateway.errors import LeaseLost, Unavailable
from gateway.model import (
    Commit,
    Instance,
    InstanceStatus,
    InstanceUpdate,
    Job,
    JobOutcome,
    JobStatus,
    NewEvent,
    NewInstance,
)
from gateway.storage.sqlite import SqliteStorage

T0 = 1_700_000_000.0


class MetricsStub:
    def __init__(self) -> None:
        self.batches: list[tuple[str, int, float]] = []

    def observe_storage_commit(self, backend: str, batch_size: int, seconds: float) -> None:
        self.batches.append((backend, batch_size, seconds))


async def _open(path: Path, **kw: object) -> SqliteStorage:
    s = SqliteStorage(str(path), **kw)  # type: ignore[arg-type]
    await s.open()
    return s


async def test_acknowledged_writes_survive_a_crash_without_close(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "gw.db"  # the directory is created
    s = await _open(path)
    await s.commit(Commit(create_instances=[NewInstance(Instance("i1", "e"), [NewEvent("i1", "a")])]), T0)
    await s.commit(Commit(new_jobs=[Job("j1", "i1", "q", retries=None), Job("j2", "i1", "q", retries=2)]), T0)
    (j1,) = await s.lease_jobs(["q"], "w", 1, T0)
    await s.commit(Commit(jobs=[JobOutcome(j1.ref, "complete", b"r")]), T0)
    # Consume across batches: the first event is history, the completion stays in the inbox.
    await s.commit(Commit(updates=[InstanceUpdate("i1", status=InstanceStatus.RUNNING, consume_upto=1)]), T0)
    await s.commit(Commit(inbox=[NewEvent("i1", "b")]), T0)
    # No close: the object is abandoned as a crashed process would leave it.
    s2 = await _open(path)
    assert [e.kind for e in await s2.history("i1")] == ["a"]
    assert [(e.seq, e.kind) for e in await s2.inbox("i1")] == [(2, "job.completed"), (3, "b")]
    inst = await s2.get_instance("i1")
    assert inst is not None and inst.status is InstanceStatus.RUNNING and inst.runnable
    assert await s2.get_job("j1") is None
    j2 = await s2.get_job("j2")
    assert j2 is not None and j2.status is JobStatus.READY and j2.retries == 2
    # Posted and consumed in one batch, then reopened: still history, in seq order.
    await asyncio.gather(
        s2.commit(Commit(inbox=[NewEvent("i1", "c")]), T0),
        s2.commit(Commit(updates=[InstanceUpdate("i1", consume_upto=4)]), T0),
    )
    s3 = await _open(path)
    assert [e.kind for e in await s3.history("i1")] == ["a", "job.completed", "b", "c"]
    assert await s3.inbox("i1") == []
    await s3.close()


async def test_group_commit_batches_concurrent_commits(tmp_path: Path) -> None:
    metrics = MetricsStub()
    s = await _open(tmp_path / "gw.db", metrics=metrics)
    await s.commit(Commit(create_instances=[NewInstance(Instance("i1", "e"))]), T0)
    before = s.transactions
    await asyncio.gather(*(s.commit(Commit(new_jobs=[Job(f"j{k}", "i1", "q")]), T0) for k in range(200)))
    transactions = s.transactions - before
    assert transactions <= 3, transactions
    assert sum(n for _, n, _ in metrics.batches) == 201
    assert max(n for _, n, _ in metrics.batches) >= 100
    assert all(b == "sqlite" for b, _, _ in metrics.batches)
    await s.close()
    s2 = await _open(tmp_path / "gw.db")
    assert (await s2.queue_depths()) == {"q": 200}
    await s2.close()


@pytest.mark.parametrize("synchronous", ["normal", "full"])
async def test_a_failing_batch_surfaces_unavailable_and_is_retried(tmp_path: Path, synchronous: str) -> None:
    s = await _open(tmp_path / "gw.db", synchronous=synchronous)
    await s.commit(Commit(create_instances=[NewInstance(Instance("i1", "e"))]), T0)
    assert s._db is not None
    s._db.execute("PRAGMA query_only = ON")  # every write now fails, like a read-only / full disk
    results = await asyncio.gather(
        *(s.commit(Commit(new_jobs=[Job(f"j{k}", "i1", "q")]), T0) for k in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, Unavailable) for r in results), results
    assert "gw.db" in str(results[0])
    s._db.execute("PRAGMA query_only = OFF")
    await s.commit(Commit(new_jobs=[Job("j9", "i1", "q")]), T0)
    await s.close()
    s2 = await _open(tmp_path / "gw.db")
    # The failed batch's rows were written again with the next one: the file caught up with memory.
    assert sorted(j.id for j in await s2.list_jobs("i1")) == ["j0", "j1", "j2", "j9"]
    await s2.close()


async def test_full_sync_runs_batches_off_the_loop(tmp_path: Path) -> None:
    metrics = MetricsStub()
    s = await _open(tmp_path / "gw.db", synchronous="full", metrics=metrics)
    await s.commit(Commit(create_instances=[NewInstance(Instance("i1", "e"))]), T0)
    await asyncio.gather(*(s.commit(Commit(new_jobs=[Job(f"j{k}", "i1", "q")]), T0) for k in range(50)))
    assert len(metrics.batches) < 10
    await s.close()
    s2 = await _open(tmp_path / "gw.db")
    assert (await s2.queue_depths()) == {"q": 50}
    await s2.close()


async def test_the_file_is_in_wal_mode_with_a_schema_version(tmp_path: Path) -> None:
    s = await _open(tmp_path / "gw.db")
    await s.close()
    db = sqlite3.connect(tmp_path / "gw.db")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "1"
    finally:
        db.close()


async def test_an_unopenable_file_raises_unavailable_naming_the_path(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-db"
    bad.write_bytes(b"this is not an sqlite file" * 100)
    with pytest.raises(Unavailable, match="not-a-db"):
        await _open(bad)
    (tmp_path / "a-file").write_text("x")  # a file where the directory should be
    with pytest.raises(Unavailable, match=r"gw\.db"):
        await _open(tmp_path / "a-file" / "gw.db")


async def test_a_lease_lost_in_a_crash_is_fenced(tmp_path: Path) -> None:
    """Leases are handed out before they are durable; one lost in a crash can never be completed."""
    path = str(tmp_path / "g.db")
    s = SqliteStorage(path)
    await s.open()
    await s.commit(Commit(create_instances=[NewInstance(Instance("i1", "e"))], new_jobs=[Job("j1", "i1", "q")]), T0)
    (lost,) = await s.lease_jobs(["q"], "w", 1, T0)
    # "Crash" before the loop runs the batch that would persist the lease: read the file now.
    s2 = SqliteStorage(path)
    s2._open_sync()
    s2._loop = asyncio.get_running_loop()
    got = await s2.get_job("j1")
    assert got is not None and got.status == JobStatus.READY, "the lease was not durable yet"
    (again,) = await s2.lease_jobs(["q"], "w2", 1, T0)
    assert again.attempt != lost.attempt
    with pytest.raises(LeaseLost):
        await s2.commit(Commit(jobs=[JobOutcome(lost.ref, "complete")]), T0)
    await s2.commit(Commit(jobs=[JobOutcome(again.ref, "complete")]), T0)
    await s.close()
    await s2.close()


async def test_inbox_counters_are_derived_from_events_on_open(tmp_path: Path) -> None:
    path = str(tmp_path / "g.db")
    s = SqliteStorage(path)
    await s.open()
    await s.commit(Commit(create_instances=[NewInstance(Instance("i1", "e"))]), T0)
    for k in ("a", "b", "c"):
        await s.commit(Commit(inbox=[NewEvent("i1", k)]), T0)
    s2 = SqliteStorage(path)
    await s2.open()
    inst = await s2.get_instance("i1")
    assert (inst.last_seq, inst.inbox_seq, inst.seen_seq) == (3, 3, 0)
    (claim,) = await s2.claim_steps("w", 1, 5.0, T0)
    assert [e.kind for e in claim.inbox] == ["a", "b", "c"]
    await s2.commit(Commit(inbox=[NewEvent("i1", "d")]), T0)
    assert [e.seq for e in await s2.inbox("i1")] == [1, 2, 3, 4]
    await s.close()
    await s2.close()
