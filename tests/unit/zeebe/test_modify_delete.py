"""ModifyProcessInstance and DeleteResource over gRPC (Zeebe 8.6 rules, codes and texts)."""

from __future__ import annotations

import json

import grpc

from adapters.zeebe._pb import gateway_pb2 as pb
from adapters.zeebe.broker import Broker
from tests.unit.zeebe.conftest import Served, bpmn, chain, task

A_B_C = bpmn(
    '<bpmn:startEvent id="s" />' + task("A", "a") + task("B", "b") + task("C", "c") + '<bpmn:endEvent id="e" />'
    + chain("s", "A", "B", "C", "e"),
    pid="abc",
)
SUB = bpmn(
    '<bpmn:startEvent id="s" />' + task("A", "a")
    + '<bpmn:subProcess id="sub"><bpmn:startEvent id="ss" />' + task("in", "in") + '<bpmn:endEvent id="se" />'
    + chain("ss", "in", "se") + "</bpmn:subProcess>"
    + '<bpmn:endEvent id="e" />' + chain("s", "A", "sub", "e"),
    pid="withsub",
)
MI_SUB = bpmn(
    '<bpmn:startEvent id="s" />'
    + '<bpmn:subProcess id="sub"><bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>'
    '<zeebe:loopCharacteristics inputCollection="= items" inputElement="item" /></bpmn:extensionElements>'
    "</bpmn:multiInstanceLoopCharacteristics>"
    + '<bpmn:startEvent id="ss" />' + task("x", "x") + '<bpmn:endEvent id="se" />' + chain("ss", "x", "se")
    + "</bpmn:subProcess>" + '<bpmn:endEvent id="e" />' + chain("s", "sub", "e"),
    pid="mi",
)


async def _deploy(s: Served, xml: bytes) -> pb.DeployResourceResponse:
    return await s.stub.DeployResource(pb.DeployResourceRequest(resources=[pb.Resource(name="a.bpmn", content=xml)]))


async def _create(s: Served, pid: str, variables: str = "{}") -> int:
    r = await s.stub.CreateProcessInstance(
        pb.CreateProcessInstanceRequest(bpmnProcessId=pid, version=-1, variables=variables))
    return int(r.processInstanceKey)


async def _jobs(s: Served, job_type: str, n: int = 10, wait: int = 2000) -> list[pb.ActivatedJob]:
    out: list[pb.ActivatedJob] = []
    async for r in s.stub.ActivateJobs(pb.ActivateJobsRequest(
            type=job_type, worker="w", timeout=30000, maxJobsToActivate=n, requestTimeout=wait)):
        out.extend(r.jobs)
    return out


async def _error(call: object) -> tuple[grpc.StatusCode, str]:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as exc:
        return exc.code(), exc.details() or ""
    raise AssertionError("expected an error")


def _activate(element: str, ancestor: int = -1, **scopes: dict[str, object]
              ) -> pb.ModifyProcessInstanceRequest.ActivateInstruction:
    return pb.ModifyProcessInstanceRequest.ActivateInstruction(
        elementId=element, ancestorElementInstanceKey=ancestor,
        variableInstructions=[
            pb.ModifyProcessInstanceRequest.VariableInstruction(variables=json.dumps(v), scopeId=k.lstrip("_"))
            for k, v in scopes.items()
        ],
    )


def _terminate(key: int) -> pb.ModifyProcessInstanceRequest.TerminateInstruction:
    return pb.ModifyProcessInstanceRequest.TerminateInstruction(elementInstanceKey=key)


async def test_move_token_with_variables(served: Served) -> None:
    await _deploy(served, A_B_C)
    key = await _create(served, "abc", '{"x":1}')
    [a] = await _jobs(served, "a")
    await served.stub.ModifyProcessInstance(pb.ModifyProcessInstanceRequest(
        processInstanceKey=key,
        activateInstructions=[_activate("C", _={"g": 2}, C={"l": 3})],
        terminateInstructions=[_terminate(a.elementInstanceKey)],
    ))
    [c] = await _jobs(served, "c")
    assert json.loads(c.variables) == {"x": 1, "g": 2, "l": 3}
    code, _ = await _error(served.stub.CompleteJob(pb.CompleteJobRequest(jobKey=a.key)))
    assert code == grpc.StatusCode.NOT_FOUND  # the terminated task's job is gone
    await served.stub.CompleteJob(pb.CompleteJobRequest(jobKey=c.key, variables='{"y":4}'))
    assert await served.zb.result(key) == {"x": 1, "g": 2, "y": 4}  # "l" was local to C
    assert await _jobs(served, "b", wait=200) == []


async def test_activate_inside_a_new_subprocess_instance(served: Served) -> None:
    await _deploy(served, SUB)
    key = await _create(served, "withsub")
    [a] = await _jobs(served, "a")
    await served.stub.ModifyProcessInstance(pb.ModifyProcessInstanceRequest(
        processInstanceKey=key, activateInstructions=[_activate("in", sub={"sv": 1})],
        terminateInstructions=[_terminate(a.elementInstanceKey)],
    ))
    [job] = await _jobs(served, "in")
    assert json.loads(job.variables) == {"sv": 1}
    state = await served.zb.state(key)
    parent = state.ei[str(job.elementInstanceKey)]["p"]
    assert state.ei[parent]["id"] == "sub" and state.ei[parent]["p"] == str(key)
    await served.stub.CompleteJob(pb.CompleteJobRequest(jobKey=job.key, variables="{}"))
    assert await served.zb.result(key) == {}  # the subprocess completed, then the process


async def test_terminating_the_last_element_terminates_the_instance(served: Served) -> None:
    await _deploy(served, A_B_C)
    key = await _create(served, "abc")
    [a] = await _jobs(served, "a")
    await served.stub.ModifyProcessInstance(pb.ModifyProcessInstanceRequest(
        processInstanceKey=key, terminateInstructions=[_terminate(a.elementInstanceKey)]))
    inst = await served.zb.scheduler.wait_instance(str(key), lambda i: i is not None and i.status.terminal, 3)
    assert inst is not None and inst.status.value == "TERMINATED"


async def test_ancestor_selection_in_multi_instance(served: Served) -> None:
    await _deploy(served, MI_SUB)
    key = await _create(served, "mi", '{"items":[1,2]}')
    jobs = await _jobs(served, "x")
    assert len(jobs) == 2
    code, text = await _error(served.stub.ModifyProcessInstance(pb.ModifyProcessInstanceRequest(
        processInstanceKey=key, activateInstructions=[_activate("x")])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "more than one active instance: 'sub'" in text
    state = await served.zb.state(key)
    inner = state.ei[str(jobs[0].elementInstanceKey)]["p"]
    await served.stub.ModifyProcessInstance(pb.ModifyProcessInstanceRequest(
        processInstanceKey=key, activateInstructions=[_activate("x", int(inner))]))
    [extra] = await _jobs(served, "x")
    assert extra.elementInstanceKey not in {j.elementInstanceKey for j in jobs}
    assert json.loads(extra.variables)["item"] == json.loads(jobs[0].variables)["item"]


async def test_modify_rejections(served: Served) -> None:
    s = served.stub
    await _deploy(served, A_B_C)
    await _deploy(served, SUB)
    key = await _create(served, "abc")
    await _jobs(served, "a")

    async def modify(*act: pb.ModifyProcessInstanceRequest.ActivateInstruction, term: tuple[int, ...] = (),
                     pik: int = key) -> tuple[grpc.StatusCode, str]:
        return await _error(s.ModifyProcessInstance(pb.ModifyProcessInstanceRequest(
            processInstanceKey=pik, activateInstructions=act, terminateInstructions=[_terminate(k) for k in term])))

    assert await modify(pik=123) == (
        grpc.StatusCode.NOT_FOUND,
        "Command 'MODIFY' rejected with code 'NOT_FOUND': Expected to modify process instance but no process "
        "instance found with key '123'",
    )
    code, text = await modify(_activate("B"), _activate("nope"), _activate("nada"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert text.endswith("activate instructions with an element that could not be found: 'nope', 'nada'")
    code, text = await modify(_activate("s"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "with type 'START_EVENT' is not supported" in text
    code, text = await modify(term=(42,))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and text.endswith("could not be found: '42'")
    code, text = await modify(_activate("B", elsewhere={"a": 1}))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "scope element id that could not be found" in text
    code, text = await modify(_activate("B", ancestor=999))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "does not exist, or is not in an active state: '999'" in text
    code, _ = await _error(s.ModifyProcessInstance(pb.ModifyProcessInstanceRequest(
        processInstanceKey=key, activateInstructions=[pb.ModifyProcessInstanceRequest.ActivateInstruction(
            elementId="B", variableInstructions=[pb.ModifyProcessInstanceRequest.VariableInstruction(
                variables="[1]")])])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    # An element instance of another scope is not an ancestor.
    sub_key = await _create(served, "withsub")
    [a2] = await _jobs(served, "a")
    code, text = await modify(_activate("in", ancestor=a2.elementInstanceKey), pik=sub_key)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "is not an ancestor of element 'in'" in text
    code, text = await modify(_activate("B"), term=(key,))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "is also being terminated" in text
    # Nothing was applied by the rejected commands.
    state = await served.zb.state(key)
    assert sorted(r["id"] for r in state.ei.values()) == ["A", "abc"]


async def test_delete_resource(served: Served) -> None:
    s = served.stub
    v1 = (await _deploy(served, A_B_C)).deployments[0].process
    v2 = (await _deploy(served, A_B_C.replace(b'id="e"', b'id="e2"').replace(b'"C" targetRef="e"',
                                                                                b'"C" targetRef="e2"'))
          ).deployments[0].process
    assert (v1.version, v2.version) == (1, 2)
    key = await _create(served, "abc")
    code, text = await _error(s.DeleteResource(pb.DeleteResourceRequest(resourceKey=v2.processDefinitionKey)))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert text.endswith(f"Expected to delete resource with key `{v2.processDefinitionKey}` but there are still "
                         "running instances")
    await s.CancelProcessInstance(pb.CancelProcessInstanceRequest(processInstanceKey=key))
    await served.zb.scheduler.wait_instance(str(key), lambda i: i is not None and i.status.terminal, 3)
    await s.DeleteResource(pb.DeleteResourceRequest(resourceKey=v2.processDefinitionKey))
    code, text = await _error(s.DeleteResource(pb.DeleteResourceRequest(resourceKey=v2.processDefinitionKey)))
    assert code == grpc.StatusCode.NOT_FOUND and "no resource found with key" in text
    r = await s.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="abc", version=-1))
    assert r.version == 1  # the previous version is the latest again
    code, _ = await _error(s.CreateProcessInstance(pb.CreateProcessInstanceRequest(
        processDefinitionKey=v2.processDefinitionKey, version=-1)))
    assert code == grpc.StatusCode.NOT_FOUND
    code, _ = await _error(s.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="abc", version=2)))
    assert code == grpc.StatusCode.NOT_FOUND
    # Versions are never reused, also after a reload from storage.
    again = (await _deploy(served, A_B_C.replace(b'id="e"', b'id="e3"').replace(b'"C" targetRef="e"',
                                                                                   b'"C" targetRef="e3"'))
             ).deployments[0].process
    assert again.version == 3
    reloaded = Broker(served.zb.scheduler)
    await reloaded.load()
    assert [d.version for d in reloaded.registry.by_id["abc"]] == [1, 3]
    assert reloaded.registry.next_version("abc") == 4
    assert v2.processDefinitionKey in reloaded.registry.deleted
