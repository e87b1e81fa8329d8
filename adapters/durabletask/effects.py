"""`Effects`: accumulates one atomic commit that reaches other instances.

Targets are read before the commit is built, so a missing target is skipped (a send to an unknown
instance is dropped, as in durabletask-go) instead of failing the whole commit; if a target
appears or vanishes between the read and the commit, the caller rebuilds (see `commit_with_retry`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.errors import AlreadyExists, NotFound
from gateway.model import (
    Commit,
    Instance,
    InstanceQuery,
    InstanceStatus,
    NewInstance,
    Payload,
    Timer,
)
from gateway.ports import Clock, Scheduler

from ._pb import orchestrator_service_pb2 as pb
from .convert import ENGINE, EVENT_KIND, DtState, is_entity_id
from .history import execution_started, execution_terminated, new_event

log = logging.getLogger("adapters.durabletask")

TERMINAL = frozenset(
    {InstanceStatus.COMPLETED, InstanceStatus.FAILED, InstanceStatus.TERMINATED, InstanceStatus.CANCELED}
)
ACTIVE = frozenset({InstanceStatus.PENDING, InstanceStatus.RUNNING, InstanceStatus.SUSPENDED})


@dataclass
class Env:
    """What the adapter's parts share: the scheduler, the clock and the adapter settings."""

    scheduler: Scheduler
    clock: Clock
    lease_seconds: float = 30.0
    ping_interval: float = 10.0
    abandon_delay: float = 1.0
    history_limit: int = 100_000


class Effects:
    """Builds a `Commit` whose inbox posts and creations target instances read beforehand."""

    def __init__(self, env: Env, now: float) -> None:
        self.env = env
        self.now = now
        self.commit = Commit()
        self._seen: dict[str, Instance | None] = {}

    async def instance(self, instance_id: str) -> Instance | None:
        if instance_id not in self._seen:
            self._seen[instance_id] = await self.env.scheduler.get_instance(instance_id)
        return self._seen[instance_id]

    async def post(self, instance_id: str, he: pb.HistoryEvent, ref: str = "") -> bool:
        """Post to an existing instance's inbox; False (nothing posted) if it does not exist."""
        if await self.instance(instance_id) is None:
            log.info("dropping %s for unknown instance %r", he.WhichOneof("eventType"), instance_id)
            return False
        self.commit.inbox.append(new_event(instance_id, he, ref))
        return True

    async def post_entity(self, entity_id: str, he: pb.HistoryEvent, at: float = 0.0) -> None:
        """Deliver to an entity, creating it on first use; `at` in the future delays delivery."""
        if await self.instance(entity_id) is None:
            name = entity_id[1:].split("@", 1)[0] if is_entity_id(entity_id) else entity_id
            inst = Instance(
                entity_id, ENGINE, definition=name, status=InstanceStatus.RUNNING,
                state=DtState(entity=True).dump(),
            )
            self.commit.create_instances.append(NewInstance(inst))
            self._seen[entity_id] = inst
        if at > self.now:
            key = f"sig:{uuid.uuid4().hex}"
            self.commit.timers.append(Timer(entity_id, key, at, EVENT_KIND, he.SerializeToString()))
        else:
            self.commit.inbox.append(new_event(entity_id, he))

    async def start_orchestration(
        self,
        instance_id: str,
        name: str,
        *,
        version: str | None = None,
        input: str | None = None,
        tags: dict[str, str] | None = None,
        trace: pb.TraceContext | None = None,
        parent: pb.ParentInstanceInfo | None = None,
        start_at: float = 0.0,
        replace: frozenset[InstanceStatus] = TERMINAL,
        execution_id: str | None = None,
    ) -> bool:
        """Create an orchestration PENDING with [executionStarted] in its inbox.

        False if the id is taken by an instance whose status is not in `replace`.
        """
        old = await self.instance(instance_id)
        if old is not None and old.status not in replace:
            return False
        execution_id = execution_id or uuid.uuid4().hex
        st = DtState(start_at=start_at if start_at > self.now else 0.0)
        parent_id = None
        if parent is not None:
            st.parent_task = parent.taskScheduledId
            st.parent_exec = parent.orchestrationInstance.executionId.value
            parent_id = parent.orchestrationInstance.instanceId
        inst = Instance(
            instance_id, ENGINE, definition=name, version=version or "", status=InstanceStatus.PENDING,
            input=None if input is None else Payload(input.encode()), parent_id=parent_id,
            execution_id=execution_id, state=st.dump(), tags=dict(tags or {}),
        )
        started = execution_started(
            name, instance_id, execution_id, self.now, version=version, input=input, parent=parent,
            tags=tags, trace=trace, scheduled_start=st.start_at,
        )
        self.commit.create_instances.append(
            NewInstance(inst, [new_event(instance_id, started)], replace=replace)
        )
        self._seen[instance_id] = inst
        return True

    async def terminate(self, instance_id: str, reason: str | None, recurse: bool) -> bool:
        """Enqueue executionTerminated for an active instance (and, with `recurse`, its active
        descendants). False if the instance does not exist."""
        inst = await self.instance(instance_id)
        if inst is None:
            return False
        if inst.status in TERMINAL:
            return True
        self.commit.inbox.append(new_event(instance_id, execution_terminated(reason, recurse, self.now)))
        if recurse:
            for child in await children(self.env.scheduler, instance_id, ACTIVE):
                await self.terminate(child.id, reason, True)
        return True


async def children(
    scheduler: Scheduler, instance_id: str, statuses: frozenset[InstanceStatus] | None = None
) -> list[Instance]:
    out: list[Instance] = []
    after: str | None = None
    while True:
        page = await scheduler.query_instances(
            InstanceQuery(engine=ENGINE, parent_id=instance_id, statuses=statuses, after_id=after, limit=500)
        )
        out.extend(page.items)
        if page.next_after is None:
            return out
        after = page.next_after


async def commit_with_retry(env: Env, build: Callable[[], Awaitable[Commit]], attempts: int = 3) -> None:
    """Build and apply a commit; rebuild when a target appeared or vanished in between."""
    for attempt in range(attempts):
        commit = await build()
        try:
            await env.scheduler.commit(commit)
            return
        except (AlreadyExists, NotFound):
            if attempt == attempts - 1:
                raise
