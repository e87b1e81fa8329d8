"""The interpreter: Zeebe's element-instance lifecycle over one instance's `State`.

`enter` (activation) and `leave` (completion) are the two retryable halves of an element's life:
an expression failure in either raises an incident that remembers which half to redo, so
ResolveIncident retries exactly the failed step. Flow scopes (process, subprocesses, event
subprocesses) complete when they have no child element instances and no waiting join tokens.
Triggers (messages, timers, errors, signals), multi-instance and call activities live in
`triggers.TriggerMixin`.
"""

from __future__ import annotations

import json
from typing import Any

from adapters.zeebe.bpmn.effects import Effects, Host
from adapters.zeebe.bpmn.expr import IO_MAPPING_ERROR, ExprError
from adapters.zeebe.bpmn.model import Element, ProcessDef
from adapters.zeebe.bpmn.state import State, set_path
from adapters.zeebe.bpmn.triggers import TriggerMixin
from gateway.model import DataObject, InstanceStatus, Job, NewEvent, Payload

#: Default job lease when a worker gives none (ActivateJobs always gives one).
DEFAULT_JOB_TIMEOUT = 300.0
INCIDENT_PREFIX = "zeebe-incident:"


class Run(TriggerMixin):
    """Interprets events for one instance during one step."""

    def __init__(
        self, host: Host, proc: ProcessDef, meta: dict[str, Any], state: State, instance_id: str, now: float,
        fx: Effects,
    ) -> None:
        self.host = host
        self.proc = proc
        self.meta = meta
        self.state = state
        self.iid = instance_id
        self.now = now
        self.fx = fx

    # ------------------------------------------------------------------ helpers

    def key(self) -> str:
        return str(self.host.next_key())

    def element(self, key: str) -> Element:
        return self.proc.elements[self.state.ei[key]["id"]]

    def scope_element(self, key: str) -> Element | None:
        """The element of a scope instance (None for the process root)."""
        if key == self.state.root:
            return None
        return self.element(key)

    def incident(self, itype: str, message: str, key: str, retry: str, **extra: Any) -> None:
        ikey = self.key()
        rec = self.state.ei.get(key, {})
        inc = {"type": itype, "msg": message, "ei": key, "el": rec.get("id", ""), "retry": retry, **extra}
        self.state.incidents[ikey] = inc
        meta = {"type": itype, "ei": key, "el": inc["el"], "msg": message[:500]}
        if "job" in extra:
            meta["job"] = str(extra["job"])
        self.fx.data.append(DataObject(INCIDENT_PREFIX + ikey, self.iid, status="ACTIVE", meta=meta))

    def drop_incidents(self, key: str) -> None:
        for ikey, inc in list(self.state.incidents.items()):
            if inc["ei"] == key:
                del self.state.incidents[ikey]
                self.fx.delete_data.append(INCIDENT_PREFIX + ikey)

    # ------------------------------------------------------------------ instance start and end

    def start(self, variables: dict[str, Any], start_element: str = "", trigger: dict[str, Any] | None = None) -> None:
        root = self.state.root
        rec = self.state.add(root, self.proc.id, None)
        rec["v"] = dict(variables)
        self.open_event_subprocesses(root, self.proc.event_subprocesses)
        self.activate(start_element or self.proc.start_event, root, trigger=trigger)

    def finish_process(self, variables: dict[str, Any]) -> None:
        """The root scope completed with these root variables."""
        root = self.state.root
        self.close_owned(root)
        self.state.ei.clear()
        self.fx.status = InstanceStatus.COMPLETED
        self.fx.output = variables
        parent = self.state.doc.get("parent")
        if parent:
            self.fx.inbox.append(
                NewEvent(parent["pi"], "zeebe.child_done", json.dumps({"ei": parent["ei"], "vars": variables}).encode())
            )

    def cancel_process(self) -> None:
        root = self.state.root
        if root in self.state.ei:
            self.terminate(root)
        for ikey in list(self.state.incidents):
            self.fx.delete_data.append(INCIDENT_PREFIX + ikey)
        self.state.incidents.clear()
        self.fx.status = InstanceStatus.TERMINATED

    # ------------------------------------------------------------------ activation

    def activate(
        self, element_id: str, scope: str, *, trigger: dict[str, Any] | None = None,
        local: dict[str, Any] | None = None, inner: bool = False,
    ) -> str:
        key = self.key()
        rec = self.state.add(key, element_id, scope)
        if trigger is not None:
            rec["x"]["trigger"] = trigger
        if local:
            rec["v"].update(local)
        if inner:
            rec["x"]["inner"] = True
        self.enter(key)
        return key

    def enter(self, key: str) -> None:
        """The retryable part of activation: mappings, boundaries, then the element's behaviour."""
        rec = self.state.ei[key]
        el = self.proc.elements[rec["id"]]
        try:
            if el.loop is not None and not rec["x"].get("inner"):
                self.open_boundaries(key, el)
                self.enter_body(key, el)
                return
            if el.inputs:
                ctx = self.state.visible(key)
                for m in el.inputs:
                    value = m.source.evaluate(ctx, IO_MAPPING_ERROR)
                    set_path(rec["v"], m.target, value, ctx)
                    ctx = self.state.visible(key)
            if el.boundaries and not rec["x"].get("inner"):
                self.open_boundaries(key, el)
            self.behave(key, el, rec)
        except ExprError as exc:
            self.incident(exc.incident_type, str(exc), key, "enter")

    def behave(self, key: str, el: Element, rec: dict[str, Any]) -> None:
        kind = el.kind
        trigger = rec["x"].pop("trigger", None)
        if trigger is not None and kind != "subProcess":
            self.merge_event_vars(key, el, trigger)
            self.leave(key)
            return
        if el.job_type is not None and el.script is None:
            self.create_job(key, el)
        elif el.script is not None:
            value = el.script.evaluate(self.state.visible(key))
            self.merge_event_vars(key, el, {el.result_variable: value})
            self.leave(key)
        elif kind in ("startEvent", "task", "manualTask", "parallelGateway"):
            self.leave(key)
        elif kind == "endEvent" or kind == "intermediateThrowEvent":
            self.throw_event(key, el)
        elif kind in ("intermediateCatchEvent", "receiveTask"):
            self.open_wait(key, el, key, "catch")
        elif kind == "exclusiveGateway":
            self.exclusive(key, el)
        elif kind == "inclusiveGateway":
            self.inclusive(key, el)
        elif kind == "eventBasedGateway":
            for fid in el.outgoing:
                target = self.proc.elements[self.proc.flows[fid].target]
                self.open_wait(key, target, key, "evgw")
        elif kind == "subProcess":
            if el.triggered_by_event:
                self.activate(el.start_event, key, trigger=trigger or {})
            else:
                self.open_event_subprocesses(key, el.event_subprocesses)
                self.activate(el.start_event, key)
        elif kind == "callActivity":
            self.call(key, el, rec)
        else:  # the parser rejects everything else
            self.leave(key)

    def throw_event(self, key: str, el: Element) -> None:
        ev = el.event
        if ev.kind == "error":
            self.throw_error(key, ev.error_code or "", "", {})
            return
        if ev.kind == "terminate":
            scope = self.state.ei[key]["p"]
            for child in self.state.children(scope):
                if child != key:
                    self.terminate(child)
            self.state.ei[scope]["x"].pop("joins", None)
        elif ev.kind == "signal" and ev.signal_name is not None:
            name = ev.signal_name.string(self.state.visible(key))
            self.fx.signals.append((name, {}))
        self.leave(key)

    def merge_event_vars(self, key: str, el: Element, variables: dict[str, Any]) -> None:
        """Job, message and error variables: local when the element has output mappings (only
        their targets propagate), else merged outwards from the element."""
        if not variables:
            return
        if el.outputs:
            self.state.set_local(key, variables)
        else:
            self.state.propagate(key, variables)

    # ------------------------------------------------------------------ jobs

    def create_job(self, key: str, el: Element) -> None:
        assert el.job_type is not None
        ctx = self.state.visible(key)
        job_type = el.job_type.string(ctx)
        retries = el.job_retries.number(ctx) if el.job_retries is not None else 3
        jkey = self.key()
        meta = {
            "pik": int(self.state.root),
            "pid": self.proc.id,
            "ver": self.meta["ver"],
            "pdk": self.state.def_key,
            "el": el.id,
            "ei": int(key),
        }
        self.fx.new_jobs.append(
            Job(
                id=jkey,
                instance_id=self.iid,
                queue=job_type,
                kind="zeebe",
                payload=Payload(json.dumps(meta).encode()),
                headers=dict(el.headers),
                retries=retries,
                timeout=DEFAULT_JOB_TIMEOUT,
                origin="zeebe",
            )
        )
        self.state.ei[key]["x"]["job"] = jkey
        self.state.jobs[jkey] = key

    def job_completed(self, job_id: str, variables: dict[str, Any]) -> None:
        key = self.state.jobs.pop(job_id, None)
        if key is None or key not in self.state.ei:
            return
        rec = self.state.ei[key]
        rec["x"].pop("job", None)
        self.drop_incidents(key)
        self.merge_event_vars(key, self.element(key), variables)
        self.leave(key)

    def job_failed(self, job_id: str, message: str) -> None:
        key = self.state.jobs.get(job_id)
        if key is None or key not in self.state.ei:
            return
        self.incident("JOB_NO_RETRIES", message or "No more retries left.", key, "job", job=job_id)

    def job_error(self, job_id: str, code: str, message: str, variables: dict[str, Any]) -> None:
        key = self.state.jobs.pop(job_id, None)
        if key is None or key not in self.state.ei:
            return
        self.state.ei[key]["x"].pop("job", None)
        self.throw_error(key, code, message, variables, from_job=True)

    # ------------------------------------------------------------------ gateways

    def exclusive(self, key: str, el: Element) -> None:
        ctx = self.state.visible(key)
        chosen = ""
        for fid in el.outgoing:
            if fid == el.default_flow:
                continue
            cond = self.proc.flows[fid].condition
            if cond is None or cond.boolean(ctx):
                chosen = fid
                break
        chosen = chosen or el.default_flow
        if not chosen:
            self.incident(
                "CONDITION_ERROR",
                "Expected at least one condition to evaluate to true, or to have a default flow",
                key, "enter",
            )
            return
        self.leave(key, [chosen])

    def inclusive(self, key: str, el: Element) -> None:
        ctx = self.state.visible(key)
        chosen = []
        for fid in el.outgoing:
            cond = self.proc.flows[fid].condition
            if fid != el.default_flow and (cond is None or cond.boolean(ctx)):
                chosen.append(fid)
        if not chosen and el.default_flow:
            chosen = [el.default_flow]
        if not chosen:
            self.incident(
                "CONDITION_ERROR",
                "Expected at least one condition to evaluate to true, or to have a default flow",
                key, "enter",
            )
            return
        self.leave(key, chosen)

    # ------------------------------------------------------------------ completion

    def leave(self, key: str, flows: list[str] | None = None) -> None:
        """The retryable part of completion: output mappings, then the element is gone and its
        outgoing flows are taken."""
        rec = self.state.ei[key]
        el = self.proc.elements[rec["id"]] if key != self.state.root else None
        parent = rec["p"]
        try:
            if el is not None and "mi" in rec["x"]:
                if el.loop is not None and el.loop.output_collection:
                    name = el.loop.output_collection
                    self.state.propagate(parent, {name: rec["v"].get(name)})
            elif el is not None and el.outputs:
                ctx = self.state.visible(key)
                base = self.state.visible(parent)
                results: dict[str, Any] = {}
                for m in el.outputs:
                    set_path(results, m.target, m.source.evaluate(ctx, IO_MAPPING_ERROR), base)
                self.state.propagate(parent, results)
        except ExprError as exc:
            self.incident(exc.incident_type, str(exc), key, "leave", flows=flows)
            return
        inner_ctx = self.state.visible(key) if rec["x"].get("inner") else None
        self.close_owned(key)
        self.state.ei.pop(key, None)
        if key == self.state.root:
            self.finish_process(rec["v"])
            return
        assert el is not None and parent is not None
        if inner_ctx is not None:
            self.inner_done(parent, rec, inner_ctx)
            return
        taken = el.outgoing if flows is None else flows
        for fid in taken:
            self.take(fid, parent)
        if not taken:
            self.check_scope(parent)

    def take(self, flow_id: str, scope: str) -> None:
        if scope not in self.state.ei:
            return
        target = self.proc.elements[self.proc.flows[flow_id].target]
        if target.kind == "parallelGateway" and len(target.incoming) > 1:
            joins = self.state.ei[scope]["x"].setdefault("joins", {}).setdefault(target.id, {})
            joins[flow_id] = joins.get(flow_id, 0) + 1
            if not all(joins.get(f, 0) > 0 for f in target.incoming):
                return
            for f in target.incoming:
                joins[f] -= 1
                if not joins[f]:
                    del joins[f]
            if not joins:
                del self.state.ei[scope]["x"]["joins"][target.id]
        self.activate(target.id, scope)

    def check_scope(self, scope: str) -> None:
        """Complete a flow scope once nothing runs in it any more."""
        rec = self.state.ei.get(scope)
        if rec is None or "mi" in rec["x"]:
            return
        if self.state.children(scope) or rec["x"].get("joins"):
            return
        if rec["x"].get("child"):
            return  # a call activity waits for its child instance
        if scope == self.state.root or self.proc.elements[rec["id"]].kind == "subProcess":
            self.leave(scope)

    # ------------------------------------------------------------------ termination

    def terminate(self, key: str) -> None:
        """Terminate an element instance and everything inside it (jobs, waits, children)."""
        for child in self.state.children(key):
            self.terminate(child)
        rec = self.state.ei.get(key)
        if rec is None:
            return
        job = rec["x"].get("job")
        if job:
            self.fx.cancel_jobs.append(job)
            self.state.jobs.pop(job, None)
        child_instance = rec["x"].get("child")
        if child_instance:
            self.fx.inbox.append(NewEvent(child_instance, "zeebe.cancel"))
        self.close_owned(key)
        self.drop_incidents(key)
        self.state.ei.pop(key, None)

    # ------------------------------------------------------------------ client commands

    def set_variables(self, key: str, variables: dict[str, Any], local: bool) -> None:
        if key not in self.state.ei:
            return
        if local:
            self.state.set_local(key, variables)
        else:
            self.state.propagate(key, variables)

    def resolve(self, ikey: str, still_failed: str | None = None) -> None:
        """Resolve an incident and retry what failed; a job that still has no retries raises a
        new incident at once (as Zeebe does when the problem persists)."""
        inc = self.state.incidents.pop(ikey, None)
        if inc is None:
            return
        self.fx.delete_data.append(INCIDENT_PREFIX + ikey)
        key = inc["ei"]
        if key not in self.state.ei:
            return
        retry = inc["retry"]
        if retry == "enter":
            self.enter(key)
        elif retry == "leave":
            self.leave(key, inc.get("flows"))
        elif retry == "rejob":
            self.create_job(key, self.element(key))
        elif retry == "job" and still_failed is not None and inc.get("job"):
            self.incident("JOB_NO_RETRIES", still_failed, key, "job", job=inc["job"])
