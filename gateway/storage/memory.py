"""In-memory storage: the reference semantics of the `Storage` port, and the state engine of SQLite.

Everything lives in dicts and heaps owned by the event loop thread, so every method is atomic by
construction (no await between validation and the last mutation). Each mutation marks the row it
touched through `_mark(table, key)`; this class ignores the marks, `SqliteStorage` persists the
marked rows' current values in one batched transaction (write-behind group commit).

Tables and keys for `_mark`: "i" instance id; "e" (instance id, seq); "E" instance id (drop all its
events first); "j" job id; "t" (instance id, key); "s" (instance id, key); "m" message id; "d" data id.
"""

from __future__ import annotations

import copy
import dataclasses
import heapq
import itertools
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from typing import Any, TypeVar

from gateway.errors import AlreadyExists, GatewayError, LeaseLost, NotFound
from gateway.model import (
    NEVER,
    Commit,
    DataObject,
    Event,
    Instance,
    InstanceQuery,
    InstanceStatus,
    Job,
    JobOutcome,
    JobStatus,
    Message,
    NewEvent,
    Page,
    StepClaim,
    Subscription,
    Timer,
)
from gateway.ports import CommitResult, Metrics, PublishResult, TickResult

_T = TypeVar("_T")
_READY = JobStatus.READY
_LEASED = JobStatus.LEASED


class MemoryStorage:
    """Storage held in process memory. Fast, and gone when the process ends."""

    name = "memory"

    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics
        self._instances: dict[str, Instance] = {}
        self._history: dict[str, list[Event]] = {}
        self._inbox: dict[str, list[Event]] = {}
        self._runnable: dict[str, None] = {}  # insertion-ordered set
        self._step_leases: dict[str, float] = {}
        self._counts: Counter[tuple[str, InstanceStatus]] = Counter()

        self._jobs: dict[str, Job] = {}
        self._jobs_by_instance: dict[str, dict[str, None]] = {}
        self._fifo: dict[str, list[tuple[int, str]]] = {}
        self._prio: dict[str, list[tuple[int, int, str]]] | None = None
        self._delayed: list[tuple[float, int, str]] = []
        self._lease_heap: list[tuple[float, str, int]] = []
        self._depth: Counter[str] = Counter()
        self._job_seq = 0

        self._timers: dict[tuple[str, str], Timer] = {}
        self._timer_heap: list[tuple[float, int, str, str]] = []
        self._timer_tie = itertools.count()

        self._subs: dict[tuple[str, str], Subscription] = {}
        self._sub_index: dict[tuple[str, str], dict[tuple[str, str], None]] = {}

        self._messages: dict[str, Message] = {}
        self._msg_index: dict[tuple[str, str], list[str]] = {}
        self._msg_dedupe: dict[tuple[str, str, str], str] = {}
        self._msg_heap: list[tuple[float, str]] = []

        self._data: dict[str, DataObject] = {}
        self._data_by_owner: dict[str, set[str]] = {}

    # ------------------------------------------------------------------ lifecycle and journal hooks

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _mark(self, table: str, key: Any) -> None:
        """A row changed; subclasses persist it (this class keeps nothing)."""

    async def _flush(self) -> None:
        """Make everything marked so far durable before returning (no-op in memory)."""

    def _flush_soon(self) -> None:
        """Start making everything marked so far durable, without waiting (no-op in memory)."""

    def _restore(
        self,
        instances: Iterable[Instance],
        events: Iterable[Event],
        jobs: Iterable[Job],
        timers: Iterable[Timer],
        subscriptions: Iterable[Subscription],
        messages: Iterable[Message],
        data: Iterable[DataObject],
    ) -> None:
        """Rebuild every structure and index from persisted rows (a durable backend's `open`).

        `events` in (instance id, seq) order; `subscriptions` and `messages` oldest first (their
        correlation order). Step leases are not persisted: a restarted process holds none. Job
        leases are: a LEASED job goes back on the lease heap and returns to READY once it expires,
        its attempt (fencing token) kept. READY jobs with a not-before time wait in the delayed
        heap, which promotes them in creation order once due (the load does not know "now").
        """
        for inst in instances:
            inst.step_owner, inst.step_expires = "", NEVER
            self._instances[inst.id] = inst
            self._history[inst.id] = []
            self._inbox[inst.id] = []
            self._counts[(inst.engine, inst.status)] += 1
            if inst.inbox_seq > inst.seen_seq:
                self._runnable[inst.id] = None
        for ev in events:
            lists = self._history if ev.in_history else self._inbox
            if ev.instance_id in lists:
                lists[ev.instance_id].append(ev)
        for job in jobs:
            self._jobs[job.id] = job
            self._jobs_by_instance.setdefault(job.instance_id, {})[job.id] = None
            self._job_seq = max(self._job_seq, job.seq)
            if job.status is _READY:
                self._depth[job.queue] += 1
                if job.not_before > NEVER:
                    self._delayed.append((job.not_before, job.seq, job.id))
                else:
                    self._fifo.setdefault(job.queue, []).append((job.seq, job.id))
            elif job.status is _LEASED:
                self._lease_heap.append((job.lease_expires, job.id, job.attempt))
        heapq.heapify(self._delayed)
        heapq.heapify(self._lease_heap)
        for fifo in self._fifo.values():
            heapq.heapify(fifo)
        for t in timers:
            self._timers[(t.instance_id, t.key)] = t
            self._timer_heap.append((t.due_at, next(self._timer_tie), t.instance_id, t.key))
        heapq.heapify(self._timer_heap)
        for sub in subscriptions:
            key = (sub.instance_id, sub.key)
            self._subs[key] = sub
            self._sub_index.setdefault((sub.name, sub.correlation_key), {})[key] = None
        for msg in messages:
            self._messages[msg.id] = msg
            self._msg_index.setdefault((msg.name, msg.correlation_key), []).append(msg.id)
            if msg.message_id:
                self._msg_dedupe[(msg.name, msg.correlation_key, msg.message_id)] = msg.id
            self._msg_heap.append((msg.expires_at, msg.id))
        heapq.heapify(self._msg_heap)
        for obj in data:
            self._data[obj.id] = obj
            self._data_by_owner.setdefault(obj.owner_id, set()).add(obj.id)

    # ------------------------------------------------------------------ the write path

    async def commit(self, commit: Commit, now: float) -> CommitResult:
        result = self._apply(commit, now)
        await self._flush()
        return result

    async def commit_many(self, commits: Sequence[Commit], now: float) -> list[CommitResult | GatewayError]:
        results: list[CommitResult | GatewayError] = []
        for commit in commits:
            try:
                results.append(self._apply(commit, now))
            except GatewayError as exc:
                results.append(exc)
        await self._flush()
        return results

    def _apply(self, c: Commit, now: float) -> CommitResult:
        instances = self._instances
        # --- guards and validation: nothing is mutated until all of them pass
        if c.step is not None:
            inst = instances.get(c.step[0])
            if inst is None or inst.revision != c.step[1]:
                raise LeaseLost(f"step lease on instance {c.step[0]!r} lost")
        jobs = self._jobs
        for outcome in c.jobs:
            job = jobs.get(outcome.ref.job_id)
            if job is None or job.status is not _LEASED or job.attempt != outcome.ref.attempt:
                raise LeaseLost(f"lease on job {outcome.ref.job_id!r} (attempt {outcome.ref.attempt}) lost")
        # (Empty commits sections are the common case: skip building sets for them.)
        deleting: Collection[str] = set(c.delete_instances) if c.delete_instances else ()
        creating: set[str] = set()
        for ni in c.create_instances:
            iid = ni.instance.id
            old = instances.get(iid)
            if iid in creating or (
                old is not None and iid not in deleting and old.status not in ni.replace
            ):
                raise AlreadyExists(f"instance {iid!r} already exists")
            creating.add(iid)
        for section in (c.updates, c.history, c.inbox, c.new_jobs, c.timers, c.subscriptions):
            for item in section:
                iid = item.instance_id
                if iid not in instances or iid in deleting:
                    if iid not in creating:
                        raise NotFound(f"instance {iid!r} not found")
        for job in c.new_jobs:
            if job.id in jobs:
                raise AlreadyExists(f"job {job.id!r} already exists")

        # --- apply
        res = CommitResult()
        touched: set[str] = set()
        for iid in c.delete_instances:
            if iid in instances:
                self._purge(iid)
                res.changed_instances.add(iid)
        for ni in c.create_instances:
            inst = _clone(ni.instance)
            if inst.id in instances:
                self._purge(inst.id)
            inst.tags = dict(inst.tags)
            inst.created_at = inst.created_at or now
            inst.updated_at = now
            inst.completed_at = now if inst.status.terminal else NEVER
            inst.last_seq = inst.inbox_seq = inst.seen_seq = 0
            inst.step_owner, inst.step_expires, inst.revision = "", NEVER, 0
            instances[inst.id] = inst
            self._history[inst.id] = []
            self._inbox[inst.id] = []
            self._counts[(inst.engine, inst.status)] += 1
            touched.add(inst.id)
            for ev in ni.events:
                self._post(ev, now, res)
        for outcome in c.jobs:
            self._finish_job(outcome, now, res)
        for u in c.updates:
            inst = instances[u.instance_id]
            touched.add(inst.id)
            if u.consume_upto is not None:
                self._consume(inst.id, u.consume_upto)
            if u.drop_upto is not None:
                inbox = self._inbox[inst.id]
                while inbox and inbox[0].seq <= u.drop_upto:
                    self._mark("e", (inst.id, inbox.pop(0).seq))
            if u.reset_history:
                self._history[inst.id] = []
                self._mark("E", inst.id)
                for pending in self._inbox[inst.id]:
                    self._mark("e", (inst.id, pending.seq))
            if u.seen_upto is not None:
                inst.seen_seq = min(u.seen_upto, inst.inbox_seq)
            if u.status is not None and u.status is not inst.status:
                self._counts[(inst.engine, inst.status)] -= 1
                self._counts[(inst.engine, u.status)] += 1
                inst.status = u.status
                inst.completed_at = now if u.status.terminal else NEVER
            if u.clear_output:
                inst.output = None
                inst.failure = None
            if u.output is not None:
                inst.output = u.output
            if u.failure is not None:
                inst.failure = u.failure
            if u.custom_status is not None:
                inst.custom_status = u.custom_status
            if u.execution_id is not None:
                inst.execution_id = u.execution_id
            if u.input is not None:
                inst.input = u.input
            if u.tags is not None:
                inst.tags = dict(u.tags)
            if u.state is not None:
                inst.state = u.state
            res.changed_instances.add(inst.id)
        for ev in c.history:
            inst = instances[ev.instance_id]
            inst.last_seq += 1
            event = Event(inst.id, inst.last_seq, ev.kind, ev.data, ev.ref, now, True)
            self._history[inst.id].append(event)
            self._mark("e", (inst.id, event.seq))
            touched.add(inst.id)
        for ev in c.inbox:
            self._post(ev, now, res)
        for job in c.new_jobs:
            self._add_job(job, now, res)
        for job_id in c.cancel_jobs:
            job = jobs.get(job_id)
            if job is not None:
                self._drop_job(job)
                res.finished_jobs.append((job, "canceled"))
        for t in c.timers:
            self._add_timer(t, res)
        for key in c.cancel_timers:
            if self._timers.pop(key, None) is not None:
                self._mark("t", key)
        for key in c.close_subscriptions:
            self._drop_sub(key)
        for sub in c.subscriptions:
            self._open_sub(sub, now, res)
        for obj in c.data:
            self._put_data(obj, now)
        for obj_id in c.delete_data:
            self._drop_data(obj_id)

        if c.step is not None and c.step[0] in instances:
            touched.add(c.step[0])
        for iid in touched:
            inst = instances.get(iid)
            if inst is None:
                continue
            # The revision moves on, so any step in flight on this instance can no longer commit:
            # free its lease now so the instance is stepped again at once with fresh state.
            if inst.step_expires:
                inst.step_owner, inst.step_expires = "", NEVER
                self._step_leases.pop(iid, None)
            inst.revision += 1
            inst.updated_at = now
            self._mark("i", iid)
            if inst.inbox_seq > inst.seen_seq:
                if iid not in self._runnable:
                    self._runnable[iid] = None
                    res.runnable = True
            else:
                self._runnable.pop(iid, None)
        return res

    # ------------------------------------------------------------------ instance internals

    def _post(self, ev: NewEvent, now: float, res: CommitResult | TickResult) -> None:
        """Append an event to an instance's inbox. Does not bump the revision: an inbox post never
        changes what a step already read, so it must not fence out the step in flight."""
        inst = self._instances[ev.instance_id]
        inst.last_seq += 1
        inst.inbox_seq = inst.last_seq
        event = Event(inst.id, inst.last_seq, ev.kind, ev.data, ev.ref, now, False)
        self._inbox[inst.id].append(event)
        self._mark("e", (inst.id, event.seq))
        self._mark("i", inst.id)
        if inst.id not in self._runnable:
            self._runnable[inst.id] = None
            res.runnable = True
        res.changed_instances.add(inst.id)

    def _consume(self, iid: str, upto: int) -> None:
        inbox = self._inbox[iid]
        n = 0
        while n < len(inbox) and inbox[n].seq <= upto:
            n += 1
        if not n:
            return
        history = self._history[iid]
        for ev in inbox[:n]:
            moved = Event(ev.instance_id, ev.seq, ev.kind, ev.data, ev.ref, ev.created_at, True)
            history.append(moved)
            self._mark("e", (iid, ev.seq))
        del inbox[:n]
        # History appended directly can overtake an inbox event consumed later; keep seq order.
        if len(history) > n and history[-n - 1].seq > history[-n].seq:
            history.sort(key=_seq_of)

    def _purge(self, iid: str) -> None:
        inst = self._instances.pop(iid)
        self._counts[(inst.engine, inst.status)] -= 1
        self._mark("i", iid)
        self._mark("E", iid)
        self._history.pop(iid, None)
        self._inbox.pop(iid, None)
        self._runnable.pop(iid, None)
        self._step_leases.pop(iid, None)
        for job_id in list(self._jobs_by_instance.get(iid, ())):
            self._drop_job(self._jobs[job_id])
        for key in [k for k in self._timers if k[0] == iid]:
            del self._timers[key]
            self._mark("t", key)
        for key in [k for k in self._subs if k[0] == iid]:
            self._drop_sub(key)
        for obj_id in list(self._data_by_owner.get(iid, ())):
            self._drop_data(obj_id)

    # ------------------------------------------------------------------ job internals

    def _add_job(self, job: Job, now: float, res: CommitResult) -> None:
        job = _clone(job)
        self._job_seq += 1
        job.seq = self._job_seq
        job.status = _READY
        job.attempt = 0
        job.lease_owner, job.lease_expires = "", NEVER
        job.created_at = job.created_at or now
        job.headers = dict(job.headers)
        self._jobs[job.id] = job
        self._jobs_by_instance.setdefault(job.instance_id, {})[job.id] = None
        self._mark("j", job.id)
        res.created_jobs.append(job)
        self._make_ready(job, now, res)

    def _make_ready(self, job: Job, now: float, res: CommitResult | TickResult) -> None:
        job.status = _READY
        job.lease_owner, job.lease_expires = "", NEVER
        self._depth[job.queue] += 1
        if job.not_before > now:
            heapq.heappush(self._delayed, (job.not_before, job.seq, job.id))
            if isinstance(res, CommitResult) and (res.earliest_due is None or job.not_before < res.earliest_due):
                res.earliest_due = job.not_before
        else:
            self._enqueue(job)
            res.ready_queues.add(job.queue)

    def _enqueue(self, job: Job) -> None:
        heapq.heappush(self._fifo.setdefault(job.queue, []), (job.seq, job.id))
        if self._prio is not None:
            heapq.heappush(self._prio.setdefault(job.queue, []), (-job.priority, job.seq, job.id))

    def _drop_job(self, job: Job) -> None:
        if job.status is _READY:
            self._depth[job.queue] -= 1
        job.status = JobStatus.CANCELED
        self._jobs.pop(job.id, None)
        by_inst = self._jobs_by_instance.get(job.instance_id)
        if by_inst is not None:
            by_inst.pop(job.id, None)
            if not by_inst:
                del self._jobs_by_instance[job.instance_id]
        self._mark("j", job.id)

    def _finish_job(self, o: JobOutcome, now: float, res: CommitResult) -> None:
        job = self._jobs[o.ref.job_id]
        if o.action == "complete":
            self._drop_job(job)
            job.status = JobStatus.DONE
            res.finished_jobs.append((job, "completed"))
            if o.post_event and job.instance_id in self._instances:
                self._post(NewEvent(job.instance_id, job.on_complete, o.result, job.id), now, res)
        elif o.action == "cancel":
            self._drop_job(job)
            res.finished_jobs.append((job, "canceled"))
        elif o.action == "release":
            job.not_before = now + o.backoff if o.backoff > 0 else job.not_before
            self._make_ready(job, now, res)
            self._mark("j", job.id)
            res.finished_jobs.append((job, "released"))
        elif o.action == "fail":
            retries = o.retries if o.retries is not None else (
                None if job.retries is None else job.retries - 1
            )
            job.retries = retries
            job.last_error = o.error
            if retries is None or retries > 0:
                if o.backoff > 0:
                    job.not_before = now + o.backoff
                self._make_ready(job, now, res)
                res.finished_jobs.append((job, "retried"))
            else:
                job.status = JobStatus.FAILED
                job.lease_owner, job.lease_expires = "", NEVER
                res.finished_jobs.append((job, "failed"))
                if o.post_event:
                    self._post(NewEvent(job.instance_id, job.on_fail, o.error.encode(), job.id), now, res)
            self._mark("j", job.id)
        else:
            raise ValueError(f"unknown job outcome action {o.action!r}")

    def _promote_delayed(self, now: float, ready: set[str]) -> None:
        delayed = self._delayed
        jobs = self._jobs
        while delayed and delayed[0][0] <= now:
            _, _, job_id = heapq.heappop(delayed)
            job = jobs.get(job_id)
            if job is not None and job.status is _READY and job.not_before <= now:
                self._enqueue(job)
                ready.add(job.queue)

    async def lease_jobs(
        self,
        queues: Sequence[str],
        owner: str,
        limit: int,
        now: float,
        order: str = "fifo",
        lease_for: float | None = None,
    ) -> list[Job]:
        if self._delayed and self._delayed[0][0] <= now:
            self._promote_delayed(now, set())
        if order == "priority" and self._prio is None:
            self._prio = {}
            for ready in self._jobs.values():
                if ready.status is _READY and ready.not_before <= now:
                    heapq.heappush(self._prio.setdefault(ready.queue, []), (-ready.priority, ready.seq, ready.id))
        heaps: dict[str, Any] = self._prio if order == "priority" and self._prio is not None else self._fifo
        jobs = self._jobs
        out: list[Job] = []
        for queue in queues:
            heap = heaps.get(queue)
            while heap and len(out) < limit:
                job_id = heapq.heappop(heap)[-1]
                job = jobs.get(job_id)
                if job is None or job.status is not _READY or job.queue != queue or job.not_before > now:
                    continue
                job.status = _LEASED
                job.attempt += 1
                job.lease_owner = owner
                job.lease_expires = now + (job.timeout if lease_for is None else lease_for)
                self._depth[queue] -= 1
                heapq.heappush(self._lease_heap, (job.lease_expires, job.id, job.attempt))
                self._mark("j", job.id)
                out.append(_clone(job))
            if len(out) >= limit:
                break
        if out:
            # The lease is written with the batch this starts, but not awaited: handing a job out
            # before its lease is durable is safe because a lease lost in a crash is fenced (see
            # SqliteStorage: jobs found READY on load get a new attempt number).
            self._flush_soon()
        return out

    async def get_job(self, job_id: str) -> Job | None:
        job = self._jobs.get(job_id)
        return _clone(job) if job is not None else None

    async def list_jobs(self, instance_id: str) -> list[Job]:
        return [_clone(self._jobs[j]) for j in self._jobs_by_instance.get(instance_id, ())]

    async def update_job(
        self,
        job_id: str,
        *,
        retries: int | None = None,
        lease_expires: float | None = None,
        not_before: float | None = None,
        ref: Any = None,
        now: float,
    ) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"job {job_id!r} not found")
        if ref is not None and (job.status is not _LEASED or job.attempt != ref.attempt):
            raise LeaseLost(f"lease on job {job_id!r} (attempt {ref.attempt}) lost")
        if lease_expires is not None and job.status is _LEASED:
            job.lease_expires = lease_expires
            heapq.heappush(self._lease_heap, (lease_expires, job.id, job.attempt))
        if not_before is not None and job.status is _READY:
            job.not_before = not_before
            self._depth[job.queue] -= 1
            self._make_ready(job, now, TickResult())
        if retries is not None:
            job.retries = retries
            if job.status is JobStatus.FAILED and retries > 0:
                self._make_ready(job, now, TickResult())
        self._mark("j", job.id)
        await self._flush()
        return _clone(job)

    async def queue_depths(self) -> dict[str, int]:
        return {q: n for q, n in self._depth.items() if n > 0}

    # ------------------------------------------------------------------ timers, subscriptions, messages, data

    def _add_timer(self, t: Timer, res: CommitResult) -> None:
        t = _clone(t)
        self._timers[(t.instance_id, t.key)] = t
        heapq.heappush(self._timer_heap, (t.due_at, next(self._timer_tie), t.instance_id, t.key))
        self._mark("t", (t.instance_id, t.key))
        if res.earliest_due is None or t.due_at < res.earliest_due:
            res.earliest_due = t.due_at

    def _open_sub(self, sub: Subscription, now: float, res: CommitResult) -> None:
        sub = _clone(sub)
        sub.created_at = sub.created_at or now
        # A buffered message correlates at once, oldest first, once per group.
        for msg_id in self._msg_index.get((sub.name, sub.correlation_key), ()):
            msg = self._messages[msg_id]
            if msg.expires_at > now and sub.group not in msg.correlated_groups:
                msg.correlated_groups = msg.correlated_groups | {sub.group}
                self._mark("m", msg.id)
                self._post(NewEvent(sub.instance_id, sub.kind, msg.payload.data, sub.key), now, res)
                self._drop_sub((sub.instance_id, sub.key))
                return
        key = (sub.instance_id, sub.key)
        self._drop_sub(key)
        self._subs[key] = sub
        self._sub_index.setdefault((sub.name, sub.correlation_key), {})[key] = None
        self._mark("s", key)

    def _drop_sub(self, key: tuple[str, str]) -> None:
        sub = self._subs.pop(key, None)
        if sub is None:
            return
        index = self._sub_index.get((sub.name, sub.correlation_key))
        if index is not None:
            index.pop(key, None)
            if not index:
                del self._sub_index[(sub.name, sub.correlation_key)]
        self._mark("s", key)

    async def publish(self, message: Message, now: float) -> PublishResult:
        res = CommitResult()
        result = self._publish(message, now, res)
        await self._flush()
        return result

    def _publish(self, message: Message, now: float, res: CommitResult) -> PublishResult:
        name_key = (message.name, message.correlation_key)
        if message.message_id:
            existing = self._msg_dedupe.get((*name_key, message.message_id))
            if existing is not None and self._messages[existing].expires_at > now:
                raise AlreadyExists(
                    f"message {message.message_id!r} with name {message.name!r} and correlation key "
                    f"{message.correlation_key!r} is already buffered"
                )
        result = PublishResult(message.id)
        groups: set[str] = set()
        for key in list(self._sub_index.get(name_key, ())):
            sub = self._subs[key]
            if sub.group in groups:
                continue
            groups.add(sub.group)
            self._post(NewEvent(sub.instance_id, sub.kind, message.payload.data, sub.key), now, res)
            self._drop_sub(key)
            result.correlated.append(sub.instance_id)
        if message.expires_at > now:
            msg = _clone(message)
            msg.created_at = msg.created_at or now
            msg.correlated_groups = frozenset(groups) | msg.correlated_groups
            self._store_message(msg)
            result.buffered = True
        return result

    def _store_message(self, msg: Message) -> None:
        self._messages[msg.id] = msg
        self._msg_index.setdefault((msg.name, msg.correlation_key), []).append(msg.id)
        if msg.message_id:
            self._msg_dedupe[(msg.name, msg.correlation_key, msg.message_id)] = msg.id
        heapq.heappush(self._msg_heap, (msg.expires_at, msg.id))
        self._mark("m", msg.id)

    def _drop_message(self, msg_id: str) -> None:
        msg = self._messages.pop(msg_id, None)
        if msg is None:
            return
        ids = self._msg_index.get((msg.name, msg.correlation_key))
        if ids is not None:
            ids.remove(msg_id)
            if not ids:
                del self._msg_index[(msg.name, msg.correlation_key)]
        if msg.message_id:
            dkey = (msg.name, msg.correlation_key, msg.message_id)
            if self._msg_dedupe.get(dkey) == msg_id:
                del self._msg_dedupe[dkey]
        self._mark("m", msg_id)

    def _put_data(self, obj: DataObject, now: float) -> None:
        old = self._data.get(obj.id)
        obj = _clone(obj)
        obj.meta = dict(obj.meta)
        obj.created_at = old.created_at if old is not None else (obj.created_at or now)
        obj.updated_at = now
        if old is not None and old.owner_id != obj.owner_id:
            self._data_by_owner.get(old.owner_id, set()).discard(obj.id)
        self._data[obj.id] = obj
        self._data_by_owner.setdefault(obj.owner_id, set()).add(obj.id)
        self._mark("d", obj.id)

    def _drop_data(self, obj_id: str) -> None:
        obj = self._data.pop(obj_id, None)
        if obj is not None:
            owned = self._data_by_owner.get(obj.owner_id)
            if owned is not None:
                owned.discard(obj_id)
                if not owned:
                    del self._data_by_owner[obj.owner_id]
            self._mark("d", obj_id)

    # ------------------------------------------------------------------ steps and ticks

    async def claim_steps(
        self, owner: str, limit: int, lease_for: float, now: float, engines: Collection[str] | None = None
    ) -> list[StepClaim]:
        claims: list[StepClaim] = []
        for iid in self._runnable:
            inst = self._instances[iid]
            if inst.step_expires > now or (engines is not None and inst.engine not in engines):
                continue
            inst.step_owner = owner
            inst.step_expires = now + lease_for
            self._step_leases[iid] = inst.step_expires
            claims.append(StepClaim(_clone(inst), list(self._inbox[iid])))
            if len(claims) >= limit:
                break
        return claims

    async def tick(self, now: float, since: float, limit: int = 1000) -> TickResult:
        res = TickResult()
        self._promote_delayed(now, res.ready_queues)
        heap = self._timer_heap
        while heap and heap[0][0] <= now and res.fired_timers < limit:
            due, _, iid, key = heapq.heappop(heap)
            timer = self._timers.get((iid, key))
            if timer is None or timer.due_at != due:
                continue
            del self._timers[(iid, key)]
            self._mark("t", (iid, key))
            self._post(NewEvent(iid, timer.kind, timer.data, key), now, res)
            res.fired_timers += 1
        leases = self._lease_heap
        while leases and leases[0][0] <= now and len(res.expired_jobs) < limit:
            expires, job_id, attempt = heapq.heappop(leases)
            job = self._jobs.get(job_id)
            if job is None or job.status is not _LEASED or job.attempt != attempt or job.lease_expires != expires:
                continue
            res.expired_jobs.append(_clone(job))
            self._make_ready(job, now, res)
            self._mark("j", job_id)
        for iid, expires in list(self._step_leases.items()):
            if expires <= now:
                del self._step_leases[iid]
                inst = self._instances.get(iid)
                if inst is not None:
                    inst.step_owner, inst.step_expires = "", NEVER
                    res.expired_steps += 1
                    res.runnable = res.runnable or inst.runnable
        msgs = self._msg_heap
        while msgs and msgs[0][0] <= now:
            expires, msg_id = heapq.heappop(msgs)
            msg = self._messages.get(msg_id)
            if msg is not None and msg.expires_at == expires:
                self._drop_message(msg_id)
                res.expired_messages += 1
        dues = [h[0][0] for h in (self._timer_heap, self._delayed, self._lease_heap, self._msg_heap) if h]
        dues.extend(self._step_leases.values())
        res.next_due = min(dues) if dues else None
        await self._flush()
        return res

    # ------------------------------------------------------------------ reads

    async def get_instance(self, instance_id: str) -> Instance | None:
        inst = self._instances.get(instance_id)
        return _clone(inst) if inst is not None else None

    async def query_instances(self, query: InstanceQuery) -> Page:
        ids = sorted(self._instances) if query.id_prefix is None else sorted(
            i for i in self._instances if i.startswith(query.id_prefix)
        )
        out: list[Instance] = []
        for iid in ids:
            if query.after_id is not None and iid <= query.after_id:
                continue
            inst = self._instances[iid]
            if _matches(inst, query):
                if len(out) >= query.limit:
                    return Page(out, out[-1].id)
                out.append(_clone(inst))
        return Page(out, None)

    async def history(self, instance_id: str, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        events = [e for e in self._history.get(instance_id, ()) if e.seq > after_seq]
        return events[:limit] if limit is not None else events

    async def inbox(self, instance_id: str) -> list[Event]:
        return list(self._inbox.get(instance_id, ()))

    async def count_instances(self) -> dict[tuple[str, InstanceStatus], int]:
        return {k: n for k, n in self._counts.items() if n > 0}

    async def get_data(self, object_id: str) -> DataObject | None:
        obj = self._data.get(object_id)
        return _clone(obj) if obj is not None else None

    async def list_data(self, owner_id: str) -> list[DataObject]:
        return [_clone(self._data[i]) for i in sorted(self._data_by_owner.get(owner_id, ()))]

    async def subscriptions(self, instance_id: str) -> list[Subscription]:
        return [_clone(s) for k, s in self._subs.items() if k[0] == instance_id]

    async def timers(self, instance_id: str) -> list[Timer]:
        return [_clone(t) for k, t in self._timers.items() if k[0] == instance_id]


def _make_copier(cls: type) -> Any:
    """A shallow copy function for one slotted dataclass: `copy.copy` goes through `__reduce_ex__`
    and one `setattr` per slot (~5 us for a Job); this is plain attribute copies (~0.5 us)."""
    names = [f.name for f in dataclasses.fields(cls)]
    src = "def _copy(o, _new=_new, _cls=_cls):\n    n = _new(_cls)\n"
    src += "".join(f"    n.{name} = o.{name}\n" for name in names) + "    return n\n"
    ns: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    exec(src, ns)
    return ns["_copy"]


_COPIERS: dict[type, Any] = {
    cls: _make_copier(cls) for cls in (Instance, Job, Timer, Subscription, Message, DataObject)
}


def _clone(obj: _T) -> _T:
    """Shallow copy, like `copy.copy` (which stays the fallback for any other type, e.g. subclasses)."""
    copier = _COPIERS.get(type(obj))
    return copier(obj) if copier is not None else copy.copy(obj)


def _seq_of(event: Event) -> int:
    return event.seq


def _matches(inst: Instance, q: InstanceQuery) -> bool:
    return (
        (q.engine is None or inst.engine == q.engine)
        and (q.statuses is None or inst.status in q.statuses)
        and (q.definition is None or inst.definition == q.definition)
        and (q.parent_id is None or inst.parent_id == q.parent_id)
        and (q.created_from is None or inst.created_at >= q.created_from)
        and (q.created_to is None or inst.created_at <= q.created_to)
        and (q.completed_from is None or (bool(inst.completed_at) and inst.completed_at >= q.completed_from))
        and (q.completed_to is None or (bool(inst.completed_at) and inst.completed_at <= q.completed_to))
    )
