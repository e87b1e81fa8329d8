"""Timers, messages, signals, errors and event-based gateways on the in-process engine."""

from __future__ import annotations

import asyncio
import time

import pytest

from adapters.zeebe.bpmn.parser import BpmnError, parse_bpmn
from tests.unit.zeebe.conftest import Zeebe, bpmn, chain, flow, task

MSG = (
    '<bpmn:message id="m_ping" name="ping"><bpmn:extensionElements>'
    '<zeebe:subscription correlationKey="= key" /></bpmn:extensionElements></bpmn:message>'
)
ERR = '<bpmn:error id="err_rej" errorCode="ORDER_REJECTED" /><bpmn:error id="err_any" />'


def timer_catch(eid: str, duration: str) -> str:
    return (f'<bpmn:intermediateCatchEvent id="{eid}"><bpmn:timerEventDefinition>'
            f"<bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition>"
            "</bpmn:intermediateCatchEvent>")


def msg_catch(eid: str) -> str:
    return (f'<bpmn:intermediateCatchEvent id="{eid}"><bpmn:messageEventDefinition messageRef="m_ping" />'
            "</bpmn:intermediateCatchEvent>")


async def test_timer_catch_delays_the_job(zb: Zeebe) -> None:
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + timer_catch("tm", "PT0.5S") + task("t", "after")
                         + chain("s", "tm", "t")))
    started = time.monotonic()
    await zb.start()
    job = await zb.one("after", wait=3)
    assert time.monotonic() - started >= 0.45
    await zb.complete(job)


async def test_non_interrupting_timer_boundary(zb: Zeebe) -> None:
    body = (
        '<bpmn:startEvent id="s" />' + task("main", "main") + '<bpmn:endEvent id="e" />'
        '<bpmn:boundaryEvent id="b" attachedToRef="main" cancelActivity="false"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>PT0.3S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        + task("side", "side") + chain("s", "main", "e") + flow("fb", "b", "side")
    )
    await zb.deploy(bpmn(body))
    key = await zb.start()
    main = await zb.one("main")
    side = await zb.one("side", wait=3)
    await zb.complete(side)
    await zb.complete(main, {"done": True})
    assert await zb.result(key) == {"done": True}


async def test_interrupting_message_boundary(zb: Zeebe) -> None:
    body = (
        '<bpmn:startEvent id="s" />' + task("main", "main") + '<bpmn:endEvent id="e" />'
        '<bpmn:boundaryEvent id="b" attachedToRef="main"><bpmn:messageEventDefinition messageRef="m_ping" />'
        "</bpmn:boundaryEvent>" + '<bpmn:endEvent id="e2" />' + chain("s", "main", "e") + flow("fb", "b", "e2")
    )
    await zb.deploy(bpmn(body, extra=MSG))
    key = await zb.start("p", {"key": "k1"})
    main = await zb.one("main")
    await zb.broker.publish("ping", "k1", 0, "", {"via": "msg"})
    assert await zb.result(key) == {"key": "k1", "via": "msg"}
    with pytest.raises(Exception, match="no such job"):
        await zb.complete(main)


def _event_gateway() -> bytes:
    body = (
        '<bpmn:startEvent id="s" /><bpmn:eventBasedGateway id="g" />' + msg_catch("mc") + timer_catch("tc", "PT1S")
        + task("via_msg", "via-msg") + task("via_timer", "via-timer")
        + flow("f0", "s", "g") + flow("f1", "g", "mc") + flow("f2", "g", "tc")
        + flow("f3", "mc", "via_msg") + flow("f4", "tc", "via_timer")
    )
    return bpmn(body, extra=MSG)


async def test_event_gateway_message_wins(zb: Zeebe) -> None:
    await zb.deploy(_event_gateway())
    key = await zb.start("p", {"key": "a"})
    await zb.settle(key)
    await zb.broker.publish("ping", "a", 0, "", {"m": 1})
    job = await zb.one("via-msg")
    assert await zb.activate("via-timer", 1, wait=1.3) == []
    await zb.complete(job)
    assert await zb.result(key) == {"key": "a", "m": 1}


async def test_event_gateway_timer_wins(zb: Zeebe) -> None:
    await zb.deploy(_event_gateway())
    await zb.start("p", {"key": "b"})
    await zb.one("via-timer", wait=3)


async def test_buffered_message_correlates_on_arrival(zb: Zeebe) -> None:
    await zb.deploy(_event_gateway())
    await zb.broker.publish("ping", "c", 10_000, "", {"early": True})
    await zb.start("p", {"key": "c"})
    await zb.one("via-msg")


async def test_one_message_completes_one_of_two_instances(zb: Zeebe) -> None:
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + msg_catch("mc") + '<bpmn:endEvent id="e" />'
                         + chain("s", "mc", "e"), extra=MSG))
    k1 = await zb.start("p", {"key": "same"})
    k2 = await zb.start("p", {"key": "same"})
    await zb.settle(k1)
    await zb.settle(k2)
    await zb.broker.publish("ping", "same", 0, "", {})
    await asyncio.sleep(0.3)
    statuses = sorted([(await zb.instance(k)).status.value for k in (k1, k2)])
    assert statuses == ["COMPLETED", "RUNNING"]


def _error_process(boundary: str) -> bytes:
    body = (
        '<bpmn:startEvent id="s" />' + task("t", "risky") + '<bpmn:endEvent id="e" />'
        + (f'<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:errorEventDefinition {boundary} />'
           "</bpmn:boundaryEvent>" + task("h", "handle-reject") + flow("fb", "b", "h") if boundary is not None else "")
        + chain("s", "t", "e")
    )
    return bpmn(body, extra=ERR)


async def test_error_boundary_catches_code(zb: Zeebe) -> None:
    await zb.deploy(_error_process('errorRef="err_rej"'))
    key = await zb.start()
    job = await zb.one("risky")
    await zb.jobs.throw_error(job.key, "ORDER_REJECTED", "no", {"reason": "stock"})
    handler = await zb.one("handle-reject")
    await zb.complete(handler)
    assert await zb.result(key) == {"reason": "stock"}


async def test_codeless_boundary_catches_everything(zb: Zeebe) -> None:
    await zb.deploy(_error_process('errorRef="err_any"'))
    await zb.start()
    await zb.jobs.throw_error((await zb.one("risky")).key, "", "pyzeebe 2.4 sends no code", {})
    await zb.one("handle-reject")


async def test_unhandled_error_is_an_incident(zb: Zeebe) -> None:
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + task("t", "risky") + chain("s", "t")))
    key = await zb.start()
    await zb.jobs.throw_error((await zb.one("risky")).key, "ORDER_REJECTED", "no", {})
    (_, inc), = (await zb.incidents(key)).items()
    assert inc["type"] == "UNHANDLED_ERROR_EVENT"


async def test_error_end_event_in_subprocess_caught_by_boundary(zb: Zeebe) -> None:
    inner = ('<bpmn:startEvent id="is" /><bpmn:endEvent id="ie"><bpmn:errorEventDefinition errorRef="err_rej" />'
             '</bpmn:endEvent>' + chain("is", "ie"))
    body = (
        f'<bpmn:startEvent id="s" /><bpmn:subProcess id="sub">{inner}</bpmn:subProcess><bpmn:endEvent id="e" />'
        '<bpmn:boundaryEvent id="b" attachedToRef="sub"><bpmn:errorEventDefinition errorRef="err_rej" />'
        "</bpmn:boundaryEvent>" + task("h", "caught") + chain("s", "sub", "e") + flow("fb", "b", "h")
    )
    await zb.deploy(bpmn(body, extra=ERR))
    await zb.start()
    await zb.one("caught")


async def test_error_event_subprocess(zb: Zeebe) -> None:
    evsub = (
        '<bpmn:subProcess id="es" triggeredByEvent="true"><bpmn:startEvent id="es_s">'
        '<bpmn:errorEventDefinition errorRef="err_rej" /></bpmn:startEvent>' + task("es_t", "compensate")
        + chain("es_s", "es_t") + "</bpmn:subProcess>"
    )
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + task("t", "risky") + evsub + chain("s", "t"), extra=ERR))
    key = await zb.start()
    await zb.jobs.throw_error((await zb.one("risky")).key, "ORDER_REJECTED", "", {})
    await zb.complete(await zb.one("compensate"))
    await zb.result(key)


async def test_signal_catch_and_broadcast(zb: Zeebe) -> None:
    sig = '<bpmn:signal id="sg" name="go" />'
    catch = ('<bpmn:intermediateCatchEvent id="c"><bpmn:signalEventDefinition signalRef="sg" />'
             "</bpmn:intermediateCatchEvent>")
    await zb.deploy(bpmn('<bpmn:startEvent id="s" />' + catch + '<bpmn:endEvent id="e" />' + chain("s", "c", "e"),
                         extra=sig))
    keys = [await zb.start() for _ in range(2)]
    for k in keys:
        await zb.settle(k)
    await zb.broker.broadcast_signal("go", {"sig": 1})
    for k in keys:
        assert await zb.result(k) == {"sig": 1}


async def test_message_start_event(zb: Zeebe) -> None:
    msg = '<bpmn:message id="m_start" name="start-me" />'
    start = '<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="m_start" /></bpmn:startEvent>'
    await zb.deploy(bpmn(start + task("t", "started") + chain("s", "t"), extra=msg))
    await zb.broker.publish("start-me", "k", 0, "", {"from": "msg"})
    job = await zb.one("started")
    assert job.variables == '{"from": "msg"}'


async def test_timer_start_event_cycle(zb: Zeebe) -> None:
    start = ('<bpmn:startEvent id="s"><bpmn:timerEventDefinition><bpmn:timeCycle>R2/PT0.2S</bpmn:timeCycle>'
             "</bpmn:timerEventDefinition></bpmn:startEvent>")
    await zb.deploy(bpmn(start + task("t", "tick") + chain("s", "t")))
    await asyncio.sleep(1.0)
    assert len(await zb.activate("tick", 10, wait=0.5)) == 2


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('<bpmn:serviceTask id="t" />', "Element: t - ERROR: Must have exactly one 'zeebe:taskDefinition'"),
        ('<bpmn:startEvent id="s" />' + flow("f", "s", "nowhere"), "Element: f - ERROR: targetRef 'nowhere'"),
        ('<bpmn:exclusiveGateway id="g" default="x" />', "Element: g - ERROR: default flow 'x'"),
        ('<bpmn:complexGateway id="c" />', "Element: c - ERROR: the element type 'complexGateway' is not supported"),
        (task("t", "= 1 +"), "Element: t - ERROR: job type: failed to parse"),
        ('<bpmn:intermediateCatchEvent id="m"><bpmn:messageEventDefinition messageRef="none" />'
         "</bpmn:intermediateCatchEvent>", "Element: m - ERROR: messageRef 'none'"),
        ('<bpmn:intermediateCatchEvent id="t"><bpmn:timerEventDefinition><bpmn:timeDuration>soon</bpmn:timeDuration>'
         "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>", "Element: t - ERROR: invalid timer"),
    ],
)
def test_parse_errors_name_element_and_reason(body: str, fragment: str) -> None:
    with pytest.raises(BpmnError) as err:
        parse_bpmn(bpmn(body))
    assert fragment in str(err.value)


def test_parse_rejects_non_bpmn_and_entities() -> None:
    with pytest.raises(BpmnError, match="Failed to parse"):
        parse_bpmn(b"<not-closed")
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(BpmnError):
        parse_bpmn(bomb)
    with pytest.raises(BpmnError, match="executable"):
        parse_bpmn(bpmn("").replace(b'isExecutable="true"', b'isExecutable="false"'))
