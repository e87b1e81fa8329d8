"""Propagation rules, cycles, dates, signal throws and event-subprocess timers."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from tests.unit.zeebe.conftest import Zeebe, bpmn, chain, flow, task
from tests.unit.zeebe.test_engine_events import MSG


async def test_propagation_updates_the_nearest_defining_scope(zb: Zeebe) -> None:
    inner = '<bpmn:startEvent id="is" />' + task("t", "inner") + '<bpmn:endEvent id="ie" />' + chain("is", "t", "ie")
    body = (
        '<bpmn:startEvent id="s" /><bpmn:subProcess id="sub"><bpmn:extensionElements><zeebe:ioMapping>'
        '<zeebe:input source="= 1" target="a" /></zeebe:ioMapping></bpmn:extensionElements>'
        f"{inner}</bpmn:subProcess>" + task("after", "after") + chain("s", "sub", "after")
    )
    await zb.deploy(bpmn(body))
    key = await zb.start("p", {"a": 0, "c": 0})
    job = await zb.one("inner")
    assert json.loads(job.variables) == {"a": 1, "c": 0}
    await zb.complete(job, {"a": 2, "b": 3, "c": 4})
    after = await zb.one("after")
    assert json.loads(after.variables) == {"a": 0, "b": 3, "c": 4}
    await zb.complete(after)
    await zb.result(key)


async def test_set_variables_local_example_of_the_brief(zb: Zeebe) -> None:
    t = task("t", "w", ext='<zeebe:ioMapping><zeebe:input source="= 1" target="bar" /></zeebe:ioMapping>')
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + t + chain("s", "t")))
    key = await zb.start("p", {"foo": 2})
    job = await zb.one("w")
    await zb.broker.set_variables(job.element_instance_key, {"foo": 5}, False)
    await zb.settle(key)
    st = await zb.state(key)
    assert st.ei[str(key)]["v"] == {"foo": 5} and "foo" not in st.ei[str(job.element_instance_key)]["v"]


async def test_non_interrupting_timer_cycle_boundary_fires_repeatedly(zb: Zeebe) -> None:
    body = (
        '<bpmn:startEvent id="s" />' + task("main", "cyc-main")
        + '<bpmn:boundaryEvent id="b" attachedToRef="main" cancelActivity="false"><bpmn:timerEventDefinition>'
        "<bpmn:timeCycle>R3/PT0.2S</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        + task("side", "cyc-side") + chain("s", "main") + flow("fb", "b", "side")
    )
    await zb.deploy(bpmn(body))
    await zb.start()
    await asyncio.sleep(1.2)
    assert len(await zb.activate("cyc-side", 10, wait=0.3)) == 3


async def test_timer_date_in_the_past_fires_at_once(zb: Zeebe) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    catch = ('<bpmn:intermediateCatchEvent id="tm"><bpmn:timerEventDefinition>'
             f"<bpmn:timeDate>{past}</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + catch + task("t", "dated") + chain("s", "tm", "t")))
    await zb.start()
    await zb.one("dated")


async def test_timer_duration_from_feel(zb: Zeebe) -> None:
    catch = ('<bpmn:intermediateCatchEvent id="tm"><bpmn:timerEventDefinition>'
             '<bpmn:timeDuration>= duration("PT0.2S")</bpmn:timeDuration></bpmn:timerEventDefinition>'
             "</bpmn:intermediateCatchEvent>")
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + catch + task("t", "feel-timer") + chain("s", "tm", "t")))
    await zb.start()
    await zb.one("feel-timer", wait=3)


async def test_signal_end_event_reaches_other_instances(zb: Zeebe) -> None:
    sig = '<bpmn:signal id="sg" name="done" />'
    waiter = bpmn('<bpmn:startEvent id="s" /><bpmn:intermediateCatchEvent id="c"><bpmn:signalEventDefinition '
                  'signalRef="sg" /></bpmn:intermediateCatchEvent><bpmn:endEvent id="e" />' + chain("s", "c", "e"),
                  pid="waiter", extra=sig)
    thrower = bpmn('<bpmn:startEvent id="s" /><bpmn:endEvent id="e"><bpmn:signalEventDefinition signalRef="sg" />'
                   "</bpmn:endEvent>" + chain("s", "e"), pid="thrower", extra=sig)
    await zb.deploy(waiter)
    await zb.deploy(thrower)
    w = await zb.start("waiter")
    await zb.settle(w)
    await zb.start("thrower")
    await zb.result(w)


async def test_interrupting_timer_event_subprocess(zb: Zeebe) -> None:
    evsub = (
        '<bpmn:subProcess id="es" triggeredByEvent="true"><bpmn:startEvent id="es_s"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>PT0.2S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>"
        + task("es_t", "timeout-handler") + chain("es_s", "es_t") + "</bpmn:subProcess>"
    )
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + task("t", "too-slow") + evsub + chain("s", "t")))
    key = await zb.start()
    slow = await zb.one("too-slow")
    handler = await zb.one("timeout-handler", wait=3)
    await zb.complete(handler)
    await zb.result(key)
    try:
        await zb.complete(slow)
        raise AssertionError("the interrupted job completed")
    except Exception as exc:
        assert "no such job" in str(exc)


async def test_message_correlation_key_must_be_string_or_number(zb: Zeebe) -> None:
    catch = ('<bpmn:intermediateCatchEvent id="mc"><bpmn:messageEventDefinition messageRef="m_ping" />'
             "</bpmn:intermediateCatchEvent>")
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + catch + chain("s", "mc"), extra=MSG))
    key = await zb.start("p", {"key": {"not": "a key"}})
    (ikey, inc), = (await zb.incidents(key)).items()
    assert inc["type"] == "EXTRACT_VALUE_ERROR" and "correlation key" in inc["msg"]
    await zb.broker.set_variables(key, {"key": 42}, False)
    await zb.broker.resolve_incident(int(ikey))
    await zb.settle(key)
    await zb.broker.publish("ping", "42", 0, "", {})
    await zb.result(key)
