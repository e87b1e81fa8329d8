"""The Zeebe engine as a core `Engine` (name "zeebe"): one step = the inbox events of one instance.

Process instances keep their whole interpreter state in `Instance.state` (see `bpmn.state`); the
inbox carries what happened outside: job completions and failures, fired timers, correlated
messages, and client commands (cancel, set variables, resolve incident, thrown errors). Events are
dropped once applied because the state document is the record. The registry instance's steps
handle timer start events.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from adapters.zeebe.bpmn.effects import Effects
from adapters.zeebe.bpmn.runtime import Run
from adapters.zeebe.bpmn.state import State
from adapters.zeebe.keys import REGISTRY_ID
from gateway.model import Commit, Event, InstanceUpdate, StepClaim, Timer

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

    async def decide(self, claim: StepClaim, now: float) -> Commit:
        inst = claim.instance
        last = claim.inbox[-1].seq if claim.inbox else None
        if inst.id == REGISTRY_ID:
            commit = self._registry_step(claim, now)
        elif inst.status.terminal:
            commit = Commit(updates=[InstanceUpdate(inst.id, drop_upto=last)])
        else:
            state = State.load(inst.state)
            definition = self.broker.registry.by_key.get(state.def_key)
            if definition is None:
                log.error("instance %s: definition %s is not deployed; events dropped", inst.id, state.def_key)
                return Commit(updates=[InstanceUpdate(inst.id, drop_upto=last)])
            fx = Effects()
            run = Run(self.broker, definition.process, {"ver": definition.version}, state, inst.id, now, fx)
            for ev in claim.inbox:
                if fx.status is not None:
                    break  # the instance ended; later events have nothing left to act on
                self._apply(run, ev)
            commit = fx.commit(inst.id, state.dump(), last)
            for name, variables in fx.signals:
                await self.broker.broadcast_signal(name, variables)
        mark = self.broker.keys.reservation()
        if mark is not None:
            commit.data.append(mark)
        return commit

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
            elif kind == "zeebe.child_error":
                run.child_error(str(d.get("ei")), d.get("code", ""), d.get("msg", ""), d.get("vars", {}))
            else:
                log.warning("instance %s: unknown event %s dropped", run.iid, kind)

    def _registry_step(self, claim: StepClaim, now: float) -> Commit:
        """Timer start events fire here: each creates an instance and re-arms its cycle."""
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
