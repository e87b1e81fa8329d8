"""The GetWorkItems stream: leases turn, activity and entity jobs and streams them as WorkItems.

Each stream leases with `scheduler.activate` (long poll, limited by the worker's free slots),
sends a HealthPing whenever it was quiet for `ping_interval`, keeps the leases of its in-flight
items alive while it lives, and releases them when it ends so they are re-dispatched elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator

from gateway.errors import GatewayError, LeaseLost, NotFound
from gateway.model import Commit, Job, JobOutcome, JobRef
from gateway.ports import Metrics

from . import entities
from ._pb import orchestrator_service_pb2 as pb
from .convert import ACTIVITY_QUEUE, ENGINE, ENTITY_QUEUE, ORCH_QUEUE, DtState, Token
from .effects import Env
from .history import parse_all, turn_new_events

log = logging.getLogger("adapters.durabletask")

_DEFAULT_LIMIT = 100


class WorkFilter:
    """A stream's `workItemFilters`: which orchestrations, activities and entities it takes.

    None for a category means "everything" (no filters sent); otherwise a map name -> accepted
    versions (empty = any version), and an empty map accepts nothing (as the SDK's reference does).
    """

    def __init__(self, req: pb.GetWorkItemsRequest) -> None:
        self.by_queue: dict[str, dict[str, frozenset[str]]] | None = None
        if not req.HasField("workItemFilters"):
            return
        wf = req.workItemFilters
        orch: dict[str, frozenset[str]] = {}
        for f in wf.orchestrations:
            orch[f.name] = orch.get(f.name, frozenset()) | frozenset(f.versions)
        acts: dict[str, frozenset[str]] = {}
        for f in wf.activities:
            acts[f.name] = acts.get(f.name, frozenset()) | frozenset(f.versions)
        ents = {f.name.lower(): frozenset[str]() for f in wf.entities}
        self.by_queue = {ORCH_QUEUE: orch, ACTIVITY_QUEUE: acts, ENTITY_QUEUE: ents}

    def matches(self, job: Job) -> bool:
        if self.by_queue is None:
            return True
        accepted = self.by_queue.get(job.queue)
        if accepted is None:
            return True
        if job.queue == ENTITY_QUEUE:
            name = job.instance_id[1:].split("@", 1)[0].lower()  # "@name@key"
        else:
            name = job.headers.get("name", "")
        if not name and job.queue == ORCH_QUEUE:
            return True  # a turn armed before turns carried their name: anyone may take it
        versions = accepted.get(name)
        if versions is None:
            return False
        return not versions or job.headers.get("version", "") in versions


class _Stream:
    """One connected worker stream: its lease owner, free slots, filters and in-flight items."""

    def __init__(self, req: pb.GetWorkItemsRequest) -> None:
        self.owner = f"durabletask/{uuid.uuid4().hex[:12]}"
        self.filter = WorkFilter(req)
        self.limits = {
            ORCH_QUEUE: req.maxConcurrentOrchestrationWorkItems or _DEFAULT_LIMIT,
            ACTIVITY_QUEUE: req.maxConcurrentActivityWorkItems or _DEFAULT_LIMIT,
            ENTITY_QUEUE: req.maxConcurrentEntityWorkItems or _DEFAULT_LIMIT,
        }
        self.inflight: dict[str, tuple[JobRef, str]] = {}
        self.room = asyncio.Event()

    def free(self) -> dict[str, int]:
        used = {q: 0 for q in self.limits}
        for _, queue in self.inflight.values():
            used[queue] += 1
        return {q: n - used[q] for q, n in self.limits.items() if n - used[q] > 0}

    def done(self, job_id: str) -> None:
        if self.inflight.pop(job_id, None) is not None:
            self.room.set()


class WorkItemStreams:
    """Serves GetWorkItems and tracks which stream holds which job."""

    def __init__(self, env: Env, metrics: Metrics | None) -> None:
        self.env = env
        self.metrics = metrics
        self._owner_of: dict[str, _Stream] = {}
        self._streams: set[_Stream] = set()
        self._background: set[asyncio.Task[None]] = set()
        self.closing = asyncio.Event()

    def finished(self, job_id: str) -> None:
        """A Complete*/Abandon* arrived for `job_id`: free its stream's slot."""
        stream = self._owner_of.pop(job_id, None)
        if stream is not None:
            stream.done(job_id)

    async def serve(self, req: pb.GetWorkItemsRequest) -> AsyncIterator[pb.WorkItem]:
        stream = _Stream(req)
        self._streams.add(stream)
        if self.metrics is not None:
            self.metrics.worker_connected(ENGINE, 1)
        keepalive = asyncio.create_task(self._keepalive(stream))
        try:
            async for item in self._items(stream):
                yield item
        finally:
            keepalive.cancel()
            self._streams.discard(stream)
            if self.metrics is not None:
                self.metrics.worker_connected(ENGINE, -1)
            refs = [ref for ref, _ in stream.inflight.values()]
            for job_id in list(stream.inflight):
                self._owner_of.pop(job_id, None)
            stream.inflight.clear()
            if refs:
                # The handler may be cancelled; release from a task of its own.
                task = asyncio.create_task(self._release(refs))
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    async def _items(self, stream: _Stream) -> AsyncIterator[pb.WorkItem]:
        env = self.env
        last_sent = time.monotonic()
        backoff = 0.0
        while not self.closing.is_set():
            wait = max(0.0, env.ping_interval - (time.monotonic() - last_sent))
            free = stream.free()
            jobs: list[Job] = []
            if free and wait > 0:
                queues = [q for q in (ORCH_QUEUE, ENTITY_QUEUE, ACTIVITY_QUEUE) if q in free]
                jobs = await env.scheduler.activate(
                    queues, stream.owner, sum(free[q] for q in queues), min(wait, 5.0), env.lease_seconds
                )
                if jobs and stream.filter.by_queue is not None:
                    jobs, backoff = await self._keep_matching(stream, jobs, backoff)
            elif wait > 0:
                stream.room.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stream.room.wait(), wait)
            for job in jobs:
                item = await self._build(job)
                if item is None:
                    continue
                stream.inflight[job.id] = (job.ref, job.queue)
                self._owner_of[job.id] = stream
                last_sent = time.monotonic()
                yield item
            if time.monotonic() - last_sent >= env.ping_interval:
                last_sent = time.monotonic()
                yield pb.WorkItem(healthPing=pb.HealthPing())

    async def _keep_matching(self, stream: _Stream, jobs: list[Job], backoff: float) -> tuple[list[Job], float]:
        """Hand back what the stream's filters refuse (for another worker to take). A stream that
        got nothing it wants backs off (50 ms doubling to 1 s), so it does not lease and release
        the same refused jobs in a tight loop."""
        mine = [j for j in jobs if stream.filter.matches(j)]
        refused = [j.ref for j in jobs if not stream.filter.matches(j)]
        if refused:
            await self._release(refused)
        if mine or not refused:
            return mine, 0.0
        backoff = min(1.0, max(0.05, backoff * 2))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), backoff)
        return mine, backoff

    async def _build(self, job: Job) -> pb.WorkItem | None:
        try:
            if job.queue == ORCH_QUEUE:
                item = await orchestrator_item(self.env, job)
            elif job.queue == ENTITY_QUEUE:
                item = await entities.work_item(self.env, job)
            else:
                item = activity_item(job)
        except Exception:
            log.exception("cannot build a work item for job %s; releasing it", job.id)
            await self._release([job.ref], delay=self.env.abandon_delay)
            return None
        if item is None:
            with contextlib.suppress(GatewayError):
                await self.env.scheduler.commit(Commit(jobs=[JobOutcome(job.ref, "cancel")]))
        return item

    async def _keepalive(self, stream: _Stream) -> None:
        period = max(0.5, self.env.lease_seconds / 3)
        while True:
            await asyncio.sleep(period)
            for job_id, (ref, _) in list(stream.inflight.items()):
                try:
                    await self.env.scheduler.update_job(job_id, timeout=self.env.lease_seconds, ref=ref)
                except (LeaseLost, NotFound):
                    stream.done(job_id)
                    self._owner_of.pop(job_id, None)
                except Exception:
                    log.warning("cannot extend the lease of job %s", job_id, exc_info=True)

    async def _release(self, refs: list[JobRef], delay: float = 0.0) -> None:
        for ref in refs:
            try:
                await self.env.scheduler.release(ref, delay)
            except GatewayError:
                pass  # completed or expired meanwhile
            except Exception:
                log.warning("cannot release job %s", ref.job_id, exc_info=True)

    async def close(self) -> None:
        self.closing.set()
        for stream in list(self._streams):
            stream.room.set()
        if self._background:
            await asyncio.wait(self._background, timeout=5.0)


async def orchestrator_item(env: Env, job: Job) -> pb.WorkItem | None:
    """Build the OrchestratorRequest of a turn: pastEvents = history, newEvents = [oS, inbox...]."""
    sched = env.scheduler
    inst = await sched.get_instance(job.instance_id)
    st = DtState.load(inst.state) if inst is not None else None
    if inst is None or st is None or inst.status.terminal or st.turn != job.id:
        return None  # purged, ended, or not the turn the engine armed: the job is obsolete
    inbox = await sched.inbox(inst.id)
    upto = inbox[-1].seq if inbox else inst.seen_seq
    os_ns = int(env.clock.now() * 1e9)
    req = pb.OrchestratorRequest(
        instanceId=inst.id,
        pastEvents=parse_all(await sched.history(inst.id)),
        newEvents=turn_new_events(inbox, inst.execution_id, os_ns),
    )
    req.executionId.value = inst.execution_id
    otc = st.get_otc()
    if otc is not None:
        req.orchestrationTraceContext.CopyFrom(otc)
    token = Token("o", job.id, job.attempt, inst.id, inst.execution_id, upto, os_ns)
    return pb.WorkItem(orchestratorRequest=req, completionToken=token.encode())


def activity_item(job: Job) -> pb.WorkItem:
    req = pb.ActivityRequest.FromString(job.payload.data)
    token = Token("a", job.id, job.attempt, job.instance_id, req.orchestrationInstance.executionId.value)
    return pb.WorkItem(activityRequest=req, completionToken=token.encode())
