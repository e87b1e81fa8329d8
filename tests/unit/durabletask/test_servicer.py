"""The sidecar in-process: a grpc.aio server with the adapter on CoreScheduler + MemoryStorage."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
import pytest

from adapters.durabletask import DurableTaskAdapter
from adapters.durabletask._pb import orchestrator_service_pb2 as pb
from adapters.durabletask._pb import orchestrator_service_pb2_grpc as pb_grpc
from gateway.clock import SystemClock
from gateway.notifier import LocalNotifier
from gateway.scheduler.core import CoreScheduler
from gateway.storage.memory import MemoryStorage


class _Metrics:
    def __init__(self) -> None:
        self.workers = 0

    def worker_connected(self, protocol: str, delta: int) -> None:
        self.workers += delta

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: None


class _Ctx:
    def __init__(self, scheduler: CoreScheduler, server: grpc.aio.Server) -> None:
        self.scheduler = scheduler
        self.clock = scheduler.clock
        self.metrics = _Metrics()
        self.settings = {"enabled": True, "ping_interval_seconds": 0.3}
        self._server = server

    def add_grpc_service(self, registrar: Any, service_names: Sequence[str]) -> None:
        registrar(self._server)

    def add_reflection_files(self, pool: Any) -> None:
        pass

    def add_http_route(self, *a: Any, **k: Any) -> None:
        pass


@pytest.fixture
async def sidecar() -> AsyncIterator[tuple[pb_grpc.TaskHubSidecarServiceStub, grpc.aio.Channel, _Ctx]]:
    sched = CoreScheduler(MemoryStorage(), SystemClock(), LocalNotifier(), poll_interval=0.2)
    server = grpc.aio.server()
    port = server.add_insecure_port("127.0.0.1:0")
    ctx = _Ctx(sched, server)
    adapter = DurableTaskAdapter()
    await adapter.start(ctx)  # type: ignore[arg-type]
    await sched.start()
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield pb_grpc.TaskHubSidecarServiceStub(channel), channel, ctx
    finally:
        await channel.close()
        await adapter.stop()
        await server.stop(0)
        await sched.stop()


async def _next_work(stream: Any) -> pb.WorkItem:
    while True:
        item = await asyncio.wait_for(stream.read(), 5)
        if not item.HasField("healthPing"):
            return item


async def test_garbage_bytes_get_a_clean_error_and_the_server_survives(sidecar: Any) -> None:
    stub, channel, _ = sidecar
    raw = channel.unary_unary("/TaskHubSidecarService/StartInstance")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await raw(os.urandom(64) + b"\xff\xff\xff\xff\x0f")
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CompleteOrchestratorTask(pb.OrchestratorResponse(completionToken="garbage"))
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert (await stub.GetInstance(pb.GetInstanceRequest(instanceId="nope"))).exists is False


async def test_turns_activities_tokens_and_pings(sidecar: Any) -> None:
    stub, _, ctx = sidecar
    start = pb.CreateInstanceRequest(instanceId="i1", name="orch")
    start.input.value = '"World"'
    await stub.StartInstance(start)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.StartInstance(start)
    assert info.value.code() is grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.WaitForInstanceStart(pb.GetInstanceRequest(instanceId="i1"), timeout=0.5)
    assert info.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED

    await stub.Hello(pb.google_dot_protobuf_dot_empty__pb2.Empty())
    stream = stub.GetWorkItems(pb.GetWorkItemsRequest(maxConcurrentOrchestrationWorkItems=2,
                                                      maxConcurrentActivityWorkItems=2))
    first = await _next_work(stream)
    req = first.orchestratorRequest
    assert [e.WhichOneof("eventType") for e in req.newEvents] == ["orchestratorStarted", "executionStarted"]
    assert list(req.pastEvents) == [] and req.newEvents[1].executionStarted.input.value == '"World"'
    assert ctx.metrics.workers == 1

    resp = pb.OrchestratorResponse(instanceId="i1", completionToken=first.completionToken)
    task = pb.ScheduleTaskAction(name="say_hello", input=req.newEvents[1].executionStarted.input)
    resp.actions.add(id=1, scheduleTask=task)
    resp.customStatus.value = '"busy"'
    await stub.CompleteOrchestratorTask(resp)
    with pytest.raises(grpc.aio.AioRpcError) as info:  # a duplicate completion is never applied twice
        await stub.CompleteOrchestratorTask(resp)
    assert info.value.code() is grpc.StatusCode.NOT_FOUND

    activity = await _next_work(stream)
    assert activity.activityRequest.name == "say_hello" and activity.activityRequest.taskId == 1
    done = pb.ActivityResponse(instanceId="i1", taskId=1, completionToken=activity.completionToken)
    done.result.value = '"Hello, World!"'
    await stub.CompleteActivityTask(done)

    second = await _next_work(stream)
    past = [e.WhichOneof("eventType") for e in second.orchestratorRequest.pastEvents]
    assert past == ["orchestratorStarted", "executionStarted", "taskScheduled", "orchestratorCompleted"]
    assert second.orchestratorRequest.pastEvents[2].eventId == 1
    new = second.orchestratorRequest.newEvents
    assert [e.WhichOneof("eventType") for e in new] == ["orchestratorStarted", "taskCompleted"]
    resp2 = pb.OrchestratorResponse(instanceId="i1", completionToken=second.completionToken)
    final = resp2.actions.add(id=2)
    final.completeOrchestration.orchestrationStatus = pb.ORCHESTRATION_STATUS_COMPLETED
    final.completeOrchestration.result.value = '"Hello, World!"'
    await stub.CompleteOrchestratorTask(resp2)

    got = await stub.WaitForInstanceCompletion(pb.GetInstanceRequest(instanceId="i1", getInputsAndOutputs=True),
                                               timeout=5)
    state = got.orchestrationState
    assert state.orchestrationStatus == pb.ORCHESTRATION_STATUS_COMPLETED
    assert state.output.value == '"Hello, World!"' and state.customStatus.value == '"busy"'
    chunks = [c async for c in stub.StreamInstanceHistory(pb.StreamInstanceHistoryRequest(instanceId="i1"))]
    events = [e for c in chunks for e in c.events]
    assert events[-1].WhichOneof("eventType") == "executionCompleted" and events[-1].eventId == 2

    ping = await asyncio.wait_for(stream.read(), 5)  # nothing left: the stream pings
    assert ping.HasField("healthPing")
    stream.cancel()
    purged = await stub.PurgeInstances(pb.PurgeInstancesRequest(instanceId="i1", recursive=True))
    assert purged.deletedInstanceCount == 1
    assert (await stub.GetInstance(pb.GetInstanceRequest(instanceId="i1"))).exists is False


async def test_dropped_stream_releases_its_items(sidecar: Any) -> None:
    stub, _, _ = sidecar
    await stub.StartInstance(pb.CreateInstanceRequest(instanceId="i2", name="orch"))
    first_stream = stub.GetWorkItems(pb.GetWorkItemsRequest())
    first = await _next_work(first_stream)
    first_stream.cancel()
    second_stream = stub.GetWorkItems(pb.GetWorkItemsRequest())
    again = await _next_work(second_stream)
    assert again.orchestratorRequest.instanceId == "i2" and again.completionToken != first.completionToken
    stale = pb.OrchestratorResponse(instanceId="i2", completionToken=first.completionToken)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CompleteOrchestratorTask(stale)
    assert info.value.code() is grpc.StatusCode.NOT_FOUND
    second_stream.cancel()
