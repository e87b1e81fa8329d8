"""The gRPC service in-process with the project's own stubs: codes, long polls, legacy rpcs."""

from __future__ import annotations

import json
import time

import grpc
import pytest

from adapters.zeebe._pb import gateway_pb2 as pb
from tests.unit.zeebe.conftest import Served, bpmn
from tests.unit.zeebe.test_engine_basic import ONE_TASK


async def _deploy(s: Served, xml: bytes = ONE_TASK) -> pb.DeployResourceResponse:
    return await s.stub.DeployResource(pb.DeployResourceRequest(resources=[pb.Resource(name="a.bpmn", content=xml)]))


async def _poll(s: Served, job_type: str, timeout: int = 1000, n: int = 1, wait: int = 2000) -> pb.ActivatedJob:
    """One job from one ActivateJobs long poll."""
    responses = [r async for r in s.stub.ActivateJobs(pb.ActivateJobsRequest(
        type=job_type, worker="w", timeout=timeout, maxJobsToActivate=n, requestTimeout=wait))]
    assert len(responses) == 1 and responses[0].jobs, f"no {job_type} job"
    return responses[0].jobs[0]


async def _code(call: object) -> grpc.StatusCode:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    raise AssertionError("expected an error")


async def test_topology(served: Served) -> None:
    t = await served.stub.Topology(pb.TopologyRequest())
    assert t.brokers[0].partitions[0].role == pb.Partition.LEADER and t.gatewayVersion == "8.6.0"
    assert t.clusterSize == 1 and t.partitionsCount == 1 and t.replicationFactor == 1


async def test_smoke_with_result(served: Served) -> None:
    dep = await _deploy(served)
    meta = dep.deployments[0].process
    assert meta.version == 1 and meta.processDefinitionKey >= 2251799813685249 and meta.resourceName == "a.bpmn"
    create = pb.CreateProcessInstanceWithResultRequest(
        request=pb.CreateProcessInstanceRequest(bpmnProcessId="e2e-one-task", version=-1, variables='{"x":21}'),
        requestTimeout=10000, fetchVariables=["x", "y"],
    )
    call = served.stub.CreateProcessInstanceWithResult(create)
    jobs = [r async for r in served.stub.ActivateJobs(
        pb.ActivateJobsRequest(type="double", worker="w", timeout=10000, maxJobsToActivate=32, requestTimeout=5000)
    )]
    assert len(jobs) == 1 and len(jobs[0].jobs) == 1
    job = jobs[0].jobs[0]
    assert json.loads(job.customHeaders) == {"factor": "2"} and job.retries == 3 and job.tenantId == "<default>"
    assert job.deadline > time.time() * 1000
    await served.stub.CompleteJob(pb.CompleteJobRequest(jobKey=job.key, variables='{"y": 42}'))
    result = await call
    assert json.loads(result.variables) == {"x": 21, "y": 42}


async def test_empty_poll_ends_ok(served: Served) -> None:
    started = time.monotonic()
    responses = [r async for r in served.stub.ActivateJobs(
        pb.ActivateJobsRequest(type="none", worker="w", timeout=1000, maxJobsToActivate=1, requestTimeout=500)
    )]
    assert responses == [] and 0.4 < time.monotonic() - started < 3


async def test_errors(served: Served) -> None:
    s = served.stub
    await _deploy(served)
    assert await _code(s.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="nope", version=-1))) \
        == grpc.StatusCode.NOT_FOUND
    assert await _code(s.CreateProcessInstance(
        pb.CreateProcessInstanceRequest(bpmnProcessId="e2e-one-task", version=-1, variables="[1]"))
    ) == grpc.StatusCode.INVALID_ARGUMENT
    poll = s.ActivateJobs(pb.ActivateJobsRequest(type="t", worker="w", timeout=1, maxJobsToActivate=0))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        _ = [r async for r in poll]
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await _code(s.UpdateJobRetries(pb.UpdateJobRetriesRequest(jobKey=1, retries=0))) \
        == grpc.StatusCode.INVALID_ARGUMENT
    assert await _code(s.PublishMessage(pb.PublishMessageRequest(name="m", tenantId="other"))) \
        == grpc.StatusCode.INVALID_ARGUMENT
    assert await _code(s.DeployResource(pb.DeployResourceRequest(
        resources=[pb.Resource(name="x.bpmn", content=b"<nope")]))) == grpc.StatusCode.INVALID_ARGUMENT
    assert await _code(s.EvaluateDecision(pb.EvaluateDecisionRequest(decisionId="d"))) \
        == grpc.StatusCode.UNIMPLEMENTED
    assert await _code(s.CompleteJob(pb.CompleteJobRequest(jobKey=12345))) == grpc.StatusCode.NOT_FOUND
    assert await _code(s.CreateProcessInstanceWithResult(pb.CreateProcessInstanceWithResultRequest(
        request=pb.CreateProcessInstanceRequest(bpmnProcessId="e2e-one-task", version=-1), requestTimeout=1000,
    ))) == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_message_dedupe(served: Served) -> None:
    s = served.stub
    req = pb.PublishMessageRequest(name="order-paid", correlationKey="o-1", messageId="m-1", timeToLive=500)
    key = (await s.PublishMessage(req)).key
    assert key >= 2251799813685249
    try:
        await s.PublishMessage(req)
        raise AssertionError("expected ALREADY_EXISTS")
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.ALREADY_EXISTS
        assert "rejected with code 'ALREADY_EXISTS'" in (exc.details() or "")
    import asyncio

    await asyncio.sleep(1.0)
    await s.PublishMessage(req)


async def test_versions(served: Served) -> None:
    s = served.stub
    first = (await _deploy(served)).deployments[0].process
    again = (await _deploy(served)).deployments[0].process
    assert (again.version, again.processDefinitionKey) == (first.version, first.processDefinitionKey)
    changed = ONE_TASK.replace(b'id="e"', b'id="e" name="end"')
    second = (await _deploy(served, changed)).deployments[0].process
    assert second.version == 2
    latest = await s.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="e2e-one-task", version=-1))
    v1 = await s.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="e2e-one-task", version=1))
    assert latest.version == 2 and v1.version == 1
    by_key = await s.CreateProcessInstance(
        pb.CreateProcessInstanceRequest(processDefinitionKey=first.processDefinitionKey)
    )
    assert by_key.version == 1


async def test_legacy_workflow_rpcs(served: Served) -> None:
    s = served.stub
    dep = await s.DeployWorkflow(pb.DeployWorkflowRequest(
        workflows=[pb.WorkflowRequestObject(name="one.bpmn", type=pb.WorkflowRequestObject.BPMN, definition=ONE_TASK)]
    ))
    assert dep.workflows[0].bpmnProcessId == "e2e-one-task" and dep.workflows[0].version == 1
    assert await _code(s.DeployWorkflow(pb.DeployWorkflowRequest(
        workflows=[pb.WorkflowRequestObject(name="x.yaml", type=pb.WorkflowRequestObject.YAML, definition=b"a: 1")]
    ))) == grpc.StatusCode.INVALID_ARGUMENT
    call = s.CreateWorkflowInstanceWithResult(pb.CreateWorkflowInstanceWithResultRequest(
        request=pb.CreateWorkflowInstanceRequest(bpmnProcessId="e2e-one-task", version=-1, variables='{"x":7}')))
    job = await _poll(served, "double")
    assert job.processDefinitionKey == dep.workflows[0].workflowKey
    await s.CompleteJob(pb.CompleteJobRequest(jobKey=job.key, variables='{"y":14}'))
    assert json.loads((await call).variables) == {"x": 7, "y": 14}


async def test_fail_to_incident_and_resolve(served: Served) -> None:
    s = served.stub
    await _deploy(served)
    created = await s.CreateProcessInstance(
        pb.CreateProcessInstanceRequest(bpmnProcessId="e2e-one-task", version=-1, variables='{"x":1}'))
    for expected in (3, 2, 1):
        job = await _poll(served, "double")
        assert job.retries == expected
        await s.FailJob(pb.FailJobRequest(jobKey=job.key, retries=expected - 1, errorMessage="boom"))
    empty = [r async for r in s.ActivateJobs(pb.ActivateJobsRequest(
        type="double", worker="w", timeout=1000, maxJobsToActivate=1, requestTimeout=300))]
    assert empty == []
    assert await _code(s.CompleteJob(pb.CompleteJobRequest(jobKey=job.key))) == grpc.StatusCode.FAILED_PRECONDITION
    incidents = await served.zb.incidents(created.processInstanceKey)
    (ikey, inc), = incidents.items()
    assert inc["type"] == "JOB_NO_RETRIES" and inc["msg"] == "boom"
    await s.UpdateJobRetries(pb.UpdateJobRetriesRequest(jobKey=job.key, retries=1))
    await s.ResolveIncident(pb.ResolveIncidentRequest(incidentKey=int(ikey)))
    job = await _poll(served, "double")
    assert job.retries == 1
    assert await _code(s.ResolveIncident(pb.ResolveIncidentRequest(incidentKey=int(ikey)))) \
        == grpc.StatusCode.NOT_FOUND


async def test_set_variables_local_and_propagate(served: Served) -> None:
    xml = bpmn(
        '<bpmn:startEvent id="s" /><bpmn:serviceTask id="t"><bpmn:extensionElements>'
        '<zeebe:taskDefinition type="w" /><zeebe:ioMapping><zeebe:input source="=1" target="bar" />'
        '</zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />'
    )
    s = served.stub
    await _deploy(served, xml)
    pi = (await s.CreateProcessInstance(pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=-1, variables='{"foo":2}'))).processInstanceKey
    job = await _poll(served, "w", timeout=10000)
    assert json.loads(job.variables) == {"foo": 2, "bar": 1}
    await s.SetVariables(pb.SetVariablesRequest(elementInstanceKey=job.elementInstanceKey, variables='{"foo":5}',
                                                local=True))
    await served.zb.settle(pi)
    st = await served.zb.state(pi)
    assert st.ei[str(pi)]["v"] == {"foo": 2} and st.ei[str(job.elementInstanceKey)]["v"] == {"bar": 1, "foo": 5}
    await s.SetVariables(pb.SetVariablesRequest(elementInstanceKey=pi, variables='{"foo":7, "n": 1}'))
    await served.zb.settle(pi)
    st = await served.zb.state(pi)
    assert st.ei[str(pi)]["v"] == {"foo": 7, "n": 1}
    assert await _code(s.SetVariables(pb.SetVariablesRequest(elementInstanceKey=99, variables="{}"))) \
        == grpc.StatusCode.NOT_FOUND
    await s.CancelProcessInstance(pb.CancelProcessInstanceRequest(processInstanceKey=pi))
    assert await _code(s.CancelProcessInstance(pb.CancelProcessInstanceRequest(processInstanceKey=pi))) \
        == grpc.StatusCode.NOT_FOUND


async def test_cancelled_poll_leaves_jobs_for_others(served: Served) -> None:
    import asyncio

    s = served.stub
    await _deploy(served)
    call = s.ActivateJobs(pb.ActivateJobsRequest(type="double", worker="gone", timeout=60000, maxJobsToActivate=1,
                                                  requestTimeout=10000))
    reader = asyncio.ensure_future(call.read())
    await asyncio.sleep(0.2)
    call.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    await asyncio.sleep(0.1)
    await s.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="e2e-one-task", version=-1))
    job = await _poll(served, "double")
    assert job.worker == "w"


async def test_stream_activated_jobs_pushes_new_jobs(served: Served) -> None:
    s = served.stub
    await _deploy(served)
    stream = s.StreamActivatedJobs(pb.StreamActivatedJobsRequest(type="double", worker="streamer", timeout=5000,
                                                                 tenantIds=["<default>"]))
    await s.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="e2e-one-task", version=-1,
                                                                  variables='{"x":2}'))
    job = await stream.read()
    assert job.worker == "streamer" and json.loads(job.variables) == {"x": 2}
    stream.cancel()
    await s.CompleteJob(pb.CompleteJobRequest(jobKey=job.key, variables='{"y":4}'))


async def test_rejection_text(served: Served) -> None:
    s = served.stub
    try:
        await s.CompleteJob(pb.CompleteJobRequest(jobKey=777))
    except grpc.aio.AioRpcError as exc:
        assert exc.details() == (
            "Command 'COMPLETE' rejected with code 'NOT_FOUND': Expected to complete job with key '777', "
            "but no such job was found"
        )


async def test_start_instructions(served: Served) -> None:
    s = served.stub
    await _deploy(served)
    created = await s.CreateProcessInstance(pb.CreateProcessInstanceRequest(
        bpmnProcessId="e2e-one-task", version=-1, variables='{"x":1}',
        startInstructions=[pb.ProcessInstanceCreationStartInstruction(elementId="e")]))
    inst = await served.zb.scheduler.wait_instance(
        str(created.processInstanceKey), lambda i: i is not None and i.status.terminal, 3)
    assert inst is not None and inst.status.value == "COMPLETED"
    assert await _code(s.CreateProcessInstance(pb.CreateProcessInstanceRequest(
        bpmnProcessId="e2e-one-task", version=-1,
        startInstructions=[pb.ProcessInstanceCreationStartInstruction(elementId="nope")]))) \
        == grpc.StatusCode.INVALID_ARGUMENT


async def test_deploy_process_and_no_none_start(served: Served) -> None:
    s = served.stub
    msg_start = bpmn(
        '<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="m" /></bpmn:startEvent>',
        pid="msg-only", extra='<bpmn:message id="m" name="go" />',
    )
    dep = await s.DeployProcess(pb.DeployProcessRequest(processes=[
        pb.ProcessRequestObject(name="/full/path/msg.bpmn", definition=msg_start)]))
    assert dep.processes[0].bpmnProcessId == "msg-only" and dep.processes[0].resourceName == "/full/path/msg.bpmn"
    assert await _code(s.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="msg-only",
                                                                               version=-1))) \
        == grpc.StatusCode.FAILED_PRECONDITION
    assert await _code(s.DeployResource(pb.DeployResourceRequest(
        resources=[pb.Resource(name="d.dmn", content=b"<definitions/>")]))) == grpc.StatusCode.INVALID_ARGUMENT
    assert await _code(s.DeployResource(pb.DeployResourceRequest(resources=[]))) == grpc.StatusCode.INVALID_ARGUMENT
