"""The scheduler core on the memory backend: steps, long-poll leasing, push dispatch, retries, timers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.clock import ManualClock
from gateway.errors import DeadlineExceeded, LeaseLost
from gateway.model import (
    Commit,
    Instance,
    InstanceStatus,
    InstanceUpdate,
    Job,
    JobStatus,
    Message,
    NewEvent,
    NewInstance,
    Payload,
    StepClaim,
    Subscription,
    Timer,
)
from gateway.notifier import LocalNotifier
from gateway.scheduler import CoreScheduler, Route
from gateway.scheduler.policy import FairSharePolicy, PriorityPolicy
from gateway.storage.memory import MemoryStorage


class RecordingEngine:
    """Consumes its inbox; completes the instance on a "finish" event."""

    name = "rec"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.fail_once = False

    async def decide(self, claim: StepClaim, now: float) -> Commit:
        if self.fail_once:
            self.fail_once = False
            raise RuntimeError("boom")
        self.seen.extend((claim.instance.id, e.kind) for e in claim.inbox)
        update = InstanceUpdate(claim.instance.id, consume_upto=claim.inbox[-1].seq, status=InstanceStatus.RUNNING)
        if any(e.kind == "finish" for e in claim.inbox):
            update.status = InstanceStatus.COMPLETED
            update.output = Payload(b'"done"')
        return Commit(updates=[update])


@pytest.fixture
async def env() -> AsyncIterator[tuple[CoreScheduler, ManualClock, RecordingEngine]]:
    clock = ManualClock()
    sched = CoreScheduler(MemoryStorage(), clock, LocalNotifier(), poll_interval=0.02, step_lease=5.0)
    engine = RecordingEngine()
    sched.register_engine(engine)
    await sched.start()
    try:
        yield sched, clock, engine
    finally:
        await sched.stop(0.5)


async def eventually(check: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def create(sched: CoreScheduler, iid: str, *events: str) -> None:
    await sched.commit(
        Commit(create_instances=[NewInstance(Instance(iid, "rec"), [NewEvent(iid, e) for e in events])])
    )


async def status(sched: CoreScheduler, iid: str) -> InstanceStatus | None:
    inst = await sched.get_instance(iid)
    return inst.status if inst else None


async def test_steps_run_the_engine_and_wait_instance_wakes(env: Any) -> None:
    sched, _, engine = env
    await create(sched, "i1", "start")
    await eventually(lambda: ("i1", "start") in engine.seen)
    waiter = asyncio.create_task(sched.wait_instance("i1", lambda i: i is not None and i.status.terminal, 3.0))
    await asyncio.sleep(0.05)
    await sched.commit(Commit(inbox=[NewEvent("i1", "finish")]))
    inst = await asyncio.wait_for(waiter, 3.0)
    assert inst.status == InstanceStatus.COMPLETED and inst.output == Payload(b'"done"')
    assert [e.kind for e in await sched.history("i1")] == ["start", "finish"]
    with pytest.raises(DeadlineExceeded):
        await sched.wait_instance("i1", lambda i: False, 0.05)


async def test_a_failing_engine_is_retried_after_the_step_lease(env: Any) -> None:
    sched, clock, engine = env
    engine.fail_once = True
    await create(sched, "i1", "start")
    await asyncio.sleep(0.1)
    assert engine.seen == []
    clock.advance(6)
    await eventually(lambda: ("i1", "start") in engine.seen)


async def test_activate_long_polls_and_wakes_on_new_job(env: Any) -> None:
    sched, _, _ = env
    await create(sched, "i1")
    started = time.monotonic()
    assert await sched.activate(["q"], "w", 10, 0.05) == []
    assert time.monotonic() - started >= 0.04
    poll = asyncio.create_task(sched.activate(["q"], "w", 10, 5.0))
    await asyncio.sleep(0.05)
    await sched.commit(Commit(new_jobs=[Job("j1", "i1", "q")]))
    jobs = await asyncio.wait_for(poll, 1.0)
    assert [j.id for j in jobs] == ["j1"]
    await sched.complete(jobs[0].ref, b"r")
    with pytest.raises(LeaseLost):
        await sched.complete(jobs[0].ref, b"r")


async def test_completion_event_reaches_the_engine(env: Any) -> None:
    sched, _, engine = env
    await create(sched, "i1")
    await sched.commit(Commit(new_jobs=[Job("j1", "i1", "q")]))
    (job,) = await sched.activate(["q"], "w", 1, 1.0)
    await sched.complete(job.ref, b"r")
    await eventually(lambda: ("i1", "job.completed") in engine.seen)


async def test_fail_backs_off_exponentially_then_fails_for_good(env: Any) -> None:
    sched, clock, _ = env
    await create(sched, "i1")
    await sched.commit(Commit(new_jobs=[Job("j1", "i1", "q", retries=3)]))
    (job,) = await sched.activate(["q"], "w", 1, 1.0)
    await sched.fail(job.ref, "e1")  # backoff 1 s (attempt 1)
    assert await sched.activate(["q"], "w", 1, 0.05) == []
    clock.advance(1.1)
    (job,) = await sched.activate(["q"], "w", 1, 1.0)
    await sched.fail(job.ref, "e2")  # backoff 2 s (attempt 2)
    clock.advance(1.1)
    assert await sched.activate(["q"], "w", 1, 0.05) == []
    clock.advance(1.0)
    (job,) = await sched.activate(["q"], "w", 1, 1.0)
    await sched.fail(job.ref, "e3")
    failed = await sched.get_job("j1")
    assert failed.status == JobStatus.FAILED and failed.last_error == "e3"
    await eventually(lambda: any(k == "job.failed" for _, k in env[2].seen))
    await sched.update_job("j1", retries=1)
    (job,) = await sched.activate(["q"], "w", 1, 1.0)
    assert job.attempt == 4


async def test_expired_lease_returns_the_job(env: Any) -> None:
    sched, clock, _ = env
    await create(sched, "i1")
    await sched.commit(Commit(new_jobs=[Job("j1", "i1", "q", timeout=2)]))
    (old,) = await sched.activate(["q"], "w", 1, 1.0)
    poll = asyncio.create_task(sched.activate(["q"], "w2", 1, 5.0))
    await asyncio.sleep(0.05)
    clock.advance(3)
    (new,) = await asyncio.wait_for(poll, 2.0)
    assert new.attempt == old.attempt + 1
    with pytest.raises(LeaseLost):
        await sched.complete(old.ref)
    await sched.complete(new.ref)


async def test_timers_fire_through_the_tick_loop(env: Any) -> None:
    sched, clock, engine = env
    await create(sched, "i1")
    await sched.commit(Commit(timers=[Timer("i1", "t", clock.now() + 10)]))
    await asyncio.sleep(0.05)
    assert ("i1", "timer.fired") not in engine.seen
    clock.advance(11)
    await eventually(lambda: ("i1", "timer.fired") in engine.seen)


async def test_messages_correlate_and_wake(env: Any) -> None:
    sched, _, engine = env
    await create(sched, "i1")
    await sched.commit(Commit(subscriptions=[Subscription("i1", "s", "order", "42")]))
    res = await sched.publish(Message("m1", "order", "42", Payload(b'{"x":1}')))
    assert res.correlated == ["i1"]
    await eventually(lambda: ("i1", "message.correlated") in engine.seen)


class Collector:
    """A push executor that records deliveries and completes every job."""

    def __init__(self, sched: CoreScheduler, queues: list[str], capacity: int, fail: bool = False) -> None:
        self.name = "collector"
        self.queues = queues
        self.capacity = capacity
        self.sched = sched
        self.delivered: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.fail = fail

    async def deliver(self, job: Job) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            if self.fail:
                raise ConnectionError("worker gone")
            self.delivered.append(job.id)
            await self.sched.complete(job.ref, b"pushed")
        finally:
            self.in_flight -= 1


async def test_push_dispatch_respects_capacity(env: Any) -> None:
    sched, _, engine = env
    await create(sched, "i1")
    collector = Collector(sched, ["push"], capacity=3)
    unregister = sched.register_push_executor(collector)
    await sched.commit(Commit(new_jobs=[Job(f"j{i}", "i1", "push") for i in range(12)]))
    await eventually(lambda: len(collector.delivered) == 12)
    assert collector.max_in_flight <= 3
    await eventually(lambda: sum(1 for _, k in engine.seen if k == "job.completed") == 12)
    unregister()


async def test_push_delivery_failure_fails_the_attempt(env: Any) -> None:
    sched, _, _ = env
    await create(sched, "i1")
    collector = Collector(sched, ["push"], capacity=1, fail=True)
    sched.register_push_executor(collector)
    await sched.commit(Commit(new_jobs=[Job("j1", "i1", "push", retries=2)]))
    await eventually(lambda: _job_retries(sched, "j1", 1))


async def _job_retries(sched: CoreScheduler, job_id: str, retries: int) -> bool:
    job = await sched.get_job(job_id)
    return job is not None and job.retries == retries


async def test_routes_rewrite_the_queue() -> None:
    route = Route("resize", "fn:Resize", "functions")
    sched = CoreScheduler(MemoryStorage(), ManualClock(), LocalNotifier(), routes=[route])
    await sched.commit(Commit(create_instances=[NewInstance(Instance("i1", "rec"))]))
    await sched.commit(Commit(new_jobs=[Job("j1", "i1", "resize")]))
    (job,) = await sched.activate(["fn:Resize"], "w", 1, 0.1)
    assert job.executor == "functions"


async def test_priority_and_fair_share_policies() -> None:
    clock = ManualClock()
    sched = CoreScheduler(MemoryStorage(), clock, LocalNotifier(), policy=PriorityPolicy())
    await sched.commit(Commit(create_instances=[NewInstance(Instance("i1", "rec"))]))
    await sched.commit(Commit(new_jobs=[Job("lo", "i1", "q", priority=1), Job("hi", "i1", "q", priority=9)]))
    assert [j.id for j in await sched.activate(["q"], "w", 2, 0.1)] == ["hi", "lo"]
    fair = CoreScheduler(MemoryStorage(), clock, LocalNotifier(), policy=FairSharePolicy())
    await fair.commit(Commit(create_instances=[NewInstance(Instance("i1", "rec"))]))
    await fair.commit(Commit(new_jobs=[Job(f"a{i}", "i1", "a") for i in range(3)] + [Job("b0", "i1", "b")]))
    firsts = [(await fair.activate(["a", "b"], "w", 1, 0.1))[0].queue for _ in range(2)]
    assert sorted(firsts) == ["a", "b"], "a busy queue does not starve the other"
