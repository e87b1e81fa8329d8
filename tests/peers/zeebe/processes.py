"""BPMN processes of the acceptance scenarios, written by this project (brief section 6).

Pure standard library: the peer scripts import it from their own virtualenvs and write the
resources they deploy with `write_all(folder)`.
"""

import itertools
from pathlib import Path

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs" targetNamespace="http://example.com/e2e">'
)


def process(pid, body, extra=""):
    return f'{HEAD}{extra}<bpmn:process id="{pid}" isExecutable="true">{body}</bpmn:process></bpmn:definitions>'


def task(tid, job_type, ext=""):
    return (f'<bpmn:serviceTask id="{tid}"><bpmn:extensionElements><zeebe:taskDefinition type="{job_type}" />'
            f"{ext}</bpmn:extensionElements></bpmn:serviceTask>")


def flow(fid, src, dst, cond=""):
    if cond:
        return (f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}">'
                f"<bpmn:conditionExpression>{cond}</bpmn:conditionExpression></bpmn:sequenceFlow>")
    return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}" />'


def chain(*ids):
    return "".join(flow(f"f_{a}_{b}", a, b) for a, b in itertools.pairwise(ids))


def start_end(inner_ids, body):
    return '<bpmn:startEvent id="start" />' + body + '<bpmn:endEvent id="end" />' + chain("start", *inner_ids, "end")


def timer_catch(eid, duration):
    return (f'<bpmn:intermediateCatchEvent id="{eid}"><bpmn:timerEventDefinition>'
            f"<bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition>"
            "</bpmn:intermediateCatchEvent>")


def message(mid, name, key_expr):
    return (f'<bpmn:message id="{mid}" name="{name}"><bpmn:extensionElements>'
            f'<zeebe:subscription correlationKey="{key_expr}" /></bpmn:extensionElements></bpmn:message>')


def msg_catch(eid, mid):
    return (f'<bpmn:intermediateCatchEvent id="{eid}"><bpmn:messageEventDefinition messageRef="{mid}" />'
            "</bpmn:intermediateCatchEvent>")


HEADERS = '<zeebe:taskHeaders><zeebe:header key="factor" value="2" /></zeebe:taskHeaders>'
ONE_TASK = process("e2e-one-task", start_end(["double"], task("double", "double", HEADERS).replace(
    'type="double" />', 'type="double" retries="3" />')))

ALWAYS_FAIL = process("e2e-always-fail", start_end(["t"], task("t", "always-fail")))

ERRORS = '<bpmn:error id="err_rej" errorCode="ORDER_REJECTED" /><bpmn:error id="err_any" />'
BUSINESS = process(
    "e2e-business-error",
    '<bpmn:startEvent id="start" />' + task("t", "risky") + '<bpmn:endEvent id="end" />'
    + '<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:errorEventDefinition errorRef="err_rej" />'
    + "</bpmn:boundaryEvent>" + task("h", "handle-reject") + '<bpmn:endEvent id="end2" />'
    + chain("start", "t", "end") + chain("b", "h", "end2"),
    ERRORS,
)
NO_BOUNDARY = process("e2e-no-boundary", start_end(["t"], task("t", "risky-nb")))
CATCH_ALL = process(
    "e2e-catch-all",
    '<bpmn:startEvent id="start" />' + task("t", "risky-ca") + '<bpmn:endEvent id="end" />'
    + '<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:errorEventDefinition errorRef="err_any" />'
    + "</bpmn:boundaryEvent>" + task("h", "handle-any") + '<bpmn:endEvent id="end2" />'
    + chain("start", "t", "end") + chain("b", "h", "end2"),
    ERRORS,
)

XOR = process(
    "e2e-xor",
    '<bpmn:startEvent id="start" /><bpmn:exclusiveGateway id="g" default="f_auto" />'
    + task("a", "approve") + task("b", "auto-approve") + '<bpmn:endEvent id="e1" /><bpmn:endEvent id="e2" />'
    + flow("f0", "start", "g") + flow("f_big", "g", "a", "= amount &gt; 100") + flow("f_auto", "g", "b")
    + flow("f3", "a", "e1") + flow("f4", "b", "e2"),
)

PARALLEL = process(
    "e2e-parallel",
    '<bpmn:startEvent id="start" /><bpmn:parallelGateway id="split" /><bpmn:parallelGateway id="join" />'
    + "".join(task(f"t{i}", "bench") for i in range(4)) + '<bpmn:endEvent id="end" />'
    + flow("f0", "start", "split") + flow("fe", "join", "end")
    + "".join(flow(f"a{i}", "split", f"t{i}") + flow(f"b{i}", f"t{i}", "join") for i in range(4)),
)

TIMER_CATCH = process("e2e-timer", start_end(["wait", "t"], timer_catch("wait", "PT1S") + task("t", "after-timer")))
TIMER_BOUNDARY = process(
    "e2e-timer-boundary",
    '<bpmn:startEvent id="start" />' + task("main", "main-work") + '<bpmn:endEvent id="end" />'
    + '<bpmn:boundaryEvent id="b" attachedToRef="main" cancelActivity="false"><bpmn:timerEventDefinition>'
    + "<bpmn:timeDuration>PT1S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
    + task("side", "side-work") + '<bpmn:endEvent id="end2" />'
    + chain("start", "main", "end") + chain("b", "side", "end2"),
)

EVENT_GATEWAY = process(
    "e2e-event-gateway",
    '<bpmn:startEvent id="start" /><bpmn:eventBasedGateway id="g" />' + msg_catch("mc", "m_ping")
    + timer_catch("tc", "PT2S") + task("via_msg", "via-msg") + task("via_timer", "via-timer")
    + '<bpmn:endEvent id="e1" /><bpmn:endEvent id="e2" />'
    + flow("f0", "start", "g") + flow("f1", "g", "mc") + flow("f2", "g", "tc")
    + chain("mc", "via_msg", "e1") + chain("tc", "via_timer", "e2"),
    message("m_ping", "ping", "= key"),
)

CARDINALITY = process("e2e-cardinality", start_end(["wait"], msg_catch("wait", "m_wake")),
                      message("m_wake", "wake", "= key"))

SCOPES = process(
    "e2e-scopes",
    start_end(
        ["sub"],
        '<bpmn:subProcess id="sub"><bpmn:extensionElements><zeebe:ioMapping>'
        '<zeebe:input source="= x" target="local" /></zeebe:ioMapping></bpmn:extensionElements>'
        '<bpmn:startEvent id="is" />' + task("t", "scoped") + '<bpmn:endEvent id="ie" />' + chain("is", "t", "ie")
        + "</bpmn:subProcess>",
    ),
)

MULTI = process(
    "e2e-multi-instance",
    start_end(
        ["mi"],
        '<bpmn:serviceTask id="mi"><bpmn:extensionElements><zeebe:taskDefinition type="mi-work" />'
        "</bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>"
        '<zeebe:loopCharacteristics inputCollection="= items" inputElement="item" outputCollection="results" '
        'outputElement="= r" /></bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>'
        "</bpmn:serviceTask>",
    ),
)

#: Scenario 20: each expression runs as a zeebe:script task writing r1..r11.
FEEL_CASES = [
    ("a &gt; 5 and x = null", True),
    ('&quot;order-&quot;+order.id', "order-o-42"),
    ("items[-1]", 4),
    ("order.items[1].p", 3),
    ("items[item &gt; 2]", [3, 4]),
    ("some i in items satisfies i &gt; 3", True),
    ("for i in items return i*2", [2, 4, 6, 8]),
    ("upper case(customer.name)", "ANN"),
    ('date(&quot;2024-01-31&quot;)+duration(&quot;P1D&quot;)', "2024-02-01"),
    ("missing &gt; 5", None),
    ("is defined(missing)", False),
]
FEEL_INPUT = {"a": 7, "items": [1, 2, 3, 4], "x": None, "order": {"id": "o-42", "items": [{"p": 3}, {"p": 9}]},
              "customer": {"name": "Ann"}}
FEEL = process(
    "e2e-feel",
    start_end(
        [f"s{i}" for i in range(1, len(FEEL_CASES) + 1)],
        "".join(
            f'<bpmn:scriptTask id="s{i}"><bpmn:extensionElements><zeebe:script expression="= {expr}" '
            f'resultVariable="r{i}" /></bpmn:extensionElements></bpmn:scriptTask>'
            for i, (expr, _) in enumerate(FEEL_CASES, 1)
        ),
    ),
)

DURABLE_JOB = process("e2e-durable-job", start_end(["t"], task("t", "durable")))
DURABLE_TIMER = process("e2e-durable-timer", start_end(["wait", "t"], timer_catch("wait", "PT4S")
                                                       + task("t", "durable-after-timer")))
DURABLE_MESSAGE = process("e2e-durable-message", start_end(["wait"], msg_catch("wait", "m_d")),
                          message("m_d", "durable-msg", "= key"))

ALL = {
    "one-task.bpmn": ONE_TASK,
    "always-fail.bpmn": ALWAYS_FAIL,
    "business.bpmn": BUSINESS,
    "no-boundary.bpmn": NO_BOUNDARY,
    "catch-all.bpmn": CATCH_ALL,
    "xor.bpmn": XOR,
    "parallel.bpmn": PARALLEL,
    "timer.bpmn": TIMER_CATCH,
    "timer-boundary.bpmn": TIMER_BOUNDARY,
    "event-gateway.bpmn": EVENT_GATEWAY,
    "cardinality.bpmn": CARDINALITY,
    "scopes.bpmn": SCOPES,
    "multi-instance.bpmn": MULTI,
    "feel.bpmn": FEEL,
    "durable-job.bpmn": DURABLE_JOB,
    "durable-timer.bpmn": DURABLE_TIMER,
    "durable-message.bpmn": DURABLE_MESSAGE,
}


def write_all(folder):
    """Write every process as `<folder>/<name>`; returns {name: path}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, xml in ALL.items():
        path = folder / name
        path.write_text(xml)
        out[name] = str(path)
    return out
