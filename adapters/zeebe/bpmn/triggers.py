"""Waiting and being triggered: message and signal subscriptions, timers, errors, boundary
events, event-based gateways, event subprocesses, multi-instance bodies and call activities.

Every wait is owned by an element instance (`ei`): the catch event itself, the activity a
boundary event is attached to, the event-based gateway, or the scope of an event subprocess.
Leaving or terminating the owner closes its waits. Keys name the wait within the instance:
`<kind>:<owner key>:<element id>`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from adapters.zeebe.bpmn.expr import ExprError, parse_cycle, timer_date, timer_seconds
from adapters.zeebe.bpmn.model import Element
from gateway.model import NewEvent, Subscription, Timer

if TYPE_CHECKING:
    from adapters.zeebe.bpmn.effects import Effects, Host
    from adapters.zeebe.bpmn.model import ProcessDef
    from adapters.zeebe.bpmn.state import State

SIGNAL_PREFIX = "signal:"


class TriggerMixin:
    """Part of `runtime.Run` (which provides the attributes and methods declared here)."""

    if TYPE_CHECKING:
        state: State
        proc: ProcessDef
        fx: Effects
        iid: str
        now: float
        host: Host

        def activate(
            self, element_id: str, scope: str, *, trigger: dict[str, Any] | None = None,
            local: dict[str, Any] | None = None, inner: bool = False,
        ) -> str: ...

        def leave(self, key: str, flows: list[str] | None = None) -> None: ...

        def terminate(self, key: str) -> None: ...

        def incident(self, itype: str, message: str, key: str, retry: str, **extra: Any) -> None: ...

        def merge_event_vars(self, key: str, el: Element, variables: dict[str, Any]) -> None: ...

        def element(self, key: str) -> Element: ...

    # ------------------------------------------------------------------ opening waits

    def open_wait(self, owner: str, el: Element, ctx_key: str, kind: str) -> None:
        """Subscribe `owner` to the event of `el` (message, signal or timer)."""
        ev = el.event
        ctx = self.state.visible(ctx_key)
        wkey = f"{kind}:{owner}:{el.id}"
        if ev.kind == "timer":
            due, reps, every = self.timer_due(el, ctx)
            self.state.timers[wkey] = {"ei": owner, "el": el.id, "kind": kind, "reps": reps, "every": every}
            self.fx.timers.append(Timer(self.iid, wkey, due))
            return
        if ev.kind == "message" and ev.message_name is not None:
            name = ev.message_name.string(ctx)
            if ev.correlation_key is None:
                raise ExprError(f"Element '{el.id}' has no correlation key")
            corr = ev.correlation_key.key(ctx)
            group = self.proc.id
        elif ev.kind == "signal" and ev.signal_name is not None:
            name = SIGNAL_PREFIX + ev.signal_name.string(ctx)
            corr = ""
            # Signals reach every subscription: one group per subscription.
            group = f"{self.iid}/{wkey}"
        else:
            return
        self.state.subs[wkey] = {"ei": owner, "el": el.id, "kind": kind}
        self.fx.subs.append(Subscription(self.iid, wkey, name, corr, group=group))

    def timer_due(self, el: Element, ctx: dict[str, Any]) -> tuple[float, int, float]:
        """(due time, repetitions left after this one, interval) of a timer event."""
        ev = el.event
        assert ev.timer is not None
        value = ev.timer.raw(ctx)
        try:
            if ev.timer_kind == "duration":
                return self.now + timer_seconds(value), 0, 0.0
            if ev.timer_kind == "date":
                return timer_date(value), 0, 0.0
            reps, every, start = parse_cycle(str(value))
        except (ValueError, TypeError) as exc:
            raise ExprError(f"Invalid timer of element '{el.id}': {exc}") from None
        due = start if start is not None and start > self.now else self.now + every
        return due, (reps - 1 if reps > 0 else -1), every

    def open_boundaries(self, key: str, el: Element) -> None:
        for bid in el.boundaries:
            b = self.proc.elements[bid]
            if b.event.kind in ("timer", "message", "signal"):
                self.open_wait(key, b, key, "boundary")

    def open_event_subprocesses(self, scope: str, ids: list[str]) -> None:
        for sid in ids:
            sub = self.proc.elements[sid]
            start = self.proc.elements[sub.start_event]
            if start.event.kind in ("timer", "message", "signal"):
                self.open_wait(scope, start, scope, "evsub")

    def close_owned(self, owner: str) -> None:
        for wkey in [k for k, w in self.state.subs.items() if w["ei"] == owner]:
            del self.state.subs[wkey]
            self.fx.close_subs.append((self.iid, wkey))
        for wkey in [k for k, w in self.state.timers.items() if w["ei"] == owner]:
            del self.state.timers[wkey]
            self.fx.cancel_timers.append((self.iid, wkey))

    # ------------------------------------------------------------------ being triggered

    def message(self, wkey: str, variables: dict[str, Any]) -> None:
        info = self.state.subs.pop(wkey, None)
        if info is not None:
            self.triggered(info, wkey, variables, reopen=False)

    def timer(self, wkey: str) -> None:
        info = self.state.timers.pop(wkey, None)
        if info is None:
            return
        if info["reps"] != 0 and info["kind"] in ("boundary", "evsub"):
            # A cycle: arm the next occurrence before handling this one (interrupting handling
            # closes it again together with its owner).
            self.state.timers[wkey] = {**info, "reps": info["reps"] - 1 if info["reps"] > 0 else -1}
            self.fx.timers.append(Timer(self.iid, wkey, self.now + info["every"]))
        self.triggered(info, wkey, {}, reopen=False)

    def triggered(self, info: dict[str, Any], wkey: str, variables: dict[str, Any], reopen: bool) -> None:
        owner = info["ei"]
        if owner not in self.state.ei:
            return
        el = self.proc.elements[info["el"]]
        kind = info["kind"]
        try:
            if kind == "catch":
                self.merge_event_vars(owner, el, variables)
                self.leave(owner)
            elif kind == "boundary":
                scope = self.state.ei[owner]["p"]
                if el.cancel_activity:
                    self.terminate(owner)
                elif el.event.kind != "timer":
                    self.open_wait(owner, el, owner, "boundary")  # non-interrupting stays open
                self.activate(el.id, scope, trigger=variables)
            elif kind == "evgw":
                scope = self.state.ei[owner]["p"]
                self.close_owned(owner)
                self.state.ei.pop(owner, None)
                self.activate(el.id, scope, trigger=variables)
            elif kind == "evsub":
                sub = self.proc.elements[el.scope]
                if el.interrupting:
                    for child in self.state.children(owner):
                        self.terminate(child)
                    self.state.ei[owner]["x"].pop("joins", None)
                    self.close_owned(owner)
                elif el.event.kind != "timer":
                    self.open_wait(owner, el, owner, "evsub")
                self.activate(sub.id, owner, trigger=variables)
        except ExprError as exc:
            self.incident(exc.incident_type, str(exc), owner, "none")

    # ------------------------------------------------------------------ errors

    def throw_error(
        self, key: str, code: str, message: str, variables: dict[str, Any], from_job: bool = False
    ) -> None:
        """Find the catching error event, from the throwing element outwards."""
        k: str | None = key
        while k is not None:
            rec = self.state.ei[k]
            el = self.proc.elements.get(rec["id"]) if k != self.state.root else None
            if el is not None and not rec["x"].get("inner"):
                catcher = _match(self.proc.elements, el.boundaries, code, start=False)
                if catcher is not None:
                    scope = rec["p"]
                    self.terminate(k)
                    self.activate(catcher, scope, trigger=variables)
                    return
            subs = self.proc.event_subprocesses if el is None else (el.event_subprocesses if el.is_scope else [])
            starts = [self.proc.elements[s].start_event for s in subs]
            catcher = _match(self.proc.elements, starts, code, start=True)
            if catcher is not None:
                for child in self.state.children(k):
                    self.terminate(child)
                rec["x"].pop("joins", None)
                self.activate(self.proc.elements[catcher].scope, k, trigger=variables)
                return
            k = rec["p"]
        parent = self.state.doc.get("parent")
        if parent:
            # Uncaught in a called process: the call activity in the parent gets the error.
            data = {"ei": parent["ei"], "code": code, "msg": message, "vars": variables}
            self.fx.inbox.append(NewEvent(parent["pi"], "zeebe.child_error", json.dumps(data).encode()))
            return
        text = (
            f"Expected to throw an error event with the code '{code}' with message '{message}', but it was not "
            "caught. No error events are available in the scope."
        )
        if from_job:
            self.incident("UNHANDLED_ERROR_EVENT", text, key, "rejob")
        else:
            self.incident("UNHANDLED_ERROR_EVENT", text, key, "none")

    # ------------------------------------------------------------------ multi-instance

    def enter_body(self, key: str, el: Element) -> None:
        loop = el.loop
        assert loop is not None
        rec = self.state.ei[key]
        items = loop.input_collection.array(self.state.visible(key))
        rec["x"]["mi"] = {"n": len(items), "done": 0, "next": 0, "items": items if loop.sequential else None}
        if loop.output_collection:
            rec["v"][loop.output_collection] = [None] * len(items)
        if not items:
            self.leave(key)
            return
        for i, item in enumerate(items):
            self.spawn_inner(key, el, i, item)
            if loop.sequential:
                break

    def spawn_inner(self, body: str, el: Element, index: int, item: Any) -> None:
        assert el.loop is not None
        local: dict[str, Any] = {"loopCounter": index + 1}
        if el.loop.input_element:
            local[el.loop.input_element] = item
        self.activate(el.id, body, local=local, inner=True)

    def inner_done(self, body: str, inner: dict[str, Any], ctx: dict[str, Any]) -> None:
        brec = self.state.ei.get(body)
        if brec is None:
            return
        el = self.proc.elements[brec["id"]]
        loop = el.loop
        assert loop is not None
        mi = brec["x"]["mi"]
        mi["done"] += 1
        counter = inner["v"].get("loopCounter", 0)
        if loop.output_element is not None and loop.output_collection:
            try:
                value = loop.output_element.evaluate(ctx)
            except ExprError:
                value = None
            coll = brec["v"].get(loop.output_collection)
            if isinstance(coll, list) and 1 <= counter <= len(coll):
                coll[counter - 1] = value
        active = self.state.children(body)
        if loop.completion is not None:
            cctx = self.state.visible(body)
            cctx.update(
                numberOfInstances=mi["n"], numberOfCompletedInstances=mi["done"],
                numberOfActiveInstances=len(active), numberOfTerminatedInstances=0,
            )
            try:
                done = loop.completion.boolean(cctx)
            except ExprError as exc:
                self.incident(exc.incident_type, str(exc), body, "none")
                return
            if done:
                for child in active:
                    self.terminate(child)
                self.leave(body)
                return
        if loop.sequential and mi["next"] + 1 < mi["n"]:
            mi["next"] += 1
            self.spawn_inner(body, el, mi["next"], mi["items"][mi["next"]])
        elif not active:
            self.leave(body)

    # ------------------------------------------------------------------ call activities

    def call(self, key: str, el: Element, rec: dict[str, Any]) -> None:
        assert el.called_process is not None
        ctx = self.state.visible(key)
        pid = el.called_process.string(ctx)
        definition = self.host.latest_definition(pid)
        if definition is None:
            self.incident(
                "CALLED_ELEMENT_ERROR",
                f"Expected process with BPMN process id '{pid}' to be deployed, but not found.",
                key, "enter",
            )
            return
        if not definition.process.start_event:
            self.incident(
                "CALLED_ELEMENT_ERROR",
                f"Expected process with BPMN process id '{pid}' to have a none start event, but not found.",
                key, "enter",
            )
            return
        child_key = self.host.next_key()
        variables = ctx if el.propagate_all_parent else dict(rec["v"])
        self.fx.create_instances.append(
            self.host.new_instance(definition, child_key, variables, (self.iid, key))
        )
        rec["x"]["child"] = str(child_key)

    def child_done(self, key: str, variables: dict[str, Any]) -> None:
        rec = self.state.ei.get(key)
        if rec is None:
            return
        rec["x"].pop("child", None)
        el = self.element(key)
        if el.propagate_all_child:
            self.merge_event_vars(key, el, variables)
        else:
            self.state.set_local(key, variables)
        self.leave(key)

    def child_error(self, key: str, code: str, message: str, variables: dict[str, Any]) -> None:
        if key in self.state.ei:
            self.throw_error(key, code, message, variables)


def _match(elements: dict[str, Element], ids: list[str], code: str, start: bool) -> str | None:
    """The error catch event for `code` among `ids`: an exact errorCode first, then a catch-all."""
    catch_all = None
    for eid in ids:
        ev = elements[eid].event
        if ev.kind != "error":
            continue
        if ev.error_code is not None and ev.error_code == code:
            return eid
        if ev.error_code is None and catch_all is None:
            catch_all = eid
    return catch_all
