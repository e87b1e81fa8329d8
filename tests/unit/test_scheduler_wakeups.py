"""A wake-up that arrives while the scheduler is reading storage is not lost.

The reads here are made to miss a change that is committed (and notified) while they are in
flight, as happens when another replica commits and its NOTIFY lands during the read. With the
polling fallback at 30 s, only that wake-up can make the waiter look again in time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from gateway.clock import SystemClock
from gateway.model import (
    Commit,
    Instance,
    InstanceStatus,
    InstanceUpdate,
    Job,
    NewEvent,
    NewInstance,
    StepClaim,
    Timer,
)
from gateway.notifier import LocalNotifier
from gateway.scheduler import CoreScheduler
from gateway.storage.memory import MemoryStorage

POLL = 30.0


class RacingStorage(MemoryStorage):
    """Runs `during[method][n]` after the n-th call of a read has taken its snapshot, before it returns."""

    def __init__(self) -> None:
        super().__init__()
        self.during: dict[str, dict[int, Callable[[], Awaitable[None]]]] = {}
        self.calls: dict[str, int] = {}

    async def _race(self, method: str) -> None:
        n = self.calls[method] = self.calls.get(method, 0) + 1
        hook = self.during.get(method, {}).pop(n, None)
        if hook is not None:
            await hook()
        await asyncio.sleep(0)  # the read's reply is still "on the wire"

    async def lease_jobs(self, *args: Any, **kwargs: Any) -> list[Job]:
        out = await super().lease_jobs(*args, **kwargs)
        await self._race("lease_jobs")
        return out

    async def get_instance(self, instance_id: str) -> Instance | None:
        out = await super().get_instance(instance_id)
        await self._race("get_instance")
        return out

    async def claim_steps(self, *args: Any, **kwargs: Any) -> list[StepClaim]:
        out = await super().claim_steps(*args, **kwargs)
        await self._race("claim_steps")
        return out

    async def tick(self, *args: Any, **kwargs: Any) -> Any:
        out = await super().tick(*args, **kwargs)
        await self._race("tick")
        return out


class Consumer:
    name = "rec"

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def decide(self, claim: StepClaim, now: float) -> Commit:
        self.seen.extend(e.kind for e in claim.inbox)
        return Commit(updates=[InstanceUpdate(claim.instance.id, consume_upto=claim.inbox[-1].seq)])


@pytest.fixture
async def racing() -> AsyncIterator[tuple[CoreScheduler, RacingStorage, Consumer]]:
    storage = RacingStorage()
    sched = CoreScheduler(storage, SystemClock(), LocalNotifier(), poll_interval=POLL)
    engine = Consumer()
    sched.register_engine(engine)
    await sched.commit(Commit(create_instances=[NewInstance(Instance("i", engine="rec",
                                                                     status=InstanceStatus.RUNNING))]))
    try:
        yield sched, storage, engine
    finally:
        await sched.stop(0.5)


async def within(seconds: float, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not woken in time"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("nth", [1, 2, 3])
async def test_activate_sees_a_job_committed_during_its_read(
    racing: tuple[CoreScheduler, RacingStorage, Consumer], nth: int
) -> None:
    sched, storage, _ = racing

    async def add_job() -> None:
        await sched.commit(Commit(new_jobs=[Job("j", "i", "q")]))

    # Calls 1 and 2 are the idle long poll's first reads; the commit lands during the nth one.
    storage.during["lease_jobs"] = {nth: add_job}
    if nth == 3:
        storage.during["lease_jobs"][2] = lambda: asyncio.sleep(0.05)  # a spurious wake-up comes first
        asyncio.get_running_loop().call_later(0.02, sched.notifier.notify, ["q:q"])
    started = time.monotonic()
    jobs = await sched.activate(["q"], "w", 1, 5.0)
    assert [j.id for j in jobs] == ["j"] and time.monotonic() - started < 2.0


async def test_wait_instance_sees_a_change_committed_during_its_read(
    racing: tuple[CoreScheduler, RacingStorage, Consumer],
) -> None:
    sched, storage, _ = racing

    async def complete() -> None:
        await sched.commit(Commit(updates=[InstanceUpdate("i", status=InstanceStatus.COMPLETED)]))

    storage.during["get_instance"] = {1: complete}
    started = time.monotonic()
    inst = await sched.wait_instance("i", lambda i: i is not None and i.status.terminal, 5.0)
    assert inst is not None and inst.status is InstanceStatus.COMPLETED and time.monotonic() - started < 2.0


async def test_step_loop_sees_an_event_posted_during_its_claim(
    racing: tuple[CoreScheduler, RacingStorage, Consumer],
) -> None:
    sched, storage, engine = racing

    async def post() -> None:
        await sched.commit(Commit(inbox=[NewEvent("i", "go")]))

    storage.during["claim_steps"] = {1: post}
    await sched.start()
    await within(2.0, lambda: engine.seen == ["go"])


async def test_tick_loop_sees_a_timer_committed_during_its_tick(
    racing: tuple[CoreScheduler, RacingStorage, Consumer],
) -> None:
    sched, storage, engine = racing

    async def arm() -> None:
        await sched.commit(Commit(timers=[Timer("i", "t", time.time() + 0.1)]))

    storage.during["tick"] = {1: arm}
    await sched.start()
    await within(2.0, lambda: engine.seen == ["timer.fired"])
