"""The "durabletask" decider: turns inbox events into orchestrator-turn (or entity-batch) jobs.

The real decision is remote: the worker's `CompleteOrchestratorTask` answer. The engine only
makes sure at most one turn per instance is in flight: while one is, it returns an empty commit
(the scheduler records how far the inbox was seen; the turn's completion re-arms the instance).
"""

from __future__ import annotations

import uuid

from gateway.model import Commit, InstanceUpdate, Job, StepClaim

from . import entities
from .convert import ENGINE, ORCH_QUEUE, DtState, is_entity_id
from .effects import Env
from .history import is_stale


class DurableTaskEngine:
    """`gateway.ports.Engine` for Durable Task orchestrations and entities."""

    name = ENGINE

    def __init__(self, env: Env) -> None:
        self.env = env

    async def decide(self, claim: StepClaim, now: float) -> Commit:
        inst = claim.instance
        if not claim.inbox:
            return Commit()
        last = claim.inbox[-1].seq
        st = DtState.load(inst.state)
        if st.entity or is_entity_id(inst.id):
            return await entities.decide(self.env, claim, now)
        if inst.status.terminal:
            # Nothing can happen to an ended execution: late results, raised events... are dropped.
            return Commit(updates=[InstanceUpdate(inst.id, drop_upto=last)])
        if st.turn:
            return Commit()
        if all(is_stale(e, inst.execution_id) for e in claim.inbox):
            return Commit(updates=[InstanceUpdate(inst.id, drop_upto=last)])
        job = Job(
            id=uuid.uuid4().hex,
            instance_id=inst.id,
            queue=ORCH_QUEUE,
            kind="orchestrator",
            not_before=st.start_at if st.start_at > now else 0.0,
            timeout=self.env.lease_seconds,
            origin=ENGINE,
            headers={"name": inst.definition, "version": inst.version},  # for workItemFilters
        )
        st.turn = job.id
        return Commit(new_jobs=[job], updates=[InstanceUpdate(inst.id, state=st.dump())])
