"""More element types: inclusive gateways, receive and user tasks, event subprocesses, completion
conditions, call-activity errors, mapping incidents, and a broker restart on the same storage."""

from __future__ import annotations

import json

from adapters.zeebe.broker import Broker
from adapters.zeebe.engine import ZeebeEngine
from tests.unit.zeebe.conftest import Zeebe, bpmn, chain, flow, task
from tests.unit.zeebe.test_engine_events import ERR, MSG


async def test_inclusive_gateway_forks_true_flows(zb: Zeebe) -> None:
    body = (
        '<bpmn:startEvent id="s" /><bpmn:inclusiveGateway id="g" default="fd" />'
        + task("a", "inc-a") + task("b", "inc-b") + task("d", "inc-default")
        + flow("f0", "s", "g") + flow("fa", "g", "a", "= x &gt; 1") + flow("fb", "g", "b", "= x &gt; 2")
        + flow("fd", "g", "d")
    )
    await zb.deploy(bpmn(body))
    await zb.start("p", {"x": 3})
    await zb.one("inc-a")
    await zb.one("inc-b")
    await zb.start("p", {"x": 0})
    await zb.one("inc-default")


async def test_receive_task_and_user_task(zb: Zeebe) -> None:
    body = (
        '<bpmn:startEvent id="s" /><bpmn:receiveTask id="r" messageRef="m_ping" />'
        '<bpmn:userTask id="u" /><bpmn:endEvent id="e" />' + chain("s", "r", "u", "e")
    )
    await zb.deploy(bpmn(body, extra=MSG))
    key = await zb.start("p", {"key": "r1"})
    await zb.settle(key)
    await zb.broker.publish("ping", "r1", 0, "", {"got": 1})
    job = await zb.one("io.camunda.zeebe:userTask")
    await zb.complete(job, {"approved": True})
    assert await zb.result(key) == {"key": "r1", "got": 1, "approved": True}


async def test_non_interrupting_message_event_subprocess(zb: Zeebe) -> None:
    evsub = (
        '<bpmn:subProcess id="es" triggeredByEvent="true"><bpmn:startEvent id="es_s" isInterrupting="false">'
        '<bpmn:messageEventDefinition messageRef="m_ping" /></bpmn:startEvent>' + task("es_t", "notify")
        + chain("es_s", "es_t") + "</bpmn:subProcess>"
    )
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + task("t", "main") + evsub + chain("s", "t"), extra=MSG))
    key = await zb.start("p", {"key": "e1"})
    await zb.settle(key)
    # The subscription re-opens when the step that handled a correlation commits.
    await zb.broker.publish("ping", "e1", 0, "", {})
    await zb.settle(key)
    await zb.broker.publish("ping", "e1", 0, "", {})
    await zb.settle(key)
    notified = await zb.activate("notify", 5, wait=1.0)
    assert len(notified) == 2  # non-interrupting: both messages start one, the main task goes on
    await zb.complete(await zb.one("main"))
    for job in notified:
        await zb.complete(job)
    await zb.result(key)


async def test_interrupting_timer_boundary(zb: Zeebe) -> None:
    body = (
        '<bpmn:startEvent id="s" />' + task("t", "slow") + '<bpmn:endEvent id="e" /><bpmn:endEvent id="e2" />'
        '<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>PT0.3S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        + chain("s", "t", "e") + flow("fb", "b", "e2")
    )
    await zb.deploy(bpmn(body))
    key = await zb.start()
    job = await zb.one("slow")
    assert await zb.result(key) == {}
    try:
        await zb.complete(job)
        raise AssertionError("the interrupted job completed")
    except Exception as exc:
        assert "no such job" in str(exc)


async def test_completion_condition_stops_early(zb: Zeebe) -> None:
    loop = (
        '<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics '
        'inputCollection="= [1,2,3,4]" inputElement="i" /></bpmn:extensionElements>'
        "<bpmn:completionCondition>= numberOfCompletedInstances &gt;= 2</bpmn:completionCondition>"
        "</bpmn:multiInstanceLoopCharacteristics>"
    )
    t = ('<bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="cc" />'
         f"</bpmn:extensionElements>{loop}</bpmn:serviceTask>")
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + t + '<bpmn:endEvent id="e" />' + chain("s", "t", "e")))
    key = await zb.start()
    await zb.settle(key)
    jobs = await zb.activate("cc", 10)
    assert len(jobs) == 4
    await zb.complete(jobs[0])
    await zb.complete(jobs[1])
    await zb.result(key)
    assert await zb.activate("cc", 10, wait=0.2) == []


async def test_error_in_called_process_caught_by_call_activity_boundary(zb: Zeebe) -> None:
    child = bpmn('<bpmn:startEvent id="s" />' + task("t", "child-risky") + chain("s", "t"), pid="child")
    parent = bpmn(
        '<bpmn:startEvent id="s" /><bpmn:callActivity id="call"><bpmn:extensionElements>'
        '<zeebe:calledElement processId="child" /></bpmn:extensionElements></bpmn:callActivity>'
        '<bpmn:endEvent id="e" /><bpmn:boundaryEvent id="b" attachedToRef="call">'
        '<bpmn:errorEventDefinition errorRef="err_rej" /></bpmn:boundaryEvent>' + task("h", "parent-handles")
        + chain("s", "call", "e") + flow("fb", "b", "h"),
        pid="parent", extra=ERR,
    )
    await zb.deploy(child)
    await zb.deploy(parent)
    await zb.start("parent")
    job = await zb.one("child-risky")
    await zb.jobs.throw_error(job.key, "ORDER_REJECTED", "", {"why": "x"})
    handled = await zb.one("parent-handles")
    assert json.loads(handled.variables)["why"] == "x"


async def test_input_mapping_failure_is_io_mapping_incident(zb: Zeebe) -> None:
    t = task("t", "mapped", ext='<zeebe:ioMapping><zeebe:input source="= assert(x, x != null)" target="y" />'
             "</zeebe:ioMapping>")
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + t + chain("s", "t")))
    key = await zb.start()
    incidents = await zb.incidents(key)
    if incidents:  # FEEL's assert() raises; a missing source is otherwise null (8.3+)
        (ikey, inc), = incidents.items()
        assert inc["type"] == "IO_MAPPING_ERROR"
        await zb.broker.set_variables(key, {"x": 1}, False)
        await zb.broker.resolve_incident(int(ikey))
    job = await zb.one("mapped")
    assert json.loads(job.variables)["y"] in (1, None)


async def test_missing_source_maps_to_null(zb: Zeebe) -> None:
    t = task("t", "nullmap", ext='<zeebe:ioMapping><zeebe:input source="= nope" target="y" /></zeebe:ioMapping>')
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + t + chain("s", "t")))
    await zb.start()
    assert json.loads((await zb.one("nullmap")).variables) == {"y": None}


async def test_restart_reloads_definitions_and_keys(zb: Zeebe) -> None:
    xml = bpmn('<bpmn:startEvent id="s" />' + task("t", "r") + chain("s", "t"))
    d = await zb.deploy(xml)
    k1 = await zb.start()
    fresh = Broker(zb.scheduler)
    await fresh.load()
    assert fresh.registry.latest("p") is not None and fresh.registry.latest("p").key == d.key  # type: ignore[union-attr]
    assert fresh.next_key() > k1
    zb.scheduler.register_engine(ZeebeEngine(fresh))
    _, again = await fresh.deploy([("x.bpmn", xml)])
    assert again[0].version == 1 and again[0].key == d.key


async def test_resolving_a_job_incident_without_retries_raises_it_again(zb: Zeebe) -> None:
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + task("t", "f") + chain("s", "t")))
    key = await zb.start()
    job = await zb.one("f")
    await zb.jobs.fail(job.key, 0, "still broken", 0, {})
    (ikey, _), = (await zb.incidents(key)).items()
    await zb.broker.resolve_incident(int(ikey))
    await zb.settle(key)
    (new_key, inc), = (await zb.incidents(key)).items()
    assert new_key != ikey and inc["type"] == "JOB_NO_RETRIES" and inc["msg"] == "still broken"
