"""Gateways, scopes, multi-instance and variable propagation on the in-process engine."""

from __future__ import annotations

import json

from tests.unit.zeebe.conftest import Zeebe, bpmn, chain, flow, task

XOR = bpmn(
    '<bpmn:startEvent id="s" /><bpmn:exclusiveGateway id="g" default="f_auto" />'
    + task("a", "approve") + task("b", "auto-approve")
    + '<bpmn:endEvent id="e1" /><bpmn:endEvent id="e2" />'
    + flow("f0", "s", "g") + flow("f_big", "g", "a", "= amount &gt; 100") + flow("f_auto", "g", "b")
    + flow("f3", "a", "e1") + flow("f4", "b", "e2"),
    pid="xor",
)


async def test_exclusive_gateway(zb: Zeebe) -> None:
    await zb.deploy(XOR)
    await zb.start("xor", {"amount": 150})
    await zb.one("approve")
    await zb.start("xor", {"amount": 50})
    await zb.one("auto-approve")


async def test_exclusive_gateway_missing_variable_incident_then_resolve(zb: Zeebe) -> None:
    await zb.deploy(XOR)
    key = await zb.start("xor", {})
    (ikey, inc), = (await zb.incidents(key)).items()
    assert inc["type"] == "EXTRACT_VALUE_ERROR"
    assert "to be 'BOOLEAN', but was 'NULL'" in inc["msg"]
    await zb.broker.set_variables(key, {"amount": 10}, False)
    await zb.broker.resolve_incident(int(ikey))
    job = await zb.one("auto-approve")
    await zb.complete(job)
    assert await zb.result(key) == {"amount": 10}


async def test_parallel_split_join_completes_once(zb: Zeebe) -> None:
    body = '<bpmn:startEvent id="s" /><bpmn:parallelGateway id="split" /><bpmn:parallelGateway id="join" />'
    body += "".join(task(f"t{i}", "bench") for i in range(4)) + '<bpmn:endEvent id="e" />'
    body += flow("f0", "s", "split") + flow("fe", "join", "e")
    body += "".join(flow(f"a{i}", "split", f"t{i}") + flow(f"b{i}", f"t{i}", "join") for i in range(4))
    await zb.deploy(bpmn(body))
    key = await zb.start()
    await zb.settle(key)
    jobs = await zb.activate("bench", 32)
    assert len(jobs) == 4
    for i, job in enumerate(jobs):
        await zb.complete(job, {f"r{i}": i})
    assert await zb.result(key) == {"r0": 0, "r1": 1, "r2": 2, "r3": 3}


async def test_subprocess_scope_and_input_mapping(zb: Zeebe) -> None:
    inner = '<bpmn:startEvent id="is" />' + task("t", "inner") + '<bpmn:endEvent id="ie" />' + chain("is", "t", "ie")
    body = (
        '<bpmn:startEvent id="s" /><bpmn:subProcess id="sub"><bpmn:extensionElements><zeebe:ioMapping>'
        '<zeebe:input source="= x" target="local" /></zeebe:ioMapping></bpmn:extensionElements>'
        f"{inner}</bpmn:subProcess><bpmn:endEvent id=\"e\" />" + chain("s", "sub", "e")
    )
    await zb.deploy(bpmn(body))
    key = await zb.start("p", {"x": 3})
    job = await zb.one("inner")
    assert json.loads(job.variables) == {"x": 3, "local": 3}
    await zb.complete(job, {"local": 5, "z": 1})
    assert await zb.result(key) == {"x": 3, "z": 1}


async def test_output_mappings_keep_job_variables_local(zb: Zeebe) -> None:
    t = task("t", "w", ext='<zeebe:ioMapping><zeebe:output source="= a + 1" target="res.value" /></zeebe:ioMapping>')
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + t + '<bpmn:endEvent id="e" />' + chain("s", "t", "e")))
    key = await zb.start("p", {"res": {"keep": True}})
    await zb.complete(await zb.one("w"), {"a": 1, "noise": 2})
    assert await zb.result(key) == {"res": {"keep": True, "value": 2}}


async def test_multi_instance_parallel_output_collection(zb: Zeebe) -> None:
    loop = (
        '<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics '
        'inputCollection="= items" inputElement="item" outputCollection="results" outputElement="= r" />'
        "</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>"
    )
    t = ('<bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="mi" />'
         f"</bpmn:extensionElements>{loop}</bpmn:serviceTask>")
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + t + '<bpmn:endEvent id="e" />' + chain("s", "t", "e")))
    key = await zb.start("p", {"items": [1, 2, 3]})
    await zb.settle(key)
    jobs = await zb.activate("mi", 10)
    assert len(jobs) == 3
    for job in reversed(jobs):
        v = json.loads(job.variables)
        await zb.complete(job, {"r": v["item"] * 10})
    result = await zb.result(key)
    assert result["results"] == [10, 20, 30]


async def test_multi_instance_sequential(zb: Zeebe) -> None:
    loop = (
        '<bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:extensionElements>'
        '<zeebe:loopCharacteristics inputCollection="= [&quot;a&quot;,&quot;b&quot;]" inputElement="it" '
        'outputCollection="out" outputElement="= it + &quot;!&quot;" />'
        "</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>"
    )
    t = ('<bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="seq" />'
         f"</bpmn:extensionElements>{loop}</bpmn:serviceTask>")
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + t + '<bpmn:endEvent id="e" />' + chain("s", "t", "e")))
    key = await zb.start()
    first = await zb.one("seq")
    assert json.loads(first.variables)["loopCounter"] == 1
    assert await zb.activate("seq", 5, wait=0.2) == []
    await zb.complete(first)
    second = await zb.one("seq")
    assert json.loads(second.variables)["it"] == "b"
    await zb.complete(second)
    assert (await zb.result(key))["out"] == ["a!", "b!"]


async def test_script_task_and_terminate_end(zb: Zeebe) -> None:
    body = (
        '<bpmn:startEvent id="s" /><bpmn:parallelGateway id="split" />'
        '<bpmn:scriptTask id="sc"><bpmn:extensionElements><zeebe:script expression="= x * 2" resultVariable="y" />'
        '</bpmn:extensionElements></bpmn:scriptTask>' + task("t", "never")
        + '<bpmn:endEvent id="end"><bpmn:terminateEventDefinition /></bpmn:endEvent>'
        + flow("f0", "s", "split") + flow("f1", "split", "sc") + flow("f2", "split", "t") + flow("f3", "sc", "end")
    )
    await zb.deploy(bpmn(body))
    key = await zb.start("p", {"x": 4})
    assert await zb.result(key) == {"x": 4, "y": 8}
    assert await zb.activate("never", 1, wait=0.2) == []


async def test_call_activity(zb: Zeebe) -> None:
    child = bpmn('<bpmn:startEvent id="s" />' + task("t", "child-work") + '<bpmn:endEvent id="e" />'
                 + chain("s", "t", "e"), pid="child")
    parent = bpmn(
        '<bpmn:startEvent id="s" /><bpmn:callActivity id="call"><bpmn:extensionElements>'
        '<zeebe:calledElement processId="child" /></bpmn:extensionElements></bpmn:callActivity>'
        '<bpmn:endEvent id="e" />' + chain("s", "call", "e"), pid="parent",
    )
    await zb.deploy(child)
    await zb.deploy(parent)
    key = await zb.start("parent", {"a": 1})
    job = await zb.one("child-work")
    assert json.loads(job.variables) == {"a": 1}
    await zb.complete(job, {"b": 2})
    assert await zb.result(key) == {"a": 1, "b": 2}


async def test_cancel_terminates_jobs(zb: Zeebe) -> None:
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + task("t", "c") + chain("s", "t")))
    key = await zb.start()
    await zb.settle(key)
    await zb.broker.cancel(key)
    inst = await zb.scheduler.wait_instance(str(key), lambda i: i is not None and i.status.terminal, 3)
    assert inst is not None and inst.status.value == "TERMINATED"
    assert await zb.activate("c", 1, wait=0.2) == []
