"""Several brokers on one storage (as gateway replicas on one PostgreSQL): disjoint key blocks,
deployments seen at once everywhere, versions never duplicated, deletions propagated."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from adapters.zeebe.broker import Broker
from adapters.zeebe.engine import ZeebeEngine
from adapters.zeebe.jobs import JobService
from adapters.zeebe.keys import KEY_BASE, KEYS_OBJECT, KeyAllocator
from gateway.clock import SystemClock
from gateway.errors import NotFound, Unavailable
from gateway.model import Instance, InstanceQuery, InstanceStatus, Page
from gateway.notifier import LocalNotifier
from gateway.scheduler.core import CoreScheduler
from gateway.storage.memory import MemoryStorage
from tests.contract.conftest import POSTGRES_DSN
from tests.unit.zeebe.conftest import bpmn, task

ONE = bpmn('<bpmn:startEvent id="s"/>' + task("t", "work") + '<bpmn:endEvent id="e"/>'
           '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
           '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>')


def variant(n: int) -> bytes:
    """The same process id, a different resource each time (so each deploy is a new version)."""
    return ONE.replace(b'id="d"', f'id="d{n}"'.encode())


def test_allocator_switches_to_its_spare_and_asks_for_more() -> None:
    alloc = KeyAllocator(block=10)
    asked = []
    alloc.want_block = lambda: asked.append(1)
    with pytest.raises(Unavailable):
        alloc.next_key()  # nothing reserved yet
    alloc.add_block(1, 10)
    keys = [alloc.next_key() for _ in range(6)]
    assert keys == [KEY_BASE + n for n in range(1, 7)] and asked  # half used: a spare is wanted
    alloc.add_block(31, 40)  # e.g. another replica took 11-30 meanwhile
    keys += [alloc.next_key() for _ in range(6)]
    assert keys[6:] == [KEY_BASE + n for n in (7, 8, 9, 10, 31, 32)]


Replicas = Callable[[int], Any]


@pytest.fixture(params=["memory", "postgres"])
async def replicas(request: pytest.FixtureRequest) -> AsyncIterator[Callable[..., Any]]:
    """`await make(n, block)`: n started brokers sharing one storage (postgres: one pool each)."""
    shared = MemoryStorage()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    stores: list[Any] = []
    schedulers: list[CoreScheduler] = []

    async def storage() -> Any:
        if request.param == "memory":
            if not stores:
                await shared.open()
                stores.append(shared)
            return shared
        from gateway.storage.postgres import PostgresStorage

        s = PostgresStorage(POSTGRES_DSN, schema=schema, pool_size=2)
        await s.open()
        stores.append(s)
        return s

    async def make(n: int, block: int = 100_000) -> list[Broker]:
        brokers = []
        for _ in range(n):
            scheduler = CoreScheduler(await storage(), SystemClock(), LocalNotifier(), poll_interval=0.05)
            broker = Broker(scheduler)
            broker.keys.block = block
            scheduler.register_engine(ZeebeEngine(broker))
            schedulers.append(scheduler)
            brokers.append(broker)
        await asyncio.gather(*(b.load() for b in brokers))  # started together: they race for blocks
        for s in schedulers:
            await s.start()
        return brokers

    try:
        yield make
    finally:
        for s in schedulers:
            await s.stop()
        # Close every pool before dropping the schema: a write still finishing on one of them
        # would otherwise deadlock (or block) the DROP.
        for st in {id(s): s for s in stores}.values():
            await asyncio.wait_for(st.close(), 30)
        if request.param == "postgres" and stores:
            from gateway.storage.postgres import PostgresStorage

            last = PostgresStorage(POSTGRES_DSN, schema=schema, pool_size=1)
            await last.open()
            await last.drop_schema()
            await last.close()


async def test_key_blocks_are_disjoint(replicas: Callable[..., Any]) -> None:
    a, b, c = await replicas(3, block=20)

    async def take(br: Broker) -> int:
        while True:  # a block this small can run dry before its spare arrives: wait for it then
            try:
                return br.next_key()
            except Unavailable:
                await asyncio.sleep(0.01)

    taken: list[int] = []
    for _ in range(60):  # three blocks' worth each, spares reserved concurrently as they go
        for br in (a, b, c):
            taken.append(await take(br))
        await asyncio.sleep(0)
    assert len(set(taken)) == len(taken) == 180


async def test_a_deploy_is_seen_at_once_and_versions_are_unique(replicas: Callable[..., Any]) -> None:
    a, b = await replicas(2)
    _, [d1] = await a.deploy([("one.bpmn", variant(1))])
    d, _ = await b.create_instance(-1, "p", -1, {"x": 1})  # B never deployed anything
    assert (d.key, d.version) == (d1.key, 1)
    _, [d2] = await b.deploy([("one.bpmn", variant(2))])
    assert d2.version == 2
    d, _ = await a.create_instance(-1, "p", -1, {})  # latest moved through the other replica
    assert (d.key, d.version) == (d2.key, 2)
    d, _ = await a.create_instance(d1.key, "", -1, {})
    assert d.version == 1
    # Concurrent deploys of new resources of one process id: distinct versions, none lost.
    results = await asyncio.gather(*(br.deploy([("one.bpmn", variant(10 + i))]) for i, br in
                                     enumerate([a, b, a, b])))
    versions = sorted(defs[0].version for _, defs in results)
    assert versions == [3, 4, 5, 6]
    # An identical redeploy returns the existing definition wherever it is sent.
    _, [same] = await a.deploy([("one.bpmn", variant(2))])
    assert same.version == 7  # not the latest any more: Zeebe deploys it as a new version
    _, [again] = await b.deploy([("one.bpmn", variant(2))])
    assert (again.key, again.version) == (same.key, 7)


async def test_delete_propagates(replicas: Callable[..., Any]) -> None:
    a, b = await replicas(2)
    _, [d1] = await a.deploy([("one.bpmn", variant(1))])
    await a.deploy([("one.bpmn", variant(2))])
    d, _ = await b.create_instance(-1, "p", -1, {})
    assert d.version == 2
    # d2 has a running instance now; delete v1 instead, through B, then check on A.
    await b.delete_resource(d1.key)
    with pytest.raises(NotFound):
        await a.create_instance(d1.key, "", -1, {})
    with pytest.raises(NotFound):
        await a.delete_resource(d1.key)
    _, [d3] = await a.deploy([("one.bpmn", variant(3))])
    assert d3.version == 3  # a deleted version number is never reused


MSG_START = bpmn('<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="m" /></bpmn:startEvent>'
                 + task("t", "started") + '<bpmn:endEvent id="e"/>'
                 '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
                 '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>',
                 pid="by-msg", extra='<bpmn:message id="m" name="start-me" />')


async def _started(br: Broker) -> list[Instance]:
    page = await br.scheduler.query_instances(InstanceQuery(engine="zeebe", definition="by-msg"))
    return list(page.items)


async def test_one_active_instance_per_correlation_key(replicas: Callable[..., Any]) -> None:
    a, b = await replicas(2)
    await a.deploy([("msg.bpmn", MSG_START)])
    # The same key published through both replicas at once: exactly one instance.
    await asyncio.gather(a.publish("start-me", "k1", 0, "", {"n": 1}), b.publish("start-me", "k1", 0, "", {"n": 2}))
    assert len(await _started(a)) == 1
    await b.publish("start-me", "k2", 0, "", {})
    assert len(await _started(a)) == 2
    # A fresh broker on the same storage (a restart) still knows k1's instance is active.
    [restarted] = await replicas(1)
    await restarted.publish("start-me", "k1", 0, "", {})
    assert len(await _started(a)) == 2
    # Once k1's instance ended, the key starts a new one.
    marker = await a.scheduler.get_instance("zeebe:msgstart:by-msg:k1")
    assert marker is not None and marker.state is not None
    k1_instance = marker.state.decode()
    assert k1_instance in {i.id for i in await _started(a)}
    await a.cancel(int(k1_instance))
    await a.scheduler.wait_instance(k1_instance, lambda i: i is not None and i.status.terminal, 5.0)
    await restarted.publish("start-me", "k1", 0, "", {})
    assert len(await _started(a)) == 3


async def test_key_reservations_under_contention(replicas: Callable[..., Any]) -> None:
    brokers = await replicas(4, block=10)  # each reserved one block at start-up
    ranges = await asyncio.gather(*(br.reserve_keys() for br in brokers for _ in range(8)))
    assert all(last - first == 9 for first, last in ranges)
    taken = sorted(n for first, last in ranges for n in range(first, last + 1))
    assert len(set(taken)) == len(taken) == 320  # 32 guarded commits raced; no block twice
    mark = await brokers[0].scheduler.get_data(KEYS_OBJECT)
    assert mark is not None and int(mark.meta["mark"]) == 36 * 10 and taken[-1] <= 360


async def test_an_instance_racing_a_delete_runs_on(replicas: Callable[..., Any]) -> None:
    a, b = await replicas(2)
    _, [d1] = await a.deploy([("one.bpmn", variant(1))])
    await b.sync_registry()
    # B's "no running instances" check ran before A's creation committed (the race it cannot see).
    real_query = b.scheduler.query_instances

    async def before_the_create(query: InstanceQuery) -> Page:
        return Page([])

    b.scheduler.query_instances = before_the_create  # type: ignore[method-assign]
    _, key = await a.create_instance(d1.key, "", -1, {"x": 1})
    await b.delete_resource(d1.key)
    b.scheduler.query_instances = real_query  # type: ignore[method-assign]
    with pytest.raises(NotFound):
        await a.create_instance(d1.key, "", -1, {})
    # The instance still runs to its end, stepped by whichever replica (one that never saw d1 too).
    [c] = await replicas(1)
    jobs = JobService(c.scheduler, c.states)
    [job] = await jobs.activate("work", "w", 30000, 1, [], 5.0)
    await jobs.complete(job.key, {"y": 2})
    done = await c.scheduler.wait_instance(str(key), lambda i: i is not None and i.status.terminal, 5.0)
    assert done is not None and done.status is InstanceStatus.COMPLETED
    assert done.output is not None and json.loads(done.output.data) == {"x": 1, "y": 2}
