"""In-process Zeebe engine fixtures: CoreScheduler + MemoryStorage, the broker, engine and jobs."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.zeebe.bpmn.state import State
from adapters.zeebe.broker import Broker
from adapters.zeebe.engine import ZeebeEngine
from adapters.zeebe.jobs import ActivatedJobData, JobService
from gateway.clock import SystemClock
from gateway.model import Instance
from gateway.notifier import LocalNotifier
from gateway.scheduler.core import CoreScheduler
from gateway.storage.memory import MemoryStorage

BPMN_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">'
)


def bpmn(body: str, pid: str = "p", extra: str = "") -> bytes:
    """A definitions document with one executable process around `body`."""
    process = f'<bpmn:process id="{pid}" isExecutable="true">{body}</bpmn:process>'
    return f"{BPMN_HEAD}{extra}{process}</bpmn:definitions>".encode()


def task(tid: str, job_type: str, extra: str = "", ext: str = "") -> str:
    return (
        f'<bpmn:serviceTask id="{tid}" {extra}><bpmn:extensionElements>'
        f'<zeebe:taskDefinition type="{job_type}" />{ext}</bpmn:extensionElements></bpmn:serviceTask>'
    )


def flow(fid: str, src: str, dst: str, cond: str = "") -> str:
    if cond:
        return (
            f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}">'
            f"<bpmn:conditionExpression>{cond}</bpmn:conditionExpression></bpmn:sequenceFlow>"
        )
    return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}" />'


def chain(*ids: str) -> str:
    return "".join(flow(f"f_{a}_{b}", a, b) for a, b in itertools.pairwise(ids))


@dataclass
class Zeebe:
    scheduler: CoreScheduler
    broker: Broker
    jobs: JobService

    async def deploy(self, xml: bytes) -> Any:
        _, defs = await self.broker.deploy([("test.bpmn", xml)])
        return defs[0]

    async def start(self, pid: str = "p", variables: dict[str, Any] | None = None) -> int:
        _, key = await self.broker.create_instance(-1, pid, -1, variables or {})
        return key

    async def activate(self, job_type: str, n: int = 32, wait: float = 2.0, fetch: list[str] | None = None
                       ) -> list[ActivatedJobData]:
        return await self.jobs.activate(job_type, "w", 30000, n, fetch or [], wait)

    async def one(self, job_type: str, wait: float = 2.0) -> ActivatedJobData:
        jobs = await self.activate(job_type, 1, wait)
        assert len(jobs) == 1, f"expected one {job_type} job"
        return jobs[0]

    async def complete(self, job: ActivatedJobData, variables: dict[str, Any] | None = None) -> None:
        await self.jobs.complete(job.key, variables or {})

    async def instance(self, key: int) -> Instance:
        inst = await self.scheduler.get_instance(str(key))
        assert inst is not None
        return inst

    async def state(self, key: int) -> State:
        return State.load((await self.instance(key)).state)

    async def settle(self, key: int, timeout: float = 3.0) -> Instance:
        """Wait until the instance has no unprocessed inbox events."""
        inst = await self.scheduler.wait_instance(str(key), lambda i: i is not None and not i.runnable, timeout)
        assert inst is not None
        return inst

    async def result(self, key: int, timeout: float = 3.0) -> dict[str, Any]:
        inst = await self.scheduler.wait_instance(str(key), lambda i: i is not None and i.status.terminal, timeout)
        assert inst is not None and inst.output is not None, inst
        return dict(json.loads(inst.output.data))

    async def incidents(self, key: int) -> dict[str, dict[str, Any]]:
        await self.settle(key)
        return (await self.state(key)).incidents


@pytest.fixture
async def zb() -> AsyncIterator[Zeebe]:
    storage = MemoryStorage()
    scheduler = CoreScheduler(storage, SystemClock(), LocalNotifier(), poll_interval=0.05)
    broker = Broker(scheduler)
    await broker.load()
    engine = ZeebeEngine(broker)
    scheduler.register_engine(engine)
    await scheduler.start()
    try:
        # The production path: completions take the engine's one-commit route when they can.
        yield Zeebe(scheduler, broker, JobService(scheduler, broker.states, engine.complete_inline))
    finally:
        await scheduler.stop()
        await asyncio.sleep(0)


class FakeContext:
    """A small `AdapterContext`: the scheduler plus a real grpc.aio server on a free port."""

    def __init__(self, scheduler: CoreScheduler, server: Any) -> None:
        self.scheduler = scheduler
        self.clock = scheduler.clock
        self.metrics = None
        self.settings: dict[str, Any] = {}
        self.server = server
        self.services: list[str] = []

    def add_grpc_service(self, registrar: Any, service_names: Any) -> None:
        registrar(self.server)
        self.services.extend(service_names)

    def add_reflection_files(self, descriptor_pool: Any) -> None:
        return None

    def add_http_route(self, listener: str, path: str, endpoint: Any, methods: Any = None) -> None:
        raise ValueError("no HTTP listeners in unit tests")


@dataclass
class Served:
    """The adapter served over gRPC in-process; `stub` is the project's own client stub."""

    zb: Zeebe
    stub: Any
    channel: Any
    target: str


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    import grpc

    from adapters.zeebe._pb import gateway_pb2_grpc
    from adapters.zeebe.adapter import ZeebeAdapter

    storage = MemoryStorage()
    scheduler = CoreScheduler(storage, SystemClock(), LocalNotifier(), poll_interval=0.05)
    server = grpc.aio.server(options=[
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 30000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_ping_strikes", 0),
    ])
    port = server.add_insecure_port("127.0.0.1:0")
    ctx = FakeContext(scheduler, server)
    adapter = ZeebeAdapter()
    await adapter.start(ctx)  # type: ignore[arg-type]
    await scheduler.start()
    await server.start()
    target = f"127.0.0.1:{port}"
    channel = grpc.aio.insecure_channel(target)
    assert adapter.broker is not None
    zb = Zeebe(scheduler, adapter.broker, JobService(scheduler))
    try:
        yield Served(zb, gateway_pb2_grpc.GatewayStub(channel), channel, target)
    finally:
        await channel.close()
        await server.stop(0)
        await scheduler.stop()
