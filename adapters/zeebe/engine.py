"""The Zeebe engine as a core `Engine` (name "zeebe"): one step = the inbox events of one instance.

Process instances keep their whole interpreter state in `Instance.state` (see `bpmn.state`); the
inbox carries what happened outside: job completions and failures, fired timers, correlated
messages, and client commands (cancel, set variables, resolve incident, thrown errors). Events are
dropped once applied because the state document is the record. The registry instance's steps
handle timer start events.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import TYPE_CHECKING, Any

from adapters.zeebe.bpmn import modify
from adapters.zeebe.bpmn.effects import Effects
from adapters.zeebe.bpmn.runtime import Run
from adapters.zeebe.bpmn.state import State
from adapters.zeebe.keys import REGISTRY_ID
from gateway.errors import LeaseLost
from gateway.model import Commit, Event, InstanceUpdate, Job, JobOutcome, StepClaim, Timer

if TYPE_CHECKING:
    from adapters.zeebe.broker import Broker

log = logging.getLogger("adapters.zeebe.engine")

ENGINE_NAME = "zeebe"


def _json(data: bytes) -> Any:
    if not data:
        return {}
    try:
        return json.loads(data)
    except ValueError:
        return {}


class ZeebeEngine:
    """Implements `gateway.ports.Engine` for BPMN process instances."""

    name = ENGINE_NAME

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._has_calls: dict[int, bool] = {}

    def _calls(self, key: int, process: Any) -> bool:
        has = self._has_calls.get(key)
        if has is None:
            has = self._has_calls[key] = any(el.kind == "callActivity" for el in process.elements.values())
        return has

    async def decide(self, claim: StepClaim, now: float) -> Commit:
        inst = claim.instance
        last = claim.inbox[-1].seq if claim.inbox else None
        if inst.id == REGISTRY_ID:
            commit = await self._registry_step(claim, now)
        elif inst.status.terminal:
            commit = Commit(updates=[InstanceUpdate(inst.id, drop_upto=last)])
        else:
            state = self.broker.states.take(inst.id, inst.state)
            definition = await self.broker.definition(state.def_key)
            if definition is not None and self._calls(definition.key, definition.process):
                # A call activity starts the latest version of another process: let it be the
                # latest any replica deployed.
                await self.broker.sync_registry()
            if definition is None:
                log.error("instance %s: definition %s is not deployed; events dropped", inst.id, state.def_key)
                return Commit(updates=[InstanceUpdate(inst.id, drop_upto=last)])
            fx = Effects()
            run = Run(self.broker, definition.process, {"ver": definition.version}, state, inst.id, now, fx)
            for ev in claim.inbox:
                if fx.status is not None:
                    break  # the instance ended; later events have nothing left to act on
                self._apply(run, ev)
            data = run.state.dump()
            commit = fx.commit(inst.id, data, last)
            self._remember(inst.id, data, run.state, fx)
            for name, variables in fx.signals:
                await self.broker.broadcast_signal(name, variables)
        return commit

    def _remember(self, iid: str, data: bytes, state: State, fx: Effects) -> None:
        if fx.status is None:
            self.broker.states.put(iid, data, state)
        else:
            self.broker.states.drop(iid)

    async def complete_inline(self, job: Job, variables: dict[str, Any]) -> bool:
        """CompleteJob as one commit: when the instance has nothing else pending and no step in
        flight, run its step here and commit it with the job's completion, guarded by the
        instance's revision (the step fence), instead of posting an event for the step loop.
        False: not done (the caller posts the completion the usual way)."""
        inst = await self.broker.scheduler.get_instance(job.instance_id)
        now = self.broker.scheduler.clock.now()
        if (inst is None or inst.status.terminal or inst.runnable or inst.id == REGISTRY_ID
                or (inst.step_owner and inst.step_expires > now)):
            return False
        state = self.broker.states.take(inst.id, inst.state)
        definition = self.broker.registry.by_key.get(state.def_key)
        if definition is None:
            return False
        fx = Effects()
        run = Run(self.broker, definition.process, {"ver": definition.version}, state, inst.id, now, fx)
        run.job_completed(job.id, variables)
        data = run.state.dump()
        commit = fx.commit(inst.id, data, None)
        commit.step = (inst.id, inst.revision)
        commit.jobs.append(JobOutcome(job.ref, "complete", post_event=False))
        try:
            await self.broker.scheduler.commit(commit)
        except LeaseLost:
            return False
        self._remember(inst.id, data, run.state, fx)
        for name, signal_vars in fx.signals:
            await self.broker.broadcast_signal(name, signal_vars)
        return True

    def _apply(self, run: Run, ev: Event) -> None:
        kind = ev.kind
        if kind == "job.completed":
            run.job_completed(ev.ref, _json(ev.data))
        elif kind == "message.correlated":
            run.message(ev.ref, _json(ev.data))
        elif kind == "timer.fired":
            run.timer(ev.ref)
        elif kind == "zeebe.start":
            d = _json(ev.data)
            run.start(d.get("vars", {}), d.get("start", ""), d.get("trigger"))
        elif kind == "job.failed":
            run.job_failed(ev.ref, ev.data.decode(errors="replace"))
        else:
            d = _json(ev.data)
            if kind == "zeebe.job_vars":
                key = run.state.jobs.get(str(d.get("job")))
                if key is not None:
                    run.set_variables(key, d.get("vars", {}), True)
            elif kind == "zeebe.throw":
                run.job_error(str(d.get("job")), d.get("code", ""), d.get("msg", ""), d.get("vars", {}))
            elif kind == "zeebe.cancel":
                run.cancel_process()
            elif kind == "zeebe.setvars":
                run.set_variables(str(d.get("ei")), d.get("vars", {}), bool(d.get("local")))
            elif kind == "zeebe.resolve":
                run.resolve(str(d.get("incident")), d.get("still_failed"))
            elif kind == "zeebe.child_done":
                run.child_done(str(d.get("ei")), d.get("vars", {}))
            elif kind == "zeebe.modify":
                self._modify(run, d)
            elif kind == "zeebe.child_error":
                run.child_error(str(d.get("ei")), d.get("code", ""), d.get("msg", ""), d.get("vars", {}))
            else:
                log.warning("instance %s: unknown event %s dropped", run.iid, kind)

    @staticmethod
    def _modify(run: Run, d: dict[str, Any]) -> None:
        """Apply a modification checked when it was requested; if the instance changed meanwhile so
        that it no longer applies, it is dropped whole (state and effects as before)."""
        saved = copy.deepcopy(run.state.doc)
        fx = run.fx
        marks = {name: len(value) for name, value in vars(fx).items() if isinstance(value, list)}
        status, output = fx.status, fx.output
        try:
            modify.apply(run, [modify.Activate.from_json(a) for a in d.get("act", [])],
                         [int(k) for k in d.get("term", [])])
        except modify.ModifyRejected as exc:
            log.warning("instance %s: modification dropped: %s", run.iid, exc)
            run.state = State(saved)
            for name, n in marks.items():
                del getattr(fx, name)[n:]
            fx.status, fx.output = status, output

    async def _registry_step(self, claim: StepClaim, now: float) -> Commit:
        """Timer start events fire here: each creates an instance and re-arms its cycle."""
        await self.broker.sync_registry()
        commit = Commit(updates=[InstanceUpdate(REGISTRY_ID, drop_upto=claim.inbox[-1].seq if claim.inbox else None)])
        for ev in claim.inbox:
            if ev.kind != "timer.fired" or not ev.ref.startswith("start:"):
                continue
            _, def_key, element_id = ev.ref.split(":", 2)
            d = self.broker.registry.by_key.get(int(def_key))
            if d is None or self.broker.registry.latest(d.bpmn_process_id) is not d:
                continue  # a newer version replaced this start event
            key = self.broker.next_key()
            commit.create_instances.append(
                self.broker.new_instance(d, key, {}, None, start_element=element_id, trigger={})
            )
            info = _json(ev.data)
            reps = int(info.get("reps", 0))
            if reps != 0:
                commit.timers.append(
                    Timer(REGISTRY_ID, ev.ref, now + float(info.get("every", 60)),
                          data=json.dumps({"reps": reps - 1 if reps > 0 else -1, "every": info.get("every")}).encode())
                )
        return commit
