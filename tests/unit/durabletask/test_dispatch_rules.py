"""Dispatch rules on the in-process sidecar: workItemFilters, cancelling an ended execution's
activities and timers, and entity operations held back while another orchestration holds the lock."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from adapters.durabletask._pb import orchestrator_service_pb2 as pb
from adapters.durabletask.turns import activity_job_id

from .test_servicer import _next_work, sidecar

__all__ = ["sidecar"]  # the fixture, re-exported for pytest


async def _quiet(stream: Any, seconds: float = 0.8) -> None:
    """Nothing but health pings arrives on `stream` for `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            item = await asyncio.wait_for(stream.read(), left)
        except TimeoutError:
            return
        assert item.HasField("healthPing"), f"unexpected work item {item}"


async def _turn(stub: Any, item: pb.WorkItem, *actions: pb.OrchestratorAction) -> None:
    resp = pb.OrchestratorResponse(instanceId=item.orchestratorRequest.instanceId,
                                   completionToken=item.completionToken)
    resp.actions.extend(actions)
    await stub.CompleteOrchestratorTask(resp)


async def test_a_filtered_stream_gets_only_matching_work(sidecar: Any) -> None:
    stub, _, _ = sidecar
    await stub.StartInstance(pb.CreateInstanceRequest(instanceId="wanted", name="mine"))
    await stub.StartInstance(pb.CreateInstanceRequest(instanceId="other", name="theirs"))
    req = pb.GetWorkItemsRequest()
    req.workItemFilters.orchestrations.add(name="mine")
    req.workItemFilters.activities.add(name="act", versions=["2"])
    filtered = stub.GetWorkItems(req)
    first = await _next_work(filtered)
    assert first.orchestratorRequest.instanceId == "wanted"
    v1 = pb.OrchestratorAction(id=1, scheduleTask=pb.ScheduleTaskAction(name="act"))
    v1.scheduleTask.version.value = "1"
    v2 = pb.OrchestratorAction(id=2, scheduleTask=pb.ScheduleTaskAction(name="act"))
    v2.scheduleTask.version.value = "2"
    await _turn(stub, first, v1, v2)
    activity = await _next_work(filtered)
    assert activity.activityRequest.taskId == 2  # version 1 is not in the filter
    await _quiet(filtered)  # "theirs" and act v1 are refused
    plain = stub.GetWorkItems(pb.GetWorkItemsRequest())
    got = {(await _next_work(plain)).WhichOneof("request") for _ in range(2)}
    assert got == {"orchestratorRequest", "activityRequest"}
    filtered.cancel()
    plain.cancel()


async def test_the_end_of_an_execution_cancels_its_activities_and_timers(sidecar: Any) -> None:
    stub, _, ctx = sidecar
    await stub.StartInstance(pb.CreateInstanceRequest(instanceId="ended", name="orch"))
    stream = stub.GetWorkItems(pb.GetWorkItemsRequest())
    first = await _next_work(stream)
    exec_id = first.orchestratorRequest.executionId.value
    timer = pb.OrchestratorAction(id=2)
    timer.createTimer.fireAt.FromSeconds(int(ctx.clock.now()) + 3600)
    await _turn(stub, first, pb.OrchestratorAction(id=1, scheduleTask=pb.ScheduleTaskAction(name="slow")), timer)
    activity = await _next_work(stream)  # leased, never answered
    assert await ctx.scheduler.get_job(activity_job_id(exec_id, 1)) is not None
    assert len(await ctx.scheduler.storage.timers("ended")) == 1

    await stub.TerminateInstance(pb.TerminateRequest(instanceId="ended", recursive=True))
    turn = await _next_work(stream)
    done = pb.OrchestratorAction(id=-1)
    done.completeOrchestration.orchestrationStatus = pb.ORCHESTRATION_STATUS_TERMINATED
    await _turn(stub, turn, done)

    assert await ctx.scheduler.get_job(activity_job_id(exec_id, 1)) is None
    assert await ctx.scheduler.storage.timers("ended") == []
    late = pb.ActivityResponse(instanceId="ended", taskId=1, completionToken=activity.completionToken)
    with pytest.raises(grpc.aio.AioRpcError) as info:  # the cancelled activity's token is refused
        await stub.CompleteActivityTask(late)
    assert info.value.code() is grpc.StatusCode.NOT_FOUND
    stream.cancel()


def _entity_action(action_id: int, which: str, **fields: Any) -> pb.OrchestratorAction:
    action = pb.OrchestratorAction(id=action_id)
    body = getattr(action.sendEntityMessage, which)
    for key, value in fields.items():
        if key in ("targetInstanceId", "parentInstanceId"):
            getattr(body, key).value = value
        elif key == "lockSet":
            body.lockSet.extend(value)
        else:
            setattr(body, key, value)
    return action


async def test_entity_operations_wait_while_another_orchestration_holds_the_lock(sidecar: Any) -> None:
    stub, _, _ = sidecar
    eid = "@counter@k"
    await stub.StartInstance(pb.CreateInstanceRequest(instanceId="holder", name="orch"))
    stream = stub.GetWorkItems(pb.GetWorkItemsRequest())
    first = await _next_work(stream)
    lock = _entity_action(1, "entityLockRequested", criticalSectionId="cs1", lockSet=[eid], position=0,
                          parentInstanceId="holder")
    await _turn(stub, first, lock)
    granted = await _next_work(stream)  # the gateway grants the lock without a worker
    assert granted.orchestratorRequest.newEvents[-1].HasField("entityLockGranted")

    signal = pb.SignalEntityRequest(instanceId=eid, name="add", requestId="from-client")
    signal.input.value = "5"
    await stub.SignalEntity(signal)
    await asyncio.sleep(0.3)  # the signal must wait for the unlock...
    call = _entity_action(2, "entityOperationCalled", requestId="from-holder", operation="get",
                          targetInstanceId=eid, parentInstanceId="holder")
    await _turn(stub, granted, call)
    batch = await _next_work(stream)  # ...while the holder's own call runs
    ops = batch.entityRequestV2.operationRequests
    assert [o.entityOperationCalled.requestId for o in ops] == ["from-holder"]
    result = pb.EntityBatchResult(completionToken=batch.completionToken)
    result.results.add().success.result.value = "0"
    await stub.CompleteEntityTask(result)

    answered = await _next_work(stream)
    assert answered.orchestratorRequest.newEvents[-1].HasField("entityOperationCompleted")
    unlock = _entity_action(3, "entityUnlockSent", criticalSectionId="cs1", targetInstanceId=eid,
                            parentInstanceId="holder")
    await _turn(stub, answered, unlock)
    released = await _next_work(stream)  # now the held-back signal runs
    ops = released.entityRequestV2.operationRequests
    assert [o.entityOperationSignaled.requestId for o in ops] == ["from-client"]
    stream.cancel()
