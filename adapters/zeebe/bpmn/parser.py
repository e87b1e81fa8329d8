"""BPMN 2.0 XML (with Zeebe extensions) -> compiled `ProcessDef`s, validated at deploy time.

Parsing goes through defusedxml (no entity expansion, no external references). Every problem is
collected as `Element: <id>` + reason, and a resource with any problem is rejected as a whole, so
a deployment is atomic.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element as XmlElement

from defusedxml import ElementTree as SafeET

from adapters.zeebe.bpmn.expr import Expr, ExprSyntaxError, parse_cycle, parse_date, parse_duration
from adapters.zeebe.bpmn.model import (
    JOB_TASKS,
    USER_TASK_TYPE,
    Element,
    Flow,
    Loop,
    Mapping,
    ProcessDef,
)

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
_B = "{" + BPMN + "}"
_Z = "{" + ZEEBE + "}"

#: Flow nodes the interpreter runs; anything else in a process is a deployment error.
SUPPORTED = frozenset(
    {
        *JOB_TASKS,
        "receiveTask",
        "task",
        "manualTask",
        "subProcess",
        "callActivity",
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
    }
)
_IGNORED = frozenset(
    {
        "sequenceFlow",
        "extensionElements",
        "multiInstanceLoopCharacteristics",  # a subprocess's own loop, read with the subprocess
        "documentation",
        "laneSet",
        "textAnnotation",
        "association",
        "dataObject",
        "dataObjectReference",
        "dataStoreReference",
        "group",
        "incoming",
        "outgoing",
        "ioSpecification",
        "property",
        "dataInputAssociation",
        "dataOutputAssociation",
        "category",
    }
)


class BpmnError(ValueError):
    """The resource is not a deployable BPMN process; the message lists every problem found."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _Compiler:
    def __init__(self, root: XmlElement) -> None:
        self.root = root
        self.errors: list[str] = []
        self.messages: dict[str, XmlElement] = {}
        self.errors_defs: dict[str, XmlElement] = {}
        self.signals: dict[str, XmlElement] = {}
        for child in root:
            tag = child.tag
            if tag == _B + "message":
                self.messages[child.get("id", "")] = child
            elif tag == _B + "error":
                self.errors_defs[child.get("id", "")] = child
            elif tag == _B + "signal":
                self.signals[child.get("id", "")] = child

    def fail(self, element_id: str, reason: str) -> None:
        self.errors.append(f"Element: {element_id} - ERROR: {reason}")

    def expr(self, element_id: str, text: str | None, what: str) -> Expr | None:
        if text is None:
            return None
        try:
            return Expr(text)
        except ExprSyntaxError as exc:
            self.fail(element_id, f"{what}: {exc}")
            return None

    # --- processes ------------------------------------------------------------------------------

    def process(self, node: XmlElement) -> ProcessDef:
        pid = node.get("id", "")
        proc = ProcessDef(id=pid, name=node.get("name", ""))
        if not pid:
            self.fail("process", "a process must have an id")
        self.scope(node, "", proc)
        for flow in proc.flows.values():
            for end, ref in (("sourceRef", flow.source), ("targetRef", flow.target)):
                if ref not in proc.elements:
                    self.fail(flow.id, f"{end} '{ref}' does not name a flow node")
        for el in proc.elements.values():
            self.check(el, proc)
        for flow in proc.flows.values():
            src = proc.elements.get(flow.source)
            conditional = ("exclusiveGateway", "inclusiveGateway")
            if flow.condition is not None and src is not None and src.kind not in conditional:
                self.fail(flow.id, "conditions are supported on flows leaving exclusive and inclusive gateways only")
        return proc

    def scope(self, node: XmlElement, scope_id: str, proc: ProcessDef) -> list[str]:
        """Compile the flow elements of a process or subprocess; returns their ids."""
        ids: list[str] = []
        for child in node:
            kind = _local(child.tag)
            if child.tag == _B + "sequenceFlow":
                fid = child.get("id", "")
                cond_node = child.find(_B + "conditionExpression")
                cond = None
                if cond_node is not None and (cond_node.text or "").strip():
                    cond = self.expr(fid, (cond_node.text or "").strip(), "condition")
                proc.flows[fid] = Flow(fid, child.get("sourceRef", ""), child.get("targetRef", ""), cond)
                continue
            if not child.tag.startswith(_B) or kind in _IGNORED:
                continue
            eid = child.get("id", "")
            if kind not in SUPPORTED:
                self.fail(eid or kind, f"the element type '{kind}' is not supported")
                continue
            if eid in proc.elements:
                self.fail(eid, "duplicate element id")
                continue
            el = self.element(child, kind, scope_id)
            proc.elements[eid] = el
            ids.append(eid)
            if kind == "subProcess":
                inner = self.scope(child, eid, proc)
                for iid in inner:
                    sub = proc.elements[iid]
                    if sub.kind == "subProcess" and sub.triggered_by_event:
                        el.event_subprocesses.append(iid)
                    elif sub.kind == "startEvent":
                        if el.start_event:
                            self.fail(eid, "a subprocess must have exactly one none start event")
                        el.start_event = iid
                if not el.triggered_by_event and not el.start_event:
                    self.fail(eid, "a subprocess must have exactly one none start event")
        # Wire flows and boundary events of this scope (flows may come after their nodes).
        for fid, flow in proc.flows.items():
            src = proc.elements.get(flow.source)
            if src is not None and src.scope == scope_id and fid not in src.outgoing:
                src.outgoing.append(fid)
            tgt = proc.elements.get(flow.target)
            if tgt is not None and tgt.scope == scope_id and fid not in tgt.incoming:
                tgt.incoming.append(fid)
        for eid in ids:
            el = proc.elements[eid]
            if el.kind == "boundaryEvent":
                host = proc.elements.get(el.attached_to)
                if host is None or not host.is_activity:
                    self.fail(eid, f"attachedToRef '{el.attached_to}' does not name an activity")
                else:
                    host.boundaries.append(eid)
            if scope_id == "":
                if el.kind == "subProcess" and el.triggered_by_event:
                    proc.event_subprocesses.append(eid)
                elif el.kind == "startEvent":
                    if el.event.kind == "none":
                        if proc.start_event:
                            self.fail(eid, "a process must not have more than one none start event")
                        proc.start_event = eid
                    elif el.event.kind == "message":
                        proc.message_starts.append(eid)
                    elif el.event.kind == "timer":
                        proc.timer_starts.append(eid)
                    elif el.event.kind == "signal":
                        proc.signal_starts.append(eid)
                    else:
                        self.fail(eid, f"a start event with a {el.event.kind} definition is not supported here")
        return ids

    # --- one flow node --------------------------------------------------------------------------

    def element(self, node: XmlElement, kind: str, scope_id: str) -> Element:
        eid = node.get("id", "")
        el = Element(id=eid, kind=kind, name=node.get("name", ""), scope=scope_id)
        el.default_flow = node.get("default", "")
        el.attached_to = node.get("attachedToRef", "")
        el.cancel_activity = node.get("cancelActivity", "true").lower() != "false"
        el.triggered_by_event = node.get("triggeredByEvent", "false").lower() == "true"
        el.interrupting = node.get("isInterrupting", "true").lower() != "false"
        ext = node.find(_B + "extensionElements")
        if ext is not None:
            self.extensions(el, ext)
        if kind == "userTask" and el.job_type is None:
            el.job_type = Expr(USER_TASK_TYPE)
        if kind in JOB_TASKS and el.job_type is None and el.script is None:
            self.fail(eid, "Must have exactly one 'zeebe:taskDefinition' extension element")
        self.event(el, node)
        loop = node.find(_B + "multiInstanceLoopCharacteristics")
        if loop is not None:
            self.loop(el, loop, ext)
        elif node.find(_B + "standardLoopCharacteristics") is not None:
            self.fail(eid, "standard loop characteristics are not supported")
        return el

    def extensions(self, el: Element, ext: XmlElement) -> None:
        eid = el.id
        td = ext.find(_Z + "taskDefinition")
        if td is not None:
            el.job_type = self.expr(eid, td.get("type", ""), "job type")
            if not td.get("type", "").strip():
                self.fail(eid, "Attribute 'type' must be present and not empty")
            el.job_retries = self.expr(eid, td.get("retries", "3"), "job retries")
        headers = ext.find(_Z + "taskHeaders")
        if headers is not None:
            for h in headers.findall(_Z + "header"):
                el.headers[h.get("key", "")] = h.get("value", "")
        io = ext.find(_Z + "ioMapping")
        if io is not None:
            for tag, bucket in (("input", el.inputs), ("output", el.outputs)):
                for m in io.findall(_Z + tag):
                    target = m.get("target", "")
                    source = m.get("source", "=null") or "=null"
                    if not target:
                        self.fail(eid, f"a zeebe:{tag} mapping must have a target")
                        continue
                    src = self.expr(eid, source, f"{tag} mapping source")
                    if src is not None:
                        bucket.append(Mapping(src, target))
        script = ext.find(_Z + "script")
        if script is not None:
            el.script = self.expr(eid, script.get("expression", ""), "script expression")
            el.result_variable = script.get("resultVariable", "")
            if not el.result_variable:
                self.fail(eid, "zeebe:script must have a resultVariable")
        called = ext.find(_Z + "calledElement")
        if called is not None:
            el.called_process = self.expr(eid, called.get("processId", ""), "called process id")
            el.propagate_all_child = called.get("propagateAllChildVariables", "true").lower() != "false"
            el.propagate_all_parent = called.get("propagateAllParentVariables", "true").lower() != "false"

    def event(self, el: Element, node: XmlElement) -> None:
        eid = el.id
        defs = [c for c in node if _local(c.tag).endswith("EventDefinition")]
        if len(defs) > 1:
            self.fail(eid, "an event must have at most one event definition")
        if not defs:
            if el.kind == "boundaryEvent":
                self.fail(eid, "a boundary event must have an event definition")
            if el.kind == "intermediateCatchEvent":
                self.fail(eid, "an intermediate catch event must have an event definition")
            if el.kind == "receiveTask":
                self.message(el, node.get("messageRef", ""))
            return
        d = defs[0]
        kind = _local(d.tag)[: -len("EventDefinition")]
        ev = el.event
        ev.kind = kind
        if kind == "message":
            self.message(el, d.get("messageRef", ""))
        elif kind == "timer":
            self.timer(el, d)
        elif kind == "error":
            ref = d.get("errorRef")
            if ref:
                err = self.errors_defs.get(ref)
                if err is None:
                    self.fail(eid, f"errorRef '{ref}' does not name an error")
                else:
                    ev.error_code = err.get("errorCode") or None
            if el.kind == "endEvent" and not ev.error_code:
                self.fail(eid, "an error end event must reference an error with an errorCode")
            if el.kind not in ("endEvent", "boundaryEvent", "startEvent"):
                self.fail(eid, "error events are supported as end, boundary and event subprocess start events")
        elif kind == "signal":
            ref = d.get("signalRef", "")
            sig = self.signals.get(ref)
            if sig is None or not sig.get("name"):
                self.fail(eid, f"signalRef '{ref}' must name a signal with a name")
            else:
                ev.signal_name = self.expr(eid, sig.get("name", ""), "signal name")
        elif kind == "terminate":
            if el.kind != "endEvent":
                self.fail(eid, "terminate event definitions are supported on end events only")
        else:
            self.fail(eid, f"{kind} event definitions are not supported")

    def message(self, el: Element, ref: str) -> None:
        msg = self.messages.get(ref)
        if msg is None:
            if el.kind in ("intermediateThrowEvent", "endEvent") and el.job_type is not None:
                return
            self.fail(el.id, f"messageRef '{ref}' does not name a message")
            return
        el.event.kind = "message"
        el.event.message_name = self.expr(el.id, msg.get("name", ""), "message name")
        if not msg.get("name"):
            self.fail(el.id, "the referenced message must have a name")
        ext = msg.find(_B + "extensionElements")
        sub = ext.find(_Z + "subscription") if ext is not None else None
        key = sub.get("correlationKey") if sub is not None else None
        if key:
            el.event.correlation_key = self.expr(el.id, key, "correlation key")
        elif el.kind != "startEvent" and el.kind not in ("intermediateThrowEvent", "endEvent"):
            self.fail(el.id, "a message catch event must have a zeebe:subscription correlationKey")

    def timer(self, el: Element, d: XmlElement) -> None:
        ev = el.event
        for tag, kind in (("timeDuration", "duration"), ("timeDate", "date"), ("timeCycle", "cycle")):
            n = d.find(_B + tag)
            if n is not None and (n.text or "").strip():
                ev.timer_kind = kind
                text = (n.text or "").strip()
                ev.timer = self.expr(el.id, text, "timer")
                if ev.timer is not None and ev.timer.static:
                    try:
                        {"duration": parse_duration, "date": parse_date, "cycle": parse_cycle}[kind](text)
                    except ValueError as exc:
                        self.fail(el.id, f"invalid timer {tag}: {exc}")
                break
        else:
            self.fail(el.id, "a timer event must have a timeDuration, timeDate or timeCycle")
            return
        if el.kind == "intermediateCatchEvent" and ev.timer_kind == "cycle":
            self.fail(el.id, "an intermediate timer catch event must have a timeDuration or timeDate")

    def loop(self, el: Element, node: XmlElement, ext: XmlElement | None) -> None:
        # zeebe:loopCharacteristics sits in the loop's own extensionElements (some tools put it on
        # the activity's).
        lc = None
        for holder in (node.find(_B + "extensionElements"), ext):
            if holder is not None and lc is None:
                lc = holder.find(_Z + "loopCharacteristics")
        if lc is None:
            self.fail(el.id, "multi-instance needs a zeebe:loopCharacteristics extension element")
            return
        collection = self.expr(el.id, lc.get("inputCollection", ""), "input collection")
        if not lc.get("inputCollection"):
            self.fail(el.id, "zeebe:loopCharacteristics must have an inputCollection")
        if collection is None:
            return
        out_el = lc.get("outputElement")
        cond_node = node.find(_B + "completionCondition")
        el.loop = Loop(
            sequential=node.get("isSequential", "false").lower() == "true",
            input_collection=collection,
            input_element=lc.get("inputElement", ""),
            output_collection=lc.get("outputCollection", ""),
            output_element=self.expr(el.id, out_el, "output element") if out_el else None,
            completion=self.expr(el.id, (cond_node.text or "").strip(), "completion condition")
            if cond_node is not None and (cond_node.text or "").strip()
            else None,
        )
        if bool(el.loop.output_collection) != bool(out_el):
            self.fail(el.id, "outputCollection and outputElement must be set together")

    # --- whole-process checks -------------------------------------------------------------------

    def check(self, el: Element, proc: ProcessDef) -> None:
        flows = proc.flows
        if el.default_flow:
            if el.default_flow not in el.outgoing:
                self.fail(el.id, f"default flow '{el.default_flow}' is not an outgoing flow of the element")
            elif flows[el.default_flow].condition is not None:
                self.fail(el.id, "the default flow must not have a condition")
        if el.kind == "exclusiveGateway" and len(el.outgoing) > 1:
            for fid in el.outgoing:
                if fid != el.default_flow and flows[fid].condition is None:
                    self.fail(
                        fid, "a flow leaving a diverging exclusive gateway needs a condition unless it is the default"
                    )
        if el.kind == "inclusiveGateway" and len(el.incoming) > 1:
            self.fail(el.id, "joining inclusive gateways are not supported")
        if el.kind == "eventBasedGateway":
            if len(el.outgoing) < 2:
                self.fail(el.id, "an event-based gateway must have at least two outgoing flows")
            for fid in el.outgoing:
                target = proc.elements.get(flows[fid].target)
                ok = target is not None and (
                    (target.kind == "intermediateCatchEvent" and target.event.kind in ("message", "timer", "signal"))
                    or target.kind == "receiveTask"
                )
                if not ok:
                    self.fail(el.id, "an event-based gateway may only lead to message, timer or signal catch events")
        if el.kind == "startEvent" and el.incoming:
            self.fail(el.id, "a start event must not have incoming sequence flows")
        if el.kind == "boundaryEvent":
            if el.incoming:
                self.fail(el.id, "a boundary event must not have incoming sequence flows")
            if el.event.kind not in ("message", "timer", "error", "signal"):
                self.fail(el.id, f"{el.event.kind} boundary events are not supported")
            if el.event.kind == "error" and not el.cancel_activity:
                self.fail(el.id, "an error boundary event must be interrupting")
        if el.kind == "callActivity" and el.called_process is None:
            self.fail(el.id, "Must have exactly one 'zeebe:calledElement' extension element")
        if el.kind == "scriptTask" and el.script is None and el.job_type is None:
            self.fail(el.id, "a script task needs zeebe:script or zeebe:taskDefinition")


def parse_bpmn(data: bytes) -> list[ProcessDef]:
    """The executable processes of a BPMN resource. Raises `BpmnError` naming every problem."""
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # defusedxml raises several types for hostile or broken input
        raise BpmnError(f"Failed to parse the resource as BPMN XML: {exc}") from None
    if root.tag != _B + "definitions":
        raise BpmnError("The resource is not BPMN: expected a 'bpmn:definitions' root element")
    comp = _Compiler(root)
    procs: list[ProcessDef] = []
    for node in root.findall(_B + "process"):
        if node.get("isExecutable", "false").lower() != "true":
            continue
        procs.append(comp.process(node))
    if not procs and not comp.errors:
        comp.errors.append("Must contain at least one executable process")
    if comp.errors:
        raise BpmnError("\n".join(comp.errors))
    return procs


def describe(procs: list[ProcessDef]) -> list[dict[str, Any]]:
    """A summary for logs and the debug route."""
    return [{"id": p.id, "elements": len(p.elements), "flows": len(p.flows)} for p in procs]
