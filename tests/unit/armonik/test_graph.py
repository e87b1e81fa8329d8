"""Dependency resolution, outcomes and the commit rule, in-process on CoreScheduler + MemoryStorage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.armonik import graph
from adapters.armonik.agent import AgentCall, Tokens
from adapters.armonik.records import Options, ResultStatus, SessionMeta, TaskStatus
from adapters.armonik.store import Store, Tx, queue_name
from gateway.clock import SystemClock
from gateway.errors import FailedPrecondition, InvalidArgument, LeaseLost, NotFound, Unavailable
from gateway.model import Commit, Job, JobStatus
from gateway.notifier import LocalNotifier
from gateway.scheduler import CoreScheduler
from gateway.storage.memory import MemoryStorage

OPTS = Options(max_duration=10, max_retries=1, priority=1, partition_id="default")


class CountingStorage(MemoryStorage):
    def __init__(self) -> None:
        super().__init__()
        self.commits = 0

    async def commit(self, commit: Commit, now: float) -> Any:
        self.commits += 1
        return await super().commit(commit, now)


@pytest.fixture
async def env() -> AsyncIterator[tuple[Store, CoreScheduler, CountingStorage]]:
    storage = CountingStorage()
    sched = CoreScheduler(storage, SystemClock(), LocalNotifier(), poll_interval=0.02)
    store = Store(sched)
    await store.create_session(SessionMeta(id="s1", partition_ids=["default"], options=OPTS, created_at=1.0))
    yield store, sched, storage


async def results(store: Store, *names: str, data: dict[str, bytes] | None = None) -> list[str]:
    s = store.session("s1")
    data = data or {}
    recs = await store.change(s, lambda tx: [graph.create_result(tx, n, data=data.get(n)) for n in names])
    return [r.id for r in recs]


async def submit(store: Store, payload: str, outs: list[str], deps: list[str] = ()) -> str:  # type: ignore[assignment]
    s = store.session("s1")

    def change(tx: Tx) -> str:
        graph.check_inputs(tx, [payload, *deps])
        graph.check_outputs(tx, outs)
        return graph.create_task(tx, graph.NewTask(OPTS.copy(), payload, list(deps), outs)).id

    return await store.change(s, change)


async def lease(sched: CoreScheduler) -> list[Job]:
    return await sched.activate([queue_name("default")], "test", 10, 0.05)


async def test_task_waits_for_payload_and_every_dependency(env: Any) -> None:
    store, sched, _ = env
    payload, dep, out = await results(store, "payload", "dep", "out")
    tid = await submit(store, payload, [out], [dep])
    s = store.session("s1")
    assert s.tasks[tid].status is TaskStatus.PENDING and await sched.get_job(tid) is None
    await store.change(s, lambda tx: graph.complete_result(tx, dep, b"1"))
    assert s.tasks[tid].status is TaskStatus.PENDING  # the payload is a dependency too
    await store.change(s, lambda tx: graph.complete_result(tx, payload, b"{}"))
    assert s.tasks[tid].status is TaskStatus.SUBMITTED
    job = await sched.get_job(tid)
    assert job is not None and job.queue == "armonik/default" and job.priority == 1
    assert s.results[out].owner_task_id == tid and s.waiting == {}


async def test_ready_inputs_submit_at_once_and_results_are_write_once(env: Any) -> None:
    store, _, _ = env
    payload, out = await results(store, "payload", "out", data={"payload": b"{}"})
    tid = await submit(store, payload, [out])
    assert store.session("s1").tasks[tid].status is TaskStatus.SUBMITTED
    with pytest.raises(FailedPrecondition):
        await store.change(store.session("s1"), lambda tx: graph.complete_result(tx, payload, b"again"))
    with pytest.raises(NotFound):
        await submit(store, "nope", [out])


async def test_commit_rule_applies_the_buffer_in_one_commit(env: Any) -> None:
    store, sched, storage = env
    payload, out = await results(store, "payload", "out", data={"payload": b"{}"})
    parent = await submit(store, payload, [out])
    [job] = await lease(sched)
    s = store.session("s1")
    buf = graph.Buffer()
    # fan-out: two metadata results, payloads with data, a sum task depending on both, owning `out`
    buf.results = [("mid-a", "mid-a", None), ("mid-b", "mid-b", None),
                   ("pa", "pa", b"a"), ("pb", "pb", b"b"), ("ps", "ps", b"s")]
    view = Tx(store, s, 0)
    graph.check_inputs(view, ["ps", "mid-a", "mid-b"], buf.result_ids())  # buffered ids validate
    buf.tasks = [graph.NewTask(OPTS.copy(), "ps", ["mid-a", "mid-b"], [out], id="sum"),
                 graph.NewTask(OPTS.copy(), "pa", [], ["mid-a"], id="ta"),
                 graph.NewTask(OPTS.copy(), "pb", [], ["mid-b"], id="tb")]
    before = storage.commits
    await store.change(s, lambda tx: graph.task_ok(tx, parent, job.ref, buf, {}))
    assert storage.commits == before + 1
    assert s.tasks[parent].status is TaskStatus.COMPLETED and s.tasks[parent].output_success
    assert s.results[out].owner_task_id == "sum"
    assert s.tasks["sum"].status is TaskStatus.PENDING and s.tasks["sum"].parent_task_ids == [parent]
    assert s.tasks["ta"].status is TaskStatus.SUBMITTED and s.tasks["tb"].status is TaskStatus.SUBMITTED
    assert s.results["mid-a"].created_by == parent and s.results["pa"].status is ResultStatus.COMPLETED
    assert await sched.get_job(parent) is None  # the attempt's job finished in the same commit
    # the mids complete -> the sum is released
    await store.change(s, lambda tx: graph.complete_result(tx, "mid-a", b"4"))
    await store.change(s, lambda tx: graph.complete_result(tx, "mid-b", b"9"))
    assert s.tasks["sum"].status is TaskStatus.SUBMITTED


async def test_failure_discards_the_buffer_and_cascades(env: Any) -> None:
    store, sched, _ = env
    payload, x_out, d_out, p2 = await results(store, "payload", "x", "d", "p2", data={"payload": b"{}", "p2": b"{}"})
    dependent = await submit(store, p2, [d_out], [x_out])
    tid = await submit(store, payload, [x_out])
    [job] = await lease(sched)
    s = store.session("s1")
    await store.change(s, lambda tx: graph.task_failed(tx, tid, job.ref, TaskStatus.ERROR, "worker said no"))
    assert s.tasks[tid].status is TaskStatus.ERROR and s.tasks[tid].output_error == "worker said no"
    assert s.results[x_out].status is ResultStatus.ABORTED
    assert s.tasks[dependent].status is TaskStatus.ERROR and s.results[d_out].status is ResultStatus.ABORTED
    with pytest.raises(FailedPrecondition):
        await submit(store, p2, [d_out], [x_out])


async def test_lost_lease_applies_nothing(env: Any) -> None:
    store, sched, _ = env
    payload, out = await results(store, "payload", "out", data={"payload": b"{}"})
    tid = await submit(store, payload, [out])
    [job] = await lease(sched)
    s = store.session("s1")
    await store.change(s, lambda tx: graph.cancel_task(tx, tid))  # drops the leased job
    buf = graph.Buffer(results=[("r", "r", b"x")], notified=[out])
    with pytest.raises(LeaseLost):
        await store.change(s, lambda tx: graph.task_ok(tx, tid, job.ref, buf, {out: b"49"}))
    assert "r" not in s.results and s.results[out].status is ResultStatus.ABORTED
    assert s.tasks[tid].status is TaskStatus.CANCELLED


async def test_crash_retries_then_errors(env: Any) -> None:
    store, sched, _ = env
    payload, out = await results(store, "payload", "out", data={"payload": b"{}"})
    tid = await submit(store, payload, [out])
    s = store.session("s1")
    [job] = await lease(sched)
    await store.change(s, lambda tx: graph.task_crashed(tx, tid, job.ref, "INTERNAL"))
    retry = s.tasks[f"{tid}###1"]
    assert s.tasks[tid].status is TaskStatus.RETRIED
    assert retry.retry_of_ids == [tid] and retry.initial_task_id == tid and retry.status is TaskStatus.SUBMITTED
    assert s.results[out].owner_task_id == retry.id and retry.expected_output_ids == [out]
    [job2] = await lease(sched)
    assert job2.id == retry.id
    await store.change(s, lambda tx: graph.task_crashed(tx, retry.id, job2.ref, "INTERNAL"))
    assert s.tasks[retry.id].status is TaskStatus.ERROR and s.results[out].status is ResultStatus.ABORTED


async def test_replay_rebuilds_state_and_requeues_leased_jobs(env: Any) -> None:
    store, sched, _ = env
    payload, dep, out, p2, out2 = await results(store, "payload", "dep", "out", "p2", "o2",
                                                data={"payload": b"{}", "p2": b"{}"})
    running = await submit(store, p2, [out2])
    pending = await submit(store, payload, [out], [dep])
    [job] = await lease(sched)
    assert job.id == running
    fresh = Store(sched)
    await fresh.load()
    s = fresh.session("s1")
    assert s.tasks[pending].status is TaskStatus.PENDING and s.pending[pending] == 1 and s.waiting[dep] == {pending}
    assert s.waiting == {dep: {pending}}
    assert (await sched.get_job(running)).status is JobStatus.READY  # type: ignore[union-attr]
    await fresh.change(s, lambda tx: graph.complete_result(tx, dep, b"1"))
    assert s.tasks[pending].status is TaskStatus.SUBMITTED


async def test_tokens_are_valid_only_during_process_and_for_their_session(env: Any, tmp_path: Any) -> None:
    store, _, _ = env
    tokens = Tokens()
    tokens.open(AgentCall("tok", store.session("s1"), "t", tmp_path))
    assert tokens.get("tok", "s1").task_id == "t"
    with pytest.raises(InvalidArgument):
        tokens.get("tok", "other")
    with pytest.raises(InvalidArgument):
        tokens.get("unknown")
    tokens.close("tok")
    with pytest.raises(Unavailable):
        tokens.get("tok")
